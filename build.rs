//! Keeps the plugin manifest and the binary from drifting apart.
//!
//! `stashhog.yml` is parsed here the way Stash parses it (strictly: an unknown or duplicated key
//! makes Stash refuse to load the plugin), checked, and turned into Rust: an enum of the modes
//! the manifest's tasks and hooks start, an enum of the setting keys, and the version. The code
//! matches on those enums exhaustively, so a task without a handler or a setting nobody reads
//! fails the build instead of failing in a user's Stash.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

#[path = "build/stash_manifest.rs"]
mod stash_manifest;

use stash_manifest::Manifest;

/// What Stash runs. Stash (`pkg/plugin/config.go`, `getExecCommand`) asks Go's `exec.LookPath`
/// for exec[0] and only when that fails joins it to the plugin's folder. LookPath searches PATH
/// for a bare name but tries a name holding a slash only as given (relative to Stash's working
/// directory), so `./stashhog` is never taken from PATH and resolves to `<plugin folder>/stashhog`
/// (`.exe` added on Windows).
const EXEC: &str = "./stashhog";

const HOOK_ENTITIES: &[&str] =
    &["Scene", "SceneMarker", "Image", "Gallery", "GalleryChapter", "Group", "Movie", "Performer", "Studio", "Tag"];

fn main() {
    println!("cargo:rerun-if-changed=stashhog.yml");
    println!("cargo:rerun-if-changed=graphql");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=plugin");
    if let Err(problems) = run() {
        for problem in &problems {
            println!("cargo::error=stashhog.yml: {problem}");
        }
        std::process::exit(1);
    }
}

fn run() -> Result<(), Vec<String>> {
    let text = std::fs::read_to_string("stashhog.yml").map_err(|e| vec![format!("cannot read it: {e}")])?;
    let manifest: Manifest =
        stash_manifest::parse(&text).map_err(|e| vec![format!("Stash would refuse to load it: {e}")])?;
    let modes = check(&manifest)?;
    let code = generate(&manifest, &modes);
    let out = std::env::var("OUT_DIR").map_err(|e| vec![format!("OUT_DIR: {e}")])?;
    std::fs::write(Path::new(&out).join("manifest.rs"), code)
        .map_err(|e| vec![format!("cannot write generated code: {e}")])?;
    std::fs::write(Path::new(&out).join("plugin_files.rs"), embed_plugin_files()?)
        .map_err(|e| vec![format!("cannot write generated code: {e}")])?;
    Ok(())
}

/// Checks what Stash checks and what StashHog relies on; returns the modes, in manifest order.
fn check(m: &Manifest) -> Result<Vec<String>, Vec<String>> {
    let mut problems = Vec::new();
    let cargo_version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    match &m.version {
        Some(v) if *v == cargo_version => {}
        other => {
            problems.push(format!("version {other:?} differs from Cargo.toml's {cargo_version:?}: bump both together"))
        }
    }
    if m.name.trim().is_empty() {
        problems.push("name is empty".into());
    }
    if m.description.as_deref().is_none_or(str::is_empty) || m.url.is_none() {
        problems.push("description and url are shown in Stash's plugin list: set both".into());
    }
    if m.exec.first().map(String::as_str) != Some(EXEC) {
        problems.push(format!(
            "exec[0] must be `{EXEC}`: Stash looks a bare name up on PATH before the plugin folder, so a \
             `stashhog` on PATH would run instead of the packaged one; a path with a slash skips PATH"
        ));
    }
    if m.interface.as_deref() != Some("raw") {
        problems.push("interface must be `raw`".into());
    }
    let levels = ["trace", "debug", "info", "warning", "error", "progress", "none"];
    if let Some(level) = &m.err_log
        && !levels.contains(&level.as_str())
    {
        problems.push(format!("errLog {level:?} is not one of {levels:?}"));
    }

    let mut names = BTreeSet::new();
    let mut modes = Vec::new();
    let operations = m
        .tasks
        .iter()
        .map(|t| (&t.name, &t.description, &t.default_args, None))
        .chain(m.hooks.iter().map(|h| (&h.name, &h.description, &h.default_args, Some(&h.triggered_by))));
    for (name, description, args, triggers) in operations {
        if !names.insert(name.clone()) {
            problems.push(format!("task/hook name {name:?} is used twice"));
        }
        if description.as_deref().is_none_or(str::is_empty) {
            problems.push(format!("{name:?} has no description"));
        }
        match args.get("mode") {
            Some(mode) if is_mode_name(mode) => {
                if !modes.contains(mode) {
                    modes.push(mode.clone());
                }
            }
            Some(mode) => problems.push(format!("{name:?}: mode {mode:?} must be snake_case")),
            None => problems.push(format!("{name:?} has no defaultArgs.mode")),
        }
        for trigger in triggers.into_iter().flatten() {
            if !is_hook_trigger(trigger) {
                problems.push(format!("{name:?}: {trigger:?} is not a hook trigger Stash knows"));
            }
        }
    }
    for (key, setting) in &m.settings {
        if !["STRING", "NUMBER", "BOOLEAN"].contains(&setting.kind.as_str()) {
            problems.push(format!("setting {key}: type {:?} is not STRING, NUMBER or BOOLEAN", setting.kind));
        }
        if setting.display_name.is_empty() || setting.description.as_deref().is_none_or(str::is_empty) {
            problems.push(format!("setting {key} needs a displayName and a description"));
        }
        if !key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            || !key.chars().all(|c| c.is_ascii_alphanumeric())
        {
            problems.push(format!("setting {key} must be lowerCamelCase"));
        }
    }
    // Stash lists settings sorted by key; keep that order the same whether it compares bytes or
    // ignores case, so the groups README and the descriptions promise are what users see.
    let keys: Vec<&String> = m.settings.keys().collect();
    let mut folded = keys.clone();
    folded.sort_by_key(|k| k.to_ascii_lowercase());
    if keys != folded {
        problems.push("setting keys sort differently with and without case: rename so both orders agree".into());
    }
    if let Some(ui) = &m.ui {
        for file in ui.javascript.iter().chain(&ui.css) {
            if !Path::new("plugin").join(file).is_file() {
                problems.push(format!("ui file {file} is missing from plugin/"));
            }
        }
    }
    if problems.is_empty() { Ok(modes) } else { Err(problems) }
}

