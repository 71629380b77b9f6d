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

/// How long a lasting verdict (deleted, merged into X, unknown id) is trusted before the
/// stash-box is asked again. A stash-box never undoes a merge nor reuses an id, but a moderator
/// can restore a deleted scene: a month keeps re-runs cheap and such a rare case still heard.
const RECHECK_LASTING_DAYS: f64 = 30.0;

/// How many merges of merges a follow-up walks before calling the scene deleted.
const MERGE_STEPS: usize = 5;

/// What the lookups did.
#[derive(Debug, Default, Serialize)]
pub struct LookupReport {
    /// StashIDs asked about in this run.
    pub looked_up: u64,
    /// StashIDs skipped because a recent answer was recorded (resume, `syncMinAgeHours`).
    pub answered_recently: u64,
    /// StashIDs not asked again because the stash-box said, in the last 30 days, they are
    /// deleted or unknown (merged ones are asked through the scene they were merged into).
    pub remembered_stale: u64,
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

/// Asks the stash-box about each StashID in `linked` (scene id, StashID; oldest edit first)
/// that has no answer since `fresh_since`, and records the answers.
///
/// First the live lookups, 40 a request; what they turn up (deleted scenes to follow through
/// their merges, survivors to look up, fingerprints of scenes that no longer resolve) is
/// gathered across the whole run and asked 40 to a request too, kind by kind. Per StashID only
/// an index into `linked` is kept, so memory stays small on a big library.
pub fn look_up(
    store: &Store,
    client: &StashBoxClient,
    endpoint: &str,
    linked: &[(i64, String)],
    fresh_since: &str,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<LookupReport> {
    let lasting = store.lasting_verdicts(endpoint, &store.hours_ago(RECHECK_LASTING_DAYS * 24.0)?)?;
    let mut by_stash_id: Vec<u32> = (0..linked.len() as u32).collect();
    by_stash_id.sort_unstable_by(|a, b| linked[*a as usize].1.cmp(&linked[*b as usize].1).then(a.cmp(b)));
    let mut lookups = Lookups { store, client, endpoint, linked, by_stash_id, report: LookupReport::default() };
    // What to ask: each linked StashID at its first scene, unless answered recently or known
    // stale; for one known merged, the scene it was merged into (after the linked ones).
    let mut ask: Vec<Asked<'_>> = Vec::new();
    let mut merged_into: HashMap<&str, Vec<&str>> = HashMap::new();
    for group in lookups.by_stash_id.chunk_by(|a, b| linked[*a as usize].1 == linked[*b as usize].1) {
        let first = group[0] as usize;
        let stash_id = linked[first].1.as_str();
        if store.answered_since(endpoint, stash_id, fresh_since)? {
            lookups.report.answered_recently += 1;
            continue;
        }
        match lasting.get(stash_id) {
            Some(Answer::Merged { into, .. }) => merged_into.entry(into.as_str()).or_default().push(stash_id),
            Some(_) => lookups.report.remembered_stale += 1,
            None => ask.push(Asked { first, id: stash_id, itself: true }),
        }
    }
    ask.sort_unstable_by_key(|a| a.id);
    let mut survivors: Vec<Asked<'_>> = Vec::new();
    for into in merged_into.keys() {
        if ask.binary_search_by_key(into, |a| a.id).is_err() {
            survivors.push(Asked { first: usize::MAX, id: into, itself: false });
        }
    }
    ask.extend(survivors);
    ask.sort_unstable_by_key(|a| (a.first, a.id));
    let total = ask.len() as u64;
    let mut followups = Followups::default();
    for (i, batch) in ask.chunks(BATCH).enumerate() {
        lookups.live(batch, &merged_into, &mut followups)?;
        progress(((i * BATCH + batch.len()) as u64).min(total), total);
    }
    lookups.report.looked_up = ask.iter().map(|a| u64::from(a.itself)).sum::<u64>()
        + merged_into.values().map(|from| from.len() as u64).sum::<u64>();
    lookups.follow_merges(followups.merged, &mut followups.stale)?;
    lookups.fingerprints(followups.stale)?;
    Ok(lookups.report)
}

/// A StashID to look up.
#[derive(Debug, Clone, Copy)]
struct Asked<'a> {
    /// Its first row in `linked` (`usize::MAX` when only scenes merged into it are linked).
    first: usize,
    /// The stash-box scene.
    id: &'a str,
    /// Whether it is linked itself (else it answers only for the scenes merged into it).
    itself: bool,
}

/// Follow-ups the live lookups turned up, asked after them, 40 to a request.
#[derive(Default)]
struct Followups {
    /// (linked StashID, the deleted scene to follow from).
    merged: Vec<(String, String)>,
    /// (linked StashID, deleted — else unknown): what its fingerprints match now.
    stale: Vec<(String, bool)>,
}

/// One run's lookups: where answers go, and what failed.
struct Lookups<'a> {
    store: &'a Store,
    client: &'a StashBoxClient,
    endpoint: &'a str,
    linked: &'a [(i64, String)],
    /// Indexes into `linked`, sorted by StashID.
    by_stash_id: Vec<u32>,
    report: LookupReport,
}

