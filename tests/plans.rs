//! Plans, the one write path: import a plan file, review part of it, apply it (journaled,
//! resumable after SIGKILL), roll it back — checked against what the fake Stash holds and the
//! requests it saw. The plainest cases (a conflict skipped, an exact rollback) are scenario
//! folders in `tests/scenarios/`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::fake_http::Fault;
use crate::support::fake_stash::{Scene, SceneUpdates};
use crate::support::mirror_oracle::assert_mirror_equals_stash;
use crate::support::runner::Level;

/// Imports `plan` (a plan file document) and returns the new plan's id.
fn import(env: &TestEnv, plan: Value) -> i64 {
    let run = env.run(json!({"mode": "import_plan", "plan": plan}));
    run.assert_ok();
    run.out("/plan_id").as_i64().expect("a plan id")
}

fn add_tag(scene: u64, tag: u64) -> Value {
    json!({"entity": "scene", "id": scene, "field": "tags", "action": "ADD", "value": tag,
           "reason": "matched StashDB tag by name", "confidence": 0.9})
}

fn plan(changes: Vec<Value>) -> Value {
    json!({"version": 1, "name": "test plan", "source": {"mode": "test", "settings": {}}, "changes": changes})
}

fn approve_all(env: &TestEnv, plan_id: i64) {
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
}

fn scenes(env: &TestEnv, n: usize) -> Vec<u64> {
    env.stash.lib(|l| l.add_scenes(n, |i| Scene { title: Some(format!("Scene {i}")), ..Scene::default() }))
}

fn mutations(env: &TestEnv) -> usize {
    ["BulkSceneUpdate", "SceneUpdate", "TagCreate", "PerformerCreate", "StudioCreate"]
        .iter()
        .map(|op| env.stash.requests_named(op).len())
        .sum()
}

#[test]
fn an_imported_plan_reviewed_in_part_applies_exactly_the_approved_changes() {
    let env = TestEnv::new();
    let ids = scenes(&env, 3);
    let (a, b, studio) = env.stash.lib(|l| (l.add_tag("A"), l.add_tag("B"), l.add_studio("Studio")));
    env.stash.lib(|l| l.scene_mut(ids[0]).unwrap().tag_ids = vec![b]);
    let plan_id = import(
        &env,
        plan(vec![
            json!({"entity": "tag", "action": "CREATE", "value": "Brand new", "reason": "StashDB tag missing"}),
            add_tag(ids[0], a),
            add_tag(ids[1], a),
            add_tag(ids[2], a),
            json!({"entity": "scene", "id": ids[0], "field": "tags", "action": "REMOVE", "value": b, "before": [b]}),
            json!({"entity": "scene", "id": ids[2], "field": "tags", "action": "ADD", "value": {"created": 0}}),
            json!({"entity": "scene", "id": ids[1], "field": "title", "action": "SET", "value": "Renamed",
                   "before": "Scene 1", "confidence": 0.4}),
            json!({"entity": "scene", "id": ids[1], "field": "studio", "action": "SET", "value": studio,
                   "before": null, "confidence": 0.95}),
            json!({"entity": "scene", "id": ids[1], "field": "details", "action": "SET", "value": null,
                   "before": null, "confidence": 0.95}),
        ]),
    );
    let shown = env.run(json!({"mode": "show_plan", "plan_id": plan_id, "field": "tags"}));
    shown.assert_ok();
    assert_eq!(shown.out("/matching"), &json!(5));
    assert_eq!(shown.out("/plan/status"), &json!("draft"));
    assert!(shown.out("/fields").as_array().is_some_and(|f| f.iter().any(|r| r["field"] == "title")));

    // Approve what is at least 0.5 sure, then reject the whole title field anyway.
    let review =
        env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "min_confidence": 0.5}));
    review.assert_ok();
    assert_eq!(review.out("/changed"), &json!(8));
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "reject", "field": "title"})).assert_ok();
    env.stash.clear_requests();

    let run = env.run(json!({"mode": "apply_plan"}));
    run.assert_ok();
    assert_eq!(run.out("/plan_id"), &json!(plan_id), "the newest plan with approved changes");
    assert_eq!(run.out("/applied"), &json!(7));
    assert_eq!(run.out("/already_in_place"), &json!(1), "details: null -> null needs no request");
    assert_eq!(run.out("/plan_status"), &json!("applied"));
    let new_tag = env.stash.lib(|l| l.tag_by_name("Brand new").map(|t| t.id)).expect("the tag was created");
    env.stash.lib(|l| {
        assert_eq!(l.scene_tag_names(ids[0]), ["A"]);
        assert_eq!(l.scene_tag_names(ids[1]), ["A"]);
        assert_eq!(l.scene_tag_names(ids[2]), ["A", "Brand new"]);
        let s1 = l.scene(ids[1]).unwrap();
        assert_eq!(s1.title.as_deref(), Some("Scene 1"), "the rejected title is untouched");
        assert_eq!(s1.studio_id, Some(studio));
        assert_eq!(l.scene(ids[2]).unwrap().tag_ids.last(), Some(&new_tag));
    });
    // Each scene's list edits in one update, all of them aliased in one request; one sceneUpdate.
    assert_eq!(env.stash.requests_named("BulkSceneUpdate").len(), 1);
    let updates = env.stash.requests_named("SceneUpdate");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].variables["u0"], json!({"id": ids[1].to_string(), "studio_id": studio.to_string()}));
    assert_eq!(env.stash.requests_named("TagCreate").len(), 1);

    // Applying again has nothing to do and sends nothing.
    env.stash.clear_requests();
    let again = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    assert!(again.error.clone().unwrap_or_default().contains("no approved changes"), "{:?}", again.error);
    assert_eq!(mutations(&env), 0);
}

