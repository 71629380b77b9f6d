//! A generator of fansly-scraper metadata databases, for both eras, and the files a Stash
//! library would hold for them.
//!
//! The schema is ours, written from the fact sheet's tables ([`schema`]); the rows are built
//! with [`Fixture`]'s methods, which keep Fansly's id spaces apart (an `account_media` id is
//! never the media's id, a variant has its own id) so a join on the wrong id cannot pass by
//! luck. [`Fixture::write_sqlite`] and [`Fixture::write_postgres`] render the same rows into
//! each era's types: 0/1 and TEXT timestamps for SQLite, booleans, `timestamptz` and the
//! `contenttype` enum for PostgreSQL. [`scenario`] holds the edge-case library the tests share.

pub mod pg;
pub mod scenario;
pub mod schema;

use std::path::Path;

/// A value of a column.
#[derive(Debug, Clone)]
pub enum Val {
    /// An integer (ids, positions).
    Int(i64),
    /// Text.
    Text(String),
    /// A boolean: 0/1 in SQLite, `true`/`false` in PostgreSQL.
    Bool(bool),
    /// A UTC time `YYYY-MM-DD HH:MM:SS`: SQLAlchemy's TEXT form in SQLite, `timestamptz` in
    /// PostgreSQL.
    Time(String),
    /// NULL.
    Null,
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// A time value.
pub fn at(text: &str) -> Val {
    Val::Time(text.to_string())
}

/// Which era's types to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite era.
    Sqlite,
    /// PostgreSQL era.
    Postgres,
}

impl Val {
    fn literal(&self, dialect: Dialect) -> String {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        match (self, dialect) {
            (Val::Int(n), _) => n.to_string(),
            (Val::Text(s), _) => quote(s),
            (Val::Bool(b), Dialect::Sqlite) => (*b as i32).to_string(),
            (Val::Bool(b), Dialect::Postgres) => b.to_string(),
            (Val::Time(t), Dialect::Sqlite) => quote(&format!("{t}.000000")),
            (Val::Time(t), Dialect::Postgres) => quote(&format!("{t}+00")),
            (Val::Null, _) => "NULL".into(),
        }
    }
}

/// A row to insert.
#[derive(Debug, Clone)]
struct Row {
    table: &'static str,
    columns: Vec<(&'static str, Val)>,
}

/// Tables in an order that satisfies PostgreSQL's foreign keys.
const ORDER: &[&str] = &[
    "accounts",
    "media",
    "media_variants",
    "account_media",
    "account_media_bundles",
    "account_media_bundle_media",
    "posts",
    "groups",
    "group_users",
    "messages",
    "attachments",
    "pinned_posts",
    "hashtags",
    "post_hashtags",
    "post_mentions",
    "stub_tracker",
];

/// The rows of one scraper database.
#[derive(Debug, Default, Clone)]
pub struct Fixture {
    rows: Vec<Row>,
    next_hashtag: i64,
    hashtags: Vec<(String, i64)>,
}

impl Fixture {
    fn push(&mut self, table: &'static str, columns: Vec<(&'static str, Val)>) {
        self.rows.push(Row { table, columns });
    }

    /// An account.
    pub fn account(&mut self, id: i64, username: &str, display_name: Option<&str>, about: Option<&str>) {
        self.push(
            "accounts",
            vec![
                ("id", id.into()),
                ("username", username.into()),
                ("\"displayName\"", display_name.into()),
                ("about", about.into()),
            ],
        );
    }

    /// A media row; `file` is the recorded `local_filename` (None: not downloaded, or reset).
    pub fn media(&mut self, id: i64, account: i64, mimetype: &str, file: Option<&str>) {
        self.push(
            "media",
            vec![
                ("id", id.into()),
                ("\"accountId\"", account.into()),
                ("mimetype", mimetype.into()),
                ("local_filename", file.into()),
                ("is_downloaded", Val::Bool(file.is_some())),
                ("\"createdAt\"", at("2024-01-01 00:00:00")),
            ],
        );
    }

    /// A variant link.
    pub fn variant(&mut self, parent: i64, variant: i64) {
        self.push("media_variants", vec![("\"mediaId\"", parent.into()), ("\"variantId\"", variant.into())]);
    }

    /// An account media (offer of `media`, with an optional preview).
    pub fn account_media(&mut self, id: i64, account: i64, media: i64, preview: Option<i64>) {
        self.push(
            "account_media",
            vec![
                ("id", id.into()),
                ("\"accountId\"", account.into()),
                ("\"mediaId\"", media.into()),
                ("\"previewId\"", preview.into()),
                ("\"createdAt\"", at("2024-01-01 00:00:00")),
                ("deleted", false.into()),
                ("access", true.into()),
            ],
        );
    }

