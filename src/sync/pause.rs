//! The hook pause: a lock file a run holds while it writes to Stash, so the mirror hook stands
//! aside.
//!
//! Stash starts our hook for every scene each of our mutations touches (a bulk update of 500
//! scenes: 500 processes, each re-reading its scene), and the user's saves wait behind them;
//! the run catches the mirror up itself instead, once, when it is done
//! ([`super::catch_up`]). Writers share the lock; a hook that cannot take it exclusively knows
//! a writer is at work. The lock is the operating system's, so a killed run releases it.

use std::path::{Path, PathBuf};

/// Held while a StashHog run writes to Stash; dropping it lets the hooks run again.
#[derive(Debug)]
pub struct HooksPaused {
    _lock: std::fs::File,
}

fn pause_file(stash_dir: &Path) -> PathBuf {
    stash_dir.join("stashhog").join("hooks.paused")
}

/// Pauses the mirror hook until the returned guard is dropped (or the process dies). `None`
/// when the lock file cannot be made: the hooks then simply keep running.
pub fn pause_hooks(stash_dir: &Path) -> Option<HooksPaused> {
    let path = pause_file(stash_dir);
    crate::store::files::create_dir_all(path.parent()?).ok()?;
    let file = crate::store::files::options().create(true).truncate(false).write(true).open(&path).ok()?;
    file.try_lock_shared().ok()?;
    Some(HooksPaused { _lock: file })
}

/// Whether a StashHog run is writing to Stash right now.
pub fn hooks_paused(stash_dir: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(pause_file(stash_dir)) else { return false };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}
