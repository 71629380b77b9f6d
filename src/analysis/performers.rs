//! Performer detector: the performers the file name, the folders above it and the title name.
//!
//! Names are read the way people write them in file names: "Brent & Jay", "Brent Corrigan,
//! Jay Roberts - Poolside", "BrentCorrigan_x_JayRoberts [1080p] 2023-01-02",
//! "Scene.2020-04-19.[Jane Doe]". Dates, resolutions and quality words are removed first, then
//! the text is split at brackets, commas and the usual separators — except where a performer's
//! own name contains one ("Mr and Mrs Jones", "Sam & Alex"), which is read in the whole text
//! first. `_` is a space, never a separator: "Jessie_B" is Jessie B. The file name, the folder
//! it is in and the title are read fully; folders further up only for full names (a one-word
//! name there is too often a word), except right below a `Performers`/`Creators` folder. A performer's full name counts fully, an alias only when it belongs to exactly
//! one performer, a one-word name only when it is a whole part by itself and exactly one
//! performer owns it (words that are also names — "Summer", "Hunter" — are too common inside
//! titles), and a spelling one typo away from a full name counts less. Parts that look like a
//! name but match nobody are counted for the summary — or, with `analyzePerformersCreateMissing`, a
//! creator folder's name becomes a new performer: a library sorted `Performers/<Name>/…` says
//! outright that the folder is a person, which a name in a file name or title never does.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

use super::text::{self, Hit, Owner, Word};
use super::{Library, PathParts, Proposal};
use crate::plans::Field;
use crate::stash::Scene;

/// A performer's name.
pub(crate) const NAME: f64 = 1.0;
/// An alias only one performer has.
pub(crate) const ALIAS: f64 = 0.95;
/// A one-word name standing alone, owned by one performer.
pub(crate) const SINGLE_WORD: f64 = 0.9;
/// A full name one typo away.
pub(crate) const CLOSE_SPELLING: f64 = 0.8;
/// A full name standing as a whole part of a folder more than one level above the file
/// ("Jane Doe/2021/1080p/clip.mp4"): the folder may still be a collection that holds other
/// people's scenes too.
pub(crate) const UPPER_FOLDER: f64 = 0.9;
/// A full name among other words of a folder further up ("Jane Doe Fan Edits/…").
pub(crate) const UPPER_FOLDER_WORDS: f64 = 0.85;
/// A new performer named by a creator folder: sure enough to propose, below any sensible
/// auto-approval, since creating a performer is a bigger step than linking one.
pub(crate) const NEW_PERFORMER: f64 = 0.75;
/// Folders whose subfolders are each one performer's: `…/Performers/<Name>/…`.
const CREATOR_FOLDERS: &[&str] = &["performers", "creators"];
/// Shortest key (letters, separators removed) tried for close spellings: shorter names are one
/// typo away from too many others.
pub(crate) const MIN_FUZZY_KEY: usize = 9;

const SEPARATORS: &[&str] = &[
    " and ",
    " & ",
    ", ",
    " - ",
    " with ",
    " feat. ",
    " feat ",
    " ft. ",
    " ft ",
    " featuring ",
    " x ",
    " vs ",
    " + ",
    "|",
];

/// Words that never make a part look like a person's name.
const NOT_NAMES: &[&str] = &[
    "scene", "part", "episode", "vol", "the", "and", "with", "in", "on", "at", "of", "a", "my", "his", "her", "full",
    "video", "movie", "clip", "behind", "bonus", "trailer", "preview", "new", "special",
];

fn noise() -> &'static Regex {
    static NOISE: OnceLock<Regex> = OnceLock::new();
    NOISE.get_or_init(|| {
        Regex::new(
            r"(?ix)
            \b\d{4}[-._\ ]\d{1,2}[-._\ ]\d{1,2}\b | \b\d{1,2}[-._\ ]\d{1,2}[-._\ ]\d{2,4}\b  # dates
          | \b(?:19|20)\d{2}\b                                                   # years
          | \b\d{3,4}[pi]\b | \b\d{3,4}x\d{3,4}\b | \b[248]k\b                     # resolutions
          | \b(?:hd|fhd|uhd|sd|hq|x264|x265|h264|h265|hevc|avc|web-?dl|webrip|hdrip|bluray|xxx|60fps|30fps|remastered|mp4|mkv)\b",
        )
        .unwrap_or_else(|_| unreachable!("the pattern is a constant"))
    })
}

