//! StashHog's SQLite database: opening it safely, migrating it, and what lives in it.
//!
//! A task, hooks and UI operations are separate processes on the same file, and Stash kills a
//! task with SIGKILL, so: WAL with a busy timeout, short write transactions that never span a
//! network call, and migrations that are atomic and safe to race.

/// Our clock in SQL, in the one form StashHog stores times in (UTC, milliseconds, `Z`), so
/// that times compare as text; with an argument, a modifier such as `?1` (`-3 hours`). A macro,
/// not a constant, so SQL text can `concat!` it at compile time.
macro_rules! now_sql {
    () => {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    };
    ($modifier:literal) => {
        concat!("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ", $modifier, ")")
    };
}

/// [`now_sql!`] for SQL built at run time.
const NOW: &str = now_sql!();

pub mod files;
pub mod mirror;
mod plan_rows;
mod rejections;
mod runs;
pub mod stashbox_cache;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

pub use plan_rows::{BatchState, FieldSummary, JournalRequest, OpenBatch, PlanLock, Reviewed, ValueSummary};
pub use rejections::{Proposed, Rejection, Scope};
pub use runs::{LiveRun, RunHandle, RunRecord, RunStatus};

/// The database could not be opened or used. Each message says what happened and what to do,
/// once: SQLite's own text is quoted, never chained.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The folder or file cannot be created or opened.
    #[error("cannot open the database at {path} ({reason}); set the databasePath setting (or --db) to a writable file")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why, in a few words.
        reason: String,
    },
    /// The file is not a readable SQLite database any more.
    #[error(
        "the database at {path} is damaged ({reason}); StashHog left it untouched. To start over, move it aside (e.g. rename it to {}.damaged) and run Full sync: a new database is made and the library copied again. Your plans stay in the moved file: `sqlite3 <moved file> .recover | sqlite3 recovered.sqlite` rescues what is readable, and databasePath can point at the result",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        reason: String,
    },
    /// Another process held the write lock longer than we wait.
    #[error(
        "the database at {path} is locked: another process kept it busy for {} s ({holders}); wait for it to finish and run this again",
        BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        /// The file.
        path: PathBuf,
        /// Which StashHog runs were going, or that none was.
        holders: String,
    },
    /// The file was migrated by a newer StashHog.
    #[error(
        "the database at {path} has schema version {found}, newer than this StashHog knows ({known}); upgrade StashHog"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// A migration left the database inconsistent; it was not committed.
    #[error("migrating the database to schema version {version} failed ({reason}); nothing was changed")]
    Migration {
        /// The version it was migrating to.
        version: i64,
        /// Why.
        reason: String,
    },
    /// A statement failed.
    #[error("database error: {}", sqlite_message(.0))]
    Sqlite(rusqlite::Error),
    /// A row reads back as something StashHog never writes (changed by hand or by another
    /// program): StashHog stops rather than guess what it meant.
    #[error("{what} cannot be read ({reason}); {remedy}")]
    Unreadable {
        /// The row, in words.
        what: String,
        /// What is wrong with it.
        reason: String,
        /// What the user can run.
        remedy: &'static str,
    },
    /// A new plan's change refers by `{"created": index}` to something that is not an earlier
    /// change of the same plan: stored, it would point at no change at all.
    #[error(
        "change {change} of the new plan refers to {{\"created\": {index}}}, which is not an earlier change of the plan; nothing was stored"
    )]
    BadReference {
        /// The change's index in the plan (from 0).
        change: usize,
        /// The index it named.
        index: i64,
    },
    /// A run's or a plan's lock file could not be handled.
    #[error("cannot use the lock file {path} ({reason})")]
    Lock {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// SQLite's error once, with what it means for a user when that is known.
fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let text = message.clone().unwrap_or_else(|| failure.to_string());
            match failure.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    format!("{text} (another StashHog run is writing; run this again when it has finished)")
                }
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    format!("{text} (the file is damaged; run `stashhog check` for what to do)")
                }
                ErrorCode::DiskFull => format!("{text} (free some disk space and run this again)"),
                _ => text,
            }
        }
        other => other.to_string(),
    }
}

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Schema migrations, in order; entry `i` takes `user_version` from `i` to `i + 1`. Never edit
/// a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        mode        TEXT NOT NULL,
        args        TEXT NOT NULL,          -- JSON, secrets redacted
        face        TEXT NOT NULL,          -- plugin | cli
        pid         INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'killed')),
        summary     TEXT,                   -- JSON output of the mode
        error       TEXT
    );
    CREATE INDEX runs_by_status ON runs (status);
    CREATE INDEX runs_by_mode ON runs (mode, id);
