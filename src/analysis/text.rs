//! How the analyzer reads names out of paths and titles: words, folded and lowercased, matched
//! as whole runs of words against keys with every separator removed.
//!
//! Joining a run of words into one key is what makes "seancody", "Sean.Cody", "sean_cody" and
//! "SeanCody" all the studio "Sean Cody", and what keeps matches to whole words: a name is only
//! found when a run of complete words spells it, never inside another word ("Colton" is not
//! "Colt"). Three guards keep the joining honest, each a wrong change seen in real paths:
//! - where the text puts a break, the name must have one: "mys tudio" is not "My Studio" (the
//!   fully joined "mystudio" still is; an apostrophe is a break a name may leave out:
//!   "Mommy's Girl" is the studio "Mommys Girl");
//! - `{ } ( ) [ ] ,` are boundaries between names, never inside one: "performer(name" and
//!   "studio,name" name no one — the choice Stash's own Auto Tag tests make — while the words
//!   inside a bracket ("[Jane Doe]", "(jane.doe)") are read like any others;
//! - a CamelCase break is a guess, so a name cut out of a glued word counts only when the rest
//!   of that word is accounted for (another name, capitals like "XXX", a quality word like
//!   "1080p"): "McKenzieLee" is not "Kenzie Lee", "aaaPerformer Name" is no one,
//!   "KiraNoirAbellaDanger" is both.
//!
//! `&` reads as the word "and", so "Sam & Alex" and "Sam and Alex" are one name.

use std::collections::HashMap;

/// Longest run of words tried as one name.
pub(crate) const MAX_RUN: usize = 5;

/// Characters that end a name: a name's words are never read across them.
const BOUNDARIES: &[char] = &['{', '}', '(', ')', '[', ']', ',', '/', '\\'];

/// Words that say how a file was released, not who is in it: glued to a name ("xxxJaneDoe",
/// "JaneDoe1080p") they leave the name standing.
const QUALITY: &[&str] = &["xxx", "hd", "fhd", "uhd", "sd", "hq", "4k", "8k", "480p", "720p", "1080p", "2160p"];

/// One word of a text: its folded lowercase form, where it is, and how it was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Lowercase, accents folded, letters and digits only.
    pub text: String,
    /// The original started with an uppercase letter.
    pub capital: bool,
    /// Every letter of the original is uppercase and there are at least two ("XXX", "DP").
    pub upper: bool,
    /// Cut from the word before it only by a CamelCase break ("Brent|Corrigan").
    pub glued: bool,
    /// A boundary character (see `BOUNDARIES`) stands between it and the word before.
    pub after_boundary: bool,
    /// An apostrophe stands between it and the word before ("Mommy's"): a break a name may be
    /// written without.
    pub after_apostrophe: bool,
    /// Byte range of the word in the text it was read from.
    pub span: (usize, usize),
}

/// The words of `text`: split at anything that is not a letter or digit and at CamelCase
/// boundaries ("BrentCorrigan" → brent, corrigan), folded and lowercased; `&` is the word "and".
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current = Pending::default();
    let mut previous: Option<char> = None;
    let mut boundary = false;
    let mut apostrophe = false;
    for (at, c) in text.char_indices() {
        if c == '&' {
            current.push_to(&mut out, at, &mut boundary, &mut apostrophe);
            out.push(Word {
                text: "and".into(),
                capital: false,
                upper: false,
                glued: false,
                after_boundary: std::mem::take(&mut boundary),
                after_apostrophe: std::mem::take(&mut apostrophe),
                span: (at, at + 1),
            });
            previous = None;
            continue;
        }
        if !c.is_alphanumeric() {
            let ended = !current.text.is_empty();
            current.push_to(&mut out, at, &mut boundary, &mut apostrophe);
            boundary |= BOUNDARIES.contains(&c);
            apostrophe = ended && matches!(c, '\'' | '’');
            previous = None;
            continue;
        }
        if previous.is_some_and(|p| p.is_lowercase() && c.is_uppercase()) {
            current.push_to(&mut out, at, &mut boundary, &mut apostrophe);
            current.glued = true;
        }
        if current.text.is_empty() {
            current.start = at;
            current.capital = c.is_uppercase();
            current.upper = true;
        }
        current.letters += usize::from(c.is_alphabetic());
        current.upper &= !c.is_lowercase();
        fold_into(c, &mut current.text);
        previous = Some(c);
    }
    current.push_to(&mut out, text.len(), &mut boundary, &mut apostrophe);
    out
}

