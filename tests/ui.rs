//! The StashHog page in a real browser: Debian's Chromium, driven by `playwright-core`
//! (`ui/tests/scenarios.mjs`), loads the test shell — a stand-in for Stash's UI built from the
//! npm versions Stash pins — from the fake Stash, which serves the plugin's committed bundle and
//! answers `runPluginOperation` / `runPluginTask` / `findJob` / `stopJob` by running the real
//! binary. Each test sets up a library, runs one scenario (which clicks through the page as a
//! user would and checks what it shows), then asserts the outcome in the fake: tags on scenes,
//! requests seen, jobs queued.
//!
//! Without Chromium or `ui/node_modules` the tests say so and pass, except under `CI=true`,
//! where `.ci/run` installs both and a missing browser is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::fake_http::Fault;
use crate::support::fake_plugins::{JobStatus, PluginHost, PluginSetup, manifest_tasks};
use crate::support::fake_stash::{Scene, StashId, VideoFile};
use crate::support::fake_stashbox::BoxScene;
use crate::support::fake_web::StashWeb;

const CHROMIUM: &str = "/usr/bin/chromium";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built shell, or why the browser tests cannot run here.
fn shell() -> Result<PathBuf, String> {
    static SHELL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    SHELL
        .get_or_init(|| {
            let ui = repo().join("ui");
            if !Path::new(CHROMIUM).exists() {
                return Err(format!("{CHROMIUM} is missing (apt-get install chromium)"));
            }
            if !ui.join("node_modules/playwright-core").exists() {
                return Err("ui/node_modules is missing (npm --prefix ui ci)".into());
            }
            let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-shell");
            let built = Command::new("node")
                .arg(ui.join("shell/build.mjs"))
                .arg(&out)
                .current_dir(&ui)
                .output()
                .map_err(|e| format!("cannot run node: {e}"))?;
            if !built.status.success() {
                return Err(format!("building the shell failed: {}", String::from_utf8_lossy(&built.stderr)));
            }
            Ok(out)
        })
        .clone()
}

/// Where scenarios save their screenshots: `docs/ui/` (shown by the README) when
/// `UPDATE_SCREENSHOTS=1`, else beside the test build, so a test run leaves the tree clean.
fn screenshots() -> PathBuf {
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        repo().join("docs/ui")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots")
    }
}

/// A fake Stash with its web side, ready for a scenario; `None` when the browser tests are
/// skipped here.
struct Ui {
    env: TestEnv,
    web: Arc<StashWeb>,
}

fn ui(env: TestEnv) -> Option<Ui> {
    let shell = match shell() {
        Ok(shell) => shell,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("browser tests cannot run: {why}"),
        Err(why) => {
            eprintln!("skipping the browser test: {why}");
            return None;
        }
    };
    let mut options = env.options.clone();
    options.timeout = Duration::from_secs(300);
    let host = PluginHost::start(PluginSetup {
        plugin_id: "stashhog".into(),
        port: env.stash.port(),
        cookie: Some(env.stash.session_cookie()),
        dir: env.dir().to_owned(),
        plugin_dir: env.plugin_dir().to_owned(),
        tasks: manifest_tasks(),
        options,
    });
    let web = Arc::new(StashWeb::new(&shell, host));
    env.stash.extend(web.clone());
    Some(Ui { env, web })
}

