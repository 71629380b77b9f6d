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
}

impl Default for Settings {
    fn default() -> Self {
        Settings { database_path: None, mirror_hooks: true }
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
                SettingKind::Number => from.integer(key.key()).map(|v| v.map(Value::from)),
                SettingKind::Boolean => from.bool(key.key()).map(|v| v.map(Value::from)),
            }
            .map_err(SettingsError)?;
            match key {
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
        assert_eq!(effective[0].source, Source::Argument);
    }

    #[test]
    fn a_malformed_saved_value_names_the_setting() {
        let saved = map(json!({"databasePath": ["x"]}));
        let e = Settings::resolve(&saved, &Args::default()).unwrap_err();
        assert!(e.to_string().starts_with("setting `databasePath` must be a string"), "{e}");
    }
}
