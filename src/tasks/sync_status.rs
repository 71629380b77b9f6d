//! Operation `sync_status`: what the mirror holds and how fresh it is, for the UI page and the
//! command line. Reads only the database.

use super::{Context, Outcome};
use crate::mirror;

/// Counts, watermarks, the last full sync or a stopped one, and the latest runs.
pub fn run(ctx: &mut Context) -> anyhow::Result<Outcome> {
    let mut output = mirror::status(&ctx.store)?;
    log::info!("Mirror: {}; last full sync: {}", output["mirror"], output["full_sync"]["completed_at"]);
    output["database"] = ctx.store.path().display().to_string().into();
    output["runs"] = serde_json::to_value(ctx.store.recent_runs(10)?)?;
    Ok(Outcome { output, error: None })
}
