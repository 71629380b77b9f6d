//! The fake Stash: configuration.

use super::*;

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
    /// `general.configFilePath`: where Stash's config.yml is on its machine.
    pub config_file_path: String,
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
            // Stash always reports one; this one exists on no test machine.
            config_file_path: "/nonexistent-stash-home/.stash/config.yml".into(),
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
    pub(super) pending_hooks: Vec<HookEvent>,
    /// Scene updates per scene id: each one is a `Scene.Update.Post` hook Stash fires, for
    /// StashHog and for every other plugin the user has installed.
    pub scene_updates: BTreeMap<u64, u64>,
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
