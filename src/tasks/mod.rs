//! The modes StashHog runs, one module each, and what every mode shares: the [`Session`] (who
//! started us and how to reach Stash) and the steps of getting settings and the database.
//!
//! Nothing here knows which face (plugin or command line) started the run.

pub mod analyze;
pub mod apply_plan;
pub mod check;
pub mod full_sync;
pub mod import_fansly;
pub mod incremental_sync;
pub mod mirror_hook;
pub mod plan_run;
pub mod plans;
pub mod rollback_plan;
pub mod sync_scene_tags;
pub mod sync_status;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use crate::manifest::{SettingKey, TaskMode};
use crate::protocol::args::{ArgSpec, Args, UnknownArg};
use crate::protocol::input::HookContext;
use crate::protocol::progress::Progress;
use crate::settings::{Effective, Settings};
use crate::stash::{StashClient, StashConfig};
use crate::store::Store;

/// A mode StashHog can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Started by a task or hook of the manifest.
    Task(TaskMode),
    /// An operation for the UI page (`runPluginOperation`) and the command line; not a button.
    Operation(Operation),
}

/// Modes that are not in the manifest: the UI page and scripts call them by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `sync_status`: what the mirror holds and how fresh it is.
    SyncStatus,
    /// `list_plans`: every plan with its change counts.
    ListPlans,
    /// `show_plan`: one plan's changes, paged and filtered, with a per-field summary.
    ShowPlan,
    /// `review_plan`: approve or reject changes (by id, field, confidence, or all).
    ReviewPlan,
    /// `export_plan`: a plan as a plan file.
    ExportPlan,
    /// `import_plan`: a plan file as a new plan.
    ImportPlan,
    /// `delete_plan`: forget a plan.
    DeletePlan,
    /// `preview_apply`: what applying a plan would send, nothing sent.
    PreviewApply,
    /// `preview_rollback`: what rolling a plan back would send, nothing sent.
    PreviewRollback,
    /// `run_summary`: the stored outcome of a run (Stash discards a task's output).
    RunSummary,
    /// `list_rejections`: the rejections StashHog remembers.
    ListRejections,
    /// `remove_rejection`: forget one.
    RemoveRejection,
}

impl Operation {
    /// Every operation.
    pub const ALL: &[Operation] = &[
        Operation::SyncStatus,
        Operation::ListPlans,
        Operation::ShowPlan,
        Operation::ReviewPlan,
        Operation::ExportPlan,
        Operation::ImportPlan,
        Operation::DeletePlan,
        Operation::PreviewApply,
        Operation::PreviewRollback,
        Operation::RunSummary,
        Operation::ListRejections,
        Operation::RemoveRejection,
    ];

    /// The operation's name as `args.mode` carries it.
    pub fn name(self) -> &'static str {
        match self {
            Operation::SyncStatus => "sync_status",
            Operation::ListPlans => "list_plans",
            Operation::ShowPlan => "show_plan",
            Operation::ReviewPlan => "review_plan",
            Operation::ExportPlan => "export_plan",
            Operation::ImportPlan => "import_plan",
            Operation::DeletePlan => "delete_plan",
            Operation::PreviewApply => "preview_apply",
            Operation::PreviewRollback => "preview_rollback",
            Operation::RunSummary => "run_summary",
            Operation::ListRejections => "list_rejections",
            Operation::RemoveRejection => "remove_rejection",
        }
    }
}

/// The mode named in the input is missing or unknown.
#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    /// No mode given.
    #[error("no mode given: set `mode` in the task's args (command line: the first word); valid modes: {}", Mode::names().join(", "))]
    Missing,
    /// Unknown mode.
    #[error("unknown mode `{}`; valid modes: {names}", .0.escape_debug(), names = Mode::names().join(", "))]
    Unknown(String),
}

