//! `MergedInto`: the scene an applied MERGE edit folded a stash-box scene into.

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Transport};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stashbox/schema.graphql",
    query_path = "graphql/stashbox/merged_into.graphql",
    response_derives = "Debug"
)]
struct MergedInto;

/// The surviving scene's id and whether it is deleted too, if `id` was merged.
pub fn run(transport: &Transport, id: &str) -> Result<Option<(String, bool)>, ApiError> {
    use merged_into::MergedIntoQueryEditsEditsTarget as Target;
    let answer = transport.query::<MergedInto>(merged_into::Variables { id: id.to_owned() })?;
    Ok(answer.query_edits.edits.into_iter().find_map(|edit| match edit.target {
        Some(Target::Scene(scene)) if scene.id != id => Some((scene.id, scene.deleted)),
        _ => None,
    }))
}