impl Lookups<'_> {
    /// The local scenes linked to `stash_id`.
    fn scenes_of(&self, stash_id: &str) -> Vec<i64> {
        let row = |i: &u32| self.linked[*i as usize].1.as_str();
        let start = self.by_stash_id.partition_point(|i| row(i) < stash_id);
        self.by_stash_id[start..]
            .iter()
            .take_while(|i| row(i) == stash_id)
            .map(|i| self.linked[*i as usize].0)
            .collect()
    }

    /// Records a failed request about `stash_ids`: an auth error stops the run, anything else
    /// skips those scenes until the next run.
    fn failed<'s>(&mut self, stash_ids: impl IntoIterator<Item = &'s str>, e: ApiError) -> anyhow::Result<()> {
        if matches!(e, ApiError::Auth { .. }) {
            return Err(e).context("the stash-box stopped accepting our key");
        }
        let scenes: Vec<i64> = stash_ids.into_iter().flat_map(|id| self.scenes_of(id)).collect();
        log::error!(
            "stash-box lookup of {} scenes failed, they are skipped and asked again next run: {e}",
            scenes.len()
        );
        self.report.failed_batches.push(FailedBatch { scenes, error: e.to_string() });
        Ok(())
    }

    /// One request of live lookups; records what it settles, queues what needs a follow-up.
    fn live<'a>(
        &mut self,
        batch: &[Asked<'a>],
        merged_into: &HashMap<&'a str, Vec<&'a str>>,
        followups: &mut Followups,
    ) -> anyhow::Result<()> {
        // Whose answer each asked id gives: its own when linked, the scenes merged into it.
        let origins = |asked: &Asked<'a>| -> Vec<(&'a str, bool)> {
            let itself = asked.itself.then_some((asked.id, false));
            let from = merged_into.get(asked.id).into_iter().flatten().map(|old| (*old, true));
            itself.into_iter().chain(from).collect()
        };
        // stash-box ids are UUIDs, and one that is not fails the whole request: never send it.
        let (ids, malformed): (Vec<&Asked<'a>>, Vec<&Asked<'a>>) = batch.iter().partition(|a| is_uuid(a.id));
        for asked in &malformed {
            log::warn!("StashID {:?} is not a stash-box id (not a UUID); reported as not found", asked.id);
        }
        let sent: Vec<String> = ids.iter().map(|a| a.id.to_owned()).collect();
        let lookups = match self.client.scenes(&sent) {
            Ok(lookups) => lookups,
            Err(e) => {
                let failed: Vec<&str> = batch.iter().flat_map(|a| origins(a).into_iter().map(|(id, _)| id)).collect();
                return self.failed(failed, e);
            }
        };
        let malformed = malformed.into_iter().map(|asked| (asked, Lookup::NotFound));
        let mut answers = Vec::new();
        for (asked, lookup) in ids.into_iter().zip(lookups).chain(malformed) {
            for (origin, merged) in origins(asked) {
                match (&lookup, merged) {
                    (Lookup::Found(scene), false) => {
                        answers.push((origin.to_owned(), Answer::Found(scene.tags.clone())));
                    }
                    (Lookup::Found(scene), true) => answers.push((
                        origin.to_owned(),
                        Answer::Merged { into: asked.id.to_owned(), tags: scene.tags.clone() },
                    )),
                    // Deleted: follow its merges (a survivor was merged on since).
                    (Lookup::Deleted, _) => followups.merged.push((origin.to_owned(), asked.id.to_owned())),
                    (Lookup::NotFound, merged) => followups.stale.push((origin.to_owned(), merged)),
                }
            }
        }
        self.store.record_answers(self.endpoint, &answers)?;
        Ok(())
    }

    /// Follows deleted scenes through the MERGE edits that consumed them (a step of every chain
    /// per round), then looks up the survivors; what was not merged goes to `stale`.
    fn follow_merges(
        &mut self,
        mut queue: Vec<(String, String)>,
        stale: &mut Vec<(String, bool)>,
    ) -> anyhow::Result<()> {
        let mut survivors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for _ in 0..MERGE_STEPS {
            let mut next = Vec::new();
            for batch in queue.chunks(BATCH) {
                let from: Vec<String> = batch.iter().map(|(_, current)| current.clone()).collect();
                match self.client.merged_into(&from) {
                    Ok(targets) => {
                        for ((origin, _), target) in batch.iter().zip(targets) {
                            match target {
                                Some((into, false)) => survivors.entry(into).or_default().push(origin.clone()),
                                Some((into, true)) => next.push((origin.clone(), into)),
                                None => stale.push((origin.clone(), true)),
                            }
                        }
                    }
                    Err(e) => self.failed(batch.iter().map(|(origin, _)| origin.as_str()), e)?,
                }
            }
            queue = next;
        }
        stale.extend(queue.into_iter().map(|(origin, _)| (origin, true)));
        let survivors: Vec<(String, Vec<String>)> = survivors.into_iter().collect();
        for batch in survivors.chunks(BATCH) {
            let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
            let lookups = match self.client.scenes(&ids) {
                Ok(lookups) => lookups,
                Err(e) => {
                    self.failed(batch.iter().flat_map(|(_, origins)| origins.iter().map(String::as_str)), e)?;
                    continue;
                }
            };
            let mut answers = Vec::new();
            for ((into, origins), lookup) in batch.iter().zip(lookups) {
                for origin in origins {
                    match &lookup {
                        Lookup::Found(survivor) => {
                            // Reported once for all of them, by local scene, after the lookups.
                            log::debug!("stash-box scene {origin} was merged into {into}");
                            answers.push((
                                origin.clone(),
                                Answer::Merged { into: into.clone(), tags: survivor.tags.clone() },
                            ));
                        }
                        _ => stale.push((origin.clone(), true)),
                    }
                }
            }
            self.store.record_answers(self.endpoint, &answers)?;
        }
        Ok(())
    }

    /// What the files of scenes whose StashID no longer resolves match now, 40 scenes a request.
    fn fingerprints(&mut self, stale: Vec<(String, bool)>) -> anyhow::Result<()> {
        for batch in stale.chunks(BATCH) {
            let mut groups = Vec::with_capacity(batch.len());
            for (id, _) in batch {
                let mirrored = self.store.mirrored_scenes(&self.scenes_of(id))?;
                groups
                    .push(mirrored.iter().flat_map(|s| s.files.iter().flat_map(|f| f.fingerprints.clone())).collect());
            }
            let candidates = match self.client.scenes_by_fingerprints(&groups) {
                Ok(candidates) => candidates,
                Err(e) => {
                    self.failed(batch.iter().map(|(id, _)| id.as_str()), e)?;
                    continue;
                }
            };
            let answers: Vec<(String, Answer)> = batch
                .iter()
                .zip(candidates)
                .map(|((id, deleted), now)| {
                    (id.clone(), if *deleted { Answer::Deleted(now) } else { Answer::NotFound(now) })
                })
                .collect();
            self.store.record_answers(self.endpoint, &answers)?;
        }
        Ok(())
    }
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
    /// The first [`KEPT_ADDITIONS`] scenes, in order, with the tags each would get (the plan
    /// has them all).
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

