//! Mode `import_fansly` — task "Import Fansly metadata": what fansly-scraper's own Stash step
//! does, as a plan a user reviews, applies, resumes and rolls back.
//!
//! Steps: bring the mirror up to date → open the scraper's database read-only (SQLite file or
//! PostgreSQL, era detected) and read it → find the scenes and images whose files are a
//! creator's media → propose performers, studios, tags, a gallery per post or message, and each
//! scene's and image's fields and galleries (fill-only-empty; overwrites at lower confidence;
//! organized objects untouched) → remember the performers and studios matched to Fansly
//! accounts → store the plan the way every producer does (remembered rejections left out, the
//! previous import's open plan superseded) → dry run: stop; else approve the fills and apply
//! them → summarise: creators, files matched and not, media Stash lacks and why.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::{Context, Outcome, plan_run};
use crate::fansly::propose::{self, Options, Proposal, StashSide};
use crate::fansly::source::PgTarget;
use crate::fansly::{Library, Located, Source, model::NotFound};
use crate::plan_runner::RunOptions;
use crate::plans::{Action, ChangeFilter, ChangeStatus, Direction, Field, is_created_ref};
use crate::settings::FanslyImport;
use crate::stash::{Image, ObjectKind, Scene};
use crate::{sync, words};

/// Scenes read from the mirror at a time.
const SCENES_PER_READ: usize = 500;
/// Where the import remembers which performer and studio stand for a Fansly account.
const PERFORMER_LINK: &str = "fansly.performer.";
const STUDIO_LINK: &str = "fansly.studio.";

/// Imports the scraper's metadata as a plan.
pub fn run(cx: &mut Context) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let settings = cx.settings.fansly.clone();
    let source = source(&settings)?;
    sync::refresh(&cx.mirror()).context("bringing the mirror up to date before importing")?;
    log::info!("Reading fansly-scraper's database {}", source.describe());
    let fansly = read(&source)?;
    let era = fansly.era.clone();
    log::info!(
        "fansly-scraper database ({} era, revision {}): {} accounts, {} posts and messages with media, {} media",
        era.as_ref().map_or("?", |e| e.engine),
        era.as_ref().and_then(|e| e.revision.as_deref()).unwrap_or("none"),
        fansly.accounts.len(),
        fansly.items.len(),
        fansly.media.len()
    );
    cx.session.progress.borrow_mut().set(0.3);

    let scenes = scraper_scenes(cx, &fansly)?;
    let images = scraper_images(cx, &fansly)?;
    let galleries = cx.store.mirrored_galleries()?;
    let performers = cx.store.mirrored_performers()?;
    let studios = cx.store.mirrored_studios()?;
    let tags = cx.store.mirrored_tags()?;
    let side = StashSide {
        scenes: &scenes,
        images: &images,
        galleries: &galleries,
        performers: &performers,
        studios: &studios,
        tags: &tags,
        performer_links: links(cx, &fansly, PERFORMER_LINK)?,
        studio_links: links(cx, &fansly, STUDIO_LINK)?,
    };
    let options = Options {
        creators: settings.creators.clone(),
        stash_root: settings.stash_path.clone(),
        preview_tag: settings.preview_tag.clone(),
        create_tags: settings.create_tags,
    };
    let mut proposal = propose::propose(&fansly, &side, &options);
    remember_links(cx, &proposal)?;
    let rejected_before = drop_rejected(cx, &mut proposal)?;
    cx.session.progress.borrow_mut().set(0.6);

    // Every scene and image the import recognised was looked at: an earlier plan's open change
    // of one of them that is not proposed again is dropped, not carried over.
    let examined: HashSet<(ObjectKind, i64)> = scenes
        .iter()
        .map(|s| (ObjectKind::Scene, s.id))
        .chain(images.iter().map(|i| (ObjectKind::Image, i.id)))
        .chain(galleries.iter().map(|g| (ObjectKind::Gallery, g.id)))
        .collect();
    let name = format!("Import Fansly metadata: {} change(s)", proposal.changes.len());
    let source_value = plan_source(cx, &settings, &era);
    let proposed = cx.store.propose_plan(&name, "import_fansly", &source_value, &proposal.changes, &examined)?;
    super::log_proposed(&proposed);
    let plan_id = proposed.plan_id;
    let mut output = json!({
        "database": source.describe(),
        "era": era,
        "plan_id": plan_id,
        "dry_run": settings.dry_run,
        "accounts": fansly.accounts.len(),
        "posts_and_messages_with_media": fansly.items.len(),
        "changes": proposal.changes.len(),
        "rejected_before_not_proposed": rejected_before + proposed.rejected_earlier,
        "superseded_from_earlier_plans": proposed.superseded,
    });
    if let (Some(into), Ok(Value::Object(report))) = (output.as_object_mut(), serde_json::to_value(&proposal.report)) {
        into.extend(report);
    }
    log_summary(&proposal, plan_id, settings.dry_run);
    let mut outcome = match plan_id {
        Some(plan_id) if !settings.dry_run => {
            // Fills and CREATEs are what the user asked for by turning the dry run off;
            // overwrites stay for review.
            let fills = ChangeFilter { min_confidence: Some(propose::FILL), ..ChangeFilter::default() };
            cx.store.review_changes(plan_id, &fills, ChangeStatus::Approved)?;
            let plan = cx.store.plan(plan_id)?.ok_or_else(|| anyhow::anyhow!("plan {plan_id} vanished"))?;
            let applied = plan_run::run(cx, plan, RunOptions::new(Direction::Apply))?;
            output["apply"] = applied.output;
            Outcome { output, error: applied.error }
        }
        _ => Outcome { output, error: None },
    };
    outcome.output["duration_ms"] = (started.elapsed().as_millis() as u64).into();
    Ok(outcome)
}

