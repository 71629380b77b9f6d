//! Wording shared by every message a user reads: counts with the right plural, so a log says
//! "1 scene" and "2 scenes", never "1 scenes" or "scene(s)".

/// `text` on one line: control characters (a newline inside a name someone typed) written as
/// their escapes, so a message quoting outside text stays the one line it is meant to be.
pub fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

/// `n` and the noun, pluralised when `n` is not 1: `count(1, "tag")` = `1 tag`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {}", plural(noun)) }
}

/// The plural of an English noun as our messages use them ("scene", "batch", "StashID",
/// "entry").
pub fn plural(noun: &str) -> String {
    // Only the last word of "stash-box request" or "merged scene" takes the plural.
    let (head, last) = match noun.rfind(' ') {
        Some(i) => noun.split_at(i + 1),
        None => ("", noun),
    };
    let lower = last.to_ascii_lowercase();
    let last = if ["s", "x", "ch", "sh"].iter().any(|end| lower.ends_with(end)) {
        format!("{last}es")
    } else if lower.ends_with('y') && !lower.ends_with("ay") && !lower.ends_with("ey") && !lower.ends_with("oy") {
        format!("{}ies", &last[..last.len() - 1])
    } else {
        format!("{last}s")
    };
    format!("{head}{last}")
}

/// A status as a person reads it: `rolled_back` → `rolled back`.
pub fn status(snake: &str) -> String {
    snake.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_quoted_on_one_line() {
        assert_eq!(one_line("versi\n\ton"), "versi\\n\\ton");
        assert_eq!(one_line("Jäde Kush"), "Jäde Kush");
    }

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count(1, "scene"), "1 scene");
        assert_eq!(count(0, "scene"), "0 scenes");
        assert_eq!(count(2, "batch"), "2 batches");
        assert_eq!(count(3, "StashID"), "3 StashIDs");
        assert_eq!(count(2, "stash-box request"), "2 stash-box requests");
        assert_eq!(count(5, "entry"), "5 entries");
        assert_eq!(count(5, "key"), "5 keys");
        assert_eq!(status("partially_applied"), "partially applied");
    }
}
