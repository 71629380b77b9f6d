//! The incremental sync: copies what changed since the watermark, and finds deletions, which
//! leave no trace in `updated_at`.
//!
//! An incremental sync asks for what changed after the watermark minus a second (Stash compares
//! timestamps as text and we overlap rather than lose an edit), and the new watermark is Stash's
//! newest `updated_at` read *before* the copy started.

use std::time::Instant;

use anyhow::Context as _;

use super::kinds::{Kind, MIRRORED};
use super::{Sources, SyncSummary, copy, full_sync, state, time};
use crate::stash::{ObjectKind, Scene};

/// A never-synced library bigger than this is not copied implicitly by another task: the user
/// runs the (resumable, progress-reporting) Full sync task first.
const IMPLICIT_FULL_SYNC_LIMIT: u64 = 20_000;

/// Whether a full sync has ever completed on this database.
pub fn ever_synced(src: &Sources<'_>) -> anyhow::Result<bool> {
    Ok(state::completed_at(src.store)?.is_some())
}

/// Brings the mirror up to date before a task reads it: incrementally, or with a full sync when
/// there has never been one and the library is small enough to copy on the way.
pub fn refresh(src: &Sources<'_>) -> anyhow::Result<SyncSummary> {
    if !ever_synced(src)? && !state::pass_stopped(src.store)? {
        let (scenes, _) = copy::latest::<Scene>(src)?;
        if scenes > IMPLICIT_FULL_SYNC_LIMIT {
            anyhow::bail!(
                "StashHog's mirror of your library is empty and Stash has {scenes} scenes: run the task \"Full sync\" first (it shows progress and resumes if stopped), then this one"
            );
        }
    }
    incremental_sync(src)
}

/// Copies what changed since the last sync; runs (or continues) a full sync when there is no
/// complete one to build on.
pub fn incremental_sync(src: &Sources<'_>) -> anyhow::Result<SyncSummary> {
    if state::pass_stopped(src.store)? {
        // An unreadable record stops here, saying what to run: only the Full sync task, asked
        // for by the user, copies everything again.
        state::Pass::read(src.store)?;
        log::info!("A full sync was stopped before it finished: continuing it");
        return full_sync(src);
    }
    if !ever_synced(src)? {
        log::info!("No full sync has completed on this database yet: running one now");
        return full_sync(src);
    }
    let started = Instant::now();
    let requests_before = src.stash.requests_sent();
    let mut summary = SyncSummary { kind: super::SyncKind::Incremental, ..SyncSummary::default() };
    for kind in MIRRORED {
        let (in_stash, latest) = kind.latest(src).context("asking Stash what changed")?;
        let after = state::watermark(src.store, kind.kind())?.as_deref().map(time::one_second_before);
        summary.of(kind.kind()).copied = kind.copy(src, after, None, &mut |_| {})?;
        if let Some(latest) = latest {
            src.store.write_mirror(|w| state::set_watermark(w, kind.kind(), &latest))?;
        }
        // A deletion leaves no trace in updated_at; more rows here than in Stash means some
        // were deleted (or merged) while hooks were off.
        if src.store.mirrored_ids(kind.kind())?.len() as u64 > in_stash {
            summary.of(kind.kind()).deleted = remove_deleted(src, kind)?;
        }
    }
    src.progress.borrow_mut().set(1.0);
    super::finish(src, summary, started, requests_before)
}

/// After a run wrote to Stash with the hooks paused: copies what changed into the mirror (when
/// there is a mirror to keep up; a never-synced one is left to the Full sync task).
///
/// `copied` is the newest `updated_at` of the scenes the run already copied from Stash's
/// answers to its writes, when every write was copied that way. Then nothing is read again
/// when Stash can prove nothing else changed: it counts the scenes updated after the
/// watermark (and after the watermark less the second of overlap), and each count must equal
/// the mirror's. A scene someone else edited meanwhile is counted in Stash but not here (its
/// copy still carries its older time), so any such edit makes the counts differ, and then the
/// ordinary catch-up reads what changed.
pub fn catch_up(src: &Sources<'_>, copied: Option<&str>) -> anyhow::Result<()> {
    if !ever_synced(src)? {
        return Ok(());
    }
    if let Some(newest) = copied
        && let Some(mark) = state::watermark(src.store, ObjectKind::Scene)?
        && nothing_else_changed(src, &mark)?
    {
        let mark = if newest > mark.as_str() { newest } else { mark.as_str() };
        src.store.write_mirror(|w| state::set_watermark(w, ObjectKind::Scene, mark))?;
        log::info!("Mirror caught up from what Stash answered to the writes: nothing else changed, nothing re-read");
        return Ok(());
    }
    let summary = incremental_sync(src)?;
    log::info!(
        "Mirror caught up with what was written: {} re-read",
        crate::words::count(summary.scenes.copied, "scene")
    );
    Ok(())
}

/// Whether Stash's scenes updated after `mark` are exactly the mirror's: one count request per
/// bound, no scene transferred.
fn nothing_else_changed(src: &Sources<'_>, mark: &str) -> anyhow::Result<bool> {
    for after in [time::one_second_before(mark), mark.to_owned()] {
        let query = crate::stash::SceneQuery { updated_after: Some(after.clone()), ..Default::default() };
        let in_stash = src.stash.count_scenes(&query).context("counting the scenes that changed")?;
        let here = src.store.scenes_updated_after(&after)?;
        if in_stash != here {
            log::debug!("Stash has {in_stash} scenes updated after {after}, the mirror {here}: reading what changed");
            return Ok(false);
        }
    }
    Ok(true)
}

/// Removes from the mirror what Stash no longer has, comparing the full id lists; scenes that
/// carried a removed tag (a merge moves them to another tag silently) are read again.
pub(super) fn remove_deleted(src: &Sources<'_>, kind: &dyn Kind) -> anyhow::Result<u64> {
    let in_stash = kind.ids_in_stash(src)?;
    let mirrored = src.store.mirrored_ids(kind.kind())?;
    if super::looks_truncated(in_stash.len() as u64, mirrored.len() as u64) {
        log::warn!(
            "Stash listed only {} of the {} {} in the mirror: the answer looks truncated, so nothing was removed",
            in_stash.len(),
            mirrored.len(),
            kind.kind().plural()
        );
        return Ok(0);
    }
    let gone: Vec<i64> = mirrored.into_iter().filter(|id| in_stash.binary_search(id).is_err()).collect();
    let carried = if kind.kind() == ObjectKind::Tag { src.store.scenes_with_tags(&gone)? } else { Vec::new() };
    let deleted = src.store.write_mirror(|w| w.delete(kind.kind(), &gone))? as u64;
    if !carried.is_empty() {
        copy::refresh::<Scene>(src, &carried)?;
    }
    if deleted > 0 {
        log::info!("Removed {} deleted in Stash from the mirror", crate::words::count(deleted, kind.kind().as_str()));
    }
    Ok(deleted)
}
