//! The library mirror: full and incremental sync, deletions and their guard, hooks, resuming a
//! killed sync, and a hook running beside a sync. Every test ends by comparing the mirror with
//! the fake Stash field by field.

use std::time::Duration;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::fake_http::Fault;
use crate::support::fake_stash::{Fingerprint, Generate, Performer, Scene, StashId, Studio, Tag, VideoFile};
use crate::support::mirror_oracle::{assert_mirror_equals_stash, mirrored, scene_checkpoint, stopped_pass};
use crate::support::runner::Level;

const STASHDB: &str = "https://stashdb.org/graphql";

/// A library with the awkward cases a real one has, plus `n` generated scenes.
fn library(env: &TestEnv, n: usize) {
    env.stash.lib(|l| {
        let outdoor = l.insert_tag(Tag {
            name: "Outdoor".into(),
            sort_name: Some("aaa".into()),
            aliases: vec!["Outside".into(), "Al Fresco".into()],
            ignore_auto_tag: true,
            stash_ids: vec![StashId::new(STASHDB, "tag-1")],
            ..Tag::default()
        });
        let parent = l.insert_studio(Studio { name: "Network".into(), ..Studio::default() });
        let studio = l.insert_studio(Studio {
            name: "Sean Cody".into(),
            aliases: vec!["SC".into()],
            parent_id: Some(parent),
            stash_ids: vec![StashId::new(STASHDB, "studio-1")],
            ..Studio::default()
        });
        let performer = l.insert_performer(Performer {
            name: "Émile".into(),
            disambiguation: Some("II".into()),
            alias_list: vec!["Emile".into()],
            stash_ids: vec![StashId::new(STASHDB, "perf-1")],
            ..Performer::default()
        });
        l.add_scene(Scene {
            title: Some("Ünïcode — “quoted” title".into()),
            code: Some("SC-1".into()),
            details: Some("line one\nline two".into()),
            director: Some("Dir".into()),
            urls: vec!["https://a.example/1".into(), "https://b.example/1".into()],
            date: Some("2023-12-28".into()),
            rating100: Some(80),
            organized: true,
            studio_id: Some(studio),
            performer_ids: vec![performer],
            tag_ids: vec![outdoor],
            stash_ids: vec![StashId::new(STASHDB, "scene-1"), StashId::new("https://other.box/graphql", "x")],
            files: vec![
                VideoFile::new("/v/one.mp4", vec![Fingerprint::new("oshash", "abc"), Fingerprint::new("phash", "f00")]),
                VideoFile::new("/v/two.mkv", vec![]),
            ],
            ..Scene::default()
        });
        l.add_scene(Scene::default());
        l.generate(&Generate {
            scenes: n,
            tags: 30,
            performers: 40,
            studios: 10,
            stash_id_every: 3,
            endpoint: STASHDB.into(),
            scenes_per_timestamp: 7,
            ..Generate::default()
        });
    });
}

fn sync(env: &TestEnv, mode: &str) -> crate::support::runner::Run {
    let run = env.run(json!({"mode": mode}));
    run.assert_ok();
    run
}

#[test]
fn full_sync_copies_the_library_field_by_field() {
    let env = TestEnv::new();
    library(&env, 1200);
    let run = sync(&env, "full_sync");
    assert_mirror_equals_stash(&env);
    assert_eq!(run.out("/scenes/copied"), &json!(1202));
    assert_eq!(run.out("/mirror/scenes"), &json!(1202));
    assert!(run.out("/peak_rss_mib").is_number());
    assert!(run.logged(Level::Info, "Full sync done"));
    assert_eq!(run.progress.last(), Some(&1.0));
    for request in env.stash.requests_named("FindScenes") {
        assert!(request.var("/filter/sort").is_some_and(|s| s.is_string()), "every page is sorted");
        assert_ne!(request.var("/filter/per_page"), Some(&json!(-1)));
        assert_eq!(request.var("/filter/page"), Some(&json!(1)), "scenes are paged by id, never by offset");
    }
}

