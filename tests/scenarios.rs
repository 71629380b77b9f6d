//! Golden scenarios: one folder per end-to-end case in `tests/scenarios/<case>/`, read like a
//! story — the library Stash holds, the plan file, the runs in order with what each must say,
//! and the library as it must end — and run here through the real binary against the fake
//! Stash, exactly as the other integration tests run it. `tests/scenarios/README.md` describes
//! the four files; `tests/scenarios/TEMPLATE/` is a case to copy.
//!
//! Names stand in for ids: a string `"@scene 0"` is the id of the library's first scene,
//! `"@tag A"`, `"@performer A"` and `"@studio A"` the id of what is named so (at the time the
//! step runs), and `"@plan"` in a run's arguments is the plan file's document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::support::env::TestEnv;
use crate::support::fake_stash::{Library, Scene};
use crate::support::runner::{Level, Run};

/// Declares one test per scenario folder, and the list of them the folder check compares with.
macro_rules! scenarios {
    ($($case:ident),+ $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($case)),+];
        $(
            #[test]
            #[allow(non_snake_case)]
            fn $case() {
                run_scenario(stringify!($case));
            }
        )+
    };
}

scenarios! {
    TEMPLATE,
    apply_reviewed_in_part,
    conflict_is_skipped_and_reported,
    rollback_restores_exactly,
}

/// `library.json`: what Stash holds before the first run.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LibraryFile {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    performers: Vec<String>,
    #[serde(default)]
    studios: Vec<String>,
    #[serde(default)]
    scenes: Vec<Map<String, Value>>,
}

/// One entry of `steps.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Run the binary with these arguments (as a task or operation).
    #[serde(default)]
    run: Option<Value>,
    /// JSON pointers into the run's output and the value each must have (an object given
    /// here needs only the keys it names); a pointer ending in `/*` names a list, one of whose
    /// members must be the value.
    #[serde(default)]
    expect: BTreeMap<String, Value>,
    /// Text the run's error must contain; without it the run must succeed.
    #[serde(default)]
    error: Option<String>,
    /// Text logged at a level (`info`, `warning`, `error`) by the run.
    #[serde(default)]
    logged: BTreeMap<String, Vec<String>>,
    /// How many requests of each GraphQL operation Stash saw during the run.
    #[serde(default)]
    requests: BTreeMap<String, usize>,
    /// The scenes as Stash holds them after the run (as in `expected.json`).
    #[serde(default)]
    scenes: Vec<Map<String, Value>>,
    /// A user's edit in Stash between runs: this scene (by its place in `library.json`) gets
    /// these fields (as in `library.json`).
    #[serde(default)]
    edit_scene: Option<usize>,
    #[serde(default)]
    set: Map<String, Value>,
}

/// `expected.json`: what Stash holds after the last step.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    /// Each scene of `library.json`, in order, with the fields that matter (as in
    /// `library.json`); a field not named is not compared.
    #[serde(default)]
    scenes: Vec<Map<String, Value>>,
    /// Every tag's name, sorted, when given.
    #[serde(default)]
    tags: Option<Vec<String>>,
    /// Every performer's name, sorted, when given.
    #[serde(default)]
    performers: Option<Vec<String>>,
    /// Every studio's name, sorted, when given.
    #[serde(default)]
    studios: Option<Vec<String>>,
}

fn folder(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(case)
}