impl Ui {
    /// Runs `scenario` in the browser; returns what it reported. Panics with its output when
    /// it fails.
    fn scenario(&self, scenario: &str, args: Value) -> Value {
        let output = Command::new("node")
            .arg(repo().join("ui/tests/scenarios.mjs"))
            .arg(scenario)
            .env("STASH_URL", self.env.stash.url())
            .env("SCENARIO_ARGS", args.to_string())
            .env("SCREENSHOTS", screenshots())
            .env("FAILURE_SHOTS", env!("CARGO_TARGET_TMPDIR"))
            .current_dir(repo().join("ui"))
            .output()
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let jobs: Vec<String> =
            self.web.host.jobs().iter().map(|j| format!("{} {:?}: {}", j.id, j.status, j.stderr)).collect();
        assert!(
            output.status.success(),
            "scenario {scenario} failed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- jobs ---\n{}",
            jobs.join("\n")
        );
        print!("{stdout}");
        stdout.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok()).unwrap_or(Value::Null)
    }

    /// Tag names per scene id, sorted.
    fn tags(&self) -> std::collections::BTreeMap<u64, Vec<String>> {
        self.env.stash.lib(|l| l.scenes.keys().map(|id| (*id, l.scene_tag_names(*id))).collect())
    }

    fn tasks_started(&self) -> Vec<Value> {
        self.env.stash.requests_named("StashHogTask").iter().map(|r| r.variables.clone()).collect()
    }
}

/// A library whose StashDB tags are mostly good, plus one noisy tag on every scene.
fn tag_sync_world(scenes: usize) -> (TestEnv, Vec<u64>) {
    let env = TestEnv::with_stashbox();
    env.stash.config(|c| {
        for b in &mut c.stash_boxes {
            b.max_requests_per_minute = 100_000;
        }
    });
    env.set_settings(json!({"stashBoxRequestsPerMinute": 100000}));
    let endpoint = env.stashbox().endpoint();
    let names = ["4K Available", "Blonde", "Outdoors", "Kissing", "Pool"];
    let box_tags: Vec<String> = names.iter().map(|n| env.stashbox().lib(|l| l.add_tag(n))).collect();
    env.stash.lib(|l| {
        for name in names {
            l.add_tag(name);
        }
        l.add_tag("Hand-picked");
    });
    let kept = env.stash.lib(|l| l.tag_by_name("Hand-picked").map(|t| t.id).unwrap_or_default());
    let mut ids = Vec::new();
    for i in 0..scenes {
        let tags = vec![box_tags[0].clone(), box_tags[1 + i % 4].clone(), box_tags[1 + (i + 1) % 4].clone()];
        let box_id = env.stashbox().lib(|l| {
            l.add_scene(BoxScene { title: Some(format!("Box scene {i}")), tag_ids: tags, ..BoxScene::default() })
        });
        ids.push(env.stash.lib(|l| {
            l.add_scene(Scene {
                title: Some(format!("Beach day {i:02}")),
                tag_ids: vec![kept],
                stash_ids: vec![StashId::new(&endpoint, &box_id)],
                files: vec![VideoFile::new(&format!("/library/Studio A/beach-day-{i:02}.mp4"), Vec::new())],
                ..Scene::default()
            })
        }));
    }
    (env, ids)
}

#[test]
fn review_a_tag_sync_by_value_apply_part_and_roll_back() {
    let (env, scenes) = tag_sync_world(12);
    let Some(ui) = ui(env) else { return };
    let before = ui.tags();
    ui.env.run(json!({"mode": "sync_scene_tags"})).assert_ok();
    // Nothing reached Stash: a dry run only makes a plan.
    assert_eq!(ui.tags(), before);

    let report = ui.scenario("review_apply_rollback", json!({"scenes": scenes.len(), "noisy": "4K Available"}));
    assert_eq!(report["ok"], true);

    // The page applied, then rolled back: every scene is as it was, and 4K Available never went out.
    assert_eq!(ui.tags(), before);
    let noisy = ui.env.stash.lib(|l| l.tag_by_name("4K Available").map(|t| t.id.to_string()).unwrap_or_default());
    for request in ui.env.stash.requests_named("BulkSceneUpdate") {
        let tag_ids = request.var("/input/tag_ids/ids").cloned().unwrap_or(Value::Null);
        assert!(!tag_ids.to_string().contains(&format!("\"{noisy}\"")), "4K Available was sent: {tag_ids}");
    }
    // Apply and rollback ran as Stash tasks, carrying what the page previewed.
    let tasks = ui.tasks_started();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(tasks[0]["args_map"]["mode"], "apply_plan");
    assert!(tasks[0]["args_map"]["revision"].is_number() && tasks[0]["args_map"]["request_id"].is_string());
    assert_eq!(tasks[1]["args_map"]["mode"], "rollback_plan");
    assert!(ui.web.host.jobs().iter().all(|j| j.status == JobStatus::Finished));
    // "Reject everywhere" is remembered.
    let rejections = ui.env.run(json!({"mode": "list_rejections"}));
    rejections.assert_ok();
    let everywhere = rejections.output["rejections"].as_array().cloned().unwrap_or_default();
    assert!(
        everywhere.iter().any(|r| r["scope"] == "everywhere" && r["value_name"] == "4K Available"),
        "{everywhere:?}"
    );
}

