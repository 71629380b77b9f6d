//! The optional AI detector: asks an OpenAI-compatible chat-completions endpoint (OpenAI, or a
//! local llama.cpp / Ollama server) about the scenes the rules left without a studio or
//! performers.
//!
//! A model invents names and costs money, so: scenes go in batches keyed by scene id; an answer
//! must be JSON of the agreed shape and name only scenes of its batch — anything else is dropped
//! and counted; a name counts only when it is exactly a studio, performer or tag the library has
//! (by name or an alias only one has); the AI only fills a field the rules left empty, never
//! overruling them, and never with more confidence than [`MAX_CONFIDENCE`]. Before the first
//! call the cost of the whole run is estimated (tokens from text length, a price per model) and
//! a run above the user's limit does not start; afterwards the real usage the endpoint reports
//! is summed.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::text::{self, NameIndex};
use super::{Library, Proposal};
use crate::plans::{Action, Field};
use crate::settings::AiSettings;
use crate::stash::Scene;

/// Scenes per request.
pub const BATCH: usize = 20;
/// The most an AI answer is trusted: below the rules' sure matches, so auto-approval set for
/// rules does not approve guesses.
pub(crate) const MAX_CONFIDENCE: f64 = 0.85;
/// An answer's confidence when it gives none.
pub(crate) const DEFAULT_CONFIDENCE: f64 = 0.75;
/// Tokens an answer is expected to take per scene, for the estimate.
const ANSWER_TOKENS_PER_SCENE: u64 = 60;
/// Tag names listed in the prompt, at most.
const TAGS_IN_PROMPT: usize = 300;

const INSTRUCTIONS: &str = "You identify the studio, performers and tags of video scenes from their file path and title. \
Answer with JSON only, exactly: {\"scenes\": [{\"id\": <the scene's id>, \"studio\": <name or null>, \
\"performers\": [<names>], \"tags\": [<names>], \"confidence\": <0 to 1>}]}, one entry per scene you were given. \
Name only what the path or title shows; never guess. Use tag names from this list only: ";

/// USD per million tokens, input and output, by model name prefix (longest first wins).
const PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-5-mini", 0.25, 2.00),
    ("gpt-5", 1.25, 10.00),
    ("o4-mini", 1.10, 4.40),
    ("gpt-3.5-turbo", 0.50, 1.50),
];
/// The price assumed for a model not in the table on a remote endpoint: the dearest above, so
/// the guard errs on the safe side.
const UNKNOWN_REMOTE_PRICE: (f64, f64) = (2.50, 10.00);

/// The AI detector cannot run, or stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AiError {
    /// A setting it needs is missing.
    #[error("the AI detector needs {0}: set it in Settings > Plugins > StashHog, or switch \"Analyze with AI\" off")]
    Missing(&'static str),
    /// The estimate is above the limit.
    #[error(
        "asking the AI about {scenes} scene(s) would cost about ${estimate:.4} (~{tokens} tokens with {model}), above the limit of {cents:.0} US cents (setting \"Analyze with AI - cost limit\"): raise it, narrow the scope (limit, path, since_last), or switch \"Analyze with AI\" off",
        cents = .limit * 100.0
    )]
    TooExpensive {
        /// Scenes that would be sent.
        scenes: usize,
        /// Estimated cost, USD.
        estimate: f64,
        /// Estimated tokens, in and out.
        tokens: u64,
        /// The model.
        model: String,
        /// The limit, USD.
        limit: f64,
    },
    /// The endpoint could not be reached or refused the request.
    #[error("the AI endpoint {url}: {reason}")]
    Endpoint {
        /// Where.
        url: String,
        /// What happened.
        reason: String,
        /// Whether every later request would fail the same way (connection, credentials).
        fatal: bool,
    },
}

/// What the AI detector did, for the summary.
#[derive(Debug, Default, Clone, Serialize)]
pub struct AiReport {
    /// Scenes sent.
    pub scenes_sent: usize,
    /// Requests that got an answer.
    pub requests: usize,
    /// Requests that failed.
    pub failed_requests: usize,
    /// Scene answers dropped: not JSON, wrong shape, or about a scene not asked.
    pub answers_dropped: usize,
    /// Names that are no studio, performer or tag of the library: dropped.
    pub names_unknown: usize,
    /// Proposals kept.
    pub proposals: usize,
    /// The estimate made before the first call.
    pub estimated_tokens: u64,
    /// The estimate, USD.
    pub estimated_cost_usd: f64,
    /// Input tokens the endpoint reported.
    pub prompt_tokens: u64,
    /// Output tokens the endpoint reported.
    pub completion_tokens: u64,
    /// Cost of the reported usage, USD.
    pub cost_usd: f64,
    /// Why the AI stopped early, if it did.
    pub error: Option<String>,
}

