//! `FakeStash`: an in-process fake of Stash's GraphQL server, faithful where StashHog depends
//! on Stash's behaviour.
//!
//! Why it exists: every integration test runs the real binary against it. It validates each
//! document against the upstream schema (422 like gqlgen), executes it with real GraphQL
//! semantics (aliases, fragments, variables), authenticates like Stash (ApiKey header or the
//! session cookie, 401 before GraphQL, cookie renewal), and pages like Stash's SQL: `findScenes`
//! without `sort` has NO `ORDER BY` (rows come back in a different order on every call), ties
//! are broken like Stash's final sort, timestamps are compared as text, string equality is
//! SQLite `LIKE`. A client bug that real Stash would expose must fail here too.
//!
//! What it must never do: return plausible data for something it does not model. Unmodelled
//! fields, filters, sorts and mutations are loud field errors naming what to extend.

use super::fake_http::{self, FakeServer, Handler, Incoming, Reply};
use super::fake_stashbox::fake_uuid;
use super::gql::{self, EnvelopeError, JsonObject, arguments, field_error, lock, not_modelled, opt_leaf, string_list};
use super::schema::Api;
use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

// ---- time ----------------------------------------------------------------------------------

/// Formats a Unix time as Stash does: RFC3339, second precision, WITH an offset
/// (`2026-01-02T03:04:05+00:00`).
pub fn rfc3339(unix: i64, offset_minutes: i32) -> String {
    let local = unix + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The library's clock: every write stamps `updated_at` with the next second, so timestamps
/// are deterministic and strictly increasing unless a test sets them by hand.
#[derive(Clone, Debug)]
pub struct Clock {
    /// Current Unix time, in seconds.
    pub unix: i64,
    /// The offset Stash prints timestamps with, in minutes.
    pub offset_minutes: i32,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            unix: 1_767_225_600, // 2026-01-01T00:00:00Z
            offset_minutes: 0,
        }
    }
}

impl Clock {
    /// The current time as Stash prints it.
    pub fn now(&self) -> String {
        rfc3339(self.unix, self.offset_minutes)
    }

    /// Advances one second and returns the new time.
    pub fn tick(&mut self) -> String {
        self.unix += 1;
        self.now()
    }
}

// ---- the library ---------------------------------------------------------------------------

/// A StashID: an entity's id on a stash-box endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StashId {
    /// The stash-box GraphQL URL, exactly as configured in Stash.
    pub endpoint: String,
    /// The entity's id on that stash-box.
    pub stash_id: String,
    /// When it was set (filled from the clock on insert when empty).
    pub updated_at: String,
}

impl StashId {
    /// A StashID; `updated_at` is stamped when the entity is inserted.
    pub fn new(endpoint: &str, stash_id: &str) -> Self {
        StashId { endpoint: endpoint.to_owned(), stash_id: stash_id.to_owned(), updated_at: String::new() }
    }
}

/// A tag.
#[derive(Clone, Debug, Default)]
pub struct Tag {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Sort name.
    pub sort_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Ignore auto-tag.
    pub ignore_auto_tag: bool,
    /// Favorite.
    pub favorite: bool,
    /// Parent tag ids.
    pub parent_ids: Vec<u64>,
    /// StashIDs (Stash ≥ 0.30).
    pub stash_ids: Vec<StashId>,
    /// Creation time (filled on insert when empty).
    pub created_at: String,
    /// Update time (filled on insert when empty).
    pub updated_at: String,
}

/// A performer.
#[derive(Clone, Debug, Default)]
pub struct Performer {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Disambiguation.
    pub disambiguation: Option<String>,
    /// Aliases.
    pub alias_list: Vec<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Ignore auto-tag.
    pub ignore_auto_tag: bool,
    /// Favorite.
    pub favorite: bool,
    /// Tag ids (a tag's `performer_count`).
    pub tag_ids: Vec<u64>,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
}

/// A studio.
#[derive(Clone, Debug, Default)]
pub struct Studio {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Parent studio id.
    pub parent_id: Option<u64>,
    /// Details.
    pub details: Option<String>,
    /// Rating 1-100.
    pub rating100: Option<i64>,
    /// Ignore auto-tag.
    pub ignore_auto_tag: bool,
    /// Favorite.
    pub favorite: bool,
    /// Tag ids (a tag's `studio_count`).
    pub tag_ids: Vec<u64>,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
}

/// A file fingerprint: `kind` is Stash's `type` (`md5`, `oshash`, `phash`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// `md5`, `oshash` or `phash`.
    pub kind: String,
    /// The value as Stash stores it (phash: unpadded lowercase hex).
    pub value: String,
}

impl Fingerprint {
    /// A fingerprint.
    pub fn new(kind: &str, value: &str) -> Self {
        Fingerprint { kind: kind.to_owned(), value: value.to_owned() }
    }
}

/// A scene's video file.
#[derive(Clone, Debug, Default)]
pub struct VideoFile {
    /// Full path.
    pub path: String,
    /// Fingerprints.
    pub fingerprints: Vec<Fingerprint>,
    /// Size in bytes.
    pub size: i64,
    /// Duration in seconds.
    pub duration: f64,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// Frames per second.
    pub frame_rate: f64,
}

impl VideoFile {
    /// A file at `path` with the given fingerprints.
    pub fn new(path: &str, fingerprints: Vec<Fingerprint>) -> Self {
        VideoFile {
            path: path.to_owned(),
            fingerprints,
            size: 1_000_000,
            duration: 600.0,
            width: 1920,
            height: 1080,
            frame_rate: 29.97,
        }
    }
}

/// A scene. Related entities are referenced by id and resolved at query time, so editing a
/// tag shows on every scene that has it.
#[derive(Clone, Debug, Default)]
pub struct Scene {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Title.
    pub title: Option<String>,
    /// Studio code.
    pub code: Option<String>,
    /// Details.
    pub details: Option<String>,
    /// Director.
    pub director: Option<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Release date (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Rating 1-100.
    pub rating100: Option<i64>,
    /// Organized flag.
    pub organized: bool,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
    /// Files (the first is primary).
    pub files: Vec<VideoFile>,
    /// Studio id.
    pub studio_id: Option<u64>,
    /// Performer ids.
    pub performer_ids: Vec<u64>,
    /// Tag ids.
    pub tag_ids: Vec<u64>,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
}

/// Options for [`Library::generate`]: a large, realistic library, fast to build.
#[derive(Clone, Debug)]
pub struct Generate {
    /// Number of scenes.
    pub scenes: usize,
    /// Number of tags.
    pub tags: usize,
    /// Number of performers.
    pub performers: usize,
    /// Number of studios.
    pub studios: usize,
    /// Tags per scene (picked pseudo-randomly).
    pub tags_per_scene: usize,
    /// Performers per scene.
    pub performers_per_scene: usize,
    /// Give every `stash_id_every`-th scene a StashID on this endpoint (0: none).
    pub stash_id_every: usize,
    /// The endpoint of those StashIDs.
    pub endpoint: String,
    /// How many consecutive scenes share one `updated_at` (≥ 1): Stash imports produce ties.
    pub scenes_per_timestamp: usize,
    /// Seed for every pseudo-random choice.
    pub seed: u64,
}

impl Default for Generate {
    fn default() -> Self {
        Generate {
            scenes: 1000,
            tags: 200,
            performers: 300,
            studios: 50,
            tags_per_scene: 5,
            performers_per_scene: 2,
            stash_id_every: 2,
            endpoint: "https://stashdb.org/graphql".into(),
            scenes_per_timestamp: 1,
            seed: 1,
        }
    }
}

/// What [`Library::generate`] created.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// Tag ids.
    pub tag_ids: Vec<u64>,
    /// Performer ids.
    pub performer_ids: Vec<u64>,
    /// Studio ids.
    pub studio_ids: Vec<u64>,
    /// Scene ids.
    pub scene_ids: Vec<u64>,
}

/// Stash's data: what its SQLite database holds. Tests edit it freely, also while the fake runs.
#[derive(Clone, Debug, Default)]
pub struct Library {
    /// Tags by id.
    pub tags: BTreeMap<u64, Tag>,
    /// Performers by id.
    pub performers: BTreeMap<u64, Performer>,
    /// Studios by id.
    pub studios: BTreeMap<u64, Studio>,
    /// Scenes by id.
    pub scenes: BTreeMap<u64, Scene>,
    /// The clock that stamps inserts and edits.
    pub clock: Clock,
    last_ids: [u64; 4],
}

const TAG: usize = 0;
const PERFORMER: usize = 1;
const STUDIO: usize = 2;
const SCENE: usize = 3;

impl Library {
    fn next_id(&mut self, table: usize, wanted: u64) -> u64 {
        let id = if wanted == 0 { self.last_ids[table] + 1 } else { wanted };
        self.last_ids[table] = self.last_ids[table].max(id);
        id
    }

    fn stamp(&mut self, created: &mut String, updated: &mut String, stash_ids: &mut [StashId]) {
        if created.is_empty() || updated.is_empty() || stash_ids.iter().any(|s| s.updated_at.is_empty()) {
            let now = self.clock.tick();
            if created.is_empty() {
                created.clone_from(&now);
            }
            if updated.is_empty() {
                updated.clone_from(&now);
            }
            for stash_id in stash_ids.iter_mut().filter(|s| s.updated_at.is_empty()) {
                stash_id.updated_at.clone_from(&now);
            }
        }
    }

    /// The current time as Stash prints it.
    pub fn now(&self) -> String {
        self.clock.now()
    }

    /// Advances the clock one second and returns the new time.
    pub fn tick(&mut self) -> String {
        self.clock.tick()
    }

    /// Adds a tag named `name`; returns its id.
    pub fn add_tag(&mut self, name: &str) -> u64 {
        self.insert_tag(Tag { name: name.to_owned(), ..Tag::default() })
    }

    /// Inserts a tag (id assigned when 0, timestamps stamped when empty); returns its id.
    pub fn insert_tag(&mut self, mut tag: Tag) -> u64 {
        tag.id = self.next_id(TAG, tag.id);
        self.stamp(&mut tag.created_at, &mut tag.updated_at, &mut tag.stash_ids);
        let id = tag.id;
        self.tags.insert(id, tag);
        id
    }

