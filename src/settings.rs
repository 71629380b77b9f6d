//! StashHog's settings: what the user saved in Stash's plugin settings page, overridden by the
//! invocation's arguments (`--set key=value`, or `args` of `runPluginTask`), else our defaults.
//!
//! Stash's settings page shapes what is stored: it saves a key only once the user touches it,
//! shows an unsaved toggle as off and an unsaved number as 0 whatever our default is, and reads
//! a number with `parseInt` (typing 0.9 stores 0). So fractions are whole percent or cents here,
//! and [`completed`] gives the map StashHog writes back once — old keys renamed, old fractions
//! turned into percent, every never-saved key set to its default — so the page shows what is in
//! effect. Values are read leniently: a bool or a number may arrive as a string from older
//! configs or from `defaultArgs`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::manifest::SettingKey;
use crate::protocol::args::{Args, as_bool, as_number, as_string};

/// A saved or passed setting has a value of the wrong kind or out of range: one line naming the
/// setting, where the value came from, the value, what it takes and where to fix it.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("the setting `{key}` {} is {got}, but it takes {takes}; {}", origin.words(), origin.fix())]
pub(crate) struct SettingsError {
    /// The setting's key.
    pub key: &'static str,
    /// Saved in Stash, or given for this run.
    pub origin: Source,
    /// The value, as JSON (cut to 80 characters).
    pub got: String,
    /// What the setting takes, in words.
    pub takes: String,
}

/// Where a setting's value came from. A saved value equal to StashHog's default counts as the
/// default: StashHog saves its defaults into Stash once, so the settings page shows them.
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

impl Source {
    /// The source in words, for `check`'s report.
    pub fn words(self) -> &'static str {
        match self {
            Source::Default => "StashHog's default",
            Source::Saved => "saved in Stash",
            Source::Argument => "given for this run",
        }
    }

    /// Where a refused value is fixed.
    fn fix(self) -> &'static str {
        match self {
            Source::Argument => "fix the argument (`--set key=value`, or the task's args)",
            Source::Default | Source::Saved => "fix it in Stash's Settings > Plugins > StashHog",
        }
    }
}

/// One setting as in effect, for `check`'s report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Effective {
    /// The key.
    pub key: &'static str,
    /// The name Stash's settings page shows.
    pub name: &'static str,
    /// The value in effect, as the settings page would show it (a secret only as set or not).
    pub value: Value,
    /// Where it came from.
    pub source: Source,
}

impl Effective {
    /// The value in words: `on`, `70`, `"…"`, or `empty`.
    pub(crate) fn value_words(&self) -> String {
        match &self.value {
            Value::Bool(true) => "on".into(),
            Value::Bool(false) => "off".into(),
            Value::String(s) if s.is_empty() => "empty".into(),
            Value::String(s) => format!("{s:?}"),
            Value::Null => "empty".into(),
            other => other.to_string(),
        }
    }
}

/// Keys StashHog used before, and the key each became; old values are read, and moved over
/// the first time StashHog writes the settings back.
pub(crate) const RENAMED: &[(&str, SettingKey)] = &[
    ("aiApiKey", SettingKey::AnalyzeWithAiApiKey),
    ("aiBaseUrl", SettingKey::AnalyzeWithAiBaseUrl),
    ("aiMaxCostUsd", SettingKey::AnalyzeWithAiMaxCostCents),
    ("aiModel", SettingKey::AnalyzeWithAiModel),
    ("autoApproveConfidence", SettingKey::AnalysisAutoApproveConfidence),
    ("createMissingPerformers", SettingKey::AnalyzePerformersCreateMissing),
    ("detailsTemplate", SettingKey::AnalyzeDetailsTemplate),
    ("fixMergedStashIds", SettingKey::SyncFixMergedStashIds),
    ("stashBoxEndpoint", SettingKey::SyncBoxEndpoint),
    ("stashBoxRequestsPerMinute", SettingKey::SyncBoxRequestsPerMinute),
    ("studioRules", SettingKey::AnalyzeStudiosRules),
];

/// The setting an old key became.
pub fn renamed(old: &str) -> Option<SettingKey> {
    RENAMED.iter().find(|(k, _)| *k == old).map(|(_, new)| *new)
}

