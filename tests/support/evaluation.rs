//! The analyzer's labelled evaluation set (`tests/data/analyze_eval.json`) and its scoring:
//! precision and recall per detector, so quality is measured rather than assumed. Used by
//! `tests/analyze.rs` (a floor on precision) and `benches/analyze.rs` (the report).

use std::collections::BTreeSet;

use serde_json::Value;
use stashhog::analysis::{Analyzer, Library};
use stashhog::plans::Field;
use stashhog::settings::Settings;
use stashhog::stash::{Performer, Scene, SceneFile, Studio, Tag};

/// The evaluation set, as shipped.
pub const DATA: &str = include_str!("../data/analyze_eval.json");

/// True and false positives and false negatives of one detector.
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
}

/// The scores of a run over the whole set.
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
    /// Each wrong or missed value, with its case, for reading.
    pub mistakes: Vec<String>,
}

fn names(list: &Value) -> Vec<(String, Vec<String>, bool)> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let aliases = v["aliases"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned);
            (v["name"].as_str().unwrap_or_default().to_owned(), aliases.collect(), v["ignore_auto_tag"] == true)
        })
        .collect()
}

/// The set's library: studios get ids from 1, performers from 1001, tags from 2001.
pub fn library(doc: &Value) -> Library {
    let studios = names(&doc["studios"])
        .into_iter()
        .enumerate()
        .map(|(i, (name, aliases, _))| Studio {
            id: 1 + i as i64,
            name,
            aliases,
            parent_id: None,
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
        .map(|(i, (name, aliases, ignore_auto_tag))| Tag {
            id: 2001 + i as i64,
            name,
            sort_name: None,
            aliases,
            ignore_auto_tag,
            updated_at: String::new(),
            stash_ids: vec![],
        })
        .collect();
    Library::new(studios, performers, tags)
}

/// The scene a case describes: one file, a title, nothing assigned yet.
pub fn scene(id: i64, case: &Value) -> Scene {
    let height = case["height"].as_i64().unwrap_or(0);
    Scene {
        id,
        title: case["title"].as_str().map(str::to_owned),
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

/// Runs the analyzer with `settings` (plus the set's studio rules) over every case, or only
/// the cases whose `note` is `only`.
pub fn evaluate(mut settings: Settings, only: Option<&str>) -> Evaluation {
    let doc: Value = serde_json::from_str(DATA).expect("the evaluation set is JSON");
    settings.studio_rules = doc["studio_rules"].as_str().map(str::to_owned);
    let library = library(&doc);
    let analyzer = Analyzer::new(library, &settings).expect("the set's rules parse");
    let lib = &analyzer.library;
    let mut evaluation = Evaluation::default();
    for (i, case) in doc["cases"].as_array().into_iter().flatten().enumerate() {
        if only.is_some_and(|note| case["note"] != note) {
            continue;
        }
        evaluation.cases += 1;
        let scene = scene(i as i64 + 1, case);
        let proposals = analyzer.scene(&scene, &mut Vec::new());
        let proposed = |field: Field, name: &dyn Fn(i64) -> String| -> BTreeSet<String> {
            proposals.iter().filter(|p| p.field == field).filter_map(|p| p.value.as_i64()).map(name).collect()
        };
        let labelled = |key: &str| -> BTreeSet<String> {
            match &case[key] {
                Value::String(s) => BTreeSet::from([s.clone()]),
                Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                _ => BTreeSet::new(),
            }
        };
        let path = case["path"].as_str().unwrap_or_default();
        let checks = [
            ("studio", proposed(Field::Studio, &|id| lib.studio_name(id).to_owned()), labelled("studio")),
            (
                "performers",
                proposed(Field::Performers, &|id| lib.performer_name(id).to_owned()),
                labelled("performers"),
            ),
            ("tags", proposed(Field::Tags, &|id| lib.tag_name(id).to_owned()), labelled("tags")),
        ];
        for (detector, got, want) in checks {
            let score = match detector {
                "studio" => &mut evaluation.studio,
                "performers" => &mut evaluation.performers,
                _ => &mut evaluation.tags,
            };
            score.right += got.intersection(&want).count();
            for wrong in got.difference(&want) {
                score.wrong += 1;
                evaluation.mistakes.push(format!("{detector}: wrongly proposed {wrong:?} for {path}"));
            }
            for missed in want.difference(&got) {
                score.missed += 1;
                evaluation.mistakes.push(format!("{detector}: missed {missed:?} for {path}"));
            }
        }
    }
    evaluation
}
