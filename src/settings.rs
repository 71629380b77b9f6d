//! StashHog's settings: what the user saved in Stash's plugin settings page, overridden by the
//! invocation's arguments (`--set key=value`, or `args` of `runPluginTask`), else our defaults.
//!
//! Stash stores nothing until the user saves the page, and then only the keys they touched, so
//! the binary owns every default. Values are read leniently: a bool or a number may arrive as a
//! string from older configs or from `defaultArgs`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::manifest::{SettingKey, SettingKind};
use crate::protocol::args::{ArgError, Args};

/// A saved or passed setting has a value of the wrong kind.
#[derive(Debug, thiserror::Error)]
#[error("setting {0}; fix it in Stash's Settings > Plugins > StashHog (or drop the --set)")]
pub struct SettingsError(#[source] ArgError);

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// StashHog's default: the user never saved this key.
    Default,
    /// Saved in Stash's plugin settings.
    Saved,
    /// Passed with this invocation.
    Argument,
}

/// One setting as in effect, for `check`'s report.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    /// The key.
    pub key: &'static str,
    /// The value in effect (null = default of "none").
    pub value: Value,
    /// Where it came from.
    pub source: Source,
}

/// The settings in effect for one run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Database file; `None` = `<Stash config folder>/stashhog/stashhog.sqlite`.
    pub database_path: Option<String>,
    /// Whether hooks refresh the mirror.
    pub mirror_hooks: bool,
    /// Analyze: changes less sure than this are not proposed.
    pub analysis_min_confidence: f64,
    /// Analyze: changes at least this sure are approved when the plan is made; `None` = off.
    pub auto_approve_confidence: Option<f64>,
    /// Analyze: which detectors run.
    pub analyze: Detectors,
    /// Analyze: `regex => Studio Name` rules, as the user wrote them.
    pub studio_rules: Option<String>,
    /// Analyze: the template for missing details; `None` = off.
    pub details_template: Option<String>,
    /// Analyze: the optional AI detector.
    pub ai: AiSettings,
    /// Sync Scene Tags.
    pub tag_sync: TagSync,
    /// Import Fansly metadata.
    pub fansly: FanslyImport,
}

/// The settings of "Import Fansly metadata".
#[derive(Clone, PartialEq)]
pub struct FanslyImport {
    /// The SQLite era's database file; `None` = PostgreSQL.
    pub database: Option<String>,
    /// PostgreSQL host; `None` = no PostgreSQL configured.
    pub pg_host: Option<String>,
    /// PostgreSQL port.
    pub pg_port: u16,
    /// PostgreSQL database.
    pub pg_database: String,
    /// PostgreSQL role.
    pub pg_user: String,
    /// PostgreSQL password (`FANSLY_PG_PASSWORD` wins); never logged.
    pub pg_password: Option<String>,
    /// Usernames to import; empty = all.
    pub creators: Vec<String>,
    /// Only Stash files under this folder.
    pub stash_path: Option<String>,
    /// The tag previews get, when it exists.
    pub preview_tag: Option<String>,
    /// Propose CREATEs for unmatched hashtags.
    pub create_tags: bool,
    /// Only make the plan (default on).
    pub dry_run: bool,
}

impl Default for FanslyImport {
    fn default() -> Self {
        FanslyImport {
            database: None,
            pg_host: None,
            pg_port: 5432,
            pg_database: "fansly_metadata".into(),
            pg_user: "fansly_user".into(),
            pg_password: None,
            creators: Vec::new(),
            stash_path: None,
            preview_tag: Some("Trailer".into()),
            create_tags: true,
            dry_run: true,
        }
    }
}

impl std::fmt::Debug for FanslyImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanslyImport")
            .field("database", &self.database)
            .field("pg_host", &self.pg_host)
            .field("pg_port", &self.pg_port)
            .field("pg_database", &self.pg_database)
            .field("pg_user", &self.pg_user)
            .field("pg_password", &self.pg_password.as_ref().map(|_| "<redacted>"))
            .field("creators", &self.creators)
            .field("stash_path", &self.stash_path)
            .field("preview_tag", &self.preview_tag)
            .field("create_tags", &self.create_tags)
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

