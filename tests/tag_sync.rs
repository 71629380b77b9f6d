//! "Sync Scene Tags from StashDB" end to end: the real binary against the fake Stash and the
//! fake stash-box. The final tags on every scene must equal what the Tagger's merge gives.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::support::env::TestEnv;
use crate::support::fake_http::Fault;
use crate::support::fake_stash::{Fingerprint, Scene, StashId, Tag, VideoFile};
use crate::support::fake_stashbox::{Algorithm, BoxFingerprint, BoxScene};
use crate::support::runner::Level;

/// A world with every case the Tagger distinguishes. Returns the env and, per local scene id,
/// the tag names it must end with.
struct World {
    env: TestEnv,
    expected: BTreeMap<u64, Vec<String>>,
    /// The local scene whose StashID points at a merged stash-box scene, and the survivor.
    merged: (u64, String),
}

fn fast(env: &TestEnv) {
    env.stash.config(|c| {
        for b in &mut c.stash_boxes {
            b.max_requests_per_minute = 100_000;
        }
    });
}

fn world() -> World {
    let env = TestEnv::with_stashbox();
    fast(&env);
    let endpoint = env.stashbox().endpoint();
    let bx = |name: &str| env.stashbox().lib(|l| l.add_tag(name));
    // stash-box tags
    let b_linked = bx("Rimming"); // matched by StashID although the local name differs
    let b_case = bx("BLONDE"); // ASCII case only
    let b_alias = bx("Outdoors"); // matched by alias
    let b_unicode = bx("ÉMILIE"); // must NOT match local "émilie"
    let b_excluded = bx("Watermarked"); // Stash's excludeTagPatterns
    let b_black = bx("Compilation"); // StashHog's syncTagBlacklist
    let b_missing = bx("Lumberjack"); // no local tag at all
    let b_percent = bx("100% Real"); // % is literal
    // local tags
    let (linked, blonde, outside, real, kept) = env.stash.lib(|l| {
        // Tags that exist locally but must not be added: non-ASCII case, excluded, blacklisted.
        for name in ["émilie", "Watermarked", "Compilation"] {
            l.add_tag(name);
        }
        (
            l.insert_tag(Tag {
                name: "Rim".into(),
                stash_ids: vec![StashId::new(&endpoint, &b_linked)],
                ..Tag::default()
            }),
            l.add_tag("blonde"),
            l.insert_tag(Tag { name: "Outside".into(), aliases: vec!["outdoors".into()], ..Tag::default() }),
            l.add_tag("100% real"),
            l.add_tag("Hand-curated"),
        )
    });
    env.stash.config(|c| c.exclude_tag_patterns = vec!["^water".into()]);
    env.set_settings(json!({"syncTagBlacklist": "compilation", "stashBoxRequestsPerMinute": 100000}));
    let all = vec![
        b_linked.clone(),
        b_case.clone(),
        b_alias.clone(),
        b_unicode,
        b_excluded,
        b_black,
        b_missing.clone(),
        b_percent,
    ];
    let mut expected = BTreeMap::new();
    let names = |ids: &[u64]| -> Vec<String> {
        let mut n: Vec<String> = env.stash.lib(|l| ids.iter().map(|id| l.tags[id].name.clone()).collect());
        n.sort();
        n
    };
    // 1. A linked scene with a hand-curated tag that must survive.
    let s1_box = env
        .stashbox()
        .lib(|l| l.add_scene(BoxScene { title: Some("one".into()), tag_ids: all.clone(), ..BoxScene::default() }));
    let s1 = env.stash.lib(|l| {
        l.add_scene(Scene {
            tag_ids: vec![kept],
            stash_ids: vec![StashId::new(&endpoint, &s1_box)],
            ..Scene::default()
        })
    });
    expected.insert(s1, names(&[kept, linked, blonde, outside, real]));
    // 2. A deleted stash-box scene: tags [] must not remove anything.
    let s2_box = env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: vec![b_case.clone()], ..BoxScene::default() }));
    env.stashbox().lib(|l| l.delete_scene(&s2_box));
    let s2 = env.stash.lib(|l| {
        l.add_scene(Scene {
            tag_ids: vec![kept],
            stash_ids: vec![StashId::new(&endpoint, &s2_box)],
            ..Scene::default()
        })
    });
    expected.insert(s2, names(&[kept]));
    // 3. A merged stash-box scene: followed to the survivor.
    let old = env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: vec![b_missing.clone()], ..BoxScene::default() }));
    let survivor =
        env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: vec![b_alias.clone()], ..BoxScene::default() }));
    env.stashbox().lib(|l| l.merge_scenes(&[&old], &survivor));
    // Linked to another box first: Stash lists StashIDs in the order they were added.
    let other = StashId::new("https://theporndb.net/graphql", "tpdb-1");
    let s3 = env
        .stash
        .lib(|l| l.add_scene(Scene { stash_ids: vec![other, StashId::new(&endpoint, &old)], ..Scene::default() }));
    expected.insert(s3, names(&[outside]));
    // 4. A StashID stash-box does not know; its phash matches another scene there.
    env.stashbox().lib(|l| {
        l.add_scene(BoxScene {
            tag_ids: vec![b_case.clone()],
            fingerprints: vec![BoxFingerprint::new(Algorithm::Phash, "00000000000000f1")],
            ..BoxScene::default()
        })
    });
    let s4 = env.stash.lib(|l| {
        l.add_scene(Scene {
            stash_ids: vec![StashId::new(&endpoint, "no-such-scene")],
            files: vec![VideoFile::new("/x.mp4", vec![Fingerprint::new("phash", "f1")])],
            ..Scene::default()
        })
    });
    expected.insert(s4, Vec::new());
    // 5. No StashID; 6. a StashID on another endpoint: untouched.
    let s5 = env.stash.lib(|l| l.add_scene(Scene::default()));
    expected.insert(s5, Vec::new());
    let s6 = env.stash.lib(|l| {
        l.add_scene(Scene { stash_ids: vec![StashId::new("https://other.box/graphql", &s1_box)], ..Scene::default() })
    });
    expected.insert(s6, Vec::new());
    World { env, expected, merged: (s3, survivor) }
}

