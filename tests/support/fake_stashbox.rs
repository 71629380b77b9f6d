//! `FakeStashBox`: an in-process fake of a stash-box server (what StashDB runs), with the
//! same request log and injectable faults as the fake Stash.
//!
//! Why it exists: StashHog's tag sync asks stash-box about scenes, and the traps are in
//! stash-box's behaviour, not in its schema: an unknown id is `null`, a deleted or merged
//! scene comes back `deleted: true` with `tags: []` (which must never read as "remove all
//! tags"), fingerprint batches are capped at 40 groups, MD5 fingerprints are ignored, phashes
//! are compared as numbers and answered zero-padded, a bad key is an HTTP 401 with an EMPTY
//! body while a missing key is a 200 with a GraphQL "not authorized" error. Documents are
//! validated against the upstream stash-box schema.
//!
//! Data is kept as plain structs and rendered to JSON per request; `JsonObject` resolves any
//! selection over it, so new query fields only need a resolver arm in `BoxQueryRoot`.

use super::fake_http::{self, FakeServer, Handler, Incoming, Reply};
use super::fake_stash::SplitMix;
use super::gql::{self, EnvelopeError, arguments, field_error, lock, not_modelled};
use super::schema::Api;
use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

/// stash-box's limit on fingerprint groups per `findScenesBySceneFingerprints`.
pub const MAX_FINGERPRINT_GROUPS: usize = 40;

/// The timestamp stash-box data carries (`created`/`updated`).
const BOX_TIME: &str = "2025-06-01T12:00:00Z";

/// Whether `id` has the shape of a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// A deterministic UUID-shaped id for `n` (stash-box ids are UUIDs).
pub fn fake_uuid(n: u64) -> String {
    let a = SplitMix(n).next();
    let b = SplitMix(n ^ 0x5bd1_e995).next();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// A fingerprint algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (ignored by current stash-box in fingerprint lookups).
    Md5,
    /// OpenSubtitles hash.
    Oshash,
    /// Perceptual hash.
    Phash,
}

impl Algorithm {
    /// The GraphQL enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Oshash => "OSHASH",
            Algorithm::Phash => "PHASH",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "MD5" => Some(Algorithm::Md5),
            "OSHASH" => Some(Algorithm::Oshash),
            "PHASH" => Some(Algorithm::Phash),
            _ => None,
        }
    }
}

/// A fingerprint submitted for a stash-box scene.
#[derive(Clone, Debug)]
pub struct BoxFingerprint {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Hash as hex (any case, padded or not).
    pub hash: String,
    /// Duration in seconds.
    pub duration: i64,
    /// Submission count.
    pub submissions: i64,
    /// Report count.
    pub reports: i64,
}

impl BoxFingerprint {
    /// A fingerprint with one submission.
    pub fn new(algorithm: Algorithm, hash: &str) -> Self {
        BoxFingerprint { algorithm, hash: hash.to_owned(), duration: 600, submissions: 1, reports: 0 }
    }

    /// The hash as stash-box answers it: phash/oshash zero-padded to 16 lowercase hex digits.
    pub fn wire_hash(&self) -> String {
        match (self.algorithm, u64::from_str_radix(&self.hash, 16)) {
            (Algorithm::Md5, _) | (_, Err(_)) => self.hash.clone(),
            (_, Ok(n)) => format!("{n:016x}"),
        }
    }
}

