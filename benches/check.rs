//! Wall time of the `check` task, measured the way Stash runs it: the real binary started with
//! JSON on stdin, against the in-process fake Stash (10k scenes) and fake stash-box.
//!
//! `cargo bench --bench check [-- RUNS]` prints min / median / p95 over RUNS runs (default 30)
//! and the binary's size. Figures, not assertions: timings belong here, never in tests.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::json;
use support::env::TestEnv;
use support::fake_stash::Scene;

fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(30);
    let env = TestEnv::with_stashbox();
    env.stash.lib(|l| {
        l.add_scenes(10_000, |_| Scene::default());
    });
    // The first run creates the database; it is measured separately.
    let first = env.run(json!({"mode": "check"}));
    first.assert_ok();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let run = env.run(json!({"mode": "check"}));
            run.assert_ok();
            run.duration
        })
        .collect();
    times.sort();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let binary = std::fs::metadata(support::runner::binary()).map(|m| m.len()).unwrap_or(0);
    println!("check, {runs} runs against the fake Stash (10k scenes) and fake stash-box:");
    println!("  first run (creates the database): {:.1} ms", first.duration.as_secs_f64() * 1e3);
    println!(
        "  min {:.1} ms   median {:.1} ms   p95 {:.1} ms",
        pick(0.0).as_secs_f64() * 1e3,
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3
    );
    println!(
        "  binary under test: {:.1} MiB ({})",
        binary as f64 / (1 << 20) as f64,
        support::runner::binary().display()
    );
}
