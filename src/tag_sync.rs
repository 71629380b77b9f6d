//! The mechanics of "Sync Scene Tags from StashDB": choosing the stash-box, asking it about
//! every linked scene (40 StashIDs a request, paced), following merged scenes, and turning the
//! answers into ADD changes matched the way the Tagger matches.
//!
//! Lookups are recorded as they arrive (`stashbox_scenes`), so a killed sync resumes without
//! asking again, and a batch that failed (5xx, timeout, a malformed answer) is simply asked
//! again by the next run. A deleted stash-box scene answers `tags: []`; that is never read as
//! "remove all tags" — the sync only ever adds.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::graphql::ApiError;
use crate::matching::{TagMatch, TagMatcher};
use crate::plans::{Action, ChangeStatus, Field, NewChange};
use crate::stash::ObjectKind;
use crate::stash::{StashBox, StashConfig};
use crate::stashbox::{BATCH, Lookup, StashBoxClient};
use crate::store::Store;
use crate::store::stashbox_cache::Answer;

/// Stash's own request budget for a stash-box when none is configured.
const STASH_DEFAULT_PER_MINUTE: u32 = 240;

/// Picks the stash-box: the `syncBoxEndpoint` setting, else the first on stashdb.org, else the
/// first configured.
pub fn choose_stash_box(config: &StashConfig, setting: Option<&str>) -> anyhow::Result<StashBox> {
    let boxes = &config.stash_boxes;
    if boxes.is_empty() {
        bail!("no stash-box is configured in Stash: add StashDB (with your API key) in Settings > Metadata Providers");
    }
    let chosen = match setting {
        Some(endpoint) => boxes.iter().find(|b| b.endpoint == endpoint).with_context(|| {
            let known: Vec<&str> = boxes.iter().map(|b| b.endpoint.as_str()).collect();
            format!(
                "the setting \"Scene Tag Sync - stash-box\" is {endpoint}, but Stash has no such stash-box (configured: {})",
                known.join(", ")
            )
        })?,
        None => boxes.iter().find(|b| b.endpoint.contains("stashdb.org")).unwrap_or(&boxes[0]),
    };
    if chosen.api_key.trim().is_empty() {
        bail!("stash-box '{}' has no API key in Stash: add it in Settings > Metadata Providers", chosen.name);
    }
    Ok(chosen.clone())
}

/// A paced client for `stash_box` whose key the stash-box has just accepted. The pace is our
/// budget, never above the one Stash keeps for that endpoint.
pub fn connect(stash_box: &StashBox, requests_per_minute: u32) -> anyhow::Result<(StashBoxClient, u32)> {
    let limit = stash_box.max_requests_per_minute.unwrap_or(STASH_DEFAULT_PER_MINUTE);
    let pace = requests_per_minute.min(limit).max(1);
    let client = StashBoxClient::new(stash_box)?.paced(pace);
    let user = client.me().with_context(|| format!("checking the API key of stash-box '{}'", stash_box.name))?;
    log::info!(
        "\"{}\" accepts our key (user \"{}\"); asking it at most {pace} times a minute",
        stash_box.name,
        user.name
    );
    Ok((client, pace))
}

/// What the lookups did.
#[derive(Debug, Default, Serialize)]
pub struct LookupReport {
    /// StashIDs asked about in this run.
    pub looked_up: u64,
    /// StashIDs skipped because a recent answer was recorded (resume, `syncMinAgeHours`).
    pub answered_recently: u64,
    /// Batches that failed and will be asked again next run.
    pub failed_batches: Vec<FailedBatch>,
}

/// A batch of StashIDs the stash-box did not answer properly.
#[derive(Debug, Serialize)]
pub struct FailedBatch {
    /// The local scenes concerned.
    pub scenes: Vec<i64>,
    /// What went wrong.
    pub error: String,
}

