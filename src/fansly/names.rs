//! fansly-scraper's file names: `2024-03-01_at_18-22_UTC_id_5123….mp4`, previews
//! `…_UTC_preview_id_<N>.jpg`, the downloader-ng names `…_id_<N>_hash2_<hex>.mp4` (local time,
//! no zone, maybe 12-hour), and whatever the database stored (sometimes a full path).
//!
//! The id in a name is the id of the rendition that was downloaded — the media, its variant or
//! its preview — so it says which media row to look at, never which post. Whether a file is a
//! preview is decided from the database, not from the `preview_` marker: bug-era previews carry
//! a plain `id_`.

use std::sync::LazyLock;

use regex::Regex;

static ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"_(preview_)?id_(\d+)").unwrap_or_else(|_| unreachable!("the pattern is a constant")));
static HASH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"_(?:hash2|hash1|hash)_[0-9a-fA-F]+").unwrap_or_else(|_| unreachable!("the pattern is a constant"))
});

/// The last component of a path, splitting on both `/` and `\` (the SQLite era stored full
/// paths of either kind in `local_filename`).
pub fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// What a scraper file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    /// The downloaded rendition's id (media, variant or preview).
    pub id: i64,
    /// Whether the name carries the `preview_` marker.
    pub preview_marker: bool,
}

/// Parses the id out of a file name (a basename or a path); `None` for names without `_id_`
/// (the oldest downloader names, or files the user renamed).
pub fn parse(name: &str) -> Option<ParsedName> {
    let name = basename(name);
    // The last `_id_` wins: a creator named `x_id_1` still has the real id at the end.
    let captures = ID.captures_iter(name).last()?;
    let id = captures.get(2)?.as_str().parse().ok()?;
    Some(ParsedName { id, preview_marker: captures.get(1).is_some() })
}

/// The name without its downloader-ng hash marker (`_hash2_<hex>` and older forms): the form
/// fansly-scraper registers such files under.
pub(crate) fn without_hash(name: &str) -> String {
    HASH.replace_all(basename(name), "").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_names_give_the_id() {
        let parsed = parse("2024-03-01_at_18-22_UTC_id_512345678901234567.mp4");
        assert_eq!(parsed, Some(ParsedName { id: 512345678901234567, preview_marker: false }));
    }

    #[test]
    fn preview_marker_is_seen() {
        let parsed = parse("/lib/anna_fansly/Timeline/Pictures/2024-03-01_at_18-22_UTC_preview_id_77.jpg");
        assert_eq!(parsed, Some(ParsedName { id: 77, preview_marker: true }));
    }

    #[test]
    fn legacy_names_with_hash_and_twelve_hour_time_give_the_id() {
        assert_eq!(parse("2023-01-02_at_07-15-PM_id_4242_hash2_abcdef0123.mp4").map(|p| p.id), Some(4242));
        assert_eq!(without_hash("2023-01-02_at_19-15_id_4242_hash2_abcdef0123.mp4"), "2023-01-02_at_19-15_id_4242.mp4");
        assert_eq!(without_hash("a_id_1_hash_ff.jpg"), "a_id_1.jpg");
    }

    #[test]
    fn names_without_an_id_give_none() {
        assert_eq!(parse("2022-05-01 12-00 1234567.mp4"), None);
        assert_eq!(parse("holiday.mp4"), None);
    }

    #[test]
    fn basename_splits_both_separators() {
        assert_eq!(basename(r"C:\dl\anna\Videos\x_id_1.mp4"), "x_id_1.mp4");
        assert_eq!(basename("/dl/anna/x_id_1.mp4"), "x_id_1.mp4");
        assert_eq!(basename("x_id_1.mp4"), "x_id_1.mp4");
    }
}