"#,
    r#"
    -- The mirror: Stash's library as of the last sync. `seen_pass` is the full-sync pass that
    -- last saw a row; `mirrored_at` when we last wrote it (our clock).
    CREATE TABLE tags (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL,
        sort_name       TEXT,
        aliases         TEXT NOT NULL,       -- JSON array
        ignore_auto_tag INTEGER NOT NULL,
        stash_ids       TEXT NOT NULL,       -- JSON array of {endpoint, stash_id}
        updated_at      TEXT NOT NULL,
        mirrored_at     TEXT NOT NULL,
        seen_pass       INTEGER
    );
    CREATE TABLE performers (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL,
        disambiguation  TEXT,
        aliases         TEXT NOT NULL,
        stash_ids       TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        mirrored_at     TEXT NOT NULL,
        seen_pass       INTEGER
    );
    CREATE TABLE studios (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL,
        aliases         TEXT NOT NULL,
        parent_id       INTEGER,
        stash_ids       TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        mirrored_at     TEXT NOT NULL,
        seen_pass       INTEGER
    );
    CREATE TABLE scenes (
        id              INTEGER PRIMARY KEY,
        title           TEXT,
        code            TEXT,
        details         TEXT,
        director        TEXT,
        urls            TEXT NOT NULL,       -- JSON array
        date            TEXT,
        rating100       INTEGER,
        organized       INTEGER NOT NULL,
        studio_id       INTEGER,
        files           TEXT NOT NULL,       -- JSON array of {path, fingerprints: [{kind, value}]}
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        mirrored_at     TEXT NOT NULL,
        seen_pass       INTEGER
    );
    CREATE INDEX scenes_by_updated_at ON scenes (updated_at);
    CREATE TABLE scene_tags (
        scene_id INTEGER NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
        tag_id   INTEGER NOT NULL,
        PRIMARY KEY (scene_id, tag_id)
    ) WITHOUT ROWID;
    CREATE INDEX scene_tags_by_tag ON scene_tags (tag_id, scene_id);
    CREATE TABLE scene_performers (
        scene_id     INTEGER NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
        performer_id INTEGER NOT NULL,
        PRIMARY KEY (scene_id, performer_id)
    ) WITHOUT ROWID;
    CREATE INDEX scene_performers_by_performer ON scene_performers (performer_id, scene_id);
    CREATE TABLE scene_stash_ids (
        scene_id   INTEGER NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
        endpoint   TEXT NOT NULL,
        stash_id   TEXT NOT NULL,
        updated_at TEXT,
        PRIMARY KEY (scene_id, endpoint, stash_id)
    ) WITHOUT ROWID;
    CREATE INDEX scene_stash_ids_by_endpoint ON scene_stash_ids (endpoint, stash_id);
    -- Watermarks, the full-sync checkpoint and other small facts, by key.
    CREATE TABLE sync_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
