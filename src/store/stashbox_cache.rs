//! The `stashbox_scenes` table: what a stash-box said about each StashID the tag sync looked
//! up, and when. It lets a killed sync resume without asking again, `syncMinAgeHours` skip
//! fresh answers, and the summary name stale StashIDs.

use std::collections::HashMap;

use rusqlite::params;
use serde_json::json;

use super::{Store, StoreError};
use crate::stashbox::BoxTag;

/// What a stash-box said about one StashID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The scene exists; its tags.
    Found(Vec<BoxTag>),
    /// Merged into another scene; that scene's id and tags.
    Merged {
        /// The surviving scene.
        into: String,
        /// Its tags.
        tags: Vec<BoxTag>,
    },
    /// Deleted, not merged; scenes its fingerprints match now.
    Deleted(Vec<String>),
    /// Unknown id; scenes its fingerprints match now.
    NotFound(Vec<String>),
}

impl Answer {
    /// The tags a local scene linked to this StashID should have, when there are any to trust.
    pub fn tags(&self) -> Option<&[BoxTag]> {
        match self {
            Answer::Found(tags) | Answer::Merged { tags, .. } => Some(tags),
            Answer::Deleted(_) | Answer::NotFound(_) => None,
        }
    }
}

impl Store {
    /// Records answers, one transaction for the batch.
    pub(crate) fn record_answers(&self, endpoint: &str, answers: &[(String, Answer)]) -> Result<(), StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut upsert = tx.prepare_cached(
                concat!("INSERT INTO stashbox_scenes (endpoint, stash_id, status, tags, merged_into, candidates, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ", now_sql!(), ")
                 ON CONFLICT (endpoint, stash_id) DO UPDATE SET status = excluded.status, tags = excluded.tags,
                   merged_into = excluded.merged_into, candidates = excluded.candidates, fetched_at = excluded.fetched_at"),
            )?;
            for (stash_id, answer) in answers {
                let (status, tags, into, candidates) = match answer {
                    Answer::Found(tags) => ("found", json!(tags), None, json!([])),
                    Answer::Merged { into, tags } => ("merged", json!(tags), Some(into.as_str()), json!([])),
                    Answer::Deleted(c) => ("deleted", json!([]), None, json!(c)),
                    Answer::NotFound(c) => ("not_found", json!([]), None, json!(c)),
                };
                upsert.execute(params![endpoint, stash_id, status, tags.to_string(), into, candidates.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The recorded answer for a StashID.
    pub fn answer(&self, endpoint: &str, stash_id: &str) -> Result<Option<Answer>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT status, tags, merged_into, candidates FROM stashbox_scenes WHERE endpoint = ?1 AND stash_id = ?2",
        )?;
        let mut rows = statement.query([endpoint, stash_id])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        let (status, tags): (String, String) = (row.get(0)?, row.get(1)?);
        let (merged_into, candidates): (Option<String>, String) = (row.get(2)?, row.get(3)?);
        let answer = decode(stash_id, &status, merged_into, &tags, &candidates)?;
        Ok(Some(answer))
    }

    /// The lasting verdicts (deleted, merged into a scene, unknown) recorded at or after
    /// `since`: a stash-box does not change its mind about them, so a re-run need not ask again.
    pub(crate) fn lasting_verdicts(&self, endpoint: &str, since: &str) -> Result<HashMap<String, Answer>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT stash_id, status, merged_into, candidates FROM stashbox_scenes
             WHERE endpoint = ?1 AND fetched_at >= ?2 AND status IN ('deleted', 'merged', 'not_found')",
        )?;
        let rows = statement.query_map([endpoint, since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, String>(3)?))
        })?;
        rows.map(|row| {
            let (stash_id, status, merged_into, candidates) = row?;
            let answer = decode(&stash_id, &status, merged_into, "[]", &candidates)?;
            Ok((stash_id, answer))
        })
        .collect()
    }

    /// Whether `stash_id` of `endpoint` was answered at or after `since` (our clock, RFC3339
    /// UTC).
    pub(crate) fn answered_since(&self, endpoint: &str, stash_id: &str, since: &str) -> Result<bool, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT 1 FROM stashbox_scenes WHERE endpoint = ?1 AND stash_id = ?2 AND fetched_at >= ?3",
        )?;
        Ok(statement.exists([endpoint, stash_id, since])?)
    }

    /// Our clock `hours` ago, in the form `fetched_at` uses.
    pub(crate) fn hours_ago(&self, hours: f64) -> Result<String, StoreError> {
        Ok(self.conn.query_row(
            concat!("SELECT ", now_sql!("?1")),
            [format!("-{} seconds", (hours * 3600.0).round() as i64)],
            |r| r.get(0),
        )?)
    }

    /// Mirrored scenes with a StashID on `endpoint`, oldest `updated_at` first: (scene id,
    /// StashID).
    pub(crate) fn scenes_linked_to(&self, endpoint: &str) -> Result<Vec<(i64, String)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.id, l.stash_id FROM scene_stash_ids l JOIN scenes s ON s.id = l.scene_id
             WHERE l.endpoint = ?1 ORDER BY s.updated_at, s.id, l.stash_id",
        )?;
        let rows = statement.query_map([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// A recorded answer from its row. A row that does not read is an error: taken as "not found"
/// or as "no tags", it would hide a scene's real answer.
fn decode(
    stash_id: &str,
    status: &str,
    merged_into: Option<String>,
    tags: &str,
    candidates: &str,
) -> Result<Answer, StoreError> {
    let unreadable = |reason: String| StoreError::Unreadable {
        what: format!("the recorded stash-box answer for {stash_id}"),
        reason,
        remedy: "the database was changed by another program; restore it from a backup",
    };
    let tags = || serde_json::from_str::<Vec<BoxTag>>(tags).map_err(|e| unreadable(format!("tags: {e}")));
    let candidates =
        || serde_json::from_str::<Vec<String>>(candidates).map_err(|e| unreadable(format!("candidates: {e}")));
    Ok(match status {
        "found" => Answer::Found(tags()?),
        "merged" => Answer::Merged {
            into: merged_into.ok_or_else(|| unreadable("merged, but into nothing".into()))?,
            tags: tags()?,
        },
        "deleted" => Answer::Deleted(candidates()?),
        "not_found" => Answer::NotFound(candidates()?),
        other => return Err(unreadable(format!("{other:?} is not a status StashHog writes"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_recorded_answer_is_an_error_not_a_scene_stash_box_does_not_know() {
        let unknown = decode("id-1", "pending", None, "[]", "[]");
        assert!(matches!(unknown, Err(StoreError::Unreadable { .. })), "{unknown:?}");
        let bad_tags = decode("id-1", "found", None, "not json", "[]");
        assert!(matches!(bad_tags, Err(StoreError::Unreadable { .. })), "{bad_tags:?}");
        let merged_nowhere = decode("id-1", "merged", None, "[]", "[]");
        assert!(matches!(merged_nowhere, Err(StoreError::Unreadable { .. })), "{merged_nowhere:?}");
        assert!(matches!(decode("id-1", "not_found", None, "[]", "[\"x\"]"), Ok(Answer::NotFound(c)) if c == ["x"]));
    }
}