impl Mode {
    /// Every mode's name.
    pub fn names() -> Vec<&'static str> {
        Self::all().map(Mode::name).collect()
    }

    fn all() -> impl Iterator<Item = Mode> {
        TaskMode::ALL.iter().map(|m| Mode::Task(*m)).chain(Operation::ALL.iter().map(|o| Mode::Operation(*o)))
    }

    /// The mode called `name`.
    pub fn parse(name: &str) -> Result<Mode, ModeError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ModeError::Missing);
        }
        Self::all().find(|m| m.name() == name).ok_or_else(|| {
            let shown: String = name.chars().take(60).collect();
            ModeError::Unknown(if shown.len() < name.len() { format!("{shown}…") } else { shown })
        })
    }

    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Task(task) => task.name(),
            Mode::Operation(operation) => operation.name(),
        }
    }

    /// The arguments the mode takes besides the settings, as its module declares them. A new
    /// mode adds its module's list here (the match makes forgetting it a build error).
    pub fn args(self) -> &'static [ArgSpec] {
        match self {
            Mode::Task(task) => match task {
                TaskMode::Check
                | TaskMode::FullSync
                | TaskMode::IncrementalSync
                | TaskMode::MirrorHook
                | TaskMode::SyncSceneTags
                | TaskMode::ImportFansly => &[],
                TaskMode::Analyze => analyze::ARGS,
                TaskMode::ApplyPlan => apply_plan::ARGS,
                TaskMode::RollbackPlan => rollback_plan::ARGS,
            },
            Mode::Operation(operation) => match operation {
                Operation::SyncStatus => sync_status::ARGS,
                Operation::ListPlans => plans::LIST_PLANS_ARGS,
                Operation::ShowPlan => plans::SHOW_PLAN_ARGS,
                Operation::ReviewPlan => plans::REVIEW_PLAN_ARGS,
                Operation::ExportPlan => plans::EXPORT_PLAN_ARGS,
                Operation::ImportPlan => plans::IMPORT_PLAN_ARGS,
                Operation::DeletePlan => plans::DELETE_PLAN_ARGS,
                Operation::PreviewApply => plan_run::PREVIEW_APPLY_ARGS,
                Operation::PreviewRollback => plan_run::PREVIEW_ROLLBACK_ARGS,
                Operation::RunSummary => plans::RUN_SUMMARY_ARGS,
                Operation::ListRejections => plans::LIST_REJECTIONS_ARGS,
                Operation::RemoveRejection => plans::REMOVE_REJECTION_ARGS,
            },
        }
    }

    /// Refuses an argument the mode does not take: not among [`Mode::args`] nor a setting
    /// (every setting can be overridden for one run). A setting's old key says its new one.
    pub fn check_args(self, args: &Args) -> Result<(), ArgumentError> {
        for key in args.as_map().keys() {
            if let Some(new) = crate::settings::renamed(key) {
                return Err(ArgumentError::Renamed { old: key.clone(), new: new.key() });
            }
        }
        let own: Vec<&str> = self.args().iter().map(|a| a.name).collect();
        let listed = if own.is_empty() {
            "no arguments but the settings".to_owned()
        } else {
            format!("{} and the settings", own.join(", "))
        };
        let known = own.iter().copied().chain(SettingKey::ALL.iter().map(|k| k.key()));
        args.refuse_unknown(self.name(), known, &listed)?;
        Ok(())
    }
}

/// An argument the mode does not take.
#[derive(Debug, thiserror::Error)]
pub enum ArgumentError {
    /// Not a key of this mode, nor a setting.
    #[error(transparent)]
    Unknown(#[from] UnknownArg),
    /// A setting's key from an older version.
    #[error("the setting `{old}` is called `{new}` now")]
    Renamed {
        /// The old key.
        old: String,
        /// Today's key.
        new: &'static str,
    },
}

/// Which face started this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Stash, with JSON on stdin.
    Plugin,
    /// A person or a script, with arguments.
    Cli,
}

impl Face {
    fn as_str(self) -> &'static str {
        match self {
            Face::Plugin => "plugin",
            Face::Cli => "cli",
        }
    }
}

/// Everything known about a run before Stash has been asked anything.
#[derive(Debug)]
pub struct Session {
    /// What to run.
    pub mode: Mode,
    /// Its arguments (setting overrides included).
    pub args: Args,
    /// What triggered us, when a hook did.
    pub hook: Option<HookContext>,
    /// The Stash client.
    pub stash: StashClient,
    /// Stash's config folder, when known (the plugin input's `Dir`).
    pub stash_dir: Option<PathBuf>,
    /// Whether Stash runs on this machine (always for the plugin; for the command line, a
    /// loopback `--url`): only then is the config file Stash reports a path we can use.
    pub stash_is_local: bool,
    /// Stash's config folder as found from the config file Stash reports (command line).
    pub found_stash_dir: std::cell::OnceCell<PathBuf>,
    /// `--db` from the command line.
    pub database_override: Option<PathBuf>,
    /// Who started us.
    pub face: Face,
    /// Where progress goes.
    pub progress: std::cell::RefCell<Progress>,
}

