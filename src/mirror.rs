//! Copying Stash into the mirror: a full pass, an incremental catch-up, and single objects for
//! hooks. Every later task reads the mirror instead of asking Stash again.
//!
//! Why it is built this way:
//! - Memory stays flat: pages stream from Stash into one short transaction each.
//! - A full sync survives SIGKILL: its pass id, starting marks and checkpoint (the last scene
//!   id written, committed with that page) live in `sync_state`; the next start continues.
//! - Nothing is missed: an incremental sync asks for what changed after the watermark minus a
//!   second (Stash compares timestamps as text and we overlap rather than lose an edit), and the
//!   watermark is Stash's newest `updated_at` read *before* the copy started.
//! - Nothing is wrongly deleted: only a complete full pass removes what it did not see, and not
//!   at all when it saw less than half of what the mirror holds (a truncated answer).

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::{Value, json};

use crate::protocol::input::HookContext;
use crate::protocol::progress::Progress;
use crate::stash::ObjectKind;
use crate::stash::StashClient;
use crate::stash::{EntityQuery, FindFilter, Pages, SceneQuery, SortKey};
use crate::store::Store;
use crate::store::mirror::Counts;

/// What the mirror's copying uses, and nothing more: the database, the Stash client and the
/// progress sink. A task builds it from its context; a test or a bench can build it alone.
pub struct Sources<'a> {
    /// The database holding the mirror.
    pub store: &'a Store,
    /// The Stash the mirror copies.
    pub stash: &'a StashClient,
    /// Where progress goes.
    pub progress: &'a std::cell::RefCell<Progress>,
}

/// A never-synced library bigger than this is not copied implicitly by another task: the user
/// runs the (resumable, progress-reporting) Full sync task first.
const IMPLICIT_FULL_SYNC_LIMIT: u64 = 20_000;
/// Scenes per page; 500 keeps each answer and transaction small.
const SCENES_PER_PAGE: i64 = 500;

const PASS: &str = "full_sync.pass";
const PASS_STARTED: &str = "full_sync.started_at";
const PASS_MARKS: &str = "full_sync.marks";
const PASS_DONE: &str = "full_sync.done";
const SCENE_CHECKPOINT: &str = "full_sync.scene_after";
const LAST_PASS: &str = "full_sync.last_pass";
const COMPLETED: &str = "full_sync.completed_at";

fn watermark_key(kind: ObjectKind) -> String {
    format!("watermark.{}", kind.plural())
}

/// What one kind of object went through in a sync.
#[derive(Debug, Default, Clone, Serialize)]
pub struct KindSummary {
    /// Objects copied from Stash.
    pub copied: u64,
    /// Objects removed from the mirror.
    pub deleted: u64,
}

/// The result of a sync.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SyncSummary {
    /// `full` or `incremental`.
    pub kind: &'static str,
    /// Whether a killed full sync was continued.
    pub resumed: bool,
    /// Per kind of object.
    pub tags: KindSummary,
    /// Per kind of object.
    pub performers: KindSummary,
    /// Per kind of object.
    pub studios: KindSummary,
    /// Per kind of object.
    pub scenes: KindSummary,
    /// Warnings a user should read (skipped deletions, stale rows).
    pub warnings: Vec<String>,
    /// The mirror afterwards.
    pub mirror: Counts,
    /// Requests sent to Stash.
    pub requests: u64,
    /// Wall time.
    pub seconds: f64,
}

impl SyncSummary {
    fn of(&mut self, kind: ObjectKind) -> &mut KindSummary {
        match kind {
            ObjectKind::Tag => &mut self.tags,
            ObjectKind::Performer => &mut self.performers,
            ObjectKind::Studio => &mut self.studios,
            ObjectKind::Scene | ObjectKind::Image | ObjectKind::Gallery => &mut self.scenes,
        }
    }
}

/// Whether a full sync has ever completed on this database.
pub fn ever_synced(ctx: &Sources<'_>) -> anyhow::Result<bool> {
    Ok(ctx.store.state(COMPLETED)?.is_some())
}

