//! StashHog: one binary that Stash runs as a plugin to keep a library's metadata right.
//!
//! The modules are listed top-down, in layers: each imports only from the layers below it.
//! Two faces ([`plugin`], [`cli`]) build the same [`tasks::Session`] and run the same mode
//! handler in [`tasks`]; below them the producers of plans, the mirror's copying and the plan
//! runner, the database, the clients and the model, and at the bottom the wire protocols.

#![warn(missing_docs, clippy::unwrap_used, clippy::expect_used)]

// Entry: picks a face.
/// Picks the face (plugin or command line) and hands over to it.
pub mod app;
// Faces.
/// The command-line face: arguments, a readable log and progress bar, exit codes.
pub(crate) mod cli;
/// The plugin face: Stash's JSON on stdin, frames on stderr, the result on stdout.
pub(crate) mod plugin;
// Tasks.
/// One module per mode; each reads like the steps a user would describe.
pub(crate) mod tasks;
// Producers of plans.
/// Detectors that propose scene metadata from paths, titles and an optional AI model.
pub mod analysis;
/// fansly-scraper's metadata database (read-only, both eras) and the import's plan from it.
pub mod fansly;
/// Syncing scene tags from StashDB into plans, matching as Stash's Tagger does.
pub(crate) mod tag_sync;
// The read path and the write path.
/// Tagger-equivalent matching of scraped tags to the library's tags.
pub(crate) mod matching;
/// Applies or rolls back a plan against Stash: journaled, batched, resumable.
pub(crate) mod plan_runner;
/// The mirror's copying: full pass, incremental sync, deletions, hook refresh, hook pause.
pub(crate) mod sync;
// The database.
/// SQLite: open, migrations, the mirror's tables, plan rows, runs, caches.
pub mod store;
// Clients and the model.
/// The plans model: plans, changes, statuses and the plan file format.
pub mod plans;
/// Effective settings: saved in Stash, overridden by arguments, validated once.
pub mod settings;
/// The Stash client and StashHog's own model of Stash's objects.
pub mod stash;
/// The stash-box client and its rate limiter.
pub mod stashbox;
// Bottom: wire protocols and what the manifest generates.
/// GraphQL over HTTP: the transport, its credentials and its typed errors.
pub mod graphql;
/// What build.rs generates from stashhog.yml: modes, setting keys, version.
pub mod manifest;
/// Stash's plugin protocol: stdin input, stderr log and progress frames, stdout output.
pub mod protocol;
/// Wording shared by every message: counts with the right plural, statuses in words.
pub(crate) mod words;

/// The plugin id: the manifest's file name without `.yml`, which is how Stash names us.
pub const PLUGIN_ID: &str = "stashhog";