    /// Adds a performer named `name`; returns its id.
    pub fn add_performer(&mut self, name: &str) -> u64 {
        self.insert_performer(Performer { name: name.to_owned(), ..Performer::default() })
    }

    /// Inserts a performer; returns its id.
    pub fn insert_performer(&mut self, mut performer: Performer) -> u64 {
        performer.id = self.next_id(PERFORMER, performer.id);
        self.stamp(&mut performer.created_at, &mut performer.updated_at, &mut performer.stash_ids);
        let id = performer.id;
        self.performers.insert(id, performer);
        id
    }

    /// Adds a studio named `name`; returns its id.
    pub fn add_studio(&mut self, name: &str) -> u64 {
        self.insert_studio(Studio { name: name.to_owned(), ..Studio::default() })
    }

    /// Inserts a studio; returns its id.
    pub fn insert_studio(&mut self, mut studio: Studio) -> u64 {
        studio.id = self.next_id(STUDIO, studio.id);
        self.stamp(&mut studio.created_at, &mut studio.updated_at, &mut studio.stash_ids);
        let id = studio.id;
        self.studios.insert(id, studio);
        id
    }

    /// Adds a scene (id assigned when 0, timestamps stamped when empty); returns its id.
    pub fn add_scene(&mut self, mut scene: Scene) -> u64 {
        scene.id = self.next_id(SCENE, scene.id);
        self.stamp(&mut scene.created_at, &mut scene.updated_at, &mut scene.stash_ids);
        let id = scene.id;
        self.scenes.insert(id, scene);
        id
    }

    /// Adds `n` scenes built by `make(i)`; returns their ids.
    pub fn add_scenes(&mut self, n: usize, mut make: impl FnMut(usize) -> Scene) -> Vec<u64> {
        (0..n).map(|i| self.add_scene(make(i))).collect()
    }

    /// Builds a large pseudo-random library (see [`Generate`]); 100k scenes take well under a
    /// second in release and a few seconds in debug builds.
    pub fn generate(&mut self, options: &Generate) -> Generated {
        let mut rng = SplitMix(options.seed);
        let mut out = Generated::default();
        for i in 0..options.tags {
            out.tag_ids.push(self.add_tag(&format!("Tag {i:05}")));
        }
        for i in 0..options.performers {
            out.performer_ids.push(self.add_performer(&format!("Performer {i:05}")));
        }
        for i in 0..options.studios {
            out.studio_ids.push(self.add_studio(&format!("Studio {i:04}")));
        }
        let per_stamp = options.scenes_per_timestamp.max(1);
        let mut stamp = self.now();
        out.scene_ids.reserve(options.scenes);
        for i in 0..options.scenes {
            if i % per_stamp == 0 {
                stamp = self.tick();
            }
            let pick = |rng: &mut SplitMix, from: &[u64], n: usize| -> Vec<u64> {
                let mut picked: Vec<u64> = Vec::with_capacity(n);
                if !from.is_empty() {
                    for _ in 0..n.min(from.len()) {
                        let id = from[rng.below(from.len())];
                        if !picked.contains(&id) {
                            picked.push(id);
                        }
                    }
                }
                picked
            };
            let tag_ids = pick(&mut rng, &out.tag_ids, options.tags_per_scene);
            let performer_ids = pick(&mut rng, &out.performer_ids, options.performers_per_scene);
            let studio_id = (!out.studio_ids.is_empty()).then(|| out.studio_ids[rng.below(out.studio_ids.len())]);
            let phash = format!("{:x}", rng.next() >> (rng.next() % 8));
            let stash_ids = if options.stash_id_every > 0 && i % options.stash_id_every == 0 {
                vec![StashId {
                    endpoint: options.endpoint.clone(),
                    stash_id: fake_uuid(options.seed.wrapping_mul(1_000_003) ^ i as u64),
                    updated_at: stamp.clone(),
                }]
            } else {
                Vec::new()
            };
            let id = self.add_scene(Scene {
                title: Some(format!("Scene {i:06}")),
                date: Some(format!("20{:02}-{:02}-{:02}", i % 25, i % 12 + 1, i % 28 + 1)),
                organized: i % 3 == 0,
                created_at: stamp.clone(),
                updated_at: stamp.clone(),
                files: vec![VideoFile::new(
                    &format!("/data/scenes/{:03}/scene_{i:06}.mp4", i % 1000),
                    vec![
                        Fingerprint::new("oshash", &format!("{:016x}", rng.next())),
                        Fingerprint::new("phash", &phash),
                    ],
                )],
                studio_id,
                performer_ids,
                tag_ids,
                stash_ids,
                ..Scene::default()
            });
            out.scene_ids.push(id);
        }
        out
    }

    /// A tag by id.
    pub fn tag(&self, id: u64) -> Option<&Tag> {
        self.tags.get(&id)
    }

    /// A tag by exact name.
    pub fn tag_by_name(&self, name: &str) -> Option<&Tag> {
        self.tags.values().find(|t| t.name == name)
    }

    /// A scene by id.
    pub fn scene(&self, id: u64) -> Option<&Scene> {
        self.scenes.get(&id)
    }

    /// A scene, mutably, WITHOUT bumping `updated_at` (use [`Library::edit_scene`] for an edit
    /// as Stash would record it).
    pub fn scene_mut(&mut self, id: u64) -> Option<&mut Scene> {
        self.scenes.get_mut(&id)
    }

    /// Edits a scene like a user in Stash's UI: applies `edit`, then stamps `updated_at`.
    pub fn edit_scene(&mut self, id: u64, edit: impl FnOnce(&mut Scene)) {
        let now = self.clock.tick();
        let scene = self.scenes.get_mut(&id).expect("edit_scene: no such scene");
        edit(scene);
        scene.updated_at = now;
    }

    /// Edits a tag, then stamps its `updated_at`.
    pub fn edit_tag(&mut self, id: u64, edit: impl FnOnce(&mut Tag)) {
        let now = self.clock.tick();
        let tag = self.tags.get_mut(&id).expect("edit_tag: no such tag");
        edit(tag);
        tag.updated_at = now;
    }

    /// Deletes a tag and removes it from every scene, performer, studio and child tag, as
    /// Stash's foreign keys do.
    pub fn remove_tag(&mut self, id: u64) {
        self.tags.remove(&id);
        for scene in self.scenes.values_mut() {
            scene.tag_ids.retain(|t| *t != id);
        }
        for performer in self.performers.values_mut() {
            performer.tag_ids.retain(|t| *t != id);
        }
        for studio in self.studios.values_mut() {
            studio.tag_ids.retain(|t| *t != id);
        }
        for tag in self.tags.values_mut() {
            tag.parent_ids.retain(|t| *t != id);
        }
    }

    /// Deletes a performer and removes it from every scene, as Stash's foreign keys do.
    pub fn remove_performer(&mut self, id: u64) {
        self.performers.remove(&id);
        for scene in self.scenes.values_mut() {
            scene.performer_ids.retain(|p| *p != id);
        }
    }

    /// Deletes a studio: its scenes lose their studio and its children their parent, as Stash's
    /// foreign keys do (`ON DELETE SET NULL`).
    pub fn remove_studio(&mut self, id: u64) {
        self.studios.remove(&id);
        for scene in self.scenes.values_mut().filter(|s| s.studio_id == Some(id)) {
            scene.studio_id = None;
        }
        for studio in self.studios.values_mut().filter(|s| s.parent_id == Some(id)) {
            studio.parent_id = None;
        }
    }

    /// A performer by exact name.
    pub fn performer_by_name(&self, name: &str) -> Option<&Performer> {
        self.performers.values().find(|p| p.name == name)
    }

    /// A studio by exact name.
    pub fn studio_by_name(&self, name: &str) -> Option<&Studio> {
        self.studios.values().find(|s| s.name == name)
    }

    /// Merges tags as Stash's `tagsMerge` does: the sources' scenes get the destination (the
    /// join rows are rewritten, the scenes' `updated_at` is NOT touched), the sources' names
    /// become aliases of the destination (which is stamped), and the sources are deleted.
    pub fn merge_tags(&mut self, sources: &[u64], destination: u64) {
        let names: Vec<String> = sources.iter().filter_map(|id| self.tags.get(id)).map(|t| t.name.clone()).collect();
        for scene in self.scenes.values_mut() {
            if scene.tag_ids.iter().any(|t| sources.contains(t)) {
                scene.tag_ids.retain(|t| !sources.contains(t));
                if !scene.tag_ids.contains(&destination) {
                    scene.tag_ids.push(destination);
                }
            }
        }
        for id in sources {
            self.remove_tag(*id);
        }
        self.edit_tag(destination, |t| t.aliases.extend(names));
    }

    /// Deletes a scene.
    pub fn remove_scene(&mut self, id: u64) {
        self.scenes.remove(&id);
    }