/// Brings the mirror up to date before a task reads it: incrementally, or with a full sync when
/// there has never been one and the library is small enough to copy on the way.
pub fn refresh(ctx: &Sources<'_>) -> anyhow::Result<SyncSummary> {
    if !ever_synced(ctx)? && ctx.store.state(PASS)?.is_none() {
        let (scenes, _) = ctx.stash.latest_update(ObjectKind::Scene)?;
        if scenes > IMPLICIT_FULL_SYNC_LIMIT {
            anyhow::bail!(
                "StashHog's mirror of your library is empty and Stash has {scenes} scenes: run the task \"Full sync\" first (it shows progress and resumes if stopped), then this one"
            );
        }
    }
    incremental_sync(ctx)
}

/// Copies the whole library, resuming a killed pass, then removes what Stash no longer has.
pub fn full_sync(ctx: &Sources<'_>) -> anyhow::Result<SyncSummary> {
    let started = Instant::now();
    let requests_before = ctx.stash.requests_sent();
    let store = &ctx.store;
    let mut summary = SyncSummary { kind: "full", ..SyncSummary::default() };

    let pass = match store.state(PASS)?.and_then(|p| p.parse::<i64>().ok()) {
        Some(pass) => {
            summary.resumed = true;
            log::info!("Continuing the full sync that was stopped (pass {pass})");
            pass
        }
        None => start_pass(ctx)?,
    };
    let since = store.state(PASS_STARTED)?.context("full sync state is incomplete: no start time")?;
    let marks: Value = serde_json::from_str(&store.state(PASS_MARKS)?.unwrap_or_default()).unwrap_or(Value::Null);
    let total: u64 = ObjectKind::ALL.iter().map(|k| marks[k.plural()]["count"].as_u64().unwrap_or(0)).sum();
    let mut done: Vec<String> = serde_json::from_str(&store.state(PASS_DONE)?.unwrap_or_default()).unwrap_or_default();
    let mut progress_base = 0;

    for kind in ObjectKind::ALL {
        let expected = marks[kind.plural()]["count"].as_u64().unwrap_or(0);
        if done.iter().any(|d| d == kind.plural()) {
            progress_base += expected;
            continue;
        }
        let copied = copy_kind(ctx, kind, None, Some(pass), |n| {
            ctx.progress.borrow_mut().step(progress_base + n, total.max(1));
        })?;
        summary.of(kind).copied = copied;
        progress_base += expected;
        done.push(kind.plural().to_owned());
        let done_json = json!(done).to_string();
        store.write_mirror(|w| w.set_state(PASS_DONE, &done_json))?;
        log::info!("Full sync: {} copied", crate::words::count(copied as u64, kind.as_str()));
    }

    for kind in ObjectKind::ALL {
        let (held, seen) = store.seen_by_pass(kind, pass, &since)?;
        let unseen = store.unseen_by_pass(kind, pass, &since)?;
        if unseen.is_empty() {
            continue;
        }
        if seen * 2 < held {
            let warning = format!(
                "Full sync saw only {seen} of the {held} {} in the mirror: Stash's answer looks truncated, so nothing was removed. Run Full sync again; if Stash really lost them, the next pass removes them.",
                kind.plural()
            );
            log::warn!("{warning}");
            summary.warnings.push(warning);
            continue;
        }
        // Tags, performers and studios can only be paged by offset, so one deleted while the
        // pass walked them can hide a neighbour: ask Stash about every unseen id, and remove only
        // those it no longer has (the others are copied again).
        let (_, deleted) = refresh_objects(ctx, kind, &unseen)?;
        summary.of(kind).deleted = deleted;
        log::info!("Full sync: removed {} Stash no longer has", crate::words::count(deleted, kind.as_str()));
    }

    if summary.resumed {
        catch_up_behind_checkpoint(ctx, &marks, &mut summary)?;
    }

    let completed = store.now()?;
    store.write_mirror(|w| {
        for kind in ObjectKind::ALL {
            if let Some(mark) = marks[kind.plural()]["latest"].as_str() {
                w.set_state(&watermark_key(kind), mark)?;
            }
        }
        w.set_state(COMPLETED, &completed)?;
        for key in [PASS, PASS_STARTED, PASS_MARKS, PASS_DONE, SCENE_CHECKPOINT] {
            w.clear_state(key)?;
        }
        Ok(())
    })?;
    ctx.progress.borrow_mut().set(1.0);
    finish(ctx, summary, started, requests_before)
}

