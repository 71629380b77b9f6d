//! The plan operations — `list_plans`, `show_plan`, `review_plan`, `export_plan`,
//! `import_plan`, `delete_plan`, `run_summary`, `list_rejections`, `remove_rejection` — for the
//! command line (`stashhog show_plan --set plan_id=3`) and the UI page (`runPluginOperation`).
//! None of them writes to Stash; each returns JSON. (The plans model is `crate::plans`, its rows
//! `store::plan_rows`; running a plan against Stash is `plan_run`.)

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use super::{Context, Outcome};
use crate::plans::file::{self, ParsedPlan};
use crate::plans::view::{Names, SceneLabel, Wanted};
use crate::plans::{Action, ChangeFilter, ChangeStatus, Field, Plan, PlanStatus, value_key};
use crate::protocol::args::{ArgSpec, Args, as_string};
use crate::stash::ObjectKind;
use crate::store::Store;
use crate::words;

/// `plan_id`, shared by every mode that works on one plan.
pub const PLAN_ID: ArgSpec = ArgSpec {
    name: "plan_id",
    takes: "a plan id",
    help: "the plan to work on; without it, the newest plan (apply: the newest with approved changes; rollback: the one applied last)",
};
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
const MAX_CONFIDENCE: ArgSpec =
    ArgSpec { name: "max_confidence", takes: "0 to 1, or percent", help: "only changes at most this sure" };
const CHANGE_IDS: ArgSpec =
    ArgSpec { name: "change_ids", takes: "ids, e.g. 1,2,5 or 1-20", help: "only these changes" };
const SCENE_IDS: ArgSpec =
    ArgSpec { name: "scene_ids", takes: "ids, e.g. 1,2,5 or 1-20", help: "only changes to these scenes" };
const ACTION: ArgSpec =
    ArgSpec { name: "action", takes: "add, remove, set or create", help: "only changes of this action" };
const VALUE: ArgSpec = ArgSpec {
    name: "value",
    takes: "an id or a name",
    help: "only changes proposing this value (a tag, performer or studio id or name, or a text)",
};
const TEXT: ArgSpec =
    ArgSpec { name: "text", takes: "text", help: "only changes to scenes whose title or path contains this" };
/// What `list_plans` takes.
pub const LIST_PLANS_ARGS: &[ArgSpec] =
    &[ArgSpec { name: "limit", takes: "a number", help: "how many plans, newest first (default 100)" }];
/// The filters `show_plan` and `review_plan` share, read by [`change_filter`].
pub const CHANGE_FILTER_ARGS: &[ArgSpec] =
    &[STATUS, FIELD, ACTION, VALUE, MIN_CONFIDENCE, MAX_CONFIDENCE, BELOW_CONFIDENCE, CHANGE_IDS, SCENE_IDS, TEXT];
/// What `show_plan` takes besides `plan_id` and the filters.
pub const SHOW_PLAN_ARGS: &[ArgSpec] = &[
    ArgSpec { name: "view", takes: "changes or scenes", help: "a list of changes, or one card per scene" },
    ArgSpec { name: "page", takes: "a number", help: "which page of changes or scenes (default 1)" },
    ArgSpec { name: "per_page", takes: "a number", help: "changes (or scenes) per page (default 100)" },
];
/// What `review_plan` takes besides `plan_id` and the filters.
pub const REVIEW_PLAN_ARGS: &[ArgSpec] = &[
    ArgSpec {
        name: "decision",
        takes: "approve, reject, pending or cancel",
        help: "what to do with the chosen changes (cancel: the whole plan)",
    },
    ArgSpec { name: "all", takes: "true or false", help: "every change still up for review" },
    ArgSpec {
        name: "remember",
        takes: "scene or everywhere",
        help: "with decision=reject: never propose this value again for the scene (default) or for any scene",
    },
];
/// What `run_summary` takes.
pub const RUN_SUMMARY_ARGS: &[ArgSpec] = &[
    ArgSpec { name: "request_id", takes: "text", help: "the id the page started the task with" },
    ArgSpec { name: "run_id", takes: "a run id", help: "a run's id (sync_status lists recent runs)" },
];
/// What `list_rejections` takes.
pub const LIST_REJECTIONS_ARGS: &[ArgSpec] = &[];
/// What `remove_rejection` takes.
pub const REMOVE_REJECTION_ARGS: &[ArgSpec] =
    &[ArgSpec { name: "id", takes: "a rejection id", help: "the rejection to forget (list_rejections lists them)" }];
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
            plan.changes
        );
    }
    Ok(Outcome { output: json!({ "plans": plans }), error: None })
}

