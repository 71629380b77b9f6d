//! Aliased batches: up to [`BATCH`] `findScene`s, or `queryEdits` for merges, in ONE request,
//! with a document sized to the batch (`s0 … s{n-1}`), so a follow-up about three scenes sends
//! three aliases, not forty switched-off ones.
//!
//! The documents are built here rather than kept in `graphql/stashbox/`, since their length
//! varies; [`documents`] lists every one of them for tests/schema_fidelity.rs, which validates
//! each against the upstream stash-box schema.

use std::fmt::Write as _;
use std::sync::OnceLock;

use graphql_client::QueryBody;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::graphql::{ApiError, Service, Transport, read_answer};
use crate::stashbox::{BoxScene, BoxTag, Lookup};

/// Aliases per request: stash-box sets no alias limit; 40 is its own fingerprint batch size.
pub const BATCH: usize = 40;

/// The two aliased operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `findScene` by id: the scene's tags, or that it is deleted.
    Scenes,
    /// `queryEdits` for the applied MERGE that consumed a scene.
    MergeEdits,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Scenes => "FindScenesBatch",
            Kind::MergeEdits => "MergedIntoBatch",
        }
    }

    /// One aliased field asking about `$id{i}`.
    fn field(self, i: usize) -> String {
        match self {
            Kind::Scenes => format!("  s{i}: findScene(id: $id{i}) {{ id deleted tags {{ id name }} }}\n"),
            Kind::MergeEdits => format!(
                "  s{i}: queryEdits(input: {{target_type: SCENE, target_id: $id{i}, operation: MERGE, applied: true}}) {{ edits {{ target {{ __typename ... on Scene {{ id deleted }} }} }} }}\n"
            ),
        }
    }

    fn document(self, n: usize) -> String {
        let variables: Vec<String> = (0..n).map(|i| format!("$id{i}: ID!")).collect();
        let mut document = format!("query {}({}) {{\n", self.name(), variables.join(", "));
        for i in 0..n {
            let _ = write!(document, "{}", self.field(i));
        }
        document.push_str("}\n");
        document
    }

    /// The document for a batch of `n` (1 to [`BATCH`]) ids, built once per size.
    fn cached(self, n: usize) -> &'static str {
        static DOCUMENTS: OnceLock<[Vec<String>; 2]> = OnceLock::new();
        let all = DOCUMENTS.get_or_init(|| {
            [Kind::Scenes, Kind::MergeEdits].map(|kind| (1..=BATCH).map(|n| kind.document(n)).collect())
        });
        let index = usize::from(self == Kind::MergeEdits);
        &all[index][n.clamp(1, BATCH) - 1]
    }
}

/// Every document this module can send, for the schema-fidelity tests.
pub fn documents() -> Vec<&'static str> {
    [Kind::Scenes, Kind::MergeEdits].into_iter().flat_map(|kind| (1..=BATCH).map(move |n| kind.cached(n))).collect()
}

/// Sends one aliased batch for `ids` (1 to [`BATCH`]); the answer's `data`.
fn run(transport: &Transport, kind: Kind, ids: &[String]) -> Result<Value, ApiError> {
    let variables: Map<String, Value> =
        ids.iter().enumerate().map(|(i, id)| (format!("id{i}"), Value::String(id.clone()))).collect();
    let body =
        QueryBody { variables: Value::Object(variables), query: kind.cached(ids.len()), operation_name: kind.name() };
    transport.query_built(&body)
}

/// Looks up `ids` (1 to [`BATCH`]) in one request; one [`Lookup`] per id, in order.
pub fn scenes(transport: &Transport, ids: &[String]) -> Result<Vec<Lookup>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    read_scenes(transport.service(), run(transport, Kind::Scenes, ids)?, ids.len())
}

/// For each of `ids` (1 to [`BATCH`]), in one request: the scene the applied MERGE that
/// consumed it went to, and whether that scene is deleted (merged on) too.
pub fn merged_into(transport: &Transport, ids: &[String]) -> Result<Vec<Option<(String, bool)>>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    read_merges(transport.service(), run(transport, Kind::MergeEdits, ids)?, ids)
}

// ---- reading the answers ------------------------------------------------------------------
// Pure functions of the answer's `data`, apart from the request code, so that tests and the
// fuzz target feed them whatever a stash-box (somebody else's server) may send. The transport
// has already turned a body with an `errors` array into an error, partial data or not: a batch
// is read whole or not at all, and the tag sync retries a failed batch on its next run.

