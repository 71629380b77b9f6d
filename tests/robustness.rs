//! Nothing stranded, nothing lost (issue 15): the shapes of a campaign that killed, faulted and
//! raced the real binary, kept as regression tests. Each of the four failures it found has its
//! test here, then the table of malformed inputs that must be refused with one line saying what
//! to do, and the file permissions of what StashHog writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::fake_http::Fault;
use crate::support::fake_stash::{Scene, StashId};
use crate::support::fake_stashbox::BoxScene;
use crate::support::runner::{self, Run};

// ---- helpers -------------------------------------------------------------------------------

/// Waits until every request the fake Stash received has been answered (or given up on).
fn wait_for_answers(env: &TestEnv) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.stash.requests().iter().any(|r| r.status.is_none() && r.fault != Some(Fault::LoseAnswer(None))) {
        assert!(Instant::now() < deadline, "a request was never answered");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Imports a plan file document and approves all of it; returns the plan id.
fn import_approved(env: &TestEnv, plan: Value) -> i64 {
    let run = env.run(json!({"mode": "import_plan", "plan": plan}));
    run.assert_ok();
    let plan_id = run.out("/plan_id").as_i64().expect("a plan id");
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    plan_id
}

fn plan(changes: Vec<Value>) -> Value {
    json!({"version": 1, "name": "robustness", "source": {"mode": "test", "settings": {}}, "changes": changes})
}

/// Asserts the run failed with one line (Stash shows `error` as one log line) containing `needle`.
#[track_caller]
fn refused(run: &Run, needle: &str) -> String {
    let error = run.error.clone().unwrap_or_else(|| panic!("expected a refusal, the run succeeded: {}", run.stdout));
    assert!(!error.contains('\n'), "the error is more than one line: {error:?}");
    assert!(
        error.to_lowercase().contains(&needle.to_lowercase()),
        "the error does not mention {needle:?}: {error}\n--- log ---\n{}",
        run.log_text()
    );
    error
}

/// Rolls back (the default plan) until StashHog says nothing is left; returns how many ran.
fn roll_back_everything(env: &TestEnv, extra: Value) -> usize {
    for done in 0..5 {
        let mut args = json!({"mode": "rollback_plan"});
        if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
            args.extend(extra.clone());
        }
        let run = env.run(args);
        if run.error.as_deref().is_some_and(|e| e.contains("nothing to roll back")) {
            return done;
        }
        run.assert_ok();
    }
    panic!("rollback never ran out of plans");
}

// ---- 1. a tag sync killed while applying ---------------------------------------------------

/// 40 linked scenes whose stash-box scene has tag "Solo" and 40 with "Duo"; both tags exist
/// locally, so an applying sync sends one bulk request per tag.
fn two_tag_library() -> TestEnv {
    let env = TestEnv::with_stashbox();
    env.stash.config(|c| c.stash_boxes.iter_mut().for_each(|b| b.max_requests_per_minute = 100_000));
    env.set_settings(json!({"stashBoxRequestsPerMinute": 100000}));
    let endpoint = env.stashbox().endpoint();
    for name in ["Solo", "Duo"] {
        let box_tag = env.stashbox().lib(|l| l.add_tag(name));
        env.stash.lib(|l| l.add_tag(name));
        for _ in 0..40 {
            let id =
                env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: vec![box_tag.clone()], ..BoxScene::default() }));
            env.stash.lib(|l| l.add_scene(Scene { stash_ids: vec![StashId::new(&endpoint, &id)], ..Scene::default() }));
        }
    }
    env
}

fn scene_tags(env: &TestEnv) -> BTreeMap<u64, Vec<String>> {
    env.stash.lib(|l| l.scenes.keys().map(|id| (*id, l.scene_tag_names(*id))).collect())
}