/// Scenes whose additions a [`Proposal`] keeps for the log.
pub const KEPT_ADDITIONS: usize = 200;

/// Scenes matched per part of the plan: a part is stored before the next is made, so memory
/// stays flat however large the library.
const SCENES_PER_PART: usize = 500;

/// Matches each linked scene's stash-box tags to local tags and proposes the missing ones, a
/// part (of [`SCENES_PER_PART`] scenes) at a time: iterate it to get the changes, then read
/// what it saw with [`Proposing::finish`]. `failed` scenes (lookup failed this run) are
/// skipped. With `fix_merged`, a StashID whose stash-box scene was merged is replaced by the
/// surviving scene's.
pub struct Proposing<'a> {
    store: &'a Store,
    endpoint: &'a str,
    matcher: &'a TagMatcher,
    failed: &'a HashSet<i64>,
    fix_merged: bool,
    /// The linked scenes, grouped by scene in the order they came.
    linked: &'a [(i64, String)],
    /// Where the next part starts in `linked`.
    next: usize,
    proposal: Proposal,
}

impl<'a> Proposing<'a> {
    /// Starts proposing for `linked` (scene id, StashID), as [`Store::scenes_linked_to`] lists
    /// them.
    pub fn new(
        store: &'a Store,
        endpoint: &'a str,
        linked: &'a [(i64, String)],
        matcher: &'a TagMatcher,
        failed: &'a HashSet<i64>,
        fix_merged: bool,
    ) -> Self {
        Proposing { store, endpoint, matcher, failed, fix_merged, linked, next: 0, proposal: Proposal::default() }
    }

