//! Operation `sync_status`: what the mirror holds and how fresh it is, for the UI page and the
//! command line. Reads only the database.
//!
//! Compact by default — counts, the last full sync, the latest task runs in one line each —
//! because a person reads it in a terminal; `details=true` adds the watermarks and the latest
//! runs with their arguments and whole summaries.

use serde_json::json;

use super::{Context, Outcome};
use crate::protocol::args::ArgSpec;
use crate::sync;
use crate::words::count;

/// What `sync_status` takes.
pub const ARGS: &[ArgSpec] = &[ArgSpec {
    name: "details",
    takes: "true or false",
    help: "also the watermarks, and the latest runs (hooks too) with their arguments and summaries",
}];

/// Runs listed in the compact status.
const COMPACT_RUNS: usize = 5;

/// Counts, the last full sync or a stopped one, and the latest runs.
pub fn run(ctx: &mut Context) -> anyhow::Result<Outcome> {
    let details = ctx.session.args.bool("details")?.unwrap_or(false);
    let status = sync::status(&ctx.store)?;
    let held = status.mirror;
    log::info!(
        "Mirror: {}, {}, {}, {}; last full sync: {}",
        count(held.scenes, "scene"),
        count(held.tags, "tag"),
        count(held.performers, "performer"),
        count(held.studios, "studio"),
        status.full_sync.completed_at.as_deref().unwrap_or("never")
    );
    let mut output = serde_json::to_value(status)?;
    output["database"] = ctx.store.path().display().to_string().into();
    if details {
        output["runs"] = serde_json::to_value(ctx.store.recent_runs(10)?)?;
    } else {
        if let Some(map) = output.as_object_mut() {
            map.remove("watermarks");
        }
        // Every hook is a run too: the compact list shows the tasks a person started.
        let runs: Vec<_> = ctx
            .store
            .recent_runs(200)?
            .into_iter()
            .filter(|r| r.mode != "mirror_hook")
            .take(COMPACT_RUNS)
            .map(|r| {
                json!({"id": r.id, "mode": r.mode, "status": r.status, "started_at": r.started_at,
                    "ended_at": r.ended_at, "error": r.error})
            })
            .collect();
        output["latest_runs"] = runs.into();
    }
    Ok(Outcome { output, error: None })
}
