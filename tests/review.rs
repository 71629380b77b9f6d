//! Reviewing plans the way the StashHog page inside Stash does it (issue 10): views with names,
//! filters and a by-value summary, rejections that stay rejected, plans that do not pile up, a
//! preview that is exactly what apply sends, a revision an apply refuses to outrun, and the
//! stored outcome of a run — all through the real binary against the fakes.

use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::fake_stash::{Scene, StashId, VideoFile};
use crate::support::fake_stashbox::BoxScene;
use crate::support::runner::Level;

/// Three StashDB-linked scenes: all three get "4K Available" from StashDB, the first also
/// "Solo", the second "Outdoor". Returns the env, the scene ids and the local tag ids
/// (4K, Solo, Outdoor).
fn library() -> (TestEnv, Vec<u64>, [u64; 3]) {
    let env = TestEnv::with_stashbox();
    env.stash.config(|c| c.stash_boxes.iter_mut().for_each(|b| b.max_requests_per_minute = 100_000));
    env.set_settings(json!({"stashBoxRequestsPerMinute": 100000}));
    let endpoint = env.stashbox().endpoint();
    let [k4, solo, outdoor] = ["4K Available", "Solo", "Outdoor"].map(|name| env.stashbox().lib(|l| l.add_tag(name)));
    let tags = env.stash.lib(|l| [l.add_tag("4K Available"), l.add_tag("Solo"), l.add_tag("Outdoor")]);
    let scenes = [
        ("Poolside", "/media/Studio A/poolside.mp4", vec![k4.clone(), solo]),
        ("Beach Day", "/media/Beach/beach-day.mp4", vec![k4.clone(), outdoor]),
        ("Kitchen", "/media/Studio A/kitchen.mp4", vec![k4]),
    ];
    let ids = scenes
        .into_iter()
        .map(|(title, path, box_tags)| {
            let box_id = env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: box_tags, ..BoxScene::default() }));
            env.stash.lib(|l| {
                l.add_scene(Scene {
                    title: Some(title.into()),
                    files: vec![VideoFile::new(path, Vec::new())],
                    stash_ids: vec![StashId::new(&endpoint, &box_id)],
                    ..Scene::default()
                })
            })
        })
        .collect();
    (env, ids, tags)
}

/// A dry-run tag sync; returns its plan's id.
fn dry_sync(env: &TestEnv) -> i64 {
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    run.out("/plan_id").as_i64().expect("a plan")
}

fn show(env: &TestEnv, args: Value) -> Value {
    let mut input = json!({"mode": "show_plan"});
    input.as_object_mut().expect("object").extend(args.as_object().cloned().unwrap_or_default());
    let run = env.run(input);
    run.assert_ok();
    run.output.clone()
}

/// (scene title, tag name, status) of every change of a plan, sorted.
fn rows(env: &TestEnv, plan_id: i64) -> Vec<(String, String, String)> {
    let out = show(env, json!({"plan_id": plan_id, "per_page": 1000}));
    let mut rows: Vec<(String, String, String)> = out["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (text("title"), text("value_name"), text("status"))
        })
        .collect();
    rows.sort();
    rows
}

fn row(title: &str, tag: &str, status: &str) -> (String, String, String) {
    (title.to_owned(), tag.to_owned(), status.to_owned())
}

#[test]
fn a_dry_run_sync_shows_by_value_and_by_scene_with_names_and_points_to_the_page() {
    let (env, ids, [k4, solo, _]) = library();
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    let last = run.logs_at(Level::Info).last().map(|l| l.to_string()).unwrap_or_default();
    assert!(last.contains("StashHog page") && !last.contains("stashhog show_plan"), "{last}");
    let plan_id = run.out("/plan_id").as_i64().expect("a plan");

    let out = show(&env, json!({"plan_id": plan_id}));
    assert_eq!(out["plan"]["source"], "sync_scene_tags");
    assert_eq!(out["plan"]["mean_confidence"].as_f64().map(|m| m > 0.0), Some(true));
    assert_eq!(out["values"][0]["value_name"], "4K Available");
    assert_eq!(out["values"][0]["value"], json!(k4));
    assert_eq!(out["values"][0]["scenes"], 3);
    assert_eq!(out["values"][0]["counts"], json!({"pending": 3}));
    assert_eq!(out["fields"][0]["counts"], json!({"pending": 5}));
    assert_eq!(out["fields"][0]["action"], "add");

    let by_scene = show(&env, json!({"plan_id": plan_id, "view": "scenes", "per_page": 2}));
    assert_eq!(by_scene["matching"], 3, "scenes");
    let cards = by_scene["scenes"].as_array().cloned().unwrap_or_default();
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0]["scene_id"], json!(ids[0]));
    assert_eq!(cards[0]["title"], "Poolside");
    assert_eq!(cards[0]["path"], "/media/Studio A/poolside.mp4");
    let names: Vec<&str> =
        cards[0]["changes"].as_array().into_iter().flatten().filter_map(|c| c["value_name"].as_str()).collect();
    assert_eq!(names, ["4K Available", "Solo"]);

    // Filters: a value (as Stash's UI sends numbers: floats), text in a path, confidence.
    let solo_only = show(&env, json!({"plan_id": plan_id, "value": solo as f64}));
    assert_eq!(solo_only["matching"], 1);
    let beach = show(&env, json!({"plan_id": plan_id, "view": "scenes", "text": "BEACH"}));
    assert_eq!(beach["matching"], 1);
    assert_eq!(beach["scenes"][0]["title"], "Beach Day");
    let none = show(&env, json!({"plan_id": plan_id, "min_confidence": 0.5, "max_confidence": 0.6}));
    assert_eq!(none["matching"], 0);
    let add_only = show(&env, json!({"plan_id": plan_id, "action": "add", "field": "tags"}));
    assert_eq!(add_only["matching"], 5);
}