/// The settings of "Sync Scene Tags from StashDB".
#[derive(Debug, Clone, PartialEq)]
pub struct TagSync {
    /// The stash-box endpoint; `None` = the first with `stashdb.org` in it, else the first.
    pub endpoint: Option<String>,
    /// Only make the plan (default on).
    pub dry_run: bool,
    /// Tag names never added, comma or line separated.
    pub blacklist: Option<String>,
    /// Our budget on the stash-box, requests per minute (default 120 = 2/s).
    pub requests_per_minute: u32,
    /// Skip scenes whose stash-box answer is younger than this (0 = ask every time).
    pub min_age_hours: u32,
    /// Replace StashIDs of merged stash-box scenes by the survivor's (through the plan).
    pub fix_merged_stash_ids: bool,
}

impl Default for TagSync {
    fn default() -> Self {
        TagSync {
            endpoint: None,
            dry_run: true,
            blacklist: None,
            requests_per_minute: 120,
            min_age_hours: 0,
            fix_merged_stash_ids: false,
        }
    }
}

/// Which of the analyzer's detectors are switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detectors {
    /// The studio detector.
    pub studios: bool,
    /// The performer detector.
    pub performers: bool,
    /// The tag detector.
    pub tags: bool,
    /// The details detector.
    pub details: bool,
    /// The performer detector also proposes creating the performer a creator folder names
    /// (off by default).
    pub create_missing_performers: bool,
}

impl Default for Detectors {
    fn default() -> Self {
        Detectors { studios: true, performers: true, tags: true, details: true, create_missing_performers: false }
    }
}

/// The analyzer's AI detector: an OpenAI-compatible chat-completions endpoint.
#[derive(Clone, PartialEq)]
pub struct AiSettings {
    /// Whether it runs (off by default).
    pub enabled: bool,
    /// The API's base URL, e.g. `http://localhost:11434/v1`; requests go to `{base}/chat/completions`.
    pub base_url: Option<String>,
    /// The model name.
    pub model: Option<String>,
    /// The API key, sent as a bearer token; never logged.
    pub api_key: Option<String>,
    /// A run whose estimated AI cost is above this (USD) does not start.
    pub max_cost_usd: f64,
}

impl Default for AiSettings {
    fn default() -> Self {
        AiSettings { enabled: false, base_url: None, model: None, api_key: None, max_cost_usd: DEFAULT_AI_MAX_COST_USD }
    }
}

impl std::fmt::Debug for AiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiSettings")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("max_cost_usd", &self.max_cost_usd)
            .finish()
    }
}

/// The AI cost guard's default, in USD.
pub const DEFAULT_AI_MAX_COST_USD: f64 = 1.0;

/// The analyzer's default minimum confidence.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.7;

/// Settings whose NUMBER may have decimals (the others are whole numbers).
fn takes_fraction(key: SettingKey) -> bool {
    matches!(key, SettingKey::AnalysisMinConfidence | SettingKey::AutoApproveConfidence | SettingKey::AiMaxCostUsd)
}

fn text(value: &Option<Value>) -> Option<String> {
    value.as_ref().and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_path: None,
            mirror_hooks: true,
            analysis_min_confidence: DEFAULT_MIN_CONFIDENCE,
            auto_approve_confidence: None,
            analyze: Detectors::default(),
            studio_rules: None,
            details_template: None,
            ai: AiSettings::default(),
            tag_sync: TagSync::default(),
            fansly: FanslyImport::default(),
        }
    }
}

