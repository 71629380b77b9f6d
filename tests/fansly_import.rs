//! `import_fansly` through the real binary against the fake Stash: a scraper database (both
//! eras) and the files Stash scanned become a plan; applied, Stash holds what a careful person
//! would set; a second import changes nothing; a killed apply resumes; rollback removes what
//! the import created once nothing uses it.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::fake_http::Fault;
use crate::support::fake_stash::{Gallery, Image, ImageFile, Performer, Scene, VideoFile};
use crate::support::fansly::pg::Server;
use crate::support::fansly::scenario::{self, *};
use crate::support::runner::Level;

/// A fake Stash holding the scenario's videos as scenes and photos as images, an "Annabelle"
/// (the substring trap), Bella and Carla as performers, and tags Beach, "Summer Vibes" (alias
/// summer) and Trailer.
fn library() -> TestEnv {
    let env = TestEnv::new();
    env.stash.lib(|l| {
        for file in scenario::standard().files {
            if file.video {
                l.add_scene(Scene { files: vec![VideoFile::new(&file.path, vec![])], ..Scene::default() });
            } else {
                l.add_image(Image { files: vec![ImageFile::new(&file.path)], ..Image::default() });
            }
        }
        l.add_scene(Scene { files: vec![VideoFile::new("/data/movies/holiday.mp4", vec![])], ..Scene::default() });
        l.insert_performer(Performer {
            name: "Annabelle".into(),
            alias_list: vec!["annabelle".into()],
            urls: vec!["https://fansly.com/annabelle".into()],
            ..Performer::default()
        });
        l.add_performer("Bella");
        l.add_performer("Carla");
        l.add_tag("Beach");
        let summer = l.add_tag("Summer Vibes");
        l.edit_tag(summer, |t| t.aliases = vec!["summer".into()]);
        l.add_tag("Trailer");
    });
    env
}

fn sqlite_settings(env: &TestEnv) -> Value {
    let path: PathBuf = env.root().join("metadata_db.sqlite3");
    scenario::standard().fixture.write_sqlite(&path);
    json!({"fanslyDatabase": path.to_string_lossy()})
}

fn scene_with(env: &TestEnv, needle: &str) -> Scene {
    env.stash.lib(|l| {
        l.scenes.values().find(|s| s.files.iter().any(|f| f.path.contains(needle))).cloned().expect("scene of the file")
    })
}

fn import(env: &TestEnv, args: Value) -> crate::support::runner::Run {
    let mut all = json!({"mode": "import_fansly"});
    if let (Some(all), Some(args)) = (all.as_object_mut(), args.as_object()) {
        all.extend(args.clone());
    }
    let run = env.run(all);
    run.assert_ok();
    run
}

fn approve_and_apply(env: &TestEnv, plan_id: i64) {
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    env.run(json!({"mode": "apply_plan", "plan_id": plan_id})).assert_ok();
}

/// What the end state of the scenario must be, whatever era it came from.
fn assert_careful_end_state(env: &TestEnv) {
    let names = |ids: &[u64], of: &str| -> Vec<String> {
        env.stash.lib(|l| {
            ids.iter()
                .map(|id| match of {
                    "performer" => l.performers[id].name.clone(),
                    "tag" => l.tag(*id).map(|t| t.name.clone()).unwrap_or_default(),
                    _ => l.studios[id].name.clone(),
                })
                .collect::<std::collections::BTreeSet<String>>()
                .into_iter()
                .collect::<Vec<String>>()
        })
    };
    let beach = scene_with(env, &V_BEACH_HLS.to_string());
    assert_eq!(beach.title.as_deref(), Some("Beach day with @carla and @ghost #Beach #summer"));
    assert_eq!(beach.date.as_deref(), Some("2024-03-01"));
    assert_eq!(beach.details.as_deref(), Some("Beach day with @carla and @ghost #Beach #summer\nMore text below."));
    assert_eq!(beach.code, Some(V_BEACH.to_string()), "code = the media id, not the variant's");
    assert_eq!(beach.urls, vec![format!("https://fansly.com/post/{P_BEACH}")]);
    assert_eq!(names(&beach.performer_ids, "performer"), vec!["Anna Lee", "Carla"], "never Annabelle; ghost is nobody");
    assert_eq!(names(&beach.tag_ids, "tag"), vec!["Beach", "Summer Vibes"]);
    let studio = beach.studio_id.expect("a studio");
    env.stash.lib(|l| {
        let anna = l.performer_by_name("Anna Lee").expect("Anna created");
        assert_eq!(anna.alias_list, vec!["anna"]);
        assert_eq!(anna.urls, vec!["https://fansly.com/anna"]);
        let studio = &l.studios[&studio];
        assert_eq!(studio.name, "anna (Fansly)");
        assert_eq!(studio.urls, vec!["https://fansly.com/anna"]);
        let network = studio.parent_id.map(|p| l.studios[&p].name.clone());
        assert_eq!(network.as_deref(), Some("Fansly (network)"));
    });

    let legacy = scene_with(env, "hash2");
    assert_eq!(legacy.title.as_deref(), Some("An old clip from last winter, finally uploaded"));
    assert_eq!(legacy.date.as_deref(), Some("2023-01-03"), "the post's UTC date, not the file name's local time");

    let message = scene_with(env, &V_MESSAGE.to_string());
    assert_eq!(message.title.as_deref(), Some("anna - 2024/04/01"));
    assert_eq!(message.details, None, "an empty message has no details");
    assert!(message.urls.is_empty(), "message pages are private: no URL on the scene");

    let sunset = scene_with(env, &V_SUNSET.to_string());
    assert_eq!(names(&sunset.performer_ids, "performer"), vec!["Bella"], "renamed creator found by display name");
    assert_eq!(sunset.studio_id.map(|s| names(&[s], "studio")[0].clone()).as_deref(), Some("bella_new (Fansly)"));
    assert_eq!(names(&sunset.tag_ids, "tag"), vec!["Beach"]);

    let orphan = scene_with(env, &V_ORPHAN.to_string());
    assert_eq!((orphan.title, orphan.studio_id), (None, None), "no post: nothing to say");
    let other = scene_with(env, "holiday.mp4");
    assert_eq!((other.title, other.studio_id), (None, None));
    assert_careful_galleries_and_images(env, &beach, studio);
}