#[test]
fn a_value_rejected_everywhere_is_not_proposed_again_and_approvals_carry_over() {
    let (env, ids, [k4, solo, _]) = library();
    let first = dry_sync(&env);
    let wrong = env.run(json!({"mode": "review_plan", "plan_id": first, "decision": "approve", "all": true,
                               "remember": "everywhere"}));
    assert!(wrong.error.clone().unwrap_or_default().contains("goes with decision=reject"), "{:?}", wrong.error);
    let view = env.run(json!({"mode": "show_plan", "plan_id": first, "view": "grid"}));
    assert!(view.error.clone().unwrap_or_default().contains("`view` must be changes or scenes"), "{:?}", view.error);
    // By name, as a person types it at a terminal (the page sends the id).
    let review = env.run(json!({"mode": "review_plan", "plan_id": first, "decision": "reject",
                                "value": "4k available", "remember": "everywhere"}));
    review.assert_ok();
    assert_eq!(review.out("/changed"), &json!(3));
    let revision = review.out("/plan/revision").as_i64().unwrap_or_default();
    assert!(revision > 0);
    let approve = env.run(json!({"mode": "review_plan", "plan_id": first, "decision": "approve",
                                 "scene_ids": format!("{}-{}", ids[0], ids[0]), "status": "pending"}));
    approve.assert_ok();
    assert_eq!(approve.out("/changed"), &json!(1), "only the Solo change of scene 1 was still open");

    let rejections = env.run(json!({"mode": "list_rejections"}));
    rejections.assert_ok();
    let list = rejections.out("/rejections").as_array().cloned().unwrap_or_default();
    let everywhere: Vec<&Value> = list.iter().filter(|r| r["scope"] == "everywhere").collect();
    assert_eq!(everywhere.len(), 1, "{list:?}");
    assert_eq!(everywhere[0]["value_name"], "4K Available");
    assert_eq!(everywhere[0]["action"], "add");
    assert_eq!(list.iter().filter(|r| r["scope"] == "scene").count(), 3);
    assert!(list.iter().any(|r| r["scene_title"] == "Poolside"));

    // The second sync proposes neither 4K again nor a duplicate: it takes over the old plan.
    let second = dry_sync(&env);
    assert_ne!(second, first);
    assert_eq!(rows(&env, second), [row("Beach Day", "Outdoor", "pending"), row("Poolside", "Solo", "approved"),]);
    let old = show(&env, json!({"plan_id": first}));
    assert_eq!(old["plan"]["status"], "superseded");
    assert_eq!(old["plan"]["changes"], json!({"rejected": 3, "superseded": 2}));
    let plans = env.run(json!({"mode": "list_plans"}));
    assert_eq!(plans.out("/plans/0/id"), &json!(second));
    assert_eq!(plans.out("/plans/1/status"), &json!("superseded"));

    // Forgetting the rejection everywhere: each scene's own rejection still holds; forgetting
    // those too lets the next sync propose 4K again.
    env.run(json!({"mode": "remove_rejection", "id": everywhere[0]["id"]})).assert_ok();
    let third = dry_sync(&env);
    assert_eq!(rows(&env, third), [row("Beach Day", "Outdoor", "pending"), row("Poolside", "Solo", "approved"),]);
    let left = env.run(json!({"mode": "list_rejections"})).out("/rejections").clone();
    for r in left.as_array().into_iter().flatten() {
        env.run(json!({"mode": "remove_rejection", "id": r["id"]})).assert_ok();
    }
    let gone = env.run(json!({"mode": "remove_rejection", "id": 999}));
    assert!(gone.error.clone().unwrap_or_default().contains("no rejection 999"), "{:?}", gone.error);
    let fourth = dry_sync(&env);
    assert_eq!(show(&env, json!({"plan_id": fourth, "value": k4}))["matching"], 3);
    assert_eq!(show(&env, json!({"plan_id": fourth, "value": solo, "status": "approved"}))["matching"], 1);
}