/// What a setting accepts. Every value, saved in Stash or given for a run, is checked against
/// it before anything runs: a value StashHog would otherwise have to guess at (clamp, replace,
/// read as another kind) is refused with the range instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// On or off (`true`/`false`, `1`/`0`, `yes`/`no`).
    Toggle,
    /// Any text; a number is read as its text.
    Text,
    /// A file or folder path, as text on one line.
    Path,
    /// An `http://` or `https://` URL, or nothing.
    Url,
    /// A whole number from `min` to `max`. With `zero_is_default`, 0 also counts: it is what
    /// Stash's page shows, and may save, for a number never typed, so it means the default.
    Whole {
        /// The smallest value.
        min: i64,
        /// The largest value.
        max: i64,
        /// 0 means the default.
        zero_is_default: bool,
    },
    /// A percent from 0 to 100; an old fraction (0 < v < 1) is still read as percent.
    Percent,
    /// US cents from 0 to `max` (fractions allowed).
    Cents {
        /// The largest value.
        max: i64,
    },
}

impl Accepts {
    /// `value` as this setting holds it (a bool, a string or a number), or `None` when the
    /// setting does not take it.
    pub fn read(self, value: &Value) -> Option<Value> {
        let within = |n: f64, min: f64, max: f64| (min..=max).contains(&n);
        match self {
            Accepts::Toggle => as_bool(value).map(Value::Bool),
            Accepts::Text => as_string(value).map(Value::String),
            Accepts::Path => value.as_str().filter(|p| !p.chars().any(char::is_control)).map(Value::from),
            Accepts::Url => value.as_str().filter(|u| is_web_url(u)).map(Value::from),
            Accepts::Whole { min, max, zero_is_default } => as_number(value)
                .filter(|n| n.fract() == 0.0)
                .filter(|n| within(*n, min as f64, max as f64) || (zero_is_default && *n == 0.0))
                .map(|n| Value::from(n as i64)),
            Accepts::Percent => as_number(value).filter(|n| within(*n, 0.0, 100.0)).map(number_value),
            Accepts::Cents { max } => as_number(value).filter(|n| within(*n, 0.0, max as f64)).map(number_value),
        }
    }

    /// What the setting takes, in words, for a refusal.
    pub fn words(self, default: &Value) -> String {
        match self {
            Accepts::Toggle => "true or false".into(),
            Accepts::Text => "text".into(),
            Accepts::Path => "a file path (text on one line)".into(),
            Accepts::Url => "an http:// or https:// URL, or nothing".into(),
            Accepts::Whole { min, max, zero_is_default: true } => {
                format!("a whole number from {min} to {max} (0: the default, {default})")
            }
            Accepts::Whole { min, max, zero_is_default: false } => format!("a whole number from {min} to {max}"),
            Accepts::Percent => "a percent from 0 to 100".into(),
            Accepts::Cents { max } => format!("US cents from 0 to {max}"),
        }
    }
}

/// A number as JSON, whole numbers without a fraction (`90`, not `90.0`).
fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 { Value::from(n as i64) } else { Value::from(n) }
}

/// Empty, or `http(s)://` and a host, on one line without spaces.
fn is_web_url(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    url.is_empty()
        || rest.is_some_and(|r| {
            !r.is_empty() && !r.starts_with('/') && !r.chars().any(|c| c.is_control() || c.is_whitespace())
        })
}

