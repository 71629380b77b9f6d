//! The `runs` table: one row per invocation, so a user can see what StashHog did and when.
//!
//! A run killed by Stash (SIGKILL, no goodbye) stays `running` in its row. To tell such a row
//! from a run still going in another process, each live run holds an OS lock on a small lock
//! file; the OS drops the lock when the process dies however it dies. The next start that finds
//! a `running` row whose lock it can take marks that run `killed`.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use rusqlite::{TransactionBehavior, params};
use serde::Serialize;
use serde_json::Value;

use super::{NOW, Store, StoreError};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going (or killed and not yet noticed).
    Running,
    /// Finished without error.
    Ok,
    /// Finished with an error.
    Failed,
    /// The process died mid-run.
    Killed,
    /// Refused before doing anything (an apply given a plan revision that had moved on).
    Refused,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Killed => "killed",
            RunStatus::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Option<RunStatus> {
        [RunStatus::Running, RunStatus::Ok, RunStatus::Failed, RunStatus::Killed, RunStatus::Refused]
            .into_iter()
            .find(|status| status.as_str() == s)
    }
}

/// A run in progress; holds its lock until finished or until the process dies.
#[derive(Debug)]
pub struct RunHandle {
    /// Row id.
    pub id: i64,
    lock_path: PathBuf,
    _lock: File,
}

/// A row of the runs table.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Row id.
    pub id: i64,
    /// The mode.
    pub mode: String,
    /// Arguments, secrets redacted.
    pub args: Value,
    /// `plugin` or `cli`.
    pub face: String,
    /// Start time (UTC, RFC3339).
    pub started_at: String,
    /// End time, when it ended.
    pub ended_at: Option<String>,
    /// How it ended.
    pub status: RunStatus,
    /// The mode's JSON summary.
    pub summary: Option<Value>,
    /// The error message, when it failed.
    pub error: Option<String>,
}

/// A run going right now: its process holds its lock.
#[derive(Debug, Clone)]
pub struct LiveRun {
    /// Row id.
    pub id: i64,
    /// The mode.
    pub mode: String,
    /// Its process.
    pub pid: i64,
    /// Start time (UTC, RFC3339).
    pub started_at: String,
}

impl Store {
    fn lock_path(&self, run_id: i64) -> PathBuf {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(format!(".run-{run_id}.lock"));
        self.path.with_file_name(name)
    }

    /// The runs whose process is alive, oldest first (reads only: usable while another process
    /// holds the write lock).
    pub(crate) fn live_runs(&self) -> Result<Vec<LiveRun>, StoreError> {
        let mut statement =
            self.conn.prepare("SELECT id, mode, pid, started_at FROM runs WHERE status = 'running' ORDER BY id")?;
        let rows = statement
            .query_map([], |r| Ok(LiveRun { id: r.get(0)?, mode: r.get(1)?, pid: r.get(2)?, started_at: r.get(3)? }))?;
        let runs: Vec<LiveRun> = rows.collect::<Result<_, _>>()?;
        let alive = |id: i64| {
            let file = OpenOptions::new().write(true).open(self.lock_path(id));
            matches!(file.map(|f| f.try_lock()), Ok(Err(TryLockError::WouldBlock)))
        };
        Ok(runs.into_iter().filter(|r| alive(r.id)).collect())
    }