#[test]
fn the_preview_is_exactly_what_apply_sends_and_a_moved_revision_is_refused() {
    let (env, ids, [k4, _, _]) = library();
    let plan_id = dry_sync(&env);
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    env.stash.clear_requests();
    let preview = env.run(json!({"mode": "preview_apply", "plan_id": plan_id}));
    preview.assert_ok();
    assert!(env.stash.requests_named("BulkSceneUpdate").is_empty(), "a preview sends nothing");
    // Each scene's tags in one update, all three aliased in one request.
    assert_eq!(preview.out("/requests"), &json!([{"operation": "BulkSceneUpdate", "count": 1}]));
    assert_eq!(preview.out("/scenes"), &json!(3));
    assert_eq!(preview.out("/changes"), &json!(5));
    let revision = preview.out("/revision").as_i64().expect("a revision");

    // The user rejects one more change after the preview: the old revision is refused.
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "reject", "value": k4,
                   "scene_ids": ids[2].to_string()}))
        .assert_ok();
    let refused = env.run(json!({"mode": "apply_plan", "plan_id": plan_id, "revision": revision, "request_id": "r-1"}));
    assert!(
        refused.error.clone().unwrap_or_default().contains("changed since it was previewed"),
        "{:?}",
        refused.error
    );
    assert!(env.stash.requests_named("BulkSceneUpdate").is_empty(), "refused: nothing sent");
    let summary = env.run(json!({"mode": "run_summary", "request_id": "r-1"}));
    summary.assert_ok();
    assert_eq!(summary.out("/run/status"), &json!("refused"));
    assert_eq!(summary.out("/run/mode"), &json!("apply_plan"));

    let preview = env.run(json!({"mode": "preview_apply", "plan_id": plan_id}));
    let would_send: Vec<Value> = preview.out("/would_send").as_array().cloned().unwrap_or_default();
    let revision = preview.out("/revision").clone();
    env.stash.clear_requests();
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id, "revision": revision, "request_id": "r-2"})).assert_ok();
    let sent: Vec<Value> = env
        .stash
        .requests()
        .iter()
        .filter(|r| r.operation_name.as_deref().is_some_and(|n| n.ends_with("Update") || n.ends_with("Create")))
        .map(|r| json!({"operation": r.operation_name, "variables": r.variables}))
        .collect();
    assert_eq!(sent, would_send, "the preview is exactly what apply sent");
    let summary = env.run(json!({"mode": "run_summary", "request_id": "r-2"}));
    assert_eq!(summary.out("/run/status"), &json!("ok"));
    assert_eq!(summary.out("/run/summary/applied"), &json!(4));
}

#[test]
fn run_summary_after_an_apply_with_a_conflict_names_what_stash_holds_now() {
    let (env, ids, _) = library();
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let plan = json!({"version": 1, "name": "titles", "changes": [
        {"entity": "scene", "id": ids[0], "field": "title", "action": "SET", "value": "Pool Party", "before": "Poolside"},
        {"entity": "scene", "id": ids[1], "field": "title", "action": "SET", "value": "Beach", "before": "Beach Day"},
    ]});
    let plan_id = env.run(json!({"mode": "import_plan", "plan": plan})).out("/plan_id").clone();
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    env.stash.lib(|l| l.edit_scene(ids[0], |s| s.title = Some("My own title".into())));
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id, "request_id": "apply-7"})).assert_ok();

    let summary = env.run(json!({"mode": "run_summary", "request_id": "apply-7"}));
    summary.assert_ok();
    let run = summary.out("/run");
    assert_eq!(run["status"], "ok");
    assert_eq!(run["summary"]["applied"], 1);
    assert_eq!(run["summary"]["conflicted"], 1);
    let conflict = &run["summary"]["conflicts"][0];
    // The scene as it is called now (the mirror caught up after the apply).
    assert_eq!(conflict["title"], "My own title", "{conflict}");
    assert_eq!(conflict["scene_id"], json!(ids[0]));
    assert_eq!(conflict["value_name"], "Pool Party");
    assert_eq!(conflict["stash_now"], "My own title");
    // The same conflict on the change itself, for the plan's view.
    let shown = show(&env, json!({"plan_id": plan_id, "status": "skipped_conflict"}));
    assert_eq!(shown["changes"][0]["stash_now"], "My own title");
    let by_id = env.run(json!({"mode": "run_summary", "run_id": run["id"]}));
    assert_eq!(by_id.out("/run/id"), &run["id"]);
    assert_eq!(env.run(json!({"mode": "run_summary", "request_id": "never"})).out("/run"), &Value::Null);
}

