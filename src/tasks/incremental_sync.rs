//! Mode `incremental_sync` — task "Incremental sync": copy what changed since the last sync.

use super::{Context, Outcome};
use crate::sync;

/// Copies what changed since the watermark (a full sync when there has never been one).
pub fn run(ctx: &mut Context) -> anyhow::Result<Outcome> {
    let summary = sync::incremental_sync(&ctx.mirror())?;
    super::report_sync(&summary)
}