    /// The names of a scene's tags, sorted (for assertions).
    pub fn scene_tag_names(&self, scene_id: u64) -> Vec<String> {
        let mut names: Vec<String> = self
            .scene(scene_id)
            .map(|s| s.tag_ids.iter().filter_map(|t| self.tags.get(t)).map(|t| t.name.clone()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

// ---- configuration -------------------------------------------------------------------------

/// Stash's `systemStatus.status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SystemStatus {
    /// Ready.
    #[default]
    Ok,
    /// First run: no configuration yet.
    Setup,
    /// The database needs a migration.
    NeedsMigration,
}

impl SystemStatus {
    /// The GraphQL enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemStatus::Ok => "OK",
            SystemStatus::Setup => "SETUP",
            SystemStatus::NeedsMigration => "NEEDS_MIGRATION",
        }
    }
}

/// One configured stash-box (Settings › Metadata Providers).
#[derive(Clone, Debug, Default)]
pub struct StashBoxConfig {
    /// Full GraphQL URL.
    pub endpoint: String,
    /// API key.
    pub api_key: String,
    /// Display name.
    pub name: String,
    /// 0 when unset (Stash then uses 240).
    pub max_requests_per_minute: i64,
}

/// What `version`, `systemStatus` and `configuration` report.
#[derive(Clone, Debug)]
pub struct StashConfig {
    /// `version.version`.
    pub version: Option<String>,
    /// `version.hash`.
    pub hash: String,
    /// `version.build_time`.
    pub build_time: String,
    /// `systemStatus.status`.
    pub status: SystemStatus,
    /// `systemStatus.databaseSchema`.
    pub database_schema: Option<i64>,
    /// `systemStatus.appSchema`.
    pub app_schema: i64,
    /// Configured stash-boxes.
    pub stash_boxes: Vec<StashBoxConfig>,
    /// `scraping.excludeTagPatterns`.
    pub exclude_tag_patterns: Vec<String>,
    /// Saved plugin settings by plugin id; a plugin never saved is absent.
    pub plugins: BTreeMap<String, Map<String, Value>>,
}

impl Default for StashConfig {
    fn default() -> Self {
        StashConfig {
            version: Some("v0.30.1".into()),
            hash: "0123abcd".into(),
            build_time: "2026-01-01 00:00:00".into(),
            status: SystemStatus::Ok,
            database_schema: Some(75),
            app_schema: 75,
            stash_boxes: Vec::new(),
            exclude_tag_patterns: Vec::new(),
            plugins: BTreeMap::new(),
        }
    }
}

impl StashConfig {
    /// Adds a stash-box; `endpoint` must be the full GraphQL URL.
    pub fn add_stash_box(&mut self, endpoint: &str, api_key: &str, name: &str) {
        self.stash_boxes.push(StashBoxConfig {
            endpoint: endpoint.to_owned(),
            api_key: api_key.to_owned(),
            name: name.to_owned(),
            max_requests_per_minute: 0,
        });
    }

    /// Saves one setting of `plugin`, as the UI would.
    pub fn set_plugin_setting(&mut self, plugin: &str, key: &str, value: Value) {
        self.plugins.entry(plugin.to_owned()).or_default().insert(key.to_owned(), value);
    }
}

/// Everything the fake Stash serves.
#[derive(Clone, Debug, Default)]
pub struct StashState {
    /// The data.
    pub library: Library,
    /// Version, status and configuration.
    pub config: StashConfig,
    /// Post hooks the running mutation triggered, run once it has committed.
    pending_hooks: Vec<HookEvent>,
}

/// A post hook Stash fires after a mutation commits (see [`FakeStash::on_hook`]).
#[derive(Clone, Debug)]
pub struct HookEvent {
    /// The object's id.
    pub id: u64,
    /// `Scene.Update.Post` and the like.
    pub trigger: String,
    /// The mutation's input (for `bulkSceneUpdate` the bulk input: the hook fires per scene).
    pub input: Value,
    /// The input keys the client sent.
    pub input_fields: Vec<String>,
    /// The session cookie value to hand the hook process.
    pub cookie: String,
}

/// Runs a hook the way Stash runs a plugin hook; the mutation's answer waits for it.
pub type HookRunner = Arc<dyn Fn(&HookEvent) + Send + Sync>;

// ---- the server ----------------------------------------------------------------------------

struct Auth {
    api_key: Option<String>,
    cookie: String,
    generation: u64,
    rotate_after: Option<u64>,
}

struct StashInner {
    state: Mutex<StashState>,
    auth: Mutex<Auth>,
    hooks: Mutex<Option<HookRunner>>,
}

/// The fake Stash server (see the module docs). Request log and faults come from
/// [`FakeServer`] through `Deref`. Stops when dropped.
pub struct FakeStash {
    server: FakeServer,
    inner: Arc<StashInner>,
}

impl Deref for FakeStash {
    type Target = FakeServer;

    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

impl Default for FakeStash {
    fn default() -> Self {
        Self::start()
    }
}

impl FakeStash {
    /// Starts a fake Stash with an empty library and no credentials configured.
    pub fn start() -> FakeStash {
        let inner = Arc::new(StashInner {
            state: Mutex::new(StashState::default()),
            auth: Mutex::new(Auth { api_key: None, cookie: new_cookie(0), generation: 0, rotate_after: None }),
            hooks: Mutex::new(None),
        });
        let server = FakeServer::start(Arc::new(StashHandler { inner: Arc::clone(&inner) }));
        FakeStash { server, inner }
    }

    /// Makes mutations run `runner` for each post hook they trigger, synchronously: after the
    /// change is committed and before the mutation answers, exactly as Stash runs plugin hooks
    /// (so a client that holds a lock across its mutation deadlocks here as it would there).
    pub fn on_hook(&self, runner: HookRunner) {
        *lock(&self.inner.hooks) = Some(runner);
    }

    /// Starts a fake Stash with credentials configured and this API key.
    pub fn with_api_key(key: &str) -> FakeStash {
        let fake = FakeStash::start();
        fake.set_api_key(Some(key));
        fake
    }

    /// Reads or edits the library while the server runs.
    pub fn lib<R>(&self, f: impl FnOnce(&mut Library) -> R) -> R {
        f(&mut lock(&self.inner.state).library)
    }

    /// Reads or edits version, status and configuration while the server runs.
    pub fn config<R>(&self, f: impl FnOnce(&mut StashConfig) -> R) -> R {
        f(&mut lock(&self.inner.state).config)
    }

    /// Sets `systemStatus.status`.
    pub fn set_status(&self, status: SystemStatus) {
        self.config(|c| c.status = status);
    }

    /// Configures credentials (`Some`: every request needs the key or the session cookie) or
    /// removes them (`None`: Stash accepts everything).
    pub fn set_api_key(&self, key: Option<&str>) {
        lock(&self.inner.auth).api_key = key.map(str::to_owned);
    }

    /// The configured API key.
    pub fn api_key(&self) -> Option<String> {
        lock(&self.inner.auth).api_key.clone()
    }

    /// The session cookie's current value: what Stash would put in the plugin's input.
    pub fn session_cookie(&self) -> String {
        lock(&self.inner.auth).cookie.clone()
    }

    /// After `n` more authenticated requests, renew the session: that response carries
    /// `Set-Cookie: session=<new>` and from then on only the new value is accepted.
    pub fn rotate_cookie_after(&self, n: u64) {
        lock(&self.inner.auth).rotate_after = Some(n);
    }

    /// A URL where nothing listens.
    pub fn dead_url() -> String {
        fake_http::dead_url()
    }
}

fn new_cookie(generation: u64) -> String {
    let noise = SplitMix(next_seed()).next();
    format!("MTc{generation}x{noise:016x}")
}

struct StashHandler {
    inner: Arc<StashInner>,
}

impl StashHandler {
    /// Stash's authentication middleware: `Ok(Some(cookie))` when this response renews it.
    fn authenticate(&self, request: &Incoming) -> Result<Option<String>, ()> {
        let mut auth = lock(&self.inner.auth);
        let authorized = match &auth.api_key {
            None => true,
            Some(key) => {
                request.header("ApiKey") == Some(key.as_str())
                    || request.cookie("session").as_deref() == Some(auth.cookie.as_str())
            }
        };
        if !authorized {
            return Err(());
        }
        match auth.rotate_after {
            Some(0) => {
                auth.generation += 1;
                auth.cookie = new_cookie(auth.generation);
                auth.rotate_after = None;
                Ok(Some(auth.cookie.clone()))
            }
            Some(n) => {
                auth.rotate_after = Some(n - 1);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn graphql(&self, request: &Incoming) -> Reply {
        if request.method != "POST" {
            return Reply::json(405, &gql::error_body("the fake Stash serves POST only"));
        }
        let gql_request = match &request.gql {
            Ok(r) => r,
            Err(EnvelopeError::BadJson(message)) => {
                return Reply::json(400, &gql::error_body(message));
            }
            Err(EnvelopeError::NoQuery) => {
                return Reply::json(
                    422,
                    &gql::errors_body(vec![json!({
                        "message": "no operation provided",
                        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}
                    })]),
                );
            }
        };
        let document = match gql::document(Api::Stash, &gql_request.query) {
            Ok(document) => document,
            Err(errors) => return Reply::json(422, &gql::errors_body(errors)),
        };
        let mut state = lock(&self.inner.state);
        let cell = RefCell::new(&mut *state);
        let cx = Cx { st: &cell, seed: next_seed() };
        let executed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            gql::execute(Api::Stash, &document, gql_request, |op| match op {
                OperationType::Mutation => Box::new(MutationRoot { cx }),
                _ => Box::new(QueryRoot { cx }),
            })
        }));
        let hooks = std::mem::take(&mut state.pending_hooks);
        drop(state);
        let runner = lock(&self.inner.hooks).clone();
        if let Some(runner) = runner {
            let cookie = lock(&self.inner.auth).cookie.clone();
            for hook in hooks {
                runner(&HookEvent { cookie: cookie.clone(), ..hook });
            }
        }
        match executed {
            Ok(executed) => Reply::json(executed.status, &executed.body),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                Reply::text(500, "text/plain; charset=utf-8", &format!("the fake Stash panicked: {message}\n"))
            }
        }
    }
}

impl Handler for StashHandler {
    fn handle(&self, request: &Incoming) -> Reply {
        if request.path != "/graphql" {
            return Reply::text(404, "text/plain; charset=utf-8", "404 page not found\n");
        }
        // Stash authenticates before the GraphQL handler sees anything.
        let renewed = match self.authenticate(request) {
            Ok(renewed) => renewed,
            Err(()) => return Reply::empty(401),
        };
        let reply = self.graphql(request);
        match renewed {
            Some(cookie) => {
                reply.with_header("Set-Cookie", &format!("session={cookie}; Path=/; Max-Age=3600; HttpOnly"))
            }
            None => reply,
        }
    }
}

/// A fresh seed per request: the order of unsorted rows changes from call to call.
fn next_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    SplitMix(nanos ^ COUNTER.fetch_add(1, AtomicOrdering::Relaxed).wrapping_mul(0x9E37_79B9)).next()
}