#[test]
fn fields_set_on_many_scenes_go_forty_to_a_request_and_a_refused_one_fails_alone() {
    let env = TestEnv::new();
    let ids = scenes(&env, 45);
    let studio = env.stash.lib(|l| l.add_studio("Gone soon"));
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let mut changes: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({"entity": "scene", "id": id, "field": "title", "action": "SET",
                   "value": format!("Renamed {i}"), "before": format!("Scene {i}")})
        })
        .collect();
    changes.push(
        json!({"entity": "scene", "id": ids[7], "field": "studio", "action": "SET", "value": studio, "before": null}),
    );
    let plan_id = import(&env, plan(changes));
    approve_all(&env, plan_id);
    // The studio goes before the apply: Stash refuses that one update, and only that one.
    env.stash.lib(|l| l.remove_studio(studio));
    env.stash.clear_requests();
    env.stash.clear_scene_updates();
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    assert_eq!(env.stash.requests_named("SceneUpdate").len(), 2, "45 scenes: 40 aliases, then 5");
    assert_eq!(run.out("/applied"), &json!(44), "{}", run.stdout);
    // Scene 7's title and studio were one update: both fail, with Stash's reason.
    assert_eq!(run.out("/failed"), &json!(2), "{}", run.stdout);
    assert!(run.error.clone().unwrap_or_default().contains("2 changes failed"), "{:?}", run.error);
    let failures = run.out("/failures").as_array().cloned().unwrap_or_default();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures.iter().all(
            |f| f["scene_id"] == json!(ids[7]) && f["error"].as_str().is_some_and(|e| e.contains("studio with id"))
        )
    );
    env.stash.lib(|l| {
        for (i, id) in ids.iter().enumerate() {
            let scene = l.scene(*id).unwrap();
            if i == 7 {
                assert_eq!(scene.title.as_deref(), Some("Scene 7"), "its update was refused as a whole");
                assert_eq!(scene.studio_id, None);
            } else {
                assert_eq!(scene.title, Some(format!("Renamed {i}")));
            }
        }
    });
    assert_eq!(env.stash.scene_updates().busiest, 1, "no scene updated twice");
    // The catch-up removed the deleted studio too (one gone is a deletion, not a truncation).
    assert_mirror_equals_stash(&env);
}

#[test]
fn galleries_are_created_forty_to_a_request_and_a_refused_one_fails_alone() {
    let env = TestEnv::new();
    let studio = env.stash.lib(|l| l.add_studio("Gone soon"));
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let changes: Vec<Value> = (0..45)
        .map(|i| {
            let mut value = json!({"name": format!("Post {i}"), "code": format!("post-{i}")});
            if i == 3 {
                value["studio"] = json!(studio);
            }
            json!({"entity": "gallery", "action": "CREATE", "value": value})
        })
        .collect();
    let plan_id = import(&env, plan(changes));
    approve_all(&env, plan_id);
    // The studio goes before the apply: Stash refuses that one gallery, and makes the others.
    env.stash.lib(|l| l.remove_studio(studio));
    env.stash.clear_requests();
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    assert_eq!(env.stash.requests_named("GalleryCreate").len(), 2, "45 galleries: 40, then 5");
    assert_eq!(run.out("/applied"), &json!(44), "{}", run.stdout);
    assert_eq!(run.out("/failed"), &json!(1), "{}", run.stdout);
    let mut codes: Vec<String> = env.stash.lib(|l| l.galleries.values().filter_map(|g| g.code.clone()).collect());
    codes.sort();
    let mut expected: Vec<String> = (0..45).filter(|i| *i != 3).map(|i| format!("post-{i}")).collect();
    expected.sort();
    assert_eq!(codes, expected, "each made once, the refused one not at all");
}

