//! Mode `sync_scene_tags` — task "Sync Scene Tags from StashDB": what the Tagger's "merge tags"
//! does one scene at a time, for every StashDB-linked scene at once, as a plan.
//!
//! Steps: refresh the mirror → choose the stash-box and check its key → ask it about every
//! linked scene, oldest edit first (40 a request, paced; recent answers and lasting verdicts
//! reused; follow-ups gathered across the run, 40 a request) → match its tags
//! to local tags as the Tagger does → make a plan of ADD changes → dry run: log and keep it for
//! review; otherwise apply it through the plans engine (so it can be rolled back) → summarise.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Value, json};

use super::{Context, Outcome, apply_plan, plan_run};
use crate::matching::{TagMatcher, blacklist_names};
use crate::plan_runner::RunOptions;
use crate::plans::Direction;
use crate::stash::ObjectKind;
use crate::sync;
use crate::tag_sync::{self, Proposal};
use crate::words;

/// This mode's name, as recorded in the plans it makes.
const MODE: &str = "sync_scene_tags";

/// Local scenes named in the info log's warning about merged stash-box scenes.
const NAMED_MERGED: usize = 5;
/// stash-box tags without a local match named in the info log.
const NAMED_UNMATCHED: usize = 5;

/// Syncs tags from the chosen stash-box onto linked scenes.
pub fn run(ctx: &mut Context) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let settings = ctx.settings.tag_sync.clone();
    if settings.dry_run {
        for id in ctx.store.interrupted_plans(MODE)? {
            log::warn!(
                "Plan {id} was cut off while being applied: run \"Apply approved plan changes\" to finish it, or \"Roll back last applied plan\" to undo it"
            );
        }
    } else {
        apply_plan::finish_interrupted(ctx, MODE)?;
    }
    sync::refresh(&ctx.mirror())?;
    let stash_box = tag_sync::choose_stash_box(&ctx.config, settings.endpoint.as_deref())?;
    let endpoint = stash_box.endpoint.clone();
    let (client, pace) = tag_sync::connect(&stash_box, settings.requests_per_minute)?;

    let linked = ctx.store.scenes_linked_to(&endpoint)?;
    let mut linked_scenes: Vec<i64> = linked.iter().map(|(s, _)| *s).collect();
    linked_scenes.sort_unstable();
    linked_scenes.dedup();
    let scene_count = linked_scenes.len();
    log::info!("{} linked to stash-box \"{}\"", count(scene_count as u64, "scene is", "scenes are"), stash_box.name);
    let resume_key = format!("tag_sync.started_at.{endpoint}");
    let run_start = match ctx.store.state(&resume_key)? {
        Some(earlier) => {
            log::info!("Continuing the tag sync that was stopped: scenes it already asked about are not asked again");
            earlier
        }
        None => {
            let now = ctx.store.now()?;
            ctx.store.write_mirror(|w| w.set_state(&resume_key, &now))?;
            now
        }
    };
    let fresh_since = match settings.min_age_hours {
        0 => run_start,
        hours => ctx.store.hours_ago(f64::from(hours))?.min(run_start),
    };
    let progress = &ctx.session.progress;
    let lookups = tag_sync::look_up(&ctx.store, &client, &endpoint, &linked, &fresh_since, |done, total| {
        progress.borrow_mut().set(0.8 * done as f64 / total.max(1) as f64);
    })?;

    log::info!(
        "Asked \"{}\" about {} in {:.1} s{}{}",
        stash_box.name,
        words::count(lookups.looked_up, "scene"),
        started.elapsed().as_secs_f64(),
        match lookups.answered_recently {
            0 => String::new(),
            n => format!(", reusing {} from earlier runs", words::count(n, "recent answer")),
        },
        match lookups.remembered_stale {
            0 => String::new(),
            n => format!("; {} known deleted or unknown were not asked again", words::count(n, "StashID")),
        }
    );
    let blacklist = blacklist_names(settings.blacklist.as_deref().unwrap_or_default());
    let tags = ctx.store.mirrored_tags()?;
    let matcher = TagMatcher::new(&tags, &endpoint, &ctx.config.exclude_tag_patterns, &blacklist);
    let failed: HashSet<i64> = lookups.failed_batches.iter().flat_map(|b| b.scenes.iter().copied()).collect();
    let source = json!({"mode": MODE, "settings": {"endpoint": endpoint, "dry_run": settings.dry_run,
        "blacklist": blacklist, "requests_per_minute": pace, "min_age_hours": settings.min_age_hours}});
    let name = format!("Sync scene tags from {}", stash_box.name);
    // Scenes whose lookup failed were not looked at: their open changes move into the new plan.
    let examined = |kind: ObjectKind, scene: i64| {
        kind == ObjectKind::Scene && !failed.contains(&scene) && linked_scenes.binary_search(&scene).is_ok()
    };
    // The plan is stored part by part as the scenes are matched: the library's changes are
    // never all in memory.
    let mut proposing =
        tag_sync::Proposing::new(&ctx.store, &endpoint, &linked, &matcher, &failed, settings.fix_merged_stash_ids);
    let proposed = ctx.store.propose_plan_in_parts(&name, MODE, &source, &mut proposing, examined)?;
    let proposal = proposing.finish();
    // What the apply below holds is its own: the library's lists go first.
    drop(linked_scenes);
    drop(linked);
    ctx.session.progress.borrow_mut().set(0.85);
    let names: std::collections::HashMap<i64, &str> = tags.iter().map(|t| (t.id, t.name.as_str())).collect();
    super::log_proposed(&proposed);
    let plan_id = proposed.plan_id;
    ctx.store.write_mirror(|w| w.clear_state(&resume_key))?;

    let mut output = json!({
        "stash_box": {"name": stash_box.name, "endpoint": endpoint},
        "scenes_considered": scene_count,
        "looked_up": lookups.looked_up,
        "answered_recently": lookups.answered_recently,
        "remembered_stale": lookups.remembered_stale,
        "failed_batches": lookups.failed_batches,
        "plan_id": plan_id,
        "proposed": proposed,
        "dry_run": settings.dry_run,
        "stash_box_requests": client.requests_sent(),
    });
    merge(&mut output, serde_json::to_value(&proposal)?);
    log_summary(&proposal, &stash_box.name, client.requests_sent());
    warn_merged(ctx, &proposal, &stash_box.name, settings.fix_merged_stash_ids)?;

    let outcome = match plan_id {
        None => {
            log::info!(
                "Nothing to add: every linked scene already has the tags \"{}\" has for it (those that exist here)",
                stash_box.name
            );
            Outcome { output, error: None }
        }
        Some(plan_id) if settings.dry_run => {
            log_additions(ctx, &proposal, &names)?;
            log::info!(
                "Dry run, nothing changed in Stash. Plan {plan_id} holds the {}: open the StashHog page (the StashHog button in Stash's navigation bar) to review them by tag or by scene, approve what you want and apply it; or turn off \"Scene Tag Sync - Dry Run\" in Settings > Plugins to apply at once",
                words::count(proposed.changes as u64, "change")
            );
            Outcome { output, error: None }
        }
        Some(plan_id) => {
            let approve = crate::plans::ChangeFilter {
                statuses: vec![crate::plans::ChangeStatus::Pending],
                ..crate::plans::ChangeFilter::default()
            };
            ctx.store.review_changes(plan_id, &approve, crate::plans::ChangeStatus::Approved)?;
            let plan = ctx.store.plan(plan_id)?.ok_or_else(|| anyhow::anyhow!("plan {plan_id} vanished"))?;
            let applied = plan_run::run(ctx, plan, RunOptions::new(Direction::Apply))?;
            output["apply"] = applied.output;
            log::info!(
                "Done. Plan {plan_id} can be rolled back from the StashHog page (or with \"Roll back last applied plan\" in Settings > Tasks)"
            );
            Outcome { output, error: applied.error }
        }
    };
    let mut outcome = outcome;
    outcome.output["duration_ms"] = (started.elapsed().as_millis() as u64).into();
    super::add_peak_rss(&mut outcome.output);
    if outcome.error.is_none() && !lookups.failed_batches.is_empty() {
        outcome.error = Some(format!(
            "{} batch(es) of stash-box lookups failed; those scenes were skipped and the next run asks again",
            lookups.failed_batches.len()
        ));
    }
    Ok(outcome)
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