#[test]
fn a_tag_sync_killed_while_applying_is_finished_by_the_next_run_and_rolls_back_completely() {
    let env = two_tag_library();
    // The first bulk request lands in Stash, but its answer comes after the kill.
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::from_millis(1500)));
    let stash = &env.stash;
    env.kill_when(json!({"mode": "sync_scene_tags", "syncDryRun": false}), || {
        !stash.requests_named("BulkSceneUpdate").is_empty()
    });
    wait_for_answers(&env);
    env.stash.clear_faults();

    let rerun = env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    rerun.assert_ok();
    assert!(scene_tags(&env).values().all(|tags| tags.len() == 1), "every scene got its tag: {:?}", scene_tags(&env));
    let db = Connection::open(env.db_path()).expect("opens");
    let stranded: i64 = db
        .query_row("SELECT COUNT(*) FROM plans WHERE status IN ('applying', 'rolling_back')", [], |r| r.get(0))
        .expect("counts");
    assert_eq!(stranded, 0, "no plan is left half-applied");
    let sending: i64 =
        db.query_row("SELECT COUNT(*) FROM plan_batches WHERE state = 'sending'", [], |r| r.get(0)).expect("counts");
    assert_eq!(sending, 0, "no request is left of unknown fate");

    roll_back_everything(&env, json!({}));
    let left: Vec<_> = scene_tags(&env).into_iter().filter(|(_, tags)| !tags.is_empty()).collect();
    assert!(left.is_empty(), "rolling back every plan removes every synced tag; left: {left:?}");
}

#[test]
fn rollback_settles_an_apply_request_left_in_flight() {
    let env = two_tag_library();
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::from_millis(1500)));
    let stash = &env.stash;
    env.kill_when(json!({"mode": "sync_scene_tags", "syncDryRun": false}), || {
        !stash.requests_named("BulkSceneUpdate").is_empty()
    });
    wait_for_answers(&env);
    env.stash.clear_faults();
    // The user rolls back at once instead of syncing again.
    let run = env.run(json!({"mode": "rollback_plan"}));
    run.assert_ok();
    assert!(scene_tags(&env).values().all(Vec::is_empty), "what landed is reverted: {:?}", scene_tags(&env));
    assert_eq!(run.out("/plan_status"), &json!("rolled_back"));
}

#[test]
fn a_rollback_killed_while_a_request_is_in_flight_resumes_without_sending_it_twice() {
    let env = TestEnv::new();
    let ids = env.stash.lib(|l| l.add_scenes(4, |_| Scene::default()));
    let tag = env.stash.lib(|l| l.add_tag("A"));
    let changes =
        ids.iter().map(|id| json!({"entity": "scene", "id": id, "field": "tags", "action": "ADD", "value": tag}));
    let plan_id = import_approved(&env, plan(changes.collect()));
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
    env.stash.clear_requests();
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::from_millis(1500)));
    let stash = &env.stash;
    env.kill_when(json!({"mode": "rollback_plan", "plan_id": plan_id}), || {
        !stash.requests_named("BulkSceneUpdate").is_empty()
    });
    wait_for_answers(&env);
    env.stash.clear_faults();
    let run = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id}));
    run.assert_ok();
    assert_eq!(run.out("/resumed_batches"), &json!(1));
    assert_eq!(run.out("/plan_status"), &json!("rolled_back"));
    assert_eq!(env.stash.requests_named("BulkSceneUpdate").len(), 1, "the landed request is not sent again");
    assert!(scene_tags(&env).values().all(Vec::is_empty));
}

// ---- 2. a lost answer to a CREATE or a destroy ---------------------------------------------

/// A plan creating a tag, a performer and a studio, each used by a later change of `scene`.
fn creating_plan(scene: u64) -> Value {
    plan(vec![
        json!({"entity": "tag", "action": "CREATE", "value": "Poolside"}),
        json!({"entity": "performer", "action": "CREATE", "value": "Kyle Ryder"}),
        json!({"entity": "studio", "action": "CREATE", "value": "Ryder Films"}),
        json!({"entity": "scene", "id": scene, "field": "tags", "action": "ADD", "value": {"created": 0}}),
        json!({"entity": "scene", "id": scene, "field": "performers", "action": "ADD", "value": {"created": 1}}),
        json!({"entity": "scene", "id": scene, "field": "studio", "action": "SET", "value": {"created": 2},
               "before": null}),
    ])
}