/// splitmix64: a tiny, good-enough PRNG (no dependency needed).
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Shuffles `items` (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

// ---- resolvers -----------------------------------------------------------------------------

/// What every resolver of one request shares: the state (borrowed per field, so mutations can
/// write between fields) and the request's seed.
#[derive(Clone, Copy)]
struct Cx<'a> {
    st: &'a RefCell<&'a mut StashState>,
    seed: u64,
}

fn nm(type_name: &str, field: &str) -> FieldError {
    not_modelled(Api::Stash, type_name, field)
}

fn id_leaf<'a>(id: u64) -> ResolvedValue<'a> {
    ResolvedValue::leaf(id.to_string())
}

fn parse_id(value: &Value) -> Result<u64, FieldError> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.parse().map_err(|_| field_error(format!("strconv.Atoi: parsing {text:?}: invalid syntax")))
}

fn parse_ids(value: Option<&Value>) -> Result<Option<Vec<u64>>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items.iter().map(parse_id).collect::<Result<_, _>>().map(Some),
        Some(other) => Err(field_error(format!("expected a list of ids, got {other}"))),
    }
}

fn stash_ids_value<'a>(stash_ids: &[StashId]) -> ResolvedValue<'a> {
    let items: Vec<ResolvedValue<'a>> = stash_ids
        .iter()
        .map(|s| {
            ResolvedValue::object(JsonObject::new(
                "StashID",
                json!({"endpoint": s.endpoint, "stash_id": s.stash_id, "updated_at": s.updated_at}),
            ))
        })
        .collect();
    ResolvedValue::list(items)
}

struct QueryRoot<'c> {
    cx: Cx<'c>,
}

impl ObjectValue for QueryRoot<'_> {
    fn type_name(&self) -> &str {
        "Query"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let cx = self.cx;
        let args = arguments(info);
        match info.field_name() {
            "version" => {
                let st = cx.st.borrow();
                let c = &st.config;
                Ok(ResolvedValue::object(JsonObject::new(
                    "Version",
                    json!({"version": c.version, "hash": c.hash, "build_time": c.build_time}),
                )))
            }
            "systemStatus" => {
                let st = cx.st.borrow();
                let c = &st.config;
                Ok(ResolvedValue::object(JsonObject::new(
                    "SystemStatus",
                    json!({
                        "status": c.status.as_str(),
                        "databaseSchema": c.database_schema,
                        "appSchema": c.app_schema,
                        "databasePath": "/root/.stash/stash-go.sqlite",
                        "configPath": "/root/.stash/config.yml",
                        "os": "linux",
                        "workingDir": "/root",
                        "homeDir": "/root",
                    }),
                )))
            }
            "configuration" => Ok(ResolvedValue::object(ConfigObj { cx })),
            "findScenes" => find(cx, Kind::Scene, &args),
            "findTags" => find(cx, Kind::Tag, &args),
            "findPerformers" => find(cx, Kind::Performer, &args),
            "findStudios" => find(cx, Kind::Studio, &args),
            "findScene" => {
                let st = cx.st.borrow();
                let scenes = &st.library.scenes;
                let found = if let Some(id) = args.get("id").filter(|v| !v.is_null()) {
                    let id = parse_id(id)?;
                    scenes.contains_key(&id).then_some(id)
                } else if let Some(checksum) = args.get("checksum").and_then(Value::as_str) {
                    scenes
                        .values()
                        .find(|s| {
                            s.files.iter().any(|f| {
                                f.fingerprints
                                    .iter()
                                    .any(|fp| (fp.kind == "md5" || fp.kind == "oshash") && fp.value == checksum)
                            })
                        })
                        .map(|s| s.id)
                } else {
                    None
                };
                Ok(ResolvedValue::nullable_object(found.map(|id| EntityObj::new(cx, Kind::Scene, id))))
            }
            field @ ("findTag" | "findPerformer" | "findStudio") => {
                let kind = match field {
                    "findTag" => Kind::Tag,
                    "findPerformer" => Kind::Performer,
                    _ => Kind::Studio,
                };
                let id = parse_id(args.get("id").unwrap_or(&Value::Null))?;
                let exists = {
                    let st = cx.st.borrow();
                    let lib = &st.library;
                    match kind {
                        Kind::Tag => lib.tags.contains_key(&id),
                        Kind::Performer => lib.performers.contains_key(&id),
                        _ => lib.studios.contains_key(&id),
                    }
                };
                Ok(ResolvedValue::nullable_object(exists.then(|| EntityObj::new(cx, kind, id))))
            }
            other => Err(nm("Query", other)),
        }
    }
}

struct ConfigObj<'c> {
    cx: Cx<'c>,
}

impl ObjectValue for ConfigObj<'_> {
    fn type_name(&self) -> &str {
        "ConfigResult"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let st = self.cx.st.borrow();
        let c = &st.config;
        match info.field_name() {
            "general" => {
                let boxes: Vec<Value> = c
                    .stash_boxes
                    .iter()
                    .map(|b| {
                        json!({
                            "endpoint": b.endpoint,
                            "api_key": b.api_key,
                            "name": b.name,
                            "max_requests_per_minute": b.max_requests_per_minute,
                        })
                    })
                    .collect();
                Ok(ResolvedValue::object(JsonObject::new("ConfigGeneralResult", json!({ "stashBoxes": boxes }))))
            }
            "scraping" => Ok(ResolvedValue::object(JsonObject::new(
                "ConfigScrapingResult",
                json!({
                    "excludeTagPatterns": c.exclude_tag_patterns,
                    "scraperCertCheck": true,
                }),
            ))),
            "plugins" => {
                let include: Option<Vec<String>> = arguments(info)
                    .get("include")
                    .and_then(Value::as_array)
                    .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_owned).collect());
                let map: Map<String, Value> = c
                    .plugins
                    .iter()
                    .filter(|(id, _)| include.as_ref().is_none_or(|inc| inc.contains(id)))
                    .map(|(id, settings)| (id.clone(), Value::Object(settings.clone())))
                    .collect();
                Ok(ResolvedValue::Leaf(gql::to_json_value(&Value::Object(map))))
            }
            "ui" => Ok(ResolvedValue::Leaf(gql::to_json_value(&json!({})))),
            other => Err(nm("ConfigResult", other)),
        }
    }
}

// ---- finding -------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Scene,
    Tag,
    Performer,
    Studio,
}

impl Kind {
    fn object_type(self) -> &'static str {
        match self {
            Kind::Scene => "Scene",
            Kind::Tag => "Tag",
            Kind::Performer => "Performer",
            Kind::Studio => "Studio",
        }
    }

    fn result_type(self) -> &'static str {
        match self {
            Kind::Scene => "FindScenesResultType",
            Kind::Tag => "FindTagsResultType",
            Kind::Performer => "FindPerformersResultType",
            Kind::Studio => "FindStudiosResultType",
        }
    }

    fn list_field(self) -> &'static str {
        match self {
            Kind::Scene => "scenes",
            Kind::Tag => "tags",
            Kind::Performer => "performers",
            Kind::Studio => "studios",
        }
    }

    fn filter_arg(self) -> &'static str {
        match self {
            Kind::Scene => "scene_filter",
            Kind::Tag => "tag_filter",
            Kind::Performer => "performer_filter",
            Kind::Studio => "studio_filter",
        }
    }

    /// The field holding the entity's name (`title` for scenes).
    fn name_field(self) -> &'static str {
        match self {
            Kind::Scene => "title",
            _ => "name",
        }
    }

    /// Stash's allowed sorts (sqlite/*.go `…SortOptions`); anything else is "invalid sort".
    fn sort_options(self) -> &'static [&'static str] {
        match self {
            Kind::Scene => &[
                "bitrate",
                "created_at",
                "code",
                "date",
                "production_date",
                "file_count",
                "filesize",
                "duration",
                "file_mod_time",
                "framerate",
                "group_scene_number",
                "id",
                "interactive",
                "interactive_speed",
                "last_o_at",
                "last_played_at",
                "movie_scene_number",
                "o_counter",
                "organized",
                "performer_count",
                "play_count",
                "play_duration",
                "resume_time",
                "path",
                "perceptual_similarity",
                "random",
                "rating",
                "resolution",
                "studio",
                "tag_count",
                "title",
                "updated_at",
                "performer_age",
            ],
            Kind::Tag => &[
                "created_at",
                "galleries_count",
                "id",
                "images_count",
                "name",
                "performers_count",
                "random",
                "scene_markers_count",
                "scenes_count",
                "updated_at",
            ],
            Kind::Performer => &[
                "birthdate",
                "career_length",
                "created_at",
                "galleries_count",
                "height",
                "id",
                "images_count",
                "last_o_at",
                "last_played_at",
                "measurements",
                "name",
                "o_counter",
                "penis_length",
                "play_count",
                "random",
                "rating",
                "scenes_count",
                "scenes_duration",
                "tag_count",
                "updated_at",
                "weight",
            ],
            Kind::Studio => &[
                "child_count",
                "created_at",
                "galleries_count",
                "id",
                "images_count",
                "name",
                "scenes_count",
                "random",
                "rating",
                "tag_count",
                "updated_at",
            ],
        }
    }
}

/// The columns the finder needs from any entity.
trait Row {
    fn id(&self) -> u64;
    fn name(&self) -> Option<&str>;
    fn created_at(&self) -> &str;
    fn updated_at(&self) -> &str;
    fn stash_ids(&self) -> &[StashId];
    /// Texts `filter.q` searches (approximately Stash's search columns).
    fn search_texts(&self) -> Vec<&str>;
    fn organized(&self) -> Option<bool> {
        None
    }
    fn date(&self) -> Option<&str> {
        None
    }
    /// `COALESCE(title, files.basename)` for scenes; the name otherwise.
    fn title_sort(&self) -> Option<&str> {
        self.name()
    }
}

