//! Installing StashHog from its plugin source exactly as Stash installs a package, then running
//! the installed binary where most users run Stash: an empty root with no libc and no CA
//! certificates, like Stash's Alpine Docker image at its barest.
//!
//! The source is made by the same code as `cargo xtask dist` (the `xtask` crate), from the same
//! static binary: the first test to need it builds it (`cargo build --release --target
//! x86_64-unknown-linux-musl`; `.ci/run` runs `cargo xtask dist` first, so here it is fresh).
//! The installer below replicates Stash's (stashapp/stash `pkg/pkg/manager.go` `Install`,
//! `installPackage`; `pkg/pkg/store.go` `writeFile`): read the index, check the zip's sha256,
//! remove the files the previous install listed, write every entry with its stored mode into
//! `<plugins>/<local path>/<package id>/`, and list them in a `manifest` file.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use xtask::dist::{self, Options, Source};
use xtask::platform::Platform;

use crate::support::env::TestEnv;
use crate::support::runner::{self, PluginInput, Run, RunOptions};
use crate::support::temp::TempDir;

/// The source's folder name under Stash's plugins path, as a user would type it in Add Source.
const LOCAL_PATH: &str = "stashhog";
const PACKAGE: &str = "stashhog-linux-x86_64";

// ---- the release ---------------------------------------------------------------------------

/// The static Linux x86-64 binary, built once per test run.
fn static_binary() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        dist::build_static_binary(root).unwrap_or_else(|e| panic!("building the static binary: {e:#}"))
    })
}

/// A release dated `date`, written into a folder of its own (the folder a source URL points at).
fn release(date: &str) -> (TempDir, Source) {
    let out = TempDir::new("dist");
    let options = Options {
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        out: out.path().to_owned(),
        date: Some(date.to_owned()),
        binaries: [("linux-x86_64".to_owned(), static_binary().to_owned())].into(),
        build_host: false,
    };
    let source = dist::run(&options).unwrap_or_else(|e| panic!("cargo xtask dist failed: {e:#}"));
    (out, source)
}

// ---- Stash's installer ---------------------------------------------------------------------

/// One entry of `index.yml`, read leniently as Stash reads it.
#[derive(Debug, Deserialize)]
struct RemotePackage {
    id: String,
    name: String,
    version: String,
    date: String,
    path: String,
    sha256: String,
    #[serde(default)]
    requires: Vec<String>,
    metadata: Metadata,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    description: String,
}

/// The `manifest` file Stash writes beside an installed package.
#[derive(Debug, Deserialize, serde::Serialize)]
struct Installed {
    id: String,
    date: String,
    files: Vec<String>,
}

fn read_index(index: &Path) -> Vec<RemotePackage> {
    let text = std::fs::read_to_string(index).expect("index.yml is there");
    serde_yaml::from_str(&text).expect("index.yml is a YAML list of packages")
}

/// Installs `package_id` from the source at `index` into `<plugins>/<LOCAL_PATH>/<package id>/`
/// as Stash does, and returns that folder.
fn install(index: &Path, package_id: &str, plugins: &Path) -> PathBuf {
    let package = read_index(index).into_iter().find(|p| p.id == package_id).expect("the index lists the package");
    let zip_path = index.parent().expect("index folder").join(&package.path);
    let bytes = std::fs::read(&zip_path).expect("the zip is where `path` says, relative to the index");
    let sha = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(sha, package.sha256, "Stash refuses a zip whose sha256 differs from the index");

    let dir = plugins.join(LOCAL_PATH).join(&package.id);
    let manifest = dir.join("manifest");
    if let Ok(text) = std::fs::read_to_string(&manifest) {
        let previous: Installed = serde_yaml::from_str(&text).expect("Stash's manifest file");
        for file in previous.files.iter().chain([&"manifest".to_owned()]) {
            std::fs::remove_file(dir.join(file)).expect("Stash removes what the previous install wrote");
        }
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("an entry");
        if entry.is_dir() {
            continue;
        }
        let name = entry.enclosed_name().expect("entry names stay inside the folder");
        let target = dir.join(&name);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("creates folders");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("inflates");
        std::fs::write(&target, content).expect("writes");
        // Go opens the file with the entry's mode (less the umask, 022 in Stash's image).
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o777 & !0o022;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode)).expect("chmod");
        files.push(name.to_string_lossy().into_owned());
    }
    let installed = Installed { id: package.id.clone(), date: package.date.clone(), files };
    std::fs::write(&manifest, serde_yaml::to_string(&installed).expect("yaml")).expect("writes the manifest");
    dir
}