/// `n` linked scenes whose stash-box scene has the one tag "Solo", which exists locally.
fn solo_scenes(n: usize) -> TestEnv {
    let env = TestEnv::with_stashbox();
    fast(&env);
    env.set_settings(json!({"stashBoxRequestsPerMinute": 100000}));
    let endpoint = env.stashbox().endpoint();
    let box_tag = env.stashbox().lib(|l| l.add_tag("Solo"));
    env.stash.lib(|l| l.add_tag("Solo"));
    for _ in 0..n {
        let id =
            env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: vec![box_tag.clone()], ..BoxScene::default() }));
        env.stash.lib(|l| l.add_scene(Scene { stash_ids: vec![StashId::new(&endpoint, &id)], ..Scene::default() }));
    }
    env
}

fn final_tags(env: &TestEnv) -> BTreeMap<u64, Vec<String>> {
    env.stash.lib(|l| l.scenes.keys().map(|id| (*id, l.scene_tag_names(*id))).collect())
}

#[test]
fn the_sync_adds_exactly_what_the_tagger_merge_would() {
    let w = world();
    let run = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    run.assert_ok();
    assert_eq!(final_tags(&w.env), w.expected);
    assert_eq!(run.out("/scenes_to_update"), &json!(2));
    assert_eq!(run.out("/tags_to_add"), &json!(5));
    assert_eq!(run.out("/skipped_deleted"), &json!(1));
    assert_eq!(run.out("/skipped_not_found"), &json!(1));
    assert_eq!(run.out("/followed_merges"), &json!(1));
    assert_eq!(run.out("/unmatched/Lumberjack"), &json!(1));
    assert_eq!(run.out("/unmatched/ÉMILIE"), &json!(1), "non-ASCII case differences never match");
    assert_eq!(run.out("/excluded/Watermarked"), &json!(1));
    assert_eq!(run.out("/excluded/Compilation"), &json!(1));
    let stale = run.out("/stale").as_array().cloned().unwrap_or_default();
    assert!(
        stale
            .iter()
            .any(|s| s["not_found"] == json!(true) && s["fingerprints_match"].as_array().is_some_and(|m| m.len() == 1)),
        "{stale:?}"
    );
    assert!(stale.iter().any(|s| s["merged_into"].is_string()));
    assert!(run.logged(Level::Info, "match no tag here: Lumberjack (1 scene)"), "{}", run.log_text());
    // Merge only: bulk ADDs, never a replace; each scene updated once.
    for request in w.env.stash.requests_named("BulkSceneUpdate") {
        let inputs = request.variables.as_object().cloned().unwrap_or_default();
        assert!(inputs.values().all(|input| input["tag_ids"]["mode"] == json!("ADD")), "{inputs:?}");
    }
    assert_eq!(w.env.stash.scene_updates().busiest, 1, "no scene updated twice");
    assert!(w.env.stash.requests_named("SceneUpdate").is_empty());
    // A second run has nothing left to add.
    let again = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    again.assert_ok();
    assert_eq!(again.out("/tags_to_add"), &json!(0));
    assert_eq!(final_tags(&w.env), w.expected);
}

