//! Stash's raw plugin interface: what arrives on stdin, how logs and progress travel on stderr,
//! and the single JSON object Stash reads from stdout.
//!
//! Nothing here knows about modes or Stash's GraphQL API; it only speaks the wire format, so the
//! command-line face can swap any piece for a terminal-friendly one.

pub mod args;
pub mod input;
pub mod log;
pub mod output;
pub mod progress;