#[test]
fn a_conflict_is_shown_after_apply() {
    let (env, scenes) = tag_sync_world(4);
    let Some(ui) = ui(env) else { return };
    let mut changes = vec![
        json!({"entity": "tag", "action": "CREATE", "value": "Beach", "reason": "a new tag", "status": "approved"}),
        json!({"entity": "scene", "id": scenes[0], "field": "tags", "action": "ADD", "value": {"created": 0},
               "reason": "beach in the title", "confidence": 0.8, "status": "approved"}),
    ];
    changes.extend(scenes.iter().enumerate().map(|(i, id)| {
        json!({
            "entity": "scene", "id": id, "field": "title", "action": "SET",
            "value": format!("Beach Day, part {}", i + 1), "before": format!("Beach day {i:02}"),
            "reason": "title case", "confidence": 0.9, "status": "approved"
        })
    }));
    let plan = json!({"version": 1, "name": "Better titles", "changes": changes});
    // The mirror is how StashHog names scenes on the page.
    ui.env.run(json!({"mode": "full_sync"})).assert_ok();
    ui.env.run(json!({"mode": "import_plan", "plan": plan})).assert_ok();
    // The user retitles one scene in Stash after the plan was made.
    ui.env.stash.lib(|l| l.edit_scene(scenes[1], |s| s.title = Some("My own title".into())));

    let report = ui.scenario(
        "conflict",
        json!({"stash_now": "My own title", "title": "Beach day 01", "reject_title": "Beach day 03"}),
    );
    assert_eq!(report["ok"], true);
    // The refused run sent nothing; the change rejected after the preview was never applied.
    let title = ui.env.stash.lib(|l| l.scene(scenes[3]).and_then(|s| s.title.clone()));
    assert_eq!(title.as_deref(), Some("Beach day 03"));
    let tasks = ui.tasks_started();
    assert_eq!(tasks.len(), 3, "{tasks:?}");
    assert_eq!(tasks[2]["args_map"]["delete_created"], true);
    // The rollback restored the titles StashHog set and deleted the tag it had created.
    let title = ui.env.stash.lib(|l| l.scene(scenes[0]).and_then(|s| s.title.clone()));
    assert_eq!(title.as_deref(), Some("Beach day 00"));
    assert!(ui.env.stash.lib(|l| l.tag_by_name("Beach").is_none()), "the created tag is still there");
    let title = ui.env.stash.lib(|l| l.scene(scenes[1]).and_then(|s| s.title.clone()));
    assert_eq!(title.as_deref(), Some("My own title"), "the user's edit was overwritten");
}

