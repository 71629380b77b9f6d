//! The command-line face: same modes, readable logs, JSON result, exit codes; and `install`.

use serde_json::json;

use crate::support::env::TestEnv;

#[test]
fn help_and_version() {
    let env = TestEnv::new();
    let help = env.run_cli(&["--help"]);
    assert!(help.success());
    assert!(help.stdout.contains("USAGE") && help.stdout.contains("check"));
    let version = env.run_cli(&["--version"]);
    assert_eq!(version.stdout.trim(), format!("stashhog {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn check_runs_against_a_url_with_an_api_key() {
    let env = TestEnv::new();
    env.stash.set_api_key(Some("cli-key"));
    let db = env.root().join("cli.sqlite");
    let run =
        env.run_cli(&["check", "--url", &env.stash_url(), "--api-key", "cli-key", "--db", &db.display().to_string()]);
    assert!(run.success(), "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["stash"]["reachable"], json!(true));
    assert_eq!(report["database"]["path"], json!(db.display().to_string()));
    assert!(run.stderr.contains("[INFO]") && run.stderr.contains("Check passed"), "readable logs: {}", run.stderr);
    assert!(!run.stderr.contains('\u{1}'), "no Stash frames on a terminal face");
    assert!(db.exists());
}

#[test]
fn errors_exit_non_zero_and_bad_usage_exits_2() {
    let env = TestEnv::new();
    env.stash.set_api_key(Some("cli-key"));
    let run =
        env.run_cli(&["check", "--url", &env.stash_url(), "--db", &env.root().join("x.sqlite").display().to_string()]);
    assert_eq!(run.exit_code, Some(1));
    assert!(run.stderr.contains("error: check found a problem: Stash answered 401"), "{}", run.stderr);
    for (args, says) in [
        (vec!["check", "--frobnicate"], "error: unknown option `--frobnicate`"),
        (vec!["nonsense"], "error: unknown mode `nonsense`; valid modes: check"),
        (
            vec!["check", "--url", "localhost:9999"],
            "error: --url must start with http:// or https://, e.g. http://localhost:9999",
        ),
        (
            vec!["apply_plan", "--set", "dryrun=true"],
            "error: apply_plan does not take `dryrun` (did you mean `dry_run`?)",
        ),
        (
            vec!["sync_scene_tags", "--set", "stashBoxEndpoint=x"],
            "error: the setting `stashBoxEndpoint` is called `syncBoxEndpoint` now",
        ),
    ] {
        let usage = env.run_cli(&args);
        assert_eq!(usage.exit_code, Some(2), "{args:?}: {}", usage.stderr);
        assert!(usage.stderr.starts_with(says), "{args:?}: {}", usage.stderr);
        assert_eq!(usage.stderr.matches("error:").count(), 1, "one prefix, said once: {}", usage.stderr);
        assert!(usage.stdout.is_empty());
    }
}

#[test]
fn a_mode_help_lists_the_modes_own_arguments() {
    let env = TestEnv::new();
    let help = env.run_cli(&["apply_plan", "--help"]);
    assert!(help.success(), "{}", help.stderr);
    for arg in ["plan_id", "dry_run", "batch_size"] {
        assert!(help.stdout.contains(arg), "{}", help.stdout);
    }
    assert!(!help.stdout.contains("change_ids"), "only its own: {}", help.stdout);
    let help = env.run_cli(&["review_plan", "-h"]);
    assert!(help.stdout.contains("change_ids") && help.stdout.contains("1-20"), "{}", help.stdout);
}

#[test]
fn a_closed_stdout_or_stderr_never_panics() {
    let env = TestEnv::new();
    let binary = crate::support::runner::binary();
    let dead = crate::support::fake_http::dead_url();
    for args in [vec!["-h"], vec!["check", "--url", dead.as_str()]] {
        // The shell waits until both pipes' reading ends are gone, then becomes stashhog: its
        // writes fail with EPIPE, as `stashhog -h | head -3` does once head has its lines.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 0.3; exec \"$0\" \"$@\"")
            .arg(&binary)
            .args(&args)
            .env("HOME", env.root())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().expect("ends");
        assert_ne!(status.code(), Some(101), "{args:?} panicked");
        assert!(status.code().is_some(), "{args:?} died of a signal: {status:?}");
    }
}

#[test]
fn check_against_a_dead_stash_creates_no_database() {
    let env = TestEnv::new();
    let run = env.run_cli(&["check", "--url", &crate::support::fake_http::dead_url()]);
    assert_eq!(run.exit_code, Some(1));
    assert!(run.stderr.contains("cannot reach Stash"), "{}", run.stderr);
    assert!(!env.root().join("home/.stash").exists(), "nothing created: {}", run.stderr);
}

#[test]
fn install_puts_stashhog_in_its_own_folder_of_the_plugins_folder() {
    let env = TestEnv::new();
    let plugins = env.root().join("plugins");
    std::fs::create_dir_all(&plugins).expect("creates");
    std::fs::write(plugins.join("README.md"), "a Docker volume's own file").expect("writes");
    let run = env.run_cli(&["install", "--plugins-dir", &plugins.display().to_string()]);
    assert!(run.success(), "{}", run.stderr);
    let target = plugins.join("stashhog");
    assert_eq!(std::fs::read_to_string(plugins.join("README.md")).ok().as_deref(), Some("a Docker volume's own file"));
    let manifest = std::fs::read_to_string(target.join("stashhog.yml")).expect("manifest installed");
    assert_eq!(manifest, include_str!("../stashhog.yml"));
    let binary = target.join("stashhog");
    assert_eq!(
        std::fs::read(&binary).expect("binary installed"),
        std::fs::read(crate::support::runner::binary()).expect("built binary")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&binary).expect("stat").permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "the binary is executable");
    }
    assert!(target.join("README.md").exists(), "plugin/ assets are installed");
    let yml_files = std::fs::read_dir(&target)
        .expect("lists")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yml")))
        .count();
    assert_eq!(yml_files, 1, "exactly one .yml in the plugin folder");
    assert!(run.stderr.contains("Reload plugins") && run.stderr.contains("reload the browser tab"), "{}", run.stderr);
    assert_eq!(run.json()["plugin_dir"], json!(target.display().to_string()));
    // Installing again (an upgrade) replaces our files in place.
    assert!(env.run_cli(&["install", "--plugins-dir", &plugins.display().to_string()]).success());
}

#[test]
fn install_refuses_a_folder_that_is_not_ours() {
    let env = TestEnv::new();
    let plugins = env.root().join("plugins");
    let theirs = plugins.join("stashhog");
    std::fs::create_dir_all(&theirs).expect("creates");
    std::fs::write(theirs.join("notes.txt"), "someone else's").expect("writes");
    let run = env.run_cli(&["install", "--plugins-dir", &plugins.display().to_string()]);
    assert_eq!(run.exit_code, Some(1));
    assert!(run.stderr.contains("is not a StashHog install"), "{}", run.stderr);
    assert!(!theirs.join("stashhog.yml").exists(), "nothing written");
    // Pointing at the plugin folder itself (the old way) says which folder to pass.
    let ok = env.run_cli(&["install", "--plugins-dir", &env.root().join("p").display().to_string()]);
    assert!(ok.success());
    let inner = env.root().join("p/stashhog");
    let run = env.run_cli(&["install", "--plugins-dir", &inner.display().to_string()]);
    assert_eq!(run.exit_code, Some(1));
    assert!(run.stderr.contains("pass the plugins folder that holds it"), "{}", run.stderr);
    assert!(!inner.join("stashhog/stashhog.yml").exists(), "no plugin inside the plugin");
}

#[test]
fn the_command_line_shares_the_plugins_database_beside_a_local_stash() {
    let env = TestEnv::new();
    env.stash.lib(|l| {
        l.add_scenes(2, |_| Default::default());
    });
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let run = env.run_cli(&["sync_status", "--url", &env.stash_url()]);
    assert!(run.success(), "{}", run.stderr);
    assert_eq!(run.json()["mirror"]["scenes"], json!(2), "the mirror the plugin filled");
    let said = format!("Database: {} (the plugin's", env.db_path().display());
    assert!(run.stderr.contains(&said), "says which database: {}", run.stderr);
    assert!(!env.root().join("home/.stash").exists(), "no second database in ~/.stash");
}

#[test]
fn a_stash_whose_config_is_not_on_this_machine_gets_a_database_of_its_own_and_says_so() {
    let env = TestEnv::new();
    env.stash.config(|c| c.config_file_path = "/root/.stash/in-a-container/config.yml".into());
    let run = env.run_cli(&["sync_status", "--url", &env.stash_url()]);
    assert!(run.success(), "{}", run.stderr);
    let own = env.root().join("home/.stash/stashhog/stashhog.sqlite");
    assert!(own.exists());
    assert!(run.stderr.contains("not on this machine") && run.stderr.contains("--db"), "{}", run.stderr);
    assert!(!env.db_path().exists());
}

#[test]
fn a_plan_made_by_the_plugin_applies_from_the_terminal_with_the_plugins_hooks_paused() {
    let env = TestEnv::new();
    let (ids, tag) = env.stash.lib(|l| {
        let ids = l.add_scenes(3, |i| crate::support::fake_stash::Scene {
            title: Some(format!("S{i}")),
            ..Default::default()
        });
        (ids, l.add_tag("Hooked"))
    });
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let changes: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| json!({"entity": "scene", "id": id, "field": "tags", "action": "ADD", "value": tag, "status": "approved"}))
        .collect();
    let plan =
        json!({"version": 1, "name": "from the page", "source": {"mode": "test", "settings": {}}, "changes": changes});
    let made = env.run(json!({"mode": "import_plan", "plan": plan}));
    made.assert_ok();
    let hook_runs = env.enable_hooks();
    let run =
        env.run_cli(&["apply_plan", "--url", &env.stash_url(), "--set", &format!("plan_id={}", made.out("/plan_id"))]);
    assert!(run.success(), "the plugin's plan is found from the terminal: {}", run.stderr);
    assert_eq!(run.json()["applied"], json!(3));
    let hooks = hook_runs.lock().map(|runs| runs.clone()).unwrap_or_default();
    assert_eq!(hooks.len(), 3, "Stash starts the hook for each scene written");
    for hook in &hooks {
        let skipped = hook.out("/skipped").as_str().unwrap_or_default().to_owned();
        assert!(skipped.contains("StashHog is writing"), "the plugin's hooks step aside: {}", hook.stdout);
    }
}