/// The word being read.
#[derive(Default)]
struct Pending {
    text: String,
    start: usize,
    capital: bool,
    upper: bool,
    glued: bool,
    letters: usize,
}

impl Pending {
    fn push_to(&mut self, out: &mut Vec<Word>, end: usize, boundary: &mut bool, apostrophe: &mut bool) {
        let pending = std::mem::take(self);
        if pending.text.is_empty() {
            return;
        }
        out.push(Word {
            text: pending.text,
            capital: pending.capital,
            upper: pending.upper && pending.letters >= 2,
            glued: pending.glued,
            after_boundary: std::mem::take(boundary),
            after_apostrophe: std::mem::take(apostrophe),
            span: (pending.start, end),
        });
    }
}

/// A name's key: its words joined with nothing between ("Sean Cody" → "seancody").
pub fn key(text: &str) -> String {
    words(text).into_iter().map(|w| w.text).collect()
}

/// Lowercases `c` and folds Latin accents to their base letters ("Émilie" → "emilie"): file
/// names drop accents more often than users type them in Stash.
fn fold_into(c: char, out: &mut String) {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'ď' | 'đ' | 'Ď' | 'Đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ě' => "e",
        'ğ' | 'Ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'İ' => "i",
        'ł' | 'ľ' | 'Ł' | 'Ľ' => "l",
        'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ő' => "o",
        'ř' | 'Ř' => "r",
        'ś' | 'š' | 'ş' | 'Ś' | 'Š' | 'Ş' => "s",
        'ß' => "ss",
        'ť' | 'Ť' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ů' | 'Ű' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        _ => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push_str(folded);
}

/// Who owns a key in a [`NameIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The entity's Stash id.
    pub id: i64,
    /// Through an alias rather than the name.
    pub alias: bool,
    /// How many words the name or alias has as written.
    pub words: usize,
}

/// Names and aliases of one kind of entity, by key.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    by_key: HashMap<String, Entry>,
}

/// Who owns a key, and where the names written with that key break into words.
#[derive(Debug, Clone, Default)]
struct Entry {
    owners: Vec<Owner>,
    /// Bit `i` set: some name with this key has a word starting at character `i` of the key.
    breaks: u64,
}

impl NameIndex {
    /// Adds `name` (or an alias) of entity `id`; names without letters or digits are skipped.
    pub fn add(&mut self, id: i64, name: &str, alias: bool) {
        let words = words(name);
        if words.is_empty() {
            return;
        }
        let key: String = words.iter().map(|w| w.text.as_str()).collect();
        let entry = self.by_key.entry(key).or_default();
        let mut at = 0;
        for word in &words {
            if at > 0 && at < 64 {
                entry.breaks |= 1 << at;
            }
            at += word.text.chars().count();
        }
        if !entry.owners.iter().any(|o| o.id == id && o.alias == alias) {
            entry.owners.push(Owner { id, alias, words: words.len() });
        }
    }

    /// Whether no name was added.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The owners of `key`.
    pub fn owners(&self, key: &str) -> &[Owner] {
        self.by_key.get(key).map_or(&[], |e| e.owners.as_slice())
    }

    /// Every key, with its owners, for building derived indexes.
    pub fn keys(&self) -> impl Iterator<Item = (&String, &Vec<Owner>)> {
        self.by_key.iter().map(|(k, e)| (k, &e.owners))
    }

