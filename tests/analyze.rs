//! Analyze: the detectors' conventions through the real binary against the fake Stash, the
//! plan they make, and its whole life — review, apply, roll back — plus the quality floor on
//! the labelled evaluation set.

use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::evaluation;
use crate::support::fake_ai::{self, Answer, FakeAi};
use crate::support::fake_stash::{Performer, Scene, Studio, Tag, VideoFile};

/// A scene with one file at `path` (1080 lines, 10 minutes, 30 fps unless changed).
fn at(path: &str) -> Scene {
    Scene { files: vec![VideoFile::new(path, vec![])], ..Scene::default() }
}

/// A scene with one file at `path` whose size Stash has not measured.
fn unmeasured(path: &str) -> Scene {
    Scene { files: vec![VideoFile { width: 0, height: 0, ..VideoFile::new(path, vec![]) }], ..Scene::default() }
}

/// Ids of the library every test starts from.
struct Lib {
    sean_cody: u64,
    colt: u64,
    brent: u64,
    jay: u64,
    outdoor: u64,
    hd: u64,
}

fn library(env: &TestEnv) -> Lib {
    env.stash.lib(|l| {
        let sean_cody =
            l.insert_studio(Studio { name: "Sean Cody".into(), aliases: vec!["SC".into()], ..Studio::default() });
        let colt = l.add_studio("Colt");
        l.add_studio("Men.com");
        let brent = l.insert_performer(Performer {
            name: "Brent Corrigan".into(),
            alias_list: vec!["The Kid".into()],
            ..Performer::default()
        });
        let jay = l.add_performer("Jay Roberts");
        l.add_performer("Ashley Lane");
        l.add_performer("Ashlee Lane");
        let outdoor = l.add_tag("Outdoor");
        let hd = l.add_tag("1080p");
        l.insert_tag(Tag { name: "Pool".into(), ignore_auto_tag: true, ..Tag::default() });
        Lib { sean_cody, colt, brent, jay, outdoor, hd }
    })
}

/// Runs `analyze` with `args` and returns its output.
fn analyze(env: &TestEnv, args: Value) -> Value {
    let mut input = json!({"mode": "analyze"});
    for (k, v) in args.as_object().cloned().unwrap_or_default() {
        input[k] = v;
    }
    let run = env.run(input);
    run.assert_ok();
    run.output.clone()
}

/// One change of a plan, as `show_plan` lists it.
#[derive(Clone, Debug)]
struct Change {
    scene: u64,
    field: String,
    action: String,
    value: Value,
    status: String,
}