/// Values the by-value summary of `show_plan` lists at most.
const VALUES_SHOWN: usize = 200;

/// `show_plan`: one plan, its summary by field and action and by value, and a page of the
/// changes matching the filters — as a list (`view=changes`) or one card per scene
/// (`view=scenes`, `per_page` scenes) — with names beside every id.
pub fn show_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (plan, taken) = plan_arg(&cx.store, args, "the newest plan", || newest(&cx.store), NO_PLANS)?;
    let filter = change_filter(args)?;
    let by_scene = match args.string("view")?.as_deref() {
        None | Some("changes") => false,
        Some("scenes") => true,
        Some(other) => bail!("`view` must be changes or scenes, got {other:?}"),
    };
    let per_page = args.integer("per_page")?.unwrap_or(PER_PAGE as i64).clamp(1, 10_000) as usize;
    let page = args.integer("page")?.unwrap_or(1).max(1) as usize;
    let offset = (page - 1).saturating_mul(per_page);
    let fields = cx.store.field_summary(plan.id)?;
    let others = ChangeFilter { values: None, value_name: None, ..filter.clone() };
    let mut values = cx.store.value_summary(plan.id, &others, VALUES_SHOWN)?;
    let mut output = json!({"plan": plan, "fields": fields, "page": page, "per_page": per_page});
    let (matching, shown) = if by_scene {
        let (total, scenes) = cx.store.scene_page(plan.id, &filter, per_page, offset)?;
        let names = names_of(cx, scenes.iter().flat_map(|(_, changes)| changes), &values)?;
        let cards: Vec<Value> = scenes
            .iter()
            .map(|(scene, changes)| {
                json!({
                    "scene_id": scene,
                    "title": names.scene_title(*scene),
                    "path": names.scenes.get(scene).and_then(|s| s.path.clone()),
                    "changes": changes.iter().map(|c| names.change(c)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let shown = cards.len();
        output["scenes"] = cards.into();
        fill_value_names(&names, &mut values);
        (total, shown)
    } else {
        let (total, changes) = cx.store.changes(plan.id, &filter, per_page, offset)?;
        let names = names_of(cx, &changes, &values)?;
        let views: Vec<Value> = changes
            .iter()
            .map(|c| {
                let mut view = names.change(c);
                if let Some(id) = c.entity_id.filter(|_| c.entity.is_media()) {
                    view["title"] = names.title(c.entity, id).into();
                    view["path"] = names.label(c.entity, id).and_then(|s| s.path.clone()).into();
                }
                view
            })
            .collect();
        output["changes"] = views.into();
        fill_value_names(&names, &mut values);
        (total, changes.len())
    };
    output["matching"] = matching.into();
    output["values"] = serde_json::to_value(&values)?;
    log::info!(
        "Plan {} \"{}\" ({}, revision {}): {}; showing {shown} of {}",
        plan.id,
        plan.name,
        words::status(plan.status.as_str()),
        plan.revision,
        plan.changes,
        words::count(matching as u64, if by_scene { "matching scene" } else { "matching change" })
    );
    for value in values.iter().take(10) {
        log::debug!(
            "  {} {} {}: {} {:?}",
            value.action.to_ascii_uppercase(),
            value.field,
            value.value_name.as_deref().unwrap_or("(empty)"),
            words::count(value.scenes as u64, "scene"),
            value.counts
        );
    }
    output["plan_taken"] = taken.into();
    Ok(Outcome { output, error: None })
}

/// The names the shown changes and the by-value summary need.
fn names_of<'a>(
    cx: &Context,
    changes: impl IntoIterator<Item = &'a crate::plans::Change>,
    values: &[crate::store::ValueSummary],
) -> anyhow::Result<Names> {
    let mut wanted = Wanted::of(changes);
    for value in values {
        wanted.add(value.parsed_field, &value.value);
    }
    let mut names = cx.store.names_for(&wanted)?;
    // Scenes the mirror does not have yet (a plan imported before any sync) are asked of
    // Stash, so a card never shows a bare id; if Stash cannot answer, the id it is.
    let missing: Vec<i64> = wanted.scenes.iter().copied().filter(|id| !names.scenes.contains_key(id)).collect();
    if !missing.is_empty() {
        match cx.session.stash.scenes_now(&missing) {
            Ok(scenes) => {
                for scene in scenes {
                    let path = scene.files.first().map(|f| f.path.clone());
                    names.scenes.insert(scene.id, SceneLabel::new(scene.title.clone(), path));
                }
            }
            Err(e) => log::warn!("Could not read the titles of {} scene(s) from Stash: {e}", missing.len()),
        }
    }
    Ok(names)
}

fn fill_value_names(names: &Names, values: &mut [crate::store::ValueSummary]) {
    for value in values {
        value.value_name = names.value_name(value.parsed_field, &value.value);
    }
}

/// `review_plan`: sets `decision` (approve, reject, pending) on the changes the filters choose
/// (`change_ids` and `scene_ids` with ranges, `field`, `action`, `value`, `status`,
/// `min_confidence` / `max_confidence` / `below_confidence`, `text`; combined), or `all`; or
/// `decision=cancel` cancels the whole plan. A rejection is remembered for the scene, and with
/// `remember=everywhere` for every scene, so later tag syncs and analyses do not propose it.
pub fn review_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (plan, taken) = plan_arg(&cx.store, args, "the newest plan", || newest(&cx.store), NO_PLANS)?;
    let decision = args.string("decision")?.unwrap_or_default().trim().to_ascii_lowercase();
    if matches!(
        plan.status,
        PlanStatus::Applying | PlanStatus::RollingBack | PlanStatus::RolledBack | PlanStatus::Superseded
    ) {
        bail!("plan {} is {}; it can no longer be reviewed", plan.id, words::status(plan.status.as_str()));
    }
    if decision == "cancel" {
        if plan.changes.get(ChangeStatus::Applied) > 0 {
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
    let everywhere = match args.string("remember")?.as_deref() {
        None | Some("scene") => false,
        Some("everywhere") if to == ChangeStatus::Rejected => true,
        Some("everywhere") => bail!("`remember=everywhere` goes with decision=reject"),
        Some(other) => bail!("`remember` must be scene or everywhere, got {other:?}"),
    };
    let mut filter = change_filter(args)?;
    let everything = args.bool("all")?.unwrap_or(false);
    if !everything && !filter.narrows() && filter.statuses.is_empty() {
        bail!(
            "say which changes: change_ids, scene_ids, field, action, value, min_confidence, max_confidence, text, or all=true"
        );
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
    let reviewed = cx.store.review_changes(plan.id, &filter, to)?;
    let remembered = if to == ChangeStatus::Rejected {
        let names = cx.store.names_for(&Wanted::of(&reviewed.rejections))?;
        cx.store.remember_rejections(&reviewed.rejections, everywhere, &names)?
    } else {
        cx.store.forget_rejections(&reviewed.rejections)?;
        0
    };
    let status = if plan.status == PlanStatus::Draft || plan.status == PlanStatus::Cancelled {
        PlanStatus::Reviewing
    } else {
        plan.status
    };
    cx.store.set_plan_status(plan.id, status)?;
    let after = cx.store.plan(plan.id)?.context("the plan disappeared")?;
    log::info!(
        "Plan {}: {} now {}{}; revision {}; the plan has {}",
        plan.id,
        words::count(reviewed.changed as u64, "change"),
        to.as_str(),
        if remembered > 0 {
            format!(" ({} remembered)", words::count(remembered as u64, "rejection"))
        } else {
            String::new()
        },
        after.revision,
        after.changes
    );
    let output = json!({"plan_id": plan.id, "plan_taken": taken, "changed": reviewed.changed, "decision": to,
                        "remembered": remembered, "plan": after});
    Ok(Outcome { output, error: None })
}

/// `export_plan`: the plan as a plan file, written to `file`, or returned as `output.plan` and
/// as text (`output.file`, with a `file_name` to save it under).
pub fn export_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (plan, taken) = plan_arg(&cx.store, args, "the newest plan", || newest(&cx.store), NO_PLANS)?;
    let (_, changes) = cx.store.changes(plan.id, &ChangeFilter::default(), usize::MAX, 0)?;
    let document = file::export(&plan, &changes)?;
    match args.string("file")? {
        Some(path) => {
            let text = serde_json::to_string_pretty(&document)?;
            crate::store::files::write(Path::new(&path), (text + "\n").as_bytes())
                .with_context(|| format!("writing the plan file {path}"))?;
            log::info!("Plan {} exported to {path} ({})", plan.id, words::count(changes.len() as u64, "change"));
            Ok(Outcome {
                output: json!({"plan_id": plan.id, "plan_taken": taken, "file": path, "changes": changes.len()}),
                error: None,
            })
        }
        None => {
            // The page offers the text as a download, under this name.
            let text = serde_json::to_string_pretty(&document)? + "\n";
            let file_name = format!("stashhog-plan-{}.json", plan.id);
            let output = json!({"plan_id": plan.id, "plan_taken": taken, "plan": document, "file": text,
                                "file_name": file_name});
            Ok(Outcome { output, error: None })
        }
    }
}

/// `import_plan`: stores a plan file (`file`: a path, or the file's text; or `plan`: the
/// document itself) as a new
/// draft plan, after checking it strictly and checking that every scene exists in Stash.
pub fn import_plan(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let (text, from) = match (args.string("file")?, args.get("plan")) {
        // The page uploads the file's text; a path never starts with `{`.
        (Some(text), _) if text.trim_start().starts_with('{') => (text, "the uploaded file".to_owned()),
        (Some(path), _) => {
            (std::fs::read_to_string(&path).with_context(|| format!("reading the plan file {path}"))?, path)
        }
        (None, Some(Value::String(text))) => (text.clone(), "the `plan` argument".to_owned()),
        (None, Some(document)) => (document.to_string(), "the `plan` argument".to_owned()),
        (None, None) => bail!("say what to import: file=<path of a plan file> (or plan=<the JSON document>)"),
    };
    let parsed = file::parse(&text).with_context(|| format!("importing {from}; nothing was stored"))?;
    check_scenes_exist(cx, &parsed).with_context(|| format!("importing {from}; nothing was stored"))?;
    check_references_exist(cx, &parsed).with_context(|| format!("importing {from}; nothing was stored"))?;
    let plan_id = cx.store.create_plan(&parsed.name, "import_plan", &parsed.source, &parsed.changes)?;
    let plan = cx.store.plan(plan_id)?.context("the new plan disappeared")?;
    log::info!("Imported plan {plan_id} \"{}\" from {from}: {}", plan.name, plan.changes);
    Ok(Outcome { output: json!({"plan_id": plan_id, "plan": plan}), error: None })
}

/// Every tag, performer and studio a change adds or sets must exist in Stash now: found at
/// import, not as a failed request at apply.
fn check_references_exist(cx: &Context, parsed: &ParsedPlan) -> anyhow::Result<()> {
    let referred = |change: &crate::plans::NewChange| match (change.field.refers_to(), change.value.as_i64()) {
        (Some(entity), Some(id)) if change.action != crate::plans::Action::Create => Some((entity, id)),
        _ => None,
    };
    let mut found = std::collections::HashSet::new();
    for entity in [ObjectKind::Tag, ObjectKind::Performer, ObjectKind::Studio, ObjectKind::Gallery] {
        let ids: Vec<i64> = parsed.changes.iter().filter_map(referred).filter(|r| r.0 == entity).map(|r| r.1).collect();
        if ids.is_empty() {
            continue;
        }
        if entity == ObjectKind::Gallery {
            found.extend(objects_in_stash(cx, entity, &ids)?.into_iter().map(|id| (entity, id)));
            continue;
        }
        let query = crate::stash::EntityQuery { ids: Some(ids), updated_after: None };
        let filter = crate::stash::FindFilter::sorted(crate::stash::SortKey::Id);
        let stash = &cx.session.stash;
        let pages: Result<Vec<Vec<i64>>, _> = match entity {
            ObjectKind::Tag => {
                stash.tags(&query, filter).map(|p| p.map(|p| p.items.iter().map(|o| o.id).collect())).collect()
            }
            ObjectKind::Performer => {
                stash.performers(&query, filter).map(|p| p.map(|p| p.items.iter().map(|o| o.id).collect())).collect()
            }
            _ => stash.studios(&query, filter).map(|p| p.map(|p| p.items.iter().map(|o| o.id).collect())).collect(),
        };
        let pages = pages.with_context(|| format!("checking the plan's {}s in Stash", entity.as_str()))?;
        found.extend(pages.into_iter().flatten().map(|id| (entity, id)));
    }
    let missing = parsed.changes.iter().enumerate().find_map(|(index, change)| {
        referred(change).filter(|r| !found.contains(r)).map(|(entity, id)| (index, entity, id))
    });
    match missing {
        Some((index, entity, id)) => Err(anyhow!(
            "changes[{index}]: {} {id} does not exist in Stash; fix the id, or CREATE it in the plan and refer to that",
            entity.as_str()
        )),
        None => Ok(()),
    }
}

/// Every scene, image and gallery the changes are about must exist in Stash now.
fn check_scenes_exist(cx: &Context, parsed: &ParsedPlan) -> anyhow::Result<()> {
    let mut found = std::collections::HashSet::new();
    for kind in [ObjectKind::Scene, ObjectKind::Image, ObjectKind::Gallery] {
        let mut wanted: Vec<i64> =
            parsed.changes.iter().filter(|c| c.entity == kind).filter_map(|c| c.entity_id).collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            continue;
        }
        found.extend(objects_in_stash(cx, kind, &wanted)?.into_iter().map(|id| (kind, id)));
    }
    let missing =
        parsed.changes.iter().enumerate().find(|(_, c)| c.entity_id.is_some_and(|id| !found.contains(&(c.entity, id))));
    match missing {
        Some((index, change)) => Err(anyhow!(
            "changes[{index}]: {} {} does not exist in Stash",
            change.entity.as_str(),
            change.entity_id.unwrap_or_default()
        )),
        None => Ok(()),
    }
}

/// Which of these scenes, images or galleries Stash has.
fn objects_in_stash(cx: &Context, kind: ObjectKind, ids: &[i64]) -> anyhow::Result<Vec<i64>> {
    let stash = &cx.session.stash;
    let context = || format!("checking the plan's {} in Stash", kind.plural());
    Ok(match kind {
        ObjectKind::Image => stash.images_now(ids).with_context(context)?.iter().map(|i| i.id).collect(),
        ObjectKind::Gallery => stash.galleries_now(ids).with_context(context)?.iter().map(|g| g.id).collect(),
        _ => stash.scenes_now(ids).with_context(context)?.iter().map(|s| s.id).collect(),
    })
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

/// `run_summary`: the stored outcome of a run, by the `request_id` the page gave the task or
/// by `run_id` — for the page, since Stash discards a task's output.
pub fn run_summary(cx: &mut Context) -> anyhow::Result<Outcome> {
    let args = &cx.session.args;
    let run = match (args.string("request_id")?, args.integer("run_id")?) {
        (Some(request), _) if !request.is_empty() => cx.store.run_by_request(&request)?,
        (_, Some(id)) => cx.store.run(id)?,
        _ => bail!("say which run: request_id=<the id the task was started with> or run_id=<a run's id>"),
    };
    let output = match run {
        None => json!({"run": null}),
        Some(run) => json!({"run": {
            "id": run.id, "mode": run.mode, "status": run.status, "started_at": run.started_at,
            "ended_at": run.ended_at, "error": run.error, "summary": run.summary,
        }}),
    };
    Ok(Outcome { output, error: None })
}

/// `list_rejections`: what StashHog will not propose again, newest first.
pub fn list_rejections(cx: &mut Context) -> anyhow::Result<Outcome> {
    let rejections = cx.store.rejections()?;
    for r in rejections.iter().take(50) {
        let scene = r.scene_title.clone().or_else(|| r.scene_id.map(|id| format!("scene {id}")));
        log::info!(
            "Rejection {}: {} {} {} {}",
            r.id,
            r.action.to_ascii_uppercase(),
            r.field,
            r.value_name,
            scene.map_or("everywhere".to_owned(), |s| format!("for {s}"))
        );
    }
    Ok(Outcome { output: json!({"rejections": rejections}), error: None })
}

/// `remove_rejection {id}`: forgets one rejection, so later runs may propose it again.
pub fn remove_rejection(cx: &mut Context) -> anyhow::Result<Outcome> {
    let id = cx.session.args.integer("id")?.ok_or_else(|| anyhow!("`id` is required; list_rejections shows them"))?;
    if !cx.store.remove_rejection(id)? {
        bail!("there is no rejection {id}; list_rejections shows them");
    }
    log::info!("Rejection {id} removed: later runs may propose it again");
    Ok(Outcome { output: json!({"removed": true}), error: None })
}

/// The filter arguments `show_plan` and `review_plan` share.
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
        .filter(|f| !f.trim().is_empty())
        .map(|f| Field::parse(f.trim()).ok_or_else(|| anyhow!("`field` {f:?} is not one of {}", Field::names())))
        .transpose()?;
    let action = args
        .string("action")?
        .filter(|a| !a.trim().is_empty())
        .map(|a| {
            Action::parse(&a.trim().to_ascii_uppercase())
                .ok_or_else(|| anyhow!("`action` {a:?} is not one of add, remove, set, create"))
        })
        .transpose()?;
    let values = args.get("value").map(|value| match value {
        // The page sends the value as show_plan gave it; a person types it. Text that reads as
        // a number may mean the id or the text.
        Value::String(text) => {
            let mut keys = vec![value_key(value)];
            keys.extend(text.trim().parse::<i64>().ok().map(|id| id.to_string()));
            keys.extend(serde_json::from_str::<Value>(text).ok().filter(|v| v.is_object()).map(|v| value_key(&v)));
            keys
        }
        other => vec![value_key(other)],
    });
    let value_name = match args.get("value") {
        Some(Value::String(text)) if text.trim().parse::<f64>().is_err() => Some(text.trim().to_owned()),
        _ => None,
    };
    Ok(ChangeFilter {
        value_name,
        ids: args.id_ranges("change_ids")?,
        scene_ids: args.id_ranges("scene_ids")?,
        statuses,
        field,
        action,
        values,
        min_confidence: confidence(args, "min_confidence")?,
        max_confidence: confidence(args, "max_confidence")?,
        below_confidence: confidence(args, "below_confidence")?,
        text: args.string("text")?.filter(|t| !t.trim().is_empty()).map(|t| t.trim().to_owned()),
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
