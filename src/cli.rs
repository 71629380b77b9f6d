//! The command-line face: `stashhog <mode> [options]` and `stashhog install`.
//!
//! Arguments are parsed in two steps, as ripgrep does: first into plain [`Command`] data here,
//! then into a ready [`Session`]. Logs are readable lines on stderr, progress a bar when stderr
//! is a terminal, and the result is JSON on stdout with a non-zero exit code on error.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use log::LevelFilter;
use serde_json::{Value, json};

use crate::graphql::Auth;
use crate::protocol::args::Args;
use crate::protocol::progress::{Progress, ProgressSink};
use crate::stash::{StashClient, StashConnection};
use crate::tasks::{Face, Mode, Outcome, Session};

/// Bad usage: a mistyped mode, option, `--set` key or URL. Exits 2, as the help says.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    fn new(message: impl std::fmt::Display) -> Self {
        UsageError(message.to_string())
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `--help`.
    Help,
    /// `<mode> --help`: the mode's arguments.
    ModeHelp(Mode),
    /// `--version`.
    Version,
    /// `install [--plugins-dir DIR]`.
    Install(InstallOptions),
    /// `<mode> [options]`.
    Run(RunOptions),
}

/// Options of `install`.
#[derive(Debug, PartialEq)]
pub struct InstallOptions {
    /// Stash's plugins folder; StashHog goes into its `stashhog` subfolder.
    pub plugins_dir: Option<PathBuf>,
}

/// Options of a mode run, checked: the mode exists, the URL has a scheme, every `--set` key
/// is one the mode takes.
#[derive(Debug, PartialEq)]
pub struct RunOptions {
    /// The mode.
    pub mode: Mode,
    /// Stash's GraphQL URL.
    pub url: String,
    /// API key (`--api-key`, else `STASH_API_KEY`).
    pub api_key: Option<String>,
    /// Database file.
    pub db: Option<PathBuf>,
    /// `--set key=value` pairs.
    pub set: Vec<(String, String)>,
    /// 0 = info, 1 = debug, 2 = trace; -1 = warnings only.
    pub verbosity: i8,
}

/// The default Stash address.
pub const DEFAULT_URL: &str = "http://localhost:9999";

/// Parses and checks the arguments after the program name.
pub fn parse(argv: &[String]) -> Result<Command, UsageError> {
    let mut rest = argv.iter();
    let first = rest.next().map(String::as_str).unwrap_or_default();
    match first {
        "-h" | "--help" | "help" => return Ok(Command::Help),
        "-V" | "--version" => return Ok(Command::Version),
        "install" => {
            let mut options = InstallOptions { plugins_dir: None };
            while let Some(flag) = rest.next() {
                match flag.as_str() {
                    "--plugins-dir" => options.plugins_dir = Some(value(flag, rest.next())?.into()),
                    "-h" | "--help" => return Ok(Command::Help),
                    other => return Err(UsageError(format!("unknown option `{other}` for install"))),
                }
            }
            return Ok(Command::Install(options));
        }
        flag if flag.starts_with('-') => {
            return Err(UsageError(format!("the first argument must be a mode, not `{flag}`")));
        }
        _ => {}
    }
    let mode = Mode::parse(first).map_err(UsageError::new)?;
    let mut url = DEFAULT_URL.to_owned();
    let (mut api_key, mut db, mut set, mut verbosity) = (None, None, Vec::new(), 0);
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--url" => url = value(flag, rest.next())?.to_owned(),
            "--api-key" => api_key = Some(value(flag, rest.next())?.to_owned()),
            "--db" => db = Some(value(flag, rest.next())?.into()),
            "--set" => {
                let pair = value(flag, rest.next())?;
                let (key, val) =
                    pair.split_once('=').ok_or_else(|| UsageError(format!("--set takes key=value, got `{pair}`")))?;
                set.push((key.trim().to_owned(), val.to_owned()));
            }
            "-v" | "--verbose" => verbosity += 1,
            "-vv" => verbosity += 2,
            "-q" | "--quiet" => verbosity = -1,
            "-h" | "--help" => return Ok(Command::ModeHelp(mode)),
            other => return Err(UsageError(format!("unknown option `{other}`"))),
        }
    }
    let url = graphql_url(&url)?;
    let mut args = Args::default();
    for (key, val) in &set {
        args.set(key, Value::from(val.as_str()));
    }
    mode.check_args(&args).map_err(UsageError::new)?;
    Ok(Command::Run(RunOptions { mode, url, api_key, db, set, verbosity }))
}

/// Stash's GraphQL URL from what the user typed (`http://nas:9999`, with or without `/graphql`).
fn graphql_url(typed: &str) -> Result<String, UsageError> {
    let base = typed.trim().trim_end_matches('/');
    if !base.starts_with("http://") && !base.starts_with("https://") {
        return Err(UsageError(format!(
            "--url must start with http:// or https://, e.g. http://{}",
            base.split("://").last().unwrap_or(base)
        )));
    }
    Ok(if base.ends_with("/graphql") { base.to_owned() } else { format!("{base}/graphql") })
}