/// The plan's changes.
fn changes(env: &TestEnv, plan_id: &Value) -> Vec<Change> {
    let run = env.run(json!({"mode": "show_plan", "plan_id": plan_id, "per_page": 10000}));
    run.assert_ok();
    run.out("/changes")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| Change {
            scene: c["entity_id"].as_u64().unwrap_or(0),
            field: c["field"].as_str().unwrap_or_default().to_owned(),
            action: c["action"].as_str().unwrap_or_default().to_ascii_uppercase(),
            value: c["value"].clone(),
            status: c["status"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

fn values(changes: &[Change], scene: u64, field: &str) -> Vec<Value> {
    changes.iter().filter(|c| c.scene == scene && c.field == field).map(|c| c.value.clone()).collect()
}

#[test]
fn a_studio_folder_names_studio_performers_and_tags_into_a_plan() {
    let env = TestEnv::new();
    let lib = library(&env);
    let scene = env.stash.lib(|l| {
        l.add_scene(Scene {
            title: Some("Outdoor fun".into()),
            ..at("/Studios/Sean Cody/2023/Brent Corrigan & Jay Roberts [1080p].mp4")
        })
    });
    let out = analyze(&env, json!({}));
    assert_eq!(out["scenes_analyzed"], json!(1));
    let all = changes(&env, &out["plan_id"]);
    assert_eq!(values(&all, scene, "studio"), [json!(lib.sean_cody)]);
    assert_eq!(values(&all, scene, "performers"), [json!(lib.brent), json!(lib.jay)]);
    assert_eq!(values(&all, scene, "tags"), [json!(lib.outdoor), json!(lib.hd)]);
    assert!(all.iter().all(|c| c.status == "pending"), "nothing is approved unless asked");
    assert_eq!(out["by_field"], json!({"performers": 2, "studio": 1, "tags": 2}));
    let plan = env.run(json!({"mode": "show_plan", "plan_id": out["plan_id"]}));
    assert_eq!(plan.out("/plan/source"), &json!("analyze"));
    let reasons: Vec<String> =
        plan.out("/changes").as_array().into_iter().flatten().map(|c| c["reason"].to_string()).collect();
    assert!(reasons.iter().any(|r| r.contains("folder \\\"Sean Cody\\\"")), "{reasons:?}");
}

#[test]
fn each_file_name_convention_is_read() {
    let env = TestEnv::new();
    let lib = library(&env);
    env.set_settings(json!({"studioRules": r"^CF\d+ => Colt"}));
    let (joined, titled, release, camel, coded, alias, folder) = env.stash.lib(|l| {
        (
            l.add_scene(at("/dl/seancody - 2023-12-28.mp4")),
            l.add_scene(Scene { title: Some("Poolside with The Kid".into()), ..at("/dl/clip_0001.mp4") }),
            l.add_scene(at("/rel/SeanCody.23.01.05.Brent.Corrigan.And.Jay.Roberts.XXX.1080p.mp4")),
            l.add_scene(at("/dl/BrentCorrigan_JayRoberts.mp4")),
            l.add_scene(at("/dl/CF1234.mp4")),
            l.add_scene(at("/SC/clip.mp4")),
            l.add_scene(at("/Performers/Jay Roberts/solo 01.mp4")),
        )
    });
    let out = analyze(&env, json!({"analyzeTags": false}));
    let all = changes(&env, &out["plan_id"]);
    assert_eq!(values(&all, joined, "studio"), [json!(lib.sean_cody)]);
    assert_eq!(values(&all, titled, "performers"), [json!(lib.brent)], "an alias in the title");
    assert_eq!(values(&all, release, "studio"), [json!(lib.sean_cody)]);
    assert_eq!(values(&all, release, "performers"), [json!(lib.brent), json!(lib.jay)]);
    assert_eq!(values(&all, camel, "performers"), [json!(lib.brent), json!(lib.jay)]);
    assert_eq!(values(&all, coded, "studio"), [json!(lib.colt)], "the user's rule");
    assert_eq!(values(&all, alias, "studio"), [json!(lib.sean_cody)]);
    assert_eq!(values(&all, folder, "performers"), [json!(lib.jay)]);
    assert!(all.iter().all(|c| c.field != "tags"), "the tag detector was switched off");
}

#[test]
fn child_studios_upper_folders_brackets_and_names_with_separators_are_read() {
    let env = TestEnv::new();
    let (blacked, jane, jessie_b, jones, dp) = env.stash.lib(|l| {
        let network = l.add_studio("VIXEN Media Group");
        let blacked = l.insert_studio(Studio { name: "Blacked".into(), parent_id: Some(network), ..Studio::default() });
        l.add_performer("Jessie");
        let tag = l.insert_tag(Tag { name: "Double Penetration".into(), aliases: vec!["DP".into()], ..Tag::default() });
        (blacked, l.add_performer("Jane Doe"), l.add_performer("Jessie B"), l.add_performer("Mr and Mrs Jones"), tag)
    });
    let (nested, deep, bracket, underscore, compound, organized) = env.stash.lib(|l| {
        (
            l.add_scene(unmeasured("/Networks/VIXEN Media Group/BLACKED/BLACKED - Late Night.mp4")),
            l.add_scene(unmeasured("/media/Jane Doe/2021/1080p/clip_0412.mp4")),
            l.add_scene(unmeasured("/dl/Scene.2020-04-19.[Jane Doe].mp4")),
            l.add_scene(unmeasured("/dl/Jessie_B solo - DP.mp4")),
            l.add_scene(unmeasured("/dl/Mr and Mrs Jones - Weekend.mp4")),
            l.add_scene(Scene { organized: true, ..unmeasured("/dl/Jane Doe - DP.mp4") }),
        )
    });
    let out = analyze(&env, json!({}));
    let all = changes(&env, &out["plan_id"]);
    assert_eq!(values(&all, nested, "studio"), [json!(blacked)], "the child, not its network");
    assert_eq!(values(&all, deep, "performers"), [json!(jane)], "a folder three levels up");
    assert_eq!(values(&all, bracket, "performers"), [json!(jane)]);
    assert_eq!(values(&all, underscore, "performers"), [json!(jessie_b)], "Jessie B, not also Jessie");
    assert_eq!(values(&all, underscore, "tags"), [json!(dp)], "a two-letter alias only one tag has");
    assert_eq!(values(&all, compound, "performers"), [json!(jones)]);
    assert!(all.iter().all(|c| c.scene != organized), "organized scenes are left alone");
    let plan = env.run(json!({"mode": "show_plan", "plan_id": out["plan_id"], "per_page": 100}));
    let reasons: Vec<String> =
        plan.out("/changes").as_array().into_iter().flatten().map(|c| c["reason"].to_string()).collect();
    assert!(reasons.iter().any(|r| r.contains("folder three levels up")), "{reasons:?}");
}

#[test]
fn joins_across_breaks_boundaries_and_glued_words_propose_nothing() {
    let env = TestEnv::new();
    env.stash.lib(|l| {
        l.add_studio("My Studio");
        l.add_performer("Kenzie Lee");
        l.add_performer("Performer Name");
        l.add_scene(unmeasured("/dl/mys tudio - clip 4.mp4"));
        l.add_scene(unmeasured("/dl/McKenzieLee - Pool.mp4"));
        l.add_scene(unmeasured("/dl/aaaPerformer Name.mp4"));
        l.add_scene(unmeasured("/dl/performer(name.mp4"));
        l.add_scene(unmeasured("/dl/performer,name.mp4"));
    });
    let out = analyze(&env, json!({}));
    assert_eq!(out["plan_id"], Value::Null, "{out}");
}

#[test]
fn ties_look_alikes_and_words_inside_words_propose_nothing() {
    let env = TestEnv::new();
    library(&env);
    env.stash.lib(|l| {
        l.add_scene(unmeasured("/dl/Colt vs Men.com.mp4"));
        l.add_scene(unmeasured("/dl/Ashlea Lane - solo.mp4"));
        l.add_scene(unmeasured("/dl/Colton Ford.mp4"));
        l.add_scene(unmeasured("/dl/Pool day.mp4"));
    });
    let out = analyze(&env, json!({}));
    assert_eq!(out["plan_id"], Value::Null, "{out}");
    assert_eq!(out["changes"], json!(0));
}

#[test]
fn a_scene_that_already_has_the_value_gets_no_change() {
    let env = TestEnv::new();
    let lib = library(&env);
    env.stash.lib(|l| {
        l.add_scene(Scene {
            studio_id: Some(lib.colt),
            performer_ids: vec![lib.brent],
            tag_ids: vec![lib.hd],
            ..at("/Studios/Sean Cody/Brent Corrigan.mp4")
        })
    });
    let out = analyze(&env, json!({}));
    assert_eq!(out["plan_id"], Value::Null, "a set studio is never replaced: {out}");
}

#[test]
fn organized_scenes_are_left_alone_unless_named_and_the_scope_narrows() {
    let env = TestEnv::new();
    let lib = library(&env);
    let (organized, outdoor, other) = env.stash.lib(|l| {
        let organized = l.add_scene(Scene { organized: true, ..at("/Studios/Colt/a.mp4") });
        let outdoor = l.add_scene(Scene { tag_ids: vec![lib.outdoor], ..at("/Studios/Colt/b.mp4") });
        let other = l.add_scene(at("/Elsewhere/Colt/c.mp4"));
        (organized, outdoor, other)
    });
    // Each run's own proposals: its plan is deleted after, so the next run has none to take over.
    let scenes = |out: &Value| -> Vec<u64> {
        let mut ids: Vec<u64> = changes(&env, &out["plan_id"]).iter().map(|c| c.scene).collect();
        ids.dedup();
        env.run(json!({"mode": "delete_plan", "plan_id": out["plan_id"]})).assert_ok();
        ids
    };
    assert_eq!(scenes(&analyze(&env, json!({}))), [outdoor, other]);
    assert_eq!(scenes(&analyze(&env, json!({"scene_ids": organized.to_string()}))), [organized]);
    assert_eq!(scenes(&analyze(&env, json!({"path": "/studios/"}))), [outdoor]);
    assert_eq!(scenes(&analyze(&env, json!({"tag": "outdoor"}))), [outdoor]);
    assert_eq!(scenes(&analyze(&env, json!({"limit": 1}))), [outdoor]);
    let run = env.run(json!({"mode": "analyze", "tag": "No such tag"}));
    assert!(run.error.clone().unwrap_or_default().contains("no tag \"No such tag\""), "{:?}", run.error);
}

#[test]
fn since_last_analyzes_only_what_changed_since_the_last_analysis() {
    let env = TestEnv::new();
    library(&env);
    let ids = env.stash.lib(|l| vec![l.add_scene(at("/Studios/Colt/a.mp4")), l.add_scene(at("/Studios/Colt/b.mp4"))]);
    assert_eq!(analyze(&env, json!({"since_last": true}))["scenes_analyzed"], json!(2), "never analyzed: all");
    assert_eq!(analyze(&env, json!({"since_last": true}))["scenes_analyzed"], json!(0));
    env.stash.lib(|l| l.edit_scene(ids[1], |s| s.title = Some("Edited".into())));
    assert_eq!(analyze(&env, json!({"since_last": true}))["scenes_analyzed"], json!(1));
}

#[test]
fn details_are_cleaned_and_filled_from_the_template() {
    let env = TestEnv::new();
    let lib = library(&env);
    let (html, empty) = env.stash.lib(|l| {
        let html = l.add_scene(Scene { details: Some("<p>Hot &amp; sunny.<br>Part two</p>".into()), ..at("/x/a.mp4") });
        let empty = l.add_scene(Scene { studio_id: Some(lib.sean_cody), ..at("/x/Brent Corrigan.mp4") });
        (html, empty)
    });
    env.set_settings(json!({"detailsTemplate": "A {studio} production featuring {performers}."}));
    let all = changes(&env, &analyze(&env, json!({"analyzeTags": false}))["plan_id"]);
    assert_eq!(values(&all, html, "details"), [json!("Hot & sunny.\nPart two")]);
    assert_eq!(values(&all, empty, "details"), [json!("A Sean Cody production featuring Brent Corrigan.")]);
}

#[test]
fn the_thresholds_drop_unsure_changes_and_pre_approve_sure_ones() {
    let env = TestEnv::new();
    let lib = library(&env);
    let scene = env.stash.lib(|l| l.add_scene(at("/Studios/Sean Cody/Brent Corigan - Outdoor.mp4")));
    env.set_settings(json!({"autoApproveConfidence": 0.9, "analyzeTags": false}));
    let all = changes(&env, &analyze(&env, json!({}))["plan_id"]);
    let status = |field: &str| all.iter().find(|c| c.scene == scene && c.field == field).map(|c| c.status.clone());
    assert_eq!(status("studio").as_deref(), Some("approved"), "0.95 ≥ 0.9");
    assert_eq!(status("performers").as_deref(), Some("pending"), "a close spelling (0.8) waits for review");
    assert_eq!(values(&all, scene, "performers"), [json!(lib.brent)]);
    let out = analyze(&env, json!({"analysisMinConfidence": 85}));
    let all = changes(&env, &out["plan_id"]);
    assert!(values(&all, scene, "performers").is_empty(), "below the minimum: not proposed");
}

#[test]
fn thresholds_typed_as_percent_on_stash_settings_page_work_as_old_fractions_did() {
    let env = TestEnv::new();
    let lib = library(&env);
    let scene = env.stash.lib(|l| l.add_scene(at("/Studios/Sean Cody/Brent Corigan - Outdoor.mp4")));
    env.set_settings(json!({"analysisAutoApproveConfidence": 90, "analyzeTags": false}));
    let all = changes(&env, &analyze(&env, json!({}))["plan_id"]);
    let status = |field: &str| all.iter().find(|c| c.scene == scene && c.field == field).map(|c| c.status.clone());
    assert_eq!(status("studio").as_deref(), Some("approved"), "95 % ≥ 90 %");
    assert_eq!(values(&all, scene, "performers"), [json!(lib.brent)]);
    env.set_settings(json!({"analysisMinConfidence": 85, "analyzeTags": false}));
    let all = changes(&env, &analyze(&env, json!({}))["plan_id"]);
    assert!(values(&all, scene, "performers").is_empty(), "80 % is below a saved minimum of 85 %");
}

#[test]
fn a_malformed_studio_rule_fails_the_run_naming_the_setting() {
    let env = TestEnv::new();
    library(&env);
    env.set_settings(json!({"studioRules": "CF( => Colt"}));
    let run = env.run(json!({"mode": "analyze"}));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("studio rules") && error.contains("CF("), "{error}");
}

#[test]
fn analyze_review_apply_and_roll_back_through_stash() {
    let env = TestEnv::new();
    let lib = library(&env);
    let hooks = env.enable_hooks();
    let scene = env.stash.lib(|l| l.add_scene(at("/Studios/Sean Cody/Brent Corrigan - Outdoor.mp4")));
    let out = analyze(&env, json!({}));
    let plan_id = out["plan_id"].clone();
    assert_eq!(out["changes"], json!(4), "{out}");

    // Approve all but the tag the user disagrees with.
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    let hd_change = changes(&env, &plan_id).into_iter().position(|c| c.value == json!(lib.hd)).expect("1080p proposed");
    let change_id =
        env.run(json!({"mode": "show_plan", "plan_id": plan_id})).out(&format!("/changes/{hd_change}/id")).clone();
    env.run(
        json!({"mode": "review_plan", "plan_id": plan_id, "decision": "reject", "change_ids": change_id.to_string()}),
    )
    .assert_ok();

    env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
    env.stash.lib(|l| {
        let s = l.scene(scene).expect("scene");
        assert_eq!(s.studio_id, Some(lib.sean_cody));
        assert_eq!(s.performer_ids, [lib.brent]);
        assert_eq!(s.tag_ids, [lib.outdoor], "the rejected tag stays off");
    });
    assert!(!hooks.lock().map(|h| h.is_empty()).unwrap_or(true), "Stash ran our hook inside the writes");

    // Analyzing again proposes nothing: the scene has it all now (the hook refreshed the mirror).
    let again = analyze(&env, json!({}));
    assert_eq!(again["changes"], json!(1), "only the rejected 1080p again: {again}");

    env.run(json!({"mode": "rollback_plan", "plan_id": plan_id})).assert_ok();
    env.stash.lib(|l| {
        let s = l.scene(scene).expect("scene");
        assert_eq!((s.studio_id, s.performer_ids.clone(), s.tag_ids.clone()), (None, vec![], vec![]));
    });
    let _ = lib.jay;
}

#[test]
fn the_summary_counts_by_field_and_band_and_lists_unmatched_names() {
    let env = TestEnv::new();
    library(&env);
    env.stash.lib(|l| {
        l.add_scene(at("/dl/Kyle Ryder & Brent Corrigan.mp4"));
        l.add_scene(at("/dl/Kyle Ryder - solo.mp4"));
    });
    let out = analyze(&env, json!({"analyzeTags": false}));
    assert_eq!(out["by_confidence"], json!({"0.95+": 1}));
    assert_eq!(out["top_unmatched_names"][0], json!({"name": "Kyle Ryder", "scenes": 2}));
}

#[test]
fn unknown_names_stay_counted_unless_create_missing_performers_is_on() {
    let env = TestEnv::new();
    library(&env);
    env.stash.lib(|l| l.add_scene(at("/media/Performers/Kyle Ryder/Poolside.mp4")));
    let out = analyze(&env, json!({"analyzeTags": false, "analyzeDetails": false}));
    assert_eq!(out["plan_id"], Value::Null, "off by default: nothing proposed");
    assert_eq!(out["new_performers"], json!([]));
    assert_eq!(out["top_unmatched_names"][0], json!({"name": "Kyle Ryder", "scenes": 1}));
}

#[test]
fn a_creator_folder_becomes_one_new_performer_applied_and_rolled_back_through_stash() {
    let env = TestEnv::new();
    let lib = library(&env);
    let (a, b, loose, known) = env.stash.lib(|l| {
        (
            l.add_scene(at("/media/Performers/Kyle Ryder/2023/Poolside.mp4")),
            l.add_scene(at("/media/Performers/Kyle Ryder/beach.mp4")),
            l.add_scene(at("/media/Downloads/Dale Cooper - Solo.mp4")),
            l.add_scene(at("/media/Creators/Jay Roberts/clip.mp4")),
        )
    });
    env.set_settings(json!({"createMissingPerformers": true, "autoApproveConfidence": 0.9,
                            "analyzeTags": false, "analyzeDetails": false}));
    let out = analyze(&env, json!({}));
    assert_eq!(out["new_performers"], json!(["Kyle Ryder"]), "{out}");
    assert_eq!(out["top_unmatched_names"], json!([{"name": "Dale Cooper", "scenes": 1}]), "no creator folder");
    let plan_id = out["plan_id"].clone();
    let all = changes(&env, &plan_id);
    let creates: Vec<_> = all.iter().filter(|c| c.action == "CREATE").collect();
    assert_eq!(creates.len(), 1, "one CREATE for both scenes: {all:?}");
    assert_eq!((creates[0].value.clone(), creates[0].status.as_str()), (json!("Kyle Ryder"), "pending"), "0.75 < 0.9");
    let create_id =
        env.run(json!({"mode": "show_plan", "plan_id": plan_id, "field": "name"})).out("/changes/0/id").clone();
    for scene in [a, b] {
        assert_eq!(values(&all, scene, "performers"), [json!({"created": create_id})], "scene {scene}");
    }
    assert!(values(&all, loose, "performers").is_empty());
    assert_eq!(values(&all, known, "performers"), [json!(lib.jay)], "a known name is linked, not created");

    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
    let kyle = env.stash.lib(|l| l.performer_by_name("Kyle Ryder").map(|p| p.id)).expect("created in Stash");
    env.stash.lib(|l| {
        assert_eq!(l.scene(a).map(|s| s.performer_ids.clone()), Some(vec![kyle]));
        assert_eq!(l.scene(b).map(|s| s.performer_ids.clone()), Some(vec![kyle]));
    });
    assert_eq!(env.stash.requests_named("PerformerCreate").len(), 1);

    // Rolling back unlinks; the performer stays unless asked, then goes once nothing uses it.
    let kept = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id}));
    kept.assert_ok();
    assert_eq!(kept.out("/created_kept"), &json!([{"entity": "performer", "id": kyle, "name": "Kyle Ryder"}]));
    env.stash.lib(|l| {
        assert!(l.scene(a).is_some_and(|s| s.performer_ids.is_empty()));
        assert!(l.performer_by_name("Kyle Ryder").is_some());
    });
    let deleted = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id, "delete_created": true}));
    deleted.assert_ok();
    assert_eq!(deleted.out("/created_deleted"), &json!([{"entity": "performer", "id": kyle, "name": "Kyle Ryder"}]));
    assert_eq!(deleted.out("/plan_status"), &json!("rolled_back"));
    env.stash.lib(|l| assert!(l.performer_by_name("Kyle Ryder").is_none()));
}

