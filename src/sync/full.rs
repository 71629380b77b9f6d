//! The full pass: copies the whole library, survives SIGKILL, and removes what Stash no longer
//! has.
//!
//! A pass records its id, our clock at its start and Stash's counts and newest `updated_at` per
//! kind (read before copying, so edits during the copy are after the mark); each kind done is
//! recorded, and a walk by id commits its checkpoint with each page. The next start continues.
//! Only a complete pass removes what it did not see, and not at all when it saw less than half
//! of what the mirror holds (a truncated answer).

use std::time::Instant;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::copy::Pass;
use super::kinds::MIRRORED;
use super::{Sources, SyncSummary, remove_deleted, state, time};

/// Copies the whole library, resuming a killed pass, then removes what Stash no longer has.
pub fn full_sync(src: &Sources<'_>) -> anyhow::Result<SyncSummary> {
    let started = Instant::now();
    let requests_before = src.stash.requests_sent();
    let store = &src.store;
    let mut summary = SyncSummary { kind: "full", ..SyncSummary::default() };

    let pass = match store.state(state::PASS)?.and_then(|p| p.parse::<i64>().ok()) {
        Some(pass) => {
            summary.resumed = true;
            log::info!("Continuing the full sync that was stopped (pass {pass})");
            pass
        }
        None => start_pass(src)?,
    };
    let since = store.state(state::PASS_STARTED)?.context("full sync state is incomplete: no start time")?;
    let marks: Value =
        serde_json::from_str(&store.state(state::PASS_MARKS)?.unwrap_or_default()).unwrap_or(Value::Null);
    let total: u64 = MIRRORED.iter().map(|k| marks[k.kind().plural()]["count"].as_u64().unwrap_or(0)).sum();
    let mut done: Vec<String> =
        serde_json::from_str(&store.state(state::PASS_DONE)?.unwrap_or_default()).unwrap_or_default();
    let mut progress_base = 0;

    for kind in MIRRORED {
        let plural = kind.kind().plural();
        let expected = marks[plural]["count"].as_u64().unwrap_or(0);
        if done.iter().any(|d| d == plural) {
            progress_base += expected;
            continue;
        }
        let checkpoint_key = state::checkpoint_key(kind.kind());
        let checkpoint =
            |w: &crate::store::mirror::MirrorWriter<'_>, last: i64| w.set_state(&checkpoint_key, &last.to_string());
        let resume_after = store.state(&checkpoint_key)?.and_then(|c| c.parse::<i64>().ok());
        let copied =
            kind.copy(src, None, Some(Pass { id: pass, resume_after, checkpoint: &checkpoint }), &mut |n| {
                src.progress.borrow_mut().step(progress_base + n, total.max(1));
            })?;
        summary.of(kind.kind()).copied = copied;
        progress_base += expected;
        done.push(plural.to_owned());
        let done_json = json!(done).to_string();
        store.write_mirror(|w| w.set_state(state::PASS_DONE, &done_json))?;
        log::info!("Full sync: {} copied", crate::words::count(copied, kind.kind().as_str()));
    }

    for kind in MIRRORED {
        let (held, seen) = store.seen_by_pass(kind.kind(), pass, &since)?;
        let unseen = store.unseen_by_pass(kind.kind(), pass, &since)?;
        if unseen.is_empty() {
            continue;
        }
        if seen * 2 < held {
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
        let (_, deleted) = kind.refresh(src, &unseen)?;
        summary.of(kind.kind()).deleted = deleted;
        log::info!("Full sync: removed {} Stash no longer has", crate::words::count(deleted, kind.kind().as_str()));
    }

    if summary.resumed {
        catch_up_behind_checkpoint(src, &marks, &mut summary)?;
    }

    let completed = store.now()?;
    store.write_mirror(|w| {
        for kind in MIRRORED {
            if let Some(mark) = marks[kind.kind().plural()]["latest"].as_str() {
                state::set_watermark(w, kind.kind(), mark)?;
            }
        }
        w.set_state(state::COMPLETED, &completed)?;
        for key in [state::PASS, state::PASS_STARTED, state::PASS_MARKS, state::PASS_DONE] {
            w.clear_state(key)?;
        }
        MIRRORED.iter().try_for_each(|k| w.clear_state(&state::checkpoint_key(k.kind())))
    })?;
    src.progress.borrow_mut().set(1.0);
    super::finish(src, summary, started, requests_before)
}

/// A pass that was stopped and resumed copied its early pages long ago: what changed or was
/// deleted there since is caught (changes since the pass's marks, then the id lists compared)
/// before the mirror is called complete.
fn catch_up_behind_checkpoint(src: &Sources<'_>, marks: &Value, summary: &mut SyncSummary) -> anyhow::Result<()> {
    log::info!("Full sync: catching what changed in Stash while it was stopped");
    for kind in MIRRORED {
        let after = marks[kind.kind().plural()]["latest"].as_str().map(time::one_second_before);
        summary.of(kind.kind()).copied += kind.copy(src, after, None, &mut |_| {})?;
        summary.of(kind.kind()).deleted += remove_deleted(src, kind)?;
    }
    Ok(())
}

/// Records a new pass: its id, our clock at its start, and Stash's counts and newest
/// `updated_at` per kind (read before copying, so edits during the copy are after the mark).
fn start_pass(src: &Sources<'_>) -> anyhow::Result<i64> {
    let store = &src.store;
    let pass = store.state(state::LAST_PASS)?.and_then(|p| p.parse::<i64>().ok()).unwrap_or(0) + 1;
    let mut marks = serde_json::Map::new();
    for kind in MIRRORED {
        let (count, latest) = kind.latest(src).context("asking Stash what it holds")?;
        marks.insert(kind.kind().plural().to_owned(), json!({"count": count, "latest": latest}));
    }
    let started = store.now()?;
    store.write_mirror(|w| {
        w.set_state(state::LAST_PASS, &pass.to_string())?;
        w.set_state(state::PASS, &pass.to_string())?;
        w.set_state(state::PASS_STARTED, &started)?;
        w.set_state(state::PASS_MARKS, &Value::Object(marks).to_string())?;
        w.clear_state(state::PASS_DONE)?;
        MIRRORED.iter().try_for_each(|k| w.clear_state(&state::checkpoint_key(k.kind())))
    })?;
    log::info!("Full sync started (pass {pass})");
    Ok(pass)
}
