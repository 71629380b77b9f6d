//! The mirror, measured the way Stash runs it: the real binary against the in-process fake
//! Stash. `cargo bench --bench mirror` prints, for 10k, 50k and 100k generated scenes, the full
//! sync's wall time, requests, the BINARY's CPU time per scene (user + system of the child
//! process: the fake's serialising shares the wall time, not this) and its peak RSS; then, on
//! the largest library, an incremental sync with nothing changed (requests, wall time); then
//! the `Scene.Update.Post` hook's median and p95 wall time. Figures, not assertions.
//!
//! `-- quick` stops after 10k; numbers (`-- 50000`) pick the sizes; `-- sync` skips the
//! incremental sync and the hook. `STASHHOG_BENCH_WRAP="valgrind --tool=callgrind"` starts the
//! binary under that command (a profiler), for the full syncs only.

#[path = "../tests/support/mod.rs"]
mod support;

use std::ffi::OsString;
use std::time::Duration;

use serde_json::{Value, json};
use support::env::TestEnv;
use support::fake_stash::Generate;
use support::runner::binary;
use support::usage::children;

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
    if std::env::var_os("STASHHOG_TEST_TIMEOUT_SECS").is_none() {
        // SAFETY: set before any thread starts. Under a profiler a 100k sync takes minutes.
        unsafe { std::env::set_var("STASHHOG_TEST_TIMEOUT_SECS", "3600") };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let picked: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = match () {
        _ if !picked.is_empty() => picked,
        _ if args.iter().any(|a| a == "quick") => vec![10_000],
        _ => vec![10_000, 50_000, 100_000],
    };
    let wrap: Option<Vec<OsString>> = std::env::var("STASHHOG_BENCH_WRAP")
        .ok()
        .filter(|w| !w.trim().is_empty())
        .map(|w| w.split_whitespace().map(OsString::from).chain([binary().into_os_string()]).collect());
    let mut last = None;
    for n in sizes {
        let mut env = library(n);
        env.options.program = wrap.clone();
        let (cpu_before, _) = children();
        let run = env.run(json!({"mode": "full_sync"}));
        let cpu = children().0 - cpu_before;
        run.assert_ok();
        println!(
            "full sync, {n} scenes: {:.2} s wall, {:.0} scenes/s, {} requests; binary CPU {:.2} s = {:.1} µs/scene; peak RSS {} MiB",
            run.duration.as_secs_f64(),
            n as f64 / run.duration.as_secs_f64(),
            run.out("/requests"),
            cpu,
            cpu / n as f64 * 1e6,
            run.out("/peak_rss_mib"),
        );
        env.options.program = None;
        last = Some(env);
    }
    if args.iter().any(|a| a == "sync") {
        return;
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
