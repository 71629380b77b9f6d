//! Studio detector: for a scene without a studio, the studio its folders or file name name.
//!
//! Libraries are usually sorted by studio ("/Studios/Sean Cody/…"), so a whole folder equal to
//! a studio's name (or its web address, "Girlsway.com") is strong evidence; a run of words in
//! the file name ("seancody - Brent.mp4") or inside a folder's name is weaker, and an alias a
//! little weaker than the name. A studio named in two places (its folder and the file name) is
//! surer than one named once. When a studio and one of its parents in Stash's hierarchy are
//! both named ("Networks/VIXEN Media Group/BLACKED/…"), the scene belongs to the more specific
//! one, the child. Release codes no name appears in ("CF1234.mp4") are what the user's rules are
//! for. Two unrelated studios equally well supported give no proposal.

use regex::{Regex, RegexBuilder};

use super::text::{self, Owner};
use super::{Library, PathParts, Proposal, SetupError, unique_best};
use crate::plans::{Action, Field};
use crate::stash::Scene;

/// A whole folder equal to a studio's name.
pub(crate) const FOLDER: f64 = 0.95;
/// A run of words in the file name, or inside a folder's name.
pub(crate) const FILE_NAME: f64 = 0.85;
/// How much surer a studio is when a second place names it too, or its parent is named.
pub(crate) const CORROBORATED: f64 = 0.05;
/// The most a studio found by its name can reach: a user's rule stays surer.
const MOST: f64 = 0.96;
/// Shortest one-word studio name read inside a longer folder name.
const MIN_IN_FOLDER: usize = 6;
/// Web address endings a studio folder may carry ("Girlsway.com").
const DOMAINS: &[&str] = &["com", "net", "org", "tv", "xxx"];
/// How much less an alias counts than the name.
pub(crate) const ALIAS_PENALTY: f64 = 0.03;
/// A user rule: the user said so.
pub(crate) const RULE: f64 = 0.97;

/// One `regex => Studio Name` rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Matched against the file name, case-insensitively.
    pub pattern: Regex,
    /// The studio it names.
    pub studio_id: i64,
}

/// Parses the `analyzeStudiosRules` setting: one rule per line or per `;`; blank lines and lines
/// starting with `#` are skipped. A rule naming a studio the library lacks is dropped with a
/// warning (the studio may come later); a malformed rule is an error.
pub(crate) fn parse_rules(setting: &str, library: &Library) -> Result<(Vec<Rule>, Vec<String>), SetupError> {
    let mut rules = Vec::new();
    let mut warnings = Vec::new();
    for line in setting.split(['\n', ';']).map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let bad = |reason: String| SetupError::BadRule { line: line.to_owned(), reason };
        let (pattern, name) = line.split_once("=>").ok_or_else(|| bad("write it as `regex => Studio Name`".into()))?;
        let pattern = RegexBuilder::new(pattern.trim())
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| bad(format!("not a valid regular expression ({})", regex_problem(&e))))?;
        let name = name.trim();
        let studio = library.studio_names.owners(&text::key(name)).iter().find(|o| !o.alias).copied();
        match studio {
            Some(owner) => rules.push(Rule { pattern, studio_id: owner.id }),
            None => warnings.push(format!("studio rules: no studio named {name:?} in Stash; the rule is skipped")),
        }
    }
    Ok((rules, warnings))
}

