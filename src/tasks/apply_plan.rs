//! Mode `apply_plan` — task "Apply approved plan changes": writes a plan's approved changes to
//! Stash, the only way StashHog ever changes anything there.
//!
//! Steps: pick the plan (`plan_id`, default the newest with approved changes) → take its lock
//! (refused while another run applies or rolls it back) → settle what a killed run left in
//! flight → create missing tags, performers and studios → per page of scenes, compare Stash's
//! current values with the plan's "before" and skip what the user changed since → send the rest
//! in grouped requests, committing each change's status as Stash confirms it → summarise. With
//! `dry_run` it logs exactly the requests it would send and changes nothing.

use anyhow::{Context as _, bail};

use super::plans::{BATCH_SIZE, DRY_RUN, PLAN_ID, batch_size, engine_summary, lock_plan, plan_arg};
use super::{Context, Outcome, Refused};
use crate::plan_runner::Engine;
use crate::plans::Direction;
use crate::plans::{ChangeStatus, PlanStatus};
use crate::protocol::args::ArgSpec;
use crate::sync;

/// What `apply_plan` takes.
pub const ARGS: &[ArgSpec] = &[
    PLAN_ID,
    DRY_RUN,
    BATCH_SIZE,
    ArgSpec {
        name: "revision",
        takes: "a plan revision",
        help: "the revision a preview showed: refuse if the approvals changed since",
    },
];

/// Applies the approved changes of the chosen plan.
pub fn run(cx: &mut Context) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let args = &cx.session.args;
    let dry_run = args.bool("dry_run")?.unwrap_or(false);
    let batch_size = batch_size(args)?;
    let revision = args.integer("revision")?;
    let (plan, taken) = plan_arg(
        &cx.store,
        args,
        "the newest plan with approved changes",
        || cx.store.newest_plan_to_apply(),
        "no plan has approved changes: approve changes on the StashHog page (or with review_plan), then run this again",
    )?;
    let mut outcome = apply(cx, plan, revision, dry_run, batch_size, started)?;
    outcome.output["plan_taken"] = taken.into();
    Ok(outcome)
}

/// Applies `plan`'s approved changes (or, with `dry_run`, logs the requests it would send);
/// also how a plan producer applies its own plan at once. Given the `revision` a preview
/// showed, it refuses when the plan's approvals changed since.
pub fn apply(
    cx: &Context,
    plan: crate::plans::Plan,
    revision: Option<i64>,
    dry_run: bool,
    batch_size: usize,
    started: std::time::Instant,
) -> anyhow::Result<Outcome> {
    // Held until the run ends; a dry run sends nothing and journals nothing, so needs none.
    let (_lock, plan) = if dry_run { (None, plan) } else { lock_plan(&cx.store, plan).map(|(l, p)| (Some(l), p))? };
    match plan.status {
        PlanStatus::Superseded => bail!(
            "plan {} was superseded: a newer plan of the same source took over its open changes; apply that one (list_plans)",
            plan.id
        ),
        PlanStatus::RolledBack | PlanStatus::RollingBack | PlanStatus::Cancelled => bail!(
            "plan {} is {}; it cannot be applied again (import it again as a new plan)",
            plan.id,
            plan.status.as_str()
        ),
        _ => {}
    }
    if let Some(previewed) = revision.filter(|r| *r != plan.revision) {
        return Err(Refused(format!(
            "plan {} changed since it was previewed (revision {previewed}, now {}): nothing was applied; preview it again",
            plan.id, plan.revision
        ))
        .into());
    }
    let mut approved = plan.changes.get(ChangeStatus::Approved.as_str()).copied().unwrap_or(0) as usize;
    // Running the task again is how a failed change is retried (reject it to give up on it).
    let failed = plan.changes.get(ChangeStatus::Failed.as_str()).copied().unwrap_or(0) as usize;
    if failed > 0 && !dry_run {
        log::info!("Retrying {failed} change(s) that failed before");
        approved += cx.store.retry_failed(plan.id)?;
    }
    let interrupted = plan.status == PlanStatus::Applying;
    if approved == 0 && !interrupted {
        bail!(
            "plan {} has no approved changes (and none that failed, to retry); approve some on the StashHog page (or with review_plan) first",
            plan.id
        );
    }
    log::info!(
        "{} plan {} \"{}\": {}{}",
        if dry_run { "Dry run of" } else { "Applying" },
        plan.id,
        plan.name,
        crate::words::count(approved as u64, "approved change"),
        if interrupted { ", resuming an interrupted run" } else { "" }
    );
    if !dry_run {
        cx.store.set_plan_status(plan.id, PlanStatus::Applying)?;
    }
    let hooks_paused = if dry_run { None } else { sync::pause_hooks(&cx.session.stash_config_dir()) };
    let mut engine =
        Engine::new(&cx.session.stash, &cx.store, plan.id, Direction::Apply, dry_run, batch_size, &cx.session.progress);
    engine.run(approved).with_context(|| format!("applying plan {} (run apply_plan again to resume)", plan.id))?;
    if hooks_paused.is_some() {
        drop(hooks_paused);
        catch_up_mirror(cx);
    }
    let status = if dry_run {
        plan.status
    } else {
        let after = cx.store.plan(plan.id)?.context("the plan disappeared while it was applied")?;
        let count = |s: ChangeStatus| after.changes.get(s.as_str()).copied().unwrap_or(0);
        let status = if count(ChangeStatus::Failed) + count(ChangeStatus::SkippedConflict) > 0 {
            PlanStatus::PartiallyApplied
        } else {
            PlanStatus::Applied
        };
        cx.store.finish_apply(plan.id, status)?;
        status
    };
    engine_summary(&cx.store, &plan, status, dry_run, "applied", engine.report, started)
}

/// Finishes what a killed run of the producer `mode` (which applies its plans at once) left
/// half-applied, before that producer plans anything new: otherwise the new plan would not
/// own what the cut-off request wrote, and no rollback could undo it. Returns how many.
pub fn finish_interrupted(cx: &Context, mode: &str) -> anyhow::Result<usize> {
    let plans = cx.store.interrupted_plans(mode)?;
    for &id in &plans {
        let plan = cx.store.plan(id)?.with_context(|| format!("plan {id} disappeared"))?;
        log::info!("Plan {id} '{}' was cut off while being applied: finishing it first", plan.name);
        let outcome = apply(cx, plan, None, false, 500, std::time::Instant::now())
            .with_context(|| format!("finishing plan {id}, which a stopped run left half-applied"))?;
        if let Some(error) = outcome.error {
            log::warn!("Plan {id}: {error}");
        }
    }
    Ok(plans.len())
}

/// Copies what a run wrote into the mirror, since our paused hooks did not. A failure here is
/// only a warning: Stash has the changes, and the next sync copies them.
pub fn catch_up_mirror(cx: &Context) {
    if let Err(e) = sync::catch_up(&cx.mirror()) {
        log::warn!("The mirror could not catch up with what was written ({e:#}); the next sync will");
    }
}