/// Turns the AI detector on against `ai` with model `model` and these extra settings.
fn use_ai(env: &TestEnv, ai: &FakeAi, model: &str, extra: Value) {
    let mut settings = json!({"analyzeWithAi": true, "analyzeWithAiBaseUrl": ai.base_url(), "analyzeWithAiModel": model, "analyzeWithAiApiKey": fake_ai::API_KEY});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        settings[k] = v;
    }
    env.set_settings(settings);
}

#[test]
fn the_ai_fills_only_what_the_rules_left_open_with_entities_that_exist() {
    let env = TestEnv::new();
    let lib = library(&env);
    let (open, settled) = env.stash.lib(|l| {
        (
            l.add_scene(Scene { title: Some("Poolside".into()), ..unmeasured("/dl/VID_0001.mp4") }),
            l.add_scene(unmeasured("/Studios/Sean Cody/Brent Corrigan.mp4")),
        )
    });
    let ai = FakeAi::start(move |scenes| {
        let answers: Vec<Value> = scenes
            .iter()
            .map(|s| {
                json!({"id": s["id"], "studio": "Colt", "performers": ["Jay Roberts", "Somebody Invented"],
                            "tags": ["outdoor", "Made Up Tag"], "confidence": 0.99})
            })
            .chain([json!({"id": 424242, "studio": "Colt"})])
            .collect();
        Answer::Content(json!({"scenes": answers}).to_string())
    });
    use_ai(&env, &ai, "gpt-4o-mini", json!({}));
    let run = env.run(json!({"mode": "analyze"}));
    run.assert_ok();
    let all = changes(&env, &run.output["plan_id"]);
    assert_eq!(values(&all, open, "studio"), [json!(lib.colt)]);
    assert_eq!(values(&all, open, "performers"), [json!(lib.jay)]);
    assert_eq!(values(&all, open, "tags"), [json!(lib.outdoor)]);
    assert_eq!(values(&all, settled, "studio"), [json!(lib.sean_cody)], "the rules' studio stands");
    assert_eq!(values(&all, settled, "performers"), [json!(lib.brent)]);
    let confidences: Vec<f64> = env
        .run(json!({"mode": "show_plan", "plan_id": run.output["plan_id"]}))
        .out("/changes")
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["entity_id"] == json!(open))
        .filter_map(|c| c["confidence"].as_f64())
        .collect();
    assert!(confidences.iter().all(|c| *c <= 0.85), "an AI answer is never as sure as a rule: {confidences:?}");

    let report = &run.output["ai"];
    assert_eq!(report["scenes_sent"], json!(1), "only the open scene is asked about: {report}");
    assert_eq!(report["names_unknown"], json!(2));
    assert_eq!(report["answers_dropped"], json!(1), "the answer about a scene not asked");
    assert_eq!(report["prompt_tokens"], json!(fake_ai::USAGE.0));
    let cost = report["cost_usd"].as_f64().unwrap_or(0.0);
    assert!((cost - (1000.0 * 0.15 + 200.0 * 0.60) / 1e6).abs() < 1e-9, "real usage priced: {cost}");
    let requests = ai.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["body"]["model"], json!("gpt-4o-mini"));
    assert!(requests[0]["authorized"].as_bool().unwrap_or(false));
    assert!(!run.stderr.contains(fake_ai::API_KEY), "the key is never logged");
}