/// What a mode hands back: its JSON summary, and an error message when it failed in part (a
/// `check` that found problems still returns its whole report).
#[derive(Debug)]
pub struct Outcome {
    /// The summary, for `output`.
    pub output: Value,
    /// One line on what went wrong, for `error`.
    pub error: Option<String>,
}

/// Runs the session's mode.
pub fn run(session: &Session) -> anyhow::Result<Outcome> {
    session.mode.check_args(&session.args)?;
    let run = match session.mode {
        Mode::Task(task) => match task {
            // Diagnoses Stash, the settings and the database itself: needs none of them up front.
            TaskMode::Check => return check::run(session),
            // Never fails the user's save: a hiccup is only a warning (see the module).
            TaskMode::MirrorHook => return mirror_hook::run(session),
            TaskMode::FullSync => full_sync::run,
            TaskMode::IncrementalSync => incremental_sync::run,
            TaskMode::SyncSceneTags => sync_scene_tags::run,
            TaskMode::Analyze => analyze::run,
            TaskMode::ImportFansly => import_fansly::run,
            TaskMode::ApplyPlan => apply_plan::run,
            TaskMode::RollbackPlan => rollback_plan::run,
        },
        Mode::Operation(operation) => match operation {
            Operation::SyncStatus => sync_status::run,
            Operation::ListPlans => plans::list_plans,
            Operation::ShowPlan => plans::show_plan,
            Operation::ReviewPlan => plans::review_plan,
            Operation::ExportPlan => plans::export_plan,
            Operation::ImportPlan => plans::import_plan,
            Operation::DeletePlan => plans::delete_plan,
            Operation::PreviewApply => plan_run::preview_apply,
            Operation::PreviewRollback => plan_run::preview_rollback,
            Operation::RunSummary => plans::run_summary,
            Operation::ListRejections => plans::list_rejections,
            Operation::RemoveRejection => plans::remove_rejection,
        },
    };
    session.context()?.recorded(run)
}

/// Logs what making a plan left out and took over (see `Store::propose_plan`).
fn log_proposed(proposed: &crate::store::Proposed) {
    if proposed.rejected_earlier > 0 {
        log::info!(
            "{} proposed change(s) left out: you rejected them earlier (list_rejections shows what StashHog remembers)",
            proposed.rejected_earlier
        );
    }
    if proposed.superseded > 0 {
        log::info!(
            "Took over {} open change(s) of earlier plans ({} approval(s) carried over, {} moved in for scenes not looked at this time){}",
            proposed.superseded,
            proposed.approvals_carried,
            proposed.taken_over,
            if proposed.plans_superseded.is_empty() {
                String::new()
            } else {
                format!("; plan(s) {:?} are now superseded", proposed.plans_superseded)
            }
        );
    }
}

/// Logs a sync's summary the way a user reads it and makes it the run's output.
fn report_sync(summary: &crate::sync::SyncSummary) -> anyhow::Result<Outcome> {
    use crate::words::count;
    let removed = summary.scenes.deleted + summary.tags.deleted + summary.performers.deleted + summary.studios.deleted;
    log::info!(
        "{} sync done in {:.1} s: copied {}, {}, {}, {}; removed {} Stash no longer has; the mirror holds {}",
        summary.kind.title(),
        summary.seconds,
        count(summary.scenes.copied, "scene"),
        count(summary.tags.copied, "tag"),
        count(summary.performers.copied, "performer"),
        count(summary.studios.copied, "studio"),
        count(removed, "object"),
        count(summary.mirror.scenes, "scene"),
    );
    log::debug!("{} to Stash", count(summary.requests, "request"));
    let mut output = serde_json::to_value(summary)?;
    if let Some(rss) = peak_rss_bytes() {
        output["peak_rss_mib"] = ((rss as f64 / 1048576.0 * 10.0).round() / 10.0).into();
    }
    Ok(Outcome { output, error: None })
}

