//! The `plans`, `plan_changes` and `plan_batches` tables.
//!
//! Every write here is its own short transaction: the apply engine commits a change's status as
//! soon as Stash confirmed it, and never holds a transaction across a request (Stash runs our
//! hook, which opens this same file, inside our own mutation). A batch row is the journal entry
//! of one request: written `sending` before it leaves, settled after; one still `sending` at
//! start-up is a request whose fate is unknown and must be checked in Stash.

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::ops::RangeInclusive;

use rusqlite::types::{Type, Value as Sql};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{NOW, Store, StoreError};
use crate::plans::{
    Action, Change, ChangeCounts, ChangeFilter, ChangeId, ChangeStatus, CreatedRef, Direction, Field, FileIndex,
    NewChange, Plan, PlanStatus, Settled, map_created_refs,
};
use crate::stash::ObjectKind;

pub(super) const CHANGE_COLUMNS: &str = "id, entity_type, entity_id, field, action, value, before, reason, confidence, status, error, created_id, stash_now";

/// A journal entry still `sending`: its request may or may not have reached Stash.
#[derive(Debug, Clone)]
pub struct OpenBatch {
    /// Batch id.
    pub id: i64,
    /// The request as it was sent.
    pub request: JournalRequest,
    /// The changes it carried.
    pub changes: Vec<Change>,
}

/// One request to Stash as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalRequest {
    /// The GraphQL operation's name (`BulkSceneUpdate`, `TagCreate`, …).
    pub operation: String,
    /// Its variables.
    pub variables: Value,
}

/// Where a journaled request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Written before the request left; still so after a kill: its fate is unknown.
    Sending,
    /// Stash answered that it ran.
    Done,
    /// Stash answered with an error, or did not answer and a check found it had not landed.
    Failed,
    /// Left `sending` by a killed run, and checked in Stash since.
    Verified,
}

impl BatchState {
    fn as_str(self) -> &'static str {
        match self {
            BatchState::Sending => "sending",
            BatchState::Done => "done",
            BatchState::Failed => "failed",
            BatchState::Verified => "verified",
        }
    }
}

/// A plan's exclusive lock (see [`Store::lock_plan`]); released when dropped.
#[derive(Debug)]
pub struct PlanLock {
    _file: File,
}

/// What [`Store::review_changes`] did.
#[derive(Debug)]
pub struct Reviewed {
    /// How many changes got the new status.
    pub changed: usize,
    /// The changes whose rejection is to be remembered (when rejecting: every change rejected
    /// now) or forgotten (otherwise: the changes that were rejected until now), as they were.
    pub rejections: Vec<Change>,
}

/// A scene's id and its changes.
pub(crate) type SceneChanges = (i64, Vec<Change>);

/// How many changes of one field and action a plan has, by status.
#[derive(Debug, Clone, Serialize)]
pub struct FieldSummary {
    /// Entity type.
    pub entity: String,
    /// Field.
    pub field: String,
    /// Action, lower case.
    pub action: String,
    /// How many, by status.
    pub counts: ChangeCounts,
    /// Their mean confidence.
    pub mean_confidence: f64,
}

/// How many changes propose one value of one field and action, by status.
#[derive(Debug, Clone, Serialize)]
pub struct ValueSummary {
    /// Entity type.
    pub entity: String,
    /// Field.
    pub field: String,
    /// The field, parsed.
    #[serde(skip)]
    pub parsed_field: Field,
    /// Action, lower case.
    pub action: String,
    /// The value as stored.
    pub value: Value,
    /// How it reads (filled in by the caller, which has the names).
    pub value_name: Option<String>,
    /// How many scenes (changes) propose it.
    pub scenes: i64,
    /// How many, by status.
    pub counts: ChangeCounts,
}

/// Inserts a plan and its changes inside `tx`; `{"created": i}` references to the `i`-th
/// change become references to its id.
pub(super) fn insert_plan(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    producer: &str,
    source: &Value,
    changes: &[NewChange],
) -> Result<i64, StoreError> {
    let plan_id = insert_plan_row(tx, name, producer, source)?;
    insert_changes(tx, plan_id, changes, 0, &mut HashMap::new())?;
    Ok(plan_id)
}