#[test]
fn ai_answers_that_fail_validation_are_dropped_and_counted() {
    let env = TestEnv::new();
    library(&env);
    env.stash.lib(|l| l.add_scenes(3, |i| unmeasured(&format!("/dl/VID_{i:04}.mp4"))));
    let ai = FakeAi::start(|_| Answer::Content("Sure! The first scene is clearly Colt.".into()));
    use_ai(&env, &ai, "llama3.1", json!({}));
    let run = env.run(json!({"mode": "analyze"}));
    run.assert_ok();
    assert_eq!(run.output["plan_id"], Value::Null);
    assert_eq!(run.output["ai"]["answers_dropped"], json!(3));
    assert_eq!(run.output["ai"]["cost_usd"], json!(0.0), "a local model costs nothing");
}

#[test]
fn the_cost_guard_stops_a_run_before_any_call() {
    let env = TestEnv::new();
    library(&env);
    env.stash.lib(|l| l.add_scenes(200, |i| unmeasured(&format!("/dl/VID_{i:04}.mp4"))));
    let ai = FakeAi::start(|_| Answer::Content("{}".into()));
    use_ai(&env, &ai, "gpt-4o", json!({"analyzeWithAiMaxCostCents": 0.1}));
    let run = env.run(json!({"mode": "analyze"}));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("cost limit") && error.contains("200 scene(s)"), "{error}");
    assert!(ai.requests().is_empty(), "nothing was sent");
    let plans = env.run(json!({"mode": "list_plans"}));
    assert_eq!(plans.out("/plans"), &json!([]), "no plan either");
}