#[test]
fn incremental_sync_picks_up_an_edit_a_new_scene_a_deletion_and_a_tag_merge() {
    let env = TestEnv::new();
    library(&env, 1500); // more scenes than Stash serves in one page
    sync(&env, "full_sync");
    let (edited, deleted, source, destination) = env.stash.lib(|l| {
        let ids: Vec<u64> = l.scenes.keys().copied().collect();
        let tags: Vec<u64> = l.tags.keys().copied().collect();
        l.edit_scene(ids[10], |s| s.title = Some("edited".into()));
        l.remove_scene(ids[20]);
        l.add_scene(Scene { title: Some("brand new".into()), ..Scene::default() });
        l.merge_tags(&[tags[3]], tags[4]);
        (ids[10], ids[20], tags[3], tags[4])
    });
    env.stash.clear_requests();
    let run = sync(&env, "incremental_sync");
    assert_mirror_equals_stash(&env);
    assert_eq!(run.out("/kind"), &json!("incremental"));
    assert_eq!(run.out("/scenes/deleted"), &json!(1));
    assert_eq!(run.out("/tags/deleted"), &json!(1));
    let mirror = mirrored(&env);
    assert_eq!(mirror["scenes"][edited.to_string()]["title"], json!("edited"));
    assert!(mirror["scenes"].get(deleted.to_string()).is_none());
    assert!(mirror["tags"].get(source.to_string()).is_none());
    assert!(mirror["tags"][destination.to_string()].is_object());
}

#[test]
fn incremental_sync_with_nothing_changed_costs_a_handful_of_requests() {
    let env = TestEnv::new();
    library(&env, 2000);
    sync(&env, "full_sync");
    env.stash.clear_requests();
    let run = sync(&env, "incremental_sync");
    let requests = env.stash.requests().len();
    // About two per kind (its mark and one page of what changed), for six kinds.
    assert!(requests <= 14, "{requests} requests for an unchanged library");
    assert!(run.out("/scenes/copied").as_u64().unwrap_or(99) <= 7, "only the last second's scenes again");
    assert_mirror_equals_stash(&env);
}

#[test]
fn incremental_sync_without_a_full_sync_runs_one() {
    let env = TestEnv::new();
    library(&env, 50);
    let run = sync(&env, "incremental_sync");
    assert!(run.logged(Level::Info, "No full sync has completed"));
    assert_eq!(run.out("/kind"), &json!("full"));
    assert_mirror_equals_stash(&env);
}

#[test]
fn a_truncated_answer_never_empties_the_mirror() {
    let env = TestEnv::new();
    library(&env, 400);
    sync(&env, "full_sync");
    // Stash (or a proxy) answers with only a third of the scenes.
    let hidden: Vec<(u64, Scene)> = env.stash.lib(|l| {
        let keep: Vec<u64> = l.scenes.keys().copied().step_by(3).collect();
        let hidden: Vec<(u64, Scene)> =
            l.scenes.iter().filter(|(id, _)| !keep.contains(id)).map(|(id, s)| (*id, s.clone())).collect();
        l.scenes.retain(|id, _| keep.contains(id));
        hidden
    });
    let run = sync(&env, "full_sync");
    assert_eq!(run.out("/scenes/deleted"), &json!(0));
    assert!(run.logged(Level::Warning, "looks truncated"));
    assert_eq!(mirrored(&env)["scenes"].as_object().map(|m| m.len()), Some(402));
    // A real deletion of a few scenes is applied.
    env.stash.lib(|l| {
        l.scenes.extend(hidden);
        let last: Vec<u64> = l.scenes.keys().rev().take(5).copied().collect();
        for id in last {
            l.remove_scene(id);
        }
    });
    let run = sync(&env, "full_sync");
    assert_eq!(run.out("/scenes/deleted"), &json!(5));
    assert_mirror_equals_stash(&env);
}

fn hook(env: &TestEnv, id: u64, trigger: &str, input: Value) -> crate::support::runner::Run {
    let input = env.input(json!({"mode": "mirror_hook"})).hook(id, trigger, input, &[]);
    let run = env.run_input(&input);
    run.assert_ok();
    run
}