#[test]
fn n_scenes_getting_the_same_tag_take_one_request_per_batch() {
    let env = TestEnv::new();
    let ids = scenes(&env, 10);
    let a = env.stash.lib(|l| l.add_tag("A"));
    let plan_id = import(&env, plan(ids.iter().map(|id| add_tag(*id, a)).collect()));
    approve_all(&env, plan_id);
    env.stash.clear_requests();
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 4}));
    run.assert_ok();
    let bulk = env.stash.requests_named("BulkSceneUpdate");
    assert_eq!(bulk.len(), 3, "10 scenes in batches of 4");
    assert_eq!(bulk[0].var("/u0/ids").and_then(Value::as_array).map(Vec::len), Some(4));
    assert_eq!(bulk[0].var("/u0/tag_ids"), Some(&json!({"ids": [a.to_string()], "mode": "ADD"})));
    assert_eq!(run.out("/mutations"), &json!(3));
    assert_eq!(env.stash.scene_updates(), SceneUpdates { total: 10, busiest: 1 }, "Stash updated each scene once");
    env.stash.lib(|l| assert!(ids.iter().all(|id| l.scene_tag_names(*id) == ["A"])));
}

#[test]
fn a_dry_run_logs_the_requests_and_changes_nothing() {
    let env = TestEnv::new();
    let ids = scenes(&env, 3);
    let a = env.stash.lib(|l| l.add_tag("A"));
    let plan_id = import(&env, plan(ids.iter().map(|id| add_tag(*id, a)).collect()));
    approve_all(&env, plan_id);
    env.stash.clear_requests();
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id, "dry_run": true}));
    run.assert_ok();
    assert_eq!(mutations(&env), 0);
    assert_eq!(run.out("/would_send/0/operation"), &json!("BulkSceneUpdate"));
    assert_eq!(run.out("/would_send/0/variables/u0/tag_ids/mode"), &json!("ADD"));
    assert!(run.logged(Level::Info, "Dry run: would send BulkSceneUpdate"));
    env.stash.lib(|l| assert!(ids.iter().all(|id| l.scene_tag_names(*id).is_empty())));
    let shown = env.run(json!({"mode": "show_plan", "plan_id": plan_id, "status": "approved"}));
    assert_eq!(shown.out("/matching"), &json!(3), "statuses untouched");
    assert_eq!(shown.out("/plan/status"), &json!("reviewing"));
}

#[test]
fn bad_plan_files_are_rejected_naming_the_change_and_nothing_is_stored() {
    let env = TestEnv::new();
    let ids = scenes(&env, 1);
    let cases = [
        (
            json!({"version": 1, "name": "x", "changes": [
                {"entity": "scene", "id": ids[0], "field": "tags", "action": "ADD", "value": 1, "colour": "red"}]}),
            "unknown field `colour`",
        ),
        (plan(vec![add_tag(ids[0], 1), add_tag(999, 1)]), "changes[1]: scene 999 does not exist in Stash"),
        (
            plan(vec![json!({"entity": "scene", "id": ids[0], "field": "organized", "action": "SET", "value": "yes",
                              "before": false})]),
            "changes[0]: `organized` takes true or false",
        ),
        (
            plan(vec![json!({"entity": "scene", "id": "one", "field": "tags", "action": "ADD", "value": 1})]),
            "invalid type",
        ),
    ];
    for (document, expected) in cases {
        let run = env.run(json!({"mode": "import_plan", "plan": document}));
        let error = run.error.clone().unwrap_or_default();
        assert!(error.contains(expected) && error.contains("nothing was stored"), "{expected}: {error}");
    }
    // A file on disk with a syntax error names its line.
    let path = env.root().join("broken.json");
    std::fs::write(&path, "{\n  \"version\": 1,\n  \"name\": \"x\"\n  \"changes\": []\n}\n").expect("writes");
    let run = env.run(json!({"mode": "import_plan", "file": path.display().to_string()}));
    assert!(run.error.clone().unwrap_or_default().contains("line 4"), "{:?}", run.error);
    let listed = env.run(json!({"mode": "list_plans"}));
    assert_eq!(listed.out("/plans"), &json!([]));
    assert_eq!(mutations(&env), 0);
}