/// Reads a `FindScenesBatch` answer's `data` for `n` asked ids: one [`Lookup`] per id, in order.
pub(crate) fn read_scenes(service: &Service, data: Value, n: usize) -> Result<Vec<Lookup>, ApiError> {
    aliases(service, Kind::Scenes, data, n)?
        .into_iter()
        .enumerate()
        .map(|(i, answer)| match answer {
            Value::Null => Ok(Lookup::NotFound),
            answer => {
                let scene: SceneAnswer =
                    serde_json::from_value(answer).map_err(|e| malformed(service, Kind::Scenes, i, &e))?;
                Ok(match scene.deleted {
                    true => Lookup::Deleted,
                    false => Lookup::Found(BoxScene { id: scene.id, tags: scene.tags }),
                })
            }
        })
        .collect()
}

/// Reads a `MergedIntoBatch` answer's `data` for the asked `ids`: per id, the scene its applied
/// MERGE went to (never itself) and whether that one is deleted too, or `None`.
pub(crate) fn read_merges(
    service: &Service,
    data: Value,
    ids: &[String],
) -> Result<Vec<Option<(String, bool)>>, ApiError> {
    aliases(service, Kind::MergeEdits, data, ids.len())?
        .into_iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (answer, id))| {
            let edits: Edits =
                serde_json::from_value(answer).map_err(|e| malformed(service, Kind::MergeEdits, i, &e))?;
            Ok(edits.edits.into_iter().filter_map(|e| e.target).find_map(|target| match target {
                Target { typename, id: Some(to), deleted } if typename == "Scene" && to != *id => {
                    Some((to, deleted.unwrap_or(false)))
                }
                _ => None,
            }))
        })
        .collect()
}

/// Reads a `FindScenesBatch` answer (HTTP status and body) for `ids` exactly as the client
/// reads one off the wire.
pub fn decode_scenes(status: u16, body: &str, ids: &[String]) -> Result<Vec<Lookup>, ApiError> {
    let service = Service::StashBox("decode".into());
    read_scenes(&service, read_answer(&service, status, body)?, ids.len())
}

/// Reads a `MergedIntoBatch` answer (HTTP status and body) for `ids` exactly as the client reads
/// one off the wire.
pub fn decode_merges(status: u16, body: &str, ids: &[String]) -> Result<Vec<Option<(String, bool)>>, ApiError> {
    let service = Service::StashBox("decode".into());
    read_merges(&service, read_answer(&service, status, body)?, ids)
}

/// The answers of aliases `s0 … s{n-1}`, in order; an error naming the first one missing.
fn aliases(service: &Service, kind: Kind, data: Value, n: usize) -> Result<Vec<Value>, ApiError> {
    let Value::Object(mut data) = data else {
        return Err(server(service, format!("its answer to {} is not an object of aliases", kind.name())));
    };
    (0..n)
        .map(|i| {
            data.remove(&format!("s{i}"))
                .ok_or_else(|| server(service, format!("its answer to {} lacks alias s{i}", kind.name())))
        })
        .collect()
}

fn malformed(service: &Service, kind: Kind, alias: usize, e: &serde_json::Error) -> ApiError {
    server(service, format!("its answer to {} at s{alias} is not what the schema says: {e}", kind.name()))
}

fn server(service: &Service, detail: String) -> ApiError {
    ApiError::Server { service: service.clone(), status: None, detail }
}

#[derive(Deserialize)]
struct SceneAnswer {
    id: String,
    deleted: bool,
    tags: Vec<BoxTag>,
}

#[derive(Deserialize)]
struct Edits {
    edits: Vec<Edit>,
}

