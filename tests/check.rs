//! Mode `check` ("Check StashHog setup"): what a user reads after pressing the button, on a
//! healthy setup and on each way a setup can be broken.

use std::time::Duration;

use serde_json::json;

use crate::support::env::TestEnv;
use crate::support::fake_http::Fault;
use crate::support::runner::{Level, RunOptions};

#[test]
fn healthy_setup_reports_stash_stash_box_database_and_settings() {
    let env = TestEnv::with_stashbox();
    env.stash.lib(|l| {
        l.add_scenes(3, |_| Default::default());
    });
    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    assert_eq!(run.out("/stash/reachable"), &json!(true));
    assert_eq!(run.out("/stash/system/status"), &json!("OK"));
    assert_eq!(run.out("/stash/scenes"), &json!(3));
    assert_eq!(run.out("/stash/credentials"), &json!("session cookie"));
    assert_eq!(run.out("/stash_boxes/0/ok"), &json!(true));
    assert_eq!(run.out("/stash_boxes/0/endpoint"), &json!(env.stashbox().endpoint()));
    assert!(run.out("/stash_boxes/0/user").is_string());
    assert_eq!(run.out("/database/path"), &json!(env.db_path().display().to_string()));
    let db = rusqlite::Connection::open(env.db_path()).expect("opens");
    let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("reads");
    assert!(version >= 1);
    assert_eq!(run.out("/database/schema_version"), &json!(version));
    assert_eq!(run.out("/settings/databasePath"), &json!({"name": "Database path", "value": "", "source": "default"}));
    assert_eq!(
        run.out("/settings/syncDryRun"),
        &json!({"name": "Scene Tag Sync - Dry Run", "value": true, "source": "default"})
    );
    assert!(run.logged(Level::Info, "Settings: all 33 at StashHog's defaults"), "{}", run.log_text());
    assert_eq!(run.out("/problems"), &json!([]));
    assert_eq!(run.out("/mirror/mirror/scenes"), &json!(0), "nothing mirrored before the first sync");
    assert!(run.out("/mirror/full_sync/completed_at").is_null());
    assert!(run.logged(Level::Info, "Check passed"));
    assert!(run.logged(Level::Info, "key accepted"));
    assert!(env.db_path().exists());
    // The stash-box key is sent to the stash-box, and never shows in output or log.
    let key = env.stashbox().api_key();
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    let me = env.stashbox().requests_named("Me");
    assert_eq!(me.len(), 1);
    assert_eq!(me[0].api_key.as_deref(), Some(key.as_str()));
}

#[test]
fn a_rejected_stash_box_key_is_reported_with_what_to_do() {
    let env = TestEnv::with_stashbox();
    env.stashbox().set_api_key("a-different-key");
    let run = env.run(json!({"mode": "check"}));
    assert_eq!(run.exit_code, Some(1));
    assert_eq!(run.out("/stash_boxes/0/ok"), &json!(false));
    let error = run.out("/stash_boxes/0/error").as_str().unwrap_or_default().to_owned();
    assert!(error.contains("answered 401") && error.contains("Metadata Providers"), "{error}");
    assert!(run.error.as_deref().unwrap_or_default().contains("check found a problem"), "{:?}", run.error);
    assert_eq!(run.out("/stash/reachable"), &json!(true), "the rest is still reported");
}

#[test]
fn a_dead_stash_box_is_reported_and_the_rest_still_checked() {
    let env = TestEnv::new();
    let dead = crate::support::fake_http::dead_url();
    env.stash.config(|c| c.add_stash_box(&dead, "key", "Gone"));
    let run = env.run(json!({"mode": "check"}));
    assert_eq!(run.out("/stash_boxes/0/ok"), &json!(false));
    assert!(run.out("/stash_boxes/0/error").as_str().unwrap_or_default().contains("cannot reach stash-box 'Gone'"));
    assert_eq!(run.out("/database/ok"), &json!(true));
    assert!(run.logged(Level::Error, "stash-box 'Gone'"));
}

