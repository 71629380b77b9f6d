//! Shared support for the integration tests: fake Stash and stash-box servers, a runner that
//! starts the real binary exactly as Stash does, and `TestEnv` to wire them per test.
//!
//! Not every test uses every helper, hence the `dead_code` allowance for this module only.
#![allow(dead_code)]

/// One test's world: fakes, folders, and running the binary against them.
pub mod env;
/// The analyzer's labelled evaluation set and its scoring.
pub mod evaluation;
/// A fake OpenAI-compatible chat-completions endpoint for the AI detector.
pub mod fake_ai;
/// The shared HTTP machinery of the fakes: request log, injected faults, dropped connections.
pub mod fake_http;
/// Stash's plugin runner: `runPluginOperation`, and tasks in a job queue.
pub mod fake_plugins;
/// The fake Stash GraphQL server and its in-memory library.
pub mod fake_stash;
/// The fake stash-box GraphQL server.
pub mod fake_stashbox;
/// Stash's web side: the plugin's page files, the test shell, screenshots.
pub mod fake_web;
/// fansly-scraper metadata databases (both eras) for the import tests.
pub mod fansly;
/// GraphQL over HTTP: envelope, cached validation, execution, JSON-backed objects.
pub mod gql;
/// A library of the shape real ones have (deleted, merged, unknown StashIDs) for the tag sync.
pub mod library_shape;
/// The mirror test's oracle: Stash's library and the mirror, compared field by field.
pub mod mirror_oracle;
/// Running the binary as Stash does, and reading stdout/stderr with Stash's rules.
pub mod runner;
/// The upstream schemas, loaded once.
pub mod schema;
/// Temporary directories.
pub mod temp;
/// CPU time and peak RSS of the binary runs, for the benches.
pub mod usage;
