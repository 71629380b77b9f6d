//! Files and folders StashHog creates are private to the user running it.
//!
//! The database holds the user's whole library and their review decisions, and an exported plan
//! the same: StashHog's folder is created 0700 and its files 0600. The modes are asked of the OS
//! at creation, so a stricter umask still wins; files that already exist keep theirs (the user
//! may have chosen them).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

/// Creates `dir` and any missing parents, each private (0700 on Unix).
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create a file private (0600 on Unix); the caller adds read/write/truncate.
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Writes `bytes` to `path`, creating it private when new.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file: File = options().write(true).create(true).truncate(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