#[test]
fn export_then_import_gives_the_same_plan() {
    let env = TestEnv::new();
    let ids = scenes(&env, 1);
    let document = plan(vec![
        json!({"entity": "tag", "action": "CREATE", "value": "New", "reason": "", "confidence": 1.0}),
        json!({"entity": "scene", "id": ids[0], "field": "tags", "action": "ADD", "value": {"created": 0},
               "before": [], "reason": "r", "confidence": 0.5, "status": "approved"}),
    ]);
    let plan_id = import(&env, document);
    let file = env.root().join("plan.json");
    env.run(json!({"mode": "export_plan", "plan_id": plan_id, "file": file.display().to_string()})).assert_ok();
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("reads")).expect("json");
    assert_eq!(exported["changes"][1]["value"], json!({"created": 0}));
    let again = env.run(json!({"mode": "import_plan", "file": file.display().to_string()}));
    again.assert_ok();
    let second = again.out("/plan_id").as_i64().unwrap_or_default();
    let shown = env.run(json!({"mode": "export_plan", "plan_id": second}));
    assert_eq!(shown.out("/plan/changes"), &exported["changes"]);
    env.run(json!({"mode": "delete_plan", "plan_id": second})).assert_ok();
    let listed = env.run(json!({"mode": "list_plans"}));
    assert_eq!(listed.out("/plans").as_array().map(Vec::len), Some(1));
}

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
fn performers_and_studios_a_plan_creates_are_linked_and_deleted_on_rollback_only_when_unused() {
    let env = TestEnv::new();
    let ids = scenes(&env, 2);
    let plan_id = import(&env, creating_plan(ids[0]));
    approve_all(&env, plan_id);
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    run.assert_ok();
    assert_eq!(run.out("/applied"), &json!(6));
    let (tag, performer, studio) = env.stash.lib(|l| {
        let tag = l.tag_by_name("Poolside").map(|t| t.id).expect("tag created");
        let performer = l.performer_by_name("Kyle Ryder").map(|p| p.id).expect("performer created");
        let studio = l.studio_by_name("Ryder Films").map(|s| s.id).expect("studio created");
        let scene = l.scene(ids[0]).expect("scene");
        assert_eq!(
            (&scene.tag_ids, &scene.performer_ids, scene.studio_id),
            (&vec![tag], &vec![performer], Some(studio))
        );
        (tag, performer, studio)
    });
    // The user gives another scene the new performer: it is in use, so it stays.
    env.stash.lib(|l| l.edit_scene(ids[1], |s| s.performer_ids.push(performer)));

    env.stash.clear_requests();
    let dry = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id, "delete_created": true, "dry_run": true}));
    dry.assert_ok();
    // A dry run reverts no scene, so everything created is still in use as Stash sees it.
    assert_eq!(dry.out("/created_kept").as_array().map(Vec::len), Some(3));
    assert_eq!(mutations(&env) + env.stash.requests_named("TagDestroy").len(), 0, "a dry run sends nothing");

    let run = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id, "delete_created": true}));
    run.assert_ok();
    assert_eq!(
        run.out("/created_deleted"),
        &json!([{"entity": "tag", "id": tag, "name": "Poolside"}, {"entity": "studio", "id": studio, "name": "Ryder Films"}])
    );
    assert_eq!(
        run.out("/created_kept"),
        &json!([{"entity": "performer", "id": performer, "name": "Kyle Ryder", "uses": 1}])
    );
    assert_eq!(run.out("/plan_status"), &json!("rolled_back"));
    env.stash.lib(|l| {
        let scene = l.scene(ids[0]).expect("scene");
        assert!(scene.tag_ids.is_empty() && scene.performer_ids.is_empty() && scene.studio_id.is_none());
        assert!(l.tag_by_name("Poolside").is_none() && l.studio_by_name("Ryder Films").is_none());
        assert!(l.performer_by_name("Kyle Ryder").is_some(), "still used by scene {}", ids[1]);
    });
    assert_eq!(env.stash.requests_named("TagDestroy").len(), 1);
    assert_eq!(env.stash.requests_named("StudioDestroy").len(), 1);
    assert!(env.stash.requests_named("PerformerDestroy").is_empty());
}

#[test]
fn a_create_that_stash_refuses_fails_its_change_and_what_refers_to_it() {
    let env = TestEnv::new();
    let ids = scenes(&env, 1);
    env.stash.lib(|l| l.add_studio("ryder films"));
    let plan_id = import(&env, creating_plan(ids[0]));
    approve_all(&env, plan_id);
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    assert!(run.error.clone().unwrap_or_default().contains("2 changes failed"), "{:?}", run.error);
    let failures = run.out("/failures").to_string();
    assert!(failures.contains("studio with name 'Ryder Films' already exists"), "{failures}");
    assert!(failures.contains("was not created"), "{failures}");
    env.stash.lib(|l| assert_eq!(l.scene(ids[0]).and_then(|s| s.studio_id), None));
}

#[test]
fn apply_killed_while_creating_a_performer_finds_it_by_name_and_creates_it_once() {
    let env = TestEnv::new();
    let ids = scenes(&env, 1);
    // Someone with the same name but a disambiguation is another person: not ours.
    env.stash.lib(|l| {
        l.insert_performer(crate::support::fake_stash::Performer {
            name: "Kyle Ryder".into(),
            disambiguation: Some("the other one".into()),
            ..Default::default()
        })
    });
    let plan_id = import(&env, creating_plan(ids[0]));
    approve_all(&env, plan_id);
    env.stash.clear_requests();
    env.stash.fail_next_named("PerformerCreate", Fault::Slow(Duration::from_millis(1500)));
    let stash = &env.stash;
    apply_and_kill_when(&env, json!({"mode": "apply_plan", "plan_id": plan_id}), || {
        !stash.requests_named("PerformerCreate").is_empty()
    });
    env.stash.wait_for_answers();
    env.stash.clear_faults();
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    run.assert_ok();
    assert_eq!(run.out("/resumed_batches"), &json!(1));
    assert_eq!(env.stash.requests_named("PerformerCreate").len(), 1, "never created twice");
    env.stash.lib(|l| {
        let ours = l
            .performers
            .values()
            .find(|p| p.name == "Kyle Ryder" && p.disambiguation.is_none())
            .map(|p| p.id)
            .expect("created");
        assert_eq!(l.scene(ids[0]).map(|s| s.performer_ids.clone()), Some(vec![ours]));
    });
}