/// exec[0] resolved as Stash resolves it (`pkg/plugin/config.go` `getExecCommand`): Go's
/// `exec.LookPath` first — a bare name is searched on PATH, a name with a slash is tried only as
/// given (relative to Stash's working directory) — and only when that fails, joined to the folder
/// of the manifest.
fn resolve_exec(exec0: &str, path_var: &[PathBuf], stash_cwd: &Path, plugin_dir: &Path) -> PathBuf {
    let executable = |p: &Path| p.is_file() && p.metadata().is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    let found = if exec0.contains('/') {
        Some(stash_cwd.join(exec0)).filter(|p| executable(p))
    } else {
        path_var.iter().map(|dir| dir.join(exec0)).find(|p| executable(p))
    };
    found.unwrap_or_else(|| plugin_dir.join(exec0.trim_start_matches("./")))
}

fn installed_exec(plugin_dir: &Path) -> String {
    let text = std::fs::read_to_string(plugin_dir.join("stashhog.yml")).expect("the manifest is installed");
    let manifest = xtask::stash_manifest::parse(&text).expect("the installed manifest loads in Stash");
    manifest.exec.first().cloned().expect("exec[0]")
}

// ---- the empty root --------------------------------------------------------------------------

/// True when this process may chroot. Outside CI a non-root run skips (with a message); under CI
/// (as root) the test must run.
fn can_chroot(test: &str) -> bool {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned));
    if uid.as_deref() == Some("0") {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: CI runs as root, and this test needs root (chroot)");
    eprintln!("{test}: skipped, chroot needs root (CI runs it as root)");
    false
}

/// A root holding only Stash's plugins folder, /etc/hosts and /etc/resolv.conf.
fn empty_root() -> (TempDir, PathBuf) {
    let root = TempDir::new("chroot");
    let etc = root.subdir("etc");
    std::fs::write(etc.join("hosts"), "127.0.0.1 localhost\n::1 localhost ip6-localhost\n").expect("hosts");
    // Nothing answers DNS here; names this test uses are in /etc/hosts, as in a container.
    std::fs::write(etc.join("resolv.conf"), "nameserver 127.0.0.1\n").expect("resolv.conf");
    let plugins = root.subdir("root/.stash/plugins");
    (root, plugins)
}

/// Everything in `root` but the plugins folder and /etc: what the binary could lean on.
fn everything_outside_the_plugin(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    files.retain(|f| !f.starts_with(root.join("root/.stash")) && !f.starts_with(root.join("etc")));
    files
}

// ---- the tests -------------------------------------------------------------------------------