    /// Every run of whole words in `words` that spells a key, longest runs first and runs
    /// inside a longer hit dropped ("Sean Cody Classics" is not also "Sean Cody"), under the
    /// three guards of this module. `others` are the other kinds' indexes: a name of theirs
    /// accounts for the rest of a glued word ("RileyReidEvilAngel").
    pub(crate) fn hits(&self, words: &[Word], others: &[&NameIndex]) -> Vec<Hit<'_>> {
        let mut kept = self.raw_hits(words);
        if kept.iter().any(|h| !h.clean(words)) {
            let mut covered = vec![false; words.len()];
            for hit in kept.iter().chain(others.iter().flat_map(|o| o.raw_hits(words)).collect::<Vec<_>>().iter()) {
                covered[hit.start..hit.end].iter_mut().for_each(|c| *c = true);
            }
            let explained = |i: usize| covered[i] || words[i].upper || QUALITY.contains(&words[i].text.as_str());
            kept.retain(|h| {
                let left = !words[h.start].glued || explained(h.start - 1);
                let right = words.get(h.end).is_none_or(|w| !w.glued || explained(h.end));
                left && right
            });
        }
        kept
    }

    /// The runs that spell a key with breaks where the name has them and no boundary inside,
    /// without the CamelCase guard.
    fn raw_hits(&self, words: &[Word]) -> Vec<Hit<'_>> {
        let mut hits: Vec<Hit> = Vec::new();
        for start in 0..words.len() {
            let mut joined = String::new();
            let mut breaks: u64 = 0;
            for (end, word) in words.iter().enumerate().skip(start).take(MAX_RUN) {
                if end > start {
                    if word.after_boundary {
                        break;
                    }
                    let at = joined.chars().count();
                    if !word.glued && !word.after_apostrophe && at < 64 {
                        breaks |= 1 << at;
                    }
                }
                joined.push_str(&word.text);
                if let Some(entry) = self.by_key.get(&joined)
                    && breaks & !entry.breaks == 0
                {
                    hits.push(Hit { start, end: end + 1, owners: &entry.owners });
                }
            }
        }
        hits.sort_by_key(|h| std::cmp::Reverse(h.end - h.start));
        let mut kept: Vec<Hit> = Vec::new();
        for hit in hits {
            if !kept.iter().any(|k| k.start <= hit.start && hit.end <= k.end) {
                kept.push(hit);
            }
        }
        kept.sort_by_key(|h| h.start);
        kept
    }
}

/// A run of words that spells a key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<'a> {
    /// First word.
    pub start: usize,
    /// One past the last word.
    pub end: usize,
    /// Who owns the key.
    pub owners: &'a [Owner],
}

impl Hit<'_> {
    /// Whether this run covers every one of `n` words.
    pub(crate) fn covers(&self, n: usize) -> bool {
        self.start == 0 && self.end == n
    }

    /// Whether both its ends fall where the text itself breaks, not at a CamelCase guess.
    pub fn clean(&self, words: &[Word]) -> bool {
        !words[self.start].glued && words.get(self.end).is_none_or(|w| !w.glued)
    }

    /// Whether it shares a word with `other`.
    pub(crate) fn overlaps(&self, other: &Hit) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Damerau–Levenshtein distance of two short strings, giving up above 1 (all the analyzer
/// asks is "one typo apart?").
pub(crate) fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    match (a.len(), b.len()) {
        (0, 0) | (1, 0) | (0, 1) => true,
        (x, y) if x == y => a[1..] == b[1..] || (x >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..]),
        (x, y) if x > y => a[1..] == *b,
        _ => *a == b[1..],
    }
}