#[test]
fn bad_stash_credentials_say_how_to_log_in() {
    let env = TestEnv::new();
    env.stash.set_api_key(Some("right-key"));
    let input = env.input(json!({"mode": "check"})).without_cookie();
    let run = env.run_input(&input);
    assert_eq!(run.exit_code, Some(1));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("Stash answered 401") && error.contains("STASH_API_KEY"), "{error}");
    assert_eq!(run.out("/stash/reachable"), &json!(false));

    let mut env = env;
    env.options = RunOptions { ..env.options.clone() }.env("STASH_API_KEY", "wrong-key");
    let run = env.run_input(&input);
    assert!(run.error.clone().unwrap_or_default().contains("rejected"));
    env.options = RunOptions { envs: Vec::new(), ..env.options.clone() }.env("STASH_API_KEY", "right-key");
    let run = env.run_input(&input);
    run.assert_ok();
    assert_eq!(run.out("/stash/credentials"), &json!("api key"));
    assert!(env.stash.requests().iter().any(|r| r.api_key.as_deref() == Some("right-key")));
}

#[test]
fn a_stash_that_is_down_is_reported_without_a_database_mixup() {
    let env = TestEnv::new();
    let input = env.input(json!({"mode": "check"}));
    let mut doc = input.to_json();
    let dead = crate::support::fake_http::dead_url();
    let port: u16 = dead.trim_end_matches("/graphql").rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    doc["server_connection"]["Port"] = json!(port);
    let run = env.run_raw_stdin(doc.to_string().as_bytes());
    assert_eq!(run.exit_code, Some(1));
    assert!(run.error.clone().unwrap_or_default().contains("cannot reach Stash"));
    assert_eq!(run.out("/stash/reachable"), &json!(false));
    assert_eq!(run.out("/database/path"), &json!(env.db_path().display().to_string()));
    assert_eq!(run.out("/database/exists"), &json!(false));
    assert!(!env.db_path().exists() && !env.dir().join("stashhog").exists(), "no database is made without Stash");
    assert!(run.logged(Level::Info, "does not exist yet"), "{}", run.log_text());
}

#[test]
fn html_instead_of_json_is_named_as_such() {
    let env = TestEnv::new();
    env.stash.fail_times(8, Fault::Html);
    let run = env.run(json!({"mode": "check"}));
    assert!(run.error.clone().unwrap_or_default().contains("HTML instead of JSON"));
}

#[test]
fn transient_failures_are_retried_and_logged() {
    let env = TestEnv::new();
    env.stash.fail_next(Fault::Status(502));
    env.stash.fail_next(Fault::DropConnection);
    env.stash.fail_next(Fault::RateLimited { retry_after_secs: 1 });
    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    let tries = env.stash.requests_named("SystemInfo");
    assert_eq!(tries.len(), 4, "three failures, then success");
    assert!(tries[3].at.duration_since(tries[2].at) >= Duration::from_secs(1), "Retry-After is honoured");
    assert_eq!(run.logs_at(Level::Warning).iter().filter(|m| m.contains("retrying")).count(), 3);
}

#[test]
fn a_failure_that_persists_gives_up_after_three_retries() {
    let env = TestEnv::new();
    env.stash.fail_times(10, Fault::Status(500));
    let run = env.run(json!({"mode": "check"}));
    assert_eq!(env.stash.requests_named("SystemInfo").len(), 4);
    assert!(run.error.clone().unwrap_or_default().contains("Stash failed: HTTP 500"));
}

#[test]
fn the_newest_session_cookie_is_used_after_stash_renews_it() {
    let env = TestEnv::new();
    env.stash.set_api_key(Some("key-we-do-not-have"));
    let first = env.stash.session_cookie();
    env.stash.rotate_cookie_after(0);
    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    let renewed = env.stash.session_cookie();
    assert_ne!(first, renewed);
    let requests = env.stash.requests();
    assert!(requests.len() >= 3);
    assert_eq!(requests[0].session_cookie().as_deref(), Some(first.as_str()));
    assert!(requests[1..].iter().all(|r| r.session_cookie().as_deref() == Some(renewed.as_str())));
}