#[test]
fn a_lost_answer_to_a_create_or_a_delete_is_checked_in_stash_and_nothing_is_stranded() {
    // A dropped connection, and a proxy's 502 after Stash did the work.
    for lost in [None, Some(502)] {
        let env = TestEnv::new();
        let scene = env.stash.lib(|l| l.add_scene(Scene { title: Some("Poolside".into()), ..Scene::default() }));
        let plan_id = import_approved(&env, creating_plan(scene));
        for create in ["TagCreate", "PerformerCreate", "StudioCreate"] {
            env.stash.fail_next_named(create, Fault::LoseAnswer(lost));
        }
        let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
        run.assert_ok();
        assert_eq!(run.out("/applied"), &json!(6), "lost answer {lost:?}: {}", run.stdout);
        for create in ["TagCreate", "PerformerCreate", "StudioCreate"] {
            assert_eq!(env.stash.requests_named(create).len(), 1, "{create} sent once");
        }
        env.stash.lib(|l| {
            let s = l.scene(scene).expect("scene");
            assert_eq!(s.tag_ids.len() + s.performer_ids.len() + usize::from(s.studio_id.is_some()), 3);
        });

        for destroy in ["TagDestroy", "PerformerDestroy", "StudioDestroy"] {
            env.stash.fail_next_named(destroy, Fault::LoseAnswer(lost));
        }
        let rollback = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id, "delete_created": true}));
        rollback.assert_ok();
        assert_eq!(rollback.out("/created_deleted").as_array().map(Vec::len), Some(3), "{}", rollback.stdout);
        assert_eq!(rollback.out("/plan_status"), &json!("rolled_back"));
        env.stash.lib(|l| {
            assert!(l.tag_by_name("Poolside").is_none(), "the created tag is deleted");
            assert!(l.performer_by_name("Kyle Ryder").is_none() && l.studio_by_name("Ryder Films").is_none());
        });
    }
}

#[test]
fn a_failed_change_is_retried_by_running_the_same_task_again() {
    let env = TestEnv::new();
    let scene = env.stash.lib(|l| l.add_scene(Scene::default()));
    let plan_id = import_approved(&env, creating_plan(scene));
    // Stash refuses the tag once (a real failure, not a lost answer): that change and the one
    // using it fail.
    env.stash.fail_next_named("TagCreate", Fault::GraphqlError("tag create failed: disk full".into()));
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    let error = refused(&run, "apply_plan");
    assert!(error.contains("2 changes failed"), "{error}");
    // Retrying is the same task again, nothing else.
    let again = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    again.assert_ok();
    env.stash.lib(|l| assert!(l.tag_by_name("Poolside").is_some() && !l.scene(scene).unwrap().tag_ids.is_empty()));
    let shown = env.run(json!({"mode": "show_plan", "plan_id": plan_id}));
    assert_eq!(shown.out("/plan/changes"), &json!({"applied": 6}));
}

// ---- 3. first runs racing on a database that does not exist yet ----------------------------

#[test]
fn first_runs_racing_on_a_new_database_all_succeed_and_leave_it_whole() {
    let env = TestEnv::new();
    for round in 0..80 {
        let db = env.root().join(format!("race-{round}")).join("stashhog").join("stashhog.sqlite");
        let modes = [
            "sync_status",
            "list_plans",
            "sync_status",
            "list_plans",
            "sync_status",
            "list_plans",
            "sync_status",
            "list_plans",
        ];
        let runs: Vec<Run> = std::thread::scope(|scope| {
            let handles: Vec<_> = modes
                .iter()
                .map(|mode| {
                    let input = env.input(json!({"mode": mode, "databasePath": db.to_string_lossy()}));
                    let options = env.options.clone();
                    scope.spawn(move || runner::run_plugin(&input, &options))
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("the runner thread")).collect()
        });
        for run in &runs {
            run.assert_ok();
        }
        let conn = Connection::open(&db).expect("the database is there");
        let recorded: i64 =
            conn.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0)).expect("its tables are there");
        assert_eq!(recorded, modes.len() as i64, "round {round}: every run is recorded");
    }
}

