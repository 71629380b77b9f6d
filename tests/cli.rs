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
    let usage = env.run_cli(&["check", "--frobnicate"]);
    assert_eq!(usage.exit_code, Some(2));
    assert!(usage.stderr.contains("unknown option `--frobnicate`"));
    let unknown = env.run_cli(&["nonsense"]);
    assert_eq!(unknown.exit_code, Some(1));
    assert!(unknown.stderr.contains("unknown mode `nonsense`; valid modes: check"));
}

#[test]
fn install_copies_binary_manifest_and_assets() {
    let env = TestEnv::new();
    let target = env.root().join("plugins").join("stashhog");
    let run = env.run_cli(&["install", "--plugins-dir", &target.display().to_string()]);
    assert!(run.success(), "{}", run.stderr);
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
    // Installing again (an upgrade) replaces the files in place.
    assert!(env.run_cli(&["install", "--plugins-dir", &target.display().to_string()]).success());
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