impl Row for Scene {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> =
            [&self.title, &self.details, &self.code].into_iter().filter_map(|t| t.as_deref()).collect();
        texts.extend(self.files.iter().map(|f| f.path.as_str()));
        texts
    }
    fn organized(&self) -> Option<bool> {
        Some(self.organized)
    }
    fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }
    fn title_sort(&self) -> Option<&str> {
        self.title.as_deref().or_else(|| self.files.first().map(|f| basename(&f.path)))
    }
}

impl Row for Tag {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str)).collect()
    }
}

impl Row for Performer {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str()).chain(self.alias_list.iter().map(String::as_str)).collect()
    }
}

impl Row for Studio {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str)).collect()
    }
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn find<'c: 'a, 'a>(cx: Cx<'c>, kind: Kind, args: &Map<String, Value>) -> Result<ResolvedValue<'a>, FieldError> {
    let st = cx.st.borrow();
    let lib = &st.library;
    let page = match kind {
        Kind::Scene => query(&lib.scenes, kind, args, cx.seed)?,
        Kind::Tag => query(&lib.tags, kind, args, cx.seed)?,
        Kind::Performer => query(&lib.performers, kind, args, cx.seed)?,
        Kind::Studio => query(&lib.studios, kind, args, cx.seed)?,
    };
    let (duration, filesize) = if kind == Kind::Scene {
        page.all.iter().filter_map(|id| lib.scenes.get(id)).fold((0.0, 0.0), |(d, s), scene| {
            scene.files.iter().fold((d, s), |(d, s), f| (d + f.duration, s + f.size as f64))
        })
    } else {
        (0.0, 0.0)
    };
    Ok(ResolvedValue::object(FindResult { cx, kind, count: page.all.len(), ids: page.ids, duration, filesize }))
}

struct Page {
    /// Every matching id (for `count` and totals).
    all: Vec<u64>,
    /// The requested page, in order.
    ids: Vec<u64>,
}

/// Stash's `Query`: filter, sort, paginate.
fn query<E: Row>(
    rows: &BTreeMap<u64, E>,
    kind: Kind,
    args: &Map<String, Value>,
    seed: u64,
) -> Result<Page, FieldError> {
    let empty = Map::new();
    let find_filter = args.get("filter").and_then(Value::as_object);
    let ff = find_filter.unwrap_or(&empty);
    let predicates = match args.get(kind.filter_arg()) {
        Some(Value::Object(filter)) => compile_filter(kind, filter)?,
        _ => Vec::new(),
    };
    let mut restrict = parse_ids(args.get("ids"))?;
    let legacy_ids = match kind {
        Kind::Scene => args.get("scene_ids"),
        Kind::Performer => args.get("performer_ids"),
        _ => None,
    };
    if let Some(legacy) = parse_ids(legacy_ids)? {
        restrict.get_or_insert_with(Vec::new).extend(legacy);
    }
    let q = ff.get("q").and_then(Value::as_str).filter(|q| !q.is_empty()).map(str::to_ascii_lowercase);

    let matches = |row: &E| {
        predicates.iter().all(|p| p.eval(row))
            && q.as_ref().is_none_or(|q| row.search_texts().iter().any(|t| t.to_ascii_lowercase().contains(q.as_str())))
    };
    let mut matched: Vec<&E> = match &restrict {
        Some(wanted) => {
            let wanted: BTreeSet<u64> = wanted.iter().copied().collect();
            wanted.iter().filter_map(|id| rows.get(id)).filter(|r| matches(r)).collect()
        }
        None => rows.values().filter(|r| matches(r)).collect(),
    };

    sort(kind, ff, &mut matched, seed)?;

    let ids: Vec<u64> = matched.iter().map(|r| r.id()).collect();
    let all = ids.clone();
    // Stash's FindFilterType.GetPageSize: 25 by default, -1 for all, never more than 1000.
    let per_page = ff.get("per_page").and_then(Value::as_i64).unwrap_or(25).min(1000);
    let page = ff.get("page").and_then(Value::as_i64).unwrap_or(1).max(1);
    let ids = if per_page < 0 {
        ids
    } else {
        let start = ((page - 1) * per_page) as usize;
        ids.into_iter().skip(start).take(per_page as usize).collect()
    };
    Ok(Page { all, ids })
}

/// Orders `ids` like Stash's SQL. Scenes without `sort` get NO order at all (a new shuffle per
/// request); tags, performers and studios default to `name`. Whatever the sort, Stash adds a
/// final `COALESCE(name|title, id) COLLATE NATURAL_CI ASC`; rows still tied after that come
/// back in an order that changes from request to request (a per-request random key).
fn sort<E: Row>(kind: Kind, ff: &Map<String, Value>, rows: &mut Vec<&E>, seed: u64) -> Result<(), FieldError> {
    let requested = ff.get("sort").and_then(Value::as_str);
    let sort = match (kind, requested) {
        (Kind::Scene, None | Some("")) => {
            SplitMix(seed).shuffle(rows);
            return Ok(());
        }
        (_, None) => "name",
        (_, Some(sort)) => sort,
    };
    if let Some(random_seed) = sort.strip_prefix("random_") {
        if random_seed.parse::<u64>().is_err() {
            return Err(field_error(format!("invalid random seed: {random_seed}")));
        }
    } else if !kind.sort_options().contains(&sort) {
        return Err(field_error(format!("invalid sort: {sort}")));
    }
    let descending = ff.get("direction").and_then(Value::as_str) == Some("DESC");
    if sort == "id" {
        // ids are unique and already ascending (BTreeMap order).
        if descending {
            rows.reverse();
        }
        return Ok(());
    }
    if sort == "random" || sort.starts_with("random_") {
        SplitMix(seed).shuffle(rows);
        return Ok(());
    }
    // (primary key, compare naturally?) per sort; keys are borrowed, computed once per row.
    let (primary, natural): (fn(&E) -> Option<&str>, bool) = match sort {
        "updated_at" => (|r| Some(r.updated_at()), false),
        "created_at" => (|r| Some(r.created_at()), false),
        "name" | "title" => (|r| r.title_sort(), true),
        "date" if kind == Kind::Scene => (|r| r.date(), false),
        "organized" if kind == Kind::Scene => (|r| r.organized().map(|o| if o { "1" } else { "0" }), false),
        other => {
            return Err(field_error(format!(
                "the fake Stash does not model sort {other:?} for {} yet (extend tests/support/fake_stash.rs)",
                kind.object_type()
            )));
        }
    };
    struct Keyed<'r, E> {
        primary: Option<&'r str>,
        tie: Option<&'r str>,
        id: u64,
        row: &'r E,
    }
    let mut keyed: Vec<Keyed<'_, E>> =
        rows.iter().map(|&r| Keyed { primary: primary(r), tie: r.name(), id: r.id(), row: r }).collect();
    // Rows tied on everything Stash sorts by come back in an order that differs per request.
    let arbitrary = |id: u64| SplitMix(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next();
    keyed.sort_unstable_by(|a, b| {
        let first = nullable_cmp(a.primary, b.primary, |x, y| if natural { natural_cmp_ci(x, y) } else { x.cmp(y) });
        let first = if descending { first.reverse() } else { first };
        first
            .then_with(|| stash_tiebreak((a.tie, a.id), (b.tie, b.id)))
            .then_with(|| arbitrary(a.id).cmp(&arbitrary(b.id)))
    });
    *rows = keyed.into_iter().map(|k| k.row).collect();
    Ok(())
}

/// SQL ordering of nullable values: NULL first in ascending order.
fn nullable_cmp(a: Option<&str>, b: Option<&str>, cmp: impl Fn(&str, &str) -> Ordering) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => cmp(a, b),
    }
}

/// `COALESCE(name, id) COLLATE NATURAL_CI ASC` on (name, id): an integer (a NULL name) sorts
/// before any text.
fn stash_tiebreak(a: (Option<&str>, u64), b: (Option<&str>, u64)) -> Ordering {
    match (a.0, b.0) {
        (None, None) => a.1.cmp(&b.1),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => natural_cmp_ci(x, y),
    }
}

/// Stash's NATURAL_CI collation: case-insensitive, digit runs compared as numbers.
pub fn natural_cmp_ci(a: &str, b: &str) -> Ordering {
    let (ba, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ba.len() && j < bb.len() {
        if ba[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let run = |s: &[u8], mut k: usize| {
                while k < s.len() && s[k].is_ascii_digit() {
                    k += 1;
                }
                k
            };
            let (end_a, end_b) = (run(ba, i), run(bb, j));
            let strip = |s: &str| s.trim_start_matches('0').len();
            let (da, db) = (&a[i..end_a], &b[j..end_b]);
            let (na, nb) = (&da[da.len() - strip(da)..], &db[db.len() - strip(db)..]);
            let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if o != Ordering::Equal {
                return o;
            }
            (i, j) = (end_a, end_b);
        } else {
            // i and j always sit on character boundaries: digits are one byte.
            let (Some(ca), Some(cb)) = (a[i..].chars().next(), b[j..].chars().next()) else {
                break;
            };
            let o = if ca.is_ascii() && cb.is_ascii() {
                ca.to_ascii_lowercase().cmp(&cb.to_ascii_lowercase())
            } else {
                ca.to_lowercase().cmp(cb.to_lowercase())
            };
            if o != Ordering::Equal {
                return o;
            }
            i += ca.len_utf8();
            j += cb.len_utf8();
        }
    }
    (ba.len() - i).cmp(&(bb.len() - j))
}

/// SQLite's `LIKE` without ESCAPE: `%` and `_` are wildcards, ASCII letters compare
/// case-insensitively, nothing else is folded.
pub fn sqlite_like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let eq = |a: char, b: char| a.eq_ignore_ascii_case(&b);
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || (p[pi] != '%' && eq(p[pi], t[ti]))) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

// ---- filters -------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Modifier {
    Equals,
    NotEquals,
    GreaterThan,
    LessThan,
    IsNull,
    NotNull,
    Includes,
    Excludes,
    Between,
    NotBetween,
}