/// Starts `apply_plan` as Stash would, waits until `ready` says the fake has seen the request
/// to kill it at, and SIGKILLs it.
fn apply_and_kill_when(env: &TestEnv, args: Value, ready: impl Fn() -> bool) {
    env.kill_when(args, ready);
}

/// Waits until every request the fake received has been answered (a slow one lands late).
/// Six scenes, three pages of two: each gets tag A and loses tag B.
fn killable_plan(env: &TestEnv) -> (Vec<u64>, i64) {
    let ids = scenes(env, 6);
    let (a, b) = env.stash.lib(|l| (l.add_tag("A"), l.add_tag("B")));
    env.stash.lib(|l| ids.iter().for_each(|id| l.scene_mut(*id).unwrap().tag_ids = vec![b]));
    let mut changes: Vec<Value> = ids.iter().map(|id| add_tag(*id, a)).collect();
    changes.extend(
        ids.iter().map(|id| json!({"entity": "scene", "id": id, "field": "tags", "action": "REMOVE", "value": b})),
    );
    let plan_id = import(env, plan(changes));
    approve_all(env, plan_id);
    env.stash.clear_requests();
    (ids, plan_id)
}

fn assert_applied_once(env: &TestEnv, ids: &[u64], plan_id: i64) {
    env.stash.lib(|l| assert!(ids.iter().all(|id| l.scene_tag_names(*id) == ["A"])));
    // Six scenes, two per request, one ADD and one REMOVE each: six requests in all, however often
    // we were killed.
    let bulk = env.stash.requests_named("BulkSceneUpdate");
    let answered: Vec<_> = bulk.iter().filter(|r| r.status.is_some()).collect();
    assert_eq!(answered.len(), 6, "{:#?}", bulk.iter().map(|r| &r.variables).collect::<Vec<_>>());
    let shown = env.run(json!({"mode": "show_plan", "plan_id": plan_id}));
    assert_eq!(shown.out("/plan/changes"), &json!({"applied": 12}));
    assert_eq!(shown.out("/plan/status"), &json!("applied"));
}

#[test]
fn apply_killed_while_a_request_is_in_flight_resumes_without_sending_it_twice() {
    let env = TestEnv::new();
    let (ids, plan_id) = killable_plan(&env);
    // The 3rd bulk request (the last ADD) is slow; the kill lands while Stash is working on it.
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::ZERO));
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::ZERO));
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::from_millis(1500)));
    let stash = &env.stash;
    let watcher = || stash.requests_named("BulkSceneUpdate").len() >= 3;
    apply_and_kill_when(&env, json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 2}), watcher);
    env.stash.wait_for_answers();
    env.stash.clear_faults();
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 2}));
    run.assert_ok();
    assert_eq!(run.out("/resumed_batches"), &json!(1));
    assert!(run.logged(Level::Info, "had landed"));
    assert_applied_once(&env, &ids, plan_id);
}

#[test]
fn apply_killed_before_sending_or_while_reading_finishes_the_rest() {
    let env = TestEnv::new();
    let (ids, plan_id) = killable_plan(&env);
    // Killed while reading the scenes' current values from Stash, before anything was sent.
    env.stash.fail_next_named("FindScenes", Fault::Slow(Duration::from_secs(2)));
    let stash = &env.stash;
    apply_and_kill_when(&env, json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 2}), || {
        !stash.requests_named("FindScenes").is_empty()
    });
    env.stash.clear_faults();
    assert!(env.stash.requests_named("BulkSceneUpdate").is_empty(), "nothing was sent before the kill");
    // Killed again, this time while the 4th request (the first REMOVE) is answered slowly.
    for _ in 0..3 {
        env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::ZERO));
    }
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::from_millis(800)));
    apply_and_kill_when(&env, json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 2}), || {
        stash.requests_named("BulkSceneUpdate").len() >= 4
    });
    env.stash.wait_for_answers();
    env.stash.clear_faults();
    let run = env.run(json!({"mode": "apply_plan", "batch_size": 2}));
    run.assert_ok();
    assert_applied_once(&env, &ids, plan_id);
    let db = rusqlite::Connection::open(env.db_path()).expect("opens");
    let killed: i64 = db
        .query_row("SELECT COUNT(*) FROM runs WHERE mode = 'apply_plan' AND status = 'killed'", [], |r| r.get(0))
        .expect("counts");
    assert_eq!(killed, 2, "both killed runs are recorded as such");
}