"#,
    r#"
    -- Plans: the only write path. A plan's changes are applied through a journal of batches
    -- (one row per request sent to Stash), so a run killed mid-request can tell on restart
    -- whether that request landed.
    CREATE TABLE plans (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        source      TEXT NOT NULL,          -- JSON {mode, settings}
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('draft', 'reviewing', 'applying', 'applied',
                        'partially_applied', 'rolling_back', 'rolled_back', 'cancelled'))
    );
    CREATE TABLE plan_batches (
        id          INTEGER PRIMARY KEY,
        plan_id     INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        direction   TEXT NOT NULL CHECK (direction IN ('apply', 'rollback')),
        request     TEXT NOT NULL,          -- JSON {operation, variables}, as sent
        state       TEXT NOT NULL CHECK (state IN ('sending', 'done', 'failed', 'verified')),
        started_at  TEXT NOT NULL,
        ended_at    TEXT
    );
    CREATE INDEX plan_batches_open ON plan_batches (plan_id, state);
    CREATE TABLE plan_changes (
        id          INTEGER PRIMARY KEY,
        plan_id     INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        entity_type TEXT NOT NULL CHECK (entity_type IN ('scene', 'performer', 'studio', 'tag')),
        entity_id   INTEGER,                -- NULL for CREATE
        field       TEXT NOT NULL,
        action      TEXT NOT NULL CHECK (action IN ('ADD', 'REMOVE', 'SET', 'CREATE')),
        value       TEXT NOT NULL,          -- JSON; {"created": <change id>} refers to a CREATE
        before      TEXT NOT NULL,          -- JSON; null = empty (SET) or implied (ADD/REMOVE)
        reason      TEXT NOT NULL,
        confidence  REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'applied',
                        'failed', 'skipped_conflict', 'reverted', 'revert_conflict')),
        error       TEXT,
        created_id  INTEGER,                -- what a CREATE made
        batch_id    INTEGER REFERENCES plan_batches (id) ON DELETE SET NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE INDEX plan_changes_work ON plan_changes (plan_id, status, entity_type, entity_id);
    CREATE INDEX plan_changes_by_field ON plan_changes (plan_id, field, status);
    CREATE INDEX plan_changes_by_batch ON plan_changes (batch_id);
"#,
    r#"
    -- What each stash-box said about each StashID we looked up: the tag sync's cache, its
    -- resume point, and the record of stale (deleted or merged) StashIDs.
    CREATE TABLE stashbox_scenes (
        endpoint    TEXT NOT NULL,
        stash_id    TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('found', 'deleted', 'merged', 'not_found')),
        tags        TEXT NOT NULL,          -- JSON [{id, name}] of the scene (of the survivor if merged)
        merged_into TEXT,                   -- the surviving scene, when merged
        candidates  TEXT NOT NULL,          -- JSON [id]: scenes its fingerprints match now, when stale
        fetched_at  TEXT NOT NULL,
        PRIMARY KEY (endpoint, stash_id)
    ) WITHOUT ROWID;
    CREATE INDEX stashbox_scenes_by_fetch ON stashbox_scenes (endpoint, fetched_at);
"#,
    r#"
    -- When an apply of the plan last finished: "roll back the last applied plan" goes by this,
    -- not by updated_at, which a review or a rollback also moves. Plans applied before this
    -- column existed take their last update as the best guess.
    ALTER TABLE plans ADD COLUMN applied_at TEXT;
    UPDATE plans SET applied_at = updated_at WHERE status IN ('applied', 'partially_applied', 'rolling_back');
