//! Reviewing a 100k-change plan the way the StashHog page does: the real binary with JSON on
//! stdin, against the in-process fake Stash, with the mirror synced first (names come from it).
//!
//! `cargo bench --bench review [-- SCENES]` (default 50k scenes, two tag changes each) prints
//! the wall time of each operation the page calls. Figures, not assertions.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::env::TestEnv;
use support::fake_stash::{Scene, VideoFile};

fn main() {
    let scenes: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(50_000);
    let env = TestEnv::new();
    let ids = env.stash.lib(|l| {
        l.add_scenes(scenes, |i| Scene {
            title: Some(format!("Scene {i}")),
            files: vec![VideoFile::new(&format!("/media/folder {}/scene-{i}.mp4", i % 100), Vec::new())],
            ..Scene::default()
        })
    });
    let tags: Vec<u64> = env.stash.lib(|l| (0..40).map(|t| l.add_tag(&format!("Tag {t}"))).collect());
    env.run(json!({"mode": "full_sync"})).assert_ok();
    let changes: Vec<Value> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            [tags[i % 40], tags[(i * 7 + 1) % 40]].map(|tag| {
                json!({"entity": "scene", "id": id, "field": "tags", "action": "ADD", "value": tag,
                       "confidence": (i % 100) as f64 / 100.0})
            })
        })
        .collect();
    let total = changes.len();
    let file = env.root().join("plan.json");
    std::fs::write(&file, json!({"version": 1, "name": "bench", "changes": changes}).to_string()).expect("writes");
    let import = env.run(json!({"mode": "import_plan", "file": file.display().to_string()}));
    import.assert_ok();
    let plan_id = import.out("/plan_id").clone();
    println!("Review operations on a plan of {total} changes ({scenes} scenes), against the fake Stash:");
    println!("  import_plan {:>6.0} ms", import.duration.as_secs_f64() * 1e3);
    let calls = [
        ("list_plans", json!({"mode": "list_plans"})),
        ("show_plan (first page, by value)", json!({"mode": "show_plan", "plan_id": plan_id})),
        (
            "show_plan view=scenes, page 200",
            json!({"mode": "show_plan", "plan_id": plan_id, "view": "scenes", "page": 200}),
        ),
        ("show_plan value=<a tag>", json!({"mode": "show_plan", "plan_id": plan_id, "value": tags[3]})),
        ("show_plan text=<a folder>", json!({"mode": "show_plan", "plan_id": plan_id, "text": "folder 42/"})),
        (
            "show_plan confidence 0.8-0.9",
            json!({"mode": "show_plan", "plan_id": plan_id, "min_confidence": 0.8, "max_confidence": 0.9}),
        ),
        (
            "review reject a tag everywhere",
            json!({"mode": "review_plan", "plan_id": plan_id, "decision": "reject", "value": tags[3], "remember": "everywhere"}),
        ),
        (
            "review approve >= 0.5",
            json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "min_confidence": 0.5, "status": "pending"}),
        ),
        ("preview_apply", json!({"mode": "preview_apply", "plan_id": plan_id})),
        ("list_rejections", json!({"mode": "list_rejections"})),
    ];
    for (name, args) in calls {
        let run = env.run(args);
        run.assert_ok();
        println!("  {name:<34} {:>6.0} ms", run.duration.as_secs_f64() * 1e3);
    }
}
