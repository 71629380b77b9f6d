//! Matching scraped stash-box tags to local tags exactly as Stash's Tagger does, so a tag sync
//! gives what pressing "merge tags" in the Tagger would, scene after scene.
//!
//! For one stash-box tag `{id, name}` from endpoint E, first hit wins:
//! 1. a local tag with StashID `{E, id}`;
//! 2. a local tag whose name equals `name` under SQLite `LIKE`;
//! 3. a local tag with an alias equal to `name` under `LIKE`;
//! 4. no match: the tag is skipped (the Tagger's merge never creates tags).
//!
//! `LIKE` folds ASCII letters only ("Anal" = "anal", "Émilie" ≠ "émilie"), trims nothing and
//! folds no Unicode. It also treats `%` and `_` as wildcards; that is a bug in Stash, not a
//! feature: here they are literal characters. Among several qualifying local tags the first by
//! `COALESCE(sort_name, name)` (byte order, then id) wins. Scraped tags matching Stash's
//! `excludeTagPatterns` (regexes; pattern and name lowercased, as Stash does) or StashHog's
//! `syncTagBlacklist` are dropped before matching.

use std::collections::HashMap;

use regex::Regex;
use serde::Serialize;

use crate::stash::Tag;

/// How a scraped tag was matched, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "how", content = "tag_id", rename_all = "snake_case")]
pub enum TagMatch {
    /// A local tag linked to it by StashID.
    StashId(i64),
    /// A local tag with the same name.
    Name(i64),
    /// A local tag with the name as an alias.
    Alias(i64),
    /// Dropped by `excludeTagPatterns` or `syncTagBlacklist`.
    Excluded,
    /// No local tag matches.
    Unmatched,
}

impl TagMatch {
    /// The local tag, when matched.
    pub fn tag_id(&self) -> Option<i64> {
        match self {
            TagMatch::StashId(id) | TagMatch::Name(id) | TagMatch::Alias(id) => Some(*id),
            TagMatch::Excluded | TagMatch::Unmatched => None,
        }
    }

    /// The reason a user reads on the plan change.
    pub fn reason(&self, name: &str) -> String {
        match self {
            TagMatch::StashId(_) => format!("StashDB tag '{name}' is linked to this tag by its StashID"),
            TagMatch::Name(_) => format!("matched StashDB tag '{name}' by name"),
            TagMatch::Alias(_) => format!("matched StashDB tag '{name}' by alias"),
            TagMatch::Excluded | TagMatch::Unmatched => String::new(),
        }
    }
}

/// The local tags of one library, indexed the way the Tagger looks them up for one endpoint.
#[derive(Debug)]
pub struct TagMatcher {
    by_stash_id: HashMap<String, i64>,
    by_name: HashMap<String, i64>,
    by_alias: HashMap<String, i64>,
    exclude: Vec<Regex>,
    blacklist: Vec<String>,
}

/// SQLite `LIKE` without wildcards: ASCII letters fold, nothing else does.
fn like_key(text: &str) -> String {
    text.to_ascii_lowercase()
}

impl TagMatcher {
    /// Indexes `tags` for scraped tags from `endpoint`. Invalid exclusion patterns are reported
    /// and ignored, as Stash ignores them.
    pub fn new(tags: &[Tag], endpoint: &str, exclude_patterns: &[String], blacklist: &[String]) -> Self {
        let mut ordered: Vec<&Tag> = tags.iter().collect();
        ordered.sort_by(|a, b| {
            let key = |t: &Tag| t.sort_name.clone().unwrap_or_else(|| t.name.clone());
            key(a).cmp(&key(b)).then(a.id.cmp(&b.id))
        });
        let (mut by_stash_id, mut by_name, mut by_alias) = (HashMap::new(), HashMap::new(), HashMap::new());
        for tag in ordered {
            for link in tag.stash_ids.iter().filter(|s| s.endpoint == endpoint) {
                by_stash_id.entry(link.stash_id.clone()).or_insert(tag.id);
            }
            by_name.entry(like_key(&tag.name)).or_insert(tag.id);
            for alias in &tag.aliases {
                by_alias.entry(like_key(alias)).or_insert(tag.id);
            }
        }
        let exclude = exclude_patterns
            .iter()
            .filter(|p| !p.trim().is_empty())
            .filter_map(|p| match Regex::new(&p.to_lowercase()) {
                Ok(regex) => Some(regex),
                Err(e) => {
                    log::warn!("Stash's tag exclusion pattern {p:?} is not a valid regex ({e}); it is ignored");
                    None
                }
            })
            .collect();
        let blacklist = blacklist.iter().map(|b| like_key(b.trim())).filter(|b| !b.is_empty()).collect();
        TagMatcher { by_stash_id, by_name, by_alias, exclude, blacklist }
    }

