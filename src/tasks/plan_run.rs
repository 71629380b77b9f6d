//! One run of a plan against Stash, in either direction: what `apply_plan`, `rollback_plan`,
//! the page's previews and the producers that apply their own plan at once all share.
//!
//! Steps: take the plan's lock (refused while another run applies or rolls it back; a dry run
//! sends and journals nothing, so takes none) → check the plan can run this way and say what
//! it will do → mark it applying / rolling back → pause our own hooks → run the engine → with a
//! rollback, settle what the plan created → catch the mirror up with what was written → mark
//! the plan's new status → summarise. The two modes differ only in their checks and in the
//! status they end on, so both are here, side by side, and the modes stay thin.

use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use super::plan_operations::{PLAN_ID, plan_arg};
use super::{Context, Outcome, Refused};
use crate::plan_runner::{CreatedOutcome, DEFAULT_BATCH_SIZE, Engine, Report, RunOptions};
use crate::plans::view::Wanted;
use crate::plans::{ChangeFilter, ChangeStatus, Direction, Field, Plan, PlanStatus};
use crate::protocol::args::{ArgSpec, Args};
use crate::store::{PlanLock, Store};
use crate::sync;
use crate::words;

/// `dry_run` of apply and rollback.
pub const DRY_RUN: ArgSpec =
    ArgSpec { name: "dry_run", takes: "true or false", help: "log the requests it would send and change nothing" };
/// `batch_size` of apply, rollback and their previews.
pub const BATCH_SIZE: ArgSpec =
    ArgSpec { name: "batch_size", takes: "1 to 1000", help: "scenes per request (default 500)" };
/// `delete_created` of rollback and its preview.
pub const DELETE_CREATED: ArgSpec = ArgSpec {
    name: "delete_created",
    takes: "true or false",
    help: "also delete the tags, performers and studios the plan created once nothing uses them",
};
/// `revision` of apply.
pub const REVISION: ArgSpec = ArgSpec {
    name: "revision",
    takes: "a plan revision",
    help: "the revision a preview showed: refuse if the approvals changed since",
};

/// What `preview_apply` takes.
pub const PREVIEW_APPLY_ARGS: &[ArgSpec] = &[PLAN_ID, BATCH_SIZE];
/// What `preview_rollback` takes.
pub const PREVIEW_ROLLBACK_ARGS: &[ArgSpec] = &[PLAN_ID, BATCH_SIZE, DELETE_CREATED];

/// The run options the arguments ask for (those a mode does not take are absent, so default).
pub fn options(args: &Args, direction: Direction) -> anyhow::Result<RunOptions> {
    Ok(RunOptions {
        dry_run: args.bool("dry_run")?.unwrap_or(false),
        batch_size: args.integer("batch_size")?.map_or(DEFAULT_BATCH_SIZE, |n| n.clamp(1, 1000) as usize),
        delete_created: args.bool("delete_created")?.unwrap_or(false),
        revision: args.integer("revision")?,
        ..RunOptions::new(direction)
    })
}

/// The plan `plan_id` names, else the one a run in `direction` takes by default (apply: the
/// newest with approved changes; rollback: the one applied last), and which that was in words.
pub fn choose_plan(cx: &Context, direction: Direction) -> anyhow::Result<(Plan, &'static str)> {
    let (store, args) = (&cx.store, &cx.session.args);
    match direction {
        Direction::Apply => plan_arg(
            store,
            args,
            "the newest plan with approved changes",
            || store.newest_plan_to_apply(),
            "no plan has approved changes: approve changes on the StashHog page (or with review_plan), then run this again",
        ),
        Direction::Rollback => plan_arg(
            store,
            args,
            "the plan applied last",
            || store.newest_plan_to_roll_back(),
            "no plan has been applied, so there is nothing to roll back",
        ),
    }
}