#[test]
fn created_tags_and_studios_used_outside_scenes_survive_delete_created() {
    let env = TestEnv::new();
    let ids = scenes(&env, 1);
    let plan_id = import(
        &env,
        plan(vec![
            json!({"entity": "tag", "action": "CREATE", "value": "Poolside"}),
            json!({"entity": "tag", "action": "CREATE", "value": "Outdoor"}),
            json!({"entity": "studio", "action": "CREATE", "value": "Ryder Films"}),
            json!({"entity": "scene", "id": ids[0], "field": "tags", "action": "ADD", "value": {"created": 0}}),
            json!({"entity": "scene", "id": ids[0], "field": "tags", "action": "ADD", "value": {"created": 1}}),
            json!({"entity": "scene", "id": ids[0], "field": "studio", "action": "SET", "value": {"created": 2},
                   "before": null}),
        ]),
    );
    approve_all(&env, plan_id);
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
    // Since the apply, the user put Poolside on a performer, made Outdoor the parent of a tag of
    // their own, and gave Ryder Films a child studio; no scene but the plan's uses any of them.
    env.stash.lib(|l| {
        let poolside = l.tag_by_name("Poolside").map(|t| t.id).expect("created");
        let outdoor = l.tag_by_name("Outdoor").map(|t| t.id).expect("created");
        let studio = l.studio_by_name("Ryder Films").map(|s| s.id).expect("created");
        let performer = l.add_performer("Kyle Ryder");
        l.performers.get_mut(&performer).expect("performer").tag_ids.push(poolside);
        l.insert_tag(crate::support::fake_stash::Tag {
            name: "Beach".into(),
            parent_ids: vec![outdoor],
            ..Default::default()
        });
        l.insert_studio(crate::support::fake_stash::Studio {
            name: "Ryder Films Europe".into(),
            parent_id: Some(studio),
            ..Default::default()
        });
    });
    env.stash.clear_requests();
    let run = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id, "delete_created": true}));
    run.assert_ok();
    assert_eq!(run.out("/created_deleted"), &json!([]));
    let kept: Vec<(Value, Value)> = run
        .out("/created_kept")
        .as_array()
        .map(|k| k.iter().map(|e| (e["name"].clone(), e["uses"].clone())).collect())
        .unwrap_or_default();
    assert_eq!(kept, [(json!("Poolside"), json!(1)), (json!("Outdoor"), json!(1)), (json!("Ryder Films"), json!(1))]);
    env.stash.lib(|l| {
        assert!(l.scene(ids[0]).is_some_and(|s| s.tag_ids.is_empty() && s.studio_id.is_none()), "scene reverted");
        assert!(l.tag_by_name("Poolside").is_some() && l.tag_by_name("Outdoor").is_some());
        assert!(l.studio_by_name("Ryder Films").is_some());
    });
    assert!(env.stash.requests_named("TagDestroy").is_empty());
    assert!(env.stash.requests_named("StudioDestroy").is_empty());
}

#[test]
fn the_default_rollback_takes_the_plan_applied_last_not_the_one_reviewed_last() {
    let env = TestEnv::new();
    let ids = scenes(&env, 3);
    let (a, b) = env.stash.lib(|l| (l.add_tag("A"), l.add_tag("B")));
    // Plan A: one change applies, Stash refuses the other, so A is partially applied.
    let first = import(&env, plan(vec![add_tag(ids[0], a), add_tag(ids[1], b)]));
    approve_all(&env, first);
    refuse_second_bulk_update(&env);
    let run = env.run(json!({"mode": "apply_plan", "plan_id": first, "batch_size": 1}));
    assert_eq!(run.out("/plan_status"), &json!("partially_applied"), "{:?}", run.error);
    let second = import(&env, plan(vec![add_tag(ids[2], a)]));
    approve_all(&env, second);
    env.run(json!({"mode": "apply_plan", "plan_id": second})).assert_ok();
    // Reviewing A again (its failed change back to pending) does not make it the last applied.
    env.run(json!({"mode": "review_plan", "plan_id": first, "decision": "pending", "all": true})).assert_ok();
    let run = env.run(json!({"mode": "rollback_plan"}));
    run.assert_ok();
    assert_eq!(run.out("/plan_id"), &json!(second));
    env.stash.lib(|l| {
        assert!(l.scene_tag_names(ids[2]).is_empty(), "B is rolled back");
        assert_eq!(l.scene_tag_names(ids[0]), ["A"], "A is untouched");
    });
    let shown = env.run(json!({"mode": "show_plan", "plan_id": first}));
    assert_eq!(shown.out("/plan/status"), &json!("partially_applied"));
}