/// A pass that was stopped and resumed copied its early pages long ago: what changed or was
/// deleted there since is caught (changes since the pass's marks, then the id lists compared)
/// before the mirror is called complete.
fn catch_up_behind_checkpoint(ctx: &Sources<'_>, marks: &Value, summary: &mut SyncSummary) -> anyhow::Result<()> {
    log::info!("Full sync: catching what changed in Stash while it was stopped");
    for kind in ObjectKind::ALL {
        let after = marks[kind.plural()]["latest"].as_str().map(one_second_before);
        summary.of(kind).copied += copy_kind(ctx, kind, after, None, |_| {})?;
        summary.of(kind).deleted += remove_deleted(ctx, kind)?;
    }
    Ok(())
}

/// Records a new pass: its id, our clock at its start, and Stash's counts and newest
/// `updated_at` per kind (read before copying, so edits during the copy are after the mark).
fn start_pass(ctx: &Sources<'_>) -> anyhow::Result<i64> {
    let store = &ctx.store;
    let pass = store.state(LAST_PASS)?.and_then(|p| p.parse::<i64>().ok()).unwrap_or(0) + 1;
    let mut marks = serde_json::Map::new();
    for kind in ObjectKind::ALL {
        let (count, latest) = ctx.stash.latest_update(kind).context("asking Stash what it holds")?;
        marks.insert(kind.plural().to_owned(), json!({"count": count, "latest": latest}));
    }
    let started = store.now()?;
    store.write_mirror(|w| {
        w.set_state(LAST_PASS, &pass.to_string())?;
        w.set_state(PASS, &pass.to_string())?;
        w.set_state(PASS_STARTED, &started)?;
        w.set_state(PASS_MARKS, &Value::Object(marks).to_string())?;
        w.clear_state(PASS_DONE)?;
        w.clear_state(SCENE_CHECKPOINT)
    })?;
    log::info!("Full sync started (pass {pass})");
    Ok(pass)
}

/// Copies every object of `kind` (changed after `updated_after`, when given) into the mirror,
/// page by page; returns how many. Scenes resume from the pass's checkpoint.
fn copy_kind(
    ctx: &Sources<'_>,
    kind: ObjectKind,
    updated_after: Option<String>,
    pass: Option<i64>,
    mut on_page: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let stash = &ctx.stash;
    let store = &ctx.store;
    let mut copied = 0;
    let filter = FindFilter::sorted(SortKey::Id);
    let context = || format!("copying {} from Stash", kind.plural());
    match kind {
        ObjectKind::Image | ObjectKind::Gallery => anyhow::bail!("the mirror does not copy {} yet", kind.plural()),
        ObjectKind::Scene => {
            let checkpoint = if pass.is_some() { store.state(SCENE_CHECKPOINT)? } else { None };
            let mut after = checkpoint.and_then(|c| c.parse::<i64>().ok());
            if let Some(id) = after {
                log::info!("Full sync: continuing scenes after id {id}");
            }
            loop {
                // Keyset paging: always the first page of "id greater than the last one".
                let query =
                    SceneQuery { id_after: after, updated_after: updated_after.clone(), ..SceneQuery::default() };
                let page_filter = FindFilter { per_page: SCENES_PER_PAGE, ..filter.clone() };
                let page = stash.scenes(&query, page_filter).next().transpose().with_context(context)?;
                let Some(page) = page.filter(|p| !p.items.is_empty()) else { break };
                let last = page.items.iter().map(|s| s.id).max();
                store.write_mirror(|w| {
                    for scene in &page.items {
                        w.put_scene(scene, pass)?;
                    }
                    match (pass, last) {
                        (Some(_), Some(last)) => w.set_state(SCENE_CHECKPOINT, &last.to_string()),
                        _ => Ok(()),
                    }
                })?;
                copied += page.items.len() as u64;
                on_page(copied);
                if (page.items.len() as i64) < SCENES_PER_PAGE {
                    break;
                }
                after = last;
            }
        }
        ObjectKind::Tag | ObjectKind::Performer | ObjectKind::Studio => {
            // Stash can page these only by offset: when the count changes between pages (one
            // was deleted or newly matches), a row may have slipped between two pages, so the
            // walk starts over (writing a row twice is harmless).
            let query = EntityQuery { ids: None, updated_after };
            for attempt in 1..=3 {
                let mut first_total = None;
                let mut moved = false;
                macro_rules! copy_pages {
                    ($pages:expr, $put:ident) => {
                        for page in $pages {
                            let page = page.with_context(context)?;
                            store.write_mirror(|w| page.items.iter().try_for_each(|item| w.$put(item, pass)))?;
                            copied += page.items.len() as u64;
                            on_page(copied);
                            if *first_total.get_or_insert(page.total) != page.total {
                                moved = true;
                                break;
                            }
                        }
                    };
                }
                match kind {
                    ObjectKind::Tag => copy_pages!(stash.tags(&query, filter.clone()), put_tag),
                    ObjectKind::Performer => copy_pages!(stash.performers(&query, filter.clone()), put_performer),
                    _ => copy_pages!(stash.studios(&query, filter.clone()), put_studio),
                }
                if !moved {
                    break;
                }
                log::info!("{} changed in Stash while being copied; copying them again ({attempt}/3)", kind.plural());
            }
        }
    }
    Ok(copied)
}

