//! The `args` map of a plugin invocation, read leniently.
//!
//! Values reach us from three places with different types: the manifest's `defaultArgs` are
//! always strings (`"true"`, `"40"`), `runPluginOperation` and `runPluginTask` pass real JSON
//! values, and the command line's `--set key=value` gives strings. A reader accepts all of them
//! and says exactly which key was wrong when a value makes no sense.

use std::ops::RangeInclusive;

use serde_json::{Map, Value};

/// An argument had a value of the wrong kind.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("`{key}` must be {expected}, got {got}")]
pub struct ArgError {
    /// The offending key.
    pub key: String,
    /// What the key takes, in words.
    pub expected: &'static str,
    /// The value received, as JSON.
    pub got: String,
}

/// One argument a mode takes, as the mode declares it: the one place the command line's
/// `<mode> --help`, the refusal of unknown keys and the docs read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArgSpec {
    /// The key in `args` (`--set key=value`).
    pub name: &'static str,
    /// What it takes, e.g. `a plan id` or `true or false`.
    pub takes: &'static str,
    /// What it does, in one sentence.
    pub help: &'static str,
}

/// An argument nobody declared: the user mistyped it, or it belongs to another mode.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{mode} does not take `{key}`{hint}; it takes {known}")]
pub(crate) struct UnknownArg {
    /// The mode.
    pub mode: &'static str,
    /// The offending key.
    pub key: String,
    /// ` (did you mean `x`?)`, or nothing.
    pub hint: String,
    /// The known keys, in words.
    pub known: String,
}

/// The declared name closest to `key`: equal once case, `_` and `-` are ignored, else at most
/// two edits away (a third of the name for long ones).
pub(crate) fn did_you_mean<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let fold = |s: &str| s.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect::<String>();
    let wanted = fold(key);
    let mut best: Option<(usize, &str)> = None;
    for name in known {
        let distance = edit_distance(&wanted, &fold(name));
        let allowed = (wanted.chars().count() / 3).max(2);
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, name));
        }
    }
    best.map(|(_, name)| name)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The `args` object of Stash's input (or the command line's `--set` pairs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args(Map<String, Value>);

impl Args {
    /// Wraps a JSON object.
    pub fn new(map: Map<String, Value>) -> Self {
        Args(map)
    }

    /// The raw value of `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// Sets `key` (the command line's `--set`).
    pub fn set(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_owned(), value);
    }

    /// A string argument; numbers and bools are accepted as their text.
    pub fn string(&self, key: &str) -> Result<Option<String>, ArgError> {
        self.get(key).map(|v| as_string(v).ok_or_else(|| error(key, "a string", v))).transpose()
    }

    /// A yes/no argument: `true`/`false`, `"true"`/`"false"`, `1`/`0`, `"yes"`/`"no"`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ArgError> {
        self.get(key).map(|v| as_bool(v).ok_or_else(|| error(key, "true or false", v))).transpose()
    }

    /// A whole number, given as a JSON number or as text.
    pub fn integer(&self, key: &str) -> Result<Option<i64>, ArgError> {
        self.get(key).map(|v| as_integer(v).ok_or_else(|| error(key, "a whole number", v))).transpose()
    }

    /// A number (fractions allowed), given as a JSON number or as text.
    pub fn number(&self, key: &str) -> Result<Option<f64>, ArgError> {
        self.get(key).map(|v| as_number(v).ok_or_else(|| error(key, "a number", v))).transpose()
    }

    /// Ids as a person selects them: single ids and inclusive ranges, as text `"1,2,5-9"` or a
    /// JSON list of ids and ranges (`[1, "5-9"]`). The one reader of every `…_ids` argument.
    pub(crate) fn id_ranges(&self, key: &str) -> Result<Option<Vec<RangeInclusive<i64>>>, ArgError> {
        const EXPECTED: &str = "a list of ids (e.g. 1,2,3 or 1-20)";
        let Some(value) = self.get(key) else { return Ok(None) };
        let bad = || error(key, EXPECTED, value);
        let one = |text: &str| -> Result<RangeInclusive<i64>, ArgError> {
            let number = |t: &str| t.trim().parse::<i64>().map_err(|_| bad());
            match text.split_once('-') {
                Some((first, last)) if !first.trim().is_empty() => {
                    let (first, last) = (number(first)?, number(last)?);
                    if first > last { Err(bad()) } else { Ok(first..=last) }
                }
                _ => number(text).map(|id| id..=id),
            }
        };
        let ranges: Result<Vec<RangeInclusive<i64>>, ArgError> = match value {
            Value::Array(items) => items
                .iter()
                .map(|v| match as_integer(v) {
                    Some(id) => Ok(id..=id),
                    None => as_string(v).ok_or_else(bad).and_then(|t| one(&t)),
                })
                .collect(),
            other => {
                as_string(other).ok_or_else(bad)?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(one).collect()
            }
        };
        ranges.map(Some)
    }

    /// Refuses any key that is neither `mode`, Stash's `hookContext`, nor one of `known`; the
    /// error lists what `mode` takes and suggests the closest name.
    pub(crate) fn refuse_unknown<'a>(
        &self,
        mode: &'static str,
        known: impl Iterator<Item = &'a str> + Clone,
        listed: &str,
    ) -> Result<(), UnknownArg> {
        for key in self.0.keys() {
            // `request_id` is how the page finds any run again (run_summary); every mode takes it.
            if key == "mode" || key == "hookContext" || key == "request_id" || known.clone().any(|k| k == key) {
                continue;
            }
            let hint = did_you_mean(key, known.clone()).map(|k| format!(" (did you mean `{k}`?)")).unwrap_or_default();
            return Err(UnknownArg { mode, key: key.clone(), hint, known: listed.to_owned() });
        }
        Ok(())
    }

    /// The arguments as JSON, with anything that looks like a secret replaced, for the runs table
    /// and logs.
    pub fn redacted(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| {
                    let secret = ["key", "token", "password", "cookie", "secret"]
                        .iter()
                        .any(|s| k.to_ascii_lowercase().contains(s));
                    let v = if secret { Value::from("<redacted>") } else { v.clone() };
                    (k.clone(), v)
                })
                .collect(),
        )
    }

    /// The keys given.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