impl Settings {
    /// Resolves every manifest setting from the saved map and the invocation's arguments.
    pub fn resolve(saved: &Map<String, Value>, args: &Args) -> Result<(Settings, Vec<Effective>), SettingsError> {
        let saved = Args::new(saved.clone());
        let mut settings = Settings::default();
        let mut effective = Vec::new();
        for &key in SettingKey::ALL {
            let (source, from) = if args.get(key.key()).is_some() {
                (Source::Argument, args)
            } else if saved.get(key.key()).is_some() {
                (Source::Saved, &saved)
            } else {
                (Source::Default, &saved)
            };
            let value = match key.kind() {
                SettingKind::String => from.string(key.key()).map(|v| v.map(Value::from)),
                SettingKind::Number if takes_fraction(key) => from.number(key.key()).map(|v| v.map(Value::from)),
                SettingKind::Number => from.integer(key.key()).map(|v| v.map(Value::from)),
                SettingKind::Boolean => from.bool(key.key()).map(|v| v.map(Value::from)),
            }
            .map_err(SettingsError)?;
            let flag = |default: bool| value.as_ref().and_then(Value::as_bool).unwrap_or(default);
            let fraction = value.as_ref().and_then(Value::as_f64).map(|f| f.clamp(0.0, 1.0));
            match key {
                SettingKey::AnalysisMinConfidence => {
                    settings.analysis_min_confidence = fraction.unwrap_or(DEFAULT_MIN_CONFIDENCE);
                }
                SettingKey::AutoApproveConfidence => settings.auto_approve_confidence = fraction.filter(|f| *f > 0.0),
                SettingKey::AnalyzeStudios => settings.analyze.studios = flag(true),
                SettingKey::AnalyzePerformers => settings.analyze.performers = flag(true),
                SettingKey::AnalyzeTags => settings.analyze.tags = flag(true),
                SettingKey::AnalyzeDetails => settings.analyze.details = flag(true),
                SettingKey::CreateMissingPerformers => settings.analyze.create_missing_performers = flag(false),
                SettingKey::StudioRules => settings.studio_rules = text(&value),
                SettingKey::DetailsTemplate => settings.details_template = text(&value),
                SettingKey::AnalyzeWithAi => settings.ai.enabled = flag(false),
                SettingKey::AiBaseUrl => settings.ai.base_url = text(&value),
                SettingKey::AiModel => settings.ai.model = text(&value),
                SettingKey::AiApiKey => settings.ai.api_key = text(&value),
                SettingKey::AiMaxCostUsd => {
                    let usd = value.as_ref().and_then(Value::as_f64).filter(|f| *f >= 0.0);
                    settings.ai.max_cost_usd = usd.unwrap_or(DEFAULT_AI_MAX_COST_USD);
                }
                SettingKey::StashBoxEndpoint => settings.tag_sync.endpoint = text(&value),
                SettingKey::SyncDryRun => settings.tag_sync.dry_run = flag(true),
                SettingKey::FixMergedStashIds => settings.tag_sync.fix_merged_stash_ids = flag(false),
                SettingKey::SyncTagBlacklist => settings.tag_sync.blacklist = text(&value),
                SettingKey::StashBoxRequestsPerMinute => {
                    let n = value.as_ref().and_then(Value::as_u64).filter(|n| *n > 0);
                    settings.tag_sync.requests_per_minute = n.map_or(120, |n| n.min(100_000) as u32);
                }
                SettingKey::SyncMinAgeHours => {
                    let n = value.as_ref().and_then(Value::as_u64);
                    settings.tag_sync.min_age_hours = n.map_or(0, |n| n.min(100_000) as u32);
                }
                SettingKey::FanslyDatabase => settings.fansly.database = text(&value),
                SettingKey::FanslyPgHost => settings.fansly.pg_host = text(&value),
                SettingKey::FanslyPgPort => {
                    let port = value.as_ref().and_then(Value::as_u64).filter(|p| (1..=65535).contains(p));
                    settings.fansly.pg_port = port.map_or(5432, |p| p as u16);
                }
                SettingKey::FanslyPgDatabase => {
                    settings.fansly.pg_database = text(&value).unwrap_or_else(|| "fansly_metadata".into());
                }
                SettingKey::FanslyPgUser => {
                    settings.fansly.pg_user = text(&value).unwrap_or_else(|| "fansly_user".into());
                }
                SettingKey::FanslyPgPassword => settings.fansly.pg_password = text(&value),
                SettingKey::FanslyCreators => {
                    settings.fansly.creators = text(&value)
                        .unwrap_or_default()
                        .split([',', '\n'])
                        .map(|c| c.trim().trim_start_matches('@').to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                }
                SettingKey::FanslyStashPath => settings.fansly.stash_path = text(&value),
                SettingKey::FanslyPreviewTag => {
                    settings.fansly.preview_tag = if value.is_some() { text(&value) } else { Some("Trailer".into()) };
                }
                SettingKey::FanslyCreateTags => settings.fansly.create_tags = flag(true),
                SettingKey::FanslyDryRun => settings.fansly.dry_run = flag(true),
                SettingKey::MirrorHooks => {
                    settings.mirror_hooks = value.as_ref().and_then(Value::as_bool).unwrap_or(true);
                }
                SettingKey::DatabasePath => {
                    settings.database_path = value
                        .as_ref()
                        .and_then(Value::as_str)
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned);
                }
            }
            // A secret shows as set or not, never as itself (check prints every setting).
            let secret = matches!(key, SettingKey::AiApiKey | SettingKey::FanslyPgPassword);
            let value = if secret { value.map(|_| Value::from("<redacted>")) } else { value };
            effective.push(Effective { key: key.key(), value: value.unwrap_or(Value::Null), source });
        }
        Ok((settings, effective))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn absent_settings_take_defaults() {
        let (s, effective) = Settings::resolve(&Map::new(), &Args::default()).expect("resolves");
        assert_eq!(s.database_path, None);
        assert!(effective.iter().all(|e| e.source == Source::Default));
    }

    #[test]
    fn arguments_override_saved_values() {
        let saved = map(json!({"databasePath": "/saved.sqlite"}));
        let (s, _) = Settings::resolve(&saved, &Args::default()).expect("resolves");
        assert_eq!(s.database_path.as_deref(), Some("/saved.sqlite"));
        let args = Args::new(map(json!({"databasePath": "/arg.sqlite"})));
        let (s, effective) = Settings::resolve(&saved, &args).expect("resolves");
        assert_eq!(s.database_path.as_deref(), Some("/arg.sqlite"));
        let database_path = effective.iter().find(|e| e.key == "databasePath").expect("listed");
        assert_eq!(database_path.source, Source::Argument);
    }

    #[test]
    fn a_malformed_saved_value_names_the_setting() {
        let saved = map(json!({"databasePath": ["x"]}));
        let e = Settings::resolve(&saved, &Args::default()).unwrap_err();
        assert!(e.to_string().starts_with("setting `databasePath` must be a string"), "{e}");
    }

    #[test]
    fn analysis_confidences_take_fractions() {
        let saved = map(json!({"analysisMinConfidence": 0.85, "autoApproveConfidence": "0.97"}));
        let (s, _) = Settings::resolve(&saved, &Args::default()).expect("resolves");
        assert_eq!(s.analysis_min_confidence, 0.85);
        assert_eq!(s.auto_approve_confidence, Some(0.97));
        let (s, _) = Settings::resolve(&Map::new(), &Args::default()).expect("resolves");
        assert_eq!((s.analysis_min_confidence, s.auto_approve_confidence), (DEFAULT_MIN_CONFIDENCE, None));
    }

    #[test]
    fn the_ai_key_is_never_shown_in_effect() {
        let saved = map(json!({"aiApiKey": "sk-secret", "aiMaxCostUsd": 2.5}));
        let (s, effective) = Settings::resolve(&saved, &Args::default()).expect("resolves");
        assert_eq!(s.ai.api_key.as_deref(), Some("sk-secret"));
        assert_eq!(s.ai.max_cost_usd, 2.5);
        assert!(!format!("{effective:?} {s:?}").contains("sk-secret"));
    }
}