#[test]
fn a_second_apply_of_a_plan_being_applied_is_refused_and_sends_nothing() {
    let env = TestEnv::new();
    let (ids, plan_id) = killable_plan(&env);
    // Slow enough that the first run is still going while the others try.
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::from_secs(4)));
    let args = json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 2});
    std::thread::scope(|scope| {
        let first = scope.spawn(|| env.run(args.clone()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while env.stash.requests_named("BulkSceneUpdate").is_empty() {
            assert!(Instant::now() < deadline, "the first apply never sent its first request");
            std::thread::sleep(Duration::from_millis(10));
        }
        // As cron's `sync_scene_tags syncDryRun=false` would, while the user's apply is running.
        let sent = env.stash.requests_named("BulkSceneUpdate").len();
        let second = env.run(args.clone());
        let error = second.error.clone().unwrap_or_default();
        assert!(
            error.contains(&format!("plan {plan_id} is being applied by another run; wait for it to finish")),
            "{error}"
        );
        assert_eq!(env.stash.requests_named("BulkSceneUpdate").len(), sent, "the second run sent nothing");
        let dry = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id, "dry_run": true}));
        dry.assert_ok();
        let rollback = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id}));
        assert!(rollback.error.clone().unwrap_or_default().contains("by another run"), "{:?}", rollback.error);
        let first = first.join().expect("the first apply");
        first.assert_ok();
        assert_eq!(first.out("/resumed_batches"), &json!(0));
    });
    env.stash.clear_faults();
    assert_applied_once(&env, &ids, plan_id);
}

#[test]
fn an_applied_plan_exported_imports_as_a_new_draft_with_pending_changes() {
    let env = TestEnv::new();
    let ids = scenes(&env, 2);
    let (a, b) = env.stash.lib(|l| (l.add_tag("A"), l.add_tag("B")));
    let plan_id = import(
        &env,
        plan(vec![
            json!({"entity": "tag", "action": "CREATE", "value": "New"}),
            add_tag(ids[0], a),
            add_tag(ids[1], b),
            json!({"entity": "scene", "id": ids[1], "field": "tags", "action": "ADD", "value": {"created": 0}}),
        ]),
    );
    approve_all(&env, plan_id);
    refuse_second_bulk_update(&env);
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 1}));
    let export = |name: &str| {
        let file = env.root().join(name);
        env.run(json!({"mode": "export_plan", "plan_id": plan_id, "file": file.display().to_string()})).assert_ok();
        file.display().to_string()
    };
    let applied = export("applied.json");
    let statuses = std::fs::read_to_string(&applied).expect("reads");
    assert!(statuses.contains("\"applied\"") && statuses.contains("\"failed\""), "{statuses}");
    env.run(json!({"mode": "rollback_plan", "plan_id": plan_id})).assert_ok();
    let reverted = export("reverted.json");
    for path in [applied, reverted] {
        let run = env.run(json!({"mode": "import_plan", "file": path}));
        run.assert_ok();
        assert_ne!(run.out("/plan_id"), &json!(plan_id));
        assert_eq!(run.out("/plan/status"), &json!("draft"));
        assert_eq!(run.out("/plan/changes"), &json!({"pending": 4}), "{path}");
    }
}

#[test]
fn without_plan_id_every_plan_operation_takes_the_newest_plan_and_says_so() {
    let env = TestEnv::new();
    let ids = scenes(&env, 3);
    let tag = env.stash.lib(|l| l.add_tag("A"));
    import(&env, plan(vec![add_tag(ids[0], tag)]));
    let newest = import(&env, plan(ids.iter().map(|id| add_tag(*id, tag)).collect()));
    for mode in ["show_plan", "export_plan"] {
        let run = env.run(json!({"mode": mode}));
        run.assert_ok();
        assert_eq!(run.out("/plan_taken"), &json!("the newest plan"), "{mode}");
        assert!(run.logged_anywhere(&format!("No plan_id given: taking plan {newest}")), "{mode}");
    }
    // Change ids count across plans: the first plan has change 1, the newest 2, 3 and 4.
    let run = env.run(json!({"mode": "review_plan", "decision": "Approve", "change_ids": "1-3"}));
    run.assert_ok();
    assert_eq!(run.out("/plan_id"), &json!(newest));
    assert_eq!(run.out("/plan_taken"), &json!("the newest plan"));
    assert_eq!(run.out("/changed"), &json!(2), "2 and 3: change 1 is another plan's");
    // Confidences as the settings take them, in percent: the changes are 90 % sure.
    let none = env.run(json!({"mode": "review_plan", "decision": "reject", "min_confidence": 95}));
    assert_eq!(none.out("/changed"), &json!(0));
    let applied = env.run(json!({"mode": "apply_plan"}));
    applied.assert_ok();
    assert_eq!(applied.out("/plan_taken"), &json!("the newest plan with approved changes"));
    let given = env.run(json!({"mode": "show_plan", "plan_id": newest}));
    assert_eq!(given.out("/plan_taken"), &json!("plan_id"));
}

