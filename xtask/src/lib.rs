//! StashHog's release tooling, run as `cargo xtask …` (the cargo-xtask convention): plain Rust
//! instead of shell scripts, in its own crate so that its dependencies (zip, sha2) never reach
//! the plugin binary.

#![warn(missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod binary;
pub mod dist;
pub mod platform;

/// Stash's plugin manifest schema, shared with `build.rs` and the install tests (its fields are
/// the manifest's own keys).
#[allow(missing_docs)]
#[path = "../../build/stash_manifest.rs"]
pub mod stash_manifest;
