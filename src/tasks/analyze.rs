//! Mode `analyze` — task "Analyze scenes": proposes studios, performers, tags and cleaner
//! details from what the scenes' paths and titles already say, as a plan to review.
//!
//! Steps: bring the mirror up to date → choose the scenes (default: not organized; narrowed by
//! `scene_ids`, `path`, `tag`, `since_last`, `limit`) → run the switched-on detectors over the
//! mirror → when `analyzeWithAi` is on, ask the AI about the scenes the rules left open (after
//! checking the run's cost) → store the proposals as one plan (source `analyze`),
//! pre-approving those at least `analysisAutoApproveConfidence` sure → remember how far this analysis
//! saw (only when it was not narrowed by `scene_ids`, `path`, `tag` or `limit`) → summarise.
//! Nothing is written to Stash: the user approves and runs "Apply approved plan changes".

use std::ops::RangeInclusive;
use std::time::Instant;

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use super::{Context, Outcome};
use crate::analysis::ai::{AiClient, AiReport};
use crate::analysis::{self, Analysis, Analyzer, Library};
use crate::protocol::args::ArgSpec;
use crate::stash::ObjectKind;
use crate::store::mirror::SceneScope;
use crate::sync;

/// Where the newest scene update the last analysis saw is kept (`since_last`).
const LAST_ANALYSIS: &str = "analyze.scenes_updated_at";
/// Unmatched names listed in the summary.
const TOP_UNMATCHED: usize = 20;

/// Analyzes the chosen scenes into a new plan.
pub fn run(cx: &mut Context) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    sync::refresh(&cx.mirror()).context("bringing the mirror up to date before analyzing")?;
    let scope = scope(cx)?;
    let analyzer = analyzer(cx)?;
    for warning in &analyzer.warnings {
        log::warn!("{warning}");
    }
    let mark = cx.store.newest_scene_update()?;
    let ids = cx.store.scenes_in_scope(&scope)?;
    log::info!("Analyzing {}", crate::words::count(ids.len() as u64, "scene"));
    let auto_approve = cx.settings.auto_approve_confidence;
    let with_ai = cx.settings.ai.enabled;
    // With the AI on, the rules are the first half of the progress bar and the AI the second.
    let share = if with_ai { 0.5 } else { 1.0 };
    let bar = &cx.session.progress;
    let progress = |offset: f64| {
        move |done: usize, total: usize| bar.borrow_mut().set(offset + share * done as f64 / total.max(1) as f64)
    };
    let mut found = analysis::analyze_scenes(&cx.store, &analyzer, &ids, auto_approve, with_ai, progress(0.0))?;
    let ai = if with_ai { Some(ask_ai(cx, &mut found, &analyzer, progress(0.5))?) } else { None };
    let name = format!(
        "Analyze: {} for {}",
        crate::words::count(found.changes.len() as u64, "change"),
        crate::words::count(found.scenes_with_changes as u64, "scene")
    );
    let examined: std::collections::HashSet<_> = ids.iter().map(|id| (ObjectKind::Scene, *id)).collect();
    let proposed = cx.store.propose_plan(&name, "analyze", &source(cx), &found.changes, &examined)?;
    super::log_proposed(&proposed);
    // A narrowed run did not see every scene up to the mark: moving it would make the next
    // `since_last` skip the scenes this one left out.
    let narrowed = scope.ids.is_some() || scope.path.is_some() || scope.tag_ids.is_some() || scope.limit.is_some();
    match mark {
        Some(_) if narrowed => {
            log::info!("The scope was narrowed (scene_ids, path, tag or limit): since_last still starts where it did")
        }
        Some(mark) => cx.store.write_mirror(|w| w.set_state(LAST_ANALYSIS, &mark))?,
        None => {}
    }
    let mut outcome = summarise(cx, &found, proposed.plan_id, &analyzer.warnings, ai, started)?;
    outcome.output["proposed"] = serde_json::to_value(&proposed)?;
    Ok(outcome)
}

