//! Copying one kind from Stash into the mirror, written once for every [`Mirrored`] kind: the
//! whole walk (by id or by page number, as Stash allows), re-reading named objects, listing
//! every id.

use anyhow::Context as _;

use super::Sources;
use super::kinds::{Mirrored, Paging, Selection};
use crate::stash::{FindFilter, SortKey};
use crate::store::StoreError;
use crate::store::mirror::MirrorWriter;

/// Objects per page; 500 keeps each answer and transaction small.
pub const PER_PAGE: i64 = 500;

/// A full-sync pass a copy belongs to: rows are marked seen by it, and a walk by id resumes
/// after its checkpoint and records a new one with each page.
pub struct Pass<'a> {
    /// The pass's number.
    pub id: i64,
    /// Where a stopped walk continues: the last id written.
    pub resume_after: Option<i64>,
    /// Records the last id of a page, in the page's own transaction.
    pub checkpoint: &'a dyn Fn(&MirrorWriter<'_>, i64) -> Result<(), StoreError>,
}

/// How many objects of `K` Stash has, and the newest `updated_at` among them (one request).
pub fn latest<K: Mirrored>(src: &Sources<'_>) -> anyhow::Result<(u64, Option<String>)> {
    let filter = FindFilter { page: 1, per_page: 1, sort: SortKey::UpdatedAt, ascending: false };
    let query = K::query(Selection::default());
    let page = K::pages(src.stash, &query, filter).next().transpose()?;
    Ok(page.map_or((0, None), |p| (p.total, p.items.first().map(|o| o.updated_at().to_owned()))))
}

/// Copies every object of `K` (changed after `updated_after`, when given) into the mirror, page
/// by page; returns how many. `on_page` hears the running count.
pub fn copy<K: Mirrored>(
    src: &Sources<'_>,
    updated_after: Option<String>,
    pass: Option<Pass<'_>>,
    on_page: &mut dyn FnMut(u64),
) -> anyhow::Result<u64> {
    match K::PAGING {
        Paging::IdAfter => copy_by_id::<K>(src, updated_after, pass, on_page),
        Paging::Offset => copy_by_offset::<K>(src, updated_after, pass.map(|p| p.id), on_page),
    }
}

fn copy_by_id<K: Mirrored>(
    src: &Sources<'_>,
    updated_after: Option<String>,
    pass: Option<Pass<'_>>,
    on_page: &mut dyn FnMut(u64),
) -> anyhow::Result<u64> {
    let mut after = pass.as_ref().and_then(|p| p.resume_after);
    if let Some(id) = after {
        log::info!("Full sync: continuing {} after id {id}", K::KIND.plural());
    }
    let filter = FindFilter { per_page: PER_PAGE, ..FindFilter::sorted(SortKey::Id) };
    let mut copied = 0;
    loop {
        // Always the first page of "id greater than the last one".
        let query = K::query(Selection { id_after: after, updated_after: updated_after.clone(), ids: None });
        let page = K::pages(src.stash, &query, filter.clone())
            .next()
            .transpose()
            .with_context(|| format!("copying {} from Stash", K::KIND.plural()))?;
        let Some(page) = page.filter(|p| !p.items.is_empty()) else { break };
        let last = page.items.iter().map(K::id).max();
        src.store.write_mirror(|w| {
            write_page(w, &page.items, pass.as_ref().map(|p| p.id))?;
            match (&pass, last) {
                (Some(pass), Some(last)) => (pass.checkpoint)(w, last),
                _ => Ok(()),
            }
        })?;
        copied += page.items.len() as u64;
        on_page(copied);
        if (page.items.len() as i64) < PER_PAGE {
            break;
        }
        after = last;
    }
    Ok(copied)
}

fn copy_by_offset<K: Mirrored>(
    src: &Sources<'_>,
    updated_after: Option<String>,
    pass: Option<i64>,
    on_page: &mut dyn FnMut(u64),
) -> anyhow::Result<u64> {
    // When the count changes between pages (one was deleted or newly matches), a row may have
    // slipped between two pages, so the walk starts over (writing a row twice is harmless).
    let query = K::query(Selection { updated_after, ..Selection::default() });
    let mut copied = 0;
    for attempt in 1..=3 {
        let mut first_total = None;
        let mut moved = false;
        for page in K::pages(src.stash, &query, FindFilter::sorted(SortKey::Id)) {
            let page = page.with_context(|| format!("copying {} from Stash", K::KIND.plural()))?;
            src.store.write_mirror(|w| write_page(w, &page.items, pass))?;
            copied += page.items.len() as u64;
            on_page(copied);
            if *first_total.get_or_insert(page.total) != page.total {
                moved = true;
                break;
            }
        }
        if !moved {
            break;
        }
        log::info!("{} changed in Stash while being copied; copying them again ({attempt}/3)", K::KIND.plural());
    }
    Ok(copied)
}

/// Writes one page of objects into the mirror, marked seen by `pass` when given.
fn write_page<K: Mirrored>(w: &MirrorWriter<'_>, items: &[K], pass: Option<i64>) -> Result<(), StoreError> {
    w.expect(K::KIND, items.iter().map(K::id))?;
    items.iter().try_for_each(|o| o.put(w, pass))
}

/// What re-reading some objects did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Refreshed {
    /// Objects Stash still has, copied again.
    pub copied: u64,
    /// Objects Stash no longer has, removed from the mirror.
    pub deleted: u64,
}

/// Re-reads these objects from Stash into the mirror; those Stash no longer has are removed.
pub fn refresh<K: Mirrored>(src: &Sources<'_>, ids: &[i64]) -> anyhow::Result<Refreshed> {
    let mut done = Refreshed::default();
    for chunk in ids.chunks(PER_PAGE as usize) {
        let filter = FindFilter { per_page: chunk.len() as i64, ..FindFilter::sorted(SortKey::Id) };
        let query = K::query(Selection { ids: Some(chunk.to_vec()), ..Selection::default() });
        let mut found = Vec::with_capacity(chunk.len());
        for page in K::pages(src.stash, &query, filter) {
            let page = page.with_context(|| format!("reading {} from Stash", K::KIND.plural()))?;
            found.extend(page.items.iter().map(K::id));
            src.store.write_mirror(|w| write_page(w, &page.items, None))?;
        }
        let gone: Vec<i64> = chunk.iter().copied().filter(|id| !found.contains(id)).collect();
        done.copied += found.len() as u64;
        done.deleted += src.store.write_mirror(|w| w.delete(K::KIND, &gone))? as u64;
    }
    Ok(done)
}

/// Every id of `K` Stash holds, ascending.
pub fn ids_in_stash<K: Mirrored>(src: &Sources<'_>) -> anyhow::Result<Vec<i64>> {
    let mut ids = K::all_ids(src.stash).context("listing what Stash holds")?;
    ids.sort_unstable();
    Ok(ids)
}
