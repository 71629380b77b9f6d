//! `FindSceneIds`: one sorted page of scene ids only.

use graphql_client::GraphQLQuery;

use super::{find_filter, parse_id};
use crate::graphql::{ApiError, Transport};
use crate::stash::FindFilter;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/find_scene_ids.graphql",
    response_derives = "Debug",
    skip_serializing_none
)]
struct FindSceneIds;

/// Fetches one page of ids above `after`.
pub fn run(transport: &Transport, after: Option<i64>, filter: &FindFilter) -> Result<(u64, Vec<i64>), ApiError> {
    let scene_filter = after.map(|after| find_scene_ids::SceneFilterType {
        id: Some(find_scene_ids::IntCriterionInput {
            value: after,
            value2: None,
            modifier: find_scene_ids::CriterionModifier::GREATER_THAN,
        }),
        stash_id_endpoint: None,
        updated_at: None,
    });
    let variables = find_scene_ids::Variables { filter: Some(find_filter!(find_scene_ids, filter)), scene_filter };
    let found = transport.query::<FindSceneIds>(variables)?.find_scenes;
    let ids = found.scenes.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), ids))
}

/// A generated scene of this page as its id.
fn convert(scene: find_scene_ids::FindSceneIdsFindScenesScenes) -> Result<i64, ApiError> {
    parse_id(&scene.id)
}