#[test]
fn dry_run_is_the_default_changes_nothing_and_keeps_the_plan() {
    let w = world();
    let before = final_tags(&w.env);
    w.env.stash.clear_requests();
    let run = w.env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    assert_eq!(final_tags(&w.env), before);
    assert_eq!(run.out("/dry_run"), &json!(true));
    assert!(w.env.stash.requests_named("BulkSceneUpdate").is_empty());
    assert!(run.logged(Level::Info, "Dry run, nothing changed in Stash"));
    let plan_id = run.out("/plan_id").as_i64().expect("a plan");
    let shown = w.env.run(json!({"mode": "show_plan", "plan_id": plan_id}));
    shown.assert_ok();
    assert_eq!(shown.out("/plan/changes/pending"), &json!(5));
    // Approving and applying the kept plan gives the same end state as a direct sync.
    w.env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    w.env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
    assert_eq!(final_tags(&w.env), w.expected);
}

#[test]
fn a_dry_run_lists_at_most_200_scenes_at_debug() {
    let env = solo_scenes(230);
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    assert_eq!(run.logs.iter().filter(|l| l.level == Level::Debug && l.message.contains("would get")).count(), 200);
    assert!(run.logged(Level::Debug, "and 30 more scenes"));
    assert!(!run.logs.iter().any(|l| l.level == Level::Info && l.message.contains("would get")), "not at info");
    assert_eq!(run.out("/tags_to_add"), &json!(230));
    // 230 StashIDs: 6 batches of at most 40 aliased findScene.
    assert_eq!(env.stashbox().requests_named("FindScenesBatch").len(), 6);
}

#[test]
fn the_stash_box_never_sees_more_than_the_configured_rate() {
    let env = TestEnv::with_stashbox();
    let endpoint = env.stashbox().endpoint();
    // Our budget says 600/min, but Stash keeps this endpoint to 120/min: 120 wins.
    env.stash.config(|c| c.stash_boxes[0].max_requests_per_minute = 120);
    env.set_settings(json!({"syncBoxRequestsPerMinute": 600}));
    for _ in 0..121 {
        let id = env.stashbox().lib(|l| l.add_scene(BoxScene::default()));
        env.stash.lib(|l| l.add_scene(Scene { stash_ids: vec![StashId::new(&endpoint, &id)], ..Scene::default() }));
    }
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    let requests = env.stashbox().requests();
    assert_eq!(requests.len(), 5, "me + 4 batches");
    // Arrival times carry the machine's scheduling jitter (a request sent on time may be read
    // late, the next one promptly), so every stretch of requests is held to the pace less one
    // jitter allowance: a burst (two at once) still fails, and so does any faster pace overall.
    let jitter = Duration::from_millis(200);
    for (i, first) in requests.iter().enumerate() {
        for (k, later) in requests.iter().enumerate().skip(i + 1) {
            let span = later.at.duration_since(first.at);
            let pace = Duration::from_millis(500) * (k - i) as u32;
            assert!(span + jitter >= pace, "requests {i}..{k} {span:?} apart: faster than 2/s");
        }
    }
}

