//! StashHog's own view of Stash's data: plain types, independent of any GraphQL operation.

use serde::{Deserialize, Serialize};

/// A kind of Stash object StashHog mirrors and plans changes to. One type for the mirror's
/// tables, the writes to Stash and the rows of a plan, so nothing translates between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A tag.
    Tag,
    /// A performer.
    Performer,
    /// A studio.
    Studio,
    /// A scene.
    Scene,
    /// An image.
    Image,
    /// A gallery.
    Gallery,
}

impl ObjectKind {
    /// Every kind, in the order a full sync copies them (scenes, images and galleries refer to
    /// the others; images and scenes to galleries).
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Tag,
        ObjectKind::Performer,
        ObjectKind::Studio,
        ObjectKind::Gallery,
        ObjectKind::Scene,
        ObjectKind::Image,
    ];

    /// The singular name, as a plan row and a plan file store it (`scene`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Tag => "tag",
            ObjectKind::Performer => "performer",
            ObjectKind::Studio => "studio",
            ObjectKind::Scene => "scene",
            ObjectKind::Image => "image",
            ObjectKind::Gallery => "gallery",
        }
    }

    /// The kind with this singular name.
    pub fn parse(text: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Every singular name, for messages.
    pub fn names() -> String {
        // Scenes first: they are what users plan changes to.
        let order = [
            ObjectKind::Scene,
            ObjectKind::Image,
            ObjectKind::Gallery,
            ObjectKind::Performer,
            ObjectKind::Studio,
            ObjectKind::Tag,
        ];
        order.map(ObjectKind::as_str).join(", ")
    }

    /// Whether plans change this kind's fields (scenes, images, galleries) rather than only
    /// create it (tags, performers, studios).
    pub(crate) fn is_media(self) -> bool {
        matches!(self, ObjectKind::Scene | ObjectKind::Image | ObjectKind::Gallery)
    }

    /// The plural name: the mirror's table, and the key in summaries and sync state (`scenes`).
    pub(crate) fn plural(self) -> &'static str {
        match self {
            ObjectKind::Tag => "tags",
            ObjectKind::Performer => "performers",
            ObjectKind::Studio => "studios",
            ObjectKind::Scene => "scenes",
            ObjectKind::Image => "images",
            ObjectKind::Gallery => "galleries",
        }
    }
}

/// A StashID: the link of a local object to an object on a stash-box endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StashId {
    /// The stash-box GraphQL URL, character for character as Stash stores it.
    pub endpoint: String,
    /// The object's id on that endpoint.
    pub stash_id: String,
    /// When the link was last updated (scenes only; empty elsewhere).
    pub updated_at: Option<String>,
}

/// A file fingerprint (`md5`, `oshash`, `phash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    /// The algorithm, as Stash names it.
    pub kind: String,
    /// The hash, as Stash stores it (phash: hex, unpadded).
    pub value: String,
}

/// A scene's video file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SceneFile {
    /// Full path.
    pub path: String,
    /// Its fingerprints.
    pub fingerprints: Vec<Fingerprint>,
    /// Width in pixels (0 when unknown).
    pub width: i64,
    /// Height in pixels (0 when unknown).
    pub height: i64,
    /// Duration in seconds (0 when unknown).
    pub duration: f64,
    /// Frames per second (0 when unknown).
    pub frame_rate: f64,
}

/// A scene as StashHog mirrors it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scene {
    /// Stash id.
    pub id: i64,
    /// Title.
    pub title: Option<String>,
    /// Studio code.
    pub code: Option<String>,
    /// Details text.
    pub details: Option<String>,
    /// Director.
    pub director: Option<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Release date (YYYY-MM-DD).
    pub date: Option<String>,
    /// Rating 1–100.
    pub rating100: Option<i64>,
    /// Whether the user marked it organized.
    pub organized: bool,
    /// Creation time (RFC3339).
    pub created_at: String,
    /// Last update time (RFC3339, as Stash returned it).
    pub updated_at: String,
    /// Files.
    pub files: Vec<SceneFile>,
    /// Studio id.
    pub studio_id: Option<i64>,
    /// Performer ids.
    pub performer_ids: Vec<i64>,
    /// Tag ids.
    pub tag_ids: Vec<i64>,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
    /// Galleries it is linked to.
    pub gallery_ids: Vec<i64>,
}

/// An image as StashHog mirrors it: the fields it shares with a scene, its files' paths, and
/// the galleries it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Image {
    /// Stash id.
    pub id: i64,
    /// Title.
    pub title: Option<String>,
    /// Studio code.
    pub code: Option<String>,
    /// Details text.
    pub details: Option<String>,
    /// Photographer.
    pub photographer: Option<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Date (YYYY-MM-DD).
    pub date: Option<String>,
    /// Rating 1–100.
    pub rating100: Option<i64>,
    /// Whether the user marked it organized.
    pub organized: bool,
    /// Creation time (RFC3339).
    pub created_at: String,
    /// Last update time (RFC3339, as Stash returned it).
    pub updated_at: String,
    /// Its files' full paths, the primary first (an animated image's file is a video).
    pub paths: Vec<String>,
    /// Studio id.
    pub studio_id: Option<i64>,
    /// Performer ids.
    pub performer_ids: Vec<i64>,
    /// Tag ids.
    pub tag_ids: Vec<i64>,
    /// The galleries it belongs to.
    pub gallery_ids: Vec<i64>,
}

