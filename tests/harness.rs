//! Tests of the test harness itself: the fakes must behave like the real servers and the
//! parsers like Stash's, or every other test proves nothing. These talk to the fakes with a
//! plain HTTP client and feed the parsers hand-written samples; none needs the binary.

use crate::support::fake_http::Fault;
use crate::support::fake_stash::{
    FakeStash, Fingerprint, Scene, StashId, SystemStatus, VideoFile, natural_cmp_ci, rfc3339, sqlite_like,
};
use crate::support::fake_stashbox::{Algorithm, BoxFingerprint, BoxScene, FakeStashBox};
use crate::support::runner::{Exit, Level, LogLine, Run, decode_stdout, parse_stderr};
use crate::support::schema;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::time::{Duration, Instant};

const ENDPOINT: &str = "https://stashdb.org/graphql";

fn client() -> Client {
    Client::builder().no_proxy().timeout(Duration::from_secs(20)).build().expect("a reqwest client")
}

/// POSTs a GraphQL request; returns (status, headers, body text).
fn post(
    url: &str,
    query: &str,
    variables: Value,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = client().post(url).json(&json!({"query": query, "variables": variables}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().expect("the fake answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().expect("a body"))
}

/// POSTs and parses the JSON body.
fn gql(url: &str, query: &str, variables: Value) -> (u16, Value) {
    let (status, _, body) = post(url, query, variables, &[]);
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (status, json)
}

const FIND_SCENES: &str = "query FindScenes($filter: FindFilterType, $scene_filter: SceneFilterType) {
  findScenes(filter: $filter, scene_filter: $scene_filter) { count scenes { id title updated_at } }
}";

fn scene_ids(body: &Value) -> Vec<u64> {
    body["data"]["findScenes"]["scenes"]
        .as_array()
        .unwrap_or_else(|| panic!("no scenes in {body}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// A fake Stash with `n` scenes titled `Scene <i>`, three per `updated_at` second.
fn stash_with_scenes(n: usize) -> FakeStash {
    let stash = FakeStash::start();
    stash.lib(|l| {
        let mut stamp = String::new();
        l.add_scenes(n, |i| {
            if i % 3 == 0 {
                stamp = rfc3339(1_767_225_600 + i as i64, 0);
            }
            Scene {
                title: Some(format!("Scene {}", i + 1)),
                created_at: stamp.clone(),
                updated_at: stamp.clone(),
                ..Scene::default()
            }
        });
    });
    stash
}

// ---- schemas -------------------------------------------------------------------------------

#[test]
fn upstream_schemas_load_and_know_the_operations_we_use() {
    let stash = schema::stash_schema();
    assert!(stash.get_object("Scene").is_some());
    assert!(schema::stashbox_schema().get_object("Scene").is_some());
    if std::env::var_os("CI").is_some() {
        assert!(schema::upstream_dir().is_some(), "CI must validate against upstream");
    }
}

// ---- fake Stash: GraphQL fidelity ----------------------------------------------------------

#[test]
fn fake_stash_rejects_an_invalid_operation_with_422_and_no_data() {
    let stash = FakeStash::start();
    let (status, body) =
        gql(&stash.graphql_url(), "query Bad { findScenes(filter: {per_page: \"x\"}) { count nope } }", json!({}));
    assert_eq!(status, 422);
    assert!(body["data"].is_null(), "{body}");
    let errors = body["errors"].as_array().expect("errors");
    assert!(errors.len() >= 2, "both problems are reported: {body}");
    assert!(body.to_string().contains("nope"), "{body}");
    let logged = stash.requests_named("Bad");
    assert_eq!(logged.len(), 1, "invalid requests are logged too");
    assert_eq!(logged[0].status, Some(422));
    assert!(!logged[0].errors.is_empty());
}

#[test]
fn fake_stash_executes_aliases_fragments_and_variables() {
    let stash = FakeStash::start();
    let tag = stash.lib(|l| l.add_tag("Anal"));
    stash.lib(|l| {
        l.add_scene(Scene {
            title: Some("One".into()),
            tag_ids: vec![tag],
            stash_ids: vec![StashId::new(ENDPOINT, "abc")],
            files: vec![VideoFile::new("/x/one.mp4", vec![Fingerprint::new("phash", "8f")])],
            ..Scene::default()
        })
    });
    let query = "query Q($f: FindFilterType) {
        v: version { version }
        systemStatus { status appSchema }
        a: findScenes(filter: $f) { count scenes { ...S } }
        b: findTags { tags { name } }
      }
      fragment S on Scene { id t: title tags { id name } stash_ids { endpoint stash_id updated_at }
        files { path fp: fingerprint(type: \"phash\") fingerprints { type value } } }";
    let (status, body) = gql(&stash.graphql_url(), query, json!({"f": {"per_page": 5}}));
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let data = &body["data"];
    assert_eq!(data["v"]["version"], "v0.30.1");
    assert_eq!(data["systemStatus"]["status"], "OK");
    let scene = &data["a"]["scenes"][0];
    assert_eq!(scene["t"], "One");
    assert_eq!(scene["tags"][0]["name"], "Anal");
    assert_eq!(scene["stash_ids"][0]["stash_id"], "abc");
    assert!(scene["stash_ids"][0]["updated_at"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(scene["files"][0]["fp"], "8f");
    assert_eq!(data["b"]["tags"][0]["name"], "Anal");

    // Editing the library while the server runs shows in the next answer.
    stash.lib(|l| l.edit_tag(tag, |t| t.name = "Anal Sex".into()));
    let (_, body) = gql(&stash.graphql_url(), query, json!({}));
    assert_eq!(body["data"]["a"]["scenes"][0]["tags"][0]["name"], "Anal Sex");
}

#[test]
fn fake_stash_fails_loudly_on_what_it_does_not_model() {
    let stash = stash_with_scenes(1);
    let (status, body) = gql(&stash.graphql_url(), "{ findScenes { scenes { id o_counter } } }", json!({}));
    assert_eq!(status, 200);
    assert!(body.to_string().contains("does not model Scene.o_counter"), "{body}");
    let (_, body) = gql(&stash.graphql_url(), "{ findScenes(filter: {sort: \"nonsense\"}) { count } }", json!({}));
    assert!(body.to_string().contains("invalid sort: nonsense"), "{body}");
}

#[test]
fn fake_stash_reports_status_and_configuration() {
    let stash = FakeStash::start();
    stash.set_status(SystemStatus::NeedsMigration);
    stash.config(|c| {
        c.add_stash_box(ENDPOINT, "key", "StashDB");
        c.exclude_tag_patterns = vec!["^4k$".into()];
    });
    let query = "query Configuration($plugins: [ID!]) {
        systemStatus { status }
        configuration { general { stashBoxes { endpoint api_key name max_requests_per_minute } }
          scraping { excludeTagPatterns } plugins(include: $plugins) } }";
    let (_, body) = gql(&stash.graphql_url(), query, json!({"plugins": ["stashhog"]}));
    assert_eq!(body["data"]["systemStatus"]["status"], "NEEDS_MIGRATION");
    let config = &body["data"]["configuration"];
    assert_eq!(config["general"]["stashBoxes"][0]["endpoint"], ENDPOINT);
    assert_eq!(config["general"]["stashBoxes"][0]["max_requests_per_minute"], 0);
    assert_eq!(config["scraping"]["excludeTagPatterns"][0], "^4k$");
    assert_eq!(config["plugins"], json!({}), "never-saved settings are absent");

    stash.config(|c| c.set_plugin_setting("stashhog", "syncDryRun", json!(true)));
    let (_, body) = gql(&stash.graphql_url(), query, json!({"plugins": ["stashhog"]}));
    assert_eq!(body["data"]["configuration"]["plugins"], json!({"stashhog": {"syncDryRun": true}}));
}

// ---- fake Stash: paging, sorting, filtering ------------------------------------------------

#[test]
fn sorted_pages_cover_every_scene_exactly_once() {
    let stash = stash_with_scenes(60);
    for (sort, direction) in [("id", "ASC"), ("id", "DESC"), ("updated_at", "ASC"), ("title", "DESC")] {
        let mut seen = Vec::new();
        for page in 1..=3 {
            let filter = json!({"page": page, "per_page": 25, "sort": sort, "direction": direction});
            let (_, body) = gql(&stash.graphql_url(), FIND_SCENES, json!({"filter": filter}));
            assert_eq!(body["data"]["findScenes"]["count"], 60);
            seen.extend(scene_ids(&body));
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 60, "sort {sort} {direction}: {seen:?}");
        assert_eq!(seen.len(), 60);
        if sort == "id" {
            let mut expected: Vec<u64> = (1..=60).collect();
            if direction == "DESC" {
                expected.reverse();
            }
            assert_eq!(seen, expected);
        }
    }
    // Natural, case-insensitive title order: "Scene 2" before "Scene 10".
    let filter = json!({"per_page": 3, "sort": "title"});
    let (_, body) = gql(&stash.graphql_url(), FIND_SCENES, json!({"filter": filter}));
    let titles: Vec<&str> =
        body["data"]["findScenes"]["scenes"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Scene 1", "Scene 2", "Scene 3"]);
}

#[test]
fn unsorted_scenes_come_back_in_a_different_order_each_time() {
    let stash = stash_with_scenes(50);
    let all = json!({"filter": {"per_page": -1}});
    let orders: Vec<Vec<u64>> =
        (0..3).map(|_| scene_ids(&gql(&stash.graphql_url(), FIND_SCENES, all.clone()).1)).collect();
    assert_eq!(orders[0].len(), 50);
    assert!(orders[0] != orders[1] || orders[1] != orders[2], "no ORDER BY must not look like one");
    // Paging without a sort repeats and skips rows, as against real Stash.
    let mut seen = Vec::new();
    for page in 1..=5 {
        let filter = json!({"filter": {"page": page, "per_page": 10}});
        seen.extend(scene_ids(&gql(&stash.graphql_url(), FIND_SCENES, filter).1));
    }
    seen.sort_unstable();
    seen.dedup();
    assert!(seen.len() < 50, "unsorted paging happened to cover everything");
}

#[test]
fn tags_default_to_name_order_like_stash() {
    let stash = FakeStash::start();
    stash.lib(|l| {
        for name in ["beta", "Alpha", "gamma 10", "gamma 9"] {
            l.add_tag(name);
        }
    });
    let (_, body) = gql(&stash.graphql_url(), "{ findTags { count tags { name } } }", json!({}));
    let names: Vec<&str> =
        body["data"]["findTags"]["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Alpha", "beta", "gamma 9", "gamma 10"]);
}

#[test]
fn scene_filters_behave_like_stash_sql() {
    let stash = stash_with_scenes(9);
    stash.lib(|l| {
        l.scene_mut(1).unwrap().stash_ids = vec![StashId::new(ENDPOINT, "aaa")];
        l.scene_mut(2).unwrap().stash_ids = vec![StashId::new("https://other/graphql", "bbb")];
        l.scene_mut(3).unwrap().stash_ids = vec![StashId::new(ENDPOINT, "CCC")];
    });
    let count = |scene_filter: Value| {
        let (_, body) = gql(
            &stash.graphql_url(),
            FIND_SCENES,
            json!({"scene_filter": scene_filter, "filter": {"per_page": -1, "sort": "id"}}),
        );
        assert!(body.get("errors").is_none(), "{body}");
        scene_ids(&body)
    };
    assert_eq!(count(json!({"stash_id_endpoint": {"endpoint": ENDPOINT, "modifier": "NOT_NULL"}})), [1, 3]);
    assert_eq!(
        count(json!({"stash_id_endpoint": {"endpoint": ENDPOINT, "modifier": "IS_NULL"}})),
        [2, 4, 5, 6, 7, 8, 9]
    );
    // EQUALS is SQLite LIKE: ASCII case-insensitive.
    assert_eq!(
        count(json!({"stash_id_endpoint": {"endpoint": ENDPOINT, "stash_id": "ccc", "modifier": "EQUALS"}})),
        [3]
    );
    // Timestamps compare as text: scenes 7..9 share the last second.
    let last = rfc3339(1_767_225_600 + 6, 0);
    assert_eq!(count(json!({"updated_at": {"value": last, "modifier": "EQUALS"}})), [7, 8, 9]);
    let second = rfc3339(1_767_225_600 + 3, 0);
    assert_eq!(count(json!({"updated_at": {"value": second, "modifier": "GREATER_THAN"}})), [7, 8, 9]);
    let (_, body) =
        gql(&stash.graphql_url(), FIND_SCENES, json!({"scene_filter": {"path": {"value": "x", "modifier": "EQUALS"}}}));
    assert!(body.to_string().contains("does not model the filter"), "{body}");
}

#[test]
fn generated_libraries_are_big_and_pageable() {
    let stash = FakeStash::start();
    let made = stash.lib(|l| {
        l.generate(&crate::support::fake_stash::Generate {
            scenes: 5000,
            scenes_per_timestamp: 10,
            ..Default::default()
        })
    });
    assert_eq!(made.scene_ids.len(), 5000);
    let started = Instant::now();
    let filter = json!({"filter": {"page": 3, "per_page": 1000, "sort": "updated_at"},
        "scene_filter": {"stash_id_endpoint": {"endpoint": ENDPOINT, "modifier": "NOT_NULL"}}});
    let (_, body) = gql(&stash.graphql_url(), FIND_SCENES, filter);
    assert_eq!(body["data"]["findScenes"]["count"], 2500);
    assert_eq!(scene_ids(&body).len(), 500);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn mutations_update_partially_and_bulk_add_remove() {
    let stash = stash_with_scenes(2);
    let (a, b, c) = stash.lib(|l| (l.add_tag("A"), l.add_tag("B"), l.add_tag("C")));
    stash.lib(|l| l.scene_mut(1).unwrap().tag_ids = vec![a, b]);
    let before = stash.lib(|l| l.scene(1).unwrap().updated_at.clone());
    let (_, body) = gql(
        &stash.graphql_url(),
        "mutation U($input: SceneUpdateInput!) { sceneUpdate(input: $input) { id title details } }",
        json!({"input": {"id": "1", "details": "new", "code": null}}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["sceneUpdate"]["title"], "Scene 1", "absent keys stay");
    stash.lib(|l| {
        let scene = l.scene(1).unwrap();
        assert_eq!(scene.details.as_deref(), Some("new"));
        assert_eq!(scene.tag_ids, [a, b]);
        assert!(scene.updated_at > before);
    });
    let (_, body) = gql(
        &stash.graphql_url(),
        "mutation B($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $input) { id tags { name } } }",
        json!({"input": {"ids": ["1", "2"], "tag_ids": {"ids": [c.to_string()], "mode": "ADD"}}}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    let (_, _) = gql(
        &stash.graphql_url(),
        "mutation B($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $input) { id } }",
        json!({"input": {"ids": ["1"], "tag_ids": {"ids": [a.to_string()], "mode": "REMOVE"}}}),
    );
    stash.lib(|l| {
        assert_eq!(l.scene_tag_names(1), ["B", "C"]);
        assert_eq!(l.scene_tag_names(2), ["C"]);
    });
}

#[test]
fn bulk_scene_update_adds_and_removes_urls_like_stash() {
    let stash = stash_with_scenes(2);
    stash.lib(|l| l.scene_mut(1).unwrap().urls = vec!["https://a".into()]);
    let bulk = "mutation B($input: BulkSceneUpdateInput!) { bulkSceneUpdate(input: $input) { id } }";
    let (_, body) = gql(
        &stash.graphql_url(),
        bulk,
        json!({"input": {"ids": ["1", "2"], "urls": {"values": ["https://a", "https://b"], "mode": "ADD"}}}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    gql(
        &stash.graphql_url(),
        bulk,
        json!({"input": {"ids": ["2"], "urls": {"values": ["https://a"], "mode": "REMOVE"}}}),
    );
    stash.lib(|l| {
        assert_eq!(l.scene(1).unwrap().urls, ["https://a", "https://b"], "no duplicate");
        assert_eq!(l.scene(2).unwrap().urls, ["https://b"]);
    });
}

#[test]
fn galleries_and_images_link_update_and_destroy_like_stash() {
    use crate::support::fake_stash::{Image, ImageFile};
    let stash = stash_with_scenes(1);
    let (tag, image) = stash.lib(|l| {
        let tag = l.add_tag("Outdoor");
        let image = l.add_image(Image { files: vec![ImageFile::new("/dl/a_id_7.jpg")], ..Image::default() });
        (tag, image)
    });
    let url = stash.graphql_url();
    let (_, body) = gql(
        &url,
        "mutation C($input: GalleryCreateInput!) { galleryCreate(input: $input) { id title code } }",
        json!({"input": {"title": "Post", "code": "41", "scene_ids": ["1"], "tag_ids": [tag.to_string()]}}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    let gallery = body["data"]["galleryCreate"]["id"].as_str().unwrap().to_owned();
    let (_, body) = gql(
        &url,
        "mutation C($input: GalleryCreateInput!) { galleryCreate(input: $input) { id } }",
        json!({"input": {"title": ""}}),
    );
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("title"), "{body}");
    let (_, body) = gql(
        &url,
        "mutation B($input: BulkImageUpdateInput!) { bulkImageUpdate(input: $input) { id galleries { id } } }",
        json!({"input": {"ids": [image.to_string()], "title": "a", "gallery_ids": {"ids": [gallery], "mode": "ADD"}}}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    let (_, body) = gql(
        &url,
        "query { findGalleries(filter: {sort: \"id\"}) { count galleries { id code image_count scenes { id } tags { name } } }
                 findImages(filter: {sort: \"id\"}) { images { id title visual_files { ... on ImageFile { path } } } }
                 findTag(id: 1) { gallery_count } }",
        json!({}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    let found = &body["data"]["findGalleries"]["galleries"][0];
    assert_eq!((found["code"].as_str(), found["image_count"].as_i64()), (Some("41"), Some(1)));
    assert_eq!(found["scenes"][0]["id"], "1");
    assert_eq!(body["data"]["findImages"]["images"][0]["visual_files"][0]["path"], "/dl/a_id_7.jpg");
    assert_eq!(body["data"]["findTag"]["gallery_count"], 1);
    let (_, body) = gql(
        &url,
        "mutation D($input: GalleryDestroyInput!) { galleryDestroy(input: $input) }",
        json!({"input": {"ids": [gallery]}}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    stash.lib(|l| {
        assert!(l.galleries.is_empty());
        assert!(l.image(image).unwrap().gallery_ids.is_empty(), "the image stays, outside the gallery");
        assert!(l.scene(1).unwrap().gallery_ids.is_empty());
    });
}

#[test]
fn performer_and_studio_create_refuse_duplicates_like_stash() {
    let stash = stash_with_scenes(0);
    stash.lib(|l| {
        l.add_performer("Kyle Ryder");
        l.insert_studio(crate::support::fake_stash::Studio {
            name: "Ryder Films".into(),
            aliases: vec!["RF".into()],
            ..Default::default()
        });
    });
    let performer = "mutation P($input: PerformerCreateInput!) { performerCreate(input: $input) { id name } }";
    let studio = "mutation S($input: StudioCreateInput!) { studioCreate(input: $input) { id name } }";
    let error = |body: &Value| body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    let (_, body) = gql(&stash.graphql_url(), performer, json!({"input": {"name": "kyle ryder"}}));
    assert!(error(&body).contains("already exists"), "same name, no disambiguation: {body}");
    let (_, body) =
        gql(&stash.graphql_url(), performer, json!({"input": {"name": "Kyle Ryder", "disambiguation": "2"}}));
    assert!(body.get("errors").is_none(), "a disambiguation tells them apart: {body}");
    let (_, body) =
        gql(&stash.graphql_url(), performer, json!({"input": {"name": "Kyle Ryder", "disambiguation": "2"}}));
    assert!(error(&body).contains("and disambiguation '2' already exists"), "{body}");
    let (_, body) = gql(&stash.graphql_url(), studio, json!({"input": {"name": "RYDER FILMS"}}));
    assert!(error(&body).contains("already exists"), "{body}");
    let (_, body) = gql(&stash.graphql_url(), studio, json!({"input": {"name": "rf"}}));
    assert!(error(&body).contains("used as alias for 'Ryder Films'"), "{body}");
    let (_, body) = gql(&stash.graphql_url(), studio, json!({"input": {"name": "Ryder Classics"}}));
    assert_eq!(body["data"]["studioCreate"]["name"], "Ryder Classics", "{body}");
}

#[test]
fn destroys_unlink_from_scenes_and_counts_say_what_uses_an_object() {
    let stash = stash_with_scenes(2);
    let (tag, performer, studio) = stash.lib(|l| (l.add_tag("T"), l.add_performer("P"), l.add_studio("S")));
    stash.lib(|l| {
        let scene = l.scene_mut(1).unwrap();
        scene.tag_ids = vec![tag];
        scene.performer_ids = vec![performer];
        scene.studio_id = Some(studio);
    });
    let usage = "query U($id: ID!) { findPerformer(id: $id) { scene_count image_count gallery_count group_count } }";
    let (_, body) = gql(&stash.graphql_url(), usage, json!({"id": performer.to_string()}));
    assert_eq!(
        body["data"]["findPerformer"],
        json!({"scene_count": 1, "image_count": 0, "gallery_count": 0, "group_count": 0})
    );
    for (field, input) in [
        ("tagDestroy", "TagDestroyInput"),
        ("performerDestroy", "PerformerDestroyInput"),
        ("studioDestroy", "StudioDestroyInput"),
    ] {
        let id = match field {
            "tagDestroy" => tag,
            "performerDestroy" => performer,
            _ => studio,
        };
        let query = format!("mutation D($input: {input}!) {{ {field}(input: $input) }}");
        let (_, body) = gql(&stash.graphql_url(), &query, json!({"input": {"id": id.to_string()}}));
        assert_eq!(body["data"][field], true, "{body}");
        let (_, body) = gql(&stash.graphql_url(), &query, json!({"input": {"id": id.to_string()}}));
        assert!(body["errors"][0]["message"].as_str().unwrap_or_default().contains("not found"), "{body}");
    }
    stash.lib(|l| {
        let scene = l.scene(1).unwrap();
        assert!(scene.tag_ids.is_empty() && scene.performer_ids.is_empty() && scene.studio_id.is_none());
    });
    let (_, body) = gql(&stash.graphql_url(), usage, json!({"id": performer.to_string()}));
    assert_eq!(body["data"]["findPerformer"], Value::Null, "gone");
}

// ---- fake Stash: authentication ------------------------------------------------------------

#[test]
fn fake_stash_requires_the_key_or_the_session_cookie_when_credentials_are_set() {
    let stash = FakeStash::with_api_key("secret");
    let url = stash.graphql_url();
    let query = "query Version { version { version } }";
    let (status, _, body) = post(&url, query, json!({}), &[]);
    assert_eq!((status, body.as_str()), (401, ""), "401 before GraphQL, empty body");
    let (status, _, _) = post(&url, query, json!({}), &[("ApiKey", "wrong")]);
    assert_eq!(status, 401);
    let (status, _, _) = post(&url, query, json!({}), &[("ApiKey", "secret")]);
    assert_eq!(status, 200);
    let cookie = format!("other=1; session={}", stash.session_cookie());
    let (status, _, _) = post(&url, query, json!({}), &[("Cookie", &cookie)]);
    assert_eq!(status, 200);
    let log = stash.requests_named("Version");
    assert_eq!(log.len(), 4);
    assert_eq!(log[2].api_key.as_deref(), Some("secret"));
    assert_eq!(log[3].session_cookie(), Some(stash.session_cookie()));
}

#[test]
fn fake_stash_rotates_the_session_cookie_and_then_refuses_the_old_one() {
    let stash = FakeStash::with_api_key("secret");
    let url = stash.graphql_url();
    let query = "{ version { version } }";
    let old = stash.session_cookie();
    let with = |value: &str| format!("session={value}");
    stash.rotate_cookie_after(1);
    let (status, headers, _) = post(&url, query, json!({}), &[("Cookie", &with(&old))]);
    assert_eq!(status, 200);
    assert!(headers.get("set-cookie").is_none());
    let (status, headers, _) = post(&url, query, json!({}), &[("Cookie", &with(&old))]);
    assert_eq!(status, 200);
    let set_cookie = headers["set-cookie"].to_str().unwrap().to_owned();
    let new = stash.session_cookie();
    assert_ne!(new, old);
    assert!(set_cookie.starts_with(&format!("session={new};")), "{set_cookie}");
    assert!(set_cookie.contains("Path=/") && set_cookie.contains("HttpOnly"));
    let (status, _, _) = post(&url, query, json!({}), &[("Cookie", &with(&old))]);
    assert_eq!(status, 401, "the old cookie is dead");
    let (status, _, _) = post(&url, query, json!({}), &[("Cookie", &with(&new))]);
    assert_eq!(status, 200);
    let log = stash.requests();
    assert_eq!(log[1].set_cookie.as_deref(), Some(set_cookie.as_str()));
    assert_eq!(log[3].session_cookie(), Some(new));
}

// ---- faults --------------------------------------------------------------------------------

#[test]
fn each_fault_answers_one_request_in_order() {
    let stash = FakeStash::start();
    let url = stash.graphql_url();
    let query = "query Version { version { version } }";
    stash.fail_next(Fault::Status(502));
    stash.fail_next(Fault::RateLimited { retry_after_secs: 7 });
    stash.fail_next(Fault::Html);
    stash.fail_next(Fault::Unauthorized);
    stash.fail_next(Fault::GraphqlError("boom".into()));
    stash.fail_next(Fault::Slow(Duration::from_millis(300)));

    let (status, _, _) = post(&url, query, json!({}), &[]);
    assert_eq!(status, 502);
    let (status, headers, _) = post(&url, query, json!({}), &[]);
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "7");
    let (status, headers, body) = post(&url, query, json!({}), &[]);
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(body.starts_with("<!DOCTYPE html>"));
    let (status, _, body) = post(&url, query, json!({}), &[]);
    assert_eq!((status, body.as_str()), (401, ""));
    let (status, body) = gql(&url, query, json!({}));
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["message"], "boom");
    assert!(body["data"].is_null());
    let started = Instant::now();
    let (status, body) = gql(&url, query, json!({}));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((status, body["data"]["version"]["version"].as_str()), (200, Some("v0.30.1")));
    assert_eq!(stash.pending_faults(), 0);
    let (status, _) = gql(&url, query, json!({}));
    assert_eq!(status, 200, "faults are consumed");

    let statuses: Vec<Option<u16>> = stash.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [502, 429, 200, 401, 200, 200, 200].map(Some),
        "the log records how each request was answered"
    );
    assert_eq!(stash.requests()[1].fault, Some(Fault::RateLimited { retry_after_secs: 7 }));
}

#[test]
fn a_dropped_connection_is_a_transport_error_not_a_status() {
    let stash = FakeStash::start();
    stash.fail_next(Fault::DropConnection);
    let result = client()
        .post(stash.graphql_url())
        .json(&json!({"query": "{ version { version } }"}))
        .send()
        .and_then(|r| r.text());
    let error = result.expect_err("the connection was cut");
    assert!(error.status().is_none(), "{error:?}");
    assert_eq!(stash.requests().len(), 1, "the client did not silently retry");
    assert_eq!(stash.requests()[0].status, None);
    // The server is fine afterwards.
    let (status, _) = gql(&stash.graphql_url(), "{ version { version } }", json!({}));
    assert_eq!(status, 200);
}

#[test]
fn faults_can_target_one_operation_and_sessions_can_expire() {
    let stash = FakeStash::start();
    let url = stash.graphql_url();
    stash.fail_next_named("FindScenes", Fault::Status(500));
    let (status, _) = gql(&url, "query Version { version { version } }", json!({}));
    assert_eq!(status, 200, "another operation passes");
    let (status, _, _) = post(&url, FIND_SCENES, json!({}), &[]);
    assert_eq!(status, 500);

    stash.unauthorized_after(2);
    let statuses: Vec<u16> = (0..4).map(|_| post(&url, "{ version { version } }", json!({}), &[]).0).collect();
    assert_eq!(statuses, [200, 200, 401, 401]);
    stash.authorize_again();
    assert_eq!(post(&url, "{ version { version } }", json!({}), &[]).0, 200);
}

#[test]
fn the_dead_url_refuses_connections() {
    let error = client().post(FakeStash::dead_url()).body("{}").send().expect_err("nothing listens");
    assert!(error.is_connect(), "{error:?}");
}

#[test]
fn fakes_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<FakeStash>();
    shareable::<FakeStashBox>();
    shareable::<crate::support::env::TestEnv>();
}

#[test]
fn the_request_log_can_be_cleared() {
    let stash = FakeStash::start();
    gql(&stash.graphql_url(), "query A { version { version } }", json!({}));
    stash.clear_requests();
    gql(&stash.graphql_url(), "query B { version { version } }", json!({"x": 1}));
    let log = stash.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].operation_name.as_deref(), Some("B"));
    assert_eq!(log[0].var("/x"), Some(&json!(1)));
}

// ---- fake stash-box ------------------------------------------------------------------------

#[test]
fn fake_stashbox_distinguishes_a_bad_key_from_no_key() {
    let stashbox = FakeStashBox::start();
    let url = stashbox.endpoint();
    let query = "query Me { me { id name } }";
    let (status, _, body) = post(&url, query, json!({}), &[("ApiKey", "wrong")]);
    assert_eq!((status, body.as_str()), (401, ""), "bad key: 401, empty body");
    let (status, body) = gql(&url, query, json!({}));
    assert_eq!(status, 200, "no key: a GraphQL error");
    assert_eq!(body["errors"][0]["message"], "not authorized");
    assert!(body["data"].is_null());
    let key = stashbox.api_key();
    let (status, _, body) = post(&url, query, json!({}), &[("ApiKey", &key)]);
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["data"]["me"]["name"], "stashhog-tester");
    // Validation still comes first, against the upstream stash-box schema.
    let (status, _, _) = post(&url, "{ me { nope } }", json!({}), &[("ApiKey", &key)]);
    assert_eq!(status, 422);
}

#[test]
fn fake_stashbox_answers_scene_lookups_like_stash_box() {
    let stashbox = FakeStashBox::start();
    let (live, gone) = stashbox.lib(|l| {
        let anal = l.add_tag("Anal");
        let live = l.add_scene(BoxScene {
            title: Some("Live".into()),
            tag_ids: vec![anal.clone()],
            fingerprints: vec![
                BoxFingerprint::new(Algorithm::Phash, "8f0f"),
                BoxFingerprint::new(Algorithm::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            ],
            ..BoxScene::default()
        });
        let gone = l.add_scene(BoxScene { title: Some("Gone".into()), tag_ids: vec![anal], ..BoxScene::default() });
        l.merge_scenes(&[&gone], &live);
        (live, gone)
    });
    let key = stashbox.api_key();
    let ask = |query: &str, variables: Value| {
        let (status, _, body) = post(&stashbox.endpoint(), query, variables, &[("ApiKey", &key)]);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let body = ask(
        "query S($a: ID!, $b: ID!, $c: ID!) {
           s0: findScene(id: $a) { id deleted tags { name aliases } fingerprints { hash algorithm } }
           s1: findScene(id: $b) { id deleted tags { name } }
           s2: findScene(id: $c) { id } }",
        json!({"a": live, "b": gone, "c": "00000000-0000-4000-8000-000000000000"}),
    );
    let data = &body["data"];
    assert_eq!(data["s0"]["tags"][0]["name"], "Anal");
    assert_eq!(data["s0"]["fingerprints"][0]["hash"], "0000000000008f0f", "zero-padded");
    assert_eq!(data["s1"]["deleted"], true);
    assert_eq!(data["s1"]["tags"], json!([]), "a deleted scene has no tags");
    assert!(data["s2"].is_null(), "unknown id: null");

    let fingerprints = |groups: Value| {
        ask(
            "query F($fp: [[FingerprintQueryInput!]!]!) {
               findScenesBySceneFingerprints(fingerprints: $fp) { id } }",
            json!({"fp": groups}),
        )
    };
    let body = fingerprints(json!([
        [{"hash": "8F0F", "algorithm": "PHASH"}],
        [{"hash": "d41d8cd98f00b204e9800998ecf8427e", "algorithm": "MD5"}],
        [{"hash": "0000000000008f0f", "algorithm": "PHASH"}],
    ]));
    let groups = &body["data"]["findScenesBySceneFingerprints"];
    assert_eq!(groups[0][0]["id"], live.as_str(), "phash compared as a number");
    assert_eq!(groups[1], json!([]), "MD5 is ignored");
    assert_eq!(groups[2][0]["id"], live.as_str(), "results in input order");
    let too_many: Vec<Value> = (0..41).map(|i| json!([{"hash": format!("{i:x}"), "algorithm": "PHASH"}])).collect();
    let body = fingerprints(Value::Array(too_many));
    assert_eq!(body["errors"][0]["message"], "too many scenes");
    assert!(body["data"].is_null());

    let body = ask(
        "query E($id: ID!) { queryEdits(input: {target_type: SCENE, target_id: $id,
           operation: MERGE, applied: true}) { count edits { target { ... on Scene { id deleted } } } } }",
        json!({"id": gone}),
    );
    assert_eq!(body["data"]["queryEdits"]["edits"][0]["target"]["id"], live.as_str());
}

#[test]
fn fake_stashbox_has_the_same_faults() {
    let stashbox = FakeStashBox::start();
    stashbox.fail_next(Fault::RateLimited { retry_after_secs: 2 });
    let key = stashbox.api_key();
    let (status, headers, _) = post(&stashbox.endpoint(), "{ me { id } }", json!({}), &[("ApiKey", &key)]);
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(stashbox.requests()[0].api_key.as_deref(), Some(key.as_str()));
}

// ---- Stash's stderr and stdout rules -------------------------------------------------------

#[test]
fn stderr_frames_are_parsed_like_stash() {
    let stderr = b"\x01i\x02  hello  \n\x01w\x02careful\r\n\x01p\x020.25\nplain line\n\n\
        \x01x\x02unknown level\n\x01e\x02\n\x01p\x02half\n\x01t\x02trace\n\x01d\x02no newline";
    let parsed = parse_stderr(stderr);
    let line = |level, message: &str| LogLine { level, message: message.to_owned() };
    assert_eq!(
        parsed.logs,
        [
            line(Level::Info, "hello"),
            line(Level::Warning, "careful"),
            line(Level::Error, "plain line"),
            line(Level::Error, "\x01x\x02unknown level"),
            line(Level::Error, "\x01e\x02"),
            line(Level::Error, "Error parsing progress value 'half': invalid float literal"),
            line(Level::Trace, "trace"),
            line(Level::Debug, "no newline"),
        ]
    );
    assert_eq!(parsed.progress, [0.25]);
    assert_eq!(parsed.overlong_lines, 0);

    let mut long = b"\x01i\x02".to_vec();
    long.extend(std::iter::repeat_n(b'a', 70_000));
    let parsed = parse_stderr(&long);
    assert_eq!(parsed.overlong_lines, 1);
    assert!(parsed.logs[0].message.ends_with("a [truncated]"));
}

#[test]
fn stdout_is_decoded_like_stash() {
    let ok = decode_stdout(r#"{"output": {"n": 1}, "error": null}"#);
    assert_eq!((ok.output, ok.error, ok.proper_json), (json!({"n": 1}), None, true));
    let failed = decode_stdout("{\"output\": null, \"error\": \"bad\"}\n");
    assert_eq!((failed.error.as_deref(), failed.proper_json), (Some("bad"), true));
    for raw in ["", "not json", "{\"output\": 1}{\"output\": 2}", "{\"output\": 1, \"error\": 5}", "[1]"] {
        let decoded = decode_stdout(raw);
        assert_eq!(decoded.output, json!(raw), "{raw:?} becomes the output string");
        assert_eq!((decoded.error, decoded.proper_json), (None, false));
    }
    let go_keys = decode_stdout(r#"{"Output": 3, "ERROR": "x"}"#);
    assert_eq!((go_keys.output, go_keys.error.as_deref()), (json!(3), Some("x")));
}

#[test]
fn exit_status_becomes_the_error_unless_the_output_set_one() {
    let run = Run::from_parts(b"", b"", Exit::code(3), Duration::ZERO);
    assert_eq!(run.error.as_deref(), Some("exit status 3"));
    assert_eq!(run.output, json!(""));
    let run =
        Run::from_parts(br#"{"output": null, "error": "mine"}"#, b"\x01e\x02it broke\n", Exit::code(1), Duration::ZERO);
    assert_eq!(run.error.as_deref(), Some("mine"));
    assert!(run.logged(Level::Error, "broke"));
    assert_eq!(run.log_text(), "[Error] it broke\n");
    let run = Run::from_parts(br#"{"output": {"a": [1]}}"#, b"", Exit::code(0), Duration::ZERO);
    assert_eq!(run.error, None);
    assert_eq!(run.out("/a/0"), &json!(1));
    run.assert_ok();
}

// ---- small helpers that carry Stash semantics ----------------------------------------------

#[test]
fn timestamps_collation_and_like_match_stash() {
    assert_eq!(rfc3339(1_767_323_045, 0), "2026-01-02T03:04:05+00:00");
    assert_eq!(rfc3339(1_767_323_045, 90), "2026-01-02T04:34:05+01:30");
    assert_eq!(rfc3339(0, -300), "1969-12-31T19:00:00-05:00");
    assert_eq!(natural_cmp_ci("Scene 9", "scene 10"), Ordering::Less);
    assert_eq!(natural_cmp_ci("b", "A"), Ordering::Greater);
    assert!(sqlite_like("Anal", "anal"));
    assert!(!sqlite_like("Émilie", "émilie"), "LIKE folds ASCII only");
    assert!(sqlite_like("a_b", "a%"));
    assert!(sqlite_like("axb", "a_b"), "`_` is a wildcard in Stash's EQUALS");
    assert!(!sqlite_like("ab", "a_b"));
}

/// Not a check, a measurement: `cargo test --release --test tests -- --ignored --nocapture
/// fake_stash_serves_100k`.
#[test]
#[ignore = "benchmark"]
fn fake_stash_serves_100k_scenes() {
    let stash = FakeStash::start();
    let started = Instant::now();
    stash.lib(|l| {
        l.generate(&crate::support::fake_stash::Generate {
            scenes: 100_000,
            scenes_per_timestamp: 20,
            ..Default::default()
        })
    });
    eprintln!("generated 100k scenes in {:?}", started.elapsed());
    let query = "query FindScenes($filter: FindFilterType) { findScenes(filter: $filter) { count
        scenes { id title code details director urls date rating100 organized created_at updated_at
          files { path fingerprints { type value } } studio { id } performers { id } tags { id }
          stash_ids { endpoint stash_id updated_at } } } }";
    let started = Instant::now();
    let mut total = 0;
    for page in 1..=100 {
        let filter = json!({"filter": {"page": page, "per_page": 1000, "sort": "updated_at"}});
        let (status, body) = gql(&stash.graphql_url(), query, filter);
        assert_eq!(status, 200);
        total += body["data"]["findScenes"]["scenes"].as_array().unwrap().len();
    }
    assert_eq!(total, 100_000);
    eprintln!("paged 100k scenes (100 × 1000) in {:?}", started.elapsed());
}