#[test]
fn review_takes_id_ranges_and_approving_a_change_approves_what_it_needs_created() {
    let env = TestEnv::new();
    let ids = env.stash.lib(|l| l.add_scenes(3, |i| Scene { title: Some(format!("Scene {i}")), ..Scene::default() }));
    let plan = json!({"version": 1, "name": "p", "changes": [
        {"entity": "tag", "action": "CREATE", "value": "Brand new"},
        {"entity": "scene", "id": ids[0], "field": "tags", "action": "ADD", "value": {"created": 0}},
        {"entity": "scene", "id": ids[1], "field": "tags", "action": "ADD", "value": {"created": 0}},
        {"entity": "scene", "id": ids[2], "field": "tags", "action": "ADD", "value": {"created": 0}},
    ]});
    let plan_id = env.run(json!({"mode": "import_plan", "plan": plan})).out("/plan_id").clone();
    let out = show(&env, json!({"plan_id": plan_id, "field": "tags"}));
    let first = out["changes"][0]["id"].as_i64().unwrap_or_default();
    assert_eq!(out["changes"][0]["value_name"], "Brand new (new)");
    assert_eq!(out["changes"][0]["title"], "Scene 0", "asked of Stash: the mirror was never synced");
    let review = env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve",
                                "change_ids": format!("{first}-{}", first + 1)}));
    review.assert_ok();
    assert_eq!(review.out("/plan/changes"), &json!({"approved": 3, "pending": 1}), "the CREATE came along");
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
    env.stash.lib(|l| {
        assert_eq!(l.scene_tag_names(ids[0]), ["Brand new"]);
        assert!(l.scene_tag_names(ids[2]).is_empty());
    });
    // Rejecting what a plan would create rejects what needs it.
    let again = env.run(json!({"mode": "import_plan", "plan": plan})).out("/plan_id").clone();
    let reject = env.run(json!({"mode": "review_plan", "plan_id": again, "decision": "reject", "action": "create"}));
    assert_eq!(reject.out("/plan/changes"), &json!({"rejected": 4}));
    let bad = env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "change_ids": "9-3"}));
    assert!(bad.error.clone().unwrap_or_default().contains("change_ids"), "{:?}", bad.error);
}

#[test]
fn a_partly_applied_plan_stays_for_rollback_when_the_next_sync_proposes_the_rest() {
    let (env, _, [_, solo, _]) = library();
    let first = dry_sync(&env);
    env.run(json!({"mode": "review_plan", "plan_id": first, "decision": "approve", "value": solo})).assert_ok();
    env.run(json!({"mode": "apply_plan", "plan_id": first})).assert_ok();
    let second = dry_sync(&env);
    assert_eq!(
        rows(&env, second),
        [
            row("Beach Day", "4K Available", "pending"),
            row("Beach Day", "Outdoor", "pending"),
            row("Kitchen", "4K Available", "pending"),
            row("Poolside", "4K Available", "pending"),
        ]
    );
    let old = show(&env, json!({"plan_id": first}));
    assert_eq!(old["plan"]["status"], "applied");
    assert_eq!(old["plan"]["changes"], json!({"applied": 1, "pending": 4}), "an applied plan is left as it is");
    let rollback = env.run(json!({"mode": "rollback_plan", "plan_id": first}));
    rollback.assert_ok();
    assert_eq!(rollback.out("/reverted"), &json!(1));
}

#[test]
fn the_page_downloads_a_plan_as_text_and_uploads_it_back() {
    let (env, _, _) = library();
    let plan_id = dry_sync(&env);
    let export = env.run(json!({"mode": "export_plan", "plan_id": plan_id}));
    export.assert_ok();
    assert_eq!(export.out("/file_name"), &json!(format!("stashhog-plan-{plan_id}.json")));
    let text = export.out("/file").as_str().unwrap_or_default().to_owned();
    let import = env.run(json!({"mode": "import_plan", "file": text}));
    import.assert_ok();
    let copy = import.out("/plan_id").as_i64().unwrap_or_default();
    assert_eq!(rows(&env, copy), rows(&env, plan_id));
    assert_eq!(import.out("/plan/source"), &json!("import_plan"));
}