/// Asks the AI about the scenes the rules left open; refuses before any call when the estimate
/// is above `analyzeWithAiMaxCostCents`.
fn ask_ai(
    cx: &Context,
    found: &mut Analysis,
    analyzer: &Analyzer,
    progress: impl FnMut(usize, usize),
) -> anyhow::Result<AiReport> {
    if found.open.is_empty() {
        log::info!("The rules settled every scene; the AI is not asked");
        return Ok(AiReport::default());
    }
    let client = AiClient::new(&cx.settings.ai)?;
    let auto_approve = cx.settings.auto_approve_confidence;
    let report = analysis::consult_ai(&client, found, analyzer, auto_approve, progress)?;
    log::info!(
        "AI: {} scene(s) sent in {} request(s) ({} failed); {} proposal(s) kept; {} answer(s) and {} unknown name(s) dropped; {} + {} tokens, ${:.4} (estimated ${:.4})",
        report.scenes_sent,
        report.requests + report.failed_requests,
        report.failed_requests,
        report.proposals,
        report.answers_dropped,
        report.names_unknown,
        report.prompt_tokens,
        report.completion_tokens,
        report.cost_usd,
        report.estimated_cost_usd
    );
    Ok(report)
}

/// What `analyze` takes (besides the settings): its scope. Without any, scenes not organized.
pub const ARGS: &[ArgSpec] = &[
    ArgSpec { name: "scene_ids", takes: "ids, e.g. 1,2,5 or 1-20", help: "these scenes, organized or not" },
    ArgSpec { name: "path", takes: "text", help: "scenes with a file path containing this" },
    ArgSpec { name: "tag", takes: "a tag name or id", help: "scenes with this tag" },
    ArgSpec { name: "since_last", takes: "true or false", help: "only scenes changed since the last analysis" },
    ArgSpec { name: "limit", takes: "a number", help: "at most this many scenes" },
    ArgSpec { name: "include_organized", takes: "true or false", help: "organized scenes too" },
];

/// The scenes `scene_ids` names, one by one; a range over a million ids is a typo, not a
/// selection.
fn each_id(ranges: &[RangeInclusive<i64>]) -> anyhow::Result<Vec<i64>> {
    const LONGEST_RANGE: i64 = 1_000_000;
    if let Some(range) = ranges.iter().find(|r| r.end().saturating_sub(*r.start()) > LONGEST_RANGE) {
        bail!(
            "`scene_ids` {}-{} spans more than a million ids: name the scenes, or a shorter range",
            range.start(),
            range.end()
        );
    }
    Ok(ranges.iter().flat_map(Clone::clone).collect())
}

/// The scenes to analyze, from the arguments.
fn scope(cx: &Context) -> anyhow::Result<SceneScope> {
    let args = &cx.session.args;
    let ids = args.id_ranges("scene_ids")?.map(|ranges| each_id(&ranges)).transpose()?;
    let tag_ids = match args.string("tag")? {
        Some(tag) => Some(vec![tag_id(cx, &tag)?]),
        None => None,
    };
    let updated_after = if args.bool("since_last")?.unwrap_or(false) { cx.store.state(LAST_ANALYSIS)? } else { None };
    let limit = match args.integer("limit")? {
        Some(n) if n < 1 => bail!("`limit` must be at least 1, got {n}"),
        n => n.map(|n| n as usize),
    };
    Ok(SceneScope {
        // Naming scenes means "these", organized or not.
        include_organized: ids.is_some() || args.bool("include_organized")?.unwrap_or(false),
        ids,
        path: args.string("path")?.filter(|p| !p.is_empty()),
        tag_ids,
        updated_after,
        limit,
    })
}

/// The analyzer with the mirror's library and the user's settings.
fn analyzer(cx: &Context) -> anyhow::Result<Analyzer> {
    let library =
        Library::new(cx.store.mirrored_studios()?, cx.store.mirrored_performers()?, cx.store.mirrored_tags()?);
    Analyzer::new(library, &cx.settings).context("fix the setting in Settings > Plugins > StashHog")
}