/// Inserts an empty plan (status `draft`) inside `tx`.
pub(super) fn insert_plan_row(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    producer: &str,
    source: &Value,
) -> Result<i64, StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO plans (name, source, producer, created_at, updated_at, status)
             VALUES (?1, ?2, ?3, {NOW}, {NOW}, 'draft')"
        ),
        params![name, source.to_string(), producer],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Appends `changes` to plan `plan_id` inside `tx`, the first being the plan's `first`-th
/// change. A `{"created": i}` reference names the plan's `i`-th change, which must be a CREATE
/// inserted before it; `created` remembers the ids of the CREATEs inserted so far, by index.
pub(super) fn insert_changes(
    tx: &rusqlite::Transaction<'_>,
    plan_id: i64,
    changes: &[NewChange],
    first: usize,
    created: &mut HashMap<FileIndex, ChangeId>,
) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO plan_changes (plan_id, entity_type, entity_id, field, action, value, before, reason,
             confidence, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, {NOW}, {NOW})"
    ))?;
    for (position, change) in changes.iter().enumerate() {
        // In a new plan `{"created": i}` (also inside a CREATE's object) is the index of an
        // earlier CREATE; stored, the id of that change's row. An index that names no earlier
        // CREATE is refused, never stored.
        let value = map_created_refs(&change.value, |index: FileIndex| created.get(&index).map(|id| id.value()))
            .map_err(|index| StoreError::BadReference { change: first + position, index })?;
        insert.execute(params![
            plan_id,
            change.entity.as_str(),
            change.entity_id,
            change.field.as_str(),
            change.action.as_str(),
            value.to_string(),
            change.before.to_string(),
            change.reason,
            change.confidence,
            change.status.as_str(),
        ])?;
        if change.action == Action::Create {
            created.insert(FileIndex(first + position), ChangeId(tx.last_insert_rowid()));
        }
    }
    Ok(())
}

fn bad_column(column: usize, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, format!("unknown value {text:?}").into())
}

fn parse_col<T>(row: &Row<'_>, column: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    parse(&text).ok_or_else(|| bad_column(column, &text))
}

fn json_col(row: &Row<'_>, column: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, e.into()))
}