// ---- 4. a resumed full sync and what changed behind its checkpoint -------------------------

#[test]
fn a_resumed_full_sync_catches_what_changed_behind_its_checkpoint() {
    let env = TestEnv::new();
    let ids =
        env.stash.lib(|l| l.add_scenes(1500, |i| Scene { title: Some(format!("Scene {i}")), ..Scene::default() }));
    env.stash.fail_times(400, Fault::Slow(Duration::from_millis(40)));
    let db_path = env.db_path();
    env.kill_when(json!({"mode": "full_sync"}), || {
        Connection::open(&db_path)
            .is_ok_and(|db| crate::support::mirror_oracle::scene_checkpoint(&db).is_some_and(|v| v as u64 >= ids[999]))
    });
    env.stash.clear_faults();
    // Behind the checkpoint: one copied scene is edited, another deleted.
    env.stash.lib(|l| {
        l.edit_scene(ids[10], |s| s.title = Some("Edited while the sync was stopped".into()));
        l.remove_scene(ids[20]);
    });
    let run = env.run(json!({"mode": "full_sync"}));
    run.assert_ok();
    assert_eq!(run.out("/resumed"), &json!(true));

    let db = Connection::open(env.db_path()).expect("opens");
    let mirrored: BTreeMap<u64, Option<String>> = db
        .prepare("SELECT id, title FROM scenes")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?.collect())
        .expect("reads the mirror");
    let in_stash: BTreeMap<u64, Option<String>> =
        env.stash.lib(|l| l.scenes.values().map(|s| (s.id, s.title.clone())).collect());
    assert_eq!(mirrored.len(), in_stash.len(), "the deleted scene is gone from the mirror");
    assert_eq!(mirrored.get(&ids[10]), Some(&Some("Edited while the sync was stopped".to_owned())));
    assert!(mirrored == in_stash, "the mirror equals Stash when the resumed sync says it is complete");
}

// ---- malformed input: refused with one line that says what to do ---------------------------

#[test]
fn a_plan_file_with_a_bad_value_or_a_missing_reference_is_refused_at_import() {
    let env = TestEnv::new();
    let scene = env.stash.lib(|l| l.add_scene(Scene::default()));
    let tag = env.stash.lib(|l| l.add_tag("Present"));
    let cases = [
        (
            json!({"entity": "scene", "id": scene, "field": "date", "action": "SET", "value": "2024-13-45", "before": null}),
            "date",
        ),
        (
            json!({"entity": "scene", "id": scene, "field": "date", "action": "SET", "value": "2023-02-29", "before": null}),
            "date",
        ),
        (json!({"entity": "scene", "id": scene, "field": "tags", "action": "ADD", "value": 999_999}), "999999"),
        (json!({"entity": "scene", "id": scene, "field": "performers", "action": "ADD", "value": 424_242}), "424242"),
        (
            json!({"entity": "scene", "id": scene, "field": "studio", "action": "SET", "value": 31_337, "before": null}),
            "31337",
        ),
        (
            json!({"entity": "scene", "id": scene, "field": "rating100", "action": "SET", "value": 250, "before": null}),
            "rating100",
        ),
    ];
    for (change, needle) in cases {
        let run = env.run(json!({"mode": "import_plan", "plan": plan(vec![change.clone()])}));
        let error = refused(&run, needle);
        assert!(error.contains("changes[0]"), "names the change: {error}");
    }
    let listed = env.run(json!({"mode": "list_plans"}));
    assert_eq!(listed.out("/plans"), &json!([]), "nothing was stored");
    // The same file with values and references Stash has imports.
    let good = json!({"entity": "scene", "id": scene, "field": "tags", "action": "ADD", "value": tag});
    env.run(json!({"mode": "import_plan", "plan": plan(vec![good])})).assert_ok();
}

