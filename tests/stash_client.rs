//! The Stash client's paging against the fake Stash: the library's own client, exercised
//! directly because every mode that walks the library rests on it.

use stashhog::graphql::Auth;
use stashhog::stash::{EntityQuery, FindFilter, SceneQuery, SortKey, StashClient, StashConnection};

use crate::support::fake_stash::{Scene, StashId};

fn client(url: String) -> StashClient {
    StashClient::new(StashConnection { url, auth: Auth::default(), accept_invalid_certs: false }).expect("client")
}

#[test]
fn paging_sees_every_scene_exactly_once_and_always_sorts() {
    let stash = crate::support::fake_stash::FakeStash::start();
    let ids = stash.lib(|l| l.add_scenes(1234, |_| Scene::default()));
    let client = client(stash.graphql_url());
    let filter = FindFilter { per_page: 100, ..FindFilter::sorted(SortKey::Id) };
    let mut seen: Vec<i64> = Vec::new();
    for page in client.scenes(&SceneQuery::default(), filter) {
        let page = page.expect("a page");
        assert_eq!(page.total, 1234);
        seen.extend(page.items.iter().map(|s| s.id));
    }
    let expected: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
    assert_eq!(seen, expected);
    let requests = stash.requests_named("FindScenes");
    assert_eq!(requests.len(), 13, "ceil(1234 / 100) pages, no extra request");
    for request in &requests {
        assert_eq!(request.var("/filter/sort"), Some(&serde_json::json!("id")));
        assert_ne!(request.var("/filter/per_page"), Some(&serde_json::json!(-1)));
    }
}

#[test]
fn scene_filters_reach_stash_and_fields_convert() {
    let stash = crate::support::fake_stash::FakeStash::start();
    let endpoint = "https://stashdb.org/graphql";
    stash.lib(|l| {
        let tag = l.add_tag("Outdoor");
        l.add_scene(Scene {
            title: Some("linked".into()),
            tag_ids: vec![tag],
            stash_ids: vec![StashId::new(endpoint, "abc")],
            ..Scene::default()
        });
        l.add_scene(Scene { title: Some("unlinked".into()), ..Scene::default() });
    });
    let client = client(stash.graphql_url());
    let query = SceneQuery { stash_id_endpoint: Some(endpoint.into()), ..SceneQuery::default() };
    let scenes: Vec<_> =
        client.scenes(&query, FindFilter::sorted(SortKey::UpdatedAt)).flat_map(|p| p.expect("a page").items).collect();
    assert_eq!(scenes.len(), 1);
    assert_eq!(scenes[0].title.as_deref(), Some("linked"));
    assert_eq!(scenes[0].tag_ids.len(), 1);
    assert_eq!(scenes[0].stash_ids[0].stash_id, "abc");
    assert_eq!(client.count_scenes(&SceneQuery::default()).expect("count"), 2);
    let tags: Vec<_> = client
        .tags(&EntityQuery::default(), FindFilter::sorted(SortKey::Id))
        .flat_map(|p| p.expect("a page").items)
        .collect();
    assert_eq!(tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Outdoor"]);
}
