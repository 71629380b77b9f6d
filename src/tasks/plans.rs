//! The plan operations — `list_plans`, `show_plan`, `review_plan`, `export_plan`,
//! `import_plan`, `delete_plan` — for the command line (`stashhog show_plan --set plan_id=3`)
//! and the UI page (`runPluginOperation`). None of them writes to Stash; each returns JSON.

use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use super::{Context, Outcome};
use crate::plan_runner::Report;
use crate::plans::file::{self, ParsedPlan};
use crate::plans::{ChangeFilter, ChangeStatus, Field, Plan, PlanStatus};
use crate::protocol::args::{ArgSpec, Args, as_string};
use crate::store::{PlanLock, Store};
use crate::words;

/// `plan_id`, shared by every mode that works on one plan.
pub const PLAN_ID: ArgSpec = ArgSpec {
    name: "plan_id",
    takes: "a plan id",
    help: "the plan to work on; without it, the newest plan (apply: the newest with approved changes; rollback: the one applied last)",
};
/// `dry_run` of apply and rollback.
pub const DRY_RUN: ArgSpec =
    ArgSpec { name: "dry_run", takes: "true or false", help: "log the requests it would send and change nothing" };
/// `batch_size` of apply and rollback.
pub const BATCH_SIZE: ArgSpec =
    ArgSpec { name: "batch_size", takes: "1 to 1000", help: "scenes per request (default 500)" };
const STATUS: ArgSpec = ArgSpec {
    name: "status",
    takes: "statuses, comma separated",
    help: "only changes with these statuses (pending, approved, rejected, applied, …)",
};
const FIELD: ArgSpec =
    ArgSpec { name: "field", takes: "a field", help: "only changes of this field (tags, studio, …)" };
const MIN_CONFIDENCE: ArgSpec =
    ArgSpec { name: "min_confidence", takes: "0 to 1, or percent", help: "only changes at least this sure" };
const BELOW_CONFIDENCE: ArgSpec =
    ArgSpec { name: "below_confidence", takes: "0 to 1, or percent", help: "only changes less sure than this" };
const CHANGE_IDS: ArgSpec =
    ArgSpec { name: "change_ids", takes: "ids, e.g. 1,2,5 or 1-20", help: "only these changes" };

/// What `list_plans` takes.
pub const LIST_PLANS_ARGS: &[ArgSpec] =
    &[ArgSpec { name: "limit", takes: "a number", help: "how many plans, newest first (default 100)" }];
/// What `show_plan` takes.
pub const SHOW_PLAN_ARGS: &[ArgSpec] = &[
    PLAN_ID,
    STATUS,
    FIELD,
    MIN_CONFIDENCE,
    BELOW_CONFIDENCE,
    CHANGE_IDS,
    ArgSpec { name: "page", takes: "a number", help: "which page of changes (default 1)" },
    ArgSpec { name: "per_page", takes: "a number", help: "changes per page (default 100)" },
];
/// What `review_plan` takes.
pub const REVIEW_PLAN_ARGS: &[ArgSpec] = &[
    PLAN_ID,
    ArgSpec {
        name: "decision",
        takes: "approve, reject, pending or cancel",
        help: "what to do with the chosen changes (cancel: the whole plan)",
    },
    CHANGE_IDS,
    FIELD,
    STATUS,
    MIN_CONFIDENCE,
    BELOW_CONFIDENCE,
    ArgSpec { name: "all", takes: "true or false", help: "every change still up for review" },
];
/// What `export_plan` takes.
pub const EXPORT_PLAN_ARGS: &[ArgSpec] =
    &[PLAN_ID, ArgSpec { name: "file", takes: "a path", help: "write the plan file here (else it is the output)" }];
/// What `import_plan` takes.
pub const IMPORT_PLAN_ARGS: &[ArgSpec] = &[
    ArgSpec { name: "file", takes: "a path", help: "the plan file to import" },
    ArgSpec { name: "plan", takes: "a plan document", help: "the plan file's JSON itself, instead of file" },
];
/// What `delete_plan` takes.
pub const DELETE_PLAN_ARGS: &[ArgSpec] = &[
    PLAN_ID,
    ArgSpec { name: "force", takes: "true or false", help: "delete even while a run applies or rolls it back" },
];

/// Changes `show_plan` returns per page unless `per_page` says otherwise.
const PER_PAGE: usize = 100;