#[test]
fn malformed_settings_and_connection_values_are_refused_with_one_line() {
    let env = TestEnv::new();
    env.stash.lib(|l| l.add_scene(Scene::default()));
    // A studioRules regex that does not compile.
    let run = env.run(json!({"mode": "analyze", "studioRules": "([unclosed => Studio"}));
    refused(&run, "studioRules");
    // A Host or a mode carrying a newline (echoed back, it would forge a second log line).
    let run = env.run_input(&env.input(json!({"mode": "check"})).host("127.0.0.1\nforged"));
    refused(&run, "host");
    let run = env.run(json!({"mode": "check\nforged line"}));
    refused(&run, "mode");
    // A scheme Stash never uses.
    let mut input = env.input(json!({"mode": "sync_status"}));
    input.scheme = "ftp".into();
    refused(&env.run_input(&input), "scheme");
    let cli = env.run_cli(&["sync_status", "--url", "ftp://127.0.0.1:9999"]);
    assert_ne!(cli.exit_code, Some(0), "refused: {}", cli.stderr);
    assert_eq!(cli.exit_code, Some(2), "bad usage: {}", cli.stderr);
    assert!(cli.stderr.contains("--url must start with http:// or https://"), "{}", cli.stderr);
}

/// Runs one cheap mode on the database at `db` (a fresh world each time).
fn status_on(env: &TestEnv, db: &Path) -> Run {
    env.run(json!({"mode": "sync_status", "databasePath": db.to_string_lossy()}))
}

#[test]
fn a_damaged_database_is_named_with_what_to_do_and_left_untouched() {
    let env = TestEnv::new();
    let db = env.root().join("db-a").join("stashhog.sqlite");
    status_on(&env, &db).assert_ok();
    Connection::open(&db).and_then(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")).expect("checkpoint");
    let good = std::fs::read(&db).expect("reads");

    // Garbage over the header.
    let mut bytes = good.clone();
    bytes[..64].fill(b'x');
    std::fs::write(&db, &bytes).expect("writes");
    let error = refused(&status_on(&env, &db), "damaged");
    assert!(error.contains(&db.display().to_string()), "names the file: {error}");
    assert_eq!(std::fs::read(&db).expect("reads"), bytes, "the damaged file is left as it was");

    // Cut in half.
    std::fs::write(&db, &good[..good.len() / 2]).expect("writes");
    refused(&status_on(&env, &db), "damaged");
}

#[test]
fn a_locked_database_says_which_run_holds_it() {
    let env = TestEnv::new();
    let db = env.root().join("db-b").join("stashhog.sqlite");
    status_on(&env, &db).assert_ok();
    let holder = Connection::open(&db).expect("opens");
    holder.execute_batch("BEGIN IMMEDIATE").expect("takes the write lock");
    let error = refused(&status_on(&env, &db), "locked");
    assert!(error.contains("another"), "says someone else holds it: {error}");
    assert!(!error.contains("database is locked: database is locked"), "says it once: {error}");
    holder.execute_batch("ROLLBACK").expect("releases");
}

// ---- files StashHog writes are private --------------------------------------------------------

#[cfg(unix)]
#[test]
fn the_database_its_folder_locks_and_exported_plans_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let scene = env.stash.lib(|l| l.add_scene(Scene::default()));
    let tag = env.stash.lib(|l| l.add_tag("A"));
    let plan_id = import_approved(
        &env,
        plan(vec![json!({"entity": "scene", "id": scene, "field": "tags", "action": "ADD", "value": tag})]),
    );
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
    let export = env.root().join("plan.json");
    env.run(json!({"mode": "export_plan", "plan_id": plan_id, "file": export.to_string_lossy()})).assert_ok();
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    let folder = env.db_path().parent().expect("a folder").to_owned();
    assert_eq!(mode(&folder), 0o700, "{}", folder.display());
    for entry in std::fs::read_dir(&folder).expect("lists") {
        let path = entry.expect("an entry").path();
        assert_eq!(mode(&path) & 0o077, 0, "{} is readable by others: {:o}", path.display(), mode(&path));
    }
    assert_eq!(mode(&export) & 0o077, 0, "the exported plan: {:o}", mode(&export));
}