"#,
    r#"
    -- Review inside Stash (issue 10). SQLite cannot change a CHECK, so `plans`, `plan_changes`
    -- and `runs` are rebuilt (foreign keys are off while migrating; see `migrate`):
    -- plans and changes can be `superseded` by a newer plan of the same producer; a plan has a
    -- `revision` that moves with every review decision, so an apply can refuse approvals it was
    -- not shown; a change remembers what Stash held at a conflict (`stash_now`); a run can be
    -- `refused` and carries the page's `request_id`.
    CREATE TABLE plans_new (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        source      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('draft', 'reviewing', 'applying', 'applied',
                        'partially_applied', 'rolling_back', 'rolled_back', 'cancelled', 'superseded')),
        applied_at  TEXT,
        revision    INTEGER NOT NULL DEFAULT 0,
        producer    TEXT NOT NULL           -- the mode that made it; import_plan for a file
    );
    INSERT INTO plans_new (id, name, source, created_at, updated_at, status, applied_at, producer)
        SELECT id, name, source, created_at, updated_at, status, applied_at,
            COALESCE(json_extract(source, '$.mode'), 'import_plan') FROM plans;
    DROP TABLE plans;
    ALTER TABLE plans_new RENAME TO plans;

    CREATE TABLE plan_changes_new (
        id          INTEGER PRIMARY KEY,
        plan_id     INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        entity_type TEXT NOT NULL CHECK (entity_type IN ('scene', 'performer', 'studio', 'tag')),
        entity_id   INTEGER,
        field       TEXT NOT NULL,
        action      TEXT NOT NULL CHECK (action IN ('ADD', 'REMOVE', 'SET', 'CREATE')),
        value       TEXT NOT NULL,
        before      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        confidence  REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'applied',
                        'failed', 'skipped_conflict', 'reverted', 'revert_conflict', 'superseded')),
        error       TEXT,
        created_id  INTEGER,
        batch_id    INTEGER REFERENCES plan_batches (id) ON DELETE SET NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        stash_now   TEXT                    -- JSON: the field's value in Stash at a conflict
    );
    INSERT INTO plan_changes_new (id, plan_id, entity_type, entity_id, field, action, value, before, reason,
            confidence, status, error, created_id, batch_id, created_at, updated_at)
        SELECT id, plan_id, entity_type, entity_id, field, action, value, before, reason,
            confidence, status, error, created_id, batch_id, created_at, updated_at FROM plan_changes;
    DROP TABLE plan_changes;
    ALTER TABLE plan_changes_new RENAME TO plan_changes;
    CREATE INDEX plan_changes_work ON plan_changes (plan_id, status, entity_type, entity_id);
    CREATE INDEX plan_changes_by_field ON plan_changes (plan_id, field, status);
    CREATE INDEX plan_changes_by_batch ON plan_changes (batch_id);
    CREATE INDEX plan_changes_by_value ON plan_changes (plan_id, field, action, value);
    CREATE INDEX plan_changes_by_scene ON plan_changes (entity_type, entity_id, status);

    CREATE TABLE runs_new (
        id          INTEGER PRIMARY KEY,
        mode        TEXT NOT NULL,
        args        TEXT NOT NULL,
        face        TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'killed', 'refused')),
        summary     TEXT,
        error       TEXT,
        request_id  TEXT                    -- the page's id for a task it started
    );
    INSERT INTO runs_new (id, mode, args, face, pid, started_at, ended_at, status, summary, error)
        SELECT id, mode, args, face, pid, started_at, ended_at, status, summary, error FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_new RENAME TO runs;
    CREATE INDEX runs_by_status ON runs (status);
    CREATE INDEX runs_by_mode ON runs (mode, id);
    CREATE INDEX runs_by_request ON runs (request_id);
    CREATE INDEX plans_by_producer ON plans (producer, status);

    -- Rejections that stay rejected: a change the user rejected is not proposed again, for that
    -- scene (scope 'scene') or for any (scope 'everywhere'; scene_id 0).
    CREATE TABLE rejections (
        id          INTEGER PRIMARY KEY,
        scope       TEXT NOT NULL CHECK (scope IN ('scene', 'everywhere')),
        entity_type TEXT NOT NULL,
        scene_id    INTEGER NOT NULL,       -- 0 when everywhere
        field       TEXT NOT NULL,
        action      TEXT NOT NULL,
        value       TEXT NOT NULL,          -- JSON; {"new": name} for something a plan would create
        value_name  TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        UNIQUE (field, action, value, scope, entity_type, scene_id)
    );
"#,
    r#"
    -- Performers' URLs (the fansly import finds a creator by profile URL). Forgetting the
    -- performers' watermark makes the next incremental sync copy every performer again, so
    -- mirrors made before this column fill it.
    ALTER TABLE performers ADD COLUMN urls TEXT NOT NULL DEFAULT '[]';
    DELETE FROM sync_state WHERE key = 'watermark.performers';