/// A gallery as StashHog mirrors it. Its scenes and images are the ones that list it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gallery {
    /// Stash id.
    pub id: i64,
    /// Title.
    pub title: Option<String>,
    /// Studio code (an import keeps the source's id of the post here, to find it again).
    pub code: Option<String>,
    /// Details text.
    pub details: Option<String>,
    /// Photographer.
    pub photographer: Option<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Date (YYYY-MM-DD).
    pub date: Option<String>,
    /// Rating 1–100.
    pub rating100: Option<i64>,
    /// Whether the user marked it organized.
    pub organized: bool,
    /// Creation time (RFC3339).
    pub created_at: String,
    /// Last update time (RFC3339, as Stash returned it).
    pub updated_at: String,
    /// The folder or zip file a scan made it from; none for a gallery made by hand.
    pub path: Option<String>,
    /// How many images it holds.
    pub image_count: i64,
    /// Studio id.
    pub studio_id: Option<i64>,
    /// Performer ids.
    pub performer_ids: Vec<i64>,
    /// Tag ids.
    pub tag_ids: Vec<i64>,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// Stash id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Overrides the name for sorting (and for the Tagger's choice between equal matches).
    pub sort_name: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Excluded from auto-tagging.
    pub ignore_auto_tag: bool,
    /// Last update time.
    pub updated_at: String,
    /// StashIDs (Stash ≥ 0.30).
    pub stash_ids: Vec<StashId>,
}

/// A performer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Performer {
    /// Stash id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Disambiguation.
    pub disambiguation: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// URLs (profile pages).
    pub urls: Vec<String>,
    /// Last update time.
    pub updated_at: String,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
}

/// A studio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Studio {
    /// Stash id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Parent studio id.
    pub parent_id: Option<i64>,
    /// Last update time.
    pub updated_at: String,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
}

/// Which scenes to fetch.
#[derive(Debug, Clone, Default)]
pub struct SceneQuery {
    /// Only these scenes.
    pub ids: Option<Vec<i64>>,
    /// Only scenes with an id above this one: keyset paging, stable while scenes come and go,
    /// and cheap at any depth (no OFFSET).
    pub id_after: Option<i64>,
    /// Only scenes with a StashID on this endpoint.
    pub stash_id_endpoint: Option<String>,
    /// Only scenes updated strictly after this RFC3339 time (compared as text, like Stash).
    pub updated_after: Option<String>,
}

/// Which images or galleries to fetch.
#[derive(Debug, Clone, Default)]
pub struct MediaQuery {
    /// Only these.
    pub ids: Option<Vec<i64>>,
    /// Only those with an id above this one (keyset paging, as for scenes).
    pub id_after: Option<i64>,
    /// Only those updated strictly after this RFC3339 time (compared as text, like Stash).
    pub updated_after: Option<String>,
}

/// Which tags, performers or studios to fetch.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    /// Only these.
    pub ids: Option<Vec<i64>>,
    /// Only those updated strictly after this RFC3339 time (compared as text, like Stash).
    pub updated_after: Option<String>,
}

/// Stash's readiness, as `systemStatus` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SystemState {
    /// Ready.
    Ok,
    /// First-run setup not done.
    Setup,
    /// A database migration is pending.
    NeedsMigration,
    /// A state this version does not know.
    Other(String),
}

/// What Stash says about itself.
#[derive(Debug, Clone, Serialize)]
pub struct SystemInfo {
    /// Version string ("v0.30.1").
    pub version: Option<String>,
    /// Build hash.
    pub hash: String,
    /// Readiness.
    pub status: SystemState,
    /// The schema version of Stash's database.
    pub database_schema: Option<i64>,
    /// The schema version this Stash expects.
    pub app_schema: i64,
}

/// A stash-box endpoint configured in Stash (Settings > Metadata Providers).
#[derive(Debug, Clone, Serialize)]
pub struct StashBox {
    /// Its display name.
    pub name: String,
    /// Full GraphQL URL; equal to what `stash_ids[].endpoint` holds.
    pub endpoint: String,
    /// Its API key (never logged or serialised).
    #[serde(skip)]
    pub api_key: String,
    /// Stash's own request budget for it; `None` when unset (Stash then uses 240).
    pub max_requests_per_minute: Option<u32>,
}

/// The parts of Stash's configuration StashHog depends on.
#[derive(Debug, Clone, Default)]
pub struct StashConfig {
    /// Configured stash-box endpoints, in Stash's order.
    pub stash_boxes: Vec<StashBox>,
    /// The scraper's tag exclusion regexes.
    pub exclude_tag_patterns: Vec<String>,
    /// StashHog's saved plugin settings; empty when never saved.
    pub plugin_settings: serde_json::Map<String, serde_json::Value>,
    /// Stash's config file, as a path on the machine Stash runs on.
    pub config_file: Option<std::path::PathBuf>,
}