/// Copies what changed since the last sync; runs (or continues) a full sync when there is no
/// complete one to build on.
pub fn incremental_sync(ctx: &Sources<'_>) -> anyhow::Result<SyncSummary> {
    if ctx.store.state(PASS)?.is_some() {
        log::info!("A full sync was stopped before it finished: continuing it");
        return full_sync(ctx);
    }
    if !ever_synced(ctx)? {
        log::info!("No full sync has completed on this database yet: running one now");
        return full_sync(ctx);
    }
    let started = Instant::now();
    let requests_before = ctx.stash.requests_sent();
    let mut summary = SyncSummary { kind: "incremental", ..SyncSummary::default() };
    for kind in ObjectKind::ALL {
        let (in_stash, latest) = ctx.stash.latest_update(kind).context("asking Stash what changed")?;
        let watermark = ctx.store.state(&watermark_key(kind))?;
        let after = watermark.as_deref().map(one_second_before);
        summary.of(kind).copied = copy_kind(ctx, kind, after, None, |_| {})?;
        if let Some(latest) = latest {
            ctx.store.write_mirror(|w| w.set_state(&watermark_key(kind), &latest))?;
        }
        // A deletion leaves no trace in updated_at; more rows here than in Stash means some
        // were deleted (or merged) while hooks were off.
        if ctx.store.mirrored_ids(kind)?.len() as u64 > in_stash {
            summary.of(kind).deleted = remove_deleted(ctx, kind)?;
        }
    }
    ctx.progress.borrow_mut().set(1.0);
    finish(ctx, summary, started, requests_before)
}

/// Removes from the mirror what Stash no longer has, comparing the full id lists; scenes that
/// carried a removed tag (a merge moves them to another tag silently) are read again.
fn remove_deleted(ctx: &Sources<'_>, kind: ObjectKind) -> anyhow::Result<u64> {
    let stash = &ctx.stash;
    let everything = EntityQuery::default();
    let filter = FindFilter::sorted(SortKey::Id);
    let mut in_stash: Vec<i64> = match kind {
        ObjectKind::Scene => stash.all_scene_ids()?,
        ObjectKind::Tag => collect_ids(stash.tags(&everything, filter), |t| t.id)?,
        ObjectKind::Performer => collect_ids(stash.performers(&everything, filter), |p| p.id)?,
        ObjectKind::Studio => collect_ids(stash.studios(&everything, filter), |s| s.id)?,
        ObjectKind::Image | ObjectKind::Gallery => anyhow::bail!("the mirror does not copy {} yet", kind.plural()),
    };
    in_stash.sort_unstable();
    let mirrored = ctx.store.mirrored_ids(kind)?;
    if in_stash.len() * 2 < mirrored.len() {
        log::warn!(
            "Stash listed only {} of the {} {} in the mirror: the answer looks truncated, so nothing was removed",
            in_stash.len(),
            mirrored.len(),
            kind.plural()
        );
        return Ok(0);
    }
    let gone: Vec<i64> = mirrored.into_iter().filter(|id| in_stash.binary_search(id).is_err()).collect();
    let carried = if kind == ObjectKind::Tag { ctx.store.scenes_with_tags(&gone)? } else { Vec::new() };
    let deleted = ctx.store.write_mirror(|w| w.delete(kind, &gone))? as u64;
    if !carried.is_empty() {
        refresh_objects(ctx, ObjectKind::Scene, &carried)?;
    }
    if deleted > 0 {
        log::info!("Removed {} deleted in Stash from the mirror", crate::words::count(deleted, kind.as_str()));
    }
    Ok(deleted)
}