fn is_mode_name(mode: &str) -> bool {
    mode.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && mode.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_hook_trigger(trigger: &str) -> bool {
    if trigger == "Tag.Merge.Post" {
        return true;
    }
    trigger.split_once('.').is_some_and(|(entity, action)| {
        HOOK_ENTITIES.contains(&entity) && ["Create.Post", "Update.Post", "Destroy.Post"].contains(&action)
    })
}

fn camel(name: &str, upper_first: bool) -> String {
    let mut out = String::new();
    let mut upper = upper_first;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn generate(m: &Manifest, modes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "/// The version in the manifest (checked equal to Cargo.toml's).");
    let _ = writeln!(s, "pub const VERSION: &str = {:?};", m.version.as_deref().unwrap_or(""));

    let _ = writeln!(s, "\n/// A mode started by one of the manifest's tasks or hooks.");
    let _ = writeln!(s, "#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub enum TaskMode {{");
    for mode in modes {
        let _ = writeln!(s, "    /// `{mode}`\n    {},", camel(mode, true));
    }
    let _ = writeln!(s, "}}\n\nimpl TaskMode {{");
    let _ = writeln!(s, "    /// Every mode, in manifest order.\n    pub const ALL: &[TaskMode] = &[");
    for mode in modes {
        let _ = writeln!(s, "        TaskMode::{},", camel(mode, true));
    }
    let _ = writeln!(s, "    ];\n\n    /// The mode's name as `args.mode` carries it.");
    let _ = writeln!(s, "    pub fn name(self) -> &'static str {{\n        match self {{");
    for mode in modes {
        let _ = writeln!(s, "            TaskMode::{} => {mode:?},", camel(mode, true));
    }
    let _ = writeln!(s, "        }}\n    }}\n}}");

    let _ = writeln!(s, "\n/// A setting declared in the manifest, as Stash's settings page stores it.");
    let _ = writeln!(s, "#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub enum SettingKey {{");
    for key in m.settings.keys() {
        let _ = writeln!(s, "    /// `{key}`\n    {},", camel(key, true));
    }
    let _ = writeln!(s, "}}\n\nimpl SettingKey {{");
    let _ = writeln!(s, "    /// Every setting, sorted by key.\n    pub const ALL: &[SettingKey] = &[");
    for key in m.settings.keys() {
        let _ = writeln!(s, "        SettingKey::{},", camel(key, true));
    }
    let _ = writeln!(s, "    ];\n\n    /// The key in Stash's plugin settings map.");
    let _ = writeln!(s, "    pub fn key(self) -> &'static str {{\n        match self {{");
    for key in m.settings.keys() {
        let _ = writeln!(s, "            SettingKey::{} => {key:?},", camel(key, true));
    }
    let _ = writeln!(s, "        }}\n    }}\n\n    /// The name Stash's settings page shows.");
    let _ = writeln!(s, "    pub fn display_name(self) -> &'static str {{\n        match self {{");
    for (key, setting) in &m.settings {
        let _ = writeln!(s, "            SettingKey::{} => {:?},", camel(key, true), setting.display_name);
    }
    let _ = writeln!(s, "        }}\n    }}\n\n    /// The type the manifest declares (STRING, NUMBER or BOOLEAN).");
    let _ = writeln!(s, "    pub fn kind(self) -> SettingKind {{\n        match self {{");
    for (key, setting) in &m.settings {
        let kind = match setting.kind.as_str() {
            "BOOLEAN" => "Boolean",
            "NUMBER" => "Number",
            _ => "String",
        };
        let _ = writeln!(s, "            SettingKey::{} => SettingKind::{kind},", camel(key, true));
    }
    let _ = writeln!(s, "        }}\n    }}\n}}");
    s
}

/// `&[(relative path, bytes)]` of every file under `plugin/`, for `stashhog install`.
fn embed_plugin_files() -> Result<String, Vec<String>> {
    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, files)?;
            } else {
                files.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(Path::new("plugin"), &mut files).map_err(|e| vec![format!("cannot read plugin/: {e}")])?;
    files.sort();
    let root = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| vec![e.to_string()])?;
    let mut code = String::from("&[\n");
    for file in files {
        let relative = file.strip_prefix("plugin").unwrap_or(&file);
        if file.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            return Err(vec![format!(
                "plugin/{} is a YAML file: Stash would load it as a plugin manifest",
                relative.display()
            )]);
        }
        let absolute = Path::new(&root).join(&file);
        let _ = writeln!(
            code,
            "    ({:?}, include_bytes!({:?})),",
            relative.display().to_string(),
            absolute.display().to_string()
        );
    }
    code.push(']');
    Ok(code)
}
