//! The PostgreSQL server the PostgreSQL-era tests write their fixtures to: a real server that
//! `.ci/run` starts (Debian's `postgresql`, a private cluster on a free local port) and names
//! in `STASHHOG_TEST_PG_PORT` (host `STASHHOG_TEST_PG_HOST`, default 127.0.0.1; role
//! `STASHHOG_TEST_PG_USER`, default postgres; trust authentication).
//!
//! Without it the tests that need it say so and pass as skipped on a developer's machine; under
//! `CI=true` they fail, so CI never goes green without having tested the PostgreSQL era.

/// The test server's coordinates.
#[derive(Debug, Clone)]
pub struct Server {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Role.
    pub user: String,
}

impl Server {
    /// The server named by the environment; `None` (with a message) when none is, and a panic
    /// under CI.
    pub fn from_env(test: &str) -> Option<Server> {
        let port = std::env::var("STASHHOG_TEST_PG_PORT").ok().and_then(|p| p.parse().ok());
        match port {
            Some(port) => Some(Server {
                host: std::env::var("STASHHOG_TEST_PG_HOST").unwrap_or_else(|_| "127.0.0.1".into()),
                port,
                user: std::env::var("STASHHOG_TEST_PG_USER").unwrap_or_else(|_| "postgres".into()),
            }),
            None if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "{test}: CI must test the PostgreSQL era, but STASHHOG_TEST_PG_PORT is not set (.ci/run starts the server)"
                )
            }
            None => {
                eprintln!("{test}: skipped, no PostgreSQL server (set STASHHOG_TEST_PG_PORT, or run .ci/run)");
                None
            }
        }
    }

    fn client(&self, database: &str) -> postgres::Client {
        postgres::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(database)
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test PostgreSQL at {}:{}: {e}", self.host, self.port))
    }

    /// A fresh, empty database (dropped first if an earlier run left it).
    pub fn create_database(&self, name: &str) -> postgres::Client {
        let mut admin = self.client("postgres");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop the old test database");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        self.client(name)
    }

    /// Runs SQL in a database.
    pub fn execute(&self, database: &str, sql: &str) {
        self.client(database).batch_execute(sql).expect("test SQL");
    }
}
