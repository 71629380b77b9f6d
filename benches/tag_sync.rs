//! "Sync Scene Tags from StashDB", the real binary against the fake Stash and fake stash-box.
//!
//! `cargo bench --bench tag_sync` runs two measurements:
//! - issue 13's library (900 scenes, 540 linked: 45 deleted, 45 merged with one chain, 18
//!   unknown, fingerprint matches) at the DEFAULT pace of 2 requests/s, twice (the re-run is
//!   what a nightly schedule does): stash-box requests, Stash mutation requests, scene updates
//!   (each one a `Scene.Update.Post` hook for every plugin installed), wall time, the binary's
//!   CPU time and peak RSS;
//! - 10k linked scenes with the rate limit raised, so what is measured is StashHog's own
//!   overhead beyond the pacing.
//!
//! - memory: the applied sync's peak RSS (the binary's own VmHWM) at 5k, 20k and 100k linked
//!   scenes, rate limit raised — it must stay flat as the library grows.
//!
//! `-- shape`, `-- 10k` or `-- memory` runs only one of them (`-- memory 5000 50000` picks the
//! sizes).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::json;
use support::env::TestEnv;
use support::fake_stash::{Scene, StashId};
use support::fake_stashbox::BoxScene;
use support::runner::Run;
use support::usage::children;

fn main() {
    if std::env::var_os("STASHHOG_TEST_TIMEOUT_SECS").is_none() {
        // SAFETY: set before any thread starts. At the default pace a run takes minutes.
        unsafe { std::env::set_var("STASHHOG_TEST_TIMEOUT_SECS", "900") };
    }
    let only: Option<String> = std::env::args().skip(1).find(|a| ["shape", "10k", "memory"].contains(&a.as_str()));
    if only.is_none() || only.as_deref() == Some("shape") {
        shaped_library();
    }
    if only.is_none() || only.as_deref() == Some("10k") {
        ten_thousand();
    }
    if only.is_none() || only.as_deref() == Some("memory") {
        let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
        memory(if sizes.is_empty() { &[5_000, 20_000, 100_000] } else { &sizes });
    }
}

fn shaped_library() {
    let env = TestEnv::with_stashbox();
    let shape = support::library_shape::build(&env, 900);
    env.set_settings(json!({"syncDryRun": false}));
    env.run(json!({"mode": "full_sync"})).assert_ok();
    println!(
        "tag sync, issue 13's library: {} linked ({} live, {} deleted, {} merged, {} unknown), {} scenes to change; default pace",
        shape.linked,
        shape.live,
        shape.deleted,
        shape.merged,
        shape.unknown,
        shape.changed()
    );
    for pass in ["first run", "re-run"] {
        env.stash.clear_requests();
        env.stash.clear_scene_updates();
        let box_before = env.stashbox().requests().len();
        let (cpu_before, _) = children();
        let run = env.run(json!({"mode": "sync_scene_tags"}));
        run.assert_ok();
        report(pass, &env, &run, env.stashbox().requests().len() - box_before, children().0 - cpu_before);
    }
    println!("  (fewest stash-box requests that answer everything: {})", shape.fewest_box_requests());
}

fn report(pass: &str, env: &TestEnv, run: &Run, box_requests: usize, cpu: f64) {
    let mutations = env
        .stash
        .requests()
        .iter()
        .filter(|r| {
            r.query.as_deref().is_some_and(|q| q.trim_start().starts_with("mutation") || q.contains("\nmutation"))
        })
        .count();
    let updates = env.stash.scene_updates();
    let (updates, busiest) = (updates.total, updates.busiest);
    println!(
        "  {pass}: {box_requests} stash-box requests; {mutations} Stash mutation requests; {updates} scene updates (at most {busiest} on one scene); wall {:.1} s; CPU {:.2} s; peak RSS {} MiB",
        run.duration.as_secs_f64(),
        cpu,
        run.out("/peak_rss_mib"),
    );
    if std::env::var_os("STASHHOG_BENCH_LOG").is_some() {
        eprint!("{}", run.log_text());
    }
}

fn ten_thousand() {
    let n = 10_000;
    let env = linked_library(n);
    env.stash.clear_requests();
    env.stash.clear_scene_updates();
    let (cpu_before, _) = children();
    let run = env.run(json!({"mode": "sync_scene_tags"}));
    run.assert_ok();
    println!("tag sync, {n} linked scenes, {} tags added, rate limit raised:", run.out("/tags_to_add"));
    report("run", &env, &run, env.stashbox().requests().len(), children().0 - cpu_before);
    println!("  of which applying the plan {:.1} s", run.out("/apply/duration_ms").as_f64().unwrap_or(0.0) / 1e3);
}

/// The applied sync's peak RSS as the library grows, as the binary reads its own (VmHWM):
/// getrusage's figure is the largest of every child so far.
fn memory(sizes: &[usize]) {
    println!("tag sync memory, applied, rate limit raised:");
    for &n in sizes {
        let env = linked_library(n);
        let (cpu_before, _) = children();
        let run = env.run(json!({"mode": "sync_scene_tags"}));
        run.assert_ok();
        let cpu = children().0 - cpu_before;
        println!(
            "  {n} linked scenes, {} tags added: peak RSS {} MiB; wall {:.1} s; CPU {:.2} s ({:.0} µs/scene)",
            run.out("/tags_to_add"),
            run.out("/peak_rss_mib"),
            run.duration.as_secs_f64(),
            cpu,
            cpu / n as f64 * 1e6
        );
    }
}

/// `n` scenes linked to live stash-box scenes of five tags each (50 tags, all known locally),
/// mirrored, with the rate limit raised.
fn linked_library(n: usize) -> TestEnv {
    let env = TestEnv::with_stashbox();
    env.stash.config(|c| c.stash_boxes[0].max_requests_per_minute = 1_000_000);
    env.set_settings(json!({"syncBoxRequestsPerMinute": 100_000, "syncDryRun": false}));
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
    env
}