#[test]
fn rate_limits_server_errors_and_malformed_answers_are_survived() {
    let w = world();
    // 429 with Retry-After on the first batch, then a 500 that persists through the retries on
    // the next request: that batch is skipped, listed, and picked up by the next run.
    w.env.stashbox().fail_next_named("FindScenesBatch", Fault::RateLimited { retry_after_secs: 1 });
    let run = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    run.assert_ok();
    assert_eq!(final_tags(&w.env), w.expected);
    let batches = w.env.stashbox().requests_named("FindScenesBatch");
    assert!(batches[1].at.duration_since(batches[0].at) >= Duration::from_secs(1), "Retry-After honoured");

    // A 500 that persists through the three retries (1 s, 2 s, 4 s): that batch is skipped.
    let w = world();
    for _ in 0..4 {
        w.env.stashbox().fail_next_named("FindScenesBatch", Fault::Status(500));
    }
    let run = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    assert_eq!(run.exit_code, Some(1));
    assert!(run.out("/failed_batches/0/error").as_str().unwrap_or_default().contains("HTTP 500"));
    assert_eq!(w.env.stashbox().requests_named("FindScenesBatch").len(), 4);
    assert!(final_tags(&w.env).values().all(|t| t.len() <= 1), "nothing applied for the skipped scenes");

    let w = world();
    w.env.stashbox().fail_next_named("FindScenesBatch", Fault::Html);
    let run = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    assert_eq!(run.exit_code, Some(1));
    assert!(run.error.as_deref().unwrap_or_default().contains("asks again"), "{:?}", run.error);
    assert_eq!(run.out("/failed_batches/0/scenes").as_array().map(Vec::len), Some(4));
    assert!(run.logged(Level::Error, "asked again next run"));
    let retry = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    retry.assert_ok();
    assert_eq!(final_tags(&w.env), w.expected);
}

#[test]
fn no_stash_box_or_a_rejected_key_is_a_clear_error() {
    let env = TestEnv::new();
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    assert!(run.error.as_deref().unwrap_or_default().contains("no stash-box is configured"), "{:?}", run.error);
    let env = TestEnv::with_stashbox();
    env.stashbox().set_api_key("another-key");
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("answered 401") && error.contains("Metadata Providers"), "{error}");
    let run = env.run(json!({"mode": "sync_scene_tags", "syncBoxEndpoint": "https://nowhere/graphql"}));
    assert!(run.error.as_deref().unwrap_or_default().contains("no such stash-box"), "{:?}", run.error);
}

#[test]
fn a_killed_sync_resumes_without_asking_again() {
    let env = solo_scenes(200);
    env.stashbox().fail_times(30, Fault::Slow(Duration::from_millis(150)));
    // Kill once two batches are recorded.
    let recorded = || {
        rusqlite::Connection::open(env.db_path())
            .and_then(|db| db.query_row("SELECT COUNT(*) FROM stashbox_scenes", [], |r| r.get::<_, i64>(0)))
            .is_ok_and(|n| n >= 80)
    };
    env.kill_when(json!({"mode": "sync_scene_tags", "syncDryRun": false}), recorded);
    env.stashbox().clear_faults();
    env.stashbox().clear_requests();
    let run = env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    run.assert_ok();
    assert!(run.out("/answered_recently").as_u64().unwrap_or(0) >= 80);
    let asked: usize = env.stashbox().requests_named("FindScenesBatch").len();
    assert!(asked <= 3, "only the rest is asked: {asked} batches");
    let tagged = env.stash.lib(|l| l.scenes.values().filter(|s| !s.tag_ids.is_empty()).count());
    assert_eq!(tagged, 200);
}

#[test]
fn min_age_skips_recent_answers_and_rollback_restores_the_tags() {
    let w = world();
    let before = final_tags(&w.env);
    let run = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    run.assert_ok();
    w.env.stashbox().clear_requests();
    let again = w.env.run(json!({"mode": "sync_scene_tags", "syncMinAgeHours": 24}));
    again.assert_ok();
    assert!(w.env.stashbox().requests_named("FindScenesBatch").is_empty(), "fresh answers are reused");
    let rollback = w.env.run(json!({"mode": "rollback_plan"}));
    rollback.assert_ok();
    assert_eq!(final_tags(&w.env), before);
}