fn read<T: for<'de> Deserialize<'de>>(case: &str, file: &str) -> T {
    let path = folder(case).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run_scenario(case: &str) {
    let env = TestEnv::new();
    let library: LibraryFile = read(case, "library.json");
    let scene_ids = env.stash.lib(|l| {
        for tag in &library.tags {
            l.add_tag(tag);
        }
        for performer in &library.performers {
            l.add_performer(performer);
        }
        for studio in &library.studios {
            l.add_studio(studio);
        }
        library
            .scenes
            .iter()
            .map(|fields| {
                let mut scene = Scene::default();
                set_fields(l, &[], &mut scene, fields, case);
                l.add_scene(scene)
            })
            .collect::<Vec<u64>>()
    });
    let plan_file = folder(case).join("plan.json");
    let plan: Option<Value> = plan_file.exists().then(|| read(case, "plan.json"));
    let steps: Vec<Step> = read(case, "steps.json");
    for (n, step) in steps.iter().enumerate() {
        let at = format!("{case}: step {n}");
        if let Some(index) = step.edit_scene {
            let id = *scene_ids.get(index).unwrap_or_else(|| panic!("{at}: no scene {index}"));
            env.stash.lib(|l| {
                let mut scene = l.scene(id).cloned().unwrap_or_default();
                set_fields(l, &scene_ids, &mut scene, &step.set, &at);
                l.edit_scene(id, |s| *s = scene);
            });
        }
        let Some(args) = &step.run else { continue };
        let args = env.stash.lib(|l| resolve(l, &scene_ids, plan.as_ref(), args, &at));
        env.stash.clear_requests();
        let run = env.run(args);
        check_step(&env, &run, step, &at);
        env.stash.lib(|l| check_scenes(l, &scene_ids, &step.scenes, &at));
    }
    let expected: Expected = read(case, "expected.json");
    env.stash.lib(|l| check_library(l, &scene_ids, &expected, case));
}

/// `value` with every `"@kind name"` replaced by that object's id and `"@plan"` by the plan.
fn resolve(l: &Library, scenes: &[u64], plan: Option<&Value>, value: &Value, at: &str) -> Value {
    match value {
        Value::String(text) if text == "@plan" => {
            let plan = plan.unwrap_or_else(|| panic!("{at}: \"@plan\" but the case has no plan.json"));
            resolve(l, scenes, None, plan, at)
        }
        Value::String(text) if text.starts_with('@') => json!(id_of(l, scenes, text, at)),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(l, scenes, plan, v, at)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(l, scenes, plan, v, at))).collect())
        }
        other => other.clone(),
    }
}

/// The id `"@scene 0"`, `"@tag A"`, `"@performer A"` or `"@studio A"` stands for.
fn id_of(l: &Library, scenes: &[u64], text: &str, at: &str) -> u64 {
    let (kind, name) = text[1..].split_once(' ').unwrap_or_else(|| panic!("{at}: {text:?} is not \"@kind name\""));
    let id = match kind {
        "scene" => name.parse::<usize>().ok().and_then(|i| scenes.get(i)).copied(),
        "tag" => l.tag_by_name(name).map(|t| t.id),
        "performer" => l.performer_by_name(name).map(|p| p.id),
        "studio" => l.studio_by_name(name).map(|s| s.id),
        _ => None,
    };
    id.unwrap_or_else(|| panic!("{at}: Stash has no {text:?}"))
}

/// Sets a scene's fields as `library.json` writes them (tags, performers and studio by name).
fn set_fields(l: &Library, scenes: &[u64], scene: &mut Scene, fields: &Map<String, Value>, at: &str) {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let ids = |kind: &str, v: &Value| -> Vec<u64> {
        let names = v.as_array().cloned().unwrap_or_default();
        names.iter().map(|n| id_of(l, scenes, &format!("@{kind} {}", n.as_str().unwrap_or_default()), at)).collect()
    };
    for (key, value) in fields {
        match key.as_str() {
            "title" => scene.title = text(value),
            "details" => scene.details = text(value),
            "code" => scene.code = text(value),
            "director" => scene.director = text(value),
            "date" => scene.date = text(value),
            "rating100" => scene.rating100 = value.as_i64(),
            "organized" => scene.organized = value.as_bool().unwrap_or_default(),
            "urls" => scene.urls = value.as_array().into_iter().flatten().filter_map(text).collect(),
            "tags" => scene.tag_ids = ids("tag", value),
            "performers" => scene.performer_ids = ids("performer", value),
            "studio" => {
                scene.studio_id = value.as_str().map(|name| id_of(l, scenes, &format!("@studio {name}"), at));
            }
            other => panic!("{at}: a scene has no field {other:?} here"),
        }
    }
}