/// Every string one deletion away from `key` (and `key` itself): two keys one edit apart share
/// at least one, so a map of them finds close spellings without comparing every name.
pub fn deletions(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = vec![key.to_owned()];
    for skip in 0..chars.len() {
        out.push(chars.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| c).collect());
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str) -> Vec<String> {
        words(t).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_split_separators_and_camel_case_and_fold_accents() {
        assert_eq!(texts("Sean_Cody.2023-BrentCorrigan"), ["sean", "cody", "2023", "brent", "corrigan"]);
        assert_eq!(texts("Émilie Brûlée"), ["emilie", "brulee"]);
        assert_eq!(key("Men.com"), "mencom");
        assert!(words("Brent").first().is_some_and(|w| w.capital));
    }

    #[test]
    fn joined_forms_match_both_ways_and_only_whole_words() {
        let mut index = NameIndex::default();
        index.add(1, "Sean Cody", false);
        index.add(2, "Colt", false);
        for text in ["seancody", "SEAN-CODY", "Sean.Cody", "SeanCody"] {
            assert_eq!(index.hits(&words(text), &[]).len(), 1, "{text}");
        }
        assert!(index.hits(&words("Colton Ford"), &[]).is_empty());
        assert!(index.hits(&words("seancodyclassics"), &[]).is_empty());
    }

    #[test]
    fn a_run_inside_a_longer_hit_is_dropped() {
        let mut index = NameIndex::default();
        index.add(1, "Sean Cody", false);
        index.add(2, "Sean Cody Classics", false);
        let hits = index.hits(&words("Sean Cody Classics - Brent"), &[]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].owners[0].id, 2);
    }

    #[test]
    fn a_join_keeps_the_names_word_breaks() {
        let mut index = NameIndex::default();
        index.add(1, "My Studio", false);
        for text in ["My Studio", "mystudio", "My.Studio", "MyStudio"] {
            assert_eq!(index.hits(&words(text), &[]).len(), 1, "{text}");
        }
        assert!(index.hits(&words("mys tudio"), &[]).is_empty());
    }

    #[test]
    fn an_apostrophe_may_be_left_out_of_a_name() {
        let mut index = NameIndex::default();
        index.add(1, "Mommys Girl", false);
        index.add(2, "Jane Doe", false);
        assert_eq!(index.hits(&words("Mommy's Girl - Visit"), &[]).len(), 1);
        assert_eq!(index.hits(&words("Jane Doe's First Time"), &[]).len(), 1);
    }

    #[test]
    fn boundaries_end_a_name_and_brackets_do_not_hide_one() {
        let mut index = NameIndex::default();
        index.add(1, "Performer Name", false);
        for text in ["performer(name", "performer{name", "performer,name", "performer]name"] {
            assert!(index.hits(&words(text), &[]).is_empty(), "{text}");
        }
        for text in ["(performer.name)", "[Performer Name]", "x{performer name}y", "performer name,aaa"] {
            assert_eq!(index.hits(&words(text), &[]).len(), 1, "{text}");
        }
    }

    #[test]
    fn a_name_cut_out_of_a_glued_word_needs_the_rest_accounted_for() {
        let mut people = NameIndex::default();
        people.add(1, "Kenzie Lee", false);
        people.add(2, "Kira Noir", false);
        people.add(3, "Abella Danger", false);
        let mut studios = NameIndex::default();
        studios.add(9, "Evil Angel", false);
        assert!(people.hits(&words("McKenzieLee"), &[]).is_empty());
        assert!(people.hits(&words("aaaKira Noir"), &[]).is_empty());
        assert_eq!(people.hits(&words("KiraNoirAbellaDanger"), &[]).len(), 2);
        assert_eq!(people.hits(&words("KiraNoirXXX"), &[]).len(), 1);
        assert_eq!(people.hits(&words("xxxKiraNoir"), &[]).len(), 1);
        assert!(people.hits(&words("KiraNoirEvilAngel"), &[]).is_empty());
        assert_eq!(people.hits(&words("KiraNoirEvilAngel"), &[&studios]).len(), 1);
    }

    #[test]
    fn an_ampersand_is_the_word_and() {
        let mut index = NameIndex::default();
        index.add(1, "Sam & Alex", false);
        for text in ["Sam & Alex", "Sam and Alex", "sam_and_alex", "Sam&Alex"] {
            assert_eq!(index.hits(&words(text), &[]).len(), 1, "{text}");
        }
    }

    #[test]
    fn one_edit_apart() {
        assert!(within_one_edit("brentcorrigan", "brentcorigan"));
        assert!(within_one_edit("brentcorrigan", "berntcorrigan"));
        assert!(within_one_edit("abc", "abd"));
        assert!(!within_one_edit("ashleylane", "ashleelanes"));
        assert!(!within_one_edit("abcd", "badc"));
    }
}
