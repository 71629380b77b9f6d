//! Studio detector: for a scene without a studio, the studio its folders or file name name.
//!
//! Libraries are usually sorted by studio ("/Studios/Sean Cody/…"), so a whole folder equal to
//! a studio's name is strong evidence; a run of words in the file name ("seancody - Brent.mp4")
//! is weaker, and an alias a little weaker than the name. Release codes no name appears in
//! ("CF1234.mp4") are what the user's rules are for. Two studios equally well supported give
//! no proposal.

use regex::{Regex, RegexBuilder};

use super::text::{self, Owner};
use super::{Library, PathParts, Proposal, SetupError, unique_best};
use crate::plans::{Action, Field};
use crate::stash::Scene;

/// A whole folder equal to a studio's name.
pub const FOLDER: f64 = 0.95;
/// A run of words in the file name.
pub const FILE_NAME: f64 = 0.85;
/// How much less an alias counts than the name.
pub const ALIAS_PENALTY: f64 = 0.03;
/// A user rule: the user said so.
pub const RULE: f64 = 0.97;

/// One `regex => Studio Name` rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Matched against the file name, case-insensitively.
    pub pattern: Regex,
    /// The studio it names.
    pub studio_id: i64,
}

/// Parses the `studioRules` setting: one rule per line or per `;`; blank lines and lines
/// starting with `#` are skipped. A rule naming a studio the library lacks is dropped with a
/// warning (the studio may come later); a malformed rule is an error.
pub fn parse_rules(setting: &str, library: &Library) -> Result<(Vec<Rule>, Vec<String>), SetupError> {
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
            None => warnings.push(format!("studioRules: no studio named {name:?} in Stash; the rule is skipped")),
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
    for folder in &path.folders {
        let words = text::words(folder);
        for hit in library.studio_names.hits(&words).iter().filter(|h| h.covers(words.len())) {
            for owner in hit.owners {
                let reason = format!("folder \"{folder}\" is the studio {}", named(library, owner));
                candidates.push((owner.id, weigh(FOLDER, owner), reason));
            }
        }
    }
    for hit in library.studio_names.hits(&text::words(&path.stem)) {
        for owner in hit.owners {
            let reason = format!("file name \"{}\" names the studio {}", path.file_name, named(library, owner));
            candidates.push((owner.id, weigh(FILE_NAME, owner), reason));
        }
    }
    let (id, confidence, reason) = unique_best(&candidates)?.clone();
    Some(Proposal { field: Field::Studio, action: Action::Set, value: id.into(), reason, confidence })
}

fn weigh(base: f64, owner: &Owner) -> f64 {
    if owner.alias { base - ALIAS_PENALTY } else { base }
}

fn named(library: &Library, owner: &Owner) -> String {
    let name = library.studio_name(owner.id);
    if owner.alias { format!("\"{name}\" (by alias)") } else { format!("\"{name}\"") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tests::{library, scene_at};

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
    fn a_malformed_rule_is_an_error() {
        assert!(parse_rules("no arrow here", &library()).is_err());
        assert!(parse_rules("([ => Colt", &library()).is_err());
        assert_eq!(parse_rules("x => Nobody", &library()).expect("parses").1.len(), 1);
    }
}