/// Leaves out the changes the user already rejected in an earlier import's plan (the same
/// field of the same scene, to the same value): re-running proposes only what is new. CREATEs
/// and changes that refer to one stay, so every reference keeps its target.
fn drop_rejected(cx: &Context, proposal: &mut Proposal) -> anyhow::Result<usize> {
    let key = |entity: ObjectKind, id: Option<i64>, field: Field, action: Action, value: &Value| {
        format!("{}/{id:?}/{}/{}/{value}", entity.as_str(), field.as_str(), action.as_str())
    };
    let rejected_only = ChangeFilter { statuses: vec![ChangeStatus::Rejected], ..ChangeFilter::default() };
    let mut rejected = HashSet::new();
    for plan in cx.store.plans(usize::MAX)? {
        if plan.source.get("mode").and_then(Value::as_str) != Some("import_fansly") {
            continue;
        }
        for change in cx.store.changes(plan.id, &rejected_only, usize::MAX, 0)?.1 {
            if change.action != Action::Create && change.created_ref().is_none() {
                rejected.insert(key(change.entity, change.entity_id, change.field, change.action, &change.value));
            }
        }
    }
    let before = proposal.changes.len();
    proposal.changes.retain(|c| {
        c.action == Action::Create
            || is_created_ref(&c.value)
            || !rejected.contains(&key(c.entity, c.entity_id, c.field, c.action, &c.value))
    });
    Ok(before - proposal.changes.len())
}

/// Where the scraper's metadata lives, from the settings.
fn source(settings: &FanslyImport) -> anyhow::Result<Source> {
    if let Some(path) = &settings.database {
        return Ok(Source::Sqlite(path.into()));
    }
    let Some(host) = &settings.pg_host else {
        bail!(
            "no fansly-scraper database is set: set \"Fansly import - SQLite database\" (fanslyDatabase) to its metadata_db.sqlite3, or the PostgreSQL host (fanslyPgHost) and friends"
        );
    };
    // fansly-scraper's own rule: the environment wins over the file.
    let password = std::env::var("FANSLY_PG_PASSWORD").ok().filter(|p| !p.is_empty()).or(settings.pg_password.clone());
    Ok(Source::Postgres(PgTarget {
        host: host.clone(),
        port: settings.pg_port,
        database: settings.pg_database.clone(),
        user: settings.pg_user.clone(),
        password,
    }))
}

fn read(source: &Source) -> anyhow::Result<Library> {
    let mut connection = source.open()?;
    Ok(Library::read(&mut connection)?)
}

/// The mirrored scenes with at least one file the scraper could have named: the planner never
/// holds the rest of a large library.
fn scraper_scenes(cx: &Context, fansly: &Library) -> anyhow::Result<Vec<Scene>> {
    let ids = cx.store.mirrored_ids(ObjectKind::Scene)?;
    let mut kept = Vec::new();
    for chunk in ids.chunks(SCENES_PER_READ) {
        for scene in cx.store.mirrored_scenes(chunk)? {
            let ours =
                scene.files.iter().any(|f| !matches!(fansly.locate(&f.path), Located::NotFound(NotFound::NoIdInName)));
            if ours {
                kept.push(scene);
            }
        }
    }
    Ok(kept)
}

