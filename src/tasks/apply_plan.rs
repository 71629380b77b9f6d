//! Mode `apply_plan` — task "Apply approved plan changes": writes a plan's approved changes to
//! Stash, the only way StashHog ever changes anything there.
//!
//! Steps: pick the plan (`plan_id`, default the newest with approved changes) → take its lock
//! (refused while another run applies or rolls it back) → settle what a killed run left in
//! flight → create missing tags, performers and studios → per page of scenes, compare Stash's
//! current values with the plan's "before" and skip what the user changed since → send the rest
//! in grouped requests, committing each change's status as Stash confirms it → summarise. With
//! `dry_run` it logs exactly the requests it would send and changes nothing.

use anyhow::Context as _;

use super::plan_run::{self, BATCH_SIZE, DRY_RUN, REVISION};
use super::plans::PLAN_ID;
use super::{Context, Outcome};
use crate::plan_runner::RunOptions;
use crate::plans::Direction;
use crate::protocol::args::ArgSpec;

/// What `apply_plan` takes.
pub const ARGS: &[ArgSpec] = &[PLAN_ID, DRY_RUN, BATCH_SIZE, REVISION];

/// Applies the approved changes of the chosen plan.
pub fn run(cx: &mut Context) -> anyhow::Result<Outcome> {
    let options = plan_run::options(&cx.session.args, Direction::Apply)?;
    let (plan, taken) = plan_run::choose_plan(cx, Direction::Apply)?;
    let mut outcome = plan_run::run(cx, plan, options)?;
    outcome.output["plan_taken"] = taken.into();
    Ok(outcome)
}

/// Finishes what a killed run of the producer `mode` (which applies its plans at once) left
/// half-applied, before that producer plans anything new: otherwise the new plan would not
/// own what the cut-off request wrote, and no rollback could undo it. Returns how many.
pub fn finish_interrupted(cx: &Context, mode: &str) -> anyhow::Result<usize> {
    let plans = cx.store.interrupted_plans(mode)?;
    for &id in &plans {
        let plan = cx.store.plan(id)?.with_context(|| format!("plan {id} disappeared"))?;
        log::info!("Plan {id} '{}' was cut off while being applied: finishing it first", plan.name);
        let outcome = plan_run::run(cx, plan, RunOptions::new(Direction::Apply))
            .with_context(|| format!("finishing plan {id}, which a stopped run left half-applied"))?;
        if let Some(error) = outcome.error {
            log::warn!("Plan {id}: {error}");
        }
    }
    Ok(plans.len())
}