/// Runs `plan` as `options` say, and summarises the run; also how a plan producer applies its
/// own plan at once (`RunOptions::new(Direction::Apply)`).
pub fn run(cx: &Context, plan: Plan, options: RunOptions) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let direction = options.direction;
    // Held until the run ends; a dry run sends nothing and journals nothing, so needs none.
    let (_lock, plan) =
        if options.dry_run { (None, plan) } else { lock_plan(&cx.store, plan).map(|(l, p)| (Some(l), p))? };
    let to_do = match direction {
        Direction::Apply => ready_to_apply(&cx.store, &plan, &options)?,
        Direction::Rollback => ready_to_roll_back(&plan, &options)?,
    };
    if !options.dry_run {
        let running = if direction == Direction::Apply { PlanStatus::Applying } else { PlanStatus::RollingBack };
        cx.store.set_plan_status(plan.id, running)?;
    }
    let hooks_paused = if options.dry_run { None } else { sync::pause_hooks(&cx.session.stash_config_dir()) };
    let mut engine = Engine::new(&cx.session.stash, &cx.store, plan.id, options, &cx.session.progress);
    let (doing, mode) = match direction {
        Direction::Apply => ("applying", "apply_plan"),
        Direction::Rollback => ("rolling back", "rollback_plan"),
    };
    engine.run(to_do).with_context(|| format!("{doing} plan {} (run {mode} again to resume)", plan.id))?;
    let created = match direction {
        Direction::Apply => None,
        Direction::Rollback => Some(
            engine
                .settle_created()
                .with_context(|| format!("deleting what plan {} created (run {mode} again to resume)", plan.id))?,
        ),
    };
    if hooks_paused.is_some() {
        drop(hooks_paused);
        let mirrored = &engine.mirrored;
        catch_up_mirror(cx, if mirrored.incomplete { None } else { mirrored.latest.as_deref() });
    }
    if let Some(created) = &created {
        log_created(created, options.delete_created);
    }
    let status = if options.dry_run { plan.status } else { finish(&cx.store, &plan, direction, created.as_ref())? };
    let mut outcome = summary(&cx.store, &plan, status, &options, engine.report, started)?;
    if let Some(created) = created {
        outcome.output["kept"] = kept_list(&created.kept).into();
        outcome.output["deleted"] = deleted_list(&created.deleted).into();
        outcome.output["created_deleted"] = created.deleted.into();
        outcome.output["created_kept"] = created.kept.into();
    }
    super::add_peak_rss(&mut outcome.output);
    Ok(outcome)
}

/// Checks that `plan` can be applied now (not superseded or rolled back, approvals unchanged
/// since the preview, something to do), queues its failed changes again, and says what the run
/// will do. Returns how many changes it works on.
fn ready_to_apply(store: &Store, plan: &Plan, options: &RunOptions) -> anyhow::Result<usize> {
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
    if let Some(previewed) = options.revision.filter(|r| *r != plan.revision) {
        return Err(Refused(format!(
            "plan {} changed since it was previewed (revision {previewed}, now {}): nothing was applied; preview it again",
            plan.id, plan.revision
        ))
        .into());
    }
    let mut approved = count(plan, ChangeStatus::Approved);
    // Running the task again is how a failed change is retried (reject it to give up on it).
    let failed = count(plan, ChangeStatus::Failed);
    if failed > 0 && !options.dry_run {
        log::info!("Retrying {failed} change(s) that failed before");
        approved += store.retry_failed(plan.id)?;
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
        if options.dry_run { "Dry run of" } else { "Applying" },
        plan.id,
        plan.name,
        words::count(approved as u64, "approved change"),
        if interrupted { ", resuming an interrupted run" } else { "" }
    );
    Ok(approved)
}

/// Checks that `plan` was applied, and says what the rollback will do. Returns how many
/// changes it works on.
fn ready_to_roll_back(plan: &Plan, options: &RunOptions) -> anyhow::Result<usize> {
    if matches!(plan.status, PlanStatus::Draft | PlanStatus::Reviewing | PlanStatus::Cancelled | PlanStatus::Superseded)
    {
        bail!(
            "plan {} was never applied (it is {}); there is nothing to roll back",
            plan.id,
            words::status(plan.status.as_str())
        );
    }
    let applied = count(plan, ChangeStatus::Applied);
    log::info!(
        "{} plan {} \"{}\": {} to revert",
        if options.dry_run { "Dry run of rolling back" } else { "Rolling back" },
        plan.id,
        plan.name,
        words::count(applied as u64, "applied change")
    );
    Ok(applied)
}

/// How many of `plan`'s changes have `status`.
fn count(plan: &Plan, status: ChangeStatus) -> usize {
    plan.changes.get(status) as usize
}

/// Marks the plan's status after a real run: partially applied while a change failed or was
/// skipped (apply) or is still applied (rollback: a revert that failed leaves it applied, so
/// the plan stays applied until it is retried); else applied or rolled back.
fn finish(
    store: &Store,
    plan: &Plan,
    direction: Direction,
    created: Option<&CreatedOutcome>,
) -> anyhow::Result<PlanStatus> {
    match direction {
        Direction::Apply => {
            let after = store.plan(plan.id)?.context("the plan disappeared while it was applied")?;
            let left = count(&after, ChangeStatus::Failed) + count(&after, ChangeStatus::SkippedConflict);
            let status = if left > 0 { PlanStatus::PartiallyApplied } else { PlanStatus::Applied };
            store.finish_apply(plan.id, status)?;
            Ok(status)
        }
        Direction::Rollback => {
            let filter = ChangeFilter { statuses: vec![ChangeStatus::Applied], ..ChangeFilter::default() };
            let (left, _) = store.changes(plan.id, &filter, 0, 0)?;
            let kept = created.map_or(0, |c| c.kept.len());
            let status = if left as usize > kept { PlanStatus::PartiallyApplied } else { PlanStatus::RolledBack };
            store.set_plan_status(plan.id, status)?;
            Ok(status)
        }
    }
}

