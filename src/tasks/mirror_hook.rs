//! Mode `mirror_hook` — the hook "Keep StashHog's mirror fresh".
//!
//! Stash runs it synchronously inside the user's save and waits for it, so it does one small
//! thing fast, and a failure here is only a warning: the user's save already happened, and the
//! next incremental sync repairs whatever this missed.

use anyhow::Context as _;
use serde_json::json;

use super::{Outcome, Session};
use crate::sync;

/// Refreshes the object the hook names in the mirror.
pub fn run(session: &Session) -> anyhow::Result<Outcome> {
    let Some(hook) = session.hook.as_ref() else {
        anyhow::bail!("mode mirror_hook is run by Stash's hooks (the input had no args.hookContext)");
    };
    if sync::hooks_paused(&session.stash_config_dir()) {
        log::debug!("StashHog is writing to Stash; it brings the mirror up to date itself when done");
        return Ok(Outcome {
            output: json!({ "hook": hook.trigger, "skipped": "StashHog is writing to Stash" }),
            error: None,
        });
    }
    let refreshed = session.context().and_then(|ctx| {
        if !ctx.settings.mirror_hooks {
            log::debug!("Mirror hooks are off (setting mirrorHooks)");
            return Ok(json!({ "hook": hook.trigger, "skipped": "the setting mirrorHooks is off" }));
        }
        let output = ctx.recorded(|ctx| {
            let output = sync::refresh_from_hook(&ctx.mirror(), hook).context("refreshing the mirror")?;
            Ok(Outcome { output, error: None })
        })?;
        Ok(output.output)
    });
    let output = match refreshed {
        Ok(output) => {
            log::debug!("Mirror refreshed after {}: {output}", hook.trigger);
            output
        }
        Err(e) => {
            log::warn!(
                "StashHog could not update its mirror after {} of {}: {e:#}. Nothing is lost: the next incremental sync catches up.",
                hook.trigger,
                hook.id.map_or("?".to_owned(), |id| id.to_string())
            );
            json!({ "hook": hook.trigger, "warning": format!("{e:#}") })
        }
    };
    Ok(Outcome { output, error: None })
}
