//! The analyzer: reads what a scene's file path and title already say — studio, performers,
//! tags — and what its details should look like, and proposes it as changes with a confidence
//! and a reason. It never writes anything: the `analyze` task turns proposals into a plan that
//! the user reviews, applies and can roll back.
//!
//! Each detector is its own module and sees the scene and the [`Library`] (the mirror's
//! studios, performers and tags, indexed by key). Every detector must hold to two rules: never
//! propose what the scene already has, and propose nothing when two answers are equally good —
//! a wrong proposal costs the user more than a missed one. The optional [`ai`] detector only
//! works on what the rules left open, after them.

pub mod ai;
pub mod details;
pub mod performers;
pub mod studio;
pub mod tags;
pub mod text;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::plans::{Action, ChangeStatus, CreatedRef, Field, FileIndex, NewChange};
use crate::settings::{Detectors, Settings};
use crate::stash::ObjectKind;
use crate::stash::{Performer, Scene, Studio, Tag};
use crate::store::{Store, StoreError};
use text::NameIndex;

/// One thing a detector would change on a scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    /// The field.
    pub field: Field,
    /// ADD for list members, SET for values.
    pub action: Action,
    /// The id (studio, performer, tag) or text (details).
    pub value: Value,
    /// Why, in words a user checks quickly.
    pub reason: String,
    /// How sure, 0–1.
    pub confidence: f64,
}

impl Proposal {
    /// A proposal to add list member `id` to `field`.
    pub fn add(field: Field, id: i64, confidence: f64, reason: String) -> Self {
        Proposal { field, action: Action::Add, value: Value::from(id), reason, confidence }
    }

    /// The change a plan stores for it on `scene`, approved when at least `auto_approve` sure.
    pub(crate) fn into_change(self, scene: &Scene, auto_approve: Option<f64>) -> NewChange {
        let approved = auto_approve.is_some_and(|at| self.confidence >= at);
        NewChange {
            entity: ObjectKind::Scene,
            entity_id: Some(scene.id),
            field: self.field,
            action: self.action,
            before: self.field.current(scene),
            value: self.value,
            reason: self.reason,
            confidence: (self.confidence * 1000.0).round() / 1000.0,
            status: if approved { ChangeStatus::Approved } else { ChangeStatus::Pending },
        }
    }
}

/// The mirror's studios, performers and tags, indexed for matching.
#[derive(Debug, Clone, Default)]
pub struct Library {
    /// Studios by id.
    pub studios: HashMap<i64, Studio>,
    /// Performers by id.
    pub performers: HashMap<i64, Performer>,
    /// Tags by id.
    pub tags: HashMap<i64, Tag>,
    /// Studio names and aliases.
    pub studio_names: NameIndex,
    /// Performer names and aliases.
    pub performer_names: NameIndex,
    /// Tag names and aliases, without tags marked "ignore auto tag".
    pub tag_names: NameIndex,
    /// Close spellings of multi-word performer names: one-deletion variants → performer keys.
    pub performer_spellings: HashMap<String, Vec<String>>,
    /// Performer names and aliases written with a separator the performer reader splits at
    /// ("Mr and Mrs Jones", "Sam & Alex"): read in the whole text before it is split.
    pub performer_compounds: NameIndex,
}

impl Library {
    /// Indexes the mirror's objects.
    pub fn new(studios: Vec<Studio>, performers: Vec<Performer>, tags: Vec<Tag>) -> Self {
        let mut library = Library::default();
        for s in &studios {
            library.studio_names.add(s.id, &s.name, false);
            for alias in &s.aliases {
                library.studio_names.add(s.id, alias, true);
            }
        }
        for p in &performers {
            for (name, alias) in std::iter::once((&p.name, false)).chain(p.aliases.iter().map(|a| (a, true))) {
                library.performer_names.add(p.id, name, alias);
                if performers::parts(name).len() > 1 {
                    library.performer_compounds.add(p.id, name, alias);
                }
            }
        }
        for t in tags.iter().filter(|t| !t.ignore_auto_tag) {
            library.tag_names.add(t.id, &t.name, false);
            for alias in &t.aliases {
                library.tag_names.add(t.id, alias, true);
            }
        }
        for (key, owners) in library.performer_names.keys() {
            if key.chars().count() >= performers::MIN_FUZZY_KEY && owners.iter().any(|o| !o.alias && o.words >= 2) {
                for variant in text::deletions(key) {
                    library.performer_spellings.entry(variant).or_default().push(key.clone());
                }
            }
        }
        library.studios = studios.into_iter().map(|s| (s.id, s)).collect();
        library.performers = performers.into_iter().map(|p| (p.id, p)).collect();
        library.tags = tags.into_iter().map(|t| (t.id, t)).collect();
        library
    }

