//! The `stashbox_scenes` table: what a stash-box said about each StashID the tag sync looked
//! up, and when. It lets a killed sync resume without asking again, `syncMinAgeHours` skip
//! fresh answers, and the summary name stale StashIDs.

use std::collections::{HashMap, HashSet};

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
    pub fn record_answers(&self, endpoint: &str, answers: &[(String, Answer)]) -> Result<(), StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO stashbox_scenes (endpoint, stash_id, status, tags, merged_into, candidates, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 ON CONFLICT (endpoint, stash_id) DO UPDATE SET status = excluded.status, tags = excluded.tags,
                   merged_into = excluded.merged_into, candidates = excluded.candidates, fetched_at = excluded.fetched_at",
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
        let tags: Vec<BoxTag> = serde_json::from_str(&row.get::<_, String>(1)?).unwrap_or_default();
        let candidates: Vec<String> = serde_json::from_str(&row.get::<_, String>(3)?).unwrap_or_default();
        Ok(Some(match row.get::<_, String>(0)?.as_str() {
            "found" => Answer::Found(tags),
            "merged" => Answer::Merged { into: row.get::<_, Option<String>>(2)?.unwrap_or_default(), tags },
            "deleted" => Answer::Deleted(candidates),
            _ => Answer::NotFound(candidates),
        }))
    }

    /// The lasting verdicts (deleted, merged into a scene, unknown) recorded at or after
    /// `since`: a stash-box does not change its mind about them, so a re-run need not ask again.
    pub fn lasting_verdicts(&self, endpoint: &str, since: &str) -> Result<HashMap<String, Answer>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT stash_id, status, merged_into, candidates FROM stashbox_scenes
             WHERE endpoint = ?1 AND fetched_at >= ?2 AND status IN ('deleted', 'merged', 'not_found')",
        )?;
        let rows = statement.query_map([endpoint, since], |r| {
            let candidates: Vec<String> = serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default();
            let answer = match r.get::<_, String>(1)?.as_str() {
                "merged" => {
                    Answer::Merged { into: r.get::<_, Option<String>>(2)?.unwrap_or_default(), tags: Vec::new() }
                }
                "deleted" => Answer::Deleted(candidates),
                _ => Answer::NotFound(candidates),
            };
            Ok((r.get(0)?, answer))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// StashIDs of `endpoint` answered at or after `since` (our clock, RFC3339 UTC).
    pub fn answered_since(&self, endpoint: &str, since: &str) -> Result<HashSet<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT stash_id FROM stashbox_scenes WHERE endpoint = ?1 AND fetched_at >= ?2")?;
        let ids = statement.query_map([endpoint, since], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Our clock `hours` ago, in the form `fetched_at` uses.
    pub fn hours_ago(&self, hours: f64) -> Result<String, StoreError> {
        Ok(self.conn.query_row(
            "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
            [format!("-{} seconds", (hours * 3600.0).round() as i64)],
            |r| r.get(0),
        )?)
    }

    /// Mirrored scenes with a StashID on `endpoint`, oldest `updated_at` first: (scene id,
    /// StashID).
    pub fn scenes_linked_to(&self, endpoint: &str) -> Result<Vec<(i64, String)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.id, l.stash_id FROM scene_stash_ids l JOIN scenes s ON s.id = l.scene_id
             WHERE l.endpoint = ?1 ORDER BY s.updated_at, s.id, l.stash_id",
        )?;
        let rows = statement.query_map([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        Ok(rows)
    }
}