#[test]
fn stash_not_set_up_is_a_problem() {
    let env = TestEnv::new();
    env.stash.set_status(crate::support::fake_stash::SystemStatus::NeedsMigration);
    let run = env.run(json!({"mode": "check"}));
    assert!(run.error.clone().unwrap_or_default().contains("needs a database migration"));
}

#[test]
fn saved_settings_and_arguments_show_with_their_source() {
    let env = TestEnv::new();
    let saved = env.root().join("saved.sqlite");
    env.set_settings(json!({"databasePath": saved.display().to_string()}));
    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    assert_eq!(run.out("/settings/databasePath/source"), &json!("saved"));
    assert_eq!(run.out("/database/path"), &json!(saved.display().to_string()));
    assert!(saved.exists() && !env.db_path().exists());

    let relative = env.run(json!({"mode": "check", "databasePath": "elsewhere/db.sqlite"}));
    relative.assert_ok();
    assert_eq!(relative.out("/settings/databasePath/source"), &json!("argument"));
    assert!(env.dir().join("elsewhere/db.sqlite").exists(), "relative to Stash's config folder, never the CWD");
}

#[test]
fn a_malformed_saved_setting_names_the_setting() {
    let env = TestEnv::new();
    env.set_settings(json!({"databasePath": ["not", "a", "path"]}));
    let run = env.run(json!({"mode": "check"}));
    let error = run.error.clone().unwrap_or_default();
    assert!(
        error.contains("setting `databasePath` saved in Stash is [\"not\",\"a\",\"path\"], but it takes a file path"),
        "{error}"
    );
    assert_eq!(error.matches("takes a file path").count(), 1, "said once: {error}");
}

#[test]
fn an_unwritable_database_path_is_reported_and_nothing_is_left() {
    let env = TestEnv::new();
    let file = env.root().join("a-file");
    std::fs::write(&file, "not a folder").expect("writes");
    let bad = file.join("db.sqlite");
    let run = env.run(json!({"mode": "check", "databasePath": bad.display().to_string()}));
    assert_eq!(run.exit_code, Some(1));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("cannot open the database") && error.contains("writable"), "{error}");
    assert_eq!(run.out("/database/ok"), &json!(false));
    assert!(!bad.exists());
}

#[test]
fn every_run_is_recorded_with_secrets_removed() {
    let env = TestEnv::new();
    env.run(json!({"mode": "check", "analyzeWithAiApiKey": "hunter2"})).assert_ok();
    let db = rusqlite::Connection::open(env.db_path()).expect("opens");
    let (mode, args, status, summary): (String, String, String, String) = db
        .query_row("SELECT mode, args, status, summary FROM runs ORDER BY id DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("a run row");
    assert_eq!(mode, "check");
    assert_eq!(status, "ok");
    assert!(!args.contains("hunter2") && args.contains("<redacted>"), "{args}");
    assert!(summary.contains("\"stash\""));
}

#[test]
fn a_run_killed_mid_way_is_marked_killed_by_the_next_start() {
    let env = TestEnv::with_stashbox();
    // Create the database, then start a check that hangs on the stash-box (inside the run) and
    // kill it like Stash does.
    env.run(json!({"mode": "check"})).assert_ok();
    env.stashbox().fail_next(Fault::Slow(Duration::from_secs(30)));
    // Kill once the run row exists: the process is then inside the run.
    let running = || {
        rusqlite::Connection::open(env.db_path())
            .and_then(|db| {
                db.query_row("SELECT COUNT(*) FROM runs WHERE status = 'running'", [], |r| r.get::<_, i64>(0))
            })
            .is_ok_and(|n| n > 0)
    };
    env.kill_when(json!({"mode": "check"}), running);
    env.stashbox().clear_faults();

    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    assert_eq!(run.out("/database/killed_runs_found"), &json!(1));
    assert!(run.logged(Level::Warning, "killed"));
    let db = rusqlite::Connection::open(env.db_path()).expect("opens");
    let killed: i64 =
        db.query_row("SELECT COUNT(*) FROM runs WHERE status = 'killed'", [], |r| r.get(0)).expect("counts");
    assert_eq!(killed, 1);
}