    /// A studio's name, for reasons and templates.
    pub fn studio_name(&self, id: i64) -> &str {
        self.studios.get(&id).map_or("?", |s| s.name.as_str())
    }

    /// A performer's name.
    pub fn performer_name(&self, id: i64) -> &str {
        self.performers.get(&id).map_or("?", |p| p.name.as_str())
    }

    /// A tag's name.
    pub fn tag_name(&self, id: i64) -> &str {
        self.tags.get(&id).map_or("?", |t| t.name.as_str())
    }

    /// Whether studio `ancestor` is above studio `id` in Stash's hierarchy (its parent, the
    /// parent's parent, …).
    pub(crate) fn studio_is_above(&self, ancestor: i64, id: i64) -> bool {
        let mut at = self.studios.get(&id).and_then(|s| s.parent_id);
        for _ in 0..16 {
            match at {
                Some(parent) if parent == ancestor => return true,
                Some(parent) => at = self.studios.get(&parent).and_then(|s| s.parent_id),
                None => return false,
            }
        }
        false
    }
}

/// What a scene's first file path says, split the way the detectors read it.
#[derive(Debug, Clone, Default)]
pub struct PathParts {
    /// Directory names, root first.
    pub folders: Vec<String>,
    /// The file name with its extension.
    pub file_name: String,
    /// The file name without its extension.
    pub stem: String,
}

impl PathParts {
    /// Splits a path written with `/` or `\` (Stash on Windows).
    pub fn of(path: &str) -> Self {
        let mut segments: Vec<&str> = path.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
        let file_name = segments.pop().unwrap_or_default().to_owned();
        let stem = match file_name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && (1..=4).contains(&ext.len()) => stem.to_owned(),
            _ => file_name.clone(),
        };
        PathParts { folders: segments.into_iter().map(str::to_owned).collect(), file_name, stem }
    }
}

/// A problem with the user's analysis settings.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A studio rule is not `regex => Studio Name`, or its regex does not compile.
    #[error("studio rules line {line:?}: {reason}")]
    BadRule {
        /// The line as written.
        line: String,
        /// What is wrong.
        reason: String,
    },
}

/// Everything the detectors need for a run: the library, the compiled rules, the switches.
#[derive(Debug)]
pub struct Analyzer {
    /// The library.
    pub library: Library,
    /// Which detectors run.
    pub detectors: Detectors,
    /// The user's studio rules.
    pub studio_rules: Vec<studio::Rule>,
    /// The details template, if any.
    pub details_template: Option<String>,
    /// Proposals less sure than this are dropped.
    pub min_confidence: f64,
    /// Warnings about the settings (rules naming unknown studios).
    pub warnings: Vec<String>,
}

impl Analyzer {
    /// An analyzer for `library` with the user's settings.
    pub fn new(library: Library, settings: &Settings) -> Result<Self, SetupError> {
        let (studio_rules, warnings) = studio::parse_rules(settings.studio_rules.as_deref().unwrap_or(""), &library)?;
        Ok(Analyzer {
            library,
            detectors: settings.analyze,
            studio_rules,
            details_template: settings.details_template.clone(),
            min_confidence: settings.analysis_min_confidence,
            warnings,
        })
    }

    /// The performer to create for `scene` when `analyzePerformersCreateMissing` is on and a creator
    /// folder names someone Stash does not have (see [`performers::unknown_creator`]).
    pub(crate) fn new_performer(&self, scene: &Scene) -> Option<String> {
        let on = self.detectors.performers
            && self.detectors.create_missing_performers
            && performers::NEW_PERFORMER >= self.min_confidence;
        let path = PathParts::of(&scene.files.first()?.path);
        on.then(|| performers::unknown_creator(&path, &self.library)).flatten()
    }