/// A client of one chat-completions endpoint and model.
#[derive(Debug)]
pub(crate) struct AiClient {
    http: reqwest::blocking::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    price: (f64, f64),
    max_cost_usd: f64,
}

impl AiClient {
    /// A client from the settings.
    pub fn new(settings: &AiSettings) -> Result<Self, AiError> {
        let base =
            settings.base_url.as_deref().ok_or(AiError::Missing("a base URL (\"Analyze with AI - base URL\")"))?;
        let model = settings.model.clone().ok_or(AiError::Missing("a model (\"Analyze with AI - model\")"))?;
        let url = format!("{}/chat/completions", base.trim_end_matches('/'));
        let local = crate::graphql::is_loopback(&url);
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300));
        if local {
            builder = builder.no_proxy();
        }
        let http =
            builder.build().map_err(|e| AiError::Endpoint { url: url.clone(), reason: e.to_string(), fatal: true })?;
        let price = price_of(&model, local);
        Ok(AiClient { http, url, model, api_key: settings.api_key.clone(), price, max_cost_usd: settings.max_cost_usd })
    }

    /// USD for this many input and output tokens.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        (input as f64 * self.price.0 + output as f64 * self.price.1) / 1e6
    }

    /// Estimates the whole run and refuses it above the limit; returns (tokens, USD).
    pub(crate) fn check_cost(&self, requests: &[Value]) -> Result<(u64, f64), AiError> {
        let scenes: usize = requests.iter().map(|r| r["scenes"].as_u64().unwrap_or(0) as usize).sum();
        let input: u64 = requests.iter().map(|r| (r["body"].to_string().len() as u64).div_ceil(4)).sum();
        let output = scenes as u64 * ANSWER_TOKENS_PER_SCENE;
        let estimate = self.cost(input, output);
        if estimate > self.max_cost_usd {
            return Err(AiError::TooExpensive {
                scenes,
                estimate,
                tokens: input + output,
                model: self.model.clone(),
                limit: self.max_cost_usd,
            });
        }
        Ok((input + output, estimate))
    }

    /// The request body for one batch of scenes.
    pub fn request(&self, batch: &[&Scene], library: &Library) -> Value {
        let mut tags: Vec<&str> =
            library.tags.values().filter(|t| !t.ignore_auto_tag).map(|t| t.name.as_str()).collect();
        tags.sort_unstable();
        tags.truncate(TAGS_IN_PROMPT);
        let scenes: Vec<Value> = batch
            .iter()
            .map(|s| json!({"id": s.id, "path": s.files.first().map(|f| f.path.as_str()), "title": s.title}))
            .collect();
        let body = json!({
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": format!("{INSTRUCTIONS}{}.", tags.join(", "))},
                {"role": "user", "content": json!({"scenes": scenes}).to_string()},
            ],
        });
        json!({"scenes": batch.len(), "body": body})
    }

    /// Sends one request; returns the answer's text and the usage the server reported.
    pub fn ask(&self, request: &Value) -> Result<Answer, AiError> {
        let failed = |reason: String, fatal: bool| AiError::Endpoint { url: self.url.clone(), reason, fatal };
        let mut call = self.http.post(&self.url).json(&request["body"]);
        if let Some(key) = &self.api_key {
            call = call.bearer_auth(key);
        }
        let response = call.send().map_err(|e| failed(format!("cannot reach it ({e})"), e.is_connect()))?;
        let status = response.status();
        let body: Value =
            response.json().map_err(|e| failed(format!("answered {status} with no JSON ({e})"), false))?;
        if status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(failed(
                format!("refused the API key ({status}); check the setting \"Analyze with AI - API key\""),
                true,
            ));
        }
        if !status.is_success() {
            let message: String = body.to_string().chars().take(300).collect();
            return Err(failed(format!("answered {status}: {message}"), status.as_u16() == 404));
        }
        let text = body.pointer("/choices/0/message/content").and_then(Value::as_str).unwrap_or_default().to_owned();
        let usage = |key: &str| body["usage"][key].as_u64().unwrap_or(0);
        Ok(Answer { text, prompt_tokens: usage("prompt_tokens"), completion_tokens: usage("completion_tokens") })
    }
}

