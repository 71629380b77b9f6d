//! Settings as Stash's settings page stores them: numbers typed as whole percent or cents
//! (Stash reads a NUMBER field with `parseInt`), old keys and old fractions still honoured, and
//! StashHog's defaults written into Stash once so the page shows what is in effect — merged,
//! never overwriting what the user saved.

use serde_json::{Map, Value, json};

use crate::support::env::{PLUGIN_ID, TestEnv};

/// StashHog's settings as Stash holds them now.
fn saved(env: &TestEnv) -> Map<String, Value> {
    env.stash.config(|c| c.plugins.get(PLUGIN_ID).cloned().unwrap_or_default())
}

#[test]
fn whole_numbers_typed_on_the_settings_page_are_percent_and_cents() {
    let env = TestEnv::new();
    env.set_settings(json!({"analysisMinConfidence": 90, "analysisAutoApproveConfidence": 98,
        "analyzeWithAiMaxCostCents": 50}));
    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    let setting = |key: &str| run.out(&format!("/settings/{key}")).clone();
    assert_eq!(
        setting("analysisMinConfidence"),
        json!({"name": "Analyze - minimum confidence (%)", "value": 90, "source": "saved"})
    );
    assert_eq!(setting("analysisAutoApproveConfidence")["value"], json!(98));
    assert_eq!(setting("analyzeWithAiMaxCostCents")["value"], json!(50));
    assert!(
        run.logged_anywhere("\"Analyze - minimum confidence (%)\" (analysisMinConfidence) = 90, saved in Stash"),
        "{}",
        run.log_text()
    );
}

#[test]
fn old_keys_and_old_fractions_are_read_and_moved_to_the_new_keys() {
    let env = TestEnv::new();
    env.set_settings(json!({"analysisMinConfidence": 0.9, "autoApproveConfidence": 0.97, "aiMaxCostUsd": 2,
        "stashBoxEndpoint": "https://stashdb.org/graphql", "fixMergedStashIds": true}));
    let run = env.run(json!({"mode": "check"}));
    assert_eq!(run.out("/settings/analysisMinConfidence/value"), &json!(90));
    assert_eq!(run.out("/settings/analysisAutoApproveConfidence/value"), &json!(97));
    assert_eq!(run.out("/settings/analyzeWithAiMaxCostCents/value"), &json!(200));
    assert_eq!(run.out("/settings/syncFixMergedStashIds/value"), &json!(true));
    let now = saved(&env);
    assert_eq!(now["analysisMinConfidence"], json!(90), "the page shows 90, not 0.9 it would cut to 0");
    assert_eq!(now["analysisAutoApproveConfidence"], json!(97));
    assert_eq!(now["analyzeWithAiMaxCostCents"], json!(200));
    assert_eq!(now["syncBoxEndpoint"], json!("https://stashdb.org/graphql"));
    assert_eq!(now["syncFixMergedStashIds"], json!(true));
    for old in ["autoApproveConfidence", "aiMaxCostUsd", "stashBoxEndpoint", "fixMergedStashIds"] {
        assert!(!now.contains_key(old), "{old} was moved: {now:?}");
    }
}

#[test]
fn defaults_are_written_for_never_saved_keys_without_touching_saved_ones() {
    let env = TestEnv::new();
    env.set_settings(json!({"syncDryRun": false, "syncTagBlacklist": "compilation", "analyzeTags": false}));
    env.run(json!({"mode": "check"})).assert_ok();
    let now = saved(&env);
    assert_eq!(now["syncDryRun"], json!(false), "a saved value is never overwritten");
    assert_eq!(now["syncTagBlacklist"], json!("compilation"));
    assert_eq!(now["analyzeTags"], json!(false));
    assert_eq!(now["mirrorHooks"], json!(true), "the page shows the hooks on, as they are");
    assert_eq!(now["analyzeStudios"], json!(true));
    assert_eq!(now["syncBoxRequestsPerMinute"], json!(120), "not the 0 an unsaved number shows");
    assert_eq!(now["analysisMinConfidence"], json!(70));
    assert_eq!(now.len(), 33, "every setting of the manifest: {now:?}");
    assert_eq!(env.stash.requests_named("ConfigurePlugin").len(), 1);

    // Complete now: later runs only read.
    env.run(json!({"mode": "check"})).assert_ok();
    assert_eq!(env.stash.requests_named("ConfigurePlugin").len(), 1, "written once");
}

#[test]
fn a_user_saving_the_page_while_stashhog_writes_keeps_their_change() {
    let env = TestEnv::new();
    // configurePlugin replaces the whole map: StashHog reads it again just before writing, so
    // a save that lands after its first read is part of what it writes back.
    env.stash.before_nth("Configuration", 2, |state| {
        state.config.set_plugin_setting(PLUGIN_ID, "syncDryRun", json!(false));
    });
    env.run(json!({"mode": "check"})).assert_ok();
    let now = saved(&env);
    assert_eq!(now["syncDryRun"], json!(false), "{now:?}");
    assert_eq!(now["mirrorHooks"], json!(true));
    let order: Vec<String> =
        env.stash.requests().iter().filter_map(|r| r.operation_name.clone()).filter(|n| n.contains("onfig")).collect();
    assert_eq!(order[..3], ["Configuration", "Configuration", "ConfigurePlugin"]);
}