fn modifier(criterion: &Map<String, Value>, context: &str) -> Result<Modifier, FieldError> {
    Ok(match criterion.get("modifier").and_then(Value::as_str).unwrap_or("") {
        "EQUALS" => Modifier::Equals,
        "NOT_EQUALS" => Modifier::NotEquals,
        "GREATER_THAN" => Modifier::GreaterThan,
        "LESS_THAN" => Modifier::LessThan,
        "IS_NULL" => Modifier::IsNull,
        "NOT_NULL" => Modifier::NotNull,
        "INCLUDES" => Modifier::Includes,
        "EXCLUDES" => Modifier::Excludes,
        "BETWEEN" => Modifier::Between,
        "NOT_BETWEEN" => Modifier::NotBetween,
        other => {
            return Err(field_error(format!("the fake Stash does not model modifier {other} on {context} yet")));
        }
    })
}

/// A compiled filter criterion.
enum Predicate {
    Id {
        modifier: Modifier,
        value: i64,
        value2: Option<i64>,
    },
    /// `name` (`title` for scenes): Stash's string criterion.
    Name {
        modifier: Modifier,
        value: String,
    },
    Timestamp {
        updated: bool,
        modifier: Modifier,
        value: String,
        value2: String,
    },
    StashId {
        endpoint: Option<String>,
        modifier: Modifier,
        value: String,
    },
    Organized(bool),
}

fn compile_filter(kind: Kind, filter: &Map<String, Value>) -> Result<Vec<Predicate>, FieldError> {
    let mut out = Vec::new();
    for (key, value) in filter {
        if value.is_null() {
            continue; // an explicit null is no criterion, as in gqlgen's Go structs
        }
        let context = format!("{}.{key}", kind.filter_arg());
        let criterion = value.as_object();
        let get_str = |field: &str| criterion.and_then(|c| c.get(field)).and_then(Value::as_str).map(str::to_owned);
        let predicate = match key.as_str() {
            "id" => {
                let c = criterion.ok_or_else(|| field_error("id: expected an object"))?;
                Predicate::Id {
                    modifier: modifier(c, &context)?,
                    value: c.get("value").and_then(Value::as_i64).unwrap_or(0),
                    value2: c.get("value2").and_then(Value::as_i64),
                }
            }
            k if k == kind.name_field() => {
                let c = criterion.ok_or_else(|| field_error("expected an object"))?;
                Predicate::Name { modifier: modifier(c, &context)?, value: get_str("value").unwrap_or_default() }
            }
            "updated_at" | "created_at" => {
                let c = criterion.ok_or_else(|| field_error("expected an object"))?;
                Predicate::Timestamp {
                    updated: key == "updated_at",
                    modifier: modifier(c, &context)?,
                    value: get_str("value").unwrap_or_default(),
                    // Stash's default upper bound is "tomorrow": any stored value is below "9".
                    value2: get_str("value2").unwrap_or_else(|| "9".into()),
                }
            }
            "stash_id_endpoint" => {
                let c = criterion.ok_or_else(|| field_error("expected an object"))?;
                Predicate::StashId {
                    endpoint: get_str("endpoint").filter(|e| !e.is_empty()),
                    modifier: modifier(c, &context)?,
                    value: get_str("stash_id").unwrap_or_default(),
                }
            }
            "organized" if kind == Kind::Scene => Predicate::Organized(value.as_bool() == Some(true)),
            _ => {
                return Err(field_error(format!(
                    "the fake Stash does not model the filter {context} yet (extend tests/support/fake_stash.rs)"
                )));
            }
        };
        out.push(predicate);
    }
    Ok(out)
}

/// Stash's string criterion on a nullable column (`NULL` never matches a comparison).
fn string_criterion(column: Option<&str>, modifier: Modifier, value: &str) -> bool {
    match modifier {
        Modifier::IsNull => column.is_none_or(str::is_empty),
        Modifier::NotNull => column.is_some_and(|c| !c.is_empty()),
        _ => {
            let Some(column) = column else { return false };
            match modifier {
                Modifier::Equals => sqlite_like(column, value),
                Modifier::NotEquals => !sqlite_like(column, value),
                Modifier::Includes => sqlite_like(column, &format!("%{value}%")),
                Modifier::Excludes => !sqlite_like(column, &format!("%{value}%")),
                _ => false,
            }
        }
    }
}

impl Predicate {
    fn eval<E: Row>(&self, row: &E) -> bool {
        match self {
            Predicate::Id { modifier, value, value2 } => {
                let id = row.id() as i64;
                let upper = value2.unwrap_or(*value);
                match modifier {
                    Modifier::Equals => id == *value,
                    Modifier::NotEquals => id != *value,
                    Modifier::GreaterThan => id > *value,
                    Modifier::LessThan => id < *value,
                    Modifier::Between => (*value..=upper).contains(&id),
                    Modifier::NotBetween => !(*value..=upper).contains(&id),
                    Modifier::NotNull => true,
                    _ => false,
                }
            }
            Predicate::Name { modifier, value } => string_criterion(row.name(), *modifier, value),
            Predicate::Timestamp { updated, modifier, value, value2 } => {
                // Stash stores timestamps as text and compares them as text.
                let column = if *updated { row.updated_at() } else { row.created_at() };
                let (v, v2) = (value.as_str(), value2.as_str());
                match modifier {
                    Modifier::Equals => column == v,
                    Modifier::NotEquals => column != v,
                    Modifier::GreaterThan => column > v,
                    Modifier::LessThan => column < v,
                    Modifier::Between => v <= column && column <= v2,
                    Modifier::NotBetween => !(v <= column && column <= v2),
                    Modifier::NotNull => true,
                    _ => false,
                }
            }
            Predicate::StashId { endpoint, modifier, value } => {
                // LEFT JOIN stash_ids ON … AND endpoint = E, then a string criterion on
                // stash_id: a row without a joined StashID offers one NULL to compare.
                let mut joined =
                    row.stash_ids().iter().filter(|s| endpoint.as_ref().is_none_or(|e| &s.endpoint == e)).peekable();
                if joined.peek().is_none() {
                    string_criterion(None, *modifier, value)
                } else {
                    joined.any(|s| string_criterion(Some(&s.stash_id), *modifier, value))
                }
            }
            Predicate::Organized(wanted) => row.organized() == Some(*wanted),
        }
    }
}

// ---- result objects ------------------------------------------------------------------------

struct FindResult<'c> {
    cx: Cx<'c>,
    kind: Kind,
    count: usize,
    ids: Vec<u64>,
    duration: f64,
    filesize: f64,
}

impl ObjectValue for FindResult<'_> {
    fn type_name(&self) -> &str {
        self.kind.result_type()
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        match info.field_name() {
            "count" => Ok(ResolvedValue::leaf(self.count as i64)),
            "duration" if self.kind == Kind::Scene => Ok(ResolvedValue::leaf(self.duration)),
            "filesize" if self.kind == Kind::Scene => Ok(ResolvedValue::leaf(self.filesize)),
            field if field == self.kind.list_field() => {
                let items: Vec<ResolvedValue<'a>> =
                    self.ids.iter().map(|id| ResolvedValue::object(EntityObj::new(self.cx, self.kind, *id))).collect();
                Ok(ResolvedValue::list(items))
            }
            other => Err(nm(self.kind.result_type(), other)),
        }
    }
}

/// A scene, tag, performer or studio, read from the state when each field resolves.
struct EntityObj<'c> {
    cx: Cx<'c>,
    kind: Kind,
    id: u64,
}

impl<'c> EntityObj<'c> {
    fn new(cx: Cx<'c>, kind: Kind, id: u64) -> Self {
        EntityObj { cx, kind, id }
    }

    fn objects<'a>(&self, kind: Kind, ids: impl IntoIterator<Item = u64>) -> ResolvedValue<'a>
    where
        'c: 'a,
    {
        let items: Vec<ResolvedValue<'a>> =
            ids.into_iter().map(|id| ResolvedValue::object(EntityObj::new(self.cx, kind, id))).collect();
        ResolvedValue::list(items)
    }
}