#[test]
fn hooks_refresh_one_scene_or_tag_and_follow_deletes_and_merges() {
    let env = TestEnv::new();
    library(&env, 100);
    sync(&env, "full_sync");
    let (ids, tags) =
        env.stash.lib(|l| (l.scenes.keys().copied().collect::<Vec<_>>(), l.tags.keys().copied().collect::<Vec<_>>()));
    env.stash.lib(|l| l.edit_scene(ids[5], |s| s.title = Some("saved in the UI".into())));
    env.stash.clear_requests();
    let run = hook(&env, ids[5], "Scene.Update.Post", json!({"id": ids[5].to_string(), "title": "saved in the UI"}));
    assert_eq!(run.out("/mirror/refreshed"), &json!(1));
    assert!(
        env.stash.requests().len() <= 3,
        "a hook sends almost nothing: {:?}",
        env.stash.requests().iter().map(|r| r.operation_name.clone()).collect::<Vec<_>>()
    );
    let created = env.stash.lib(|l| l.add_scene(Scene { title: Some("new".into()), ..Scene::default() }));
    hook(&env, created, "Scene.Create.Post", Value::Null);
    env.stash.lib(|l| l.remove_scene(ids[6]));
    hook(&env, ids[6], "Scene.Destroy.Post", json!({"id": ids[6].to_string()}));
    env.stash.lib(|l| l.edit_tag(tags[0], |t| t.name = "Renamed".into()));
    hook(&env, tags[0], "Tag.Update.Post", Value::Null);
    env.stash.lib(|l| l.merge_tags(&[tags[1], tags[2]], tags[3]));
    let run = hook(
        &env,
        tags[3],
        "Tag.Merge.Post",
        json!({"source": [tags[1].to_string(), tags[2].to_string()], "destination": tags[3].to_string()}),
    );
    assert_eq!(run.out("/mirror/deleted_tags"), &json!(2));
    // Deleting a studio or performer unlinks it from its scenes without touching them.
    let (studio, performer) = env.stash.lib(|l| {
        let studio = l.scenes.values().find_map(|s| s.studio_id).expect("a scene with a studio");
        let performer = l.scenes.values().find_map(|s| s.performer_ids.first().copied()).expect("a performer");
        l.studios.remove(&studio);
        l.performers.remove(&performer);
        for scene in l.scenes.values_mut() {
            scene.studio_id = scene.studio_id.filter(|s| *s != studio);
            scene.performer_ids.retain(|p| *p != performer);
        }
        (studio, performer)
    });
    hook(&env, studio, "Studio.Destroy.Post", Value::Null);
    hook(&env, performer, "Performer.Destroy.Post", Value::Null);
    assert_mirror_equals_stash(&env);
}

#[test]
fn hooks_can_be_turned_off() {
    let env = TestEnv::new();
    library(&env, 10);
    sync(&env, "full_sync");
    env.set_settings(json!({"mirrorHooks": false}));
    let id = env.stash.lib(|l| {
        let id = *l.scenes.keys().next().expect("a scene");
        l.edit_scene(id, |s| s.title = Some("changed".into()));
        id
    });
    let run = hook(&env, id, "Scene.Update.Post", Value::Null);
    assert!(run.out("/skipped").is_string());
    assert_ne!(mirrored(&env)["scenes"][id.to_string()]["title"], json!("changed"));
    // The incremental sync repairs what the hooks skipped.
    sync(&env, "incremental_sync");
    assert_mirror_equals_stash(&env);
}

#[test]
fn a_hook_never_fails_the_save_when_stash_or_the_mirror_misbehaves() {
    let env = TestEnv::new();
    library(&env, 10);
    sync(&env, "full_sync");
    env.stash.fail_times(20, Fault::Status(500));
    let input = env.input(json!({"mode": "mirror_hook"})).hook(1, "Scene.Update.Post", Value::Null, &[]);
    let run = env.run_input(&input);
    assert_eq!(run.exit_code, Some(0));
    assert_eq!(run.error, None);
    assert!(run.logged(Level::Warning, "next incremental sync catches up"), "{}", run.log_text());
}

/// Starts the binary on `args`, waits until `ready` holds on the database, then SIGKILLs it.
fn kill_when(env: &TestEnv, args: Value, ready: impl Fn(&Connection) -> bool) {
    env.kill_when(args, || Connection::open(env.db_path()).is_ok_and(|db| ready(&db)));
}

#[test]
fn a_killed_full_sync_resumes_from_its_checkpoint_at_several_points() {
    for kill_after_pages in [0_i64, 2, 5] {
        let env = TestEnv::new();
        library(&env, 3000);
        env.stash.fail_times(400, Fault::Slow(Duration::from_millis(40)));
        kill_when(&env, json!({"mode": "full_sync"}), |db| match kill_after_pages {
            0 => stopped_pass(db).is_some(),
            n => scene_checkpoint(db).unwrap_or(0) >= n * 500,
        });
        env.stash.clear_faults();
        env.stash.clear_requests();
        let run = sync(&env, "full_sync");
        assert_eq!(run.out("/resumed"), &json!(true), "kill point {kill_after_pages}");
        let first_scene_page =
            env.stash.requests_named("FindScenes").into_iter().find(|r| r.var("/filter/per_page") == Some(&json!(500)));
        if kill_after_pages > 0 {
            let after = first_scene_page.and_then(|r| r.var("/scene_filter/id/value").cloned());
            assert!(
                after.and_then(|v| v.as_i64()).unwrap_or(0) >= kill_after_pages * 500,
                "resumed from the checkpoint, not from the start"
            );
        }
        assert_mirror_equals_stash(&env);
        let db = Connection::open(env.db_path()).expect("opens");
        let killed: i64 =
            db.query_row("SELECT COUNT(*) FROM runs WHERE status = 'killed'", [], |r| r.get(0)).expect("counts");
        assert_eq!(killed, 1);
    }
}