fn collect_ids<T>(pages: Pages<'_, T>, id: impl Fn(&T) -> i64) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for page in pages {
        ids.extend(page.context("listing what Stash holds")?.items.iter().map(&id));
    }
    Ok(ids)
}

fn finish(
    ctx: &Sources<'_>,
    mut summary: SyncSummary,
    started: Instant,
    requests_before: u64,
) -> anyhow::Result<SyncSummary> {
    summary.mirror = ctx.store.mirror_counts()?;
    summary.requests = ctx.stash.requests_sent() - requests_before;
    summary.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    Ok(summary)
}

/// What the mirror holds and how fresh it is.
pub fn status(store: &crate::store::Store) -> anyhow::Result<Value> {
    let mut watermarks = serde_json::Map::new();
    for kind in ObjectKind::ALL {
        watermarks.insert(kind.plural().to_owned(), json!(store.state(&watermark_key(kind))?));
    }
    let stopped = match store.state(PASS)? {
        Some(pass) => Some(json!({"pass": pass, "scene_checkpoint": store.state(SCENE_CHECKPOINT)?})),
        None => None,
    };
    Ok(json!({
        "mirror": store.mirror_counts()?,
        "full_sync": { "completed_at": store.state(COMPLETED)?, "stopped": stopped },
        "watermarks": watermarks,
    }))
}

/// Refreshes what a hook names: one scene, tag, performer or studio, or after a tag merge the
/// merged tags and the scenes that carried them. Returns a small JSON summary.
pub fn refresh_from_hook(ctx: &Sources<'_>, hook: &HookContext) -> anyhow::Result<Value> {
    let (entity, action) = hook.trigger.split_once('.').unwrap_or((hook.trigger.as_str(), ""));
    let kind = match entity {
        "Scene" => ObjectKind::Scene,
        "Tag" => ObjectKind::Tag,
        "Performer" => ObjectKind::Performer,
        "Studio" => ObjectKind::Studio,
        other => anyhow::bail!("StashHog does not mirror {other} objects; remove {} from the hook", hook.trigger),
    };
    let id = hook.id.with_context(|| format!("the {} hook carried no object id", hook.trigger))?;
    let summary = match action {
        "Destroy.Post" => {
            let deleted = ctx.store.write_mirror(|w| w.delete(kind, &[id]))?;
            json!({ "deleted": deleted })
        }
        "Merge.Post" => {
            // Stash moved the sources' scenes to the destination and deleted the sources,
            // without bumping those scenes' updated_at: re-read them.
            let sources: Vec<i64> = hook.input["source"]
                .as_array()
                .map(|ids| ids.iter().filter_map(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_i64())).collect())
                .unwrap_or_default();
            let scenes = ctx.store.scenes_with_tags(&sources)?;
            let deleted = ctx.store.write_mirror(|w| w.delete(ObjectKind::Tag, &sources))?;
            let (tags, _) = refresh_objects(ctx, ObjectKind::Tag, &[id])?;
            let (scenes, _) = refresh_objects(ctx, ObjectKind::Scene, &scenes)?;
            json!({ "deleted_tags": deleted, "refreshed_tags": tags, "refreshed_scenes": scenes })
        }
        _ => {
            let (copied, deleted) = refresh_objects(ctx, kind, &[id])?;
            json!({ "refreshed": copied, "deleted": deleted })
        }
    };
    Ok(json!({ "hook": hook.trigger, "id": id, "mirror": summary }))
}