fn image_with(env: &TestEnv, needle: &str) -> Image {
    env.stash.lib(|l| {
        l.images.values().find(|i| i.files.iter().any(|f| f.path.contains(needle))).cloned().expect("image of the file")
    })
}

fn gallery(env: &TestEnv, item: i64) -> Gallery {
    env.stash.lib(|l| l.gallery_by_code(&item.to_string()).cloned()).unwrap_or_else(|| panic!("a gallery for {item}"))
}

/// A gallery per post or message with media in Stash, found by its code; photos stamped like
/// videos; every object in the gallery of each post that shows it.
fn assert_careful_galleries_and_images(env: &TestEnv, beach: &Scene, anna_studio: u64) {
    let post = gallery(env, P_BEACH);
    assert_eq!(post.title.as_deref(), Some("Beach day with @carla and @ghost #Beach #summer"));
    assert_eq!(post.date.as_deref(), Some("2024-03-01"));
    assert_eq!(post.urls, vec![format!("https://fansly.com/post/{P_BEACH}")]);
    assert_eq!(post.studio_id, Some(anna_studio));
    let (performers, tags) = env.stash.lib(|l| {
        let mut p: Vec<String> = post.performer_ids.iter().map(|id| l.performers[id].name.clone()).collect();
        let mut t: Vec<String> = post.tag_ids.iter().filter_map(|id| l.tag(*id)).map(|t| t.name.clone()).collect();
        p.sort();
        t.sort();
        (p, t)
    });
    assert_eq!(performers, vec!["Anna Lee", "Carla"]);
    assert_eq!(tags, vec!["Beach", "Summer Vibes"]);
    let again = gallery(env, P_AGAIN);
    assert_eq!(again.title.as_deref(), Some("anna - 2024/03/05"), "a post without text: the default title");
    assert!(beach.gallery_ids.contains(&post.id) && beach.gallery_ids.contains(&again.id), "both posts show it");
    let message = gallery(env, M_VIDEO);
    assert_eq!(message.urls, vec![format!("https://fansly.com/messages/{GROUP}/{M_VIDEO}")]);
    assert_eq!(env.stash.lib(|l| l.gallery_scene_ids(message.id).len()), 1);

    let preview = image_with(env, &I_LOCKED_PREVIEW.to_string());
    assert_eq!(preview.title, post.title, "the post's title, like its video");
    assert_eq!(preview.code, Some(I_LOCKED_PREVIEW.to_string()));
    assert_eq!(preview.gallery_ids, vec![post.id]);
    let trailer = env.stash.lib(|l| l.tag_by_name("Trailer").map(|t| t.id));
    assert!(trailer.is_some_and(|t| preview.tag_ids.contains(&t)), "a preview gets the trailer tag");

    let bundle = gallery(env, P_BUNDLE);
    assert_eq!(bundle.title.as_deref(), Some("anna - 2024/03/02"));
    let mut in_bundle = env.stash.lib(|l| l.gallery_image_ids(bundle.id));
    in_bundle.sort_unstable();
    let mut photos = vec![image_with(env, &I_BUNDLE_A.to_string()).id, image_with(env, &I_BUNDLE_B.to_string()).id];
    photos.sort_unstable();
    assert_eq!(in_bundle, photos);
    let photo = image_with(env, &I_SUNSET.to_string());
    assert_eq!(photo.date.as_deref(), Some("2024-05-01"));
    assert_eq!(photo.urls, vec![format!("https://fansly.com/post/{Q_SUNSET}")]);
    assert_eq!(photo.gallery_ids, vec![gallery(env, Q_SUNSET).id]);
    assert_eq!(env.stash.lib(|l| l.galleries.len()), 6, "one per post or message with media in Stash");
}