/// The mirrored images with a file the scraper could have named (as for scenes).
fn scraper_images(cx: &Context, fansly: &Library) -> anyhow::Result<Vec<Image>> {
    let ids = cx.store.mirrored_ids(ObjectKind::Image)?;
    let mut kept = Vec::new();
    for chunk in ids.chunks(SCENES_PER_READ) {
        for image in cx.store.mirrored_images(chunk)? {
            let ours = image.paths.iter().any(|p| !matches!(fansly.locate(p), Located::NotFound(NotFound::NoIdInName)));
            if ours {
                kept.push(image);
            }
        }
    }
    Ok(kept)
}

/// The links earlier imports recorded for the accounts in this database.
fn links(cx: &Context, fansly: &Library, prefix: &str) -> anyhow::Result<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for account in fansly.accounts.keys() {
        if let Some(id) = cx.store.state(&format!("{prefix}{account}"))?.and_then(|v| v.parse().ok()) {
            out.insert(*account, id);
        }
    }
    Ok(out)
}

/// Records the performers and studios matched to accounts, so a renamed creator is still found.
fn remember_links(cx: &Context, proposal: &Proposal) -> anyhow::Result<()> {
    cx.store.write_mirror(|w| {
        for (account, performer) in &proposal.performer_links {
            w.set_state(&format!("{PERFORMER_LINK}{account}"), &performer.to_string())?;
        }
        for (account, studio) in &proposal.studio_links {
            w.set_state(&format!("{STUDIO_LINK}{account}"), &studio.to_string())?;
        }
        Ok(())
    })?;
    Ok(())
}

fn plan_source(cx: &Context, settings: &FanslyImport, era: &Option<crate::fansly::Era>) -> Value {
    json!({
        "mode": "import_fansly",
        "args": cx.session.args.redacted(),
        "era": era,
        "settings": {
            "fanslyDatabase": settings.database,
            "fanslyPgHost": settings.pg_host,
            "fanslyPgDatabase": settings.pg_database,
            "fanslyCreators": settings.creators,
            "fanslyStashPath": settings.stash_path,
            "fanslyPreviewTag": settings.preview_tag,
            "fanslyCreateTags": settings.create_tags,
            "fanslyDryRun": settings.dry_run,
        },
    })
}

fn log_summary(proposal: &Proposal, plan_id: Option<i64>, dry_run: bool) {
    let r = &proposal.report;
    for creator in &r.creators {
        log::info!(
            "Creator @{}: {} file(s) in Stash; performer {}",
            creator.username,
            creator.files,
            if creator.performer == "create" {
                "to create".to_string()
            } else {
                format!("found by {}", creator.performer)
            }
        );
    }
    log::info!(
        "{} file(s) matched to {} post(s)/message(s); {} scene(s) to change, {} already complete, {} organized left alone",
        r.files_matched,
        r.items_with_files,
        r.to_change,
        r.unchanged,
        r.organized_skipped
    );
    for (reason, n) in &r.files_not_matched {
        log::warn!("{n} file(s) with a fansly-scraper name were not matched: {}", reason.replace('_', " "));
    }
    for (reason, n) in &r.media_not_in_stash {
        log::info!("{n} media of these creators have no file in Stash: {}", reason.replace('_', " "));
    }
    if r.preview_tag_missing {
        log::info!(
            "The preview tag does not exist: previews get no tag (create it, or change \"Fansly import - preview tag\")"
        );
    }
    if !r.hashtags_left_out.is_empty() {
        log::info!("Hashtags matching no tag, left out: {}", r.hashtags_left_out.join(", "));
    }
    match plan_id {
        None => log::info!("Nothing to import: Stash already carries everything the scraper's database says"),
        Some(id) if dry_run => log::info!(
            "Dry run: nothing was changed. Plan {id} proposes {} change(s) ({} fill empty fields, {} would overwrite, creates {}); review it, approve, then run \"Apply approved plan changes\"",
            proposal.changes.len(),
            r.fills,
            r.overwrites,
            if r.creates.is_empty() {
                "nothing".to_string()
            } else {
                r.creates.iter().map(|(kind, n)| words::count(*n as u64, kind.as_str())).collect::<Vec<_>>().join(", ")
            }
        ),
        Some(id) => log::info!("Plan {id}: applying the {} change(s) that fill empty fields", r.fills),
    }
}