fn log_created(created: &CreatedOutcome, delete_created: bool) {
    if !created.deleted.is_empty() {
        log::info!("Deleted what the plan created and nothing uses any more: {:?}", created.deleted);
    }
    if !created.kept.is_empty() {
        let hint = if delete_created { "" } else { " (delete_created=true deletes those nothing uses)" };
        log::info!("Kept what the plan created{hint}: {:?}", created.kept);
    }
}

/// Takes `plan`'s lock for an apply or rollback (see [`Store::lock_plan`]), and reads the plan
/// again under it: the run that held it may have just changed it.
fn lock_plan(store: &Store, plan: Plan) -> anyhow::Result<(PlanLock, Plan)> {
    let Some(lock) = store.lock_plan(plan.id)? else {
        let doing = if plan.status == PlanStatus::RollingBack { "rolled back" } else { "applied" };
        bail!("plan {} is being {doing} by another run; wait for it to finish", plan.id);
    };
    let plan = store.plan(plan.id)?.ok_or_else(|| anyhow!("plan {} was deleted meanwhile", plan.id))?;
    Ok((lock, plan))
}

/// Copies what a run wrote into the mirror, since our paused hooks did not (`copied`: see
/// [`sync::catch_up`]). A failure here is only a warning: Stash has the changes, and the next
/// sync copies them.
fn catch_up_mirror(cx: &Context, copied: Option<&str>) {
    if let Err(e) = sync::catch_up(&cx.mirror(), copied) {
        log::warn!("The mirror could not catch up with what was written ({e:#}); the next sync will");
    }
}

/// The run's JSON summary (also logged, without the long lists): counts, requests by
/// operation, and the conflicts and failures with the scene's title and names beside values.
fn summary(
    store: &Store,
    plan: &Plan,
    status: PlanStatus,
    options: &RunOptions,
    mut report: Report,
    started: Instant,
) -> anyhow::Result<Outcome> {
    let (done, mode) = match options.direction {
        Direction::Apply => ("applied", "apply_plan"),
        Direction::Rollback => ("reverted", "rollback_plan"),
    };
    let dry_run = options.dry_run;
    let failed = report.failed;
    let mutations: usize = report.requests.values().sum();
    name_listed(store, &mut report.conflicts, &["value", "before", "stash_now"])?;
    name_listed(store, &mut report.failures, &["value"])?;
    let mut output = serde_json::to_value(&report)?;
    if let Some(map) = output.as_object_mut() {
        let n = map.remove("done").unwrap_or_default();
        map.insert(done.into(), n);
        map.insert("plan_id".into(), plan.id.into());
        map.insert("plan_name".into(), plan.name.clone().into());
        map.insert("plan_status".into(), status.as_str().into());
        map.insert("revision".into(), plan.revision.into());
        map.insert("dry_run".into(), dry_run.into());
        map.insert("mutations".into(), mutations.into());
        map.insert("duration_ms".into(), (started.elapsed().as_millis() as u64).into());
    }
    log::info!(
        "{}Plan {} is {}: {} {done}, {} already in place, {}, {failed} failed; {} to {} in {:.1} s",
        if dry_run { "Dry run, nothing changed. " } else { "" },
        plan.id,
        words::status(status.as_str()),
        report.done,
        report.already_in_place,
        words::count(report.conflicted as u64, "conflict"),
        words::count(mutations as u64, "request"),
        words::count(report.scenes_touched as u64, "scene"),
        started.elapsed().as_secs_f64()
    );
    log::debug!("Requests by kind: {:?}", report.requests);
    if report.conflicted > 0 {
        log::info!(
            "Conflicts are fields you edited in Stash since the plan was made: StashHog left your edits alone (the StashHog page lists them)"
        );
    }
    let error = (failed > 0).then(|| {
        format!(
            "{} failed (the StashHog page, or show_plan with status=failed, lists them): run {mode} with plan_id={} again to retry them, or reject them",
            words::count(failed as u64, "change"),
            plan.id
        )
    });
    Ok(Outcome { output, error })
}