/// `n` with the singular or plural phrase ("1 scene is", "2 scenes are").
fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// What the sync found, in one line; the tags the stash-box has that this Stash lacks in
/// another (the whole list is in the output and at debug).
fn log_summary(p: &Proposal, box_name: &str, requests: u64) {
    let mut skipped = Vec::new();
    for (n, why) in [
        (p.skipped_deleted, "deleted on the stash-box"),
        (p.skipped_not_found, "unknown to the stash-box"),
        (p.skipped_errors, "not answered this time"),
    ] {
        if n > 0 {
            skipped.push(format!("{} {why}", words::count(n, "scene")));
        }
    }
    let complete = match p.scenes_unchanged {
        0 => String::new(),
        n => format!("; {} already complete", count(n, "scene is", "scenes are")),
    };
    log::info!(
        "Found {} to add to {}{complete}{}; {} to \"{box_name}\"",
        words::count(p.tags_to_add, "tag"),
        words::count(p.scenes_to_update, "scene"),
        if skipped.is_empty() { String::new() } else { format!("; skipped {}", skipped.join(", ")) },
        words::count(requests, "request")
    );
    let mut unmatched: Vec<(&String, &u64)> = p.unmatched.iter().collect();
    unmatched.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if !unmatched.is_empty() {
        let named: Vec<String> = unmatched
            .iter()
            .take(NAMED_UNMATCHED)
            .map(|(name, scenes)| format!("{name} ({})", words::count(**scenes, "scene")))
            .collect();
        let more = unmatched.len().saturating_sub(NAMED_UNMATCHED);
        log::info!(
            "{} of \"{box_name}\" match no tag here: {}{}. Create them in Stash (or add the name as an alias of yours) and run the sync again to add them",
            words::count(unmatched.len() as u64, "tag"),
            named.join(", "),
            if more > 0 { format!(" and {more} more (all in the task's output)") } else { String::new() }
        );
        for (name, scenes) in &unmatched {
            log::debug!("No local tag for \"{name}\" ({})", words::count(**scenes, "scene"));
        }
    }
}