"#,
    r#"
    -- Images and galleries (plans change them; the fansly import links posts' media to a
    -- gallery per post). Their links are JSON lists of ids: they are read whole, per object.
    -- Scenes learn their galleries; forgetting the scenes' watermark makes the next incremental
    -- sync copy every scene again, so mirrors made before this column fill it.
    CREATE TABLE images (
        id              INTEGER PRIMARY KEY,
        title           TEXT,
        code            TEXT,
        details         TEXT,
        photographer    TEXT,
        urls            TEXT NOT NULL,       -- JSON array
        date            TEXT,
        rating100       INTEGER,
        organized       INTEGER NOT NULL,
        studio_id       INTEGER,
        paths           TEXT NOT NULL,       -- JSON array, the primary file first
        performer_ids   TEXT NOT NULL,       -- JSON arrays of ids
        tag_ids         TEXT NOT NULL,
        gallery_ids     TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        mirrored_at     TEXT NOT NULL,
        seen_pass       INTEGER
    );
    CREATE INDEX images_by_updated_at ON images (updated_at);
    CREATE TABLE galleries (
        id              INTEGER PRIMARY KEY,
        title           TEXT,
        code            TEXT,
        details         TEXT,
        photographer    TEXT,
        urls            TEXT NOT NULL,
        date            TEXT,
        rating100       INTEGER,
        organized       INTEGER NOT NULL,
        studio_id       INTEGER,
        path            TEXT,                -- its folder or zip; NULL when made by hand
        image_count     INTEGER NOT NULL,
        performer_ids   TEXT NOT NULL,
        tag_ids         TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        mirrored_at     TEXT NOT NULL,
        seen_pass       INTEGER
    );
    CREATE INDEX galleries_by_updated_at ON galleries (updated_at);
    CREATE INDEX galleries_by_code ON galleries (code);
    ALTER TABLE scenes ADD COLUMN gallery_ids TEXT NOT NULL DEFAULT '[]';
    DELETE FROM sync_state WHERE key = 'watermark.scenes';

    -- Plans change images and galleries too: `plan_changes` is rebuilt for its CHECK.
    CREATE TABLE plan_changes_new (
        id          INTEGER PRIMARY KEY,
        plan_id     INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        entity_type TEXT NOT NULL CHECK (entity_type IN ('scene', 'image', 'gallery', 'performer', 'studio', 'tag')),
        entity_id   INTEGER,
        field       TEXT NOT NULL,
        action      TEXT NOT NULL CHECK (action IN ('ADD', 'REMOVE', 'SET', 'CREATE')),
        value       TEXT NOT NULL,
        before      TEXT NOT NULL,
        reason      TEXT NOT NULL,
        confidence  REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'applied',
                        'failed', 'skipped_conflict', 'reverted', 'revert_conflict', 'superseded')),
        error       TEXT,
        created_id  INTEGER,
        batch_id    INTEGER REFERENCES plan_batches (id) ON DELETE SET NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        stash_now   TEXT
    );
    INSERT INTO plan_changes_new SELECT id, plan_id, entity_type, entity_id, field, action, value, before, reason,
            confidence, status, error, created_id, batch_id, created_at, updated_at, stash_now FROM plan_changes;
    DROP TABLE plan_changes;
    ALTER TABLE plan_changes_new RENAME TO plan_changes;
    CREATE INDEX plan_changes_work ON plan_changes (plan_id, status, entity_type, entity_id);
    CREATE INDEX plan_changes_by_field ON plan_changes (plan_id, field, status);
    CREATE INDEX plan_changes_by_batch ON plan_changes (batch_id);
    CREATE INDEX plan_changes_by_value ON plan_changes (plan_id, field, action, value);
    CREATE INDEX plan_changes_by_scene ON plan_changes (entity_type, entity_id, status);