#[test]
fn stash_going_away_mid_sync_keeps_what_was_committed_and_says_so() {
    let env = TestEnv::new();
    library(&env, 2000);
    // Let 4 scene pages through (after the 6 marks and the tag, performer, studio and gallery
    // pages), then Stash stops answering.
    let allowed = 6 + 4 + 4;
    for _ in 0..allowed {
        env.stash.fail_next(Fault::Slow(Duration::from_millis(1)));
    }
    env.stash.fail_times(50, Fault::DropConnection);
    let run = env.run(json!({"mode": "full_sync"}));
    assert_eq!(run.exit_code, Some(1));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("cannot reach Stash") && error.contains("copying scenes"), "{error}");
    let db = Connection::open(env.db_path()).expect("opens");
    let scenes: i64 = db.query_row("SELECT COUNT(*) FROM scenes", [], |r| r.get(0)).expect("counts");
    let checkpoint: i64 = scene_checkpoint(&db).unwrap_or(0);
    assert!(scenes > 0 && checkpoint > 0, "committed pages stay: {scenes} scenes, checkpoint {checkpoint}");
    env.stash.clear_faults();
    let run = sync(&env, "full_sync");
    assert_eq!(run.out("/resumed"), &json!(true));
    assert_mirror_equals_stash(&env);
}

#[test]
fn hooks_beside_a_running_sync_neither_deadlock_nor_lock_the_database() {
    let env = TestEnv::new();
    library(&env, 3000);
    env.stash.fail_times(200, Fault::Slow(Duration::from_millis(30)));
    let ids: Vec<u64> = env.stash.lib(|l| l.scenes.keys().copied().take(8).collect());
    std::thread::scope(|scope| {
        let sync = scope.spawn(|| env.run(json!({"mode": "full_sync"})));
        std::thread::sleep(Duration::from_millis(300));
        let hooks: Vec<_> = ids
            .iter()
            .map(|id| {
                let env = &env;
                scope.spawn(move || {
                    env.stash.lib(|l| l.edit_scene(*id, |s| s.title = Some(format!("edited {id}"))));
                    let input =
                        env.input(json!({"mode": "mirror_hook"})).hook(*id, "Scene.Update.Post", Value::Null, &[]);
                    env.run_input(&input)
                })
            })
            .collect();
        for hook in hooks {
            let run = hook.join().expect("hook thread");
            run.assert_ok();
            assert!(!run.logged_anywhere("database is locked"), "{}", run.log_text());
            assert!(run.out("/warning").is_null(), "{}", run.stdout);
        }
        sync.join().expect("sync thread").assert_ok();
    });
    env.stash.clear_faults();
    sync(&env, "incremental_sync");
    assert_mirror_equals_stash(&env);
}

#[test]
fn sync_status_reports_counts_watermarks_and_runs() {
    let env = TestEnv::new();
    library(&env, 20);
    sync(&env, "full_sync");
    let run = sync(&env, "sync_status");
    assert_eq!(run.out("/mirror/scenes"), &json!(22));
    assert!(run.out("/full_sync/completed_at").is_string());
    assert_eq!(run.out("/latest_runs/1/mode"), &json!("full_sync"));
    assert_eq!(run.out("/latest_runs/1/status"), &json!("ok"));
    assert!(run.out("/latest_runs/1/summary").is_null(), "compact: no whole summaries");
    assert!(run.out("/watermarks").is_null());
    assert!(run.logged(Level::Info, "Mirror: 22 scenes,"), "{}", run.log_text());

    let detailed = env.run(json!({"mode": "sync_status", "details": true}));
    detailed.assert_ok();
    assert!(detailed.out("/watermarks/scenes").is_string());
    assert_eq!(detailed.out("/runs/2/mode"), &json!("full_sync"));
    assert!(detailed.out("/runs/2/summary").is_object());
}

