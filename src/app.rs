//! The entry point: picks the face and hands over to it; nothing else.
//!
//! Stash starts us with no arguments and JSON on stdin (the plugin face); a person or script
//! starts us with a mode as the first argument (the command-line face). Both end in
//! [`tasks::run`]; only how input arrives and how the result leaves differ.

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{self, Command};
use crate::plugin;
use crate::tasks::{self, Outcome};

/// Runs StashHog with the process's arguments and stdin; returns the exit code.
pub fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    if argv.is_empty() {
        if std::io::stdin().is_terminal() {
            cli::print_help();
            return ExitCode::SUCCESS;
        }
        return plugin::run();
    }
    match cli::parse(&argv) {
        Ok(Command::Help) => {
            cli::print_help();
            ExitCode::SUCCESS
        }
        Ok(Command::ModeHelp(mode)) => {
            cli::print_mode_help(mode);
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            cli::print(&format!("stashhog {}", env!("CARGO_PKG_VERSION")));
            ExitCode::SUCCESS
        }
        Ok(Command::Install(options)) => {
            cli::install_logger(0);
            cli::finish(cli::install(&options).map(|output| Outcome { output, error: None }))
        }
        Ok(Command::Run(options)) => {
            cli::install_logger(options.verbosity);
            cli::finish(cli::session(options).and_then(|session| tasks::run(&session)))
        }
        Err(usage) => {
            cli::print_error(&format!("{usage}\nRun `stashhog --help` for usage."));
            ExitCode::from(2)
        }
    }
}