/// `list_plans`: every plan, newest first, with its change counts.
pub fn list_plans(cx: &mut Context) -> anyhow::Result<Outcome> {
    let limit = cx.session.args.integer("limit")?.unwrap_or(100).clamp(1, 10_000) as usize;
    let plans = cx.store.plans(limit)?;
    for plan in &plans {
        log::info!(
            "Plan {} \"{}\" ({}, made {}): {}",
            plan.id,
            plan.name,
            words::status(plan.status.as_str()),
            plan.created_at,
            words::tally(&plan.changes, "change")
        );
    }
    Ok(Outcome { output: json!({ "plans": plans }), error: None })
}

/// `show_plan`: one plan, a per-field summary, and a page of its changes (filter by `status`,
/// `field`, `min_confidence`; page with `page` and `per_page`).
pub fn show_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (plan, taken) = plan_arg(&cx.store, args, "the newest plan", || newest(&cx.store), NO_PLANS)?;
    let filter = change_filter(args)?;
    let per_page = args.integer("per_page")?.unwrap_or(PER_PAGE as i64).clamp(1, 10_000) as usize;
    let page = args.integer("page")?.unwrap_or(1).max(1) as usize;
    let (total, changes) = cx.store.changes(plan.id, &filter, per_page, (page - 1) * per_page)?;
    let summary = cx.store.field_summary(plan.id)?;
    log::info!(
        "Plan {} \"{}\" ({}): {}; showing {} of {}",
        plan.id,
        plan.name,
        words::status(plan.status.as_str()),
        words::tally(&plan.changes, "change"),
        changes.len(),
        words::count(total as u64, "matching change")
    );
    let output = json!({
        "plan": plan,
        "plan_taken": taken,
        "fields": summary,
        "matching": total,
        "page": page,
        "per_page": per_page,
        "changes": changes,
    });
    Ok(Outcome { output, error: None })
}

/// `review_plan`: sets `decision` (approve, reject, pending) on the changes chosen by
/// `change_ids`, `field`, `min_confidence` / `below_confidence` (combined), or `all`; or
/// `decision=cancel` cancels the whole plan.
pub fn review_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (plan, taken) = plan_arg(&cx.store, args, "the newest plan", || newest(&cx.store), NO_PLANS)?;
    let decision = args.string("decision")?.unwrap_or_default().trim().to_ascii_lowercase();
    if matches!(plan.status, PlanStatus::Applying | PlanStatus::RollingBack | PlanStatus::RolledBack) {
        bail!("plan {} is {}; it can no longer be reviewed", plan.id, words::status(plan.status.as_str()));
    }
    if decision == "cancel" {
        if plan.changes.contains_key(ChangeStatus::Applied.as_str()) {
            bail!("plan {} has applied changes; roll it back with rollback_plan instead of cancelling", plan.id);
        }
        cx.store.set_plan_status(plan.id, PlanStatus::Cancelled)?;
        log::info!("Plan {} cancelled", plan.id);
        return Ok(Outcome {
            output: json!({"plan_id": plan.id, "plan_taken": taken, "plan_status": PlanStatus::Cancelled}),
            error: None,
        });
    }
    let to = match decision.as_str() {
        "approve" | "approved" => ChangeStatus::Approved,
        "reject" | "rejected" => ChangeStatus::Rejected,
        "pending" | "reset" => ChangeStatus::Pending,
        other => bail!("`decision` must be approve, reject, pending or cancel, got {other:?}"),
    };
    let mut filter = change_filter(args)?;
    let everything = args.bool("all")?.unwrap_or(false);
    if !everything
        && filter.ids.is_none()
        && filter.field.is_none()
        && filter.min_confidence.is_none()
        && filter.below_confidence.is_none()
    {
        bail!("say which changes: change_ids, field, min_confidence, below_confidence, or all=true");
    }
    // Only what is still up for review; applied (and later) changes keep their history.
    let reviewable = [ChangeStatus::Pending, ChangeStatus::Approved, ChangeStatus::Rejected, ChangeStatus::Failed];
    filter.statuses = if filter.statuses.is_empty() {
        reviewable.to_vec()
    } else {
        filter.statuses.into_iter().filter(|s| reviewable.contains(s)).collect()
    };
    if filter.statuses.is_empty() {
        bail!("only pending, approved, rejected or failed changes can be reviewed");
    }
    let changed = cx.store.review_changes(plan.id, &filter, to)?;
    let status = if plan.status == PlanStatus::Draft || plan.status == PlanStatus::Cancelled {
        PlanStatus::Reviewing
    } else {
        plan.status
    };
    cx.store.set_plan_status(plan.id, status)?;
    let after = cx.store.plan(plan.id)?.context("the plan disappeared")?;
    log::info!(
        "Plan {}: {} now {}; the plan has {}",
        plan.id,
        words::count(changed as u64, "change"),
        to.as_str(),
        words::tally(&after.changes, "change")
    );
    Ok(Outcome {
        output: json!({"plan_id": plan.id, "plan_taken": taken, "changed": changed, "decision": to, "plan": after}),
        error: None,
    })
}