/// What the model answered to one request, and what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answer's text (a JSON document, as the request asks).
    pub text: String,
    /// Input tokens the server counted.
    pub prompt_tokens: u64,
    /// Output tokens the server counted.
    pub completion_tokens: u64,
}

/// USD per million tokens (input, output): the table's, else free on a local server, else the
/// dearest.
pub(crate) fn price_of(model: &str, local: bool) -> (f64, f64) {
    let model = model.to_ascii_lowercase();
    let known =
        PRICES.iter().filter(|(prefix, _, _)| model.starts_with(prefix)).max_by_key(|(prefix, _, _)| prefix.len());
    match known {
        Some((_, input, output)) => (*input, *output),
        None if local => (0.0, 0.0),
        None => UNKNOWN_REMOTE_PRICE,
    }
}

/// What the rules already settled for a scene, so the AI never overrules them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settled {
    /// The scene has a studio, or the rules proposed one.
    pub studio: bool,
    /// The scene has performers, or the rules proposed some.
    pub performers: bool,
}

impl Settled {
    /// What `proposals` and the scene itself settle.
    pub fn of(scene: &Scene, proposals: &[Proposal]) -> Self {
        let proposed = |field: Field| proposals.iter().any(|p| p.field == field);
        Settled {
            studio: scene.studio_id.is_some() || proposed(Field::Studio),
            performers: !scene.performer_ids.is_empty() || proposed(Field::Performers),
        }
    }

    /// Whether the AI has anything to add.
    pub(crate) fn is_open(&self) -> bool {
        !self.studio || !self.performers
    }
}

/// Reads one answer for `batch`: the proposals it supports, per scene id. Counts what was
/// dropped in `report`.
pub fn read_answer(
    text: &str,
    batch: &[(&Scene, Settled, Vec<i64>)],
    library: &Library,
    report: &mut AiReport,
) -> Vec<(i64, Proposal)> {
    let body = text.trim().trim_start_matches("```json").trim_start_matches("```").trim_end_matches("```");
    let Some(entries) = serde_json::from_str::<Value>(body).ok().and_then(|v| v["scenes"].as_array().cloned()) else {
        report.answers_dropped += batch.len();
        return Vec::new();
    };
    let mut answered: Vec<i64> = Vec::new();
    let mut proposals = Vec::new();
    for entry in &entries {
        let Some((scene, settled, already)) =
            entry["id"].as_i64().and_then(|id| batch.iter().find(|(s, _, _)| s.id == id))
        else {
            report.answers_dropped += 1;
            continue;
        };
        if answered.contains(&scene.id) {
            report.answers_dropped += 1;
            continue;
        }
        answered.push(scene.id);
        let names = |key: &str| -> Option<Vec<&str>> {
            match &entry[key] {
                Value::Null => Some(Vec::new()),
                Value::String(s) => Some(vec![s.as_str()]),
                Value::Array(items) => items.iter().map(Value::as_str).collect(),
                _ => None,
            }
        };
        let (Some(studios), Some(performers), Some(tags)) = (names("studio"), names("performers"), names("tags"))
        else {
            report.answers_dropped += 1;
            continue;
        };
        let confidence = entry["confidence"].as_f64().unwrap_or(DEFAULT_CONFIDENCE).clamp(0.0, 1.0).min(MAX_CONFIDENCE);
        let mut resolve = |index: &NameIndex, name: &str| -> Option<i64> {
            let id = unique(index, name);
            if id.is_none() {
                report.names_unknown += 1;
            }
            id
        };
        let reason = |what: &str, name: &str| format!("the AI named {what} \"{name}\" for this path and title");
        for name in studios {
            if let Some(id) = resolve(&library.studio_names, name).filter(|_| !settled.studio) {
                let reason = reason("the studio", name);
                proposals.push((
                    scene.id,
                    Proposal { field: Field::Studio, action: Action::Set, value: id.into(), reason, confidence },
                ));
                break;
            }
        }
        for name in performers {
            if let Some(id) = resolve(&library.performer_names, name)
                && !settled.performers
                && !scene.performer_ids.contains(&id)
            {
                proposals
                    .push((scene.id, Proposal::add(Field::Performers, id, confidence, reason("the performer", name))));
            }
        }
        for name in tags {
            if let Some(id) = resolve(&library.tag_names, name)
                && !scene.tag_ids.contains(&id)
                && !already.contains(&id)
            {
                proposals.push((scene.id, Proposal::add(Field::Tags, id, confidence, reason("the tag", name))));
            }
        }
    }
    report.answers_dropped += batch.iter().filter(|(s, _, _)| !answered.contains(&s.id)).count();
    proposals.sort_by_key(|(id, p)| (*id, p.field, p.value.as_i64()));
    proposals.dedup_by(|a, b| a.0 == b.0 && a.1.field == b.1.field && a.1.value == b.1.value);
    proposals
}

