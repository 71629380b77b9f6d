//! The plugin face: Stash starts us with no arguments and one JSON document on stdin; logs and
//! progress go to stderr as Stash's frames, the result to stdout as `{"output", "error"}`.
//!
//! It builds the same [`Session`] as the command-line face and runs the same handler; nothing
//! below it knows which face it runs under.

use std::process::ExitCode;

use anyhow::anyhow;
use log::LevelFilter;

use crate::graphql::Auth;
use crate::protocol::{input, log::StashLogger, output, progress::Progress, progress::ProgressSink};
use crate::stash::{StashClient, StashConnection};
use crate::tasks::{self, Face, Mode, Outcome, Session};

/// The plugin face: JSON in, Stash frames on stderr, one JSON object out.
pub fn run() -> ExitCode {
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
        auth: Auth { api_key: crate::stash::api_key_from_env(), cookie: input.server.cookie.clone() },
        // The Stash that started us serves its own, often self-signed, certificate.
        accept_invalid_certs: true,
    })?;
    Ok(Session {
        mode,
        args: input.args,
        hook: input.hook,
        stash,
        stash_dir: input.server.stash_dir,
        stash_is_local: true,
        found_stash_dir: Default::default(),
        database_override: None,
        face: Face::Plugin,
        progress: Progress::new(ProgressSink::Stash).into(),
    })
}