/// A setting's default (as Stash's settings page stores it) and what it accepts, declared
/// together: the one table [`default_value`], [`completed`] and [`Settings::resolve`] read.
pub fn declared(key: SettingKey) -> (Value, Accepts) {
    use Accepts::{Cents, Path, Percent, Text, Toggle, Url, Whole};
    match key {
        SettingKey::AnalysisAutoApproveConfidence => (Value::from(0), Percent),
        SettingKey::AnalysisMinConfidence => (Value::from(DEFAULT_MIN_CONFIDENCE_PERCENT), Percent),
        SettingKey::AnalyzeDetails
        | SettingKey::AnalyzePerformers
        | SettingKey::AnalyzeStudios
        | SettingKey::AnalyzeTags
        | SettingKey::MirrorHooks
        | SettingKey::SyncDryRun
        | SettingKey::FanslyCreateTags
        | SettingKey::FanslyDryRun => (Value::Bool(true), Toggle),
        SettingKey::AnalyzePerformersCreateMissing | SettingKey::AnalyzeWithAi | SettingKey::SyncFixMergedStashIds => {
            (Value::Bool(false), Toggle)
        }
        // Ten thousand dollars: above it, a typo rather than a budget.
        SettingKey::AnalyzeWithAiMaxCostCents => (Value::from(DEFAULT_AI_MAX_COST_CENTS), Cents { max: 1_000_000 }),
        // The pace is also capped by the endpoint's own limit in Stash (240 when unset).
        SettingKey::SyncBoxRequestsPerMinute => {
            (Value::from(DEFAULT_REQUESTS_PER_MINUTE), Whole { min: 1, max: 100_000, zero_is_default: true })
        }
        // Ten years.
        SettingKey::SyncMinAgeHours => (Value::from(0), Whole { min: 0, max: 87_600, zero_is_default: false }),
        SettingKey::FanslyPgPort => (Value::from(5432), Whole { min: 1, max: 65_535, zero_is_default: true }),
        SettingKey::FanslyPgDatabase => (Value::from("fansly_metadata"), Text),
        SettingKey::FanslyPgUser => (Value::from("fansly_user"), Text),
        SettingKey::FanslyPreviewTag => (Value::from("Trailer"), Text),
        SettingKey::DatabasePath | SettingKey::FanslyDatabase | SettingKey::FanslyStashPath => (Value::from(""), Path),
        SettingKey::SyncBoxEndpoint | SettingKey::AnalyzeWithAiBaseUrl => (Value::from(""), Url),
        SettingKey::FanslyPgHost
        | SettingKey::FanslyPgPassword
        | SettingKey::FanslyCreators
        | SettingKey::AnalyzeDetailsTemplate
        | SettingKey::AnalyzeStudiosRules
        | SettingKey::AnalyzeWithAiApiKey
        | SettingKey::AnalyzeWithAiModel
        | SettingKey::SyncTagBlacklist => (Value::from(""), Text),
    }
}

/// StashHog's default for `key`, as Stash's settings page stores it.
pub fn default_value(key: SettingKey) -> Value {
    declared(key).0
}

/// Settings given in percent; a value between 0 and 1 is an old fraction (0.9 = 90 %).
fn in_percent(key: SettingKey) -> bool {
    matches!(key, SettingKey::AnalysisMinConfidence | SettingKey::AnalysisAutoApproveConfidence)
}

/// A percent setting's value as a fraction from 0 to 1; old fractions (0 < v < 1) pass as they are.
fn fraction(percent: f64) -> f64 {
    if percent > 0.0 && percent < 1.0 { percent } else { (percent / 100.0).clamp(0.0, 1.0) }
}

/// `value` under the units `key` has now: old fractions as percent, old dollars as cents.
fn in_current_units(key: SettingKey, value: Value, from_old_key: &str) -> Value {
    let number = as_number(&value);
    let whole = |n: f64| {
        let rounded = (n * 1000.0).round() / 1000.0;
        if rounded.fract() == 0.0 { Value::from(rounded as i64) } else { Value::from(rounded) }
    };
    match number {
        Some(n) if in_percent(key) && n > 0.0 && n < 1.0 => whole(n * 100.0),
        Some(n) if from_old_key == "aiMaxCostUsd" => whole(n * 100.0),
        _ => value,
    }
}