#[test]
fn an_argument_no_mode_takes_is_refused_before_anything_happens() {
    let env = TestEnv::new();
    let ids = scenes(&env, 1);
    let tag = env.stash.lib(|l| l.add_tag("A"));
    let plan_id = import(&env, plan(vec![add_tag(ids[0], tag)]));
    approve_all(&env, plan_id);
    let run = env.run(json!({"mode": "apply_plan", "dryrun": true}));
    assert_eq!(run.exit_code, Some(1));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.starts_with("apply_plan does not take `dryrun` (did you mean `dry_run`?); it takes plan_id, dry_run, batch_size, revision and the settings"), "{error}");
    assert_eq!(error.matches("dryrun").count(), 1, "said once: {error}");
    assert_eq!(mutations(&env), 0, "nothing was applied");
    let old = env.run(json!({"mode": "sync_scene_tags", "stashBoxEndpoint": "https://stashdb.org/graphql"}));
    assert_eq!(old.error.as_deref(), Some("the setting `stashBoxEndpoint` is called `syncBoxEndpoint` now"));
}

/// Stash refuses the second `bulkSceneUpdate` request (with `batch_size=1` one scene a request:
/// the first scene's ADD passes, the second's is refused).
fn refuse_second_bulk_update(env: &TestEnv) {
    env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::ZERO));
    env.stash.fail_next_named("BulkSceneUpdate", Fault::GraphqlError("refused by the test".into()));
}

#[test]
fn an_unreadable_journal_row_stops_the_apply_with_what_to_do_and_sends_nothing() {
    let env = TestEnv::new();
    let (ids, plan_id) = killable_plan(&env);
    // A batch left in flight whose request no longer reads: guessing what it sent could apply a
    // change twice or call a landed one failed.
    let db = rusqlite::Connection::open(env.db_path()).expect("opens");
    db.execute(
        "INSERT INTO plan_batches (plan_id, direction, request, state, started_at) VALUES (?1, 'apply', 'not json', 'sending', 't')",
        [plan_id],
    )
    .expect("journals");
    let batch = db.last_insert_rowid();
    db.execute("UPDATE plan_changes SET batch_id = ?1 WHERE plan_id = ?2", [batch, plan_id]).expect("links");
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    assert_eq!(run.exit_code, Some(1));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains(&format!("journal of interrupted request {batch}")), "{error}");
    assert!(error.contains("restore it from a backup"), "{error}");
    assert!(!error.contains('\n'), "one line: {error}");
    assert_eq!(mutations(&env), 0, "nothing was sent");
    env.stash.lib(|l| assert!(ids.iter().all(|id| l.scene_tag_names(*id) == ["B"])));
}

/// A mirrored library of `n` scenes, a plan adding tag "A" to all of them, approved.
fn mirrored_plan_adding_a_tag(env: &TestEnv, n: usize) -> (Vec<u64>, i64) {
    let ids = scenes(env, n);
    let a = env.stash.lib(|l| l.add_tag("A"));
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let plan_id = import(env, plan(ids.iter().map(|id| add_tag(*id, a)).collect()));
    approve_all(env, plan_id);
    env.stash.clear_requests();
    (ids, plan_id)
}

#[test]
fn apply_keeps_the_mirror_from_the_mutation_answers_and_reads_nothing_again() {
    let env = TestEnv::new();
    let (_, plan_id) = mirrored_plan_adding_a_tag(&env, 1200);
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    run.assert_ok();
    // 1200 scenes: 2 conflict checks (Stash's largest page is 1000 scenes), 3 bulk updates (500
    // scenes a request); then two counts prove nothing else changed, instead of re-reading the
    // 1200 scenes the apply just wrote.
    let finds = env.stash.requests_named("FindScenes");
    assert_eq!(env.stash.requests_named("BulkSceneUpdate").len(), 3);
    assert_eq!(finds.len(), 2 + 2, "conflict checks and two counts");
    assert_eq!(finds.iter().filter(|r| r.var("/filter/per_page") == Some(&json!(0))).count(), 2);
    assert!(run.logged(Level::Info, "nothing re-read"));
    assert_mirror_equals_stash(&env);
    // The watermark moved past the writes: the next sync copies only its second of overlap.
    let sync = env.run(json!({"mode": "incremental_sync"}));
    sync.assert_ok();
    assert!(sync.out("/scenes/copied").as_u64().is_some_and(|n| n < 500), "{}", sync.out("/scenes/copied"));
}

#[test]
fn an_edit_made_in_stash_during_the_apply_still_reaches_the_mirror() {
    let env = TestEnv::new();
    let (ids, plan_id) = mirrored_plan_adding_a_tag(&env, 1200);
    let other = env.stash.lib(|l| l.add_scene(Scene { title: Some("Not in the plan".into()), ..Scene::default() }));
    env.run(json!({"mode": "incremental_sync"})).assert_ok();
    env.stash.clear_requests();
    // The user edits a scene outside the plan between two of our writes.
    env.stash.before_nth("BulkSceneUpdate", 2, move |st| {
        st.library.edit_scene(other, |s| s.title = Some("Edited by the user".into()));
    });
    let run = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    run.assert_ok();
    assert!(run.logged(Level::Info, "Mirror caught up with what was written"), "the counts differ: read what changed");
    assert_mirror_equals_stash(&env);
    env.stash.lib(|l| assert!(ids.iter().all(|id| l.scene_tag_names(*id) == ["A"])));
}