    /// Marks runs whose process died as `killed`; returns how many.
    pub(crate) fn sweep_killed_runs(&self) -> Result<usize, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let running: Vec<i64> = tx
            .prepare("SELECT id FROM runs WHERE status = 'running'")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut killed = 0;
        for id in running {
            let path = self.lock_path(id);
            let dead = match OpenOptions::new().write(true).open(&path) {
                Err(_) => true,
                Ok(file) => match file.try_lock() {
                    Ok(()) => true,
                    Err(TryLockError::WouldBlock) => false,
                    Err(TryLockError::Error(e)) => {
                        log::warn!("cannot check whether run {id} is alive ({e}); leaving it as running");
                        false
                    }
                },
            };
            if dead {
                tx.execute(
                    &format!("UPDATE runs SET status = 'killed', ended_at = {NOW}, error = 'the process was killed (Stash cancels tasks with SIGKILL)' WHERE id = ?1"),
                    [id],
                )?;
                let _ = std::fs::remove_file(&path);
                killed += 1;
            }
        }
        tx.commit()?;
        Ok(killed)
    }

    /// Keeps the runs table small: hooks add a row per save. Drops finished runs beyond the
    /// newest `keep`.
    pub(crate) fn prune_runs(&self, keep: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM runs WHERE status != 'running' AND id <= (SELECT MAX(id) FROM runs) - ?1", [keep])?)
    }

    /// Records the start of a run and takes its liveness lock. `request_id` is the page's
    /// name for the run, so it can find the outcome Stash does not keep.
    pub(crate) fn begin_run(
        &self,
        mode: &str,
        args: &Value,
        face: &str,
        request_id: Option<&str>,
    ) -> Result<RunHandle, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute(
            &format!(
                "INSERT INTO runs (mode, args, face, pid, started_at, status, request_id)
                 VALUES (?1, ?2, ?3, ?4, {NOW}, 'running', ?5)"
            ),
            params![mode, args.to_string(), face, i64::from(std::process::id()), request_id],
        )?;
        let id = tx.last_insert_rowid();
        let lock_path = self.lock_path(id);
        let lock_error = |reason: String| StoreError::Lock { path: lock_path.clone(), reason };
        let lock = super::files::options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&lock_path)
            .map_err(|e| lock_error(e.to_string()))?;
        lock.try_lock().map_err(|e| lock_error(e.to_string()))?;
        // Committed only once the lock is held, so a sweep never sees this row unlocked.
        tx.commit()?;
        Ok(RunHandle { id, lock_path, _lock: lock })
    }

    /// Records how a run ended (`refused`: it refused to start its work) and releases its lock.
    pub(crate) fn finish_run(
        &self,
        run: RunHandle,
        summary: Option<&Value>,
        error: Option<&str>,
        refused: bool,
    ) -> Result<(), StoreError> {
        let status = match (error, refused) {
            (Some(_), true) => RunStatus::Refused,
            (Some(_), false) => RunStatus::Failed,
            (None, _) => RunStatus::Ok,
        };
        self.conn.execute(
            &format!("UPDATE runs SET status = ?2, ended_at = {NOW}, summary = ?3, error = ?4 WHERE id = ?1"),
            params![run.id, status.as_str(), summary.map(Value::to_string), error],
        )?;
        let _ = std::fs::remove_file(&run.lock_path);
        Ok(())
    }

    /// The newest runs, newest first.
    pub(crate) fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.select_runs("ORDER BY id DESC LIMIT ?1", i64::try_from(limit).unwrap_or(i64::MAX))
    }

    /// The newest run the page started with `request_id`.
    pub(crate) fn run_by_request(&self, request_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let sql = "SELECT id, mode, args, face, started_at, ended_at, status, summary, error FROM runs
                   WHERE request_id = ?1 ORDER BY id DESC LIMIT 1";
        Ok(self.runs_where(sql, [request_id])?.pop())
    }

    /// One run by id.
    pub fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.select_runs("WHERE id = ?1", id)?.pop())
    }

    fn select_runs(&self, clause: &str, param: i64) -> Result<Vec<RunRecord>, StoreError> {
        let sql =
            format!("SELECT id, mode, args, face, started_at, ended_at, status, summary, error FROM runs {clause}");
        self.runs_where(&sql, [param])
    }

    fn runs_where(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<RunRecord>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        let rows = statement.query_map(params, |r| {
            let status: String = r.get(6)?;
            Ok((
                status,
                RunRecord {
                    id: r.get(0)?,
                    mode: r.get(1)?,
                    args: json(r.get(2)?).unwrap_or(Value::Null),
                    face: r.get(3)?,
                    started_at: r.get(4)?,
                    ended_at: r.get(5)?,
                    status: RunStatus::Running,
                    summary: json(r.get(7)?),
                    error: r.get(8)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (status, run) = row?;
            // An unknown status is not "running": that would keep a dead run alive forever.
            let status = RunStatus::parse(&status).ok_or_else(|| StoreError::Unreadable {
                what: format!("the status of run {}", run.id),
                reason: format!("{status:?} is not a status StashHog writes"),
                remedy: "the runs table was changed by another program; restore the database from a backup",
            })?;
            Ok(RunRecord { status, ..run })
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store(name: &str) -> Store {
        let dir = std::env::temp_dir().join(format!("stashhog-runs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Store::open(&dir.join("db.sqlite")).expect("opens")
    }

    #[test]
    fn a_finished_run_is_recorded_with_its_summary() {
        let store = store("finish");
        let run = store.begin_run("check", &json!({"mode": "check"}), "cli", None).expect("begins");
        let id = run.id;
        store.finish_run(run, Some(&json!({"ok": true})), None, false).expect("finishes");
        let runs = store.recent_runs(5).expect("lists");
        assert_eq!(runs[0].id, id);
        assert_eq!(runs[0].status, RunStatus::Ok);
        assert_eq!(runs[0].summary, Some(json!({"ok": true})));
        assert!(!store.lock_path(id).exists());
    }

    #[test]
    fn a_live_run_is_not_swept_but_a_dead_one_is() {
        let store = store("sweep");
        let live = store.begin_run("full_sync", &json!({}), "plugin", None).expect("begins");
        assert_eq!(store.sweep_killed_runs().expect("sweeps"), 0);
        // A process that died leaves its row running and its lock file unlocked.
        let id = live.id;
        drop(live);
        assert_eq!(store.sweep_killed_runs().expect("sweeps"), 1);
        let run = store.run(id).expect("reads").expect("exists");
        assert_eq!(run.status, RunStatus::Killed);
    }
}
