//! Mode `check` — task "Check StashHog setup": tells the user exactly what StashHog sees.
//!
//! Every other mode stops at the first thing that is wrong; this one keeps going and reports
//! every part (Stash, each stash-box, the database, the settings), so one press of the button
//! answers "why doesn't StashHog work here?". Problems also make the run's `error`, so a script
//! or the command line's exit code can tell.

use serde::Serialize;
use serde_json::{Map, json};

use super::{Outcome, Session};
use crate::settings::{Effective, Settings, Source};
use crate::stash::{SceneQuery, StashBox, SystemInfo, SystemState};
use crate::stashbox::StashBoxClient;
use crate::store::Store;

/// What Stash answered.
#[derive(Debug, Serialize)]
struct StashReport {
    url: String,
    credentials: crate::graphql::Credentials,
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<SystemInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scenes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// What one stash-box answered.
#[derive(Debug, Serialize)]
struct StashBoxReport {
    name: String,
    endpoint: String,
    key_configured: bool,
    max_requests_per_minute: Option<u32>,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The database as found.
#[derive(Debug, Serialize)]
struct DatabaseReport {
    path: String,
    /// Why this path, in words.
    chosen: String,
    ok: bool,
    exists: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    killed_runs_found: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Checks Stash, the stash-boxes, the database and the settings; reports all of it.
pub fn run(session: &Session) -> anyhow::Result<Outcome> {
    let mut problems = Vec::new();
    log::info!("StashHog {} — checking the setup", env!("CARGO_PKG_VERSION"));

    let stash = check_stash(session, &mut problems);
    session.progress.borrow_mut().set(0.3);

    let loaded = if stash.reachable { Some(session.load_settings()) } else { None };
    let (stash_boxes, settings, effective) = match loaded {
        Some(Ok((config, settings, effective))) => (config.stash_boxes, settings, effective),
        failed => {
            if let Some(Err(e)) = failed {
                problems.push(format!("{e:#}"));
            }
            log::warn!("settings could not be read from Stash; showing defaults");
            let (settings, effective) = Settings::resolve(&Map::new(), &session.args)?;
            (Vec::new(), settings, effective)
        }
    };
    report_settings(&effective);

    let path = session.database_path(&settings);
    let chosen = session.database_origin(&settings);
    // Without Stash there is nothing to put in a new database: report where it would be, and
    // leave no empty file (or a wrong one, when Stash would have said where it is) behind.
    let opened = if stash.reachable || path.exists() { Some(session.open_store(&path)) } else { None };
    let (store, mut database) = match opened {
        None => {
            log::info!(
                "Database: {} ({chosen}) does not exist yet; the first task run against a reachable Stash creates it",
                path.display()
            );
            let report = DatabaseReport {
                path: path.display().to_string(),
                chosen,
                ok: false,
                exists: false,
                schema_version: None,
                size_bytes: None,
                killed_runs_found: None,
                error: None,
            };
            (None, report)
        }
        Some(Ok((store, killed))) => {
            let report = DatabaseReport {
                path: path.display().to_string(),
                chosen,
                ok: true,
                exists: true,
                schema_version: store.schema_version().ok(),
                size_bytes: None,
                killed_runs_found: Some(killed),
                error: None,
            };
            (Some(store), report)
        }
        Some(Err(e)) => {
            let error = format!("{e:#}");
            log::error!("Database: {error}");
            problems.push(error.clone());
            let report = DatabaseReport {
                path: path.display().to_string(),
                chosen,
                ok: false,
                exists: path.exists(),
                schema_version: None,
                size_bytes: None,
                killed_runs_found: None,
                error: Some(error),
            };
            (None, report)
        }
    };
    session.progress.borrow_mut().set(0.5);

    let mut finish = |store: Option<&Store>| {
        let boxes = check_stash_boxes(&stash_boxes, &mut problems);
        let mut mirror = serde_json::Value::Null;
        if let Some(store) = store {
            database.size_bytes = Some(store.size_bytes());
            log::info!(
                "Database: {} ({}; schema version {}, {} KiB)",
                database.path,
                database.chosen,
                database.schema_version.unwrap_or_default(),
                database.size_bytes.unwrap_or_default() / 1024
            );
            match crate::sync::status(store) {
                Ok(status) => {
                    match &status.full_sync.completed_at {
                        Some(at) => log::info!(
                            "Mirror: {}, last full sync {at}",
                            crate::words::count(status.mirror.scenes, "scene")
                        ),
                        None => log::info!(
                            "Mirror: empty until the first \"Full sync\" (every task starts with one if the library is small)"
                        ),
                    }
                    mirror = serde_json::to_value(status)?;
                }
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        session.progress.borrow_mut().set(1.0);
        let error = summarise(&problems);
        let output = json!({
            "stashhog": { "version": env!("CARGO_PKG_VERSION") },
            "stash": stash,
            "stash_boxes": boxes,
            "database": database,
            "mirror": mirror,
            "settings": effective
                .iter()
                .map(|e| (e.key.to_owned(), json!({"name": e.name, "value": e.value, "source": e.source})))
                .collect::<serde_json::Map<_, _>>(),
            "problems": problems,
        });
        Ok(Outcome { output, error })
    };
    match &store {
        Some(store) => session.recorded(store, || finish(Some(store))),
        None => finish(None),
    }
}

fn check_stash(session: &Session, problems: &mut Vec<String>) -> StashReport {
    let stash = &session.stash;
    let credentials = stash.credentials();
    let mut report = StashReport {
        url: stash.url().to_owned(),
        credentials,
        reachable: false,
        system: None,
        scenes: None,
        error: None,
    };
    match stash.system_info() {
        Ok(system) => {
            report.reachable = true;
            match &system.status {
                SystemState::Ok => {}
                SystemState::Setup => problems.push("Stash is not set up yet: finish its setup wizard first".into()),
                SystemState::NeedsMigration => {
                    problems.push("Stash needs a database migration: run it from Stash's UI first".into());
                }
                SystemState::Other(s) => log::warn!("Stash reports an unknown status {s}"),
            }
            report.scenes = stash.count_scenes(&SceneQuery::default()).ok();
            log::info!(
                "Stash: {} ({}) at {}, {}, logged in with {}, {}",
                system.version.as_deref().unwrap_or("unknown version"),
                system.hash,
                report.url,
                match &system.status {
                    SystemState::Ok => "ready",
                    SystemState::Setup => "not set up yet",
                    SystemState::NeedsMigration => "needs a database migration",
                    SystemState::Other(_) => "in an unknown state",
                },
                credentials,
                report.scenes.map_or("scene count unknown".into(), |n| crate::words::count(n, "scene"))
            );
            report.system = Some(system);
        }
        Err(e) => {
            let error = e.to_string();
            log::error!("Stash: {error}");
            problems.push(error.clone());
            report.error = Some(error);
        }
    }
    report
}

fn check_stash_boxes(boxes: &[StashBox], problems: &mut Vec<String>) -> Vec<StashBoxReport> {
    if boxes.is_empty() {
        log::info!("stash-box: none configured (Settings > Metadata Providers); tag sync needs one");
    }
    boxes
        .iter()
        .map(|b| {
            let mut report = StashBoxReport {
                name: b.name.clone(),
                endpoint: b.endpoint.clone(),
                key_configured: !b.api_key.is_empty(),
                max_requests_per_minute: b.max_requests_per_minute,
                ok: false,
                user: None,
                error: None,
            };
            match StashBoxClient::new(b).and_then(|client| client.me()) {
                Ok(user) => {
                    log::info!("stash-box '{}' ({}): key accepted, user '{}'", b.name, b.endpoint, user.name);
                    report.ok = true;
                    report.user = Some(user.name);
                }
                Err(e) => {
                    let error = e.to_string();
                    log::error!("stash-box '{}' ({}): {error}", b.name, b.endpoint);
                    problems.push(error.clone());
                    report.error = Some(error);
                }
            }
            report
        })
        .collect()
}

/// The settings that differ from StashHog's defaults at info, every setting at debug (the
/// output has them all, and Stash's settings page shows them).
fn report_settings(effective: &[Effective]) {
    let line = |s: &Effective| format!("\"{}\" ({}) = {}, {}", s.name, s.key, s.value_words(), s.source.words());
    let changed: Vec<String> = effective.iter().filter(|s| s.source != Source::Default).map(line).collect();
    if changed.is_empty() {
        log::info!("Settings: all {} at StashHog's defaults", effective.len());
    } else {
        log::info!(
            "Settings: {} at StashHog's defaults; changed: {}",
            effective.len() - changed.len(),
            changed.join("; ")
        );
    }
    for setting in effective {
        log::debug!("Setting {}", line(setting));
    }
}

fn summarise(problems: &[String]) -> Option<String> {
    match problems {
        [] => {
            log::info!("Check passed: StashHog is ready");
            None
        }
        [only] => Some(format!("check found a problem: {only}")),
        [first, rest @ ..] => Some(format!("check found {} problems; first: {first}", rest.len() + 1)),
    }
}