/// Two hashes are equal when they are the same 64-bit number (padding and case do not matter).
pub fn same_hash(a: &str, b: &str) -> bool {
    match (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// A stash-box tag.
#[derive(Clone, Debug, Default)]
pub struct BoxTag {
    /// Id (empty on insert: generated).
    pub id: String,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Deleted flag.
    pub deleted: bool,
}

/// A stash-box studio (as embedded in scenes).
#[derive(Clone, Debug, Default)]
pub struct BoxStudio {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
}

/// A stash-box performer appearance (as embedded in scenes).
#[derive(Clone, Debug, Default)]
pub struct BoxPerformer {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Disambiguation.
    pub disambiguation: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Credited as.
    pub credited_as: Option<String>,
}

/// A stash-box scene. Tags are referenced by id and resolved from the library.
#[derive(Clone, Debug, Default)]
pub struct BoxScene {
    /// Id (empty on insert: generated).
    pub id: String,
    /// Title.
    pub title: Option<String>,
    /// Details.
    pub details: Option<String>,
    /// Release date.
    pub release_date: Option<String>,
    /// Studio code.
    pub code: Option<String>,
    /// Director.
    pub director: Option<String>,
    /// Duration in seconds.
    pub duration: Option<i64>,
    /// Deleted (or merged away): answered with `tags: []`.
    pub deleted: bool,
    /// Tag ids.
    pub tag_ids: Vec<String>,
    /// Fingerprints.
    pub fingerprints: Vec<BoxFingerprint>,
    /// Studio.
    pub studio: Option<BoxStudio>,
    /// Performers.
    pub performers: Vec<BoxPerformer>,
}

/// An applied MERGE edit: `sources` were merged into `target`.
#[derive(Clone, Debug)]
pub struct BoxMerge {
    /// Edit id.
    pub id: String,
    /// The surviving scene.
    pub target: String,
    /// The scenes merged away.
    pub sources: Vec<String>,
}

/// stash-box's data.
#[derive(Clone, Debug, Default)]
pub struct BoxLibrary {
    /// Scenes in insertion order (the order fingerprint matches come back in).
    pub scenes: Vec<BoxScene>,
    /// Tags by id.
    pub tags: BTreeMap<String, BoxTag>,
    /// Applied scene merges.
    pub merges: Vec<BoxMerge>,
    counter: u64,
}

impl BoxLibrary {
    fn new_id(&mut self) -> String {
        self.counter += 1;
        fake_uuid(0xB0C5_0000 + self.counter)
    }

    /// Adds a tag named `name`; returns its id.
    pub fn add_tag(&mut self, name: &str) -> String {
        self.insert_tag(BoxTag { name: name.to_owned(), ..BoxTag::default() })
    }

    /// Inserts a tag (id generated when empty); returns its id.
    pub fn insert_tag(&mut self, mut tag: BoxTag) -> String {
        if tag.id.is_empty() {
            tag.id = self.new_id();
        }
        let id = tag.id.clone();
        self.tags.insert(id.clone(), tag);
        id
    }

    /// Adds a scene (id generated when empty); returns its id.
    pub fn add_scene(&mut self, mut scene: BoxScene) -> String {
        if scene.id.is_empty() {
            scene.id = self.new_id();
        }
        let id = scene.id.clone();
        self.scenes.push(scene);
        id
    }

    /// A scene by id.
    pub fn scene(&self, id: &str) -> Option<&BoxScene> {
        self.scenes.iter().find(|s| s.id == id)
    }

    /// A scene by id, mutably.
    pub fn scene_mut(&mut self, id: &str) -> Option<&mut BoxScene> {
        self.scenes.iter_mut().find(|s| s.id == id)
    }

    /// Marks a scene deleted.
    pub fn delete_scene(&mut self, id: &str) {
        if let Some(scene) = self.scene_mut(id) {
            scene.deleted = true;
        }
    }

    /// Merges `sources` into `target`: the sources become deleted and an applied MERGE edit
    /// records it (found with `queryEdits`).
    pub fn merge_scenes(&mut self, sources: &[&str], target: &str) -> String {
        for source in sources {
            self.delete_scene(source);
        }
        let id = self.new_id();
        self.merges.push(BoxMerge {
            id: id.clone(),
            target: target.to_owned(),
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
        });
        id
    }

    fn tag_json(tag: &BoxTag) -> Value {
        json!({
            "__typename": "Tag",
            "id": tag.id,
            "name": tag.name,
            "description": tag.description,
            "aliases": tag.aliases,
            "deleted": tag.deleted,
            "edits": [],
            "category": null,
            "created": BOX_TIME,
            "updated": BOX_TIME,
        })
    }

    /// The scene as stash-box answers it.
    pub fn scene_json(&self, scene: &BoxScene) -> Value {
        let tags: Vec<Value> = if scene.deleted {
            Vec::new() // stash-box answers a deleted scene with no tags
        } else {
            scene.tag_ids.iter().filter_map(|id| self.tags.get(id)).map(Self::tag_json).collect()
        };
        let fingerprints: Vec<Value> = scene
            .fingerprints
            .iter()
            .map(|f| {
                json!({
                    "hash": f.wire_hash(),
                    "algorithm": f.algorithm.as_str(),
                    "duration": f.duration,
                    "submissions": f.submissions,
                    "reports": f.reports,
                    "created": BOX_TIME,
                    "updated": BOX_TIME,
                    "user_submitted": false,
                    "user_reported": false,
                })
            })
            .collect();
        let studio = scene.studio.as_ref().map(|s| {
            json!({
                "__typename": "Studio", "id": s.id, "name": s.name, "aliases": s.aliases,
                "parent": null, "deleted": false, "urls": [], "images": [], "child_studios": [],
                "is_favorite": false, "created": BOX_TIME, "updated": BOX_TIME,
            })
        });
        let performers: Vec<Value> = scene
            .performers
            .iter()
            .map(|p| {
                json!({
                    "as": p.credited_as,
                    "performer": {
                        "__typename": "Performer", "id": p.id, "name": p.name,
                        "disambiguation": p.disambiguation, "aliases": p.aliases,
                        "gender": null, "deleted": false, "merged_ids": [], "merged_into_id": null,
                        "urls": [], "images": [], "is_favorite": false,
                        "created": BOX_TIME, "updated": BOX_TIME,
                    }
                })
            })
            .collect();
        json!({
            "__typename": "Scene",
            "id": scene.id,
            "title": scene.title,
            "details": scene.details,
            "date": scene.release_date,
            "release_date": scene.release_date,
            "production_date": null,
            "urls": [],
            "studio": studio,
            "tags": tags,
            "images": [],
            "performers": performers,
            "fingerprints": fingerprints,
            "duration": scene.duration,
            "director": scene.director,
            "code": scene.code,
            "deleted": scene.deleted,
            "edits": [],
            "created": BOX_TIME,
            "updated": BOX_TIME,
        })
    }

    /// Non-deleted scenes with a fingerprint equal to one of `group` (MD5 ignored).
    fn match_group(&self, group: &[(Algorithm, String)]) -> Vec<&BoxScene> {
        self.scenes
            .iter()
            .filter(|s| !s.deleted)
            .filter(|s| {
                s.fingerprints.iter().any(|f| {
                    group.iter().any(|(algorithm, hash)| {
                        *algorithm != Algorithm::Md5 && f.algorithm == *algorithm && same_hash(&f.hash, hash)
                    })
                })
            })
            .collect()
    }
}

/// The authenticated user `me` returns.
#[derive(Clone, Debug)]
pub struct BoxUser {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// Everything the fake stash-box serves.
#[derive(Clone, Debug)]
pub struct BoxState {
    /// The data.
    pub library: BoxLibrary,
    /// The key every request must carry in `ApiKey`.
    pub api_key: String,
    /// Who `me` is.
    pub user: BoxUser,
}

struct BoxInner {
    state: Mutex<BoxState>,
}

/// The fake stash-box server. Request log and faults come from [`FakeServer`] via `Deref`.
pub struct FakeStashBox {
    server: FakeServer,
    inner: Arc<BoxInner>,
}

impl Deref for FakeStashBox {
    type Target = FakeServer;

    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

impl Default for FakeStashBox {
    fn default() -> Self {
        Self::start()
    }
}

impl FakeStashBox {
    /// The API key a fresh fake expects.
    pub const DEFAULT_API_KEY: &'static str = "stashbox-test-key";

    /// Starts a fake stash-box with an empty library, expecting [`Self::DEFAULT_API_KEY`].
    pub fn start() -> FakeStashBox {
        let inner = Arc::new(BoxInner {
            state: Mutex::new(BoxState {
                library: BoxLibrary::default(),
                api_key: Self::DEFAULT_API_KEY.to_owned(),
                user: BoxUser { id: fake_uuid(42), name: "stashhog-tester".into() },
            }),
        });
        let server = FakeServer::start(Arc::new(BoxHandler { inner: Arc::clone(&inner) }));
        FakeStashBox { server, inner }
    }

    /// The endpoint as Stash stores it: the full GraphQL URL.
    pub fn endpoint(&self) -> String {
        self.server.graphql_url()
    }

    /// The API key requests must carry.
    pub fn api_key(&self) -> String {
        lock(&self.inner.state).api_key.clone()
    }

    /// Changes the expected API key.
    pub fn set_api_key(&self, key: &str) {
        lock(&self.inner.state).api_key = key.to_owned();
    }

    /// Reads or edits the library while the server runs.
    pub fn lib<R>(&self, f: impl FnOnce(&mut BoxLibrary) -> R) -> R {
        f(&mut lock(&self.inner.state).library)
    }

    /// Reads or edits the whole state (user, key, library).
    pub fn state<R>(&self, f: impl FnOnce(&mut BoxState) -> R) -> R {
        f(&mut lock(&self.inner.state))
    }

    /// A URL where nothing listens.
    pub fn dead_url() -> String {
        fake_http::dead_url()
    }
}

struct BoxHandler {
    inner: Arc<BoxInner>,
}

impl Handler for BoxHandler {
    fn handle(&self, request: &Incoming) -> Reply {
        if request.path != "/graphql" {
            return Reply::text(404, "text/plain; charset=utf-8", "404 page not found\n");
        }
        let state = lock(&self.inner.state);
        // A wrong key is refused by the HTTP middleware: 401, empty body. No key at all makes
        // an anonymous request, which the resolvers refuse with a GraphQL error.
        let anonymous = match request.header("ApiKey").filter(|k| !k.is_empty()) {
            Some(key) if key == state.api_key => false,
            Some(_) => return Reply::empty(401),
            None => true,
        };
        if request.method != "POST" {
            return Reply::json(405, &gql::error_body("the fake stash-box serves POST only"));
        }
        let gql_request = match &request.gql {
            Ok(r) => r,
            Err(EnvelopeError::BadJson(message)) => {
                return Reply::json(400, &gql::error_body(message));
            }
            Err(EnvelopeError::NoQuery) => {
                return Reply::json(422, &gql::error_body("no operation provided"));
            }
        };
        let document = match gql::document(Api::StashBox, &gql_request.query) {
            Ok(document) => document,
            Err(errors) => return Reply::json(422, &gql::errors_body(errors)),
        };
        if anonymous {
            return Reply::json(200, &gql::error_body("not authorized"));
        }
        let executed = gql::execute(Api::StashBox, &document, gql_request, |op| match op {
            OperationType::Query => Box::new(BoxQueryRoot { st: &state }),
            _ => Box::new(Unmodelled { type_name: "Mutation" }),
        });
        Reply::json(executed.status, &executed.body)
    }
}

/// A root type the fake does not model at all.
struct Unmodelled {
    type_name: &'static str,
}

impl ObjectValue for Unmodelled {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        Err(not_modelled(Api::StashBox, self.type_name, info.field_name()))
    }
}

struct BoxQueryRoot<'s> {
    st: &'s BoxState,
}

impl ObjectValue for BoxQueryRoot<'_> {
    fn type_name(&self) -> &str {
        "Query"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let lib = &self.st.library;
        let args = arguments(info);
        let ty = &info.field_definition().ty;
        let value = match info.field_name() {
            "me" => json!({
                "__typename": "User",
                "id": self.st.user.id,
                "name": self.st.user.name,
                "roles": ["READ", "VOTE", "EDIT"],
                "api_key": self.st.api_key,
                "email": "tester@example.invalid",
                "notification_subscriptions": [],
                "api_calls": 0,
            }),
            "findScene" => {
                let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
                // stash-box parses the id as a UUID first: anything else is a field error.
                if !is_uuid(id) {
                    return Err(field_error(format!("uuid: incorrect UUID length {}", id.len())));
                }
                lib.scene(id).map(|s| lib.scene_json(s)).unwrap_or(Value::Null)
            }
            "findTag" => {
                let id = args.get("id").and_then(Value::as_str);
                let name = args.get("name").and_then(Value::as_str);
                lib.tags
                    .values()
                    .find(|t| Some(t.id.as_str()) == id || Some(t.name.as_str()) == name)
                    .map(BoxLibrary::tag_json)
                    .unwrap_or(Value::Null)
            }
            "findScenesBySceneFingerprints" => {
                let groups = args.get("fingerprints").and_then(Value::as_array).cloned().unwrap_or_default();
                if groups.len() > MAX_FINGERPRINT_GROUPS {
                    return Err(field_error("too many scenes"));
                }
                let results: Vec<Value> = groups
                    .iter()
                    .map(|group| {
                        let wanted: Vec<(Algorithm, String)> = group
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|fp| {
                                Some((
                                    Algorithm::parse(fp.get("algorithm")?.as_str()?)?,
                                    fp.get("hash")?.as_str()?.to_owned(),
                                ))
                            })
                            .collect();
                        Value::Array(lib.match_group(&wanted).into_iter().map(|s| lib.scene_json(s)).collect())
                    })
                    .collect();
                Value::Array(results)
            }
            "queryEdits" => query_edits(lib, args.get("input").and_then(Value::as_object)),
            other => return Err(not_modelled(Api::StashBox, "Query", other)),
        };
        gql::resolve_json(info, ty, &value)
    }
}

