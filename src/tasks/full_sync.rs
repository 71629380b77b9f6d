//! Mode `full_sync` — task "Full sync": copy the whole library into the mirror.

use super::{Context, Outcome};
use crate::sync;

/// Copies every tag, performer, studio and scene; resumes a stopped pass; removes what Stash no
/// longer has once the pass is complete.
pub fn run(ctx: &mut Context) -> anyhow::Result<Outcome> {
    let summary = sync::full_sync(&ctx.mirror())?;
    super::report_sync(&summary)
}