/// A tag given by id or by name (or alias), as the user sees it in Stash.
fn tag_id(cx: &Context, tag: &str) -> anyhow::Result<i64> {
    let tags = cx.store.mirrored_tags()?;
    let wanted = tag.trim();
    tags.iter()
        .find(|t| t.id.to_string() == wanted)
        .or_else(|| tags.iter().find(|t| t.name.eq_ignore_ascii_case(wanted)))
        .or_else(|| tags.iter().find(|t| t.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted))))
        .map(|t| t.id)
        .ok_or_else(|| anyhow!("`tag`: no tag {wanted:?} in Stash (give its name or id)"))
}

/// What made the plan: the mode, its arguments and the analysis settings, for the plan's source.
fn source(cx: &Context) -> Value {
    let s = &cx.settings;
    json!({
        "mode": "analyze",
        "args": cx.session.args.redacted(),
        "settings": {
            "analysisMinConfidence": (s.analysis_min_confidence * 100.0).round(),
            "analysisAutoApproveConfidence": s.auto_approve_confidence.map(|f| (f * 100.0).round()),
            "analyzeStudios": s.analyze.studios,
            "analyzePerformers": s.analyze.performers,
            "analyzeTags": s.analyze.tags,
            "analyzeDetails": s.analyze.details,
            "analyzePerformersCreateMissing": s.analyze.create_missing_performers,
            "analyzeStudiosRules": s.studio_rules,
            "analyzeDetailsTemplate": s.details_template,
            "analyzeWithAi": s.ai.enabled,
            "analyzeWithAiModel": s.ai.model,
        },
    })
}

fn summarise(
    cx: &Context,
    found: &Analysis,
    plan_id: Option<i64>,
    warnings: &[String],
    ai: Option<AiReport>,
    started: Instant,
) -> anyhow::Result<Outcome> {
    let approved = found.changes.iter().filter(|c| c.status == crate::plans::ChangeStatus::Approved).count();
    let top = found.tally.top_unmatched(TOP_UNMATCHED);
    match plan_id {
        Some(id) => {
            log::info!(
                "Analyzed {}: plan {id} proposes {} for {} ({approved} approved already). Review and approve them on the StashHog page, then run \"Apply approved plan changes\" in Settings > Tasks",
                crate::words::count(found.scenes as u64, "scene"),
                crate::words::count(found.changes.len() as u64, "change"),
                crate::words::count(found.scenes_with_changes as u64, "scene"),
            );
            log::debug!("By field {:?}; by confidence {:?}", found.tally.by_field, found.tally.by_confidence);
        }
        None => log::info!(
            "Analyzed {}: nothing to propose; no plan made",
            crate::words::count(found.scenes as u64, "scene")
        ),
    }
    let new_performers = found.new_performer_names();
    if !new_performers.is_empty() {
        log::info!("Performers proposed to create (from creator folders): {}", new_performers.join(", "));
    }
    if !top.is_empty() {
        let names: Vec<String> = top.iter().map(|(name, n)| format!("{name} ({n})")).collect();
        log::info!("Names that match no performer, most frequent first: {}", names.join(", "));
    }
    let output = json!({
        "plan_id": plan_id,
        "scenes_analyzed": found.scenes,
        "scenes_with_changes": found.scenes_with_changes,
        "changes": found.changes.len(),
        "approved": approved,
        "by_field": found.tally.by_field,
        "by_confidence": found.tally.by_confidence,
        "min_confidence": cx.settings.analysis_min_confidence,
        "new_performers": new_performers,
        "unmatched_names": found.tally.unmatched_names.len(),
        "top_unmatched_names": top.iter().map(|(name, n)| json!({"name": name, "scenes": n})).collect::<Vec<_>>(),
        "warnings": warnings,
        "ai": ai,
        "duration_ms": started.elapsed().as_millis() as u64,
    });
    // The plan from the rules stands; an AI that stopped early is still the run's error.
    let error = ai.and_then(|r| r.error).map(|e| format!("the AI stopped early: {e}"));
    Ok(Outcome { output, error })
}