/// One warning for all the linked scenes whose stash-box scene was merged into another: the
/// first few by name, what it means, and the setting that fixes them through the plan.
fn warn_merged(ctx: &Context, p: &Proposal, box_name: &str, fixing: bool) -> anyhow::Result<()> {
    let merged: Vec<i64> =
        p.stale.iter().filter(|s| s["merged_into"].is_string()).filter_map(|s| s["scene_id"].as_i64()).collect();
    if merged.is_empty() {
        return Ok(());
    }
    let labels = scene_labels(ctx, &merged)?;
    let named: Vec<&str> =
        merged.iter().take(NAMED_MERGED).filter_map(|id| labels.get(id).map(String::as_str)).collect();
    let more = merged.len().saturating_sub(NAMED_MERGED);
    let list = format!("{}{}", named.join(", "), if more > 0 { format!(" and {more} more") } else { String::new() });
    if fixing {
        log::info!(
            "{} linked to \"{box_name}\" scenes that were merged into others ({list}): the plan replaces those StashIDs by the surviving scenes' and takes their tags",
            count(merged.len() as u64, "local scene is", "local scenes are")
        );
    } else {
        log::warn!(
            "{} linked to \"{box_name}\" scenes that were merged into others ({list}); their tags came from the surviving scenes. Turn on \"Scene Tag Sync - fix merged StashIDs\" (syncFixMergedStashIds) in Settings > Plugins to have the plan update those StashIDs",
            count(merged.len() as u64, "local scene is", "local scenes are")
        );
    }
    for s in p.stale.iter().filter(|s| s["merged_into"].is_string()) {
        log::debug!(
            "Merged: scene {} has StashID {} now merged into {}",
            s["scene_id"],
            s["stash_id"],
            s["merged_into"]
        );
    }
    Ok(())
}

/// The first scenes' additions, for the debug log (a dry run's detail; the plan has them all).
fn log_additions(ctx: &Context, p: &Proposal, names: &std::collections::HashMap<i64, &str>) -> anyhow::Result<()> {
    if !log::log_enabled!(log::Level::Debug) {
        return Ok(());
    }
    let ids: Vec<i64> = p.additions.iter().map(|(scene, _)| *scene).collect();
    let labels = scene_labels(ctx, &ids)?;
    for (scene, added) in &p.additions {
        let list: Vec<String> = added
            .iter()
            .map(|a| format!("{} ({})", names.get(&a.tag_id).unwrap_or(&a.scraped.as_str()), a.how.reason(&a.scraped)))
            .collect();
        log::debug!("{} would get: {}", labels.get(scene).map_or("a scene", String::as_str), list.join("; "));
    }
    let more = p.scenes_to_update.saturating_sub(p.additions.len() as u64);
    if more > 0 {
        log::debug!("… and {} (the plan has them all)", words::count(more, "more scene"));
    }
    Ok(())
}

/// How a person recognises a scene: its title, else its file name, with its id.
fn scene_labels(ctx: &Context, ids: &[i64]) -> anyhow::Result<std::collections::HashMap<i64, String>> {
    Ok(ctx
        .store
        .mirrored_scenes(ids)?
        .into_iter()
        .map(|scene| {
            let file = scene.files.first().map(|f| f.path.rsplit(['/', '\\']).next().unwrap_or(&f.path).to_owned());
            let name = scene.title.clone().filter(|t| !t.trim().is_empty()).or(file).unwrap_or_default();
            let label = if name.is_empty() {
                format!("scene {}", scene.id)
            } else {
                format!("\"{name}\" (scene {})", scene.id)
            };
            (scene.id, label)
        })
        .collect())
}
