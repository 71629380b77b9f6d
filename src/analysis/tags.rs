//! Tag detector: the user's own tags named in the title and path, and technical tags the file
//! itself proves (resolution, length, 60fps).
//!
//! Only tags that exist are proposed — the analyzer never invents a tag — and only tags not
//! marked "ignore auto tag", as in Stash's own Auto Tag. A tag name inside a performer's or
//! studio's name ("Cody" in "Sean Cody") is not evidence of the tag, so those words are skipped.
//! Technical tags are found by their usual names ("1080p", "4K", "60fps", …): a library that
//! calls them something else can add those names as aliases.

use std::collections::HashMap;

use super::text::{self, Hit, Owner, Word};
use super::{Library, PathParts, Proposal};
use crate::plans::Field;
use crate::stash::Scene;

/// A whole folder equal to a tag.
pub(crate) const FOLDER: f64 = 0.9;
/// A run of words in the title.
pub(crate) const TITLE: f64 = 0.85;
/// A run of words in a folder or the file name.
pub const PATH: f64 = 0.8;
/// How much less an alias counts than the name.
pub(crate) const ALIAS_PENALTY: f64 = 0.05;
/// Measured from the file.
pub(crate) const TECHNICAL: f64 = 0.95;
/// A two-letter name or alias ("DP") standing alone that only one tag has: initials and
/// abbreviations collide more than words do, so it waits for review at the default settings.
pub(crate) const SHORT: f64 = 0.75;
/// Shortest tag key matched in text: two letters are initials more often than tags ("4K" has
/// a digit and is no initials).
const MIN_KEY: usize = 3;

/// The tags the scene's title, path and file say, that it does not have yet.
pub fn detect(scene: &Scene, path: &PathParts, library: &Library) -> Vec<Proposal> {
    let mut best: HashMap<i64, (f64, String)> = HashMap::new();
    let mut keep = |id: i64, confidence: f64, reason: String| {
        let entry = best.entry(id).or_insert((confidence, reason.clone()));
        if confidence > entry.0 {
            *entry = (confidence, reason);
        }
    };
    let mut sources: Vec<(&str, &str, bool, f64)> = Vec::new();
    if let Some(title) = scene.title.as_deref() {
        sources.push(("title", title, false, TITLE));
    }
    for folder in &path.folders {
        sources.push(("folder", folder, true, PATH));
    }
    sources.push(("file name", &path.stem, false, PATH));
    for (source, text, whole_is_folder, base) in sources {
        let words = text::words(text);
        let names = names_of_people_and_studios(&words, library);
        for hit in library.tag_names.hits(&words, &[&library.studio_names, &library.performer_names]) {
            if names.iter().any(|n| n.overlaps(&hit)) {
                continue;
            }
            // A two-letter key as written in capitals ("DP"), or in a text without any (a
            // lowercase release name): "Jo" in "Jo Smith" is a person, not the tag "JO".
            let capitals_or_none = words[hit.start].upper || !text.chars().any(char::is_uppercase);
            let (owner, confidence, how) = match owner(&hit, &words, capitals_or_none) {
                Some(Key::Short(owner)) => (owner, SHORT, " (a short name only this tag has)"),
                Some(Key::Full(owner)) => {
                    let base = if whole_is_folder && hit.covers(words.len()) { FOLDER } else { base };
                    let confidence = if owner.alias { base - ALIAS_PENALTY } else { base };
                    (owner, confidence, if owner.alias { " (by alias)" } else { "" })
                }
                None => continue,
            };
            keep(
                owner.id,
                confidence,
                format!("{source} \"{text}\" names the tag \"{}\"{how}", library.tag_name(owner.id)),
            );
        }
    }
    if let Some(file) = scene.files.first() {
        for (label, names) in technical(file.width, file.height, file.duration, file.frame_rate) {
            if let Some(id) = names.iter().find_map(|n| tag_named(library, n)) {
                keep(id, TECHNICAL, format!("the file is {label}"));
            }
        }
    }
    let mut proposals: Vec<Proposal> = best
        .into_iter()
        .filter(|(id, _)| !scene.tag_ids.contains(id))
        .map(|(id, (confidence, reason))| Proposal::add(Field::Tags, id, confidence, reason))
        .collect();
    proposals.sort_by_key(|p| p.value.as_i64());
    proposals
}

/// How a hit names its tag.
enum Key<'a> {
    /// A name or alias of three letters or more (or with a digit).
    Full(&'a Owner),
    /// A two-letter name or alias ("DP", "BJ").
    Short(&'a Owner),
}

/// The one tag a hit names: by name when one tag has that name, else by an alias only one tag
/// has. A two-letter key counts only as a word standing on its own, written in capitals (or in
/// a text without any), and when exactly one tag owns it in any way; a single letter never.
fn owner<'a>(hit: &Hit<'a>, words: &[Word], capitals_or_none: bool) -> Option<Key<'a>> {
    let key_len: usize = words[hit.start..hit.end].iter().map(|w| w.text.chars().count()).sum();
    let has_digit = words[hit.start..hit.end].iter().any(|w| w.text.chars().any(|c| c.is_ascii_digit()));
    if key_len < MIN_KEY && !has_digit {
        let alone = key_len == 2 && hit.end - hit.start == 1 && hit.clean(words) && capitals_or_none;
        return match hit.owners {
            [one] if alone => Some(Key::Short(one)),
            _ => None,
        };
    }
    let names: Vec<&Owner> = hit.owners.iter().filter(|o| !o.alias).collect();
    match names.as_slice() {
        [one] => Some(Key::Full(one)),
        [] if hit.owners.len() == 1 => hit.owners.first().map(Key::Full),
        _ => None,
    }
}