/// Re-reads these objects from Stash into the mirror; those Stash no longer has are removed.
/// Returns (copied, deleted).
fn refresh_objects(ctx: &Sources<'_>, kind: ObjectKind, ids: &[i64]) -> anyhow::Result<(u64, u64)> {
    let stash = &ctx.stash;
    let (mut copied, mut deleted) = (0, 0);
    for chunk in ids.chunks(SCENES_PER_PAGE as usize) {
        let filter = FindFilter { per_page: chunk.len() as i64, ..FindFilter::sorted(SortKey::Id) };
        let mut found = Vec::with_capacity(chunk.len());
        let entity_query = EntityQuery { ids: Some(chunk.to_vec()), updated_after: None };
        macro_rules! put_all {
            ($pages:expr, $put:ident) => {
                for page in $pages {
                    let page = page.with_context(|| format!("reading {} from Stash", kind.plural()))?;
                    found.extend(page.items.iter().map(|i| i.id));
                    ctx.store.write_mirror(|w| page.items.iter().try_for_each(|i| w.$put(i, None)))?;
                }
            };
        }
        match kind {
            ObjectKind::Scene => {
                let query = SceneQuery { ids: Some(chunk.to_vec()), ..SceneQuery::default() };
                put_all!(stash.scenes(&query, filter), put_scene)
            }
            ObjectKind::Tag => put_all!(stash.tags(&entity_query, filter), put_tag),
            ObjectKind::Performer => put_all!(stash.performers(&entity_query, filter), put_performer),
            ObjectKind::Studio => put_all!(stash.studios(&entity_query, filter), put_studio),
            ObjectKind::Image | ObjectKind::Gallery => anyhow::bail!("the mirror does not copy {} yet", kind.plural()),
        }
        let gone: Vec<i64> = chunk.iter().copied().filter(|id| !found.contains(id)).collect();
        copied += found.len() as u64;
        deleted += ctx.store.write_mirror(|w| w.delete(kind, &gone))? as u64;
    }
    Ok((copied, deleted))
}

/// Held while a StashHog run writes to Stash. Stash starts our hook for every scene each of
/// our mutations touches (a bulk update of 500 scenes: 500 processes, each re-reading its
/// scene), and the user's saves wait behind them; the run catches the mirror up itself instead,
/// once, when it is done (see [`catch_up`]). Writers share the lock; a hook that cannot take it
/// exclusively knows a writer is at work.
#[derive(Debug)]
pub struct HooksPaused {
    _lock: std::fs::File,
}

fn pause_file(stash_dir: &std::path::Path) -> std::path::PathBuf {
    stash_dir.join("stashhog").join("hooks.paused")
}

/// Pauses the mirror hook until the returned guard is dropped (or the process dies). `None`
/// when the lock file cannot be made: the hooks then simply keep running.
pub fn pause_hooks(stash_dir: &std::path::Path) -> Option<HooksPaused> {
    let path = pause_file(stash_dir);
    crate::store::files::create_dir_all(path.parent()?).ok()?;
    let file = crate::store::files::options().create(true).truncate(false).write(true).open(&path).ok()?;
    file.try_lock_shared().ok()?;
    Some(HooksPaused { _lock: file })
}

/// Whether a StashHog run is writing to Stash right now.
pub fn hooks_paused(stash_dir: &std::path::Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(pause_file(stash_dir)) else { return false };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// After a run wrote to Stash with the hooks paused: copies what changed into the mirror (when
/// there is a mirror to keep up; a never-synced one is left to the Full sync task).
pub fn catch_up(ctx: &Sources<'_>) -> anyhow::Result<()> {
    if ever_synced(ctx)? {
        let summary = incremental_sync(ctx)?;
        log::info!(
            "Mirror caught up with what was written: {} re-read",
            crate::words::count(summary.scenes.copied as u64, "scene")
        );
    }
    Ok(())
}

/// The same timestamp one second earlier, in the same text form (Stash compares as text).
/// Anything that does not look like RFC3339 is returned unchanged.
pub fn one_second_before(timestamp: &str) -> String {
    let shifted = (|| {
        let head = timestamp.get(..19)?;
        let b = head.as_bytes();
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| head.get(r)?.parse::<i64>().ok();
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let seconds = num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)? - 1;
        let days = days_from_civil(year, month, day) + seconds.div_euclid(86_400);
        let seconds = seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Some(format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{}",
            seconds / 3600,
            seconds % 3600 / 60,
            seconds % 60,
            &timestamp[19..]
        ))
    })();
    shifted.unwrap_or_else(|| timestamp.to_owned())
}

// Howard Hinnant's civil calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::one_second_before;

    #[test]
    fn a_second_earlier_keeps_stash_text_form() {
        assert_eq!(one_second_before("2026-03-01T00:00:00+01:00"), "2026-02-28T23:59:59+01:00");
        assert_eq!(one_second_before("2024-03-01T00:00:00Z"), "2024-02-29T23:59:59Z");
        assert_eq!(one_second_before("2026-01-01T00:00:00.250-05:00"), "2025-12-31T23:59:59.250-05:00");
        assert_eq!(one_second_before("2026-07-04T12:30:45+00:00"), "2026-07-04T12:30:44+00:00");
        assert_eq!(one_second_before("not a time"), "not a time");
    }
}