/// The one entity a name is: exactly its name (or an alias only one has), separators and case
/// aside.
fn unique(index: &NameIndex, name: &str) -> Option<i64> {
    let owners = index.owners(&text::key(name));
    let names: Vec<i64> = owners.iter().filter(|o| !o.alias).map(|o| o.id).collect();
    match (names.as_slice(), owners) {
        ([one], _) => Some(*one),
        ([], [one]) => Some(one.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tests::{library, scene_at};

    #[test]
    fn answers_are_restricted_to_known_entities_and_asked_scenes() {
        let lib = library();
        let scene = scene_at("/x/clip.mp4");
        let batch = vec![(&scene, Settled::default(), vec![])];
        let mut report = AiReport::default();
        let answer = r#"{"scenes": [
            {"id": 1, "studio": "Colt", "performers": ["Brent Corrigan", "Nobody"], "tags": ["outdoor", "Made Up"], "confidence": 0.99},
            {"id": 2, "studio": "Colt", "performers": [], "tags": []}
        ]}"#;
        let found = read_answer(answer, &batch, &lib, &mut report);
        let got: Vec<(Field, i64, f64)> =
            found.iter().map(|(_, p)| (p.field, p.value.as_i64().unwrap_or(0), p.confidence)).collect();
        assert_eq!(
            got,
            [
                (Field::Studio, 2, MAX_CONFIDENCE),
                (Field::Tags, 20, MAX_CONFIDENCE),
                (Field::Performers, 10, MAX_CONFIDENCE)
            ]
        );
        assert_eq!((report.names_unknown, report.answers_dropped), (2, 1));
    }

    #[test]
    fn the_ai_never_overrules_what_the_rules_settled() {
        let lib = library();
        let scene = scene_at("/Studios/Sean Cody/clip.mp4");
        let settled = Settled { studio: true, performers: false };
        let batch = vec![(&scene, settled, vec![])];
        let answer = r#"{"scenes": [{"id": 1, "studio": "Colt", "performers": ["Jay Roberts"], "tags": []}]}"#;
        let found = read_answer(answer, &batch, &lib, &mut AiReport::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.field, Field::Performers);
    }

    #[test]
    fn a_malformed_answer_drops_the_batch() {
        let lib = library();
        let scene = scene_at("/x/clip.mp4");
        let batch = vec![(&scene, Settled::default(), vec![])];
        let mut report = AiReport::default();
        assert!(read_answer("Sure! Here is the JSON you asked for", &batch, &lib, &mut report).is_empty());
        assert!(read_answer(r#"{"scenes": [{"id": 1, "performers": 7}]}"#, &batch, &lib, &mut report).is_empty());
        assert_eq!(report.answers_dropped, 2);
    }

    #[test]
    fn prices_come_from_the_table_or_count_local_models_free() {
        assert_eq!(price_of("gpt-4o-mini-2024-07-18", false), (0.15, 0.60));
        assert_eq!(price_of("llama3.1", true), (0.0, 0.0));
        assert_eq!(price_of("mystery", false), UNKNOWN_REMOTE_PRICE);
        assert!(crate::graphql::is_loopback("http://127.0.0.1:8080/v1/chat/completions"));
        assert!(!crate::graphql::is_loopback("https://api.openai.com/v1/chat/completions"));
    }
}
