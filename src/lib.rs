//! StashHog: one binary that Stash runs as a plugin to keep a library's metadata right.
//!
//! The modules read top-down as the architecture doc describes: two faces ([`app`], [`cli`])
//! build the same [`tasks::Session`] and run the same mode handler in [`tasks`]; below them the
//! Stash and stash-box clients, the database, and the plugin wire protocol.

#![warn(missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod analysis;
pub mod app;
pub mod cli;
pub mod graphql;
pub mod manifest;
pub mod matching;
pub mod mirror;
pub mod plan_runner;
pub mod plans;
pub mod protocol;
pub mod settings;
pub mod stash;
pub mod stashbox;
pub mod store;
pub mod tag_sync;
pub mod tasks;

/// The plugin id: the manifest's file name without `.yml`, which is how Stash names us.
pub const PLUGIN_ID: &str = "stashhog";
