//! How the analyzer reads names out of paths and titles: words, folded and lowercased, matched
//! as whole runs of words against keys with every separator removed.
//!
//! Joining a run of words into one key is what makes "seancody", "Sean.Cody", "sean_cody" and
//! "SeanCody" all the studio "Sean Cody", and what keeps matches to whole words: a name is only
//! found when a run of complete words spells it, never inside another word ("Colton" is not
//! "Colt").

use std::collections::HashMap;

/// Longest run of words tried as one name.
pub const MAX_RUN: usize = 5;

/// One word of a text: its folded lowercase form and whether it started with a capital.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Lowercase, accents folded, letters and digits only.
    pub text: String,
    /// The original started with an uppercase letter.
    pub capital: bool,
}

/// The words of `text`: split at anything that is not a letter or digit and at CamelCase
/// boundaries ("BrentCorrigan" → brent, corrigan), folded and lowercased.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut capital = false;
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            push_word(&mut out, &mut current, capital);
            previous = None;
            continue;
        }
        let camel_break = previous.is_some_and(|p| p.is_lowercase() && c.is_uppercase());
        if camel_break {
            push_word(&mut out, &mut current, capital);
        }
        if current.is_empty() {
            capital = c.is_uppercase();
        }
        fold_into(c, &mut current);
        previous = Some(c);
    }
    push_word(&mut out, &mut current, capital);
    out
}

fn push_word(out: &mut Vec<Word>, current: &mut String, capital: bool) {
    if !current.is_empty() {
        out.push(Word { text: std::mem::take(current), capital });
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
    by_key: HashMap<String, Vec<Owner>>,
}

impl NameIndex {
    /// Adds `name` (or an alias) of entity `id`; names without letters or digits are skipped.
    pub fn add(&mut self, id: i64, name: &str, alias: bool) {
        let words = words(name);
        if words.is_empty() {
            return;
        }
        let key: String = words.iter().map(|w| w.text.as_str()).collect();
        let owners = self.by_key.entry(key).or_default();
        if !owners.iter().any(|o| o.id == id && o.alias == alias) {
            owners.push(Owner { id, alias, words: words.len() });
        }
    }

    /// The owners of `key`.
    pub fn owners(&self, key: &str) -> &[Owner] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Every key, for building derived indexes.
    pub fn keys(&self) -> impl Iterator<Item = (&String, &Vec<Owner>)> {
        self.by_key.iter()
    }

    /// Every run of whole words in `words` that spells a key, longest runs first and runs
    /// inside a longer hit dropped ("Sean Cody Classics" is not also "Sean Cody").
    pub fn hits(&self, words: &[Word]) -> Vec<Hit<'_>> {
        let mut hits: Vec<Hit> = Vec::new();
        for start in 0..words.len() {
            let mut joined = String::new();
            for (end, word) in words.iter().enumerate().skip(start).take(MAX_RUN) {
                joined.push_str(&word.text);
                if let Some(owners) = self.by_key.get(&joined) {
                    hits.push(Hit { start, end: end + 1, owners });
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
pub struct Hit<'a> {
    /// First word.
    pub start: usize,
    /// One past the last word.
    pub end: usize,
    /// Who owns the key.
    pub owners: &'a [Owner],
}

impl Hit<'_> {
    /// Whether this run covers every one of `n` words.
    pub fn covers(&self, n: usize) -> bool {
        self.start == 0 && self.end == n
    }

    /// Whether it shares a word with `other`.
    pub fn overlaps(&self, other: &Hit) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Damerau–Levenshtein distance of two short strings, giving up above 1 (all the analyzer
/// asks is "one typo apart?").
pub fn within_one_edit(a: &str, b: &str) -> bool {
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
            assert_eq!(index.hits(&words(text)).len(), 1, "{text}");
        }
        assert!(index.hits(&words("Colton Ford")).is_empty());
        assert!(index.hits(&words("seancodyclassics")).is_empty());
    }

    #[test]
    fn a_run_inside_a_longer_hit_is_dropped() {
        let mut index = NameIndex::default();
        index.add(1, "Sean Cody", false);
        index.add(2, "Sean Cody Classics", false);
        let hits = index.hits(&words("Sean Cody Classics - Brent"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].owners[0].id, 2);
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
