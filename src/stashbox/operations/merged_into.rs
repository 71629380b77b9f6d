//! `MergedInto`: the scene an applied MERGE edit folded a stash-box scene into.

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Service, Transport, read_answer};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stashbox/schema.graphql",
    query_path = "graphql/stashbox/merged_into.graphql",
    response_derives = "Debug"
)]
struct MergedInto;

/// The surviving scene's id and whether it is deleted too, if `id` was merged.
pub fn run(transport: &Transport, id: &str) -> Result<Option<(String, bool)>, ApiError> {
    let answer = transport.query::<MergedInto>(merged_into::Variables { id: id.to_owned() })?;
    Ok(survivor(answer, id))
}

/// Reads an answer (HTTP status and body) about `id` exactly as a request's is read.
pub fn decode(status: u16, body: &str, id: &str) -> Result<Option<(String, bool)>, ApiError> {
    Ok(survivor(read_answer(&Service::StashBox("decode".into()), status, body)?, id))
}

/// The scene a MERGE edit folded `id` into, and whether it is deleted too.
fn survivor(answer: merged_into::ResponseData, id: &str) -> Option<(String, bool)> {
    use merged_into::MergedIntoQueryEditsEditsTarget as Target;
    answer.query_edits.edits.into_iter().find_map(|edit| match edit.target {
        Some(Target::Scene(scene)) if scene.id != id => Some((scene.id, scene.deleted)),
        _ => None,
    })
}