fn names_of_people_and_studios<'a>(words: &[Word], library: &'a Library) -> Vec<Hit<'a>> {
    let mut hits = library.studio_names.hits(words, &[&library.performer_names, &library.tag_names]);
    hits.extend(
        library
            .performer_names
            .hits(words, &[&library.studio_names, &library.tag_names])
            .into_iter()
            .filter(|h| h.end - h.start >= 2),
    );
    hits
}

fn tag_named(library: &Library, name: &str) -> Option<i64> {
    let owners = library.tag_names.owners(&text::key(name));
    let names: Vec<&Owner> = owners.iter().filter(|o| !o.alias).collect();
    match (names.as_slice(), owners) {
        ([one], _) => Some(one.id),
        ([], [one]) => Some(one.id),
        _ => None,
    }
}

/// What the file's measurements say, each with the tag names that would mean it.
pub(crate) fn technical(
    width: i64,
    height: i64,
    duration: f64,
    frame_rate: f64,
) -> Vec<(String, &'static [&'static str])> {
    let mut out: Vec<(String, &'static [&'static str])> = Vec::new();
    // A portrait video's resolution is its width: the shorter side is what "1080p" measures.
    let lines = if width > 0 && height > 0 { width.min(height) } else { height };
    let resolution: Option<&'static [&'static str]> = match lines {
        l if l >= 2160 => Some(&["4K", "2160p", "4K UHD", "UHD"]),
        l if l >= 1440 => Some(&["1440p", "2K", "QHD"]),
        l if l >= 1080 => Some(&["1080p", "Full HD", "FHD"]),
        l if l >= 720 => Some(&["720p"]),
        l if l >= 480 => Some(&["480p"]),
        _ => None,
    };
    if let Some(names) = resolution {
        out.push((format!("{lines} lines high"), names));
    }
    if duration > 0.0 {
        let minutes = duration / 60.0;
        let bucket: &'static [&'static str] = match minutes {
            m if m < 10.0 => &["Under 10 Minutes", "Short"],
            m if m < 30.0 => &["10-30 Minutes"],
            m if m < 60.0 => &["30-60 Minutes"],
            _ => &["Over 60 Minutes", "Feature Length"],
        };
        out.push((format!("{minutes:.0} minutes long"), bucket));
    }
    if frame_rate >= 50.0 {
        out.push((format!("{frame_rate:.0} frames per second"), &["60fps", "60 FPS", "High Frame Rate", "HFR"]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tests::{library, scene_at};

    fn tags_of(path: &str, title: Option<&str>, height: i64, frame_rate: f64) -> Vec<(i64, f64)> {
        let mut scene = scene_at(path);
        scene.title = title.map(str::to_owned);
        scene.files[0].height = height;
        scene.files[0].width = height * 16 / 9;
        scene.files[0].frame_rate = frame_rate;
        detect(&scene, &PathParts::of(path), &library())
            .into_iter()
            .map(|p| (p.value.as_i64().unwrap_or(0), p.confidence))
            .collect()
    }

    #[test]
    fn tags_are_found_in_title_and_path_as_whole_words() {
        assert_eq!(tags_of("/v/Outdoor/clip.mp4", None, 0, 0.0), [(20, FOLDER)]);
        assert_eq!(tags_of("/v/clip.mp4", Some("Fun outdoors and Outdoor fun"), 0, 0.0), [(20, TITLE)]);
        assert!(tags_of("/v/clip.mp4", Some("Outdoors"), 0, 0.0).is_empty());
        assert!(tags_of("/v/Ignored stuff.mp4", None, 0, 0.0).is_empty(), "ignore_auto_tag");
    }

    #[test]
    fn words_of_a_performer_or_studio_name_are_not_tags() {
        assert!(tags_of("/v/Sean Cody/x.mp4", Some("Sean Cody"), 0, 0.0).is_empty());
    }

    #[test]
    fn a_two_letter_alias_counts_standing_alone_when_one_tag_has_it() {
        let tag = |id: i64, name: &str, aliases: &[&str]| crate::stash::Tag {
            id,
            name: name.into(),
            sort_name: None,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            ignore_auto_tag: false,
            updated_at: String::new(),
            stash_ids: vec![],
        };
        let lib = Library::new(
            vec![],
            vec![],
            vec![tag(1, "Double Penetration", &["DP"]), tag(2, "Big Boobs", &["BB"]), tag(3, "Bareback", &["BB"])],
        );
        let tags_of = |path: &str| -> Vec<(i64, f64)> {
            detect(&scene_at(path), &PathParts::of(path), &lib)
                .into_iter()
                .map(|p| (p.value.as_i64().unwrap_or(0), p.confidence))
                .collect()
        };
        assert_eq!(tags_of("/v/Jane Doe - DP - Night.mp4"), [(1, SHORT)]);
        assert_eq!(tags_of("/v/jane.doe.dp.1080p.mp4"), [(1, SHORT)]);
        assert!(tags_of("/v/Jane Doe BB Special.mp4").is_empty(), "two tags have it");
        assert!(tags_of("/v/DPP Promo.mp4").is_empty());
        assert!(tags_of("/v/JaneDoeDP.mp4").is_empty(), "glued");
        assert!(tags_of("/v/Dp Smith - Solo.mp4").is_empty(), "written like a name");
    }

    #[test]
    fn technical_tags_only_when_the_tag_exists() {
        assert_eq!(tags_of("/v/x.mp4", None, 1080, 59.94), [(22, TECHNICAL), (24, TECHNICAL)]);
        assert!(tags_of("/v/x.mp4", None, 720, 30.0).is_empty(), "no 720p tag in this library");
    }
}