"#,
    // A full sync writes the links of 500 scenes per transaction. Indexed by tag, performer or
    // StashID, those links land on hundreds of scattered index pages that every transaction
    // rewrites, so a sync's cost per scene grew with the library (36 µs at 10k scenes, 73 at
    // 100k). The few reads by tag or performer (one deleted or merged, an analysis scope) scan
    // the links once instead; the tag sync reads all of an endpoint's links anyway.
    // The foreign keys to scenes go too: checking the scene of every link cost more than the
    // link's own write, and the mirror's one writer removes a scene's links with the scene.
    r#"
    CREATE TABLE scene_tags_new (
        scene_id INTEGER NOT NULL,
        tag_id   INTEGER NOT NULL,
        PRIMARY KEY (scene_id, tag_id)
    ) WITHOUT ROWID;
    INSERT INTO scene_tags_new SELECT scene_id, tag_id FROM scene_tags;
    DROP TABLE scene_tags;
    ALTER TABLE scene_tags_new RENAME TO scene_tags;
    CREATE TABLE scene_performers_new (
        scene_id     INTEGER NOT NULL,
        performer_id INTEGER NOT NULL,
        PRIMARY KEY (scene_id, performer_id)
    ) WITHOUT ROWID;
    INSERT INTO scene_performers_new SELECT scene_id, performer_id FROM scene_performers;
    DROP TABLE scene_performers;
    ALTER TABLE scene_performers_new RENAME TO scene_performers;
    CREATE TABLE scene_stash_ids_new (
        scene_id   INTEGER NOT NULL,
        endpoint   TEXT NOT NULL,
        stash_id   TEXT NOT NULL,
        updated_at TEXT,
        PRIMARY KEY (scene_id, endpoint, stash_id)
    ) WITHOUT ROWID;
    INSERT INTO scene_stash_ids_new SELECT scene_id, endpoint, stash_id, updated_at FROM scene_stash_ids;
    DROP TABLE scene_stash_ids;
    ALTER TABLE scene_stash_ids_new RENAME TO scene_stash_ids;