/// `queryEdits`: only applied scene MERGE edits are modelled; `target_id` matches the
/// surviving scene or any merged-away one.
fn query_edits(lib: &BoxLibrary, input: Option<&Map<String, Value>>) -> Value {
    let empty = Map::new();
    let input = input.unwrap_or(&empty);
    let get = |key: &str| input.get(key).filter(|v| !v.is_null());
    let is = |key: &str, wanted: &str| get(key).is_none_or(|v| v.as_str() == Some(wanted));
    let wants_merges = is("operation", "MERGE")
        && is("target_type", "SCENE")
        && is("status", "ACCEPTED")
        && get("applied").is_none_or(|a| a.as_bool() == Some(true));
    let target_id = get("target_id").and_then(Value::as_str);
    let edits: Vec<Value> = lib
        .merges
        .iter()
        .filter(|_| wants_merges)
        .filter(|m| target_id.is_none_or(|id| m.target == id || m.sources.iter().any(|s| s == id)))
        .map(|m| {
            let scene = |id: &str| lib.scene(id).map(|s| lib.scene_json(s)).unwrap_or(Value::Null);
            json!({
                "__typename": "Edit",
                "id": m.id,
                "target": scene(&m.target),
                "target_type": "SCENE",
                "merge_sources": m.sources.iter().map(|s| scene(s)).filter(|v| !v.is_null()).collect::<Vec<_>>(),
                "operation": "MERGE",
                "status": "ACCEPTED",
                "applied": true,
                "bot": false,
                "destructive": false,
                "votes": [],
                "comments": [],
                "vote_count": 0,
                "created": BOX_TIME,
                "updated": BOX_TIME,
                "closed": BOX_TIME,
            })
        })
        .collect();
    json!({ "count": edits.len(), "edits": edits })
}
