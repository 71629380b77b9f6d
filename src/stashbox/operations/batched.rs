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

use crate::graphql::{ApiError, Service, Transport};
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

/// Sends one aliased batch for `ids` (1 to [`BATCH`]); the answer of each alias, in order.
fn run(transport: &Transport, kind: Kind, ids: &[String]) -> Result<Vec<Value>, ApiError> {
    let variables: Map<String, Value> =
        ids.iter().enumerate().map(|(i, id)| (format!("id{i}"), Value::String(id.clone()))).collect();
    let body =
        QueryBody { variables: Value::Object(variables), query: kind.cached(ids.len()), operation_name: kind.name() };
    let mut data = transport.query_built(&body)?;
    (0..ids.len())
        .map(|i| match data.get_mut(format!("s{i}")) {
            Some(answer) => Ok(answer.take()),
            None => Err(ApiError::Server {
                service: transport.service().clone(),
                status: None,
                detail: format!("its answer to {} lacks alias s{i}", kind.name()),
            }),
        })
        .collect()
}

fn malformed(transport: &Transport, what: &str, e: &serde_json::Error) -> ApiError {
    let service: Service = transport.service().clone();
    ApiError::Server { service, status: None, detail: format!("its {what} is not what the schema says: {e}") }
}

#[derive(Deserialize)]
struct SceneAnswer {
    id: String,
    deleted: bool,
    tags: Vec<BoxTag>,
}

/// Looks up `ids` (1 to [`BATCH`]) in one request; one [`Lookup`] per id, in order.
pub fn scenes(transport: &Transport, ids: &[String]) -> Result<Vec<Lookup>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    run(transport, Kind::Scenes, ids)?
        .into_iter()
        .map(|answer| match answer {
            Value::Null => Ok(Lookup::NotFound),
            answer => {
                let scene: SceneAnswer =
                    serde_json::from_value(answer).map_err(|e| malformed(transport, "scene", &e))?;
                Ok(match scene.deleted {
                    true => Lookup::Deleted,
                    false => Lookup::Found(BoxScene { id: scene.id, tags: scene.tags }),
                })
            }
        })
        .collect()
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

/// For each of `ids` (1 to [`BATCH`]), in one request: the scene the applied MERGE that
/// consumed it went to, and whether that scene is deleted (merged on) too.
pub fn merged_into(transport: &Transport, ids: &[String]) -> Result<Vec<Option<(String, bool)>>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let answers = run(transport, Kind::MergeEdits, ids)?;
    answers
        .into_iter()
        .zip(ids)
        .map(|(answer, id)| {
            let edits: Edits = serde_json::from_value(answer).map_err(|e| malformed(transport, "edit list", &e))?;
            Ok(edits.edits.into_iter().filter_map(|e| e.target).find_map(|target| match target {
                Target { typename, id: Some(to), deleted } if typename == "Scene" && to != *id => {
                    Some((to, deleted.unwrap_or(false)))
                }
                _ => None,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{BATCH, Kind};

    #[test]
    fn documents_are_sized_to_the_batch() {
        let three = Kind::Scenes.cached(3);
        assert_eq!(three.matches("findScene(").count(), 3);
        assert!(three.starts_with("query FindScenesBatch($id0: ID!, $id1: ID!, $id2: ID!)"));
        assert_eq!(Kind::MergeEdits.cached(BATCH).matches("queryEdits(").count(), BATCH);
    }
}