#[test]
fn installed_package_runs_tasks_in_an_empty_root() {
    if !can_chroot("installed_package_runs_tasks_in_an_empty_root") {
        return;
    }
    let (_dist, source) = release("2026-12-01 20:00:00");
    let (root, plugins) = empty_root();
    let plugin_dir = install(&source.index, PACKAGE, &plugins);
    assert!(everything_outside_the_plugin(root.path()).is_empty(), "no libc, no CA files: only the plugin and /etc");

    // A stash-box reached by host name (resolved from the root's /etc/hosts), and an https one:
    // the https client must build without any CA file (it used to fail every request with
    // "builder error", even for http://).
    let env = TestEnv::with_stashbox();
    let by_name = env.stashbox().endpoint().replace("127.0.0.1", "localhost");
    let key = env.stashbox().api_key();
    let https = crate::support::fake_http::dead_url().replace("http://", "https://").replace("127.0.0.1", "localhost");
    env.stash.config(|c| {
        c.stash_boxes.clear();
        c.add_stash_box(&by_name, &key, "StashDB");
        c.add_stash_box(&https, "key", "Secure");
    });
    env.stash.lib(|l| {
        l.add_scenes(5, |_| Default::default());
    });

    let inside = |path: &Path| Path::new("/").join(path.strip_prefix(root.path()).expect("inside the root"));
    let exec = resolve_exec(&installed_exec(&plugin_dir), &[], Path::new("/"), &inside(&plugin_dir));
    let options = RunOptions {
        program: Some(vec!["chroot".into(), root.path().into(), exec.into()]),
        envs: vec![("HOME".into(), "/root".into())],
        ..RunOptions::default()
    };
    let run_inside = |args| -> Run {
        let input = PluginInput::for_stash(&env.stash, Path::new("/root/.stash"), &inside(&plugin_dir)).args(args);
        runner::run_plugin(&input, &options)
    };

    let check = run_inside(json!({"mode": "check"}));
    assert_eq!(check.out("/stash/reachable"), &json!(true), "log:\n{}", check.log_text());
    assert_eq!(check.out("/stash/scenes"), &json!(5));
    assert_eq!(check.out("/stash_boxes/0/ok"), &json!(true), "localhost resolves: {}", check.stdout);
    let secure = check.out("/stash_boxes/1/error").as_str().unwrap_or_default().to_owned();
    assert!(secure.contains("cannot reach stash-box 'Secure'"), "{secure}");
    assert!(!secure.contains("builder error") && !secure.contains("set up HTTP"), "{secure}");
    assert_eq!(check.out("/database/ok"), &json!(true));
    assert_eq!(env.stashbox().requests_named("Me").len(), 1, "the stash-box was asked, by host name");

    let sync = run_inside(json!({"mode": "full_sync"}));
    sync.assert_ok();
    let db = root.path().join("root/.stash/stashhog/stashhog.sqlite");
    let conn = rusqlite::Connection::open(&db).expect("the database is in Stash's config folder");
    let scenes: i64 = conn.query_row("SELECT COUNT(*) FROM scenes", [], |r| r.get(0)).expect("mirror");
    assert_eq!(scenes, 5);
}