/// The process's peak resident memory, where the OS tells (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// What a mode that works on the library has at hand: Stash, its configuration, the settings
/// in effect and the open database. Built by [`Session::context`].
#[derive(Debug)]
pub struct Context<'s> {
    /// The session (Stash client, arguments, progress).
    pub session: &'s Session,
    /// Stash's configuration (stash-boxes, tag exclusions).
    pub config: StashConfig,
    /// The settings in effect.
    pub settings: Settings,
    /// The database.
    pub store: Store,
}

impl Context<'_> {
    /// What the mirror's copying needs from this context.
    pub fn mirror(&self) -> crate::sync::Sources<'_> {
        crate::sync::Sources { store: &self.store, stash: &self.session.stash, progress: &self.session.progress }
    }

    /// Runs `work` as a recorded run (see [`Session::recorded`]).
    pub fn recorded(mut self, work: impl FnOnce(&mut Self) -> anyhow::Result<Outcome>) -> anyhow::Result<Outcome> {
        let run = self.session.begin_run(&self.store)?;
        let result = work(&mut self);
        finish_run(&self.store, run, &result);
        result
    }
}

impl Session {
    /// Stash's configuration and the settings in effect; first saves StashHog's defaults for
    /// settings never saved (see [`Session::save_default_settings`]).
    pub fn load_settings(&self) -> anyhow::Result<(StashConfig, Settings, Vec<Effective>)> {
        let mut config = self.stash.configuration().context("reading Stash's configuration")?;
        self.find_stash_dir(&config);
        if self.mode != Mode::Task(TaskMode::MirrorHook) {
            self.save_default_settings(&mut config);
        }
        let (settings, effective) = Settings::resolve(&config.plugin_settings, &self.args)?;
        Ok((config, settings, effective))
    }

    /// Writes StashHog's defaults for never-saved settings (and saved values moved to renamed
    /// keys) into Stash's plugin settings, so Stash's settings page shows what is in effect
    /// instead of "off" and 0. Hooks skip it: they run inside the user's own save.
    ///
    /// `configurePlugin` replaces the whole map, so a user saving the page between our read and
    /// our write would lose that save. The map is therefore read again right before writing
    /// (the window shrinks to one request) and only when something is missing, which after the
    /// first run is never. A user's page that still holds the old map may write it back later:
    /// that loses nothing of theirs, and the next run completes it again. A failure is only a
    /// warning: the defaults are in effect either way.
    fn save_default_settings(&self, config: &mut StashConfig) {
        if crate::settings::completed(&config.plugin_settings).is_none() {
            return;
        }
        let written =
            self.stash.configuration().and_then(|fresh| match crate::settings::completed(&fresh.plugin_settings) {
                None => Ok((fresh.plugin_settings, 0)),
                Some(complete) => {
                    let added = complete.len().saturating_sub(fresh.plugin_settings.len());
                    self.stash.configure_plugin(&complete).map(|()| (complete, added))
                }
            });
        match written {
            Ok((settings, 0)) => config.plugin_settings = settings,
            Ok((settings, added)) => {
                log::info!(
                    "Saved StashHog's defaults for {} in Stash, so Settings > Plugins > StashHog shows what is in effect",
                    crate::words::count(added as u64, "setting")
                );
                config.plugin_settings = settings;
            }
            Err(e) => log::warn!("Could not save StashHog's default settings in Stash ({e}); they apply all the same"),
        }
    }

    /// The command line shares the plugin's database when Stash runs on this machine: Stash's
    /// config folder is where the config file it reports lives. A Stash elsewhere (or in a
    /// container) reports a path that means nothing here, so we keep `~/.stash` and say so.
    fn find_stash_dir(&self, config: &StashConfig) {
        if self.stash_dir.is_some() || !self.stash_is_local {
            return;
        }
        let folder = config.config_file.as_ref().filter(|file| file.is_file()).and_then(|file| file.parent());
        if let Some(folder) = folder {
            let _ = self.found_stash_dir.set(folder.to_path_buf());
        }
    }

    /// Stash's config folder: the plugin input's `Dir`, else the folder of the config file the
    /// local Stash reports, else `~/.stash`.
    pub fn stash_config_dir(&self) -> PathBuf {
        self.stash_dir.clone().or_else(|| self.found_stash_dir.get().cloned()).unwrap_or_else(default_stash_dir)
    }