/// `source` with `_` as a space, and `.` too when the text has no spaces (a scene-release name):
/// the same length, so positions in it are positions in `source`.
fn spaced(source: &str) -> String {
    let spaced = source.replace('_', " ");
    if source.contains([' ', '_']) { spaced } else { spaced.replace('.', " ") }
}

/// The candidate parts of one source text: noise removed, split at brackets, commas and the
/// separators.
pub(crate) fn parts(source: &str) -> Vec<String> {
    parts_of_spaced(&spaced(source))
}

fn parts_of_spaced(spaced: &str) -> Vec<String> {
    let cut = spaced.replace(['[', ']', '(', ')', '{', '}', ','], " | ");
    let cleaned = noise().replace_all(&cut, " ");
    let mut parts = vec![format!(" {} ", cleaned.split_whitespace().collect::<Vec<_>>().join(" "))];
    // Splitting never makes a separator that was not in the text (each ends a part with the
    // space the padding adds back, and `|`, the one without, comes last), so a separator the
    // whole text lacks is skipped: most names hold one or two of the fourteen.
    let lower = parts[0].to_lowercase();
    for separator in SEPARATORS.iter().filter(|s| lower.contains(**s)) {
        parts =
            parts.iter().flat_map(|p| split_ignoring_case(p, separator)).map(|p| format!(" {} ", p.trim())).collect();
    }
    parts
        .into_iter()
        .map(|p| p.trim().trim_matches(['-', ',', '.', '&', '+']).trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

fn split_ignoring_case(text: &str, separator: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return text.split(separator).map(str::to_owned).collect();
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(separator) {
        out.push(text[from..from + at].to_owned());
        from += at + separator.len();
    }
    out.push(text[from..].to_owned());
    out
}

/// Where a name was read, and how far that place may be trusted.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// The file name, the folder it is in, the title: every rule applies.
    Near,
    /// A folder right below `Performers`/`Creators`: a one-word name is a person there too.
    CreatorFolder,
    /// A folder further up: full names only, a little less sure.
    Upper,
}

/// The performers the scene's file name, folders and title name, that it does not have yet.
pub fn detect(scene: &Scene, path: &PathParts, library: &Library, unmatched: &mut Vec<String>) -> Vec<Proposal> {
    let mut best: HashMap<i64, (f64, String)> = HashMap::new();
    let mut sources: Vec<(String, &str, Place)> = vec![("file name".into(), path.stem.as_str(), Place::Near)];
    let creator = creator_folder_index(path);
    let levels = path.folders.len();
    for (i, folder) in path.folders.iter().enumerate().rev() {
        let up = levels - i;
        let place = match up {
            1 => Place::Near,
            _ if creator == Some(i) => Place::CreatorFolder,
            _ => Place::Upper,
        };
        let source = match up {
            1 => "folder".to_owned(),
            2 => "folder two levels up".to_owned(),
            3 => "folder three levels up".to_owned(),
            n => format!("folder {n} levels up"),
        };
        sources.push((source, folder.as_str(), place));
    }
    if let Some(title) = scene.title.as_deref() {
        sources.push(("title".into(), title, Place::Near));
    }
    for (source, text, place) in &sources {
        // Most folders further up ("media", "2023") name no one: skip the splitting for them.
        if *place != Place::Near && library.performer_names.hits(&text::words(text), &[]).is_empty() {
            continue;
        }
        let spaced = spaced(text);
        let (compounds, rest) = compound_names(&spaced, library);
        for (id, confidence, how) in compounds {
            let confidence = if *place == Place::Upper { confidence.min(UPPER_FOLDER_WORDS) } else { confidence };
            let reason = format!("{source} \"{text}\" names {} {how}", library.performer_name(id));
            keep(&mut best, id, confidence, reason);
        }
        for part in parts_of_spaced(&rest) {
            let words = text::words(&part);
            let found = matches(&words, library, *place);
            if found.is_empty() && *place == Place::Near {
                match close_spelling(&words, library) {
                    Some(id) => {
                        let reason =
                            format!("{source} \"{part}\" is a close spelling of \"{}\"", library.performer_name(id));
                        keep(&mut best, id, CLOSE_SPELLING, reason);
                    }
                    None if looks_like_a_name(&part, &words, library) => unmatched.push(part.clone()),
                    None => {}
                }
            }
            for (id, confidence, how) in found {
                let reason = format!("{source} \"{part}\" names {} {how}", library.performer_name(id));
                keep(&mut best, id, confidence, reason);
            }
        }
    }
    // "Hunter" in Jack Hunter's folder is Jack Hunter, not the performer called just Hunter.
    let full_names: Vec<String> = best
        .iter()
        .filter(|(_, (confidence, _))| *confidence != SINGLE_WORD)
        .flat_map(|(id, _)| text::words(library.performer_name(*id)).into_iter().map(|w| w.text))
        .collect();
    best.retain(|id, (confidence, _)| {
        *confidence != SINGLE_WORD || !full_names.contains(&text::key(library.performer_name(*id)))
    });
    let mut proposals: Vec<Proposal> = best
        .into_iter()
        .filter(|(id, _)| !scene.performer_ids.contains(id))
        .map(|(id, (confidence, reason))| Proposal::add(Field::Performers, id, confidence, reason))
        .collect();
    proposals.sort_by_key(|p| p.value.as_i64());
    unmatched.sort();
    unmatched.dedup();
    proposals
}

/// The performers whose own name contains a separator, read in the whole (spaced) text, and
/// the text with those names blanked out so the parts do not read them again as pieces.
fn compound_names(spaced: &str, library: &Library) -> (Vec<(i64, f64, &'static str)>, String) {
    if library.performer_compounds.is_empty() {
        return (Vec::new(), spaced.to_owned());
    }
    let words = text::words(spaced);
    let others = [&library.studio_names, &library.tag_names];
    let hits = library.performer_compounds.hits(&words, &others);
    if hits.is_empty() {
        return (Vec::new(), spaced.to_owned());
    }
    let mut rest = spaced.to_owned();
    let mut found = Vec::new();
    for hit in hits.iter().rev() {
        let Some((id, confidence, how)) = judge(hit, hit.end - hit.start) else { continue };
        found.push((id, confidence, how));
        let (from, to) = (words[hit.start].span.0, words[hit.end - 1].span.1);
        rest.replace_range(from..to, " | ");
    }
    (found, rest)
}

fn keep(best: &mut HashMap<i64, (f64, String)>, id: i64, confidence: f64, reason: String) {
    let entry = best.entry(id).or_insert((confidence, reason.clone()));
    if confidence > entry.0 {
        *entry = (confidence, reason);
    }
}

/// The performers a part's words name: (id, confidence, how).
fn matches(words: &[Word], library: &Library, place: Place) -> Vec<(i64, f64, &'static str)> {
    let others = [&library.studio_names, &library.tag_names];
    let mut found = Vec::new();
    for hit in library.performer_names.hits(words, &others) {
        let upper = if hit.covers(words.len()) { UPPER_FOLDER } else { UPPER_FOLDER_WORDS };
        match judge(&hit, words.len()) {
            Some((_, SINGLE_WORD, _)) if place == Place::Upper => {}
            Some((id, confidence, how)) if place == Place::Upper => found.push((id, confidence.min(upper), how)),
            Some(m) => found.push(m),
            None => {}
        }
    }
    found
}

fn judge(hit: &Hit, part_words: usize) -> Option<(i64, f64, &'static str)> {
    let names: Vec<&Owner> = hit.owners.iter().filter(|o| !o.alias).collect();
    let aliases: Vec<&Owner> = hit.owners.iter().filter(|o| o.alias).collect();
    let multi_word = hit.end - hit.start >= 2 || hit.owners.iter().all(|o| o.words >= 2);
    let (owner, confidence, how) = match (names.as_slice(), aliases.as_slice()) {
        ([one], _) => (*one, NAME, "by name"),
        ([], [one]) => (*one, ALIAS, "by alias"),
        _ => return None,
    };
    if multi_word {
        return Some((owner.id, confidence, how));
    }
    // One word: only standing alone, and only when no one else owns it in any way.
    (hit.owners.len() == 1 && hit.covers(part_words)).then_some((
        owner.id,
        SINGLE_WORD.min(confidence),
        "(one-word name)",
    ))
}

/// A performer whose full name is one typo from the whole part, when exactly one is.
fn close_spelling(words: &[Word], library: &Library) -> Option<i64> {
    if !(2..=3).contains(&words.len()) {
        return None;
    }
    let key: String = words.iter().map(|w| w.text.as_str()).collect();
    if key.chars().count() < MIN_FUZZY_KEY || key.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut ids: Vec<i64> = Vec::new();
    for variant in text::deletions(&key) {
        for name in library.performer_spellings.get(&variant).into_iter().flatten() {
            if text::within_one_edit(&key, name) {
                ids.extend(library.performer_names.owners(name).iter().filter(|o| !o.alias).map(|o| o.id));
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The name of the creator folder above the file — the folder right below the last
/// `Performers` or `Creators` folder, e.g. `/media/Performers/Kyle Ryder/2023/clip.mp4` — when
/// it is one name that looks like a person's and that no performer has, not even in part or
/// one typo away.
pub(crate) fn unknown_creator(path: &PathParts, library: &Library) -> Option<String> {
    let [name]: [String; 1] = parts(path.folders.get(creator_folder_index(path)?)?).try_into().ok()?;
    let words = text::words(&name);
    let known = !library.performer_names.hits(&words, &[]).is_empty() || close_spelling(&words, library).is_some();
    (!known && looks_like_a_name(&name, &words, library)).then_some(name)
}

/// The index in `path.folders` of the creator folder: the one right below the last folder
/// called `Performers` or `Creators`, when the file is not directly in that folder.
fn creator_folder_index(path: &PathParts) -> Option<usize> {
    let at = path.folders.iter().rposition(|f| CREATOR_FOLDERS.iter().any(|c| f.eq_ignore_ascii_case(c)))?;
    (at + 1 < path.folders.len()).then_some(at + 1)
}

/// Two or three capitalised words of letters, none of them a studio, a tag or a common word.
fn looks_like_a_name(part: &str, words: &[Word], library: &Library) -> bool {
    (2..=3).contains(&words.len())
        && words.iter().all(|w| w.capital && w.text.chars().all(char::is_alphabetic) && w.text.chars().count() >= 2)
        && !words.iter().any(|w| NOT_NAMES.contains(&w.text.as_str()))
        && library.studio_names.hits(words, &[]).is_empty()
        && library.tag_names.hits(words, &[]).is_empty()
        && part.chars().count() <= 40
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tests::{library, scene_at};

    fn performers_of(path: &str, title: Option<&str>) -> (Vec<(i64, f64)>, Vec<String>) {
        let lib = library();
        let mut scene = scene_at(path);
        scene.title = title.map(str::to_owned);
        let mut unmatched = Vec::new();
        let found = detect(&scene, &PathParts::of(path), &lib, &mut unmatched);
        (found.into_iter().map(|p| (p.value.as_i64().unwrap_or(0), p.confidence)).collect(), unmatched)
    }

    #[test]
    fn parts_drop_noise_and_split_at_separators() {
        assert_eq!(parts("Brent Corrigan & Jay Roberts [1080p] 2023-01-02"), ["Brent Corrigan", "Jay Roberts"]);
        assert_eq!(parts("BrentCorrigan_JayRoberts"), ["BrentCorrigan JayRoberts"]);
        assert_eq!(parts("Pool Day feat. Brent Corrigan (HD)"), ["Pool Day", "Brent Corrigan"]);
    }

    #[test]
    fn names_aliases_and_camel_case_match() {
        assert_eq!(performers_of("/p/Brent Corrigan & Jay Roberts.mp4", None).0, [(10, NAME), (11, NAME)]);
        assert_eq!(performers_of("/p/BrentCorrigan.mp4", None).0, [(10, NAME)]);
        assert_eq!(performers_of("/p/Brent Corrigan/clip 01.mp4", None).0, [(10, NAME)]);
        assert_eq!(performers_of("/p/x.mp4", Some("Poolside with The Kid")).0, [(10, ALIAS)]);
        assert_eq!(performers_of("/p/Emilie Brulee.mp4", None).0, [(13, NAME)]);
    }

    #[test]
    fn one_word_names_only_standing_alone() {
        assert_eq!(performers_of("/p/Madonna - Live.mp4", None).0, [(12, SINGLE_WORD)]);
        assert!(performers_of("/p/x.mp4", Some("Madonna fans unite")).0.is_empty());
    }

    #[test]
    fn brackets_underscores_and_upper_folders_are_read() {
        assert_eq!(performers_of("/p/Scene.2020-04-19.[Brent Corrigan].mp4", None).0, [(10, NAME)]);
        assert_eq!(performers_of("/p/videos(BrentCorrigan)/clip.mp4", None).0, [(10, NAME)]);
        assert_eq!(performers_of("/p/Jay_Roberts - Poolside.mp4", None).0, [(11, NAME)]);
        assert_eq!(performers_of("/p/Brent Corrigan/2021/1080p/clip 01.mp4", None).0, [(10, UPPER_FOLDER)]);
        assert_eq!(performers_of("/p/Brent Corrigan Fan Edits/2021/clip 01.mp4", None).0, [(10, UPPER_FOLDER_WORDS)]);
        assert!(performers_of("/Madonna/2021/clip.mp4", None).0.is_empty(), "one word, far up");
        assert_eq!(performers_of("/Performers/Madonna/2021/clip.mp4", None).0, [(12, SINGLE_WORD)]);
    }

    #[test]
    fn close_spellings_count_less_and_look_alikes_propose_nothing() {
        assert_eq!(performers_of("/p/Brent Corigan.mp4", None).0, [(10, CLOSE_SPELLING)]);
        // "Ashley Lane" and "Ashlee Lane" are both one typo from "Ashlea Lane".
        assert!(performers_of("/p/Ashlea Lane.mp4", None).0.is_empty());
        assert_eq!(performers_of("/p/Ashlee Lane.mp4", None).0, [(15, NAME)]);
    }

    #[test]
    fn only_an_unknown_persons_name_right_below_a_creator_folder_is_a_new_performer() {
        let creator = |path: &str| unknown_creator(&PathParts::of(path), &library());
        assert_eq!(creator("/m/Performers/Kyle Ryder/2023/clip 01.mp4").as_deref(), Some("Kyle Ryder"));
        assert_eq!(creator("/m/creators/Dale Cooper (2019)/x.mp4").as_deref(), Some("Dale Cooper"));
        assert_eq!(creator("/m/Performers/Brent Corrigan/x.mp4"), None, "known");
        assert_eq!(creator("/m/Performers/Brent Corigan/x.mp4"), None, "one typo from a known name");
        assert_eq!(creator("/m/Performers/Kyle Ryder & Dale Cooper/x.mp4"), None, "two people");
        assert_eq!(creator("/m/Performers/Sean Cody Classics/x.mp4"), None, "a studio's name");
        assert_eq!(creator("/m/Performers/Kyle Ryder.mp4"), None, "a file, not a folder");
        assert_eq!(creator("/m/Kyle Ryder/x.mp4"), None, "no creator folder");
        assert_eq!(creator("/m/Performers/kyle ryder 2/x.mp4"), None, "not a name");
    }

    #[test]
    fn unknown_names_are_counted() {
        let (found, unmatched) = performers_of("/p/Kyle Ryder & Brent Corrigan.mp4", None);
        assert_eq!(found, [(10, NAME)]);
        assert_eq!(unmatched, ["Kyle Ryder"]);
    }
}
