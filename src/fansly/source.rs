//! Opening fansly-scraper's database, SQLite or PostgreSQL, strictly read-only.
//!
//! Both eras are read with the same SQL: camelCase columns double-quoted (valid in both), every
//! value cast to text (`CAST(x AS TEXT)`), so SQLite's 0/1 and TEXT timestamps and PostgreSQL's
//! booleans, enums and `timestamptz` arrive in one shape. PostgreSQL sessions run in UTC so a
//! `timestamptz` prints its UTC wall clock, which is what the SQLite era stored as text.
//!
//! The SQLite era's scraper replaces its file atomically every minute: an open read
//! transaction keeps reading the file it opened, so one import sees one consistent database.
//! PostgreSQL is read in one `REPEATABLE READ READ ONLY` transaction for the same reason.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{OpenFlags, types::ValueRef};

use super::FanslyError;

/// One row: each column as text, `None` for NULL.
pub type Row = Vec<Option<String>>;

/// Where the scraper's metadata lives.
#[derive(Debug, Clone)]
pub enum Source {
    /// The SQLite era's `metadata_db.sqlite3` (or a per-creator `*_metadata.sqlite3`).
    Sqlite(PathBuf),
    /// The PostgreSQL era's database.
    Postgres(PgTarget),
}

/// A PostgreSQL connection (the password is never logged or serialised).
#[derive(Clone)]
pub struct PgTarget {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Database (fansly-scraper's default is `fansly_metadata`).
    pub database: String,
    /// Role.
    pub user: String,
    /// Password, if the server asks for one.
    pub password: Option<String>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl PgTarget {
    /// `user@host:port/database`, for messages.
    pub(crate) fn describe(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.database)
    }
}

/// Which era of fansly-scraper wrote the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Era {
    /// `sqlite` (v0.10 and before) or `postgresql` (v0.11 and later).
    pub engine: &'static str,
    /// The Alembic revision (`alembic_version.version_num`), when recorded.
    pub revision: Option<String>,
}

/// An open, read-only connection to the scraper's database.
pub struct Connection {
    inner: Inner,
    tables: Vec<String>,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl Source {
    /// Opens the database read-only and starts the snapshot every later read sees.
    pub fn open(&self) -> Result<Connection, FanslyError> {
        let inner = match self {
            Source::Sqlite(path) => Inner::Sqlite(open_sqlite(path)?),
            Source::Postgres(target) => Inner::Postgres(Box::new(open_postgres(target)?)),
        };
        let mut connection = Connection { inner, tables: Vec::new() };
        let listing = match connection.inner {
            Inner::Sqlite(_) => "SELECT name FROM sqlite_master WHERE type = 'table'",
            Inner::Postgres(_) => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            }
        };
        connection.tables = connection.rows(listing)?.into_iter().filter_map(|mut r| r.pop().flatten()).collect();
        if !["accounts", "media", "posts"].iter().all(|t| connection.has_table(t)) {
            return Err(FanslyError::NotScraperDatabase(self.describe()));
        }
        Ok(connection)
    }

    /// The file path or `user@host:port/database`, for messages (never the password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Sqlite(path) => path.display().to_string(),
            Source::Postgres(target) => target.describe(),
        }
    }
}

fn open_sqlite(path: &std::path::Path) -> Result<rusqlite::Connection, FanslyError> {
    let failed = |reason: String| FanslyError::OpenSqlite { path: path.display().to_string(), reason };
    if !path.is_file() {
        return Err(failed("no such file".into()));
    }
    // `mode=ro` in a URI: never creates, never writes, and takes no write lock the scraper's own
    // sync would wait for. The characters a URI gives meaning to are escaped.
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            '%' => uri.push_str("%25"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(&uri, flags).map_err(|e| failed(e.to_string()))?;
    connection.busy_timeout(Duration::from_secs(10)).map_err(|e| failed(e.to_string()))?;
    // A deferred transaction takes its snapshot at the first read (the table listing).
    connection.execute_batch("BEGIN").map_err(|e| failed(e.to_string()))?;
    connection
        .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|e| failed(format!("not an SQLite database: {e}")))?;
    Ok(connection)
}

fn open_postgres(target: &PgTarget) -> Result<postgres::Client, FanslyError> {
    let failed = |reason: String| FanslyError::Connect { target: target.describe(), reason };
    let mut config = postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .dbname(&target.database)
        .user(&target.user)
        .application_name("stashhog")
        .connect_timeout(Duration::from_secs(10));
    if let Some(password) = &target.password {
        config.password(password);
    }
    let mut client = config.connect(postgres::NoTls).map_err(|e| {
        let reason = match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        };
        failed(reason)
    })?;
    client
        .batch_execute("SET TIME ZONE 'UTC'; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .map_err(|e| failed(e.to_string()))?;
    Ok(client)
}

impl Connection {
    /// The era, from the engine and `alembic_version`.
    pub fn era(&mut self) -> Result<Era, FanslyError> {
        let engine = match self.inner {
            Inner::Sqlite(_) => "sqlite",
            Inner::Postgres(_) => "postgresql",
        };
        let revision = if self.has_table("alembic_version") {
            self.rows("SELECT version_num FROM alembic_version")?.into_iter().next().and_then(|mut r| r.pop().flatten())
        } else {
            None
        };
        Ok(Era { engine, revision })
    }

    /// Whether the database has this table.
    pub(crate) fn has_table(&self, name: &str) -> bool {
        self.tables.iter().any(|t| t == name)
    }

    /// Runs one query; every column comes back as text.
    pub fn rows(&mut self, sql: &str) -> Result<Vec<Row>, FanslyError> {
        match &mut self.inner {
            Inner::Sqlite(connection) => {
                let mut statement = connection.prepare(sql)?;
                let columns = statement.column_count();
                let mut rows = statement.query([])?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let mut cells = Vec::with_capacity(columns);
                    for i in 0..columns {
                        cells.push(match row.get_ref(i)? {
                            ValueRef::Null => None,
                            ValueRef::Integer(n) => Some(n.to_string()),
                            ValueRef::Real(x) => Some(x.to_string()),
                            ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
                        });
                    }
                    out.push(cells);
                }
                Ok(out)
            }
            Inner::Postgres(client) => {
                let mut out = Vec::new();
                for message in client.simple_query(sql)? {
                    if let postgres::SimpleQueryMessage::Row(row) = message {
                        out.push((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect());
                    }
                }
                Ok(out)
            }
        }
    }
}