fn value<'a>(flag: &str, next: Option<&'a String>) -> Result<&'a str, UsageError> {
    next.map(String::as_str).filter(|v| !v.starts_with("--")).ok_or_else(|| UsageError(format!("{flag} needs a value")))
}

/// Writes to stdout; a closed pipe (`stashhog -h | head -3`) is not an error.
pub fn print(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes one error line to stderr with the one prefix every error has; never fails.
pub fn print_error(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// Prints usage.
pub fn print_help() {
    print(&format!(
        "stashhog {version} — keeps a Stash library's metadata right

Stash runs StashHog as a plugin (tasks in Settings > Tasks). You can run the same modes here.

USAGE:
    stashhog <MODE> [OPTIONS]
    stashhog <MODE> --help        the mode's arguments
    stashhog install [--plugins-dir DIR]

MODES:
    {modes}

OPTIONS:
    --url URL          Stash's address [default: {url}]
    --api-key KEY      Stash's API key (Settings > Security); or set STASH_API_KEY
    --db PATH          the database file [default: the plugin's, when Stash runs on this machine]
    --set KEY=VALUE    a mode argument, or a setting overriding the one saved in Stash (repeatable)
    -v, --verbose      more detail in the log (-vv: wire detail)
    -q, --quiet        warnings and errors only
    -h, --help         this help
    -V, --version      the version

install copies this binary, stashhog.yml and the plugin's assets into DIR/stashhog, DIR being
Stash's plugins folder [default: ~/.stash/plugins].

The result prints as JSON on stdout; the exit code is 0 on success, 1 on error, 2 on bad usage.",
        version = env!("CARGO_PKG_VERSION"),
        modes = Mode::names().join(", "),
        url = DEFAULT_URL,
    ));
}

/// Prints what `mode` takes, from the mode's own declaration.
pub fn print_mode_help(mode: Mode) {
    let mut text = format!("stashhog {0} — usage: stashhog {0} [--set KEY=VALUE]… [OPTIONS]\n", mode.name());
    let args = mode.args();
    if args.is_empty() {
        text.push_str("\nIt takes no arguments of its own.\n");
    } else {
        text.push_str("\nARGUMENTS (--set KEY=VALUE):\n");
        let width = args.iter().map(|a| a.name.len()).max().unwrap_or(0);
        for arg in args {
            text.push_str(&format!("    {:width$}  {} ({})\n", arg.name, arg.help, arg.takes));
        }
    }
    text.push_str(
        "\nAny setting overrides the one saved in Stash for this run, e.g. --set syncDryRun=false;\n\
         `stashhog check` lists them all. Options: --url, --api-key, --db, -v, -q (stashhog --help).",
    );
    print(&text);
}

/// Readable logs on stderr (simplelog), our own crate at the chosen level, others at warning.
pub fn install_logger(verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-1 => LevelFilter::Warn,
        0 => LevelFilter::Info,
        1 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    let config = simplelog::ConfigBuilder::new()
        .add_filter_allow_str(env!("CARGO_CRATE_NAME"))
        .set_time_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Off)
        .set_thread_level(LevelFilter::Off)
        .build();
    let color =
        if std::io::stderr().is_terminal() { simplelog::ColorChoice::Auto } else { simplelog::ColorChoice::Never };
    let _ = simplelog::TermLogger::init(level, config, simplelog::TerminalMode::Stderr, color);
}

/// Turns checked options into a session.
pub fn session(options: RunOptions) -> anyhow::Result<Session> {
    let loopback = crate::graphql::is_loopback(&options.url);
    let stash = StashClient::new(StashConnection {
        url: options.url,
        auth: Auth { api_key: options.api_key.or_else(crate::stash::api_key_from_env), cookie: None },
        // A self-signed certificate is normal for a Stash on this machine, not elsewhere.
        accept_invalid_certs: loopback,
    })?;
    let mut args = Args::default();
    for (key, val) in options.set {
        args.set(&key, Value::from(val));
    }
    args.set("mode", Value::from(options.mode.name()));
    Ok(Session {
        mode: options.mode,
        args,
        hook: None,
        stash,
        stash_dir: None,
        stash_is_local: loopback,
        found_stash_dir: Default::default(),
        database_override: options.db,
        face: Face::Cli,
        progress: Progress::new(ProgressSink::Terminal).into(),
    })
}

/// Prints a mode's result and picks the exit code.
pub fn finish(result: anyhow::Result<Outcome>) -> ExitCode {
    let (output, error) = match result {
        Ok(Outcome { output, error }) => (Some(output), error),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    if let Some(output) = output {
        print(&serde_json::to_string_pretty(&output).unwrap_or_else(|_| output.to_string()));
    }
    match error {
        Some(error) => {
            print_error(&error);
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

/// The manifest, embedded so the binary can install itself.
const MANIFEST: &str = include_str!("../stashhog.yml");
/// The files of `plugin/`, embedded (generated by build.rs).
const PLUGIN_FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/plugin_files.rs"));

/// Copies the running binary, the manifest and `plugin/` into `<plugins folder>/stashhog`,
/// upgrading an earlier install in place and refusing to touch a folder that is not ours.
pub fn install(options: &InstallOptions) -> anyhow::Result<Value> {
    let plugins = match &options.plugins_dir {
        Some(dir) => dir.clone(),
        None => {
            let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
            let home = home.context("cannot tell your home folder: pass --plugins-dir")?;
            PathBuf::from(home).join(".stash").join("plugins")
        }
    };
    if is_ours(&plugins) {
        bail!(
            "{} is a StashHog plugin folder itself; pass the plugins folder that holds it: --plugins-dir {}",
            plugins.display(),
            plugins.parent().unwrap_or(&plugins).display()
        );
    }
    let dir = plugins.join(crate::PLUGIN_ID);
    let empty = std::fs::read_dir(&dir).map(|mut entries| entries.next().is_none()).unwrap_or(true);
    if dir.exists() && !(dir.is_dir() && (empty || is_ours(&dir))) {
        bail!(
            "{} exists and is not a StashHog install (no StashHog stashhog.yml in it); StashHog does not overwrite it: move it away, or pass another --plugins-dir",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let exe = std::env::current_exe().context("finding this binary")?;
    let binary = dir.join(format!("stashhog{}", std::env::consts::EXE_SUFFIX));
    let mut written = Vec::new();
    if std::fs::canonicalize(&exe).ok() != std::fs::canonicalize(&binary).ok() {
        let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
        write_atomically(&binary, &bytes, true)?;
        written.push(binary.display().to_string());
    }
    let manifest = dir.join("stashhog.yml");
    write_atomically(&manifest, MANIFEST.as_bytes(), false)?;
    written.push(manifest.display().to_string());
    for (name, bytes) in PLUGIN_FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        write_atomically(&path, bytes, false)?;
        written.push(path.display().to_string());
    }
    let next = "In Stash: Settings > Plugins > Reload plugins, then reload the browser tab. The tasks appear in Settings > Tasks, the settings under Settings > Plugins > StashHog; start with \"Check StashHog setup\".";
    log::info!("Installed StashHog {} into {}. {next}", crate::manifest::VERSION, dir.display());
    Ok(json!({ "plugin_dir": dir.display().to_string(), "files": written, "next": next }))
}

/// Whether `dir` holds StashHog's manifest (an earlier install, safe to upgrade in place).
fn is_ours(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("stashhog.yml"))
        .is_ok_and(|text| text.lines().any(|line| line.trim() == "name: StashHog"))
}

/// Writes a file through a temporary name, so a Stash running the old binary never sees half a
/// file.
fn write_atomically(path: &Path, bytes: &[u8], executable: bool) -> anyhow::Result<()> {
    let temp = path.with_extension("partial");
    std::fs::write(&temp, bytes).with_context(|| format!("writing {}", temp.display()))?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", temp.display()))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    std::fs::rename(&temp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_a_mode_with_options() {
        let Ok(Command::Run(o)) =
            parse(&argv("check --url http://nas:9999 --db /x.sqlite --set syncTagBlacklist=b=c -v"))
        else {
            panic!("expected a run");
        };
        assert_eq!(o.mode.name(), "check");
        assert_eq!(o.url, "http://nas:9999/graphql");
        assert_eq!(o.db, Some(PathBuf::from("/x.sqlite")));
        assert_eq!(o.set, vec![("syncTagBlacklist".to_owned(), "b=c".to_owned())]);
        assert_eq!(o.verbosity, 1);
    }

    #[test]
    fn rejects_bad_usage_with_a_reason() {
        assert!(parse(&argv("check --url")).unwrap_err().to_string().contains("--url needs a value"));
        assert!(parse(&argv("check --bogus")).unwrap_err().to_string().contains("unknown option `--bogus`"));
        assert!(parse(&argv("check --set novalue")).unwrap_err().to_string().contains("key=value"));
        assert!(parse(&argv("check --url localhost:9999")).unwrap_err().to_string().contains("http://localhost:9999"));
        assert!(parse(&argv("apply_plan --set dryrun=1")).unwrap_err().to_string().contains("did you mean `dry_run`"));
        assert!(matches!(parse(&argv("apply_plan --help")), Ok(Command::ModeHelp(_))));
        assert_eq!(parse(&argv("--version")).ok(), Some(Command::Version));
        assert_eq!(
            parse(&argv("install --plugins-dir /p")).ok(),
            Some(Command::Install(InstallOptions { plugins_dir: Some("/p".into()) }))
        );
    }
}