/// `export_plan`: the plan as a plan file, written to `file` or returned as `output.plan`.
pub fn export_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (plan, taken) = plan_arg(&cx.store, args, "the newest plan", || newest(&cx.store), NO_PLANS)?;
    let (_, changes) = cx.store.changes(plan.id, &ChangeFilter::default(), usize::MAX, 0)?;
    let document = file::export(&plan, &changes);
    match args.string("file")? {
        Some(path) => {
            let text = serde_json::to_string_pretty(&document)?;
            std::fs::write(&path, text + "\n").with_context(|| format!("writing the plan file {path}"))?;
            log::info!("Plan {} exported to {path} ({})", plan.id, words::count(changes.len() as u64, "change"));
            Ok(Outcome {
                output: json!({"plan_id": plan.id, "plan_taken": taken, "file": path, "changes": changes.len()}),
                error: None,
            })
        }
        None => Ok(Outcome { output: json!({"plan_id": plan.id, "plan_taken": taken, "plan": document}), error: None }),
    }
}

/// `import_plan`: stores a plan file (`file`: a path; or `plan`: the document itself) as a new
/// draft plan, after checking it strictly and checking that every scene exists in Stash.
pub fn import_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (text, from) = match (args.string("file")?, args.get("plan")) {
        (Some(path), _) => {
            (std::fs::read_to_string(&path).with_context(|| format!("reading the plan file {path}"))?, path)
        }
        (None, Some(Value::String(text))) => (text.clone(), "the `plan` argument".to_owned()),
        (None, Some(document)) => (document.to_string(), "the `plan` argument".to_owned()),
        (None, None) => bail!("say what to import: file=<path of a plan file> (or plan=<the JSON document>)"),
    };
    let parsed = file::parse(&text).with_context(|| format!("importing {from}; nothing was stored"))?;
    check_scenes_exist(cx, &parsed).with_context(|| format!("importing {from}; nothing was stored"))?;
    let plan_id = cx.store.create_plan(&parsed.name, &parsed.source, &parsed.changes)?;
    let plan = cx.store.plan(plan_id)?.context("the new plan disappeared")?;
    log::info!("Imported plan {plan_id} \"{}\" from {from}: {}", plan.name, words::tally(&plan.changes, "change"));
    Ok(Outcome { output: json!({"plan_id": plan_id, "plan": plan}), error: None })
}

fn check_scenes_exist(cx: &Context, parsed: &ParsedPlan) -> anyhow::Result<()> {
    let wanted = parsed.scene_ids();
    let found: std::collections::HashSet<i64> = cx
        .session
        .stash
        .scenes_now(&wanted)
        .context("checking the plan's scenes in Stash")?
        .iter()
        .map(|s| s.id)
        .collect();
    let missing = parsed.changes.iter().enumerate().find(|(_, c)| c.entity_id.is_some_and(|id| !found.contains(&id)));
    match missing {
        Some((index, change)) => {
            Err(anyhow!("changes[{index}]: scene {} does not exist in Stash", change.entity_id.unwrap_or_default()))
        }
        None => Ok(()),
    }
}

/// `delete_plan`: forgets a plan, its changes and its journal (Stash is not touched).
pub fn delete_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (plan, taken) = plan_arg(&cx.store, args, "the newest plan", || newest(&cx.store), NO_PLANS)?;
    if matches!(plan.status, PlanStatus::Applying | PlanStatus::RollingBack) && !args.bool("force")?.unwrap_or(false) {
        bail!(
            "plan {} is {}: finish that run first (run it again to resume), or pass force=true",
            plan.id,
            words::status(plan.status.as_str())
        );
    }
    cx.store.delete_plan(plan.id)?;
    log::info!("Plan {} \"{}\" deleted", plan.id, plan.name);
    Ok(Outcome { output: json!({"deleted": plan.id, "plan_taken": taken}), error: None })
}

/// The plan named by `plan_id`, else the one `default` picks — `which` says which in words
/// ("the newest plan"), logged and returned for the output so the user knows what was taken;
/// `none` says what to do when there is none.
pub fn plan_arg(
    store: &Store,
    args: &Args,
    which: &'static str,
    default: impl FnOnce() -> Result<Option<i64>, crate::store::StoreError>,
    none: &str,
) -> anyhow::Result<(Plan, &'static str)> {
    if let Some(id) = args.integer("plan_id")? {
        let plan = store.plan(id)?.ok_or_else(|| anyhow!("there is no plan {id}; list_plans shows the plans"))?;
        return Ok((plan, "plan_id"));
    }
    let id = default()?.ok_or_else(|| anyhow!("{none}"))?;
    let plan = store.plan(id)?.ok_or_else(|| anyhow!("plan {id} was deleted meanwhile"))?;
    log::info!("No plan_id given: taking plan {} \"{}\", {which}", plan.id, plan.name);
    Ok((plan, which))
}

