//! The analyzer's labelled evaluation sets and their scoring: precision and recall per detector,
//! per class of case and per confidence band, so quality is measured rather than assumed.
//!
//! Two sets, kept apart on purpose: the development set (`tests/data/analyze_eval.json`), which
//! the detectors were tuned on, and the held-out set (`tests/data/analyze_heldout.json`), written
//! and labelled before the analyzer ever ran on it and never tuned on — its figures are the
//! honest ones. Scenes are chosen the way the `analyze` task chooses them (the mirror's scope:
//! organized scenes left out), then read by the analyzer with the default settings. Used by
//! `tests/analyze.rs` (floors) and `benches/analyze.rs` (the report).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use stashhog::analysis::{Analyzer, Library};
use stashhog::plans::Field;
use stashhog::settings::Settings;
use stashhog::stash::{Performer, Scene, SceneFile, Studio, Tag};
use stashhog::store::Store;
use stashhog::store::mirror::SceneScope;

/// The development set: tuned on.
pub const DEV: &str = include_str!("../data/analyze_eval.json");
/// The held-out set: never tuned on.
pub const HELD_OUT: &str = include_str!("../data/analyze_heldout.json");

/// Confidence bands for calibration, highest first: (label, lowest confidence in the band).
pub const BANDS: &[(&str, f64)] =
    &[("0.95-1.00", 0.95), ("0.90-0.95", 0.9), ("0.85-0.90", 0.85), ("0.80-0.85", 0.8), ("0.70-0.80", 0.7)];

/// True and false positives and false negatives.
#[derive(Debug, Default, Clone, Copy)]
pub struct Score {
    /// Right proposals.
    pub right: usize,
    /// Wrong proposals.
    pub wrong: usize,
    /// Labelled values not proposed.
    pub missed: usize,
}

impl Score {
    /// Right proposals among all proposals (1 when nothing was proposed).
    pub fn precision(&self) -> f64 {
        if self.right + self.wrong == 0 { 1.0 } else { self.right as f64 / (self.right + self.wrong) as f64 }
    }

    /// Labelled values that were proposed.
    pub fn recall(&self) -> f64 {
        if self.right + self.missed == 0 { 1.0 } else { self.right as f64 / (self.right + self.missed) as f64 }
    }

    fn add(&mut self, other: Score) {
        self.right += other.right;
        self.wrong += other.wrong;
        self.missed += other.missed;
    }
}

/// The scores of a run over a set.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Cases scored.
    pub cases: usize,
    /// The studio detector.
    pub studio: Score,
    /// The performer detector.
    pub performers: Score,
    /// The tag detector.
    pub tags: Score,
    /// All three together, per class of case (`note`): (cases, score).
    pub classes: BTreeMap<String, (usize, Score)>,
    /// All three together, per batch of cases (`batch`, 1 when absent): (cases, score).
    pub batches: BTreeMap<i64, (usize, Score)>,
    /// Proposals per confidence band (see [`BANDS`]): right and wrong.
    pub bands: BTreeMap<&'static str, Score>,
    /// Each wrong or missed value, with its case and (for a wrong one) the reason given.
    pub mistakes: Vec<String>,
}

impl Evaluation {
    /// All three detectors together.
    pub fn overall(&self) -> Score {
        let mut all = self.studio;
        all.add(self.performers);
        all.add(self.tags);
        all
    }
}

fn names(list: &Value) -> Vec<(String, Vec<String>, &Value)> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let aliases = v["aliases"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned);
            (v["name"].as_str().unwrap_or_default().to_owned(), aliases.collect(), v)
        })
        .collect()
}

/// The set's library: studios get ids from 1 (a `parent` names another studio), performers
/// from 1001, tags from 2001.
pub fn library(doc: &Value) -> (Vec<Studio>, Vec<Performer>, Vec<Tag>) {
    let studio_list = names(&doc["studios"]);
    let id_of: HashMap<&str, i64> =
        studio_list.iter().enumerate().map(|(i, (name, _, _))| (name.as_str(), 1 + i as i64)).collect();
    let studios = studio_list
        .iter()
        .enumerate()
        .map(|(i, (name, aliases, v))| Studio {
            id: 1 + i as i64,
            name: name.clone(),
            aliases: aliases.clone(),
            parent_id: v["parent"].as_str().and_then(|p| id_of.get(p).copied()),
            updated_at: String::new(),
            stash_ids: vec![],
        })
        .collect();
    let performers = names(&doc["performers"])
        .into_iter()
        .enumerate()
        .map(|(i, (name, aliases, _))| Performer {
            id: 1001 + i as i64,
            name,
            disambiguation: None,
            aliases,
            urls: vec![],
            updated_at: String::new(),
            stash_ids: vec![],
        })
        .collect();
    let tags = names(&doc["tags"])
        .into_iter()
        .enumerate()
        .map(|(i, (name, aliases, v))| Tag {
            id: 2001 + i as i64,
            name,
            sort_name: None,
            aliases,
            ignore_auto_tag: v["ignore_auto_tag"] == true,
            updated_at: String::new(),
            stash_ids: vec![],
        })
        .collect();
    (studios, performers, tags)
}