impl ObjectValue for EntityObj<'_> {
    fn type_name(&self) -> &str {
        self.kind.object_type()
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let st = self.cx.st.borrow();
        let lib = &st.library;
        let field = info.field_name();
        let vanished = || field_error(format!("{} {} vanished", self.kind.object_type(), self.id));
        match self.kind {
            Kind::Scene => {
                let s = lib.scenes.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(s.id),
                    "title" => opt_leaf(s.title.as_deref()),
                    "code" => opt_leaf(s.code.as_deref()),
                    "details" => opt_leaf(s.details.as_deref()),
                    "director" => opt_leaf(s.director.as_deref()),
                    "url" => opt_leaf(s.urls.first().map(String::as_str)),
                    "urls" => string_list(&s.urls),
                    "date" => opt_leaf(s.date.as_deref()),
                    "rating100" => s.rating100.map_or(ResolvedValue::null(), ResolvedValue::leaf),
                    "organized" => ResolvedValue::leaf(s.organized),
                    "created_at" => ResolvedValue::leaf(s.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(s.updated_at.as_str()),
                    "files" => {
                        let items: Vec<ResolvedValue<'a>> = s
                            .files
                            .iter()
                            .enumerate()
                            .map(|(i, f)| {
                                ResolvedValue::object(FileObj {
                                    id: s.id * 1000 + i as u64 + 1,
                                    file: f.clone(),
                                    created_at: s.created_at.clone(),
                                    updated_at: s.updated_at.clone(),
                                })
                            })
                            .collect();
                        ResolvedValue::list(items)
                    }
                    "studio" => ResolvedValue::nullable_object(
                        s.studio_id
                            .filter(|id| lib.studios.contains_key(id))
                            .map(|id| EntityObj::new(self.cx, Kind::Studio, id)),
                    ),
                    "tags" => self.objects(Kind::Tag, s.tag_ids.iter().copied().filter(|id| lib.tags.contains_key(id))),
                    "performers" => self.objects(
                        Kind::Performer,
                        s.performer_ids.iter().copied().filter(|id| lib.performers.contains_key(id)),
                    ),
                    "stash_ids" => stash_ids_value(&s.stash_ids),
                    other => return Err(nm("Scene", other)),
                })
            }
            Kind::Tag => {
                let t = lib.tags.get(&self.id).ok_or_else(vanished)?;
                let children =
                    || lib.tags.values().filter(|c| c.parent_ids.contains(&t.id)).map(|c| c.id).collect::<Vec<_>>();
                let parents =
                    || t.parent_ids.iter().copied().filter(|id| lib.tags.contains_key(id)).collect::<Vec<_>>();
                Ok(match field {
                    "id" => id_leaf(t.id),
                    "name" => ResolvedValue::leaf(t.name.as_str()),
                    "sort_name" => opt_leaf(t.sort_name.as_deref()),
                    "description" => opt_leaf(t.description.as_deref()),
                    "aliases" => string_list(&t.aliases),
                    "ignore_auto_tag" => ResolvedValue::leaf(t.ignore_auto_tag),
                    "favorite" => ResolvedValue::leaf(t.favorite),
                    "created_at" => ResolvedValue::leaf(t.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(t.updated_at.as_str()),
                    "stash_ids" => stash_ids_value(&t.stash_ids),
                    "image_path" => ResolvedValue::null(),
                    "parents" => self.objects(Kind::Tag, parents()),
                    "children" => self.objects(Kind::Tag, children()),
                    "parent_count" => ResolvedValue::leaf(parents().len() as i64),
                    "child_count" => ResolvedValue::leaf(children().len() as i64),
                    "scene_count" => {
                        ResolvedValue::leaf(lib.scenes.values().filter(|s| s.tag_ids.contains(&t.id)).count() as i64)
                    }
                    "performer_count" => {
                        ResolvedValue::leaf(lib.performers.values().filter(|p| p.tag_ids.contains(&t.id)).count() as i64)
                    }
                    "studio_count" => {
                        ResolvedValue::leaf(lib.studios.values().filter(|s| s.tag_ids.contains(&t.id)).count() as i64)
                    }
                    // The fake models no images, galleries, groups or scene markers.
                    "image_count" | "gallery_count" | "group_count" | "scene_marker_count" => ResolvedValue::leaf(0i64),
                    other => return Err(nm("Tag", other)),
                })
            }
            Kind::Performer => {
                let p = lib.performers.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(p.id),
                    "name" => ResolvedValue::leaf(p.name.as_str()),
                    "disambiguation" => opt_leaf(p.disambiguation.as_deref()),
                    "url" => opt_leaf(p.urls.first().map(String::as_str)),
                    "urls" => string_list(&p.urls),
                    "alias_list" => string_list(&p.alias_list),
                    "ignore_auto_tag" => ResolvedValue::leaf(p.ignore_auto_tag),
                    "favorite" => ResolvedValue::leaf(p.favorite),
                    "created_at" => ResolvedValue::leaf(p.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(p.updated_at.as_str()),
                    "stash_ids" => stash_ids_value(&p.stash_ids),
                    "scene_count" => ResolvedValue::leaf(
                        lib.scenes.values().filter(|s| s.performer_ids.contains(&p.id)).count() as i64,
                    ),
                    "image_count" | "gallery_count" | "group_count" => ResolvedValue::leaf(0i64),
                    other => return Err(nm("Performer", other)),
                })
            }
            Kind::Studio => {
                let s = lib.studios.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(s.id),
                    "name" => ResolvedValue::leaf(s.name.as_str()),
                    "url" => opt_leaf(s.urls.first().map(String::as_str)),
                    "urls" => string_list(&s.urls),
                    "aliases" => string_list(&s.aliases),
                    "details" => opt_leaf(s.details.as_deref()),
                    "rating100" => s.rating100.map_or(ResolvedValue::null(), ResolvedValue::leaf),
                    "ignore_auto_tag" => ResolvedValue::leaf(s.ignore_auto_tag),
                    "favorite" => ResolvedValue::leaf(s.favorite),
                    "created_at" => ResolvedValue::leaf(s.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(s.updated_at.as_str()),
                    "stash_ids" => stash_ids_value(&s.stash_ids),
                    "parent_studio" => ResolvedValue::nullable_object(
                        s.parent_id
                            .filter(|id| lib.studios.contains_key(id))
                            .map(|id| EntityObj::new(self.cx, Kind::Studio, id)),
                    ),
                    "child_studios" => self.objects(
                        Kind::Studio,
                        lib.studios.values().filter(|c| c.parent_id == Some(s.id)).map(|c| c.id).collect::<Vec<_>>(),
                    ),
                    "scene_count" => {
                        ResolvedValue::leaf(lib.scenes.values().filter(|sc| sc.studio_id == Some(s.id)).count() as i64)
                    }
                    "image_count" | "gallery_count" | "group_count" => ResolvedValue::leaf(0i64),
                    other => return Err(nm("Studio", other)),
                })
            }
        }
    }
}

/// A scene's file (a snapshot: files do not change while a request runs).
struct FileObj {
    id: u64,
    file: VideoFile,
    created_at: String,
    updated_at: String,
}

impl ObjectValue for FileObj {
    fn type_name(&self) -> &str {
        "VideoFile"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let f = &self.file;
        Ok(match info.field_name() {
            "id" => id_leaf(self.id),
            "path" => ResolvedValue::leaf(f.path.as_str()),
            "basename" => ResolvedValue::leaf(basename(&f.path)),
            "size" => ResolvedValue::leaf(f.size),
            "duration" => ResolvedValue::leaf(f.duration),
            "width" => ResolvedValue::leaf(f.width),
            "height" => ResolvedValue::leaf(f.height),
            "frame_rate" => ResolvedValue::leaf(f.frame_rate),
            "created_at" | "mod_time" => ResolvedValue::leaf(self.created_at.as_str()),
            "updated_at" => ResolvedValue::leaf(self.updated_at.as_str()),
            "fingerprints" => {
                let items: Vec<ResolvedValue<'a>> = f
                    .fingerprints
                    .iter()
                    .map(|fp| {
                        ResolvedValue::object(JsonObject::new(
                            "Fingerprint",
                            json!({"type": fp.kind, "value": fp.value}),
                        ))
                    })
                    .collect();
                ResolvedValue::list(items)
            }
            "fingerprint" => {
                let wanted = arguments(info).get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
                opt_leaf(f.fingerprints.iter().find(|fp| fp.kind == wanted).map(|fp| fp.value.as_str()))
            }
            other => return Err(nm("VideoFile", other)),
        })
    }
}

// ---- mutations -----------------------------------------------------------------------------

struct MutationRoot<'c> {
    cx: Cx<'c>,
}

impl ObjectValue for MutationRoot<'_> {
    fn type_name(&self) -> &str {
        "Mutation"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let cx = self.cx;
        let args = arguments(info);
        let input = args.get("input").and_then(Value::as_object);
        match (info.field_name(), input) {
            ("sceneUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = scene_update(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Scene.Update.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Scene, id)))
            }
            ("bulkSceneUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let ids = bulk_scene_update(&mut st.library, input)?;
                for id in &ids {
                    st.pending_hooks.push(hook_event(*id, "Scene.Update.Post", input));
                }
                let items: Vec<ResolvedValue<'a>> =
                    ids.into_iter().map(|id| ResolvedValue::object(EntityObj::new(cx, Kind::Scene, id))).collect();
                Ok(ResolvedValue::list(items))
            }
            ("tagCreate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = tag_create(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Tag.Create.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Tag, id)))
            }
            ("performerCreate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = performer_create(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Performer.Create.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Performer, id)))
            }
            ("studioCreate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = studio_create(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Studio.Create.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Studio, id)))
            }
            (field @ ("tagDestroy" | "performerDestroy" | "studioDestroy"), Some(input)) => {
                let (kind, trigger) = match field {
                    "tagDestroy" => (Kind::Tag, "Tag.Destroy.Post"),
                    "performerDestroy" => (Kind::Performer, "Performer.Destroy.Post"),
                    _ => (Kind::Studio, "Studio.Destroy.Post"),
                };
                let mut st = cx.st.borrow_mut();
                let id = parse_id(input.get("id").unwrap_or(&Value::Null))?;
                check_exist(&st.library, kind, &[id])?;
                match kind {
                    Kind::Tag => st.library.remove_tag(id),
                    Kind::Performer => st.library.remove_performer(id),
                    _ => st.library.remove_studio(id),
                }
                st.pending_hooks.push(hook_event(id, trigger, input));
                Ok(ResolvedValue::leaf(true))
            }
            ("configurePlugin", _) => {
                let plugin = args.get("plugin_id").and_then(Value::as_str).unwrap_or_default().to_owned();
                let settings = args.get("input").and_then(Value::as_object).cloned().unwrap_or_default();
                cx.st.borrow_mut().config.plugins.insert(plugin, settings.clone());
                Ok(ResolvedValue::Leaf(gql::to_json_value(&Value::Object(settings))))
            }
            (other, _) => Err(nm("Mutation", other)),
        }
    }
}

fn hook_event(id: u64, trigger: &str, input: &Map<String, Value>) -> HookEvent {
    HookEvent {
        id,
        trigger: trigger.to_owned(),
        input: Value::Object(input.clone()),
        input_fields: input.keys().cloned().collect(),
        cookie: String::new(),
    }
}

fn opt_string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn string_vec(value: &Value) -> Vec<String> {
    value.as_array().map(|items| items.iter().filter_map(opt_string).collect()).unwrap_or_default()
}

fn ids_vec(value: &Value) -> Result<Vec<u64>, FieldError> {
    Ok(parse_ids(Some(value))?.unwrap_or_default())
}

fn check_exist(lib: &Library, kind: Kind, ids: &[u64]) -> Result<(), FieldError> {
    for id in ids {
        let exists = match kind {
            Kind::Tag => lib.tags.contains_key(id),
            Kind::Performer => lib.performers.contains_key(id),
            Kind::Studio => lib.studios.contains_key(id),
            Kind::Scene => lib.scenes.contains_key(id),
        };
        if !exists {
            return Err(field_error(format!("{} with id {id} not found", kind.object_type().to_lowercase())));
        }
    }
    Ok(())
}