#[test]
fn a_refused_ai_key_stops_the_ai_but_the_rules_plan_stands() {
    let env = TestEnv::new();
    let lib = library(&env);
    env.stash.lib(|l| {
        l.add_scene(unmeasured("/Studios/Colt/VID_1.mp4"));
    });
    let ai = FakeAi::start(|_| Answer::Content("{}".into()));
    use_ai(&env, &ai, "gpt-4o-mini", json!({"analyzeWithAiApiKey": "wrong"}));
    let run = env.run(json!({"mode": "analyze"}));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("refused the API key"), "{error}");
    let all = changes(&env, &run.output["plan_id"]);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].value, json!(lib.colt));
}

#[test]
fn the_ai_is_off_by_default() {
    let env = TestEnv::new();
    library(&env);
    env.stash.lib(|l| l.add_scene(unmeasured("/dl/VID_1.mp4")));
    let ai = FakeAi::start(|_| Answer::Status(500));
    env.set_settings(json!({"aiBaseUrl": ai.base_url(), "aiModel": "gpt-4o-mini"}));
    analyze(&env, json!({}));
    assert!(ai.requests().is_empty());
}

#[test]
fn the_development_set_keeps_98_percent_precision_and_95_percent_recall_per_detector() {
    let e = evaluation::evaluate(evaluation::DEV, stashhog::settings::Settings::default(), None);
    for m in &e.mistakes {
        eprintln!("{m}");
    }
    assert!(e.cases >= 300, "{} cases", e.cases);
    for (name, s) in [("studio", e.studio), ("performers", e.performers), ("tags", e.tags)] {
        assert!(s.precision() >= 0.98, "{name}: precision {:.3} ({s:?})", s.precision());
        assert!(s.recall() >= 0.95, "{name}: recall {:.3} ({s:?})", s.recall());
    }
}