fn error(key: &str, expected: &'static str, got: &Value) -> ArgError {
    let mut got = got.to_string();
    if got.len() > 80 {
        got = format!("{}…", got.chars().take(80).collect::<String>());
    }
    ArgError { key: key.to_owned(), expected, got }
}

/// Text of a string, number or bool.
pub(crate) fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A bool from a bool, a 0/1 number or a yes/no word.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A finite number from a number or numeric text.
pub(crate) fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A whole number from a number (a float only when it is whole) or numeric text.
pub(crate) fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
        }
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        match v {
            Value::Object(m) => Args::new(m),
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn default_args_strings_read_as_their_types() {
        let a = args(json!({"dry": "true", "n": "40", "f": "3.0", "off": "false"}));
        assert_eq!(a.bool("dry"), Ok(Some(true)));
        assert_eq!(a.bool("off"), Ok(Some(false)));
        assert_eq!(a.integer("n"), Ok(Some(40)));
        assert_eq!(a.integer("f"), Ok(Some(3)));
        assert_eq!(a.integer("missing"), Ok(None));
    }

    #[test]
    fn wrong_type_names_the_key() {
        let a = args(json!({"dry": [1], "n": "forty"}));
        let e = a.bool("dry").unwrap_err();
        assert_eq!(e.to_string(), "`dry` must be true or false, got [1]");
        assert!(a.integer("n").unwrap_err().to_string().contains("`n` must be a whole number"));
    }

    #[test]
    fn ids_read_from_a_list_or_from_text() {
        let a = args(json!({"list": [1, "2"], "text": " 3, 4,", "bad": "3,x", "none": null}));
        assert_eq!(a.id_ranges("list"), Ok(Some(vec![1..=1, 2..=2])));
        assert_eq!(a.id_ranges("text"), Ok(Some(vec![3..=3, 4..=4])));
        assert_eq!(a.id_ranges("none"), Ok(None));
        let e = a.id_ranges("bad").unwrap_err();
        assert_eq!(e.to_string(), "`bad` must be a list of ids (e.g. 1,2,3 or 1-20), got \"3,x\"");
        let a = args(json!({"range": "1-3, 7", "backwards": "5-2", "listed": [1, "5-9"]}));
        assert_eq!(a.id_ranges("range"), Ok(Some(vec![1..=3, 7..=7])));
        assert_eq!(a.id_ranges("listed"), Ok(Some(vec![1..=1, 5..=9])));
        assert!(a.id_ranges("backwards").is_err());
    }

    #[test]
    fn a_mistyped_key_gets_the_closest_known_name() {
        let known = ["dry_run", "plan_id", "batch_size"];
        assert_eq!(did_you_mean("dryrun", known), Some("dry_run"));
        assert_eq!(did_you_mean("planid", known), Some("plan_id"));
        assert_eq!(did_you_mean("bach_size", known), Some("batch_size"));
        assert_eq!(did_you_mean("colour", known), None);
        let a = args(json!({"mode": "apply_plan", "dryrun": true}));
        let e = a.refuse_unknown("apply_plan", known.into_iter(), "plan_id, dry_run, batch_size").unwrap_err();
        assert_eq!(
            e.to_string(),
            "apply_plan does not take `dryrun` (did you mean `dry_run`?); it takes plan_id, dry_run, batch_size"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let a = args(json!({"api_key": "s3cret", "mode": "check"}));
        assert_eq!(a.redacted(), json!({"api_key": "<redacted>", "mode": "check"}));
    }
}
