//! `TagUsage`, `PerformerUsage`, `StudioUsage`: what still uses a tag, performer or studio, so
//! a rollback deletes what its plan created only when nothing does.

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Transport};
use crate::stash::EntityKind;

macro_rules! usage_query {
    ($name:ident) => {
        #[derive(GraphQLQuery)]
        #[graphql(
            schema_path = "graphql/stash/schema.graphql",
            query_path = "graphql/stash/entity_usage.graphql",
            response_derives = "Debug"
        )]
        struct $name;
    };
}

usage_query!(TagUsage);
usage_query!(PerformerUsage);
usage_query!(StudioUsage);

/// How many scenes, images, galleries and groups use the object; `None` when Stash no longer
/// has it.
pub fn run(transport: &Transport, kind: EntityKind, id: i64) -> Result<Option<u64>, ApiError> {
    let id = id.to_string();
    let counts = match kind {
        EntityKind::Tag => transport
            .query::<TagUsage>(tag_usage::Variables { id })?
            .find_tag
            .map(|t| [t.scene_count, t.image_count, t.gallery_count, t.group_count]),
        EntityKind::Performer => transport
            .query::<PerformerUsage>(performer_usage::Variables { id })?
            .find_performer
            .map(|p| [p.scene_count, p.image_count, p.gallery_count, p.group_count]),
        EntityKind::Studio => transport
            .query::<StudioUsage>(studio_usage::Variables { id })?
            .find_studio
            .map(|s| [s.scene_count, s.image_count, s.gallery_count, s.group_count]),
    };
    Ok(counts.map(|c| c.iter().map(|n| u64::try_from(*n).unwrap_or(0)).sum()))
}