pub(super) fn change_from_row(row: &Row<'_>) -> rusqlite::Result<Change> {
    Ok(Change {
        id: row.get(0)?,
        entity: parse_col(row, 1, ObjectKind::parse)?,
        entity_id: row.get(2)?,
        field: parse_col(row, 3, Field::parse)?,
        action: parse_col(row, 4, Action::parse)?,
        value: json_col(row, 5)?,
        before: json_col(row, 6)?,
        reason: row.get(7)?,
        confidence: row.get(8)?,
        status: parse_col(row, 9, ChangeStatus::parse)?,
        error: row.get(10)?,
        created_id: row.get(11)?,
        stash_now: row.get::<_, Option<String>>(12)?.and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// The WHERE clause and parameters of a filter over one plan's changes.
fn filter_sql(plan_id: i64, filter: &ChangeFilter) -> (String, Vec<Sql>) {
    let mut sql = String::from("plan_id = ?");
    let mut values = vec![Sql::Integer(plan_id)];
    let mut ranges = |column: &str, ranges: &[RangeInclusive<i64>], sql: &mut String| {
        let any: Vec<&str> = ranges.iter().map(|_| "(? <= {c} AND {c} <= ?)").collect();
        sql.push_str(
            &format!(" AND ({})", if any.is_empty() { "0".to_owned() } else { any.join(" OR ") })
                .replace("{c}", column),
        );
        for range in ranges {
            values.push(Sql::Integer(*range.start()));
            values.push(Sql::Integer(*range.end()));
        }
    };
    if let Some(ids) = &filter.ids {
        ranges("id", ids, &mut sql);
    }
    if let Some(ids) = &filter.scene_ids {
        sql.push_str(" AND entity_type = 'scene'");
        ranges("entity_id", ids, &mut sql);
    }
    if !filter.statuses.is_empty() {
        sql.push_str(&format!(" AND status IN ({})", vec!["?"; filter.statuses.len()].join(", ")));
        values.extend(filter.statuses.iter().map(|s| Sql::Text(s.as_str().to_owned())));
    }
    if let Some(field) = filter.field {
        sql.push_str(" AND field = ?");
        values.push(Sql::Text(field.as_str().to_owned()));
    }
    if let Some(action) = filter.action {
        sql.push_str(" AND action = ?");
        values.push(Sql::Text(action.as_str().to_owned()));
    }
    if let Some(keys) = &filter.values {
        sql.push_str(&format!(" AND (value IN ({})", vec!["?"; keys.len().max(1)].join(", ")));
        values.extend(keys.iter().map(|k| Sql::Text(k.clone())));
        if keys.is_empty() {
            values.push(Sql::Null);
        }
        if let Some(name) = &filter.value_name {
            // A person types a name where the plan stores an id.
            sql.push_str(
                " OR (field = 'tags' AND value IN (SELECT CAST(id AS TEXT) FROM tags WHERE name = ? COLLATE NOCASE))
                  OR (field = 'performers' AND value IN (SELECT CAST(id AS TEXT) FROM performers WHERE name = ? COLLATE NOCASE))
                  OR (field = 'studio' AND value IN (SELECT CAST(id AS TEXT) FROM studios WHERE name = ? COLLATE NOCASE))
                  OR (json_extract(value, '$.created') IN (SELECT c.id FROM plan_changes c WHERE c.action = 'CREATE'
                        AND json_extract(c.value, '$') = ? COLLATE NOCASE))",
            );
            values.extend((0..4).map(|_| Sql::Text(name.clone())));
        }
        sql.push(')');
    }
    if let Some(min) = filter.min_confidence {
        sql.push_str(" AND confidence >= ?");
        values.push(Sql::Real(min));
    }
    if let Some(max) = filter.max_confidence {
        sql.push_str(" AND confidence <= ?");
        values.push(Sql::Real(max));
    }
    if let Some(below) = filter.below_confidence {
        sql.push_str(" AND confidence < ?");
        values.push(Sql::Real(below));
    }
    if let Some(text) = &filter.text {
        // LIKE ignores case (for ASCII); `%`, `_` and `\` in the text are matched as themselves.
        let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        sql.push_str(
            " AND entity_type = 'scene' AND entity_id IN (SELECT s.id FROM scenes s WHERE s.title LIKE ? ESCAPE '\\'
               OR EXISTS (SELECT 1 FROM json_each(s.files) f WHERE json_extract(f.value, '$.path') LIKE ? ESCAPE '\\'))",
        );
        values.push(Sql::Text(pattern.clone()));
        values.push(Sql::Text(pattern));
    }
    (sql, values)
}

impl Store {
    /// Stores a new plan (status `draft`) made by `producer` and its changes in one
    /// transaction; `{"created": i}` references to the `i`-th change become references to its
    /// id. Returns the plan's id. Plan producers go through [`Store::propose_plan`] instead.
    pub fn create_plan(
        &self,
        name: &str,
        producer: &str,
        source: &Value,
        changes: &[NewChange],
    ) -> Result<i64, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let plan_id = insert_plan(&tx, name, producer, source, changes)?;
        tx.commit()?;
        Ok(plan_id)
    }

    /// Plans, newest first, with their change counts.
    pub fn plans(&self, limit: usize) -> Result<Vec<Plan>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached("SELECT id FROM plans ORDER BY id DESC LIMIT ?1")?
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().filter_map(|id| self.plan(id).transpose()).collect()
    }

    /// One plan with its change counts.
    pub fn plan(&self, id: i64) -> Result<Option<Plan>, StoreError> {
        let plan = self
            .conn
            .query_row(
                "SELECT id, name, source, created_at, updated_at, status, producer, revision,
                    (SELECT AVG(confidence) FROM plan_changes WHERE plan_id = plans.id AND status != 'superseded')
                 FROM plans WHERE id = ?1",
                [id],
                |r| {
                    Ok(Plan {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        source: json_col(r, 2)?,
                        created_at: r.get(3)?,
                        updated_at: r.get(4)?,
                        status: parse_col(r, 5, PlanStatus::parse)?,
                        producer: r.get(6)?,
                        revision: r.get(7)?,
                        mean_confidence: r.get::<_, Option<f64>>(8)?.map(|m| (m * 1000.0).round() / 1000.0),
                        changes: ChangeCounts::default(),
                    })
                },
            )
            .optional()?;
        let Some(mut plan) = plan else { return Ok(None) };
        let mut statement =
            self.conn.prepare_cached("SELECT status, COUNT(*) FROM plan_changes WHERE plan_id = ?1 GROUP BY status")?;
        let counts = statement.query_map([id], |r| Ok((parse_col(r, 0, ChangeStatus::parse)?, r.get(1)?)))?;
        for count in counts {
            let (status, n): (ChangeStatus, i64) = count?;
            plan.changes.add(status, n);
        }
        Ok(Some(plan))
    }

    /// The newest plan that has approved changes and can still be applied.
    pub(crate) fn newest_plan_to_apply(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT p.id FROM plans p
                 WHERE p.status NOT IN ('rolling_back', 'rolled_back', 'cancelled', 'superseded')
                   AND EXISTS (SELECT 1 FROM plan_changes c WHERE c.plan_id = p.id AND c.status IN ('approved', 'failed'))
                 ORDER BY p.id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The plans made by `mode` whose apply was cut off (a killed run), oldest first.
    pub(crate) fn interrupted_plans(&self, mode: &str) -> Result<Vec<i64>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id FROM plans WHERE status = 'applying' AND json_extract(source, '$.mode') = ?1 ORDER BY id",
        )?;
        let ids = statement.query_map([mode], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// A plan whose apply or rollback was cut off (that run is finished first), else the plan
    /// whose apply finished last.
    pub(crate) fn newest_plan_to_roll_back(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM plans WHERE status IN ('applied', 'partially_applied', 'rolling_back', 'applying')
                 ORDER BY status IN ('applying', 'rolling_back') DESC, COALESCE(applied_at, updated_at) DESC, id DESC
                 LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets a plan's status; a plan that already has it is left alone, `updated_at` included.
    pub(crate) fn set_plan_status(&self, id: i64, status: PlanStatus) -> Result<(), StoreError> {
        self.conn.execute(
            &format!("UPDATE plans SET status = ?2, updated_at = {NOW} WHERE id = ?1 AND status != ?2"),
            params![id, status.as_str()],
        )?;
        Ok(())
    }

    /// Records that an apply of the plan finished, with the plan's resulting status (applied or
    /// partially applied): it is now the plan applied last.
    pub(crate) fn finish_apply(&self, id: i64, status: PlanStatus) -> Result<(), StoreError> {
        self.conn.execute(
            &format!("UPDATE plans SET status = ?2, applied_at = {NOW}, updated_at = {NOW} WHERE id = ?1"),
            params![id, status.as_str()],
        )?;
        Ok(())
    }

    /// Takes the plan's exclusive lock, held while a run applies or rolls it back so two runs
    /// never work on one plan at once (each would take the other's in-flight requests for
    /// interrupted ones and send them again). `None` when another run holds it. The OS drops
    /// the lock when the process ends, however it ends.
    pub(crate) fn lock_plan(&self, plan_id: i64) -> Result<Option<PlanLock>, StoreError> {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(format!(".plan-{plan_id}.lock"));
        let path = self.path.with_file_name(name);
        let lock_error = |reason: String| StoreError::Lock { path: path.clone(), reason };
        // Never deleted: a run that deleted it on its way out could leave two runs locking two
        // different files of the same name.
        let file = super::files::options().write(true).create(true).truncate(false).open(&path);
        let file = file.map_err(|e| lock_error(e.to_string()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(PlanLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(lock_error(e.to_string())),
        }
    }

    /// Deletes a plan with its changes and journal; false when there was none.
    pub fn delete_plan(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM plans WHERE id = ?1", [id])? > 0)
    }

    /// A page of a plan's changes matching `filter`, in plan order, and how many match in all.
    pub fn changes(
        &self,
        plan_id: i64,
        filter: &ChangeFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(i64, Vec<Change>), StoreError> {
        let (clause, mut values) = filter_sql(plan_id, filter);
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM plan_changes WHERE {clause}"),
            params_from_iter(values.iter()),
            |r| r.get(0),
        )?;
        values.push(Sql::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        values.push(Sql::Integer(i64::try_from(offset).unwrap_or(0)));
        let mut statement = self.conn.prepare(&format!(
            "SELECT {CHANGE_COLUMNS} FROM plan_changes WHERE {clause} ORDER BY id LIMIT ? OFFSET ?"
        ))?;
        let changes =
            statement.query_map(params_from_iter(values.iter()), change_from_row)?.collect::<Result<_, _>>()?;
        Ok((total, changes))
    }

    /// Counts of a plan's changes by field and action, each by status.
    pub(crate) fn field_summary(&self, plan_id: i64) -> Result<Vec<FieldSummary>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT entity_type, field, action, status, COUNT(*), AVG(confidence) FROM plan_changes
             WHERE plan_id = ?1 GROUP BY entity_type, field, action, status ORDER BY entity_type, field, action, status",
        )?;
        let mut rows = statement.query([plan_id])?;
        let mut summary: Vec<FieldSummary> = Vec::new();
        while let Some(r) = rows.next()? {
            let (entity, field, action): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let (status, count, mean): (ChangeStatus, i64, f64) =
                (parse_col(r, 3, ChangeStatus::parse)?, r.get(4)?, r.get(5)?);
            let action = action.to_ascii_lowercase();
            let row = match summary.last_mut() {
                Some(last) if last.entity == entity && last.field == field && last.action == action => last,
                _ => {
                    summary.push(FieldSummary {
                        entity,
                        field,
                        action,
                        counts: ChangeCounts::default(),
                        mean_confidence: 0.0,
                    });
                    summary.last_mut().ok_or(rusqlite::Error::QueryReturnedNoRows)?
                }
            };
            let before = row.counts.total();
            row.mean_confidence = (row.mean_confidence * before as f64 + mean * count as f64) / (before + count) as f64;
            row.counts.add(status, count);
        }
        Ok(summary)
    }

    /// The values a plan's changes matching `filter` propose, most changes first (at most
    /// `limit`), each with its counts by status: the "by value" view.
    pub(crate) fn value_summary(
        &self,
        plan_id: i64,
        filter: &ChangeFilter,
        limit: usize,
    ) -> Result<Vec<ValueSummary>, StoreError> {
        let (clause, values) = filter_sql(plan_id, filter);
        let sql = format!(
            "WITH v AS (SELECT entity_type, field, action, value, status, COUNT(*) AS n FROM plan_changes
                        WHERE {clause} GROUP BY entity_type, field, action, value, status),
                  t AS (SELECT entity_type, field, action, value, SUM(n) AS total FROM v
                        GROUP BY entity_type, field, action, value ORDER BY total DESC, field, action, value LIMIT ?)
             SELECT t.entity_type, t.field, t.action, t.value, t.total, v.status, v.n FROM t
             JOIN v USING (entity_type, field, action, value)
             ORDER BY t.total DESC, t.field, t.action, t.value, v.status"
        );
        let mut statement = self.conn.prepare(&sql)?;
        let limit = Sql::Integer(i64::try_from(limit).unwrap_or(i64::MAX));
        let mut rows = statement.query(params_from_iter(values.iter().chain([&limit])))?;
        let mut summary: Vec<ValueSummary> = Vec::new();
        while let Some(r) = rows.next()? {
            let (entity, field, action, value): (String, String, String, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let value: Value = serde_json::from_str(&value).unwrap_or(Value::Null);
            let action = action.to_ascii_lowercase();
            let row = match summary.last_mut() {
                Some(last)
                    if last.entity == entity && last.field == field && last.action == action && last.value == value =>
                {
                    last
                }
                _ => {
                    let total = r.get(4)?;
                    let parsed = Field::parse(&field).ok_or_else(|| bad_column(1, &field))?;
                    summary.push(ValueSummary {
                        entity,
                        field,
                        parsed_field: parsed,
                        action,
                        value,
                        value_name: None,
                        scenes: total,
                        counts: ChangeCounts::default(),
                    });
                    summary.last_mut().ok_or(rusqlite::Error::QueryReturnedNoRows)?
                }
            };
            row.counts.add(parse_col(r, 5, ChangeStatus::parse)?, r.get(6)?);
        }
        Ok(summary)
    }

    /// A page of the scenes that have changes matching `filter` (ascending scene id), each with
    /// all its matching changes, and how many scenes match in all.
    pub(crate) fn scene_page(
        &self,
        plan_id: i64,
        filter: &ChangeFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(i64, Vec<SceneChanges>), StoreError> {
        let (clause, values) = filter_sql(plan_id, filter);
        let scene_clause = format!("{clause} AND entity_type = 'scene'");
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(DISTINCT entity_id) FROM plan_changes WHERE {scene_clause}"),
            params_from_iter(values.iter()),
            |r| r.get(0),
        )?;
        let page =
            [Sql::Integer(i64::try_from(limit).unwrap_or(i64::MAX)), Sql::Integer(i64::try_from(offset).unwrap_or(0))];
        let mut statement = self.conn.prepare(&format!(
            "SELECT {CHANGE_COLUMNS} FROM plan_changes WHERE {scene_clause} AND entity_id IN (
                 SELECT DISTINCT entity_id FROM plan_changes WHERE {scene_clause} ORDER BY entity_id LIMIT ? OFFSET ?)
             ORDER BY entity_id, id"
        ))?;
        let all = values.iter().chain(values.iter()).chain(page.iter());
        let rows = statement.query_map(params_from_iter(all), change_from_row)?;
        let mut scenes: Vec<SceneChanges> = Vec::new();
        for change in rows {
            let change = change?;
            let scene = change.entity_id.unwrap_or_default();
            match scenes.last_mut() {
                Some((id, list)) if *id == scene => list.push(change),
                _ => scenes.push((scene, vec![change])),
            }
        }
        Ok((total, scenes))
    }

    /// Gives every change matching `filter` the status `to` (and, when approving, the CREATE
    /// changes they refer to; when rejecting a CREATE, the changes that need it), and moves the
    /// plan's revision when anything changed. Only the changes a rejection memory needs are read
    /// back (see [`Reviewed`]): approving a library's worth of changes holds none of them.
    pub(crate) fn review_changes(
        &self,
        plan_id: i64,
        filter: &ChangeFilter,
        to: ChangeStatus,
    ) -> Result<Reviewed, StoreError> {
        let (clause, values) = filter_sql(plan_id, filter);
        let to_text = Sql::Text(to.as_str().to_owned());
        let rejecting = to == ChangeStatus::Rejected;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let wanted = if rejecting { "" } else { " AND status = 'rejected'" };
        let mut rejections: Vec<Change> = tx
            .prepare(&format!("SELECT {CHANGE_COLUMNS} FROM plan_changes WHERE {clause} AND status != ?{wanted}"))?
            .query_map(params_from_iter(values.iter().chain([&to_text])), change_from_row)?
            .collect::<Result<_, _>>()?;
        let mut changed = tx.execute(
            &format!(
                "UPDATE plan_changes SET status = ?, error = NULL, updated_at = {NOW} WHERE {clause} AND status != ?"
            ),
            params_from_iter([&to_text].into_iter().chain(values.iter()).chain([&to_text])),
        )?;
        if to == ChangeStatus::Approved {
            // An approved change that refers to something the plan creates needs that CREATE.
            changed += tx.execute(
                &format!(
                    "UPDATE plan_changes SET status = 'approved', updated_at = {NOW}
                     WHERE plan_id = ?1 AND action = 'CREATE' AND status = 'pending'
                       AND id IN (SELECT json_extract(value, '$.created') FROM plan_changes
                                  WHERE plan_id = ?1 AND status = 'approved' AND json_extract(value, '$.created') IS NOT NULL)"
                ),
                [plan_id],
            )?;
        }
        if rejecting {
            // A change that needs something the plan would create cannot go without it.
            let mut dependents: Vec<Change> = tx
                .prepare(&format!(
                    "SELECT {CHANGE_COLUMNS} FROM plan_changes WHERE plan_id = ?1 AND status IN ('pending', 'approved')
                       AND json_extract(value, '$.created') IN (SELECT id FROM plan_changes
                           WHERE plan_id = ?1 AND action = 'CREATE' AND status = 'rejected')"
                ))?
                .query_map([plan_id], change_from_row)?
                .collect::<Result<_, _>>()?;
            for dependent in &dependents {
                tx.execute(
                    &format!("UPDATE plan_changes SET status = 'rejected', updated_at = {NOW} WHERE id = ?1"),
                    [dependent.id],
                )?;
            }
            changed += dependents.len();
            rejections.append(&mut dependents);
        }
        if changed > 0 {
            tx.execute(
                &format!("UPDATE plans SET revision = revision + 1, updated_at = {NOW} WHERE id = ?1"),
                [plan_id],
            )?;
        }
        tx.commit()?;
        Ok(Reviewed { changed, rejections })
    }

    /// A plan's CREATE changes, in plan order.
    pub(crate) fn plan_creates(&self, plan_id: i64) -> Result<Vec<Change>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CHANGE_COLUMNS} FROM plan_changes WHERE plan_id = ?1 AND action = 'CREATE' ORDER BY id"
        ))?;
        let changes = statement.query_map([plan_id], change_from_row)?.collect::<Result<_, _>>()?;
        Ok(changes)
    }

    /// The changes of `kind` (scenes, images or galleries) with `status` of the next `objects`
    /// objects after `after` (ascending ids; descending when `reverse`, for rollback), grouped
    /// by object.
    pub(crate) fn changes_after(
        &self,
        plan_id: i64,
        kind: ObjectKind,
        status: ChangeStatus,
        after: Option<i64>,
        reverse: bool,
        objects: usize,
    ) -> Result<Vec<Change>, StoreError> {
        let (cmp, order) = if reverse { ("<", "DESC") } else { (">", "ASC") };
        let after = after.unwrap_or(if reverse { i64::MAX } else { i64::MIN });
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM plan_changes
             WHERE plan_id = ?1 AND status = ?2 AND entity_type = ?5 AND action != 'CREATE' AND entity_id IN (
                 SELECT DISTINCT entity_id FROM plan_changes
                 WHERE plan_id = ?1 AND status = ?2 AND entity_type = ?5 AND action != 'CREATE' AND entity_id {cmp} ?3
                 ORDER BY entity_id {order} LIMIT ?4)
             ORDER BY entity_id {order}, id {order}"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![plan_id, status.as_str(), after, i64::try_from(objects).unwrap_or(i64::MAX), kind.as_str()],
            change_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Journals a request before it is sent: a `sending` batch carrying `change_ids`.
    pub(crate) fn begin_batch(
        &self,
        plan_id: i64,
        direction: Direction,
        request: &JournalRequest,
        change_ids: &[i64],
    ) -> Result<i64, StoreError> {
        // Only text and JSON values: serializing cannot fail.
        let request = serde_json::to_string(request).unwrap_or_default();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute(
            &format!(
                "INSERT INTO plan_batches (plan_id, direction, request, state, started_at) VALUES (?1, ?2, ?3, ?4, {NOW})"
            ),
            params![plan_id, direction.as_str(), request, BatchState::Sending.as_str()],
        )?;
        let batch = tx.last_insert_rowid();
        {
            let mut link = tx.prepare_cached("UPDATE plan_changes SET batch_id = ?1 WHERE id = ?2")?;
            for id in change_ids {
                link.execute([batch, *id])?;
            }
        }
        tx.commit()?;
        Ok(batch)
    }

    /// Records what became of changes, and closes their batch, in one transaction.
    pub(crate) fn settle(&self, batch: Option<(i64, BatchState)>, outcomes: &[Settled]) -> Result<(), StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        {
            let mut update = tx.prepare_cached(&format!(
                "UPDATE plan_changes SET status = ?2, error = ?3, created_id = COALESCE(?4, created_id),
                    stash_now = ?5, updated_at = {NOW}
                 WHERE id = ?1"
            ))?;
            for o in outcomes {
                let stash_now = o.stash_now.as_ref().map(Value::to_string);
                update.execute(params![o.change_id, o.status.as_str(), o.error, o.created_id, stash_now])?;
            }
        }
        if let Some((id, state)) = batch {
            tx.execute(
                &format!("UPDATE plan_batches SET state = ?2, ended_at = {NOW} WHERE id = ?1"),
                params![id, state.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Gives a plan's failed changes back to the queue (`approved`), keeping their last error;
    /// returns how many. Running the task again is how a failed change is retried.
    pub(crate) fn retry_failed(&self, plan_id: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            &format!("UPDATE plan_changes SET status = 'approved', updated_at = {NOW} WHERE plan_id = ?1 AND status = 'failed'"),
            [plan_id],
        )?)
    }

    /// Batches of `direction` still `sending`: their requests' fate is unknown.
    pub(crate) fn open_batches(&self, plan_id: i64, direction: Direction) -> Result<Vec<OpenBatch>, StoreError> {
        let batches: Vec<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, request FROM plan_batches WHERE plan_id = ?1 AND direction = ?2 AND state = ?3 ORDER BY id",
            )?
            .query_map(params![plan_id, direction.as_str(), BatchState::Sending.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut statement = self
            .conn
            .prepare_cached(&format!("SELECT {CHANGE_COLUMNS} FROM plan_changes WHERE batch_id = ?1 ORDER BY id"))?;
        batches
            .into_iter()
            .map(|(id, request)| {
                // Without its request StashHog cannot tell what reached Stash: stop, never guess.
                let request = serde_json::from_str(&request).map_err(|e| StoreError::Unreadable {
                    what: format!("the journal of interrupted request {id} of plan {plan_id}"),
                    reason: e.to_string(),
                    remedy: "the database was changed by another program; restore it from a backup, or check the plan's changes in Stash by hand",
                })?;
                let changes = statement.query_map([id], change_from_row)?.collect::<Result<_, _>>()?;
                Ok(OpenBatch { id, request, changes })
            })
            .collect()
    }
}

#[cfg(test)]
mod reference_tests {
    use serde_json::json;

    use super::*;

    fn create_tag(name: &str) -> NewChange {
        NewChange {
            entity: ObjectKind::Tag,
            entity_id: None,
            field: Field::Name,
            action: Action::Create,
            value: json!(name),
            before: Value::Null,
            reason: String::new(),
            confidence: 1.0,
            status: ChangeStatus::Pending,
        }
    }

    #[test]
    fn a_reference_to_no_earlier_change_is_refused_and_nothing_is_stored() {
        let dir = std::env::temp_dir().join(format!("stashhog-refs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("db.sqlite")).expect("opens");
        let add = |target: Value| NewChange {
            entity: ObjectKind::Scene,
            entity_id: Some(1),
            field: Field::Tags,
            action: Action::Add,
            value: target,
            ..create_tag("x")
        };
        for bad in [json!({"created": 5}), json!({"created": -1}), json!({"created": 1})] {
            let error =
                store.create_plan("p", "test", &Value::Null, &[create_tag("New"), add(bad.clone())]).unwrap_err();
            assert!(matches!(error, StoreError::BadReference { change: 1, .. }), "{bad}: {error}");
        }
        assert!(store.plans(10).expect("lists").is_empty(), "nothing was stored");
        let plan = store.create_plan("p", "test", &Value::Null, &[create_tag("New"), add(json!({"created": 0}))]);
        assert!(plan.is_ok(), "an earlier CREATE is a good reference");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