    /// What the detectors propose for `scene`, at least `min_confidence` sure; names that look
    /// like performers but match nobody go to `unmatched`.
    pub fn scene(&self, scene: &Scene, unmatched: &mut Vec<String>) -> Vec<Proposal> {
        let path = scene.files.first().map(|f| PathParts::of(&f.path)).unwrap_or_default();
        let mut proposals = Vec::new();
        if self.detectors.studios {
            proposals.extend(studio::detect(scene, &path, &self.library, &self.studio_rules));
        }
        if self.detectors.performers {
            proposals.extend(performers::detect(scene, &path, &self.library, unmatched));
        }
        if self.detectors.tags {
            proposals.extend(tags::detect(scene, &path, &self.library));
        }
        proposals.retain(|p| p.confidence >= self.min_confidence);
        if self.detectors.details {
            let template = self.details_template.as_deref();
            proposals.extend(
                details::detect(scene, &proposals, &self.library, template)
                    .filter(|p| p.confidence >= self.min_confidence),
            );
        }
        proposals
    }
}

/// What analyzing a set of scenes produced.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The changes for the plan, scene by scene.
    pub changes: Vec<NewChange>,
    /// How many scenes were read.
    pub scenes: usize,
    /// How many scenes got at least one change.
    pub scenes_with_changes: usize,
    /// Counts for the summary.
    pub tally: Tally,
    /// Scenes the rules left without a studio or performers, with what they settled and the
    /// tags they proposed: the AI's work, when it is on.
    pub open: Vec<(Scene, ai::Settled, Vec<i64>)>,
    /// Performers to create, by name key: the index of their CREATE in `changes`.
    pub new_performers: BTreeMap<String, FileIndex>,
}

impl Analysis {
    /// The index in `changes` of the CREATE of performer `name`: added the first time the name
    /// comes up, so every scene of one person refers to the same new performer.
    fn create_performer(&mut self, name: &str, auto_approve: Option<f64>) -> FileIndex {
        let key = text::key(name);
        if let Some(index) = self.new_performers.get(&key) {
            return *index;
        }
        let approved = auto_approve.is_some_and(|at| performers::NEW_PERFORMER >= at);
        self.changes.push(NewChange {
            entity: ObjectKind::Performer,
            entity_id: None,
            field: Field::Name,
            action: Action::Create,
            value: name.into(),
            before: Value::Null,
            reason: format!("creator folder \"{name}\" names a performer Stash does not have"),
            confidence: performers::NEW_PERFORMER,
            status: if approved { ChangeStatus::Approved } else { ChangeStatus::Pending },
        });
        let index = FileIndex(self.changes.len() - 1);
        self.new_performers.insert(key, index);
        index
    }

    /// The names of the performers to create.
    pub(crate) fn new_performer_names(&self) -> Vec<&str> {
        self.new_performers.values().filter_map(|i| self.changes.get(i.0)?.value.as_str()).collect()
    }
}

/// Scenes read from the mirror at a time: memory stays flat at any library size.
const SCENES_PER_READ: usize = 500;