#[test]
fn cancel_mid_apply_then_resume() {
    let (env, scenes) = tag_sync_world(8);
    let Some(ui) = ui(env) else { return };
    ui.env.run(json!({"mode": "sync_scene_tags"})).assert_ok();
    ui.env.run(json!({"mode": "review_plan", "decision": "approve", "all": true, "plan_id": 1})).assert_ok();
    // The apply sends its changes in one grouped request; Stash takes a while over it, so the
    // user cancels while it is in flight, and the resumed run settles what landed.
    ui.env.stash.fail_next_named("BulkSceneUpdate", Fault::Slow(Duration::from_millis(8000)));
    let report = ui.scenario("cancel_resume", json!({"scenes": scenes.len()}));
    assert_eq!(report["ok"], true);
    let jobs = ui.web.host.jobs();
    assert!(jobs.iter().any(|j| j.status == JobStatus::Cancelled), "no job was cancelled: {jobs:?}");
    // After the resume every approved tag is on its scene, each sent once.
    for id in &scenes {
        let names = ui.env.stash.lib(|l| l.scene_tag_names(*id));
        assert!(names.iter().any(|n| n == "4K Available"), "scene {id}: {names:?}");
    }
}

#[test]
fn a_page_of_a_100k_change_plan_renders_quickly() {
    let env = TestEnv::new();
    let tags: Vec<u64> = env.stash.lib(|l| (0..5).map(|i| l.add_tag(&format!("Tag {i}"))).collect());
    let scenes: Vec<u64> = env.stash.lib(|l| {
        l.add_scenes(20_000, |i| Scene {
            title: Some(format!("Scene {i:05}")),
            files: vec![VideoFile::new(&format!("/library/{i:05}.mp4"), Vec::new())],
            ..Scene::default()
        })
    });
    let changes: Vec<Value> = scenes
        .iter()
        .flat_map(|id| {
            tags.iter().enumerate().map(move |(k, tag)| {
                json!({"entity": "scene", "id": id, "field": "tags", "action": "ADD", "value": tag,
                       "reason": "generated", "confidence": 0.5 + (k as f64) / 10.0})
            })
        })
        .collect();
    let plan = json!({"version": 1, "name": "One hundred thousand", "changes": changes});
    let file = env.root().join("big-plan.json");
    std::fs::write(&file, plan.to_string()).expect("write the plan file");
    let Some(ui) = ui(env) else { return };
    ui.env.run(json!({"mode": "full_sync"})).assert_ok();
    ui.env.run(json!({"mode": "import_plan", "file": file.display().to_string()})).assert_ok();

    let report = ui.scenario("large_plan", json!({"changes": 100_000}));
    assert_eq!(report["ok"], true);
    println!("100k-change plan: {}", report["timings"]);
}

#[test]
fn deep_links_survive_refresh_and_back() {
    let (env, _) = tag_sync_world(6);
    let Some(ui) = ui(env) else { return };
    ui.env.run(json!({"mode": "sync_scene_tags"})).assert_ok();
    let report = ui.scenario("deep_link", json!({}));
    assert_eq!(report["ok"], true);
    // The exported file came back as a second plan with every change.
    let plans = ui.env.run(json!({"mode": "list_plans"}));
    plans.assert_ok();
    let plans = plans.output["plans"].as_array().cloned().unwrap_or_default();
    assert_eq!(plans.len(), 2, "{plans:?}");
    let total = |p: &Value| p["changes"].as_object().map(|m| m.values().filter_map(Value::as_f64).sum::<f64>());
    assert_eq!(total(&plans[0]), report["exported"].as_f64());
}

#[test]
fn stash_0_24_shows_a_notice_instead_of_the_page() {
    let Some(ui) = ui(TestEnv::new()) else { return };
    let report = ui.scenario("v024", json!({}));
    assert_eq!(report["ok"], true);
    // The page never ran an operation on a Stash that cannot host it.
    assert!(ui.env.stash.requests_named("StashHogOperation").is_empty());
}

#[test]
fn a_failing_operation_shows_its_message_and_stash_still_works() {
    let env = TestEnv::new();
    env.stash.lib(|l| {
        l.add_scene(Scene { title: Some("Still here".into()), ..Scene::default() });
    });
    let Some(ui) = ui(env) else { return };
    let report = ui.scenario("failing_operation", json!({}));
    assert_eq!(report["ok"], true);
    let failed = ui.env.stash.requests_named("StashHogOperation");
    assert!(failed.iter().any(|r| !r.errors.is_empty()), "no operation failed");
}
