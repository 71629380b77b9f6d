//! The sync's own state in the database (`sync_state`), read and written only here: the
//! watermarks an incremental sync starts from, when a full sync last completed, and the pass
//! under way — everything a killed full sync needs to continue, as one typed record.
//!
//! Nothing here falls back to a default: a record that cannot be read would otherwise copy the
//! whole library again unasked, or finish a pass without watermarks. It is an error that says
//! what to run instead ([`StateError::Unreadable`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::stash::ObjectKind;
use crate::store::mirror::MirrorWriter;
use crate::store::{Store, StoreError};

/// The pass under way, as one JSON record.
const PASS: &str = "full_sync.pass";
/// The number of the last pass started: row marks (`seen_pass`) of a new pass never match an
/// old one.
const LAST_PASS: &str = "full_sync.last_pass";
/// When a full sync last completed.
const COMPLETED: &str = "full_sync.completed_at";
/// Keys an older StashHog kept beside a pass under way; cleared with it.
const OLD_PASS_KEYS: [&str; 4] = ["full_sync.started_at", "full_sync.marks", "full_sync.done", "full_sync.scene_after"];

/// Why the sync's state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The record is there but is not what this StashHog writes.
    #[error(
        "StashHog's record of a stopped full sync cannot be read ({0}): run the task \"Full sync\", which starts a new pass and copies the library again"
    )]
    Unreadable(String),
    /// The database failed.
    #[error("reading the sync state")]
    Store(#[from] StoreError),
}

/// What Stash held when a pass started, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// How many objects.
    pub count: u64,
    /// The newest `updated_at` (none when Stash has none): the watermark once the pass completes.
    pub latest: Option<String>,
}

/// How far a walk by id got: the last id of `kind` written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The kind being walked.
    pub kind: ObjectKind,
    /// The last id written.
    pub after: i64,
}

/// A full pass under way, or stopped by a kill: everything its next start needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pass {
    /// The pass's number, marked on every row it writes or sees.
    pub id: i64,
    /// Our clock when it started: rows written since were written by someone beside it.
    pub started_at: String,
    /// What Stash held when it started.
    pub marks: BTreeMap<ObjectKind, Mark>,
    /// The kinds copied completely.
    pub done: Vec<ObjectKind>,
    /// How far the walk by id in progress got.
    pub checkpoint: Option<Checkpoint>,
}

impl Pass {
    /// The pass under way, if any.
    pub fn read(store: &Store) -> Result<Option<Pass>, StateError> {
        let Some(text) = store.state(PASS)? else { return Ok(None) };
        let pass = serde_json::from_str(&text).map_err(|e| StateError::Unreadable(e.to_string()))?;
        Ok(Some(pass))
    }

    /// Starts pass number `last + 1` (replacing any unreadable record), and records it.
    pub fn start(store: &Store, started_at: String, marks: BTreeMap<ObjectKind, Mark>) -> Result<Pass, StateError> {
        let last = match store.state(LAST_PASS)? {
            None => 0,
            Some(text) => text.parse::<i64>().map_err(|_| StateError::Unreadable(format!("last pass {text:?}")))?,
        };
        let pass = Pass { id: last + 1, started_at, marks, done: Vec::new(), checkpoint: None };
        store.write_mirror(|w| {
            w.set_state(LAST_PASS, &pass.id.to_string())?;
            OLD_PASS_KEYS.iter().try_for_each(|key| w.clear_state(key))?;
            pass.write(w)
        })?;
        Ok(pass)
    }

    /// Records the pass in `w`'s transaction (with the page it belongs to).
    pub fn write(&self, w: &MirrorWriter<'_>) -> Result<(), StoreError> {
        // Only numbers, text and kind names: serializing cannot fail.
        let text = serde_json::to_string(self).unwrap_or_default();
        w.set_state(PASS, &text)
    }

    /// Completes the pass: its marks become the watermarks, and the record goes.
    pub fn complete(&self, w: &MirrorWriter<'_>, completed_at: &str) -> Result<(), StoreError> {
        for (kind, mark) in &self.marks {
            if let Some(latest) = &mark.latest {
                set_watermark(w, *kind, latest)?;
            }
        }
        w.set_state(COMPLETED, completed_at)?;
        w.clear_state(PASS)
    }
}

fn watermark_key(kind: ObjectKind) -> String {
    format!("watermark.{}", kind.plural())
}

/// Where an incremental sync of `kind` starts: Stash's newest `updated_at` when the last sync
/// began, if a sync has set one.
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

/// Whether a pass is under way or was stopped (readable or not).
pub fn pass_stopped(store: &Store) -> Result<bool, StoreError> {
    Ok(store.state(PASS)?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each layer says its own part and leaves the cause to the chain, so `{:#}` names each
    /// thing once.
    #[test]
    fn a_nested_error_names_each_thing_once() {
        let disk = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
            Some("disk I/O error".into()),
        );
        let error = anyhow::Error::from(StateError::from(StoreError::from(disk))).context("continuing the full sync");
        let text = format!("{error:#}");
        for part in ["continuing the full sync", "reading the sync state", "database error", "disk I/O error"] {
            assert_eq!(text.matches(part).count(), 1, "{part:?} once in {text:?}");
        }
        let stdin = anyhow::Error::from(crate::protocol::input::InputError::Read(std::io::Error::other("broken pipe")));
        assert_eq!(format!("{stdin:#}"), "cannot read stdin: broken pipe");
    }
}