#[test]
fn a_stashhog_on_path_does_not_shadow_the_packaged_binary() {
    let (_dist, source) = release("2026-12-01 20:00:00");
    let root = TempDir::new("stash");
    let plugin_dir = install(&source.index, PACKAGE, &root.subdir("plugins"));
    // A command-line copy for cron, on PATH and in Stash's working directory's PATH entry.
    let bin = root.subdir("usr/local/bin");
    std::fs::write(bin.join("stashhog"), "#!/bin/sh\necho old copy\n").expect("decoy");
    std::fs::set_permissions(bin.join("stashhog"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let exec = resolve_exec(&installed_exec(&plugin_dir), &[bin], &root.subdir("cwd"), &plugin_dir);
    assert_eq!(exec, plugin_dir.join("stashhog"));
    let mode = std::fs::metadata(&exec).expect("installed").permissions().mode();
    assert_eq!(mode & 0o755, 0o755, "the run bit survives the zip: {mode:o}");
}

#[test]
fn an_update_keeps_the_database_and_settings() {
    let (first_dist, first) = release("2026-12-01 20:00:00");
    let env = TestEnv::new();
    env.stash.lib(|l| {
        l.add_scenes(4, |_| Default::default());
    });
    env.set_settings(json!({"syncDryRun": false}));
    let plugins = env.dir().join("plugins");
    let plugin_dir = install(&first.index, PACKAGE, &plugins);
    let mut options = env.options.clone();
    options.program = Some(vec![OsString::from(plugin_dir.join("stashhog"))]);
    let input = |args| PluginInput::for_stash(&env.stash, env.dir(), &plugin_dir).args(args);
    runner::run_plugin(&input(json!({"mode": "full_sync"})), &options).assert_ok();

    let (_second_dist, second) = release("2026-12-02 08:00:00");
    let installed: Installed =
        serde_yaml::from_str(&std::fs::read_to_string(plugin_dir.join("manifest")).expect("manifest")).expect("yaml");
    let offered = read_index(&second.index).into_iter().find(|p| p.id == PACKAGE).expect("listed");
    assert!(offered.date > installed.date, "Stash offers the update: its date is newer");
    drop(first_dist);
    install(&second.index, PACKAGE, &plugins);

    let check = runner::run_plugin(&input(json!({"mode": "check"})), &options);
    check.assert_ok();
    assert_eq!(check.out("/mirror/mirror/scenes"), &json!(4), "the mirror survived the update");
    assert!(check.out("/mirror/full_sync/completed_at").is_string(), "so did the full sync's record");
    assert_eq!(
        check.out("/settings/syncDryRun"),
        &json!({"name": "Scene Tag Sync - Dry Run", "value": false, "source": "saved"})
    );
    let runs: i64 = rusqlite::Connection::open(env.db_path())
        .expect("opens")
        .query_row("SELECT COUNT(*) FROM runs WHERE mode = 'full_sync' AND status = 'ok'", [], |r| r.get(0))
        .expect("runs");
    assert_eq!(runs, 1, "the run before the update is still recorded");
}

#[test]
fn every_package_holds_one_manifest_that_stash_loads_and_nothing_else() {
    let (_dist, source) = release("2026-12-01 20:00:00");
    let index = read_index(&source.index);
    assert_eq!(index.len(), source.packages.len());
    let dates: BTreeSet<&str> = index.iter().map(|p| p.date.as_str()).collect();
    assert_eq!(dates.len(), 1, "one date per release");
    for package in &index {
        let platform = Platform::find(package.id.trim_start_matches("stashhog-")).expect("a known platform");
        assert_eq!(package.version, env!("CARGO_PKG_VERSION"));
        assert!(package.name.contains(platform.title), "{}", package.name);
        assert!(package.metadata.description.contains("Stash v0.25 or newer"), "{}", package.metadata.description);
        assert!(package.requires.is_empty());

        let bytes = std::fs::read(source.index.with_file_name(&package.path)).expect("zip");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let names: BTreeSet<String> = archive.file_names().map(|n| n.expect("a UTF-8 name").into_owned()).collect();
        let ymls: Vec<&String> = names.iter().filter(|n| n.ends_with(".yml")).collect();
        assert_eq!(ymls, ["stashhog.yml"], "Stash loads every .yml as a plugin");

        let mut text = String::new();
        archive.by_name("stashhog.yml").expect("manifest").read_to_string(&mut text).expect("utf-8");
        let manifest = xtask::stash_manifest::parse(&text).expect("loads in Stash's strict parser");
        let exec = manifest.exec.first().expect("exec[0]");
        assert!(exec.contains('/'), "exec[0] {exec} must hold a slash, or Stash looks it up on PATH first");
        assert_eq!(exec.trim_start_matches("./"), platform.binary_name.trim_end_matches(".exe"));

        let mut expected: BTreeSet<String> =
            ["stashhog.yml", "README.md", "LICENSE", platform.binary_name].map(str::to_owned).into();
        if let Some(ui) = &manifest.ui {
            expected.extend(ui.javascript.iter().chain(&ui.css).cloned());
        }
        assert_eq!(names, expected, "the binary, the manifest, the page's files, README and LICENSE only");
        for name in &names {
            let mode = archive.by_name(name).expect("entry").unix_mode().expect("a unix mode is stored") & 0o777;
            let want = if name == platform.binary_name { 0o755 } else { 0o644 };
            assert_eq!(mode, want, "{name}: mode {mode:o}");
        }
    }
}