    /// What the sync saw, once every part was taken.
    pub fn finish(self) -> Proposal {
        self.proposal
    }

    /// The next part's changes.
    fn part(&mut self) -> Result<Vec<NewChange>, crate::store::StoreError> {
        // A part ends at a scene boundary, so a scene's StashIDs are seen together.
        let mut order: Vec<i64> = Vec::new();
        let mut stash_ids_of: HashMap<i64, Vec<&str>> = HashMap::new();
        while let Some((scene, stash_id)) = self.linked.get(self.next) {
            if !stash_ids_of.contains_key(scene) {
                if order.len() == SCENES_PER_PART {
                    break;
                }
                order.push(*scene);
            }
            stash_ids_of.entry(*scene).or_default().push(stash_id);
            self.next += 1;
        }
        let mut changes = Vec::new();
        for scene in self.store.mirrored_scenes(&order)? {
            self.scene(&scene, &stash_ids_of[&scene.id], &mut changes)?;
        }
        Ok(changes)
    }

    /// One scene: what its StashIDs' answers say, and the tags it would get.
    fn scene(
        &mut self,
        scene: &crate::stash::Scene,
        stash_ids: &[&str],
        changes: &mut Vec<NewChange>,
    ) -> Result<(), crate::store::StoreError> {
        let (store, endpoint, matcher) = (self.store, self.endpoint, self.matcher);
        let proposal = &mut self.proposal;
        if self.failed.contains(&scene.id) {
            proposal.skipped_errors += 1;
            return Ok(());
        }
        let mut tags = Vec::new();
        let mut trusted = false;
        for stash_id in stash_ids {
            let answer = store.answer(endpoint, stash_id)?;
            match &answer {
                Some(Answer::Merged { into, .. }) => {
                    proposal.followed_merges += 1;
                    proposal.stale.push(json!({"scene_id": scene.id, "stash_id": stash_id, "merged_into": into}));
                    if self.fix_merged {
                        changes.push(replace_stash_id(scene, endpoint, stash_id, into));
                        proposal.stash_ids_to_fix += 1;
                    }
                }
                Some(Answer::Deleted(now)) => {
                    proposal.stale.push(
                        json!({"scene_id": scene.id, "stash_id": stash_id, "deleted": true, "fingerprints_match": now}),
                    );
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
                proposal.skipped_not_found += u64::from(stash_ids.len() == 1);
            } else if answer.is_some() {
                proposal.skipped_deleted += u64::from(stash_ids.len() == 1);
            }
        }
        if !trusted {
            return Ok(());
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
            return Ok(());
        }
        proposal.scenes_to_update += 1;
        proposal.tags_to_add += added.len() as u64;
        let before = json!(scene.tag_ids);
        for Addition { tag_id, how, scraped } in &added {
            changes.push(NewChange {
                entity: ObjectKind::Scene,
                entity_id: Some(scene.id),
                field: Field::Tags,
                action: Action::Add,
                value: json!(tag_id),
                before: before.clone(),
                reason: how.reason(scraped),
                confidence: 1.0,
                status: ChangeStatus::Pending,
            });
        }
        if proposal.additions.len() < KEPT_ADDITIONS {
            proposal.additions.push((scene.id, added));
        }
        Ok(())
    }
}

impl Iterator for Proposing<'_> {
    type Item = Result<Vec<NewChange>, crate::store::StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        (self.next < self.linked.len()).then(|| self.part())
    }
}