#[test]
fn the_held_out_set_scores_at_least_98_percent_precision_and_95_percent_recall() {
    let e = evaluation::evaluate(evaluation::HELD_OUT, stashhog::settings::Settings::default(), None);
    for m in &e.mistakes {
        eprintln!("{m}");
    }
    assert!(e.cases >= 100, "{} cases", e.cases);
    for (batch, (cases, s)) in &e.batches {
        eprintln!("batch {batch}: {cases} cases, {s:?}");
    }
    let all = e.overall();
    eprintln!("all: {all:?}");
    for (name, s) in [("studio", e.studio), ("performers", e.performers), ("tags", e.tags)] {
        assert!(s.precision() >= 0.95 && s.recall() >= 0.9, "{name}: {s:?}");
    }
    assert!(all.precision() >= 0.98, "precision {:.3} ({all:?})", all.precision());
    assert!(all.recall() >= 0.95, "recall {:.3} ({all:?})", all.recall());
}

#[test]
fn the_held_out_set_is_read_better_than_by_stashs_auto_tag_rule() {
    let ours = evaluation::evaluate(evaluation::HELD_OUT, stashhog::settings::Settings::default(), None).overall();
    let auto_tag = evaluation::evaluate_auto_tag(evaluation::HELD_OUT).overall();
    eprintln!("StashHog {ours:?}, Auto Tag {auto_tag:?}");
    assert!(ours.precision() > auto_tag.precision(), "precision {ours:?} vs {auto_tag:?}");
    assert!(ours.recall() > auto_tag.recall(), "recall {ours:?} vs {auto_tag:?}");
}

#[test]
fn a_narrowed_analysis_does_not_move_the_since_last_mark() {
    let env = TestEnv::new();
    library(&env);
    let ids = env.stash.lib(|l| vec![l.add_scene(at("/Studios/Colt/a.mp4")), l.add_scene(at("/Studios/Colt/b.mp4"))]);
    let analyzed = |args: Value| analyze(&env, args)["scenes_analyzed"].clone();
    assert_eq!(analyzed(json!({"since_last": true, "limit": 1})), json!(1));
    assert_eq!(analyzed(json!({"since_last": true, "path": "/a.mp4"})), json!(1));
    assert_eq!(analyzed(json!({"since_last": true, "tag": "Outdoor"})), json!(0));
    assert_eq!(analyzed(json!({"since_last": true})), json!(2), "the narrowed runs left scenes out");
    assert_eq!(analyzed(json!({"since_last": true})), json!(0));
    env.stash.lib(|l| ids.iter().for_each(|id| l.edit_scene(*id, |s| s.title = Some("Edited".into()))));
    assert_eq!(analyzed(json!({"since_last": true, "scene_ids": ids[0].to_string()})), json!(1));
    assert_eq!(analyzed(json!({"since_last": true})), json!(2));
}
