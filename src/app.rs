//! The entry point: picks the face, builds the session, runs the mode, reports the result.
//!
//! Stash starts us with no arguments and JSON on stdin (the plugin face); a person or script
//! starts us with a mode as the first argument (the command-line face). Both end in
//! [`tasks::run`]; only how input arrives and how the result leaves differ.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::anyhow;
use log::LevelFilter;

use crate::cli::{self, Command};
use crate::graphql::Auth;
use crate::protocol::{input, log::StashLogger, output, progress::Progress, progress::ProgressSink};
use crate::stash::{StashClient, StashConnection};
use crate::tasks::{self, Face, Mode, Outcome, Session};

/// Runs StashHog with the process's arguments and stdin; returns the exit code.
pub fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    if argv.is_empty() {
        if std::io::stdin().is_terminal() {
            cli::print_help();
            return ExitCode::SUCCESS;
        }
        return plugin_face();
    }
    match cli::parse(&argv) {
        Ok(Command::Help) => {
            cli::print_help();
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("stashhog {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Install(options)) => {
            cli::finish(cli::install(&options).map(|output| Outcome { output, error: None }))
        }
        Ok(Command::Run(options)) => {
            cli::install_logger(options.verbosity);
            cli::finish(cli::session(options).and_then(|session| tasks::run(&session)))
        }
        Err(e) => {
            eprintln!("stashhog: {e}\nRun `stashhog --help` for usage.");
            ExitCode::from(2)
        }
    }
}

/// The plugin face: JSON in, Stash frames on stderr, one JSON object out.
fn plugin_face() -> ExitCode {
    StashLogger::install(LevelFilter::Debug);
    std::panic::set_hook(Box::new(|info| {
        let message = format!("StashHog crashed, please report this: {info}");
        log::error!("{message}");
        output::write(None, Some(&message));
    }));
    let result = plugin_session().and_then(|session| tasks::run(&session));
    let (output, error) = match result {
        Ok(Outcome { output, error }) => (Some(output), error),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    if let Some(error) = &error {
        log::error!("{error}");
    }
    output::write(output.as_ref(), error.as_deref());
    if error.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn plugin_session() -> anyhow::Result<Session> {
    let input = input::read_stdin()?;
    let mode_name = input.args.string("mode").map_err(|e| anyhow!("argument {e}"))?;
    let mode = Mode::parse(mode_name.as_deref().unwrap_or_default())?;
    let stash = StashClient::new(StashConnection {
        url: input.server.graphql_url(),
        auth: Auth { api_key: api_key_from_env(), cookie: input.server.cookie.clone() },
        // The Stash that started us serves its own, often self-signed, certificate.
        accept_invalid_certs: true,
    })?;
    Ok(Session {
        mode,
        args: input.args,
        hook: input.hook,
        stash,
        stash_dir: input.server.stash_dir,
        database_override: None,
        face: Face::Plugin,
        progress: Progress::new(ProgressSink::Stash).into(),
    })
}

/// `STASH_API_KEY` from the environment, when set and not empty.
pub fn api_key_from_env() -> Option<String> {
    std::env::var("STASH_API_KEY").ok().filter(|k| !k.trim().is_empty())
}
