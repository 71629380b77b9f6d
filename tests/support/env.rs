//! `TestEnv`: one scenario's world — a fake Stash, optionally a fake stash-box configured in
//! it, and the folders Stash would give the plugin — so a test reads in three lines:
//!
//! ```ignore
//! let env = TestEnv::new();
//! env.stash.lib(|l| { l.add_tag("Anal"); });
//! let run = env.run(json!({"mode": "check"}));
//! assert_eq!(run.error, None);
//! ```
//!
//! Why it exists: every test needs the same wiring (ports, session cookie, `Dir`,
//! `PluginDir`, an unrelated CWD, an isolated HOME) and must never share any of it with
//! another test running in parallel.

use super::fake_stash::{FakeStash, HookEvent};
use super::fake_stashbox::FakeStashBox;
use super::runner::{self, CliRun, PluginInput, Run, RunOptions};
use super::temp::TempDir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The plugin id Stash derives from the manifest's file name.
pub const PLUGIN_ID: &str = "stashhog";

/// One test's world (see the module docs). Everything stops and is deleted on drop.
pub struct TestEnv {
    /// The fake Stash.
    pub stash: FakeStash,
    /// The fake stash-box, when the scenario has one (see [`TestEnv::with_stashbox`]).
    pub stashbox: Option<FakeStashBox>,
    /// How the binary is run (environment, timeout); edit freely.
    pub options: RunOptions,
    root: TempDir,
    dir: PathBuf,
    plugin_dir: PathBuf,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// A fake Stash with no credentials and no stash-box, and fresh folders.
    pub fn new() -> TestEnv {
        let root = TempDir::new("env");
        let dir = root.subdir("stash");
        // Stash keeps config.yml in `Dir`; the plugin must not need it, but it is there.
        let _ = std::fs::write(dir.join("config.yml"), "# fake Stash config\n");
        let plugin_dir = root.subdir("stash/plugins/stashhog");
        let options =
            RunOptions { cwd: Some(root.subdir("cwd")), home: Some(root.subdir("home")), ..RunOptions::default() };
        let stash = FakeStash::start();
        let config_file = dir.join("config.yml").display().to_string();
        stash.config(|c| c.config_file_path = config_file);
        TestEnv { stash, stashbox: None, options, root, dir, plugin_dir }
    }

    /// Like [`TestEnv::new`], plus a fake stash-box configured in Stash's `stashBoxes`
    /// (endpoint = its full `/graphql` URL, with its API key).
    pub fn with_stashbox() -> TestEnv {
        let mut env = TestEnv::new();
        let stashbox = FakeStashBox::start();
        let (endpoint, key) = (stashbox.endpoint(), stashbox.api_key());
        env.stash.config(|c| c.add_stash_box(&endpoint, &key, "StashDB (fake)"));
        env.stashbox = Some(stashbox);
        env
    }

    /// The fake stash-box (panics when the scenario has none).
    #[track_caller]
    pub fn stashbox(&self) -> &FakeStashBox {
        self.stashbox.as_ref().expect("this TestEnv has no stash-box: use TestEnv::with_stashbox()")
    }

    /// Stash's config dir (`Dir`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The plugin's folder (`PluginDir`).
    pub fn plugin_dir(&self) -> &Path {
        &self.plugin_dir
    }

    /// The root of every folder of this test.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The binary's database: `<Dir>/stashhog/stashhog.sqlite`.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join("stashhog").join("stashhog.sqlite")
    }

    /// Saves StashHog's plugin settings in the fake Stash (replacing them, like the UI).
    pub fn set_settings(&self, settings: Value) {
        let map = settings.as_object().cloned().unwrap_or_default();
        self.stash.config(|c| {
            c.plugins.insert(PLUGIN_ID.to_owned(), map);
        });
    }

    /// The plugin input Stash would send now (current session cookie) with these `args`.
    pub fn input(&self, args: Value) -> PluginInput {
        PluginInput::for_stash(&self.stash, &self.dir, &self.plugin_dir).args(args)
    }

    /// Runs the binary as Stash runs a task or operation with these `args`.
    pub fn run(&self, args: Value) -> Run {
        self.run_input(&self.input(args))
    }

    /// Runs the binary with a hand-made input.
    pub fn run_input(&self, input: &PluginInput) -> Run {
        runner::run_plugin(input, &self.options)
    }

    /// Starts the binary on `args`, and SIGKILLs it (as Stash cancels a task) once `ready()`.
    pub fn kill_when(&self, args: Value, ready: impl Fn() -> bool) {
        runner::kill_when(&self.input(args), &self.options, ready);
    }

    /// Runs the binary with stderr closed from the start.
    pub fn run_with_stderr_closed(&self, args: Value) -> Run {
        let options = RunOptions { stderr_closed: true, ..self.options.clone() };
        runner::run_plugin(&self.input(args), &options)
    }

    /// Runs the binary as a plugin with arbitrary stdin bytes.
    pub fn run_raw_stdin(&self, stdin: &[u8]) -> Run {
        runner::run_raw_stdin(stdin, &self.options)
    }

    /// Runs the command-line face with `args` (pass `--url`, `--db` as needed; see
    /// [`TestEnv::stash_url`]).
    pub fn run_cli(&self, args: &[&str]) -> CliRun {
        runner::run_cli(args, &self.options)
    }

    /// Makes the fake Stash run StashHog's `mirror_hook` synchronously inside every mutation,
    /// as Stash does with the manifest's hook; returns the list the hook runs are collected in.
    pub fn enable_hooks(&self) -> Arc<Mutex<Vec<Run>>> {
        let runs = Arc::new(Mutex::new(Vec::new()));
        let (port, dir, plugin_dir, options) =
            (self.stash.port(), self.dir.clone(), self.plugin_dir.clone(), self.options.clone());
        let collected = Arc::clone(&runs);
        self.stash.on_hook(Arc::new(move |event: &HookEvent| {
            let input = PluginInput::new(port, Some(&event.cookie), &dir, &plugin_dir)
                .args(serde_json::json!({"mode": "mirror_hook"}))
                .hook(
                    event.id,
                    &event.trigger,
                    event.input.clone(),
                    &event.input_fields.iter().map(String::as_str).collect::<Vec<_>>(),
                );
            let run = runner::run_plugin(&input, &options);
            if let Ok(mut runs) = collected.lock() {
                runs.push(run);
            }
        }));
        runs
    }

    /// The fake Stash's base URL, for `--url`.
    pub fn stash_url(&self) -> String {
        self.stash.url()
    }
}