/// The saved map under today's keys and units: an old key's value moves to its new key (unless
/// the new key is saved too: the newer wins), old fractions become percent. Unknown keys stay.
pub fn migrated(saved: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in saved {
        if let Some(new) = renamed(key) {
            if saved.get(new.key()).is_none_or(Value::is_null) {
                out.insert(new.key().to_owned(), in_current_units(new, value.clone(), key));
            }
        } else if let Some(setting) = SettingKey::ALL.iter().find(|k| k.key() == key) {
            out.insert(key.clone(), in_current_units(*setting, value.clone(), key));
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// What StashHog writes into Stash's plugin settings: the [`migrated`] map with every
/// never-saved key set to its default. `None` when the saved map is already complete, which
/// after the first write is every run's case. Never changes a value the user saved (beyond
/// its key and unit).
pub fn completed(saved: &Map<String, Value>) -> Option<Map<String, Value>> {
    let mut map = migrated(saved);
    for &key in SettingKey::ALL {
        if map.get(key.key()).is_none_or(Value::is_null) {
            map.insert(key.key().to_owned(), default_value(key));
        }
    }
    (map != *saved).then_some(map)
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
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
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
        AiSettings {
            enabled: false,
            base_url: None,
            model: None,
            api_key: None,
            max_cost_usd: DEFAULT_AI_MAX_COST_CENTS as f64 / 100.0,
        }
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

/// The AI cost guard's default, in US cents (one dollar).
pub(crate) const DEFAULT_AI_MAX_COST_CENTS: i64 = 100;

/// The analyzer's default minimum confidence, in percent.
pub(crate) const DEFAULT_MIN_CONFIDENCE_PERCENT: i64 = 70;

/// The analyzer's default minimum confidence, as a fraction.
pub(crate) const DEFAULT_MIN_CONFIDENCE: f64 = DEFAULT_MIN_CONFIDENCE_PERCENT as f64 / 100.0;

/// The tag sync's default pace on the stash-box.
pub(crate) const DEFAULT_REQUESTS_PER_MINUTE: u32 = 120;

/// A refused value as the message shows it: JSON (so on one line), cut to 80 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
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
    /// Resolves every manifest setting from the saved map (old keys and units read as
    /// [`migrated`] says) and the invocation's arguments.
    pub(crate) fn resolve(
        saved: &Map<String, Value>,
        args: &Args,
    ) -> Result<(Settings, Vec<Effective>), SettingsError> {
        let saved = Args::new(migrated(saved));
        let mut settings = Settings::default();
        let mut effective = Vec::new();
        for &key in SettingKey::ALL {
            let (default, accepts) = declared(key);
            let (source, given) = match (args.get(key.key()), saved.get(key.key())) {
                (Some(v), _) => (Source::Argument, Some(v)),
                (None, Some(v)) => (Source::Saved, Some(v)),
                (None, None) => (Source::Default, None),
            };
            let value = given
                .map(|v| {
                    accepts.read(v).ok_or_else(|| SettingsError {
                        key: key.key(),
                        origin: source,
                        got: shown(v),
                        takes: accepts.words(&default),
                    })
                })
                .transpose()?;
            let flag = |default: bool| value.as_ref().and_then(Value::as_bool).unwrap_or(default);
            let number = value.as_ref().and_then(Value::as_f64);
            // In range (checked above); 0 of a `zero_is_default` setting means the default.
            let whole = |default: u32| number.filter(|n| *n > 0.0).map_or(default, |n| n as u32);
            match key {
                SettingKey::AnalysisMinConfidence => {
                    settings.analysis_min_confidence = number.map_or(DEFAULT_MIN_CONFIDENCE, fraction);
                }
                SettingKey::AnalysisAutoApproveConfidence => {
                    settings.auto_approve_confidence = number.map(fraction).filter(|f| *f > 0.0);
                }
                SettingKey::AnalyzeStudios => settings.analyze.studios = flag(true),
                SettingKey::AnalyzePerformers => settings.analyze.performers = flag(true),
                SettingKey::AnalyzeTags => settings.analyze.tags = flag(true),
                SettingKey::AnalyzeDetails => settings.analyze.details = flag(true),
                SettingKey::AnalyzePerformersCreateMissing => {
                    settings.analyze.create_missing_performers = flag(false);
                }
                SettingKey::AnalyzeStudiosRules => settings.studio_rules = text(&value),
                SettingKey::AnalyzeDetailsTemplate => settings.details_template = text(&value),
                SettingKey::AnalyzeWithAi => settings.ai.enabled = flag(false),
                SettingKey::AnalyzeWithAiBaseUrl => settings.ai.base_url = text(&value),
                SettingKey::AnalyzeWithAiModel => settings.ai.model = text(&value),
                SettingKey::AnalyzeWithAiApiKey => settings.ai.api_key = text(&value),
                SettingKey::AnalyzeWithAiMaxCostCents => {
                    settings.ai.max_cost_usd = number.unwrap_or(DEFAULT_AI_MAX_COST_CENTS as f64) / 100.0;
                }
                SettingKey::SyncBoxEndpoint => settings.tag_sync.endpoint = text(&value),
                SettingKey::SyncDryRun => settings.tag_sync.dry_run = flag(true),
                SettingKey::SyncFixMergedStashIds => settings.tag_sync.fix_merged_stash_ids = flag(false),
                SettingKey::SyncTagBlacklist => settings.tag_sync.blacklist = text(&value),
                SettingKey::SyncBoxRequestsPerMinute => {
                    settings.tag_sync.requests_per_minute = whole(DEFAULT_REQUESTS_PER_MINUTE);
                }
                SettingKey::FanslyDatabase => settings.fansly.database = text(&value),
                SettingKey::FanslyPgHost => settings.fansly.pg_host = text(&value),
                SettingKey::FanslyPgPort => {
                    settings.fansly.pg_port = u16::try_from(whole(5432)).unwrap_or(5432);
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
                SettingKey::SyncMinAgeHours => settings.tag_sync.min_age_hours = whole(0),
                SettingKey::MirrorHooks => settings.mirror_hooks = flag(true),
                SettingKey::DatabasePath => settings.database_path = text(&value),
            }
            let value = match (key, value) {
                // A secret shows as set or not, never as itself (check prints every setting).
                (SettingKey::AnalyzeWithAiApiKey | SettingKey::FanslyPgPassword, Some(v))
                    if text(&Some(v.clone())).is_some() =>
                {
                    Value::from("<set>")
                }
                (_, Some(v)) => v,
                (_, None) => default.clone(),
            };
            let value = match (in_percent(key), as_number(&value)) {
                (true, Some(n)) if n > 0.0 && n < 1.0 => in_current_units(key, value, key.key()),
                _ => value,
            };
            let source = if source == Source::Saved && value == default { Source::Default } else { source };
            effective.push(Effective { key: key.key(), name: key.display_name(), value, source });
        }
        Ok((settings, effective))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::SettingKind;
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

    /// The refusal of `value` for `key`, saved in Stash.
    fn refusal(key: &str, value: Value) -> String {
        let saved = map(json!({ key: value }));
        match Settings::resolve(&saved, &Args::default()) {
            Ok(_) => panic!("{key} = {value} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_malformed_saved_value_names_the_setting_the_value_and_what_it_takes() {
        assert_eq!(
            refusal("databasePath", json!(5)),
            "the setting `databasePath` saved in Stash is 5, but it takes a file path (text on one line); \
             fix it in Stash's Settings > Plugins > StashHog"
        );
        let e = refusal("syncBoxRequestsPerMinute", json!(-5));
        assert!(e.contains("is -5, but it takes a whole number from 1 to 100000 (0: the default, 120)"), "{e}");
        let e = refusal("stashBoxRequestsPerMinute", json!(1e12));
        assert!(e.starts_with("the setting `syncBoxRequestsPerMinute` saved in Stash is 1000000000000.0"), "{e}");
        assert!(refusal("syncMinAgeHours", json!(-3)).contains("a whole number from 0 to 87600"));
        assert!(refusal("syncMinAgeHours", json!("2.5")).contains("is \"2.5\""));
        assert!(refusal("analysisMinConfidence", json!(150)).contains("a percent from 0 to 100"));
        assert!(refusal("analysisAutoApproveConfidence", json!(-0.5)).contains("a percent from 0 to 100"));
        assert!(refusal("syncBoxEndpoint", json!("ftp://stashdb.org/graphql")).contains("an http:// or https:// URL"));
        assert!(refusal("analyzeWithAiBaseUrl", json!("localhost:11434/v1")).contains("an http:// or https:// URL"));
        assert!(refusal("fanslyPgPort", json!(70000)).contains("from 1 to 65535 (0: the default, 5432)"));
        assert!(refusal("analyzeWithAiMaxCostCents", json!(-1)).contains("US cents from 0 to 1000000"));
        assert!(refusal("syncDryRun", json!("maybe")).contains("true or false"));
        assert!(refusal("fanslyDatabase", json!("/a\nb")).contains("is \"/a\\nb\""));
        assert!(refusal("syncTagBlacklist", json!(["x"])).contains("takes text"));
        let long = refusal("databasePath", Value::from(vec![0; 100]));
        assert!(!long.contains('\n') && long.contains("…"), "{long}");
    }

    #[test]
    fn an_argument_is_checked_like_a_saved_value_and_says_where_to_fix_it() {
        let args = Args::new(map(json!({"syncMinAgeHours": "-3"})));
        let e = Settings::resolve(&Map::new(), &args).unwrap_err().to_string();
        assert!(e.starts_with("the setting `syncMinAgeHours` given for this run is \"-3\""), "{e}");
        assert!(e.ends_with("fix the argument (`--set key=value`, or the task's args)"), "{e}");
        // A good argument overrides a bad saved value: only the value in effect is checked.
        let saved = map(json!({"syncMinAgeHours": -3}));
        let args = Args::new(map(json!({"syncMinAgeHours": "24"})));
        let (s, _) = Settings::resolve(&saved, &args).expect("the argument is in effect");
        assert_eq!(s.tag_sync.min_age_hours, 24);
    }

    #[test]
    fn values_at_the_edges_and_in_stashs_own_forms_are_accepted() {
        let saved = map(json!({"syncBoxRequestsPerMinute": 0, "fanslyPgPort": "0", "syncMinAgeHours": "87600",
            "analysisMinConfidence": 100, "analysisAutoApproveConfidence": 0, "syncDryRun": "false",
            "syncBoxEndpoint": "HTTPS://stashdb.org/graphql", "analyzeWithAiBaseUrl": " ", "fanslyPgPassword": 1234,
            "databasePath": "", "analyzeWithAiMaxCostCents": 12.5}));
        let (s, _) = Settings::resolve(&saved, &Args::default()).expect("all accepted");
        assert_eq!(s.tag_sync.requests_per_minute, DEFAULT_REQUESTS_PER_MINUTE, "0 is the page's unsaved number");
        assert_eq!((s.fansly.pg_port, s.tag_sync.min_age_hours), (5432, 87_600));
        assert_eq!((s.analysis_min_confidence, s.auto_approve_confidence), (1.0, None));
        assert!(!s.tag_sync.dry_run);
        assert_eq!(s.tag_sync.endpoint.as_deref(), Some("HTTPS://stashdb.org/graphql"));
        assert_eq!((s.ai.base_url, s.database_path), (None, None));
        assert_eq!(s.fansly.pg_password.as_deref(), Some("1234"));
        assert_eq!(s.ai.max_cost_usd, 0.125);
    }

    #[test]
    fn confidences_are_percent_and_old_fractions_still_count() {
        let saved = map(json!({"analysisMinConfidence": 90, "autoApproveConfidence": "0.97"}));
        let (s, effective) = Settings::resolve(&saved, &Args::default()).expect("resolves");
        assert_eq!(s.analysis_min_confidence, 0.9);
        assert_eq!(s.auto_approve_confidence, Some(0.97));
        let shown = effective.iter().find(|e| e.key == "analysisAutoApproveConfidence").expect("listed");
        assert_eq!((shown.value.clone(), shown.source), (json!(97), Source::Saved));
        let saved = map(json!({"analysisMinConfidence": 0.85, "analysisAutoApproveConfidence": 0}));
        let (s, _) = Settings::resolve(&saved, &Args::default()).expect("resolves");
        assert_eq!((s.analysis_min_confidence, s.auto_approve_confidence), (0.85, None));
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
        let (s, _) = Settings::resolve(&map(json!({"analyzeWithAiMaxCostCents": 50})), &Args::default()).expect("ok");
        assert_eq!(s.ai.max_cost_usd, 0.5);
    }

    #[test]
    fn completing_keeps_saved_values_renames_old_keys_and_adds_defaults() {
        let saved = map(json!({"syncDryRun": false, "stashBoxEndpoint": "https://x/graphql",
            "analysisMinConfidence": 0.9, "aiMaxCostUsd": 2, "otherPlugin": 1}));
        let done = completed(&saved).expect("something to write");
        assert_eq!(done["syncDryRun"], json!(false), "a saved value is never overwritten");
        assert_eq!(done["syncBoxEndpoint"], json!("https://x/graphql"));
        assert_eq!(done["analysisMinConfidence"], json!(90));
        assert_eq!(done["analyzeWithAiMaxCostCents"], json!(200));
        assert_eq!(done["mirrorHooks"], json!(true));
        assert_eq!(done["syncBoxRequestsPerMinute"], json!(120));
        assert_eq!(done["otherPlugin"], json!(1), "keys StashHog does not know are kept");
        assert!(!done.contains_key("stashBoxEndpoint") && !done.contains_key("aiMaxCostUsd"));
        assert_eq!(completed(&done), None, "once complete, nothing more to write");
        let both = map(json!({"studioRules": "old", "analyzeStudiosRules": "new"}));
        assert_eq!(migrated(&both)["analyzeStudiosRules"], json!("new"), "the new key wins");
    }

    #[test]
    fn defaults_have_the_kind_the_manifest_declares_and_are_accepted() {
        for &key in SettingKey::ALL {
            let (default, accepts) = declared(key);
            let ok = match key.kind() {
                SettingKind::Boolean => default.is_boolean() && accepts == Accepts::Toggle,
                SettingKind::Number => {
                    default.is_number()
                        && matches!(accepts, Accepts::Whole { .. } | Accepts::Percent | Accepts::Cents { .. })
                }
                SettingKind::String => {
                    default.is_string() && matches!(accepts, Accepts::Text | Accepts::Path | Accepts::Url)
                }
            };
            assert!(ok, "{key:?}");
            assert_eq!(accepts.read(&default), Some(default), "{key:?}");
        }
    }
}