#[test]
fn hooks_never_write_settings() {
    let env = TestEnv::new();
    let scene = env.stash.lib(|l| l.add_scene(Default::default()));
    let run = env.run(json!({"mode": "mirror_hook", "hookContext": {"id": scene, "type": "Scene.Update.Post",
        "input": {"id": scene.to_string()}, "inputFields": ["title"]}}));
    run.assert_ok();
    assert!(env.stash.requests_named("ConfigurePlugin").is_empty(), "a hook runs inside the user's save");
    assert!(saved(&env).is_empty());
}

#[test]
fn readme_settings_table_is_what_stash_shows() {
    let manifest: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../stashhog.yml")).expect("the manifest parses");
    let settings = manifest["settings"].as_mapping().expect("settings");
    let mut keys: Vec<&str> = settings.keys().filter_map(|k| k.as_str()).collect();
    keys.sort_unstable();
    let readme = include_str!("../README.md");
    let section = readme.split("## Settings").nth(1).and_then(|s| s.split("\n## ").next()).expect("a section");
    let rows: Vec<Vec<String>> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_owned()).collect())
        .collect();
    let readme_keys: Vec<String> = rows.iter().map(|r| r[0].trim_matches('`').to_owned()).collect();
    assert_eq!(readme_keys, keys, "README lists every setting, sorted by key as Stash shows them");
    for row in &rows {
        let key = row[0].trim_matches('`');
        let name = settings[key]["displayName"].as_str().unwrap_or_default();
        assert_eq!(row[1], name, "README shows {key} by the name Stash shows");
        let default = stashhog::settings::default_value(
            *stashhog::manifest::SettingKey::ALL.iter().find(|k| k.key() == key).expect("a setting key"),
        );
        let shown = match &default {
            Value::Bool(true) => "on".to_owned(),
            Value::Bool(false) => "off".to_owned(),
            Value::String(s) if s.is_empty() => "empty".to_owned(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert!(row[2].starts_with(&shown), "README's default of {key} is {:?}, StashHog's {shown}", row[2]);
    }
}

/// Files under `dir`, recursively (what a run left behind).
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_saved_value_of_the_wrong_kind_or_out_of_range_is_refused_before_anything_is_written() {
    let cases = [
        (json!({"databasePath": 5}), "the setting `databasePath` saved in Stash is 5, but it takes a file path"),
        (
            json!({"syncBoxRequestsPerMinute": -5}),
            "is -5, but it takes a whole number from 1 to 100000 (0: the default, 120)",
        ),
        (json!({"stashBoxRequestsPerMinute": 1e12}), "`syncBoxRequestsPerMinute` saved in Stash is 1000000000000.0"),
        (
            json!({"syncMinAgeHours": -3}),
            "`syncMinAgeHours` saved in Stash is -3, but it takes a whole number from 0 to",
        ),
        (json!({"analysisMinConfidence": 500}), "is 500, but it takes a percent from 0 to 100"),
        (json!({"syncBoxEndpoint": "ftp://stashdb.org/graphql"}), "an http:// or https:// URL"),
        (
            json!({"mirrorHooks": "sometimes"}),
            "`mirrorHooks` saved in Stash is \"sometimes\", but it takes true or false",
        ),
    ];
    for (settings, needle) in cases {
        let env = TestEnv::new();
        env.stash.lib(|l| l.add_scene(Default::default()));
        env.set_settings(settings.clone());
        let run = env.run(json!({"mode": "incremental_sync"}));
        let error = run.error.clone().unwrap_or_else(|| panic!("{settings} was accepted: {}", run.stdout));
        assert!(!error.contains('\n'), "one line: {error:?}");
        assert!(error.contains(needle), "{settings}: {error}");
        assert!(error.contains("fix it in Stash's Settings > Plugins > StashHog"), "{error}");
        assert_eq!(files_under(env.dir()), [env.dir().join("config.yml")], "{settings}: nothing written");
        assert!(env.stash.requests_named("ConfigurePlugin").is_empty(), "{settings}: Stash's settings untouched");
        assert_eq!(saved(&env), *settings.as_object().expect("a map"));
    }
}

#[test]
fn a_bad_argument_is_refused_like_a_saved_value_from_stash_and_from_the_command_line() {
    let env = TestEnv::new();
    env.stash.lib(|l| l.add_scene(Default::default()));
    let run = env.run(json!({"mode": "incremental_sync", "syncMinAgeHours": "-3"}));
    let error = run.error.clone().unwrap_or_else(|| panic!("accepted: {}", run.stdout));
    assert!(error.starts_with("the setting `syncMinAgeHours` given for this run is \"-3\""), "{error}");
    assert!(error.contains("fix the argument"), "{error}");

    let db = env.root().join("cli.sqlite");
    let cli = env.run_cli(&[
        "incremental_sync",
        "--url",
        &env.stash_url(),
        "--db",
        &db.display().to_string(),
        "--set",
        "analyzeWithAiBaseUrl=localhost:11434/v1",
    ]);
    assert_ne!(cli.exit_code, Some(0), "{}", cli.stderr);
    assert!(
        cli.stderr.contains("`analyzeWithAiBaseUrl` given for this run is \"localhost:11434/v1\""),
        "{}",
        cli.stderr
    );
    assert!(!db.exists() && !env.db_path().exists(), "no database was created");
    assert!(env.stash.requests_named("ConfigurePlugin").is_empty());
}