"#,
];

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// An open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating when needed) and migrates the database at `path`.
    ///
    /// Several processes may do this at once on a file that does not exist yet (a hook and a
    /// task right after install), so nothing here ever deletes a file: what another process
    /// created is used, not removed. The folder is created 0700 and the file 0600.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |reason: String| StoreError::Open { path: path.to_owned(), reason };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        }
        // Created here (never truncated) so it is private; SQLite gives its -wal and -shm files
        // the database's mode.
        files::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| open_error(e.to_string()))?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(sqlite_message(&e)))?;
        let mut store = Store { conn, path: path.to_owned() };
        store.prepare().map_err(|e| store.explain(e))?;
        Ok(store)
    }

    /// Sets the connection up (WAL, a busy timeout, foreign keys) and migrates.
    fn prepare(&mut self) -> Result<(), StoreError> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        self.use_wal()?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        // `rarray(?)`: a list bound as one parameter (a scene's tags are written in one statement).
        rusqlite::vtab::array::load_module(&self.conn)?;
        self.migrate()
    }

    /// Switches the file to write-ahead logging, so readers never wait for a writer. Another
    /// process switching it at the same moment makes this busy: wait and try again, as for any
    /// lock. A file system without shared memory (some network shares) keeps the old journal:
    /// StashHog still works, runs just wait for each other more.
    fn use_wal(&self) -> Result<(), StoreError> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
                Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
                Ok(mode) => {
                    log::warn!(
                        "The database at {} cannot use write-ahead logging here (journal mode {mode}); runs at the same time will wait for each other",
                        self.path.display()
                    );
                    return Ok(());
                }
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Turns a failure into what it means for the user: a damaged file, or a lock someone else
    /// holds (naming the StashHog runs that are going), with the file's path.
    pub(crate) fn explain(&self, e: StoreError) -> StoreError {
        let StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, message)) = &e else { return e };
        let reason = message.clone().unwrap_or_else(|| failure.to_string());
        match failure.code {
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Damaged { path: self.path.clone(), reason }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StoreError::Busy { path: self.path.clone(), holders: self.running_runs() }
            }
            // The folder must take the -wal and -shm files beside the database.
            ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied => {
                StoreError::Open { path: self.path.clone(), reason }
            }
            _ => e,
        }
    }

    /// The StashHog runs going now, for a lock message (read without taking any lock).
    fn running_runs(&self) -> String {
        let runs = self.live_runs().unwrap_or_default();
        if runs.is_empty() {
            return "no StashHog run is going: another program has the file open".into();
        }
        let list: Vec<String> = runs
            .iter()
            .map(|r| format!("run {} `{}` (pid {}, started {})", r.id, r.mode, r.pid, r.started_at))
            .collect();
        format!("held by StashHog {}", list.join(", "))
    }

    /// Applies pending migrations, each in its own IMMEDIATE transaction so two processes
    /// starting at once cannot both apply one.
    fn migrate(&mut self) -> Result<(), StoreError> {
        // A migration that rebuilds a table drops the old one; with foreign keys on, that would
        // cascade into the rows that refer to it. SQLite ignores this pragma inside a
        // transaction, so it is switched off around them, and each migration checks the keys
        // itself before it commits.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let result = self.apply_migrations();
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        result
    }

    fn apply_migrations(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as i64;
        loop {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version > known {
                return Err(StoreError::TooNew { path: self.path.clone(), found: version, known });
            }
            let Some(migration) = MIGRATIONS.get(version as usize) else { return Ok(()) };
            tx.execute_batch(migration)?;
            let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
            if let Some(table) = broken {
                return Err(StoreError::Migration {
                    version: version + 1,
                    reason: format!("broken references in {table}"),
                });
            }
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Size on disk in bytes, write-ahead log included.
    pub(crate) fn size_bytes(&self) -> u64 {
        ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let mut file = self.path.as_os_str().to_owned();
                file.push(suffix);
                std::fs::metadata(PathBuf::from(file)).ok()
            })
            .map(|m| m.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("stashhog-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("sub").join("stashhog.sqlite")
    }

    #[test]
    fn opens_migrates_and_reopens() {
        let path = temp_db("migrate");
        let store = Store::open(&path).expect("opens");
        assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len() as i64);
        drop(store);
        let store = Store::open(&path).expect("reopens");
        assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_database_made_before_review_in_stash_keeps_its_plans_runs_and_journal() {
        let path = temp_db("v5");
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("creates");
        let conn = Connection::open(&path).expect("opens");
        for migration in &MIGRATIONS[..5] {
            conn.execute_batch(migration).expect("migrates");
        }
        conn.execute_batch(
            r#"PRAGMA user_version = 5; PRAGMA foreign_keys = ON;
            INSERT INTO plans VALUES (1, 'old', '{"mode":"sync_scene_tags"}', 't', 't', 'applied', 't');
            INSERT INTO plan_batches VALUES (1, 1, 'apply', '{}', 'done', 't', 't');
            INSERT INTO plan_changes VALUES (1, 1, 'scene', 5, 'tags', 'ADD', '7', 'null', 'r', 0.9, 'applied',
                NULL, NULL, 1, 't', 't');
            INSERT INTO runs VALUES (1, 'apply_plan', '{}', 'cli', 1, 't', 't', 'ok', '{}', NULL);"#,
        )
        .expect("fills");
        drop(conn);
        let store = Store::open(&path).expect("migrates");
        assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len() as i64);
        let plan = store.plan(1).expect("reads").expect("kept");
        assert_eq!((plan.producer.as_str(), plan.revision, plan.status.as_str()), ("sync_scene_tags", 0, "applied"));
        assert_eq!(plan.changes.get(crate::plans::ChangeStatus::Applied), 1);
        let batch: Option<i64> =
            store.conn.query_row("SELECT batch_id FROM plan_changes WHERE id = 1", [], |r| r.get(0)).expect("reads");
        assert_eq!(batch, Some(1), "the journal link survives the rebuild");
        assert_eq!(store.run(1).expect("reads").map(|r| r.mode), Some("apply_plan".to_owned()));
        let on: i64 = store.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).expect("reads");
        assert_eq!(on, 1);
        store.delete_plan(1).expect("deletes");
        let left: i64 = store.conn.query_row("SELECT COUNT(*) FROM plan_changes", [], |r| r.get(0)).expect("counts");
        assert_eq!(left, 0, "deleting a plan still cascades to its changes");
    }

    #[test]
    fn refuses_a_newer_database() {
        let path = temp_db("newer");
        let store = Store::open(&path).expect("opens");
        store.conn.pragma_update(None, "user_version", 999).expect("sets");
        drop(store);
        let e = Store::open(&path).unwrap_err();
        assert!(e.to_string().contains("newer than this StashHog knows"), "{e}");
    }
}
