//! Stash's plugin manifest (`stashhog.yml`), parsed as strictly as Stash parses it: Go's yaml.v2
//! decoder in strict mode (stashapp/stash `pkg/plugin/config.go`, `loadPluginFromYAML`), where an
//! unknown or duplicated key makes Stash skip the whole plugin.
//!
//! One home for that schema, used by `build.rs` (the manifest in the repository), `cargo xtask
//! dist` (the manifest it packages) and the install tests (the manifest inside every zip).
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole manifest.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub version: Option<String>,
    pub exec: Vec<String>,
    pub interface: Option<String>,
    #[serde(rename = "errLog")]
    pub err_log: Option<String>,
    #[serde(default)]
    pub tasks: Vec<Operation>,
    #[serde(default)]
    pub hooks: Vec<Hook>,
    #[serde(default)]
    pub settings: BTreeMap<String, Setting>,
    pub ui: Option<Ui>,
}

/// A task: a button in Settings > Tasks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "execArgs")]
    pub exec_args: Option<Vec<String>>,
    #[serde(rename = "defaultArgs", default)]
    pub default_args: BTreeMap<String, String>,
}

/// A hook: run after the operations it is triggered by.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "triggeredBy")]
    pub triggered_by: Vec<String>,
    #[serde(rename = "execArgs")]
    pub exec_args: Option<Vec<String>>,
    #[serde(rename = "defaultArgs", default)]
    pub default_args: BTreeMap<String, String>,
}

/// A setting on the plugin's card in Settings > Plugins.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    #[serde(rename = "displayName")]
    pub display_name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The page: scripts and styles Stash serves, assets, CSP additions.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui {
    #[serde(default)]
    pub javascript: Vec<String>,
    #[serde(default)]
    pub css: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub assets: BTreeMap<String, String>,
    #[serde(default)]
    pub csp: BTreeMap<String, Vec<String>>,
}

/// Parses a manifest the way Stash does; the error is the parser's own.
pub fn parse(text: &str) -> Result<Manifest, serde_yaml::Error> {
    serde_yaml::from_str(text)
}
