//! The full pass: copies the whole library, survives SIGKILL, and removes what Stash no longer
//! has.
//!
//! A pass records its id, our clock at its start and Stash's counts and newest `updated_at` per
//! kind (read before copying, so edits during the copy are after the mark); each kind done is
//! recorded, and a walk by id commits its checkpoint with each page. The next start continues.
//! Only a complete pass removes what it did not see, and not at all when it saw less than half
//! of what the mirror holds (a truncated answer).

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context as _;

use super::copy;
use super::kinds::MIRRORED;
use super::state::{Checkpoint, Mark, Pass, StateError};
use super::{Sources, SyncSummary, remove_deleted, time};
use crate::store::StoreError;
use crate::store::mirror::{MirrorWriter, SeenByPass};

/// Copies the whole library, resuming a killed pass, then removes what Stash no longer has.
pub fn full_sync(src: &Sources<'_>) -> anyhow::Result<SyncSummary> {
    let started = Instant::now();
    let requests_before = src.stash.requests_sent();
    let store = &src.store;
    let mut summary = SyncSummary { kind: super::SyncKind::Full, ..SyncSummary::default() };

    let stopped = match Pass::read(store) {
        Ok(stopped) => stopped,
        // The user asked for a full pass: one that cannot be continued is started again.
        Err(StateError::Unreadable(why)) => {
            log::warn!("The stopped full sync cannot be continued ({why}): starting a new pass");
            None
        }
        Err(e) => return Err(e.into()),
    };
    let mut pass = match stopped {
        Some(pass) => {
            summary.resumed = true;
            log::info!("Continuing the full sync that was stopped (pass {})", pass.id);
            pass
        }
        None => start_pass(src)?,
    };
    let expected = |pass: &Pass, kind| pass.marks.get(&kind).map_or(0, |m: &Mark| m.count);
    let total: u64 = MIRRORED.iter().map(|k| expected(&pass, k.kind())).sum();
    let mut progress_base = 0;

    for kind in MIRRORED {
        if pass.done.contains(&kind.kind()) {
            progress_base += expected(&pass, kind.kind());
            continue;
        }
        let resume_after = pass.checkpoint.filter(|c| c.kind == kind.kind()).map(|c| c.after);
        let record = pass.clone();
        let checkpoint = |w: &MirrorWriter<'_>, after: i64| -> Result<(), StoreError> {
            Pass { checkpoint: Some(Checkpoint { kind: kind.kind(), after }), ..record.clone() }.write(w)
        };
        let copying = copy::Pass { id: pass.id, resume_after, checkpoint: &checkpoint };
        let copied = kind.copy(src, None, Some(copying), &mut |n| {
            src.progress.borrow_mut().step(progress_base + n, total.max(1));
        })?;
        summary.of(kind.kind()).copied = copied;
        progress_base += expected(&pass, kind.kind());
        pass.done.push(kind.kind());
        pass.checkpoint = None;
        store.write_mirror(|w| pass.write(w))?;
        log::info!("Full sync: {} copied", crate::words::count(copied, kind.kind().as_str()));
    }

    for kind in MIRRORED {
        let SeenByPass { held, seen } = store.seen_by_pass(kind.kind(), pass.id, &pass.started_at)?;
        let unseen = store.unseen_by_pass(kind.kind(), pass.id, &pass.started_at)?;
        if unseen.is_empty() {
            continue;
        }
        if super::looks_truncated(seen, held) {
            let warning = format!(
                "Full sync saw only {seen} of the {held} {} in the mirror: Stash's answer looks truncated, so nothing was removed. Run Full sync again; if Stash really lost them, the next pass removes them.",
                kind.kind().plural()
            );
            log::warn!("{warning}");
            summary.warnings.push(warning);
            continue;
        }
        // Tags, performers and studios can only be paged by offset, so one deleted while the
        // pass walked them can hide a neighbour: ask Stash about every unseen id, and remove only
        // those it no longer has (the others are copied again).
        let deleted = kind.refresh(src, &unseen)?.deleted;
        summary.of(kind.kind()).deleted = deleted;
        log::info!("Full sync: removed {} Stash no longer has", crate::words::count(deleted, kind.kind().as_str()));
    }

    if summary.resumed {
        catch_up_behind_checkpoint(src, &pass, &mut summary)?;
    }

    let completed = store.now()?;
    store.write_mirror(|w| pass.complete(w, &completed))?;
    src.progress.borrow_mut().set(1.0);
    super::finish(src, summary, started, requests_before)
}

/// A pass that was stopped and resumed copied its early pages long ago: what changed or was
/// deleted there since is caught (changes since the pass's marks, then the id lists compared)
/// before the mirror is called complete.
fn catch_up_behind_checkpoint(src: &Sources<'_>, pass: &Pass, summary: &mut SyncSummary) -> anyhow::Result<()> {
    log::info!("Full sync: catching what changed in Stash while it was stopped");
    for kind in MIRRORED {
        let latest = pass.marks.get(&kind.kind()).and_then(|m| m.latest.as_deref());
        let after = latest.map(time::one_second_before);
        summary.of(kind.kind()).copied += kind.copy(src, after, None, &mut |_| {})?;
        summary.of(kind.kind()).deleted += remove_deleted(src, kind)?;
    }
    Ok(())
}

/// Records a new pass: its id, our clock at its start, and Stash's counts and newest
/// `updated_at` per kind (read before copying, so edits during the copy are after the mark).
fn start_pass(src: &Sources<'_>) -> anyhow::Result<Pass> {
    let mut marks = BTreeMap::new();
    for kind in MIRRORED {
        let (count, latest) = kind.latest(src).context("asking Stash what it holds")?;
        marks.insert(kind.kind(), Mark { count, latest });
    }
    let pass = Pass::start(src.store, src.store.now()?, marks)?;
    log::info!("Full sync started (pass {})", pass.id);
    Ok(pass)
}
