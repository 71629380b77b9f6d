//! fansly-scraper's metadata database, read-only: who posted what, when, with which files.
//!
//! fansly-scraper keeps one database per library — an SQLite file (up to v0.10) or a PostgreSQL
//! database (since v0.11) — whose tables differ between the eras only in types (text vs
//! timestamps, 0/1 vs booleans, enum vs text). [`source`] opens either without writing, detects
//! the era from the schema, and reads the tables the import needs into [`model::Library`]: plain
//! Rust values, nothing of either database's types. [`names`] parses the scraper's file names,
//! and [`model::Library::locate`] finds the media a file in Stash belongs to, robust to the traps
//! the scraper's history left (variants, previews, shared files, legacy and hash names).
//!
//! This module never writes to the scraper's database and never relies on its foreign keys:
//! every join is an outer join done here, so dangling references only make a file unmatched.

pub mod model;
pub mod names;
pub mod propose;
pub mod source;

pub use model::{Library, Located};
pub use source::{Era, Source};

/// The scraper's database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FanslyError {
    /// The SQLite file is missing or not a database.
    #[error(
        "cannot open fansly-scraper's SQLite database {path} ({reason}); set fanslyDatabase to the metadata_db.sqlite3 file as Stash's plugin process sees it"
    )]
    OpenSqlite {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The PostgreSQL server refused or could not be reached.
    #[error(
        "cannot connect to fansly-scraper's PostgreSQL database {target} ({reason}); check the fanslyPg* settings and that the server accepts connections from here"
    )]
    Connect {
        /// host:port/database (never the password).
        target: String,
        /// Why.
        reason: String,
    },
    /// The database has none of the scraper's tables.
    #[error("{0} is not a fansly-scraper metadata database (no `accounts`/`media`/`posts` tables)")]
    NotScraperDatabase(String),
    /// A query failed.
    #[error("reading fansly-scraper's database failed: {0}")]
    Query(String),
}

impl From<rusqlite::Error> for FanslyError {
    fn from(e: rusqlite::Error) -> Self {
        FanslyError::Query(e.to_string())
    }
}

impl From<postgres::Error> for FanslyError {
    fn from(e: postgres::Error) -> Self {
        FanslyError::Query(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()))
    }
}