#[test]
fn applying_a_plan_pauses_our_hook_inside_each_mutation_and_catches_the_mirror_up_once() {
    let env = TestEnv::new();
    library(&env, 30);
    let (ids, tag) = env.stash.lib(|l| (l.scenes.keys().copied().take(4).collect::<Vec<_>>(), l.add_tag("Hooked")));
    sync(&env, "full_sync");
    let hook_runs = env.enable_hooks();
    let changes: Vec<Value> = ids
        .iter()
        .map(|id| json!({"entity": "scene", "id": id, "field": "tags", "action": "ADD", "value": tag, "status": "approved"}))
        .chain(std::iter::once(json!({"entity": "scene", "id": ids[0], "field": "title", "action": "SET",
            "value": "set by a plan", "before": env.stash.lib(|l| l.scenes[&ids[0]].title.clone()), "status": "approved"})))
        .collect();
    let plan = json!({"version": 1, "name": "hooked", "source": {"mode": "test", "settings": {}}, "changes": changes});
    env.run(json!({"mode": "import_plan", "plan": plan})).assert_ok();
    let run = env.run(json!({"mode": "apply_plan"}));
    run.assert_ok();
    let hooks = hook_runs.lock().map(|runs| runs.clone()).unwrap_or_default();
    assert_eq!(hooks.len(), 5, "one hook per scene of the bulk update, one for the sceneUpdate");
    for hook in &hooks {
        hook.assert_ok();
        assert!(hook.out("/skipped").as_str().is_some_and(|s| s.contains("StashHog is writing")), "{}", hook.stdout);
        assert!(hook.duration < run.duration);
    }
    // The apply caught the mirror up itself, once, instead of five hooks each re-reading a scene.
    assert!(run.logged(Level::Info, "Mirror caught up"), "{}", run.log_text());
    assert_mirror_equals_stash(&env);
    assert_eq!(mirrored(&env)["scenes"][ids[0].to_string()]["title"], json!("set by a plan"));
    // Outside a StashHog write, the hook refreshes the scene as usual.
    env.stash.lib(|l| l.edit_scene(ids[1], |s| s.title = Some("saved by the user".into())));
    let run = hook(&env, ids[1], "Scene.Update.Post", Value::Null);
    assert_eq!(run.out("/mirror/refreshed"), &json!(1));
}

#[test]
fn if_the_hooks_cannot_be_paused_they_run_inside_our_mutations_without_deadlock() {
    let env = TestEnv::new();
    library(&env, 20);
    let (ids, tag) = env.stash.lib(|l| (l.scenes.keys().copied().take(3).collect::<Vec<_>>(), l.add_tag("Hooked")));
    sync(&env, "full_sync");
    // A directory where the pause file goes: the pause cannot be taken, the hooks run for real,
    // each opening the database our apply writes its journal to.
    std::fs::create_dir_all(env.dir().join("stashhog").join("hooks.paused")).expect("creates");
    let hook_runs = env.enable_hooks();
    let changes: Vec<Value> = ids
        .iter()
        .map(|id| json!({"entity": "scene", "id": id, "field": "tags", "action": "ADD", "value": tag, "status": "approved"}))
        .collect();
    let plan = json!({"version": 1, "name": "hooked", "source": {"mode": "test", "settings": {}}, "changes": changes});
    env.run(json!({"mode": "import_plan", "plan": plan})).assert_ok();
    env.run(json!({"mode": "apply_plan"})).assert_ok();
    let hooks = hook_runs.lock().map(|runs| runs.clone()).unwrap_or_default();
    assert_eq!(hooks.len(), 3);
    for hook in &hooks {
        hook.assert_ok();
        assert_eq!(hook.out("/mirror/refreshed"), &json!(1), "{}", hook.log_text());
    }
    assert_mirror_equals_stash(&env);
}

#[test]
fn an_unreadable_record_of_a_stopped_full_sync_says_to_run_full_sync_and_full_sync_starts_over() {
    let env = TestEnv::new();
    library(&env, 20);
    sync(&env, "full_sync");
    // What an older StashHog kept, or a damaged row: neither may quietly copy everything again.
    let db = Connection::open(env.db_path()).expect("opens");
    db.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('full_sync.pass', '7')", []).expect("writes");
    env.stash.clear_requests();
    let run = env.run(json!({"mode": "incremental_sync"}));
    assert_eq!(run.exit_code, Some(1));
    let error = run.error.clone().unwrap_or_default();
    assert!(
        error.contains("stopped full sync cannot be read") && error.contains("run the task \"Full sync\""),
        "{error}"
    );
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(env.stash.requests_named("FindScenes").is_empty(), "nothing was copied");
    let status = env.run(json!({"mode": "sync_status"}));
    assert!(status.error.clone().unwrap_or_default().contains("run the task \"Full sync\""));

    let run = sync(&env, "full_sync");
    assert_eq!(run.out("/resumed"), &json!(false));
    assert!(run.logged(Level::Warning, "cannot be continued"));
    assert!(stopped_pass(&db).is_none(), "the pass completed and its record went");
    assert_mirror_equals_stash(&env);
    sync(&env, "incremental_sync");
}