/// Adds the scene's `title` and a `<key>_name` beside each of `keys` to listed conflicts or
/// failures.
fn name_listed(store: &Store, listed: &mut [Value], keys: &[&str]) -> anyhow::Result<()> {
    let mut wanted = Wanted::default();
    for entry in listed.iter() {
        let Some(field) = entry["field"].as_str().and_then(Field::parse) else { continue };
        wanted.scenes.extend(entry["scene_id"].as_i64());
        for key in keys {
            wanted.add(field, &entry[*key]);
        }
    }
    let names = store.names_for(&wanted)?;
    for entry in listed.iter_mut() {
        let Some(field) = entry["field"].as_str().and_then(Field::parse) else { continue };
        if let Some(scene) = entry["scene_id"].as_i64() {
            entry["title"] = names.scene_title(scene).into();
        }
        for key in keys {
            entry[format!("{key}_name")] = names.value_name(field, &entry[*key]).into();
        }
    }
    Ok(())
}

/// `preview_apply`: exactly the requests `apply_plan` would send for the plan's approved
/// changes now (read from Stash as it is), by operation, without sending any; and the
/// plan's revision, to hand to `apply_plan` so it refuses if the approvals change meanwhile.
pub fn preview_apply(cx: &mut Context) -> anyhow::Result<Outcome> {
    preview(cx, Direction::Apply)
}

/// `preview_rollback`: the same for `rollback_plan` (with `delete_created`, what it would
/// delete and keep).
pub fn preview_rollback(cx: &mut Context) -> anyhow::Result<Outcome> {
    preview(cx, Direction::Rollback)
}

/// The run as a quiet dry run, for the page: nothing locked, sent or journaled.
fn preview(cx: &mut Context, direction: Direction) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let (plan, taken) = choose_plan(cx, direction)?;
    let options = RunOptions { dry_run: true, log_requests: false, ..options(&cx.session.args, direction)? };
    let total = count(&plan, direction.from_status());
    let mut engine = Engine::new(&cx.session.stash, &cx.store, plan.id, options, &cx.session.progress);
    engine.run(total).with_context(|| format!("previewing plan {}", plan.id))?;
    let created = match direction {
        Direction::Apply => None,
        Direction::Rollback => Some(engine.settle_created()?),
    };
    let mut report = engine.report;
    name_listed(&cx.store, &mut report.conflicts, &["value", "before", "stash_now"])?;
    name_listed(&cx.store, &mut report.failures, &["value"])?;
    let creates: usize = report.requests.iter().filter(|(op, _)| op.ends_with("Create")).map(|(_, n)| n).sum();
    let requests: Vec<Value> =
        report.requests.iter().map(|(operation, count)| json!({"operation": operation, "count": count})).collect();
    let mut output = json!({
        "plan_id": plan.id,
        "plan_taken": taken,
        "plan_status": plan.status,
        "revision": plan.revision,
        "requests": requests,
        "mutations": report.requests.values().sum::<usize>(),
        "scenes": report.scenes_touched,
        "changes": report.done,
        "creates": creates,
        "already_in_place": report.already_in_place,
        "conflicted": report.conflicted,
        "conflicts": report.conflicts,
        "failed": report.failed,
        "failures": report.failures,
        "would_send": report.would_send,
        "duration_ms": started.elapsed().as_millis() as u64,
    });
    if let Some(created) = created {
        output["kept"] = kept_list(&created.kept).into();
        output["deleted"] = deleted_list(&created.deleted).into();
    }
    log::info!(
        "Preview of {} plan {} (revision {}): {} change(s) in {} request(s) {:?} to {} scene(s); {} already in place, {} conflict(s), {} would fail; nothing was sent",
        if direction == Direction::Apply { "applying" } else { "rolling back" },
        plan.id,
        plan.revision,
        report.done,
        output["mutations"],
        report.requests,
        report.scenes_touched,
        report.already_in_place,
        report.conflicted,
        report.failed
    );
    Ok(Outcome { output, error: None })
}

/// What a rollback kept of what its plan created, as the page lists it: `{name, reason}`.
fn kept_list(kept: &[Value]) -> Vec<Value> {
    kept.iter()
        .map(|entry| {
            let reason = match (entry.get("error"), entry.get("uses")) {
                (Some(error), _) => error.as_str().unwrap_or_default().to_owned(),
                (None, Some(uses)) => format!("still used {uses} time(s) in Stash"),
                (None, None) => "kept: delete_created was not asked for".to_owned(),
            };
            json!({"entity": entry["entity"], "id": entry["id"], "name": entry["name"], "reason": reason})
        })
        .collect()
}

/// What a rollback deleted of what its plan created: names.
fn deleted_list(deleted: &[Value]) -> Vec<Value> {
    deleted.iter().map(|entry| entry["name"].clone()).collect()
}