/// The newest plan, the default of the operations on one plan.
fn newest(store: &Store) -> Result<Option<i64>, crate::store::StoreError> {
    Ok(store.plans(1)?.first().map(|p| p.id))
}

/// Said when there is no plan at all.
const NO_PLANS: &str =
    "there are no plans yet: run \"Analyze scenes\" or \"Sync Scene Tags from StashDB\", or import one";

/// Takes `plan`'s lock for an apply or rollback (see [`Store::lock_plan`]), and reads the plan
/// again under it: the run that held it may have just changed it.
pub fn lock_plan(store: &Store, plan: Plan) -> anyhow::Result<(PlanLock, Plan)> {
    let Some(lock) = store.lock_plan(plan.id)? else {
        let doing = if plan.status == PlanStatus::RollingBack { "rolled back" } else { "applied" };
        bail!("plan {} is being {doing} by another run; wait for it to finish", plan.id);
    };
    let plan = store.plan(plan.id)?.ok_or_else(|| anyhow!("plan {} was deleted meanwhile", plan.id))?;
    Ok((lock, plan))
}

/// `batch_size`: scenes per request (1–1000, default 500).
pub fn batch_size(args: &Args) -> anyhow::Result<usize> {
    Ok(args.integer("batch_size")?.unwrap_or(500).clamp(1, 1000) as usize)
}

/// The run's JSON summary (also logged, without the long lists).
pub fn engine_summary(
    plan: &Plan,
    status: PlanStatus,
    dry_run: bool,
    done: &str,
    report: Report,
    started: Instant,
) -> anyhow::Result<Outcome> {
    let failed = report.failed;
    let mutations: usize = report.requests.values().sum();
    let mut output = serde_json::to_value(&report)?;
    if let Some(map) = output.as_object_mut() {
        let n = map.remove("done").unwrap_or_default();
        map.insert(done.into(), n);
        map.insert("plan_id".into(), plan.id.into());
        map.insert("plan_name".into(), plan.name.clone().into());
        map.insert("plan_status".into(), status.as_str().into());
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
        words::count(report.conflicts as u64, "conflict"),
        words::count(mutations as u64, "request"),
        words::count(report.scenes_touched as u64, "scene"),
        started.elapsed().as_secs_f64()
    );
    log::debug!("Requests by kind: {:?}", report.requests);
    if report.conflicts > 0 {
        log::info!(
            "Conflicts are fields you edited in Stash since the plan was made: StashHog left your edits alone (the StashHog page lists them)"
        );
    }
    let error = (failed > 0).then(|| {
        format!(
            "{} failed; the StashHog page (or show_plan with status=failed) lists them: approve them again to retry",
            words::count(failed as u64, "change")
        )
    });
    Ok(Outcome { output, error })
}

/// `status`, `field`, `min_confidence`, `below_confidence`, `change_ids` as a filter.
fn change_filter(args: &Args) -> anyhow::Result<ChangeFilter> {
    let statuses = match args.string("status")? {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                ChangeStatus::parse(s).ok_or_else(|| anyhow!("`status` {s:?} is not one of {}", ChangeStatus::names()))
            })
            .collect::<Result<_, _>>()?,
    };
    let field = args
        .string("field")?
        .map(|f| Field::parse(f.trim()).ok_or_else(|| anyhow!("`field` {f:?} is not one of {}", Field::names())))
        .transpose()?;
    Ok(ChangeFilter {
        ids: args.ids("change_ids")?,
        statuses,
        field,
        min_confidence: confidence(args, "min_confidence")?,
        below_confidence: confidence(args, "below_confidence")?,
    })
}

/// A confidence as a fraction; above 1 it is read as percent, as the settings take it (`90`).
fn confidence(args: &Args, key: &str) -> anyhow::Result<Option<f64>> {
    Ok(number(args, key)?.map(|n| if n > 1.0 { n / 100.0 } else { n }))
}

/// A number argument (JSON number or text).
fn number(args: &Args, key: &str) -> anyhow::Result<Option<f64>> {
    args.get(key)
        .map(|v| {
            v.as_f64()
                .or_else(|| as_string(v).and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| anyhow!("`{key}` must be a number, got {v}"))
        })
        .transpose()
}