    /// Where the database lives: `--db`, else the databasePath setting (relative to Stash's
    /// config folder), else `<Stash config folder>/stashhog/stashhog.sqlite`.
    pub fn database_path(&self, settings: &Settings) -> PathBuf {
        let stash_dir = self.stash_config_dir();
        match (&self.database_override, &settings.database_path) {
            (Some(path), _) => path.clone(),
            (None, Some(path)) => stash_dir.join(path),
            (None, None) => stash_dir.join("stashhog").join("stashhog.sqlite"),
        }
    }

    /// Why [`Session::database_path`] is what it is, in words, for the command line's log.
    pub fn database_origin(&self, settings: &Settings) -> String {
        let beside = match (self.stash_dir.is_some(), self.found_stash_dir.get()) {
            (true, _) => "beside Stash's config".to_owned(),
            (false, Some(dir)) => format!("the plugin's, beside the config of the Stash at {}", dir.display()),
            (false, None) if self.stash_is_local => "Stash reports a config folder that is not on this machine \
                (in a container?), so a database of this machine's own; pass --db with the plugin's database to share it"
                .to_owned(),
            (false, None) => "Stash runs on another machine, so a database of this machine's own; pass --db to \
                              choose another"
                .to_owned(),
        };
        match (&self.database_override, &settings.database_path) {
            (Some(_), _) => "given with --db".to_owned(),
            (None, Some(_)) => format!("the databasePath setting, {beside}"),
            (None, None) => beside,
        }
    }

    /// Reads Stash's configuration and the settings, and opens the database.
    pub fn context(&self) -> anyhow::Result<Context<'_>> {
        let (config, settings, _) = self.load_settings()?;
        let path = self.database_path(&settings);
        if self.face == Face::Cli {
            log::info!("Database: {} ({})", path.display(), self.database_origin(&settings));
        }
        let (store, _) = self.open_store(&path)?;
        Ok(Context { session: self, config, settings, store })
    }

    /// Opens the database and marks runs whose process died as killed.
    pub fn open_store(&self, path: &Path) -> anyhow::Result<(Store, usize)> {
        let store = Store::open(path)?;
        let killed = store.sweep_killed_runs().map_err(|e| store.explain(e))?;
        store.prune_runs(RUNS_KEPT).map_err(|e| store.explain(e))?;
        if killed > 0 {
            let runs = if killed == 1 {
                "1 earlier run was killed before it finished".to_owned()
            } else {
                format!("{killed} earlier runs were killed before they finished")
            };
            log::warn!("{runs}; marked as killed (run the task again to resume)");
        }
        Ok((store, killed))
    }

    /// Runs `work` as a recorded run in `store`: the row is written before, and its status and
    /// summary after, whatever `work` returns.
    pub fn recorded(&self, store: &Store, work: impl FnOnce() -> anyhow::Result<Outcome>) -> anyhow::Result<Outcome> {
        let run = self.begin_run(store)?;
        let result = work();
        finish_run(store, run, &result);
        result
    }

    /// Records this invocation's start (mode, arguments without secrets, face) in `store`.
    fn begin_run(&self, store: &Store) -> anyhow::Result<crate::store::RunHandle> {
        // `run_summary` carries the request_id it looks for; it is not that run.
        let request_id = match self.mode {
            Mode::Operation(Operation::RunSummary) => None,
            _ => self.args.string("request_id")?.filter(|id| !id.is_empty()),
        };
        Ok(store
            .begin_run(self.mode.name(), &self.args.redacted(), self.face.as_str(), request_id.as_deref())
            .map_err(|e| store.explain(e))?)
    }
}

/// A run that refused to start its work because what it was asked to do no longer matches
/// (an apply given a plan revision that has moved on); recorded as `refused`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn finish_run(store: &Store, run: crate::store::RunHandle, result: &anyhow::Result<Outcome>) {
    let (summary, error, refused) = match result {
        Ok(outcome) => (Some(&outcome.output), outcome.error.clone(), false),
        Err(e) => (None, Some(format!("{e:#}")), e.downcast_ref::<Refused>().is_some()),
    };
    if let Err(e) = store.finish_run(run, summary, error.as_deref(), refused) {
        log::warn!("could not record the end of this run: {e}");
    }
}

/// How many runs the runs table keeps (every hook is a run).
const RUNS_KEPT: i64 = 10_000;

/// Stash's default config folder: `~/.stash`.
fn default_stash_dir() -> PathBuf {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(|home| PathBuf::from(home).join(".stash"))
        .unwrap_or_else(|| PathBuf::from(".stash"))
}
