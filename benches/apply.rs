//! Applying a plan that adds a tag to 10k scenes, the way Stash runs it: the real binary with
//! JSON on stdin, against the in-process fake Stash.
//!
//! `cargo bench --bench apply [-- SCENES]` prints the mutation requests sent, the scene reads
//! (conflict checks, and whatever the mirror's catch-up needs: the library is mirrored first,
//! as users have it), the wall and CPU time and peak RSS of `apply_plan` (and the time of
//! importing and approving the plan). Figures, not assertions.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::env::TestEnv;
use support::fake_stash::Scene;
use support::usage::children;

fn main() {
    let scenes: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let env = TestEnv::new();
    let ids =
        env.stash.lib(|l| l.add_scenes(scenes, |i| Scene { title: Some(format!("Scene {i}")), ..Scene::default() }));
    let tag = env.stash.lib(|l| l.add_tag("Added by the plan"));
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let changes: Vec<Value> = ids
        .iter()
        .map(|id| json!({"entity": "scene", "id": id, "field": "tags", "action": "ADD", "value": tag, "confidence": 1.0}))
        .collect();
    let file = env.root().join("plan.json");
    let document = json!({"version": 1, "name": "bench", "changes": changes});
    std::fs::write(&file, document.to_string()).expect("writes the plan file");

    let import = env.run(json!({"mode": "import_plan", "file": file.display().to_string()}));
    import.assert_ok();
    let plan_id = import.out("/plan_id").clone();
    let review = env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true}));
    review.assert_ok();
    env.stash.clear_requests();

    let (cpu_before, _) = children();
    let apply = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    apply.assert_ok();
    let (cpu_after, _) = children();
    // The binary's own VmHWM: getrusage's figure is the largest of every child so far (the
    // full sync and the import among them).
    let peak = apply.out("/peak_rss_mib");
    let mutations = env.stash.requests_named("BulkSceneUpdate").len() + env.stash.requests_named("SceneUpdate").len();
    let reads = env.stash.requests_named("FindScenes").len();
    let tagged =
        env.stash.lib(|l| ids.iter().filter(|id| l.scene(**id).is_some_and(|s| s.tag_ids.contains(&tag))).count());
    assert_eq!(tagged, scenes, "every scene got the tag");

    println!("apply_plan: add one tag to {scenes} scenes, against the fake Stash:");
    println!(
        "  mutation requests: {mutations} (bulkSceneUpdate, {} scenes each at most); scene reads: {reads}",
        apply.out("/mutations").as_u64().map_or(0, |m| scenes.div_ceil(m.max(1) as usize))
    );
    println!(
        "  apply wall time: {:.0} ms (the binary's own count: {} ms); CPU {:.2} s; peak RSS {peak} MiB",
        apply.duration.as_secs_f64() * 1e3,
        apply.out("/duration_ms"),
        cpu_after - cpu_before
    );
    println!(
        "  import {:.0} ms, approve all {:.0} ms",
        import.duration.as_secs_f64() * 1e3,
        review.duration.as_secs_f64() * 1e3
    );
}