#[test]
fn a_big_never_synced_library_is_told_to_run_full_sync_first() {
    let env = TestEnv::with_stashbox();
    env.stash.lib(|l| {
        l.add_scenes(20_001, |_| Scene::default());
    });
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("run the task \"Full sync\" first"), "{error}");
    assert!(env.stash.requests_named("FindScenes").len() <= 1, "no scene was copied on the way");
    assert!(env.stashbox().requests().is_empty());
}

#[test]
fn fix_merged_stash_ids_replaces_the_stale_id_through_the_plan() {
    let w = world();
    let (scene, survivor) = w.merged.clone();
    let endpoint = w.env.stashbox().endpoint();
    let before = w.env.stash.lib(|l| l.scenes[&scene].stash_ids.clone());
    let run = w.env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false, "syncFixMergedStashIds": true}));
    run.assert_ok();
    assert_eq!(run.out("/stash_ids_to_fix"), &json!(1));
    let after = w.env.stash.lib(|l| l.scenes[&scene].stash_ids.clone());
    let mut after: Vec<(String, String)> = after.iter().map(|s| (s.endpoint.clone(), s.stash_id.clone())).collect();
    after.sort();
    assert_eq!(after, vec![(endpoint, survivor), ("https://theporndb.net/graphql".to_owned(), "tpdb-1".to_owned())]);
    assert_eq!(final_tags(&w.env), w.expected);
    // Rolling the sync back restores the old StashID.
    w.env.run(json!({"mode": "rollback_plan"})).assert_ok();
    let sorted = |ids: Vec<StashId>| {
        let mut ids: Vec<String> = ids.into_iter().map(|s| s.stash_id).collect();
        ids.sort();
        ids
    };
    let restored = w.env.stash.lib(|l| l.scenes[&scene].stash_ids.clone());
    assert_eq!(sorted(restored), sorted(before), "the same StashIDs as before");
}

#[test]
fn the_sync_runs_from_cron_on_the_command_line() {
    let w = world();
    let db = w.env.root().join("cron.sqlite");
    let url = w.env.stash_url();
    let db_arg = db.display().to_string();
    let run = w.env.run_cli(&["sync_scene_tags", "--url", &url, "--db", &db_arg, "--set", "syncDryRun=false", "-q"]);
    assert!(run.success(), "{}", run.stderr);
    assert_eq!(run.json()["tags_to_add"], json!(5));
    assert_eq!(final_tags(&w.env), w.expected);
    assert!(db.exists());
}

/// 900 linked scenes, 30 of them pointing at merged stash-box scenes, tags the library lacks:
/// what a user reads in Settings > Logs after pressing the button.
#[test]
fn a_900_scene_sync_logs_a_short_story_at_info() {
    let env = TestEnv::with_stashbox();
    fast(&env);
    env.stash.config(|c| c.stash_boxes[0].name = "FansDB".into());
    env.set_settings(json!({"syncBoxRequestsPerMinute": 100000}));
    let endpoint = env.stashbox().endpoint();
    let box_tags: Vec<String> = (0..40).map(|i| env.stashbox().lib(|l| l.add_tag(&format!("Tag {i}")))).collect();
    env.stash.lib(|l| {
        for i in 0..30 {
            l.add_tag(&format!("tag {i}"));
        }
    });
    for i in 0..900 {
        let tags: Vec<String> = (0..4).map(|k| box_tags[(i * 7 + k * 11) % box_tags.len()].clone()).collect();
        let id = env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: tags.clone(), ..BoxScene::default() }));
        if i % 30 == 0 {
            let survivor = env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: tags, ..BoxScene::default() }));
            env.stashbox().lib(|l| l.merge_scenes(&[&id], &survivor));
        }
        env.stash.lib(|l| {
            l.add_scene(Scene {
                title: Some(format!("Beach day {i}")),
                stash_ids: vec![StashId::new(&endpoint, &id)],
                ..Scene::default()
            })
        });
    }
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    let info: Vec<&str> = run.logs_at_least(Level::Info);
    eprintln!("--- info and above, 900 scenes ---\n{}", info.join("\n"));
    assert!(info.len() <= 12, "a short story, not a list: {} lines", info.len());
    let merged: Vec<&&str> = info.iter().filter(|l| l.contains("merged into others")).collect();
    assert_eq!(merged.len(), 1, "one warning for all merged scenes");
    assert!(
        merged[0].starts_with("30 local scenes are linked to \"FansDB\"")
            && merged[0].contains("\"Beach day 0\" (scene"),
        "{}",
        merged[0]
    );
    assert!(merged[0].contains("and 25 more") && merged[0].contains("syncFixMergedStashIds"), "{}", merged[0]);
    assert!(info.iter().any(|l| l.contains("StashHog page")), "says what to do next");
    assert!(!info.iter().any(|l| l.contains("StashDB")), "the box is named by its name");
    assert!(run.logs_at(Level::Debug).iter().any(|l| l.contains("would get")), "the per-scene detail is at debug");
}

