//! Mode `rollback_plan` — task "Roll back last applied plan": undoes what a plan did.
//!
//! Steps: pick the plan (`plan_id`, default the one applied last) → take its lock (refused
//! while another run applies or rolls it back) → settle what a killed run left in flight → per
//! page of scenes, newest first, check that Stash still holds the value the plan put there (else
//! report a conflict and leave the user's edit alone) → send the inverse (REMOVE what was ADDed,
//! ADD what was REMOVEd, SET back what was SET) through the same journal as apply → with
//! `delete_created=true`, delete the tags, performers and studios the plan created that nothing
//! uses any more (no scene, image, gallery or group; no performer, studio, scene marker or
//! related tag for a tag; no child studio for a studio), keep and list the rest → mark the plan
//! rolled back. Without it everything created is kept: a name the user
//! may have started using elsewhere is not StashHog's to delete unasked.

use anyhow::{Context as _, bail};

use super::plans::{
    BATCH_SIZE, DELETE_CREATED, DRY_RUN, PLAN_ID, batch_size, deleted_list, engine_summary, kept_list, lock_plan,
    plan_arg,
};
use super::{Context, Outcome};
use crate::plan_runner::Engine;
use crate::plans::Direction;
use crate::plans::{ChangeFilter, ChangeStatus, PlanStatus};
use crate::protocol::args::ArgSpec;

/// What `rollback_plan` takes.
pub const ARGS: &[ArgSpec] = &[PLAN_ID, DRY_RUN, DELETE_CREATED, BATCH_SIZE];

/// Reverts the applied changes of the chosen plan.
pub fn run(cx: &mut Context) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let args = &cx.session.args;
    let dry_run = args.bool("dry_run")?.unwrap_or(false);
    let delete_created = args.bool("delete_created")?.unwrap_or(false);
    let batch_size = batch_size(args)?;
    let (plan, taken) = plan_arg(
        &cx.store,
        args,
        "the plan applied last",
        || cx.store.newest_plan_to_roll_back(),
        "no plan has been applied, so there is nothing to roll back",
    )?;
    // Held until the run ends; a dry run sends nothing and journals nothing, so needs none.
    let (_lock, plan) = if dry_run { (None, plan) } else { lock_plan(&cx.store, plan).map(|(l, p)| (Some(l), p))? };
    if matches!(plan.status, PlanStatus::Draft | PlanStatus::Reviewing | PlanStatus::Cancelled | PlanStatus::Superseded)
    {
        bail!(
            "plan {} was never applied (it is {}); there is nothing to roll back",
            plan.id,
            crate::words::status(plan.status.as_str())
        );
    }
    let applied = plan.changes.get(ChangeStatus::Applied.as_str()).copied().unwrap_or(0) as usize;
    log::info!(
        "{} plan {} \"{}\": {} to revert",
        if dry_run { "Dry run of rolling back" } else { "Rolling back" },
        plan.id,
        plan.name,
        crate::words::count(applied as u64, "applied change")
    );
    if !dry_run {
        cx.store.set_plan_status(plan.id, PlanStatus::RollingBack)?;
    }
    let hooks_paused = if dry_run { None } else { crate::sync::pause_hooks(&cx.session.stash_config_dir()) };
    let mut engine = Engine::new(
        &cx.session.stash,
        &cx.store,
        plan.id,
        Direction::Rollback,
        dry_run,
        batch_size,
        &cx.session.progress,
    );
    engine
        .run(applied)
        .with_context(|| format!("rolling back plan {} (run rollback_plan again to resume)", plan.id))?;
    let created = engine
        .settle_created(delete_created)
        .with_context(|| format!("deleting what plan {} created (run rollback_plan again to resume)", plan.id))?;
    if hooks_paused.is_some() {
        drop(hooks_paused);
        super::apply_plan::catch_up_mirror(cx);
    }
    if !created.deleted.is_empty() {
        log::info!("Deleted what the plan created and nothing uses any more: {:?}", created.deleted);
    }
    if !created.kept.is_empty() {
        let hint = if delete_created { "" } else { " (delete_created=true deletes those nothing uses)" };
        log::info!("Kept what the plan created{hint}: {:?}", created.kept);
    }
    let status = if dry_run {
        plan.status
    } else {
        // A revert that failed leaves its change applied: the plan stays applied until it is retried.
        let filter = ChangeFilter { statuses: vec![ChangeStatus::Applied], ..ChangeFilter::default() };
        let (left, _) = cx.store.changes(plan.id, &filter, 0, 0)?;
        let status =
            if left as usize > created.kept.len() { PlanStatus::PartiallyApplied } else { PlanStatus::RolledBack };
        cx.store.set_plan_status(plan.id, status)?;
        status
    };
    let mut outcome = engine_summary(&cx.store, &plan, status, dry_run, "reverted", engine.report, started)?;
    outcome.output["kept"] = kept_list(&created.kept).into();
    outcome.output["deleted"] = deleted_list(&created.deleted).into();
    outcome.output["created_deleted"] = created.deleted.into();
    outcome.output["created_kept"] = created.kept.into();
    outcome.output["plan_taken"] = taken.into();
    Ok(outcome)
}
