//! The plugin protocol end to end: what Stash sends on stdin, what it reads back, and every kind
//! of bad input ending in one clear line in `error`, a non-zero exit, no panic and no database.

use serde_json::json;

use crate::support::env::TestEnv;
use crate::support::runner::Level;

#[track_caller]
fn assert_clean_failure(run: &crate::support::runner::Run, needle: &str) {
    assert!(run.proper_json, "stdout must be one JSON object, got {:?}", run.stdout);
    assert_ne!(run.exit_code, Some(0), "a failure exits non-zero");
    let error = run.error.as_deref().unwrap_or_default();
    assert!(error.contains(needle), "error {error:?} should contain {needle:?}");
    assert!(!error.contains('\n'), "the error is one line: {error:?}");
    assert!(!run.stderr.contains("panicked"), "no panic: {}", run.stderr);
    assert!(run.logged(Level::Error, needle), "the error is logged too:\n{}", run.log_text());
}

#[test]
fn empty_stdin_says_stash_must_start_it() {
    let env = TestEnv::new();
    let run = env.run_raw_stdin(b"");
    assert_clean_failure(&run, "stdin is empty");
    assert!(!env.db_path().exists());
}

#[test]
fn stdin_that_is_not_json_is_refused() {
    let env = TestEnv::new();
    assert_clean_failure(&env.run_raw_stdin(b"mode=check"), "stdin is not JSON");
    assert_clean_failure(&env.run_raw_stdin(b"[1, 2]"), "stdin holds a JSON array");
}

#[test]
fn missing_server_connection_is_refused() {
    let env = TestEnv::new();
    let run = env.run_raw_stdin(br#"{"args": {"mode": "check"}}"#);
    assert_clean_failure(&run, "no `server_connection`");
    assert!(env.stash.requests().is_empty());
}

#[test]
fn missing_or_unknown_mode_lists_the_valid_modes() {
    let env = TestEnv::new();
    assert_clean_failure(&env.run(json!({})), "no mode given");
    assert_clean_failure(&env.run(json!({})), "valid modes: check");
    assert_clean_failure(
        &env.run(json!({"mode": "sync_everything"})),
        "unknown mode `sync_everything`; valid modes: check",
    );
    assert!(env.stash.requests().is_empty(), "nothing is sent to Stash for a bad mode");
    assert!(!env.db_path().exists(), "no database is created for a bad mode");
}

#[test]
fn wrong_argument_types_name_the_argument() {
    let env = TestEnv::new();
    assert_clean_failure(&env.run(json!({"mode": ["check"]})), "argument `mode` must be a string");
    let input = env.input(json!({"mode": "check"}));
    let mut doc = input.to_json();
    doc["server_connection"]["Port"] = json!("ninety-nine");
    let run = env.run_raw_stdin(doc.to_string().as_bytes());
    assert_clean_failure(&run, "server_connection is malformed");
}

#[test]
fn host_0_0_0_0_and_the_session_cookie_reach_stash() {
    let env = TestEnv::new();
    env.stash.set_api_key(Some("secret-key"));
    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    let requests = env.stash.requests();
    assert!(!requests.is_empty());
    let cookie = env.stash.session_cookie();
    for request in &requests {
        assert_eq!(request.session_cookie().as_deref(), Some(cookie.as_str()), "every request carries the cookie");
    }
}

#[test]
fn a_closed_stderr_does_not_fail_the_run() {
    let env = TestEnv::new();
    let run = env.run_with_stderr_closed(json!({"mode": "check"}));
    run.assert_ok();
    assert_eq!(run.out("/stash/reachable"), &json!(true));
}

#[test]
fn a_70_kib_log_message_is_cut_into_frames_stash_can_read() {
    let env = TestEnv::new();
    let long_path = format!("{}/{}.sqlite", env.root().display(), "p".repeat(70 * 1024));
    let run = env.run(json!({"mode": "check", "databasePath": long_path}));
    assert_eq!(run.overlong_lines, 0, "no stderr line reaches Stash's 64 KiB limit");
    assert!(run.stderr.lines().all(|l| l.len() < 9 * 1024), "every frame is far below 64 KiB");
    let setting_frames: String = run
        .logs
        .iter()
        .map(|l| l.message.as_str())
        .skip_while(|m| !m.starts_with("Settings:"))
        .take_while(|m| !m.starts_with("Database"))
        .collect();
    assert!(setting_frames.contains(&"p".repeat(70 * 1024)), "the whole message arrives, split over frames");
    assert!(run.proper_json);
}

#[test]
fn progress_is_reported_between_0_and_1_at_a_sane_rate() {
    let env = TestEnv::new();
    let run = env.run(json!({"mode": "check"}));
    run.assert_ok();
    assert!(!run.progress.is_empty());
    assert!(run.progress.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(run.progress.last(), Some(&1.0));
    assert!(run.progress.len() < 50);
}
