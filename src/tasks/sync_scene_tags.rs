//! Mode `sync_scene_tags` — task "Sync Scene Tags from StashDB": what the Tagger's "merge tags"
//! does one scene at a time, for every StashDB-linked scene at once, as a plan.
//!
//! Steps: refresh the mirror → choose the stash-box and check its key → ask it about every
//! linked scene, oldest edit first (40 a request, paced; recent answers reused) → match its tags
//! to local tags as the Tagger does → make a plan of ADD changes → dry run: log and keep it for
//! review; otherwise apply it through the plans engine (so it can be rolled back) → summarise.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Value, json};

use super::{Context, Outcome, apply_plan};
use crate::matching::{TagMatcher, blacklist_names};
use crate::mirror;
use crate::tag_sync::{self, Proposal};

/// This mode's name, as recorded in the plans it makes.
const MODE: &str = "sync_scene_tags";

/// Scenes whose additions a dry run lists in the log (the plan keeps all of them).
const LOGGED_SCENES: usize = 200;

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
    mirror::refresh(&ctx.mirror())?;
    let stash_box = tag_sync::choose_stash_box(&ctx.config, settings.endpoint.as_deref())?;
    let endpoint = stash_box.endpoint.clone();
    let (client, pace) = tag_sync::connect(&stash_box, settings.requests_per_minute)?;

    let linked = ctx.store.scenes_linked_to(&endpoint)?;
    log::info!("{} scenes are linked to stash-box '{}'", linked.len(), stash_box.name);
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
        "Asked stash-box '{}' about {} StashIDs in {:.1} s ({} reused from earlier answers)",
        stash_box.name,
        lookups.looked_up,
        started.elapsed().as_secs_f64(),
        lookups.answered_recently
    );
    let blacklist = blacklist_names(settings.blacklist.as_deref().unwrap_or_default());
    let tags = ctx.store.mirrored_tags()?;
    let matcher = TagMatcher::new(&tags, &endpoint, &ctx.config.exclude_tag_patterns, &blacklist);
    let failed: HashSet<i64> = lookups.failed_batches.iter().flat_map(|b| b.scenes.iter().copied()).collect();
    let proposal = tag_sync::propose(&ctx.store, &endpoint, &linked, &matcher, &failed, settings.fix_merged_stash_ids)?;
    ctx.session.progress.borrow_mut().set(0.85);

    let names: std::collections::HashMap<i64, &str> = tags.iter().map(|t| (t.id, t.name.as_str())).collect();
    let source = json!({"mode": MODE, "settings": {"endpoint": endpoint, "dry_run": settings.dry_run,
        "blacklist": blacklist, "requests_per_minute": pace, "min_age_hours": settings.min_age_hours}});
    let name = format!("Sync scene tags from {}", stash_box.name);
    // Scenes whose lookup failed were not looked at: their open changes move into the new plan.
    let examined: HashSet<i64> = linked.iter().map(|(s, _)| *s).filter(|s| !failed.contains(s)).collect();
    let proposed = ctx.store.propose_plan(&name, MODE, &source, &proposal.changes, &examined)?;
    super::log_proposed(&proposed);
    let plan_id = proposed.plan_id;
    ctx.store.write_mirror(|w| w.clear_state(&resume_key))?;

    let mut output = json!({
        "stash_box": {"name": stash_box.name, "endpoint": endpoint},
        "scenes_considered": linked.iter().map(|(s, _)| s).collect::<HashSet<_>>().len(),
        "looked_up": lookups.looked_up,
        "answered_recently": lookups.answered_recently,
        "failed_batches": lookups.failed_batches,
        "plan_id": plan_id,
        "proposed": proposed,
        "dry_run": settings.dry_run,
        "stash_box_requests": client.requests_sent(),
    });
    merge(&mut output, serde_json::to_value(&proposal)?);
    log_summary(&proposal, &stash_box.name, client.requests_sent());

    let outcome = match plan_id {
        None => {
            log::info!("Nothing to add: every linked scene already has the tags StashDB has for it (that exist here)");
            Outcome { output, error: None }
        }
        Some(plan_id) if settings.dry_run => {
            for (scene, added) in proposal.additions.iter().take(LOGGED_SCENES) {
                let list: Vec<String> = added
                    .iter()
                    .map(|a| {
                        format!(
                            "{} ({})",
                            names.get(&a.tag_id).unwrap_or(&a.scraped.as_str()),
                            a.how.reason(&a.scraped)
                        )
                    })
                    .collect();
                log::info!("Scene {scene} would get: {}", list.join("; "));
            }
            if proposal.additions.len() > LOGGED_SCENES {
                log::info!("… and {} more scenes (the plan has them all)", proposal.additions.len() - LOGGED_SCENES);
            }
            log::info!(
                "Dry run: nothing was changed. Plan {plan_id} holds {} tag addition(s): open the StashHog page in Stash (the StashHog button in the navigation bar) to review them by tag or by scene, approve what you want and apply it; or turn off \"Scene Tag Sync - Dry Run\" to apply at once",
                proposed.changes
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
            let applied = apply_plan::apply(ctx, plan, None, false, 500, Instant::now())?;
            output["apply"] = applied.output;
            Outcome { output, error: applied.error }
        }
    };
    let mut outcome = outcome;
    outcome.output["duration_ms"] = (started.elapsed().as_millis() as u64).into();
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

fn log_summary(p: &Proposal, box_name: &str, requests: u64) {
    log::info!(
        "Tags from '{box_name}': {} tags for {} scenes; {} scenes already complete; skipped {} deleted, {} not found, {} failed; {} merged scenes followed; {requests} stash-box requests",
        p.tags_to_add,
        p.scenes_to_update,
        p.scenes_unchanged,
        p.skipped_deleted,
        p.skipped_not_found,
        p.skipped_errors,
        p.followed_merges
    );
    let mut unmatched: Vec<(&String, &u64)> = p.unmatched.iter().collect();
    unmatched.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (name, scenes) in unmatched.iter().take(10) {
        log::info!(
            "{scenes} scenes would get '{name}' if a local tag '{name}' existed (or had it as an alias or StashID)"
        );
    }
}