#[derive(Deserialize)]
struct Edit {
    target: Option<Target>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(rename = "__typename")]
    typename: String,
    id: Option<String>,
    deleted: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::{BATCH, Kind, decode_merges, decode_scenes};
    use crate::graphql::ApiError;
    use crate::stashbox::{BoxScene, BoxTag, Lookup};

    #[test]
    fn documents_are_sized_to_the_batch() {
        let three = Kind::Scenes.cached(3);
        assert_eq!(three.matches("findScene(").count(), 3);
        assert!(three.starts_with("query FindScenesBatch($id0: ID!, $id1: ID!, $id2: ID!)"));
        assert_eq!(Kind::MergeEdits.cached(BATCH).matches("queryEdits(").count(), BATCH);
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("box-{i}")).collect()
    }

    /// The error's text, asserted to be one line (Stash shows it as one log line).
    #[track_caller]
    fn one_line(e: &ApiError) -> String {
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text:?}");
        text
    }

    #[test]
    fn each_alias_is_read_in_order_as_found_deleted_or_not_found() {
        let body = r#"{"data": {"s2": null, "s1": {"id": "b", "deleted": true, "tags": []},
            "s0": {"id": "a", "deleted": false, "tags": [{"id": "t1", "name": "Kissing"}]}, "s9": {"extra": 1}}}"#;
        let found = decode_scenes(200, body, &ids(3)).expect("read");
        let tags = vec![BoxTag { id: "t1".into(), name: "Kissing".into() }];
        assert_eq!(found, [Lookup::Found(BoxScene { id: "a".into(), tags }), Lookup::Deleted, Lookup::NotFound]);
    }

    #[test]
    fn a_missing_alias_fails_the_batch_naming_it() {
        let body = r#"{"data": {"s0": null, "s2": null}}"#;
        let e = decode_scenes(200, body, &ids(3)).expect_err("s1 is missing");
        assert!(matches!(e, ApiError::Server { status: None, .. }), "{e:?}");
        assert!(one_line(&e).contains("FindScenesBatch lacks alias s1"), "{e}");
        let e = decode_merges(200, r#"{"data": {}}"#, &ids(1)).expect_err("s0 is missing");
        assert!(one_line(&e).contains("MergedIntoBatch lacks alias s0"), "{e}");
    }

    #[test]
    fn errors_with_partial_data_fail_the_whole_batch_with_the_servers_messages() {
        let body = r#"{"data": {"s0": null, "s1": {"id": "b", "deleted": false, "tags": []}},
            "errors": [{"message": "invalid UUID length: 3", "path": ["s0"]}]}"#;
        let e = decode_scenes(200, body, &ids(2)).expect_err("refused");
        match &e {
            ApiError::Validation { messages, .. } => assert_eq!(messages, &["invalid UUID length: 3"]),
            other => panic!("{other:?}"),
        }
        let e = decode_merges(200, r#"{"data": null, "errors": [{"message": "Not authorized"}]}"#, &ids(1));
        assert!(matches!(e, Err(ApiError::Auth { .. })), "{e:?}");
    }

    #[test]
    fn wrong_types_and_nulls_where_the_schema_forbids_them_are_typed_errors() {
        let bad_scenes = [
            r#"{"id": "a", "deleted": "no", "tags": []}"#,
            r#"{"id": 5, "deleted": false, "tags": []}"#,
            r#"{"id": "a", "deleted": false, "tags": null}"#,
            r#"{"id": "a", "deleted": false, "tags": [null]}"#,
            r#"{"id": "a", "deleted": false, "tags": [{"id": "t", "name": 7}]}"#,
            r#"{"id": "a", "deleted": false}"#,
            r#"[]"#,
            r#""a""#,
        ];
        for scene in bad_scenes {
            let body = format!(r#"{{"data": {{"s0": null, "s1": {scene}}}}}"#);
            let e = decode_scenes(200, &body, &ids(2)).expect_err(scene);
            assert!(matches!(e, ApiError::Server { .. }), "{scene}: {e:?}");
            assert!(one_line(&e).contains("FindScenesBatch at s1 is not what the schema says"), "{e}");
        }
        for data in [r#"[]"#, r#""s0""#, "7"] {
            let e = decode_scenes(200, &format!(r#"{{"data": {data}}}"#), &ids(1)).expect_err(data);
            assert!(one_line(&e).contains("not an object of aliases"), "{e}");
        }
        for edits in [r#"null"#, r#"{"edits": null}"#, r#"{"edits": [{"target": {"id": "x"}}]}"#, r#"{"edits": {}}"#] {
            let e = decode_merges(200, &format!(r#"{{"data": {{"s0": {edits}}}}}"#), &ids(1)).expect_err(edits);
            assert!(one_line(&e).contains("MergedIntoBatch at s0"), "{e}");
        }
    }

    #[test]
    fn a_merge_is_the_first_scene_target_that_is_not_the_asked_scene() {
        let body = r#"{"data": {
            "s0": {"edits": [{"target": null}, {"target": {"__typename": "Tag"}},
                             {"target": {"__typename": "Scene", "id": "box-0", "deleted": true}},
                             {"target": {"__typename": "Scene", "id": "survivor", "deleted": null}}]},
            "s1": {"edits": []},
            "s2": {"edits": [{"target": {"__typename": "Scene", "id": "merged-on", "deleted": true}}]}}}"#;
        let merges = decode_merges(200, body, &ids(3)).expect("read");
        assert_eq!(merges, [Some(("survivor".into(), false)), None, Some(("merged-on".into(), true))]);
    }

    #[test]
    fn whatever_the_box_sends_is_read_or_refused_never_a_panic() {
        let bodies = [
            "",
            "null",
            "{}",
            r#"{"data": null}"#,
            r#"{"data": {"s0": 1e400}}"#,
            "<html>502</html>",
            r#"{"data": {"s0": {"id": "\ud800", "deleted": false, "tags": []}}}"#,
            &"[".repeat(10_000),
        ];
        for status in [200, 400, 401, 404, 429, 500, 502] {
            for body in bodies {
                if let Err(e) = decode_scenes(status, body, &ids(BATCH)) {
                    one_line(&e);
                }
                if let Err(e) = decode_merges(status, body, &ids(BATCH)) {
                    one_line(&e);
                }
            }
        }
    }
}
