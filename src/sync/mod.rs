//! Copying Stash into the mirror: a full pass, an incremental catch-up, and single objects for
//! hooks. Every later task reads the mirror instead of asking Stash again.
//!
//! Why it is built this way:
//! - Memory stays flat: pages stream from Stash into one short transaction each.
//! - A full sync survives SIGKILL ([`full`]): its state and checkpoint live in the database,
//!   committed with each page; the next start continues.
//! - Nothing is missed ([`incremental`]): changes are asked for from a watermark read before the
//!   copy started, with a second's overlap ([`time`]).
//! - Nothing is wrongly deleted: only a complete full pass removes what it did not see, and
//!   never on an answer that looks truncated.
//! - Each kind of object is described once ([`kinds`]); the steps are written once for all.
//!
//! It uses the database, the Stash client and the progress sink, and nothing of the tasks
//! ([`Sources`]).

mod copy;
mod full;
mod hook;
mod incremental;
pub mod kinds;
mod pause;
mod state;
mod status;
mod time;

use std::time::Instant;

use serde::Serialize;

pub use full::full_sync;
pub use hook::refresh_from_hook;
use incremental::remove_deleted;
pub use incremental::{catch_up, incremental_sync, refresh};
pub use pause::{hooks_paused, pause_hooks};
pub use status::status;

use crate::protocol::progress::Progress;
use crate::stash::{ObjectKind, StashClient};
use crate::store::Store;
use crate::store::mirror::Counts;

/// What the mirror's copying uses, and nothing more: the database, the Stash client and the
/// progress sink. A task builds it from its context; a test or a bench can build it alone.
pub struct Sources<'a> {
    /// The database holding the mirror.
    pub store: &'a Store,
    /// The Stash the mirror copies.
    pub stash: &'a StashClient,
    /// Where progress goes.
    pub progress: &'a std::cell::RefCell<Progress>,
}

/// What one kind of object went through in a sync.
#[derive(Debug, Default, Clone, Serialize)]
pub struct KindSummary {
    /// Objects copied from Stash.
    pub copied: u64,
    /// Objects removed from the mirror.
    pub deleted: u64,
}

/// Which sync ran.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    /// The whole library, with deletions.
    Full,
    /// What changed since the watermarks.
    #[default]
    Incremental,
}

impl SyncKind {
    /// As a sentence starts it ("Full sync done …").
    pub fn title(self) -> &'static str {
        match self {
            SyncKind::Full => "Full",
            SyncKind::Incremental => "Incremental",
        }
    }
}

/// The result of a sync.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SyncSummary {
    /// Which sync ran (`full` or `incremental`).
    pub kind: SyncKind,
    /// Whether a killed full sync was continued.
    pub resumed: bool,
    /// Per kind of object.
    pub tags: KindSummary,
    /// Per kind of object.
    pub performers: KindSummary,
    /// Per kind of object.
    pub studios: KindSummary,
    /// Per kind of object.
    pub scenes: KindSummary,
    /// Per kind of object.
    pub images: KindSummary,
    /// Per kind of object.
    pub galleries: KindSummary,
    /// Warnings a user should read (skipped deletions, stale rows).
    pub warnings: Vec<String>,
    /// The mirror afterwards.
    pub mirror: Counts,
    /// Requests sent to Stash.
    pub requests: u64,
    /// Wall time.
    pub seconds: f64,
}

impl SyncSummary {
    fn of(&mut self, kind: ObjectKind) -> &mut KindSummary {
        match kind {
            ObjectKind::Tag => &mut self.tags,
            ObjectKind::Performer => &mut self.performers,
            ObjectKind::Studio => &mut self.studios,
            ObjectKind::Scene => &mut self.scenes,
            ObjectKind::Image => &mut self.images,
            ObjectKind::Gallery => &mut self.galleries,
        }
    }
}

/// Whether Stash showing `seen` of the `held` objects of a kind the mirror holds looks like a
/// truncated answer rather than deletions: less than half, and more than a few. A truncated
/// answer must never empty the mirror; a small library whose last studios were deleted must
/// still lose them.
fn looks_truncated(seen: u64, held: u64) -> bool {
    seen * 2 < held && held - seen > 10
}

fn finish(
    src: &Sources<'_>,
    mut summary: SyncSummary,
    started: Instant,
    requests_before: u64,
) -> anyhow::Result<SyncSummary> {
    summary.mirror = src.store.mirror_counts()?;
    summary.requests = src.stash.requests_sent() - requests_before;
    summary.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::looks_truncated;

    #[test]
    fn a_short_answer_is_suspect_only_when_it_hides_many() {
        assert!(looks_truncated(0, 400), "an empty answer for a big mirror");
        assert!(looks_truncated(134, 402), "a third of the scenes");
        assert!(!looks_truncated(0, 1), "the last studio deleted");
        assert!(!looks_truncated(2, 12), "ten deletions in a small library");
        assert!(!looks_truncated(201, 400), "half is deletions, not truncation");
    }
}