    /// Matches one scraped tag.
    pub fn find(&self, stash_id: &str, name: &str) -> TagMatch {
        let lowered = name.to_lowercase();
        if self.exclude.iter().any(|r| r.is_match(&lowered)) || self.blacklist.contains(&like_key(name)) {
            return TagMatch::Excluded;
        }
        if let Some(id) = self.by_stash_id.get(stash_id) {
            return TagMatch::StashId(*id);
        }
        let key = like_key(name);
        if let Some(id) = self.by_name.get(&key) {
            return TagMatch::Name(*id);
        }
        match self.by_alias.get(&key) {
            Some(id) => TagMatch::Alias(*id),
            None => TagMatch::Unmatched,
        }
    }
}

/// Splits the `syncTagBlacklist` setting: tag names separated by commas or new lines.
pub fn blacklist_names(setting: &str) -> Vec<String> {
    setting.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stash::StashId;

    const E: &str = "https://stashdb.org/graphql";

    fn tag(id: i64, name: &str, aliases: &[&str], sort_name: Option<&str>, link: Option<(&str, &str)>) -> Tag {
        Tag {
            id,
            name: name.into(),
            sort_name: sort_name.map(Into::into),
            aliases: aliases.iter().map(|a| (*a).into()).collect(),
            ignore_auto_tag: false,
            updated_at: String::new(),
            stash_ids: link
                .map(|(e, s)| StashId { endpoint: e.into(), stash_id: s.into(), updated_at: None })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn stash_id_then_name_then_alias() {
        let tags = [
            tag(1, "Butt", &["Anal"], None, None),
            tag(2, "anal", &[], None, None),
            tag(3, "Whatever", &[], None, Some((E, "sdb-anal"))),
            tag(4, "Outdoors", &["Outside"], None, Some(("https://other/graphql", "sdb-out"))),
        ];
        let m = TagMatcher::new(&tags, E, &[], &[]);
        assert_eq!(m.find("sdb-anal", "Anal"), TagMatch::StashId(3));
        assert_eq!(m.find("x", "ANAL"), TagMatch::Name(2));
        assert_eq!(m.find("sdb-out", "outside"), TagMatch::Alias(4), "a StashID on another endpoint does not count");
        assert_eq!(m.find("y", "Nope"), TagMatch::Unmatched);
    }

    #[test]
    fn only_ascii_case_folds_and_nothing_is_trimmed_or_wildcarded() {
        let tags =
            [tag(1, "Émilie", &[], None, None), tag(2, "50% Off", &[], None, None), tag(3, "a_b", &[], None, None)];
        let m = TagMatcher::new(&tags, E, &[], &[]);
        assert_eq!(m.find("", "émilie"), TagMatch::Unmatched);
        assert_eq!(m.find("", "ÉMILIE"), TagMatch::Name(1), "É is the same letter; only ASCII letters fold");
        assert_eq!(m.find("", "Émilie"), TagMatch::Name(1));
        assert_eq!(m.find("", " Émilie"), TagMatch::Unmatched);
        assert_eq!(m.find("", "50% off"), TagMatch::Name(2));
        assert_eq!(m.find("", "50X Off"), TagMatch::Unmatched);
        assert_eq!(m.find("", "aXb"), TagMatch::Unmatched);
    }

    #[test]
    fn the_first_by_sort_name_wins_among_equals() {
        let tags = [tag(1, "Blonde", &[], Some("zzz"), None), tag(2, "blonde", &[], Some("aaa"), None)];
        assert_eq!(TagMatcher::new(&tags, E, &[], &[]).find("", "BLONDE"), TagMatch::Name(2));
        let tags = [tag(5, "x", &["Blonde"], None, None), tag(4, "y", &["blonde"], None, None)];
        assert_eq!(TagMatcher::new(&tags, E, &[], &[]).find("", "Blonde"), TagMatch::Alias(5));
    }

    #[test]
    fn exclusions_and_the_blacklist_drop_tags_before_matching() {
        let tags = [tag(1, "Watermarked", &[], None, Some((E, "w"))), tag(2, "4K Available", &[], None, None)];
        let patterns = vec!["^WATER".to_owned(), "(".to_owned()];
        let m = TagMatcher::new(&tags, E, &patterns, &blacklist_names("4k available, ,other"));
        assert_eq!(m.find("w", "Watermarked"), TagMatch::Excluded);
        assert_eq!(m.find("", "4K Available"), TagMatch::Excluded);
    }
}
