//! The sync's own state in the database (`sync_state`): the watermarks an incremental sync
//! starts from, when a full sync last completed, and a stopped full pass to continue. Read and
//! written only here.

use crate::stash::ObjectKind;
use crate::store::mirror::MirrorWriter;
use crate::store::{Store, StoreError};

pub const PASS: &str = "full_sync.pass";
pub const PASS_STARTED: &str = "full_sync.started_at";
pub const PASS_MARKS: &str = "full_sync.marks";
pub const PASS_DONE: &str = "full_sync.done";
pub const LAST_PASS: &str = "full_sync.last_pass";
pub const COMPLETED: &str = "full_sync.completed_at";

/// The checkpoint of a walk by id: the last id of `kind` a stopped pass wrote.
pub fn checkpoint_key(kind: ObjectKind) -> String {
    format!("full_sync.{}_after", kind.as_str())
}

/// Where an incremental sync of `kind` starts: Stash's newest `updated_at` when the last sync
/// began.
pub fn watermark_key(kind: ObjectKind) -> String {
    format!("watermark.{}", kind.plural())
}

/// The watermark of `kind`, if a sync has set one.
pub fn watermark(store: &Store, kind: ObjectKind) -> Result<Option<String>, StoreError> {
    store.state(&watermark_key(kind))
}

/// Sets the watermark of `kind`.
pub fn set_watermark(w: &MirrorWriter<'_>, kind: ObjectKind, mark: &str) -> Result<(), StoreError> {
    w.set_state(&watermark_key(kind), mark)
}

/// When a full sync last completed, if ever.
pub fn completed_at(store: &Store) -> Result<Option<String>, StoreError> {
    store.state(COMPLETED)
}

/// Whether a full sync was stopped before it finished.
pub fn pass_stopped(store: &Store) -> Result<bool, StoreError> {
    Ok(store.state(PASS)?.is_some())
}