/// Runs the analyzer over the mirrored scenes `ids`; `progress(done, total)` after each page.
pub fn analyze_scenes(
    store: &Store,
    analyzer: &Analyzer,
    ids: &[i64],
    auto_approve: Option<f64>,
    keep_open: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<Analysis, StoreError> {
    let mut analysis = Analysis::default();
    for page in ids.chunks(SCENES_PER_READ) {
        for scene in store.mirrored_scenes(page)? {
            let mut unmatched = Vec::new();
            let mut proposals = analyzer.scene(&scene, &mut unmatched);
            if let Some(name) = analyzer.new_performer(&scene) {
                unmatched.retain(|n| n != &name);
                let index = analysis.create_performer(&name, auto_approve);
                proposals.push(Proposal {
                    field: Field::Performers,
                    action: Action::Add,
                    value: index.value(),
                    reason: format!("creator folder \"{name}\": a new performer"),
                    confidence: performers::NEW_PERFORMER,
                });
            }
            analysis.tally.count(&proposals, &unmatched);
            analysis.scenes += 1;
            let settled = ai::Settled::of(&scene, &proposals);
            if keep_open && settled.is_open() {
                let tags =
                    proposals.iter().filter(|p| p.field == Field::Tags).filter_map(|p| p.value.as_i64()).collect();
                analysis.open.push((scene.clone(), settled, tags));
            }
            if !proposals.is_empty() {
                analysis.scenes_with_changes += 1;
                for proposal in proposals {
                    log::debug!(
                        "scene {}: {} {} ({:.2}): {}",
                        scene.id,
                        proposal.field.as_str(),
                        proposal.value,
                        proposal.confidence,
                        proposal.reason
                    );
                    analysis.changes.push(proposal.into_change(&scene, auto_approve));
                }
            }
        }
        progress(analysis.scenes, ids.len());
    }
    Ok(analysis)
}

/// Asks the AI about the scenes the rules left open, batch by batch, after checking the cost
/// of the whole run; adds what it supports to `analysis`. `progress(done, total)` per batch.
pub(crate) fn consult_ai(
    client: &ai::AiClient,
    analysis: &mut Analysis,
    analyzer: &Analyzer,
    auto_approve: Option<f64>,
    mut progress: impl FnMut(usize, usize),
) -> Result<ai::AiReport, ai::AiError> {
    let open = std::mem::take(&mut analysis.open);
    let batches: Vec<Vec<(&Scene, ai::Settled, Vec<i64>)>> = open
        .chunks(ai::BATCH)
        .map(|chunk| chunk.iter().map(|(scene, settled, tags)| (scene, *settled, tags.clone())).collect())
        .collect();
    let requests: Vec<serde_json::Value> = batches
        .iter()
        .map(|batch| client.request(&batch.iter().map(|(s, _, _)| *s).collect::<Vec<_>>(), &analyzer.library))
        .collect();
    let (tokens, estimate) = client.check_cost(&requests)?;
    let mut report = ai::AiReport { estimated_tokens: tokens, estimated_cost_usd: estimate, ..ai::AiReport::default() };
    log::info!(
        "Asking the AI about {} scene(s) in {} request(s), estimated ${estimate:.4}",
        open.len(),
        requests.len()
    );
    let mut with_changes: std::collections::HashSet<i64> =
        analysis.changes.iter().filter_map(|c| c.entity_id).collect();
    for (n, (batch, request)) in batches.iter().zip(&requests).enumerate() {
        report.scenes_sent += batch.len();
        match client.ask(request) {
            Ok(answer) => {
                report.requests += 1;
                report.prompt_tokens += answer.prompt_tokens;
                report.completion_tokens += answer.completion_tokens;
                let mut by_scene: Vec<(i64, Vec<Proposal>)> = Vec::new();
                for (scene_id, proposal) in ai::read_answer(&answer.text, batch, &analyzer.library, &mut report) {
                    if proposal.confidence < analyzer.min_confidence {
                        continue;
                    }
                    match by_scene.last_mut() {
                        Some((id, list)) if *id == scene_id => list.push(proposal),
                        _ => by_scene.push((scene_id, vec![proposal])),
                    }
                }
                for (scene_id, proposals) in by_scene {
                    let Some((scene, _, _)) = batch.iter().find(|(s, _, _)| s.id == scene_id) else { continue };
                    analysis.tally.count(&proposals, &[]);
                    report.proposals += proposals.len();
                    if with_changes.insert(scene_id) {
                        analysis.scenes_with_changes += 1;
                    }
                    for proposal in proposals {
                        log::debug!(
                            "scene {scene_id}: AI {} {} ({:.2})",
                            proposal.field.as_str(),
                            proposal.value,
                            proposal.confidence
                        );
                        analysis.changes.push(proposal.into_change(scene, auto_approve));
                    }
                }
            }
            Err(e) => {
                report.failed_requests += 1;
                log::warn!("AI request {} of {} failed: {e}", n + 1, requests.len());
                if let ai::AiError::Endpoint { fatal: true, .. } = e {
                    report.error = Some(e.to_string());
                    break;
                }
                report.error.get_or_insert_with(|| e.to_string());
            }
        }
        progress(n + 1, requests.len());
    }
    report.cost_usd = client.cost(report.prompt_tokens, report.completion_tokens);
    Ok(report)
}

/// Counts a run's proposals the way the summary shows them.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    /// Proposals per field.
    pub by_field: BTreeMap<Field, usize>,
    /// Proposals per confidence band (`0.95+`, `0.85-0.95`, `0.7-0.85`, `below 0.7`).
    pub by_confidence: BTreeMap<&'static str, usize>,
    /// Names that looked like performers but matched nobody, and how often.
    pub unmatched_names: HashMap<String, usize>,
}

