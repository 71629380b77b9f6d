//! StashHog's integration tests: one test binary (so the fakes and apollo-compiler build once),
//! one module per area. Every test drives the real `stashhog` binary the way Stash does.

mod analyze;
mod check;
mod cli;
mod fansly_import;
mod fansly_reader;
mod harness;
mod install;
mod layers;
mod mirror;
mod plans;
mod protocol;
mod review;
mod robustness;
mod scenarios;
mod schema_fidelity;
mod settings;
mod stash_client;
mod support;
mod tag_sync;
mod ui;
