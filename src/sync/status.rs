//! What the mirror holds and how fresh it is, for the status and check tasks.

use std::collections::BTreeMap;

use serde::Serialize;

use super::kinds::MIRRORED;
use super::state::{self, Pass};
use crate::stash::ObjectKind;
use crate::store::Store;
use crate::store::mirror::Counts;

/// What the mirror holds and how fresh it is.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Rows per kind.
    pub mirror: Counts,
    /// The last full sync, and a stopped one.
    pub full_sync: FullSyncStatus,
    /// Where the next incremental sync starts, per kind (plural name).
    pub watermarks: BTreeMap<&'static str, Option<String>>,
}

/// The last full sync, and a stopped one.
#[derive(Debug, Clone, Serialize)]
pub struct FullSyncStatus {
    /// When a full sync last completed, if ever.
    pub completed_at: Option<String>,
    /// A full sync stopped before it finished: the next sync continues it.
    pub stopped: Option<StoppedPass>,
}

/// A full sync stopped before it finished.
#[derive(Debug, Clone, Serialize)]
pub struct StoppedPass {
    /// Its number.
    pub pass: i64,
    /// The last scene id it wrote, when it was copying scenes.
    pub scene_checkpoint: Option<i64>,
}

/// What the mirror holds and how fresh it is; an unreadable record of a stopped full sync is an
/// error that says what to run.
pub fn status(store: &Store) -> anyhow::Result<Status> {
    let mut watermarks = BTreeMap::new();
    for kind in MIRRORED {
        watermarks.insert(kind.kind().plural(), state::watermark(store, kind.kind())?);
    }
    let stopped = Pass::read(store)?.map(|pass| StoppedPass {
        pass: pass.id,
        scene_checkpoint: pass.checkpoint.filter(|c| c.kind == ObjectKind::Scene).map(|c| c.after),
    });
    Ok(Status {
        mirror: store.mirror_counts()?,
        full_sync: FullSyncStatus { completed_at: state::completed_at(store)?, stopped },
        watermarks,
    })
}