/// A scene's fields as `expected.json` writes them: tags and performers by name, sorted.
fn fields_of(l: &Library, scene: &Scene) -> Map<String, Value> {
    let names = |ids: &[u64], name: &dyn Fn(u64) -> Option<String>| {
        let mut names: Vec<String> = ids.iter().filter_map(|id| name(*id)).collect();
        names.sort();
        json!(names)
    };
    let studio = scene.studio_id.and_then(|id| l.studios.get(&id)).map(|s| s.name.clone());
    let object = json!({
        "title": scene.title, "details": scene.details, "code": scene.code, "director": scene.director,
        "date": scene.date, "rating100": scene.rating100, "organized": scene.organized, "urls": scene.urls,
        "tags": names(&scene.tag_ids, &|id| l.tags.get(&id).map(|t| t.name.clone())),
        "performers": names(&scene.performer_ids, &|id| l.performers.get(&id).map(|p| p.name.clone())),
        "studio": studio,
    });
    object.as_object().cloned().unwrap_or_default()
}

/// Whether `actual` is `expected`, where an object of `expected` needs only the keys it names.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            want.iter().all(|(k, v)| matches(v, have.get(k).unwrap_or(&Value::Null)))
        }
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| matches(w, h))
        }
        (Value::Number(want), Value::Number(have)) => want.as_f64() == have.as_f64(),
        _ => expected == actual,
    }
}

fn check_step(env: &TestEnv, run: &Run, step: &Step, at: &str) {
    match &step.error {
        Some(needle) => {
            let error = run.error.clone().unwrap_or_default();
            assert!(error.contains(needle.as_str()), "{at}: the error should say {needle:?}, it is {error:?}");
        }
        None => {
            run.assert_ok();
        }
    }
    for (pointer, want) in &step.expect {
        if let Some(list) = pointer.strip_suffix("/*") {
            let have = run.out(list);
            let any = have.as_array().is_some_and(|items| items.iter().any(|item| matches(want, item)));
            assert!(any, "{at}: no member of {list} is {want}: {have}");
        } else {
            let have = run.out(pointer);
            assert!(matches(want, have), "{at}: {pointer} should be {want}, it is {have}");
        }
    }
    for (level, needles) in &step.logged {
        let level = match level.as_str() {
            "info" => Level::Info,
            "warning" => Level::Warning,
            "error" => Level::Error,
            other => panic!("{at}: no log level {other:?}"),
        };
        for needle in needles {
            assert!(
                run.logged(level, needle),
                "{at}: nothing logged at {level:?} says {needle:?}:\n{}",
                run.log_text()
            );
        }
    }
    for (operation, count) in &step.requests {
        let seen = env.stash.requests_named(operation).len();
        assert_eq!(seen, *count, "{at}: {operation} requests");
    }
}

/// Each scene of `library.json`, in order, has the fields `expected` names (`{}`: any).
fn check_scenes(l: &Library, scenes: &[u64], expected: &[Map<String, Value>], at: &str) {
    for (index, want) in expected.iter().enumerate() {
        let id = scenes.get(index).copied().unwrap_or_else(|| panic!("{at}: library.json has no scene {index}"));
        let have = l.scene(id).map(|s| fields_of(l, s)).unwrap_or_else(|| panic!("{at}: scene {index} is gone"));
        for (key, value) in want {
            let actual = have.get(key).unwrap_or_else(|| panic!("{at}: a scene has no field {key:?} here"));
            assert!(matches(value, actual), "{at}: scene {index}'s {key} should be {value}, it is {actual}");
        }
    }
}

fn check_library(l: &Library, scenes: &[u64], expected: &Expected, case: &str) {
    check_scenes(l, scenes, &expected.scenes, &format!("{case}: at the end"));
    let sorted = |names: Vec<String>| {
        let mut names = names;
        names.sort();
        names
    };
    if let Some(tags) = &expected.tags {
        assert_eq!(&sorted(l.tags.values().map(|t| t.name.clone()).collect()), tags, "{case}: tags");
    }
    if let Some(performers) = &expected.performers {
        assert_eq!(&sorted(l.performers.values().map(|p| p.name.clone()).collect()), performers, "{case}: performers");
    }
    if let Some(studios) = &expected.studios {
        assert_eq!(&sorted(l.studios.values().map(|s| s.name.clone()).collect()), studios, "{case}: studios");
    }
}

#[test]
fn every_scenario_folder_runs() {
    let mut folders: Vec<String> = std::fs::read_dir(folder(""))
        .expect("tests/scenarios exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    listed.sort();
    assert_eq!(folders, listed, "list each folder of tests/scenarios in the scenarios! macro of tests/scenarios.rs");
}