/// Issue 13's library (540 linked: 45 deleted, 45 merged with a chain, 18 unknown, fingerprint
/// matches): the fewest stash-box requests, one scene update per changed scene, the exact
/// Tagger result; a re-run asks only about live links.
#[test]
fn a_real_shaped_library_takes_the_fewest_requests_and_one_update_per_scene() {
    let env = TestEnv::with_stashbox();
    fast(&env);
    let shape = crate::support::library_shape::build(&env, 900);
    env.run(json!({"mode": "full_sync"})).assert_ok();
    env.stash.clear_requests();
    let run = env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    run.assert_ok();

    assert_eq!(env.stashbox().requests().len(), shape.fewest_box_requests(), "1 key check + live + follow-ups");
    assert!(shape.fewest_box_requests() <= 24);
    for (operation, expected) in [("FindScenesByFingerprints", 2), ("MergedIntoBatch", 4), ("Me", 1)] {
        assert_eq!(env.stashbox().requests_named(operation).len(), expected, "{operation}");
    }
    // Every follow-up document is sized to its batch: 90 deleted scenes ask 40 + 40 + 10.
    let merges = env.stashbox().requests_named("MergedIntoBatch");
    let aliases: Vec<usize> = merges.iter().map(|r| r.variables.as_object().map_or(0, |v| v.len())).collect();
    assert_eq!(aliases, [40, 40, 10, 1], "the chain's second step goes alone");

    let updates = env.stash.scene_updates();
    assert_eq!(updates.total as usize, shape.changed(), "scene updates = scenes changed");
    assert_eq!(updates.busiest, 1);
    let mutations = env.stash.requests_named("BulkSceneUpdate").len();
    assert!(mutations <= shape.changed().div_ceil(40), "{mutations} mutation requests");
    assert_eq!(run.out("/followed_merges"), &json!(shape.merged));
    assert_eq!(run.out("/skipped_deleted"), &json!(shape.deleted));
    assert_eq!(run.out("/skipped_not_found"), &json!(shape.unknown));
    env.stash.lib(|l| {
        for (id, tags) in &shape.expected {
            let now: std::collections::BTreeSet<u64> =
                l.scene(*id).map(|s| s.tag_ids.iter().copied().collect()).unwrap_or_default();
            assert_eq!(&now, tags, "scene {id}");
        }
    });

    // A re-run: deleted, merged and unknown verdicts are remembered; merged scenes are asked
    // through their survivors, among the live lookups.
    env.stashbox().clear_requests();
    env.stash.clear_scene_updates();
    let again = env.run(json!({"mode": "sync_scene_tags", "syncDryRun": false}));
    again.assert_ok();
    let live = shape.live + shape.merged;
    assert_eq!(env.stashbox().requests().len(), 1 + live.div_ceil(40), "only live links are asked");
    assert_eq!(again.out("/remembered_stale"), &json!(shape.deleted + shape.unknown));
    assert_eq!(again.out("/followed_merges"), &json!(shape.merged));
    assert_eq!(env.stash.scene_updates().total, 0, "nothing left to add");
}
