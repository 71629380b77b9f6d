//! Details detector: details scraped as HTML turned into the plain text Stash shows, and —
//! when the user gives a template — details for scenes that have none.
//!
//! Cleaning keeps the text and its paragraphs: `<p>` and `<br>` become line breaks, a link
//! becomes "text (url)", entities are decoded and runs of spaces collapsed. A template is only
//! filled when every placeholder it uses has a value; half-filled sentences are worse than none.

use std::sync::OnceLock;

use regex::Regex;

use super::{Library, Proposal};
use crate::plans::{Action, Field};
use crate::stash::Scene;

/// Cleaning changes only the form of the text.
pub(crate) const CLEANED: f64 = 0.95;
/// Generated from the template: true to the scene's data, but the user's wording.
pub(crate) const TEMPLATE: f64 = 0.75;

fn pattern(cell: &'static OnceLock<Regex>, text: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(text).unwrap_or_else(|_| unreachable!("the pattern is a constant")))
}

/// The proposal for the scene's details, if any: cleaned HTML, or the filled template.
pub fn detect(scene: &Scene, proposals: &[Proposal], library: &Library, template: Option<&str>) -> Option<Proposal> {
    let current = scene.details.as_deref().unwrap_or("").trim();
    if current.is_empty() {
        template.and_then(|t| fill(t, scene, proposals, library)).map(|text| Proposal {
            field: Field::Details,
            action: Action::Set,
            value: text.into(),
            reason: "no details; filled from your details template".into(),
            confidence: TEMPLATE,
        })
    } else {
        let cleaned = clean(current);
        (cleaned != current && !cleaned.is_empty()).then(|| Proposal {
            field: Field::Details,
            action: Action::Set,
            value: cleaned.into(),
            reason: "details contain HTML markup or stray whitespace".into(),
            confidence: CLEANED,
        })
    }
}

/// Plain text from HTML-ish details, paragraphs kept.
pub fn clean(html: &str) -> String {
    static BREAK: OnceLock<Regex> = OnceLock::new();
    static PARAGRAPH: OnceLock<Regex> = OnceLock::new();
    static LINK: OnceLock<Regex> = OnceLock::new();
    static TAG: OnceLock<Regex> = OnceLock::new();
    let text = html.replace("\r\n", "\n");
    let text = pattern(&BREAK, r"(?i)<br\s*/?>").replace_all(&text, "\n");
    let text = pattern(&PARAGRAPH, r"(?i)</?(p|div|li|h[1-6])(\s[^>]*)?>").replace_all(&text, "\n\n");
    let text = pattern(&LINK, r#"(?is)<a\s[^>]*?href\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a>"#).replace_all(
        &text,
        |c: &regex::Captures| {
            let (url, label) = (&c[1], c[2].trim());
            if label.is_empty() || label == url { url.to_owned() } else { format!("{label} ({url})") }
        },
    );
    let text = pattern(&TAG, r"<[^>]*>").replace_all(&text, "");
    let text = decode_entities(&text);
    let mut paragraphs: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            if !lines.is_empty() {
                paragraphs.push(lines.join("\n"));
                lines.clear();
            }
        } else {
            lines.push(line);
        }
    }
    if !lines.is_empty() {
        paragraphs.push(lines.join("\n"));
    }
    paragraphs.join("\n\n")
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // An entity is short: look for its ';' within 12 characters (not bytes: the text may
        // go on with any letter, and a byte cut could land inside one).
        let end = rest.char_indices().take(12).find(|&(_, c)| c == ';').map(|(i, _)| i);
        let decoded = end.and_then(|end| entity(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "eacute" => 'é',
        "egrave" => 'è',
        "aacute" => 'á',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "copy" => '©',
        _ => return None,
    })
}

/// The template with `{title}`, `{studio}`, `{performers}`, `{date}` filled from the scene and
/// this run's proposals; `None` when a placeholder it uses has no value.
pub fn fill(template: &str, scene: &Scene, proposals: &[Proposal], library: &Library) -> Option<String> {
    let proposed = |field: Field| proposals.iter().filter(move |p| p.field == field).filter_map(|p| p.value.as_i64());
    let studio =
        scene.studio_id.or_else(|| proposed(Field::Studio).next()).map(|id| library.studio_name(id).to_owned());
    let mut performers: Vec<&str> = scene
        .performer_ids
        .iter()
        .copied()
        .chain(proposed(Field::Performers))
        .map(|id| library.performer_name(id))
        .collect();
    performers.dedup();
    let performers = match performers.as_slice() {
        [] => None,
        [one] => Some((*one).to_owned()),
        [init @ .., last] => Some(format!("{} and {last}", init.join(", "))),
    };
    let title = scene.title.clone().filter(|t| !t.trim().is_empty());
    let mut out = template.to_owned();
    for (placeholder, value) in
        [("{title}", title), ("{studio}", studio), ("{performers}", performers), ("{date}", scene.date.clone())]
    {
        if out.contains(placeholder) {
            out = out.replace(placeholder, &value?);
        }
    }
    Some(out.trim().to_owned()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ampersand_before_a_multibyte_letter_is_kept() {
        assert_eq!(decode_entities("Tom & friends — part 2"), "Tom & friends — part 2");
        assert_eq!(decode_entities("a &amp; b — c&#233;"), "a & b — cé");
    }
    use crate::analysis::tests::{library, scene_at};

    #[test]
    fn html_becomes_plain_paragraphs() {
        let html = "<p>Brent &amp; Jay at the&nbsp;pool.<br/>Part&#39;s two</p>\n<p>More at <a href=\"https://x.example\">the site</a>  now</p>";
        assert_eq!(clean(html), "Brent & Jay at the pool.\nPart's two\n\nMore at the site (https://x.example) now");
        assert_eq!(clean("Plain text\n\n\n\nstays   plain"), "Plain text\n\nstays plain");
        assert_eq!(clean("AT&T rocks"), "AT&T rocks");
    }

    #[test]
    fn clean_details_get_no_change() {
        let mut scene = scene_at("/x.mp4");
        scene.details = Some("Already clean.\n\nTwo paragraphs.".into());
        assert_eq!(detect(&scene, &[], &library(), None), None);
    }

    #[test]
    fn the_template_fills_only_when_every_placeholder_has_a_value() {
        let mut scene = scene_at("/x.mp4");
        scene.studio_id = Some(1);
        scene.performer_ids = vec![10, 11];
        let template = "A {studio} production featuring {performers}.";
        assert_eq!(
            fill(template, &scene, &[], &library()).as_deref(),
            Some("A Sean Cody production featuring Brent Corrigan and Jay Roberts.")
        );
        assert_eq!(fill("{title}", &scene, &[], &library()), None);
    }
}