/// Asks the stash-box about each StashID in `linked` (scene id, StashID) that has no answer
/// since `fresh_since`, and records the answers.
pub fn look_up(
    store: &Store,
    client: &StashBoxClient,
    endpoint: &str,
    linked: &[(i64, String)],
    fresh_since: &str,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<LookupReport> {
    let fresh = store.answered_since(endpoint, fresh_since)?;
    let mut scenes_of: HashMap<&str, Vec<i64>> = HashMap::new();
    for (scene, stash_id) in linked {
        scenes_of.entry(stash_id.as_str()).or_default().push(*scene);
    }
    let mut queued = HashSet::new();
    let todo: Vec<&str> = linked
        .iter()
        .map(|(_, stash_id)| stash_id.as_str())
        .filter(|stash_id| !fresh.contains(*stash_id) && queued.insert(*stash_id))
        .collect();
    let mut report = LookupReport {
        answered_recently: scenes_of.len().saturating_sub(todo.len()) as u64,
        ..LookupReport::default()
    };
    let total = todo.len() as u64;
    for batch in todo.chunks(BATCH) {
        match look_up_batch(store, client, batch, &scenes_of) {
            Ok(answers) => store.record_answers(endpoint, &answers)?,
            Err(e @ ApiError::Auth { .. }) => return Err(e).context("the stash-box stopped accepting our key"),
            Err(e) => {
                let scenes: Vec<i64> = batch.iter().flat_map(|id| scenes_of[id].clone()).collect();
                log::error!(
                    "stash-box lookup of {} scenes failed, they are skipped and asked again next run: {e}",
                    scenes.len()
                );
                report.failed_batches.push(FailedBatch { scenes, error: e.to_string() });
            }
        }
        report.looked_up += batch.len() as u64;
        progress(report.looked_up, total);
    }
    Ok(report)
}

/// One batch: the scenes, then where deleted ones were merged, then what the fingerprints of
/// those that no longer resolve match now.
fn look_up_batch(
    store: &Store,
    client: &StashBoxClient,
    batch: &[&str],
    scenes_of: &HashMap<&str, Vec<i64>>,
) -> Result<Vec<(String, Answer)>, ApiError> {
    // stash-box ids are UUIDs, and one that is not fails the whole request: never send it.
    let (ids, malformed): (Vec<String>, Vec<String>) =
        batch.iter().map(|s| (*s).to_owned()).partition(|id| is_uuid(id));
    for id in &malformed {
        log::warn!("StashID {id:?} is not a stash-box id (not a UUID); reported as not found");
    }
    let lookups = if ids.is_empty() { Vec::new() } else { client.scenes(&ids)? };
    let mut answers = Vec::with_capacity(batch.len());
    let mut stale = Vec::new();
    let malformed = malformed.into_iter().map(|id| (id, Lookup::NotFound));
    for (id, lookup) in ids.into_iter().zip(lookups).chain(malformed) {
        match lookup {
            Lookup::Found(scene) => answers.push((id, Answer::Found(scene.tags))),
            Lookup::Deleted => match client.merged_into(&id)? {
                Some(into) => match client.scenes(std::slice::from_ref(&into))?.pop() {
                    Some(Lookup::Found(survivor)) => {
                        // Reported once for all of them, by local scene, after the lookups.
                        log::debug!("stash-box scene {id} was merged into {into}");
                        answers.push((id, Answer::Merged { into, tags: survivor.tags }));
                    }
                    _ => stale.push((id, true)),
                },
                None => stale.push((id, true)),
            },
            Lookup::NotFound => stale.push((id, false)),
        }
    }
    if !stale.is_empty() {
        let mut groups = Vec::with_capacity(stale.len());
        for (id, _) in &stale {
            let scenes = scenes_of.get(id.as_str()).cloned().unwrap_or_default();
            let mirrored = store.mirrored_scenes(&scenes).unwrap_or_default();
            groups.push(mirrored.iter().flat_map(|s| s.files.iter().flat_map(|f| f.fingerprints.clone())).collect());
        }
        let candidates = client.scenes_by_fingerprints(&groups)?;
        for ((id, deleted), candidates) in stale.into_iter().zip(candidates) {
            let answer = if deleted { Answer::Deleted(candidates) } else { Answer::NotFound(candidates) };
            answers.push((id, answer));
        }
    }
    Ok(answers)
}

/// A tag a scene would get.
#[derive(Debug, Clone)]
pub struct Addition {
    /// The local tag.
    pub tag_id: i64,
    /// How it matched.
    pub how: TagMatch,
    /// The stash-box tag's name.
    pub scraped: String,
}

/// Whether `id` has the shape of a stash-box id: a UUID, 8-4-4-4-12 hex digits.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// The plan a sync proposes, and what it saw on the way.
#[derive(Debug, Default, Serialize)]
pub struct Proposal {
    /// The ADD changes.
    #[serde(skip)]
    pub changes: Vec<NewChange>,
    /// Per scene, in order: the tags it would get.
    #[serde(skip)]
    pub additions: Vec<(i64, Vec<Addition>)>,
    /// Scenes that would get at least one tag.
    pub scenes_to_update: u64,
    /// Scenes that already have every matched tag.
    pub scenes_unchanged: u64,
    /// Scenes skipped: their stash-box scene is deleted (StashIDs listed in `stale`).
    pub skipped_deleted: u64,
    /// Scenes skipped: their StashID is unknown to the stash-box.
    pub skipped_not_found: u64,
    /// Scenes whose stash-box scene was merged: followed to the surviving scene.
    pub followed_merges: u64,
    /// Scenes skipped because their lookup failed in this run.
    pub skipped_errors: u64,
    /// Tags that would be added.
    pub tags_to_add: u64,
    /// Stash-box tags with no local match: name → scenes that would get it if it existed.
    pub unmatched: BTreeMap<String, u64>,
    /// Stash-box tags dropped by exclusions or the blacklist: name → scenes.
    pub excluded: BTreeMap<String, u64>,
    /// Stale StashIDs: deleted or merged stash-box scenes, with what they match now.
    pub stale: Vec<Value>,
    /// Merged StashIDs the plan replaces by the surviving scene's (`syncFixMergedStashIds`).
    pub stash_ids_to_fix: u64,
}

/// A change replacing `old` by `into` among the scene's StashIDs on `endpoint`.
fn replace_stash_id(scene: &crate::stash::Scene, endpoint: &str, old: &str, into: &str) -> NewChange {
    let before = crate::plans::stash_ids_value(&scene.stash_ids);
    let replaced: Vec<crate::stash::StashId> = scene
        .stash_ids
        .iter()
        .map(|id| match id.endpoint == endpoint && id.stash_id == old {
            true => crate::stash::StashId { stash_id: into.to_owned(), ..id.clone() },
            false => id.clone(),
        })
        .collect();
    NewChange {
        entity: ObjectKind::Scene,
        entity_id: Some(scene.id),
        field: Field::StashIds,
        action: Action::Set,
        value: crate::plans::stash_ids_value(&replaced),
        before,
        reason: format!("stash-box scene {old} was merged into {into}"),
        confidence: 1.0,
        status: ChangeStatus::Pending,
    }
}

/// Matches each linked scene's stash-box tags to local tags and proposes the missing ones.
/// `failed` scenes (lookup failed this run) are skipped. With `fix_merged`, a StashID whose
/// stash-box scene was merged is replaced by the surviving scene's.
pub fn propose(
    store: &Store,
    endpoint: &str,
    linked: &[(i64, String)],
    matcher: &TagMatcher,
    failed: &HashSet<i64>,
    fix_merged: bool,
) -> anyhow::Result<Proposal> {
    let mut proposal = Proposal::default();
    let mut order: Vec<i64> = Vec::new();
    let mut stash_ids_of: HashMap<i64, Vec<&str>> = HashMap::new();
    for (scene, stash_id) in linked {
        if !stash_ids_of.contains_key(scene) {
            order.push(*scene);
        }
        stash_ids_of.entry(*scene).or_default().push(stash_id);
    }
    for chunk in order.chunks(500) {
        for scene in store.mirrored_scenes(chunk)? {
            if failed.contains(&scene.id) {
                proposal.skipped_errors += 1;
                continue;
            }
            let mut tags = Vec::new();
            let mut trusted = false;
            for stash_id in stash_ids_of.get(&scene.id).into_iter().flatten() {
                let answer = store.answer(endpoint, stash_id)?;
                match &answer {
                    Some(Answer::Merged { into, .. }) => {
                        proposal.followed_merges += 1;
                        proposal.stale.push(json!({"scene_id": scene.id, "stash_id": stash_id, "merged_into": into}));
                        if fix_merged {
                            proposal.changes.push(replace_stash_id(&scene, endpoint, stash_id, into));
                            proposal.stash_ids_to_fix += 1;
                        }
                    }
                    Some(Answer::Deleted(now)) => {
                        proposal.stale.push(json!({"scene_id": scene.id, "stash_id": stash_id, "deleted": true, "fingerprints_match": now}));
                    }
                    Some(Answer::NotFound(now)) => {
                        proposal.stale.push(json!({"scene_id": scene.id, "stash_id": stash_id, "not_found": true, "fingerprints_match": now}));
                    }
                    _ => {}
                }
                if let Some(found) = answer.as_ref().and_then(Answer::tags) {
                    trusted = true;
                    tags.extend(found.iter().cloned());
                } else if matches!(answer, Some(Answer::NotFound(_))) {
                    proposal.skipped_not_found += u64::from(stash_ids_of[&scene.id].len() == 1);
                } else if answer.is_some() {
                    proposal.skipped_deleted += u64::from(stash_ids_of[&scene.id].len() == 1);
                }
            }
            if !trusted {
                continue;
            }
            let mut added: Vec<Addition> = Vec::new();
            let mut unmatched_here = HashSet::new();
            for tag in &tags {
                let found = matcher.find(&tag.id, &tag.name);
                match found.tag_id() {
                    Some(id) if !scene.tag_ids.contains(&id) && !added.iter().any(|a| a.tag_id == id) => {
                        added.push(Addition { tag_id: id, how: found, scraped: tag.name.clone() });
                    }
                    Some(_) => {}
                    None if found == TagMatch::Excluded => {
                        if unmatched_here.insert(tag.name.clone()) {
                            *proposal.excluded.entry(tag.name.clone()).or_default() += 1;
                        }
                    }
                    None => {
                        if unmatched_here.insert(tag.name.clone()) {
                            *proposal.unmatched.entry(tag.name.clone()).or_default() += 1;
                        }
                    }
                }
            }
            if added.is_empty() {
                proposal.scenes_unchanged += 1;
                continue;
            }
            proposal.scenes_to_update += 1;
            proposal.tags_to_add += added.len() as u64;
            for Addition { tag_id, how, scraped } in &added {
                proposal.changes.push(NewChange {
                    entity: ObjectKind::Scene,
                    entity_id: Some(scene.id),
                    field: Field::Tags,
                    action: Action::Add,
                    value: json!(tag_id),
                    before: json!(scene.tag_ids),
                    reason: how.reason(scraped),
                    confidence: 1.0,
                    status: ChangeStatus::Pending,
                });
            }
            proposal.additions.push((scene.id, added));
        }
    }
    Ok(proposal)
}