/// What is wrong with a pattern, on one line (the regex crate draws a multi-line picture).
fn regex_problem(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(text) => {
            text.lines().rev().find_map(|l| l.trim().strip_prefix("error: ")).unwrap_or("invalid syntax").to_owned()
        }
        regex::Error::CompiledTooBig(_) => "too big once compiled; make it simpler".to_owned(),
        other => other.to_string().split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// The studio the path names, if the scene has none and exactly one studio is best supported.
pub fn detect(scene: &Scene, path: &PathParts, library: &Library, rules: &[Rule]) -> Option<Proposal> {
    if scene.studio_id.is_some() || path.file_name.is_empty() {
        return None;
    }
    let mut candidates: Vec<(i64, f64, String)> = Vec::new();
    for rule in rules.iter().filter(|r| r.pattern.is_match(&path.file_name)) {
        candidates.push((rule.studio_id, RULE, format!("file name matches your studio rule /{}/", rule.pattern)));
    }
    let others = [&library.performer_names, &library.tag_names];
    // Each place that names a studio: (studio, confidence, reason, place).
    let mut named: Vec<(i64, f64, String, usize)> = Vec::new();
    for (place, folder) in path.folders.iter().enumerate() {
        let words = text::words(folder);
        let whole = |h: &text::Hit| {
            h.start == 0
                && (h.end == words.len() || (h.end + 1 == words.len() && DOMAINS.contains(&words[h.end].text.as_str())))
        };
        for hit in library.studio_names.hits(&words, &others) {
            for owner in hit.owners {
                let (base, how) = if whole(&hit) { (FOLDER, "is") } else { (FILE_NAME, "names") };
                // Inside a folder's longer name, a short one-word studio name is more often an
                // ordinary word ("Hot Summer", "Colt 45 collection") than the studio.
                let key_len: usize = words[hit.start..hit.end].iter().map(|w| w.text.chars().count()).sum();
                if base == FILE_NAME && owner.words < 2 && key_len < MIN_IN_FOLDER {
                    continue;
                }
                let reason = format!("folder \"{folder}\" {how} the studio {}", named_as(library, owner));
                named.push((owner.id, weigh(base, owner), reason, place));
            }
        }
    }
    for hit in library.studio_names.hits(&text::words(&path.stem), &others) {
        for owner in hit.owners {
            let reason = format!("file name \"{}\" names the studio {}", path.file_name, named_as(library, owner));
            named.push((owner.id, weigh(FILE_NAME, owner), reason, path.folders.len()));
        }
    }
    candidates.extend(weigh_together(&named, library));
    let (id, confidence, reason) = unique_best(&candidates)?.clone();
    Some(Proposal { field: Field::Studio, action: Action::Set, value: id.into(), reason, confidence })
}

/// One candidate per studio from every place that names it: its best evidence, surer when a
/// second place or a parent studio agrees; a parent is dropped when its child is named.
fn weigh_together(named: &[(i64, f64, String, usize)], library: &Library) -> Vec<(i64, f64, String)> {
    let mut ids: Vec<i64> = named.iter().map(|n| n.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let children: Vec<i64> =
        ids.iter().copied().filter(|id| !ids.iter().any(|other| library.studio_is_above(*id, *other))).collect();
    children
        .into_iter()
        .filter_map(|id| {
            let evidence: Vec<&(i64, f64, String, usize)> = named.iter().filter(|n| n.0 == id).collect();
            let best = evidence.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
            let mut places: Vec<usize> = evidence.iter().map(|n| n.3).collect();
            places.dedup();
            let parent = named.iter().find(|n| library.studio_is_above(n.0, id));
            let mut confidence = best.1;
            let mut reason = best.2.clone();
            if places.len() > 1 {
                confidence += CORROBORATED;
                reason.push_str(", and the path names it again");
            } else if let Some(parent) = parent {
                confidence += CORROBORATED;
                reason.push_str(&format!(", under its parent studio \"{}\"", library.studio_name(parent.0)));
            }
            Some((id, confidence.min(MOST), reason))
        })
        .collect()
}

fn weigh(base: f64, owner: &Owner) -> f64 {
    if owner.alias { base - ALIAS_PENALTY } else { base }
}

fn named_as(library: &Library, owner: &Owner) -> String {
    let name = library.studio_name(owner.id);
    if owner.alias { format!("\"{name}\" (by alias)") } else { format!("\"{name}\"") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tests::{library, scene_at};
    use crate::stash::Studio;

    fn studio_of(path: &str, rules: &str) -> Option<(i64, f64)> {
        let lib = library();
        let (rules, _) = parse_rules(rules, &lib).expect("rules parse");
        detect(&scene_at(path), &PathParts::of(path), &lib, &rules)
            .map(|p| (p.value.as_i64().unwrap_or(0), p.confidence))
    }

    #[test]
    fn a_studio_folder_is_strongest() {
        assert_eq!(studio_of("/Studios/Sean Cody/2023/Brent & Jay [1080p].mp4", ""), Some((1, FOLDER)));
    }

    #[test]
    fn a_joined_name_in_the_file_name_matches() {
        assert_eq!(studio_of("/x/seancody - Brent.mp4", ""), Some((1, FILE_NAME)));
        assert_eq!(studio_of("/x/Men.com - Special (2023) [HD].mp4", ""), Some((3, FILE_NAME)));
    }

    #[test]
    fn an_alias_counts_a_little_less() {
        assert_eq!(studio_of("/x/SC/clip.mp4", ""), Some((1, FOLDER - ALIAS_PENALTY)));
    }

    #[test]
    fn rules_cover_release_codes() {
        assert_eq!(studio_of("/dl/CF1234.mp4", r"^CF\d+ => Colt"), Some((2, RULE)));
        assert_eq!(studio_of("/dl/CF1234.mp4", ""), None);
    }

    #[test]
    fn inside_a_word_or_tied_proposes_nothing() {
        assert_eq!(studio_of("/x/Colton Ford solo.mp4", ""), None);
        assert_eq!(studio_of("/x/Colt vs Sean Cody.mp4", ""), None, "a tie");
    }

    #[test]
    fn a_child_studio_under_its_parent_is_the_child() {
        let mut studios: Vec<Studio> = library().studios.into_values().collect();
        studios.push(Studio { id: 4, name: "Colt Classics".into(), parent_id: Some(2), ..studios[0].clone() });
        studios.push(Studio { id: 5, name: "Reality Kings".into(), parent_id: None, ..studios[0].clone() });
        let lib = Library::new(studios, vec![], vec![]);
        let studio_of = |path: &str| {
            detect(&scene_at(path), &PathParts::of(path), &lib, &[])
                .map(|p| (p.value.as_i64().unwrap_or(0), p.confidence))
        };
        assert_eq!(studio_of("/Studios/Colt/Colt Classics/x.mp4"), Some((4, MOST)));
        assert_eq!(studio_of("/Colt/2020/coltclassics - x.mp4"), Some((4, FILE_NAME + CORROBORATED)));
        assert_eq!(studio_of("/Studios/Colt/clip.mp4"), Some((2, FOLDER)));
        assert_eq!(studio_of("/Studios/Reality Kings/Colt/x.mp4"), None, "unrelated: no guess");
        assert_eq!(studio_of("/Studios/Reality Kings/Colt/Colt - x.mp4").map(|s| s.0), Some(2), "named twice");
        assert_eq!(studio_of("/Sites/Men.com/2020/x.mp4"), Some((3, FOLDER)));
    }

    #[test]
    fn a_malformed_rule_is_an_error() {
        assert!(parse_rules("no arrow here", &library()).is_err());
        assert!(parse_rules("([ => Colt", &library()).is_err());
        assert_eq!(parse_rules("x => Nobody", &library()).expect("parses").1.len(), 1);
    }
}