/// The scene a case describes: one file, a title, nothing assigned yet.
pub fn scene(id: i64, case: &Value) -> Scene {
    let height = case["height"].as_i64().unwrap_or(0);
    Scene {
        id,
        title: case["title"].as_str().map(str::to_owned),
        organized: case["organized"] == true,
        created_at: "2024-01-01T00:00:00Z".into(),
        updated_at: "2024-01-01T00:00:00Z".into(),
        files: vec![SceneFile {
            path: case["path"].as_str().unwrap_or_default().to_owned(),
            width: height * 16 / 9,
            height,
            duration: case["duration"].as_f64().unwrap_or(0.0),
            frame_rate: case["frame_rate"].as_f64().unwrap_or(0.0),
            ..SceneFile::default()
        }],
        ..Scene::default()
    }
}

fn band(confidence: f64) -> &'static str {
    BANDS.iter().find(|(_, low)| confidence >= *low - 1e-9).map_or("below 0.70", |(label, _)| label)
}

/// Runs the analyzer with `settings` (plus the set's studio rules) over every case of `data`
/// (one of [`DEV`], [`HELD_OUT`]), or only the cases whose `note` is `only`.
pub fn evaluate(data: &str, mut settings: Settings, only: Option<&str>) -> Evaluation {
    let doc: Value = serde_json::from_str(data).expect("the evaluation set is JSON");
    settings.studio_rules = doc["studio_rules"].as_str().map(str::to_owned);
    let (studios, performers, tags) = library(&doc);
    let cases: Vec<&Value> = doc["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|case| only.is_none_or(|note| case["note"] == note))
        .collect();
    let scenes: Vec<Scene> = cases.iter().enumerate().map(|(i, case)| scene(i as i64 + 1, case)).collect();

    // The task's own choice of scenes: what the mirror's default scope selects.
    let dir = std::env::temp_dir().join(format!(
        "stashhog-eval-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    ));
    let store = Store::open(&dir.join("db.sqlite")).expect("opens a scratch database");
    store
        .write_mirror(|w| {
            studios.iter().try_for_each(|s| w.put_studio(s, None))?;
            performers.iter().try_for_each(|p| w.put_performer(p, None))?;
            tags.iter().try_for_each(|t| w.put_tag(t, None))?;
            scenes.iter().try_for_each(|s| w.put_scene(s, None))
        })
        .expect("writes the set into the mirror");
    let selected: BTreeSet<i64> =
        store.scenes_in_scope(&SceneScope::default()).expect("selects scenes").into_iter().collect();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);

    let analyzer = Analyzer::new(Library::new(studios, performers, tags), &settings).expect("the set's rules parse");
    let lib = &analyzer.library;
    let proposed = scenes.iter().map(|scene| {
        let proposals = if selected.contains(&scene.id) { analyzer.scene(scene, &mut Vec::new()) } else { Vec::new() };
        proposals
            .into_iter()
            .filter_map(|p| {
                let id = p.value.as_i64()?;
                let name = match p.field {
                    Field::Studio => lib.studio_name(id),
                    Field::Performers => lib.performer_name(id),
                    Field::Tags => lib.tag_name(id),
                    _ => return None,
                };
                Some(Named { field: p.field, name: name.to_owned(), confidence: p.confidence, reason: p.reason })
            })
            .collect()
    });
    score(&cases, proposed)
}

/// What Stash's own Auto Tag would set on every case of `data`, by its documented rule
/// (stashapp/stash pkg/match/path.go, re-implemented here from its description, not its code):
/// a name or alias matches the lowercased path when its words appear in order separated by
/// any run of `.`, `-`, `_` or spaces (or nothing), with no letter or digit right before or
/// after; every matching performer and tag is set, and of the studios the one matching
/// furthest right in the path. Titles are not read, organized scenes are skipped, and tags
/// marked "ignore auto tag" are never set. For comparison in the bench only.
pub fn evaluate_auto_tag(data: &str) -> Evaluation {
    let doc: Value = serde_json::from_str(data).expect("the evaluation set is JSON");
    let (studios, performers, tags) = library(&doc);
    let cases: Vec<&Value> = doc["cases"].as_array().into_iter().flatten().collect();
    let pattern = |name: &str| {
        let words: Vec<String> = name.to_lowercase().split(' ').map(regex::escape).collect();
        regex::Regex::new(&format!(r"(?:^|[^\p{{L}}\d])({})(?:$|[^\p{{L}}\d])", words.join(r"[.\-_ ]*")))
            .expect("an escaped name is a valid pattern")
    };
    let names = |name: &String, aliases: &Vec<String>| -> Vec<regex::Regex> {
        std::iter::once(name).chain(aliases).map(|n| pattern(n)).collect()
    };
    let studio_patterns: Vec<(&str, Vec<regex::Regex>)> =
        studios.iter().map(|s| (s.name.as_str(), names(&s.name, &s.aliases))).collect();
    let performer_patterns: Vec<(&str, Vec<regex::Regex>)> =
        performers.iter().map(|p| (p.name.as_str(), names(&p.name, &p.aliases))).collect();
    let tag_patterns: Vec<(&str, Vec<regex::Regex>)> =
        tags.iter().filter(|t| !t.ignore_auto_tag).map(|t| (t.name.as_str(), names(&t.name, &t.aliases))).collect();
    let proposed = cases.iter().map(|case| {
        if case["organized"] == true {
            return Vec::new();
        }
        let path = case["path"].as_str().unwrap_or_default().to_lowercase();
        // The start of the right-most match of any of `patterns`, if one matches.
        let rightmost = |patterns: &[regex::Regex]| {
            patterns
                .iter()
                .filter_map(|re| re.captures_iter(&path).filter_map(|c| c.get(1)).last())
                .map(|m| m.start())
                .max()
        };
        let named = |field: Field, name: &str| Named {
            field,
            name: name.to_owned(),
            confidence: 1.0,
            reason: "Auto Tag".into(),
        };
        let mut out: Vec<Named> = Vec::new();
        if let Some((name, _)) = studio_patterns
            .iter()
            .filter_map(|(name, patterns)| rightmost(patterns).map(|at| (*name, at)))
            .max_by_key(|(_, at)| *at)
        {
            out.push(named(Field::Studio, name));
        }
        for (field, list) in [(Field::Performers, &performer_patterns), (Field::Tags, &tag_patterns)] {
            out.extend(
                list.iter().filter(|(_, patterns)| rightmost(patterns).is_some()).map(|(name, _)| named(field, name)),
            );
        }
        out
    });
    score(&cases, proposed)
}

/// One proposal, by the name of what it proposes.
struct Named {
    field: Field,
    name: String,
    confidence: f64,
    reason: String,
}

/// Scores what was proposed for each case against its labels.
fn score(cases: &[&Value], proposed: impl Iterator<Item = Vec<Named>>) -> Evaluation {
    let mut evaluation = Evaluation::default();
    for (case, proposals) in cases.iter().zip(proposed) {
        evaluation.cases += 1;
        let labelled = |key: &str| -> BTreeSet<String> {
            match &case[key] {
                Value::String(s) => BTreeSet::from([s.clone()]),
                Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                _ => BTreeSet::new(),
            }
        };
        let path = case["path"].as_str().unwrap_or_default();
        let class = case["note"].as_str().unwrap_or("other").to_owned();
        let mut case_score = Score::default();
        for (detector, field) in [("studio", Field::Studio), ("performers", Field::Performers), ("tags", Field::Tags)] {
            let want = labelled(detector);
            let mut score = Score::default();
            let mut got = BTreeSet::new();
            for p in proposals.iter().filter(|p| p.field == field) {
                let right = want.contains(&p.name);
                let in_band = evaluation.bands.entry(band(p.confidence)).or_default();
                if right {
                    score.right += 1;
                    in_band.right += 1;
                } else {
                    score.wrong += 1;
                    in_band.wrong += 1;
                    evaluation.mistakes.push(format!(
                        "{detector}: wrongly proposed {:?} ({:.2}: {}) for {path}",
                        p.name, p.confidence, p.reason
                    ));
                }
                got.insert(p.name.clone());
            }
            for missed in want.difference(&got) {
                score.missed += 1;
                evaluation.mistakes.push(format!("{detector}: missed {missed:?} for {path}"));
            }
            case_score.add(score);
            match field {
                Field::Studio => evaluation.studio.add(score),
                Field::Performers => evaluation.performers.add(score),
                _ => evaluation.tags.add(score),
            }
        }
        for entry in [
            evaluation.classes.entry(class).or_default(),
            evaluation.batches.entry(case["batch"].as_i64().unwrap_or(1)).or_default(),
        ] {
            entry.0 += 1;
            entry.1.add(case_score);
        }
    }
    evaluation
}