fn stash_ids_input(value: &Value, now: &str) -> Vec<StashId> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|s| StashId {
                    endpoint: s.get("endpoint").and_then(Value::as_str).unwrap_or_default().into(),
                    stash_id: s.get("stash_id").and_then(Value::as_str).unwrap_or_default().into(),
                    updated_at: s.get("updated_at").and_then(Value::as_str).unwrap_or(now).into(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `sceneUpdate`: a key present — even as null — is applied; a missing key is left alone;
/// list fields REPLACE the list. `updated_at` is always bumped.
fn scene_update(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let id = parse_id(input.get("id").unwrap_or(&Value::Null))?;
    check_exist(lib, Kind::Scene, &[id])?;
    let now = lib.tick();
    let mut scene = lib.scenes[&id].clone();
    for (key, value) in input {
        match key.as_str() {
            "id" => {}
            "title" => scene.title = opt_string(value),
            "code" => scene.code = opt_string(value),
            "details" => scene.details = opt_string(value),
            "director" => scene.director = opt_string(value),
            "date" => scene.date = opt_string(value),
            "urls" => scene.urls = string_vec(value),
            "rating100" => scene.rating100 = value.as_i64(),
            "organized" => scene.organized = value.as_bool().unwrap_or(false),
            "studio_id" => {
                scene.studio_id = match value {
                    Value::Null => None,
                    v => Some(parse_id(v)?),
                };
                check_exist(lib, Kind::Studio, scene.studio_id.as_slice())?;
            }
            "tag_ids" => {
                scene.tag_ids = dedup(ids_vec(value)?);
                check_exist(lib, Kind::Tag, &scene.tag_ids)?;
            }
            "performer_ids" => {
                scene.performer_ids = dedup(ids_vec(value)?);
                check_exist(lib, Kind::Performer, &scene.performer_ids)?;
            }
            "stash_ids" => scene.stash_ids = stash_ids_input(value, &now),
            other => {
                return Err(field_error(format!("the fake Stash does not model SceneUpdateInput.{other} yet")));
            }
        }
    }
    scene.updated_at = now;
    lib.scenes.insert(id, scene);
    Ok(id)
}

fn dedup(ids: Vec<u64>) -> Vec<u64> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Applies a `BulkUpdateIds` (`{ids, mode: SET|ADD|REMOVE}`) to a list.
fn bulk_ids(current: &[u64], update: &Map<String, Value>) -> Result<Vec<u64>, FieldError> {
    let ids = ids_vec(update.get("ids").unwrap_or(&Value::Null))?;
    Ok(match update.get("mode").and_then(Value::as_str) {
        Some("SET") => dedup(ids),
        Some("ADD") => dedup(current.iter().copied().chain(ids).collect()),
        Some("REMOVE") => current.iter().copied().filter(|id| !ids.contains(id)).collect(),
        other => return Err(field_error(format!("unknown bulk update mode {other:?}"))),
    })
}

/// `bulkSceneUpdate`: ADD/REMOVE touch only the named ids, atomically (the race-free way to
/// change tags). Every scene's `updated_at` is bumped.
fn bulk_scene_update(lib: &mut Library, input: &Map<String, Value>) -> Result<Vec<u64>, FieldError> {
    let ids = ids_vec(input.get("ids").unwrap_or(&Value::Null))?;
    check_exist(lib, Kind::Scene, &ids)?;
    let now = lib.tick();
    let mut updated = Vec::new();
    for id in &ids {
        let mut scene = lib.scenes[id].clone();
        for (key, value) in input {
            match (key.as_str(), value) {
                ("ids", _) | (_, Value::Null) => {}
                ("tag_ids", Value::Object(update)) => {
                    scene.tag_ids = bulk_ids(&scene.tag_ids, update)?;
                    check_exist(lib, Kind::Tag, &scene.tag_ids)?;
                }
                ("performer_ids", Value::Object(update)) => {
                    scene.performer_ids = bulk_ids(&scene.performer_ids, update)?;
                    check_exist(lib, Kind::Performer, &scene.performer_ids)?;
                }
                ("urls", Value::Object(update)) => {
                    // BulkUpdateStrings {values, mode}: like the id lists, members only.
                    let values = string_vec(update.get("values").unwrap_or(&Value::Null));
                    scene.urls = match update.get("mode").and_then(Value::as_str) {
                        Some("SET") => values,
                        Some("ADD") => {
                            let mut urls = scene.urls.clone();
                            urls.extend(values.into_iter().filter(|v| !scene.urls.contains(v)));
                            urls
                        }
                        Some("REMOVE") => scene.urls.iter().filter(|u| !values.contains(u)).cloned().collect(),
                        other => return Err(field_error(format!("unknown bulk update mode {other:?}"))),
                    };
                }
                ("title", v) => scene.title = opt_string(v),
                ("code", v) => scene.code = opt_string(v),
                ("details", v) => scene.details = opt_string(v),
                ("director", v) => scene.director = opt_string(v),
                ("date", v) => scene.date = opt_string(v),
                ("rating100", v) => scene.rating100 = v.as_i64(),
                ("organized", v) => scene.organized = v.as_bool().unwrap_or(false),
                ("studio_id", v) => {
                    scene.studio_id = Some(parse_id(v)?);
                    check_exist(lib, Kind::Studio, scene.studio_id.as_slice())?;
                }
                (other, _) => {
                    return Err(field_error(format!("the fake Stash does not model BulkSceneUpdateInput.{other} yet")));
                }
            }
        }
        scene.updated_at.clone_from(&now);
        lib.scenes.insert(*id, scene);
        updated.push(*id);
    }
    Ok(updated)
}

/// `tagCreate`: the name must not equal (ASCII case-insensitively) any tag's name or alias.
fn tag_create(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let name = input.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let clash = lib
        .tags
        .values()
        .any(|t| t.name.eq_ignore_ascii_case(&name) || t.aliases.iter().any(|a| a.eq_ignore_ascii_case(&name)));
    if clash {
        return Err(field_error(format!("tag with name '{name}' already exists")));
    }
    let now = lib.now();
    let mut tag = Tag { name, ..Tag::default() };
    for (key, value) in input {
        match key.as_str() {
            "name" => {}
            "sort_name" => tag.sort_name = opt_string(value),
            "description" => tag.description = opt_string(value),
            "aliases" => tag.aliases = string_vec(value),
            "ignore_auto_tag" => tag.ignore_auto_tag = value.as_bool().unwrap_or(false),
            "favorite" => tag.favorite = value.as_bool().unwrap_or(false),
            "stash_ids" => tag.stash_ids = stash_ids_input(value, &now),
            "parent_ids" => {
                tag.parent_ids = ids_vec(value)?;
                check_exist(lib, Kind::Tag, &tag.parent_ids)?;
            }
            other => {
                return Err(field_error(format!("the fake Stash does not model TagCreateInput.{other} yet")));
            }
        }
    }
    Ok(lib.insert_tag(tag))
}

/// Two names Stash's uniqueness checks call equal: SQLite `LIKE` without wildcards, i.e. ASCII
/// case-insensitive.
fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `performerCreate`, validated like Stash's `performer.ValidateCreate`: a blank name is
/// refused, and so is a name another performer has with the same disambiguation (both empty
/// counts as the same). Aliases are not checked: two performers may share a name as long as a
/// disambiguation tells them apart.
fn performer_create(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let name = input.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(field_error("performer name must not be blank"));
    }
    let disambiguation = input.get("disambiguation").and_then(Value::as_str).filter(|d| !d.is_empty());
    let clash = lib.performers.values().any(|p| {
        same_name(&p.name, &name)
            && match (p.disambiguation.as_deref().filter(|d| !d.is_empty()), disambiguation) {
                (None, None) => true,
                (Some(a), Some(b)) => same_name(a, b),
                _ => false,
            }
    });
    if clash {
        return Err(field_error(match disambiguation {
            Some(d) => format!("performer with name '{name}' and disambiguation '{d}' already exists"),
            None => format!("performer with name '{name}' already exists"),
        }));
    }
    let now = lib.now();
    let mut performer = Performer { name, ..Performer::default() };
    for (key, value) in input {
        match key.as_str() {
            "name" => {}
            "disambiguation" => performer.disambiguation = opt_string(value),
            "alias_list" => performer.alias_list = string_vec(value),
            "urls" => performer.urls = string_vec(value),
            "ignore_auto_tag" => performer.ignore_auto_tag = value.as_bool().unwrap_or(false),
            "stash_ids" => performer.stash_ids = stash_ids_input(value, &now),
            other => {
                return Err(field_error(format!("the fake Stash does not model PerformerCreateInput.{other} yet")));
            }
        }
    }
    Ok(lib.insert_performer(performer))
}

/// `studioCreate`, validated like Stash's `studio.EnsureStudioNameUnique`: the name must not
/// equal (ASCII case-insensitively) another studio's name or alias.
fn studio_create(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let name = input.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(field_error("studio name must not be blank"));
    }
    if lib.studios.values().any(|s| same_name(&s.name, &name)) {
        return Err(field_error(format!("studio with name '{name}' already exists")));
    }
    if let Some(other) = lib.studios.values().find(|s| s.aliases.iter().any(|a| same_name(a, &name))) {
        return Err(field_error(format!("name '{name}' is used as alias for '{}'", other.name)));
    }
    let now = lib.now();
    let mut studio = Studio { name, ..Studio::default() };
    for (key, value) in input {
        match key.as_str() {
            "name" => {}
            "aliases" => studio.aliases = string_vec(value),
            "urls" => studio.urls = string_vec(value),
            "details" => studio.details = opt_string(value),
            "ignore_auto_tag" => studio.ignore_auto_tag = value.as_bool().unwrap_or(false),
            "stash_ids" => studio.stash_ids = stash_ids_input(value, &now),
            "parent_id" => {
                studio.parent_id = Some(parse_id(value)?);
                check_exist(lib, Kind::Studio, studio.parent_id.as_slice())?;
            }
            other => {
                return Err(field_error(format!("the fake Stash does not model StudioCreateInput.{other} yet")));
            }
        }
    }
    Ok(lib.insert_studio(studio))
}
