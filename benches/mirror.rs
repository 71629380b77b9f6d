//! The mirror, measured the way Stash runs it: the real binary against the in-process fake
//! Stash. `cargo bench --bench mirror` prints, for 10k and 100k generated scenes, full-sync
//! throughput and the binary's peak RSS; then, on 100k, an incremental sync with nothing
//! changed (requests, wall time); then the `Scene.Update.Post` hook's median and p95 wall time.
//! Pass `quick` to stop after 10k. Figures, not assertions.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::env::TestEnv;
use support::fake_stash::Generate;

fn library(scenes: usize) -> TestEnv {
    let env = TestEnv::new();
    env.stash.lib(|l| {
        l.generate(&Generate {
            scenes,
            tags: 1000,
            performers: 5000,
            studios: 300,
            stash_id_every: 2,
            endpoint: "https://stashdb.org/graphql".into(),
            scenes_per_timestamp: 50,
            ..Generate::default()
        });
    });
    env
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let sizes: &[usize] = if quick { &[10_000] } else { &[10_000, 100_000] };
    let mut last = None;
    for &n in sizes {
        let env = library(n);
        let run = env.run(json!({"mode": "full_sync"}));
        run.assert_ok();
        println!(
            "full sync, {n} scenes: {:.1} s, {:.0} scenes/s, peak RSS {} MiB, {} requests",
            run.duration.as_secs_f64(),
            n as f64 / run.duration.as_secs_f64(),
            run.out("/peak_rss_mib"),
            run.out("/requests")
        );
        last = Some(env);
    }
    let Some(env) = last else { return };
    let n = env.stash.lib(|l| l.scenes.len());

    env.stash.clear_requests();
    let run = env.run(json!({"mode": "incremental_sync"}));
    run.assert_ok();
    println!(
        "incremental sync, nothing changed, {n} scenes: {} requests to Stash, {:.0} ms",
        env.stash.requests().len(),
        ms(run.duration)
    );

    let ids: Vec<u64> = env.stash.lib(|l| l.scenes.keys().copied().step_by(97).take(60).collect());
    let mut times: Vec<Duration> = ids
        .iter()
        .map(|id| {
            env.stash.lib(|l| l.edit_scene(*id, |s| s.title = Some(format!("edited {id}"))));
            let input = env.input(json!({"mode": "mirror_hook"})).hook(*id, "Scene.Update.Post", Value::Null, &[]);
            let run = env.run_input(&input);
            run.assert_ok();
            run.duration
        })
        .collect();
    times.sort();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "hook Scene.Update.Post, {} runs on {n} mirrored scenes: median {:.1} ms, p95 {:.1} ms",
        times.len(),
        ms(pick(0.5)),
        ms(pick(0.95))
    );
}
