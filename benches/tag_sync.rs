//! "Sync Scene Tags from StashDB" on 10k linked scenes, the real binary against the fake Stash
//! and fake stash-box with the rate limit raised, so what is measured is StashHog's own
//! overhead beyond the pacing. `cargo bench --bench tag_sync` prints stash-box requests per
//! scene, Stash mutation requests and wall time (mirror refresh, lookups, plan, apply).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::json;
use support::env::TestEnv;
use support::fake_stash::{Scene, StashId};
use support::fake_stashbox::BoxScene;

fn main() {
    let n = 10_000;
    let env = TestEnv::with_stashbox();
    env.stash.config(|c| c.stash_boxes[0].max_requests_per_minute = 1_000_000);
    env.set_settings(json!({"syncBoxRequestsPerMinute": 1_000_000, "syncDryRun": false}));
    let endpoint = env.stashbox().endpoint();
    let box_tags: Vec<String> = (0..50).map(|i| env.stashbox().lib(|l| l.add_tag(&format!("Tag {i}")))).collect();
    env.stash.lib(|l| {
        for i in 0..50 {
            l.add_tag(&format!("tag {i}"));
        }
    });
    for i in 0..n {
        let tags: Vec<String> = (0..5).map(|k| box_tags[(i * 7 + k * 11) % box_tags.len()].clone()).collect();
        let id = env.stashbox().lib(|l| l.add_scene(BoxScene { tag_ids: tags, ..BoxScene::default() }));
        env.stash.lib(|l| l.add_scene(Scene { stash_ids: vec![StashId::new(&endpoint, &id)], ..Scene::default() }));
    }
    env.run(json!({"mode": "full_sync"})).assert_ok();
    env.stash.clear_requests();
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    if std::env::var_os("STASHHOG_BENCH_LOG").is_some() {
        eprint!("{}", run.log_text());
    }
    let box_requests = env.stashbox().requests().len();
    let mutations = env.stash.requests_named("BulkSceneUpdate").len() + env.stash.requests_named("SceneUpdate").len();
    println!("tag sync, {n} linked scenes, {} tags added:", run.out("/tags_to_add"));
    println!(
        "  stash-box: {box_requests} requests ({:.4} per scene); Stash: {mutations} mutation requests, {} requests in all",
        box_requests as f64 / n as f64,
        env.stash.requests().len()
    );
    println!(
        "  wall time {:.1} s (rate limit raised: StashHog's own overhead), of which applying the plan {:.1} s",
        run.duration.as_secs_f64(),
        run.out("/apply/duration_ms").as_f64().unwrap_or(0.0) / 1e3
    );
    println!("  at the default 2 requests/s the stash-box part alone would take {:.0} s", box_requests as f64 / 2.0);
}