#[test]
fn sqlite_era_import_applies_what_a_careful_person_would_set_and_a_second_import_changes_nothing() {
    let env = library();
    env.set_settings(sqlite_settings(&env));
    let run = import(&env, json!({}));
    assert_eq!(run.out("/era/engine"), &json!("sqlite"));
    assert_eq!(run.out("/files_matched"), &json!(8));
    assert_eq!(run.out("/images_matched"), &json!(4));
    assert_eq!(run.out("/files_not_matched/media_without_post_or_message"), &json!(1));
    assert_eq!(
        env.stash.requests_named("SceneUpdate").len() + env.stash.requests_named("BulkSceneUpdate").len(),
        0,
        "dry run"
    );
    let plan_id = run.out("/plan_id").as_i64().expect("a plan");
    // Images and galleries read by name where people review them.
    let shown = env.run(json!({"mode": "show_plan", "plan_id": plan_id, "field": "galleries", "per_page": 1000}));
    shown.assert_ok();
    let changes = shown.out("/changes").as_array().cloned().unwrap_or_default();
    let preview = changes
        .iter()
        .find(|c| {
            c["entity"] == "image" && c["path"].as_str().is_some_and(|p| p.contains(&I_LOCKED_PREVIEW.to_string()))
        })
        .unwrap_or_else(|| panic!("the preview image joins a gallery: {changes:?}"));
    assert_eq!(preview["value_name"], "Beach day with @carla and @ghost #Beach #summer (new)");
    assert!(preview["title"].as_str().is_some_and(|t| t.ends_with(".jpg")), "an untitled image reads as its file");
    approve_and_apply(&env, plan_id);
    assert_careful_end_state(&env);

    env.stash.clear_requests();
    let again = import(&env, json!({}));
    assert_eq!(again.out("/plan_id"), &Value::Null, "{}", again.output);
    assert_eq!(again.out("/changes"), &json!(0));
    assert_eq!(again.out("/unchanged"), &json!(8));
    assert_eq!(again.out("/galleries_found"), &json!(6), "found again by their codes, nothing to change");
}

#[test]
fn postgresql_era_import_ends_in_the_same_state() {
    let Some(server) = Server::from_env("postgresql_era_import_ends_in_the_same_state") else { return };
    scenario::standard().fixture.write_postgres(&server, "fansly_import_e2e");
    let env = library();
    env.set_settings(json!({
        "fanslyPgHost": server.host, "fanslyPgPort": server.port, "fanslyPgUser": server.user,
        "fanslyPgDatabase": "fansly_import_e2e", "fanslyPgPassword": "not-needed-with-trust"
    }));
    let run = import(&env, json!({}));
    assert_eq!(run.out("/era/engine"), &json!("postgresql"));
    assert_eq!(run.out("/era/revision"), &json!("b6d60f698c27"));
    assert!(!run.log_text().contains("not-needed-with-trust"), "the password is never logged");
    approve_and_apply(&env, run.out("/plan_id").as_i64().expect("a plan"));
    assert_careful_end_state(&env);
    assert_eq!(import(&env, json!({})).out("/changes"), &json!(0));
}

#[test]
fn filled_fields_stay_organized_scenes_are_untouched_and_overwrites_wait_for_review() {
    let env = library();
    env.set_settings(sqlite_settings(&env));
    let beach = scene_with(&env, &V_BEACH_HLS.to_string()).id;
    let sunset = scene_with(&env, &V_SUNSET.to_string()).id;
    env.stash.lib(|l| {
        l.edit_scene(beach, |s| s.title = Some("My beach video".into()));
        l.edit_scene(sunset, |s| s.organized = true);
    });
    let run = import(&env, json!({"fanslyDryRun": false}));
    assert_eq!(run.out("/organized_skipped"), &json!(1));
    let beach_after = scene_with(&env, &V_BEACH_HLS.to_string());
    assert_eq!(beach_after.title.as_deref(), Some("My beach video"), "an overwrite is only proposed");
    assert_eq!(beach_after.date.as_deref(), Some("2024-03-01"), "empty fields are filled");
    let sunset_after = scene_with(&env, &V_SUNSET.to_string());
    assert_eq!((sunset_after.title, sunset_after.performer_ids.len()), (None, 0));
    let plan_id = run.out("/plan_id").as_i64().expect("a plan");
    let pending = env.run(json!({"mode": "show_plan", "plan_id": plan_id, "status": "pending"}));
    pending.assert_ok();
    let changes = pending.out("/changes").as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((&changes[0]["field"], &changes[0]["before"]), (&json!("title"), &json!("My beach video")));

    // Rejected once, never proposed again; nothing else is left to do.
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "reject", "all": true})).assert_ok();
    let again = import(&env, json!({}));
    assert_eq!(again.out("/rejected_before_not_proposed"), &json!(1));
    assert_eq!((again.out("/changes"), again.out("/plan_id")), (&json!(0), &Value::Null), "{}", again.output);
}