    /// A bundle of account media ids, in the given positions.
    pub fn bundle(&mut self, id: i64, account: i64, items: &[(i64, i64)]) {
        self.push(
            "account_media_bundles",
            vec![
                ("id", id.into()),
                ("\"accountId\"", account.into()),
                ("\"createdAt\"", at("2026-12-01 00:00:00")),
                ("deleted", false.into()),
                ("access", true.into()),
                ("purchased", false.into()),
                ("whitelisted", false.into()),
            ],
        );
        for (account_media, pos) in items {
            self.push(
                "account_media_bundle_media",
                vec![("bundle_id", id.into()), ("media_id", (*account_media).into()), ("pos", (*pos).into())],
            );
        }
    }

    /// A post; `created` None makes a stub post.
    pub fn post(&mut self, id: i64, account: i64, content: Option<&str>, created: Option<&str>) {
        self.push(
            "posts",
            vec![
                ("id", id.into()),
                ("\"accountId\"", account.into()),
                ("content", content.into()),
                ("\"createdAt\"", created.map_or(Val::Null, at)),
            ],
        );
    }

    /// A conversation and its members.
    pub fn group(&mut self, id: i64, created_by: i64, members: &[i64]) {
        self.push("groups", vec![("id", id.into()), ("\"createdBy\"", created_by.into())]);
        for member in members {
            self.push("group_users", vec![("\"groupId\"", id.into()), ("\"accountId\"", (*member).into())]);
        }
    }

    /// A message.
    pub fn message(&mut self, id: i64, group: i64, sender: i64, content: &str, created: &str) {
        self.push(
            "messages",
            vec![
                ("id", id.into()),
                ("\"groupId\"", group.into()),
                ("\"senderId\"", sender.into()),
                ("content", content.into()),
                ("\"createdAt\"", at(created)),
                ("deleted", false.into()),
            ],
        );
    }

    /// An attachment of a post (`post = true`) or message.
    pub fn attach(&mut self, item: i64, post: bool, pos: i64, kind: &str, content: i64) {
        let (post_id, message_id) = if post { (Val::Int(item), Val::Null) } else { (Val::Null, Val::Int(item)) };
        self.push(
            "attachments",
            vec![
                ("\"postId\"", post_id),
                ("\"messageId\"", message_id),
                ("\"contentId\"", content.into()),
                ("pos", pos.into()),
                ("\"contentType\"", kind.into()),
            ],
        );
    }

    /// A pinned post.
    pub fn pin(&mut self, post: i64, account: i64) {
        self.push(
            "pinned_posts",
            vec![("\"postId\"", post.into()), ("\"accountId\"", account.into()), ("pos", 0.into())],
        );
    }

    /// A hashtag on a post (the hashtag row is made once per value).
    pub fn hashtag(&mut self, post: i64, value: &str) {
        let id = match self.hashtags.iter().find(|(v, _)| v.eq_ignore_ascii_case(value)) {
            Some((_, id)) => *id,
            None => {
                self.next_hashtag += 1;
                let id = self.next_hashtag;
                self.hashtags.push((value.to_string(), id));
                self.push("hashtags", vec![("id", id.into()), ("value", value.into())]);
                id
            }
        };
        self.push("post_hashtags", vec![("\"postId\"", post.into()), ("\"hashtagId\"", id.into())]);
    }

    /// A mention on a post (`account` None: a handle the scraper did not store).
    pub fn mention(&mut self, post: i64, handle: &str, account: Option<i64>) {
        self.push(
            "post_mentions",
            vec![("\"postId\"", post.into()), ("\"accountId\"", account.into()), ("handle", handle.into())],
        );
    }

    /// The inserts, in foreign-key order.
    pub fn sql(&self, dialect: Dialect, revision: &str) -> String {
        let mut out = format!("INSERT INTO alembic_version (version_num) VALUES ('{revision}');\n");
        for table in ORDER {
            for row in self.rows.iter().filter(|r| r.table == *table) {
                let names: Vec<&str> = row.columns.iter().map(|(n, _)| *n).collect();
                let values: Vec<String> = row
                    .columns
                    .iter()
                    .map(|(n, v)| {
                        let literal = v.literal(dialect);
                        if dialect == Dialect::Postgres && *n == "\"contentType\"" {
                            format!("{literal}::contenttype")
                        } else {
                            literal
                        }
                    })
                    .collect();
                out.push_str(&format!("INSERT INTO {table} ({}) VALUES ({});\n", names.join(", "), values.join(", ")));
            }
        }
        out
    }

    /// Writes an SQLite-era database file.
    pub fn write_sqlite(&self, path: &Path) {
        let connection = rusqlite::Connection::open(path).expect("create the fixture database");
        connection.execute_batch(schema::SQLITE).expect("SQLite-era schema");
        connection
            .execute_batch(&format!("BEGIN; {} COMMIT;", self.sql(Dialect::Sqlite, "06658bf47c03")))
            .expect("fixture rows");
    }

    /// Writes a PostgreSQL-era database into `database` on the test server.
    pub fn write_postgres(&self, server: &pg::Server, database: &str) {
        let mut client = server.create_database(database);
        client.batch_execute(schema::POSTGRES).expect("PostgreSQL-era schema");
        client
            .batch_execute(&format!("BEGIN; {} COMMIT;", self.sql(Dialect::Postgres, "b6d60f698c27")))
            .expect("fixture rows");
    }
}