impl Tally {
    /// Counts one scene's proposals and unmatched names.
    pub fn count(&mut self, proposals: &[Proposal], unmatched: &[String]) {
        for p in proposals {
            *self.by_field.entry(p.field).or_default() += 1;
            *self.by_confidence.entry(band(p.confidence)).or_default() += 1;
        }
        for name in unmatched {
            *self.unmatched_names.entry(name.clone()).or_default() += 1;
        }
    }

    /// The `n` unmatched names seen most often, most frequent first.
    pub(crate) fn top_unmatched(&self, n: usize) -> Vec<(String, usize)> {
        let mut names: Vec<(String, usize)> = self.unmatched_names.iter().map(|(k, v)| (k.clone(), *v)).collect();
        names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        names.truncate(n);
        names
    }
}

fn band(confidence: f64) -> &'static str {
    match confidence {
        c if c >= 0.95 => "0.95+",
        c if c >= 0.85 => "0.85-0.95",
        c if c >= 0.7 => "0.7-0.85",
        _ => "below 0.7",
    }
}

/// Picks the one best candidate: the highest confidence, or nothing when two different ids
/// share it (a tie is a question for the user, not a guess).
pub(crate) fn unique_best(candidates: &[(i64, f64, String)]) -> Option<&(i64, f64, String)> {
    let best = candidates.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let tied = candidates.iter().any(|c| c.0 != best.0 && (c.1 - best.1).abs() < 1e-9);
    (!tied).then_some(best)
}

#[cfg(test)]
pub(crate) mod tests {
    //! A small library the detectors' unit tests share.

    use super::*;
    use crate::stash::SceneFile;

    fn studio(id: i64, name: &str, aliases: &[&str]) -> Studio {
        Studio {
            id,
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            parent_id: None,
            updated_at: String::new(),
            stash_ids: vec![],
        }
    }

    fn performer(id: i64, name: &str, aliases: &[&str]) -> Performer {
        Performer {
            id,
            name: name.into(),
            disambiguation: None,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            urls: vec![],
            updated_at: String::new(),
            stash_ids: vec![],
        }
    }

    fn tag(id: i64, name: &str, ignore_auto_tag: bool) -> Tag {
        Tag {
            id,
            name: name.into(),
            sort_name: None,
            aliases: vec![],
            ignore_auto_tag,
            updated_at: String::new(),
            stash_ids: vec![],
        }
    }

    /// Studios 1-3, performers 10-15, tags 20-25.
    pub fn library() -> Library {
        Library::new(
            vec![studio(1, "Sean Cody", &["SC"]), studio(2, "Colt", &[]), studio(3, "Men.com", &[])],
            vec![
                performer(10, "Brent Corrigan", &["The Kid"]),
                performer(11, "Jay Roberts", &[]),
                performer(12, "Madonna", &[]),
                performer(13, "Émilie Brûlée", &[]),
                performer(14, "Ashley Lane", &[]),
                performer(15, "Ashlee Lane", &[]),
            ],
            vec![
                tag(20, "Outdoor", false),
                tag(21, "Pool", false),
                tag(22, "1080p", false),
                tag(23, "Ignored", true),
                tag(24, "60fps", false),
                tag(25, "Cody", false),
            ],
        )
    }

    /// A scene with one file at `path` and nothing else known.
    pub(crate) fn scene_at(path: &str) -> Scene {
        Scene { id: 1, files: vec![SceneFile { path: path.into(), ..SceneFile::default() }], ..Scene::default() }
    }
}