#[test]
fn rollback_deletes_what_the_import_created_once_unused() {
    let env = library();
    env.set_settings(sqlite_settings(&env));
    let run = import(&env, json!({"fanslyDryRun": false}));
    let plan_id = run.out("/plan_id").as_i64().expect("a plan");
    assert!(env.stash.lib(|l| l.performer_by_name("Anna Lee").is_some()));
    let back = env.run(json!({"mode": "rollback_plan", "plan_id": plan_id, "delete_created": true}));
    back.assert_ok();
    env.stash.lib(|l| {
        assert!(l.performer_by_name("Anna Lee").is_none());
        assert!(l.studio_by_name("anna (Fansly)").is_none() && l.studio_by_name("Fansly (network)").is_none());
        assert!(l.performer_by_name("Bella").is_some(), "what existed stays");
        assert!(l.scenes.values().all(|s| s.title.is_none() && s.studio_id.is_none() && s.performer_ids.is_empty()));
        assert!(l.images.values().all(|i| i.title.is_none() && i.gallery_ids.is_empty()));
        assert!(l.galleries.is_empty(), "the galleries the import made are gone");
    });
}

#[test]
fn a_killed_apply_resumes_without_repeating_a_change() {
    let env = library();
    env.set_settings(sqlite_settings(&env));
    let plan_id = import(&env, json!({})).out("/plan_id").as_i64().expect("a plan");
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    env.stash.clear_requests();
    let stash = &env.stash;
    // Killed while creating the creator's studio: a CREATE that carries a parent and URLs.
    env.kill_when(json!({"mode": "apply_plan", "plan_id": plan_id, "batch_size": 1}), || {
        stash.requests_named("StudioCreate").len() >= 2
    });
    let resumed = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    resumed.assert_ok();
    assert_eq!(env.stash.requests_named("PerformerCreate").len(), 1, "never created twice");
    assert_eq!(env.stash.lib(|l| l.studios.values().filter(|s| s.name == "Fansly (network)").count()), 1);
    assert_careful_end_state(&env);
}

#[test]
fn a_kill_while_galleries_are_created_makes_none_twice() {
    let env = library();
    env.set_settings(sqlite_settings(&env));
    let plan_id = import(&env, json!({})).out("/plan_id").as_i64().expect("a plan");
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    env.stash.clear_requests();
    // The six galleries go in one aliased request; Stash is still making them when the kill
    // lands, and finishes.
    env.stash.fail_next_named("GalleryCreate", Fault::Slow(Duration::from_millis(1500)));
    let stash = &env.stash;
    env.kill_when(json!({"mode": "apply_plan", "plan_id": plan_id}), || {
        !stash.requests_named("GalleryCreate").is_empty()
    });
    env.stash.wait_for_answers();
    let resumed = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    resumed.assert_ok();
    assert_eq!(resumed.out("/resumed_batches"), &json!(1));
    assert!(resumed.logged(Level::Info, "6 of its 6 change(s) had landed"), "{}", resumed.log_text());
    assert_eq!(env.stash.requests_named("GalleryCreate").len(), 1, "none made again");
    let codes: Vec<Option<String>> = env.stash.lib(|l| l.galleries.values().map(|g| g.code.clone()).collect());
    let distinct: std::collections::HashSet<&Option<String>> = codes.iter().collect();
    assert_eq!((codes.len(), distinct.len()), (6, 6), "a gallery the killed run made is found by its code: {codes:?}");
    assert_careful_end_state(&env);
}

#[test]
fn without_a_database_setting_the_import_says_what_to_set() {
    let env = library();
    let run = env.run(json!({"mode": "import_fansly"}));
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("fanslyDatabase") && error.contains("fanslyPgHost"), "{error}");
    env.set_settings(json!({"fanslyDatabase": env.root().join("missing.sqlite3").to_string_lossy()}));
    let missing = env.run(json!({"mode": "import_fansly"}));
    let error = missing.error.clone().unwrap_or_default();
    assert!(error.contains("no such file") && error.contains("metadata_db.sqlite3"), "{error}");
}
