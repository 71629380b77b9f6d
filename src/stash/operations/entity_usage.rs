//! `TagUsage`, `PerformerUsage`, `StudioUsage`, `GalleryUsage`: what still uses a tag,
//! performer, studio or gallery, so
//! a rollback deletes what its plan created only when nothing does. Deleting a tag silently
//! strips it from everything that has it, so every kind of use counts, not only scenes.

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Transport};
use crate::stash::ObjectKind;
use crate::stash::operations::writes::not_created_by_name;

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
usage_query!(GalleryUsage);

/// How many things use the object; `None` when Stash no longer has it. For every kind: scenes,
/// images, galleries and groups; for a tag also performers, studios, scene markers and the tags
/// it is a parent or child of; for a studio also its child studios (deleting a parent would
/// orphan them).
pub fn run(transport: &Transport, kind: ObjectKind, id: i64) -> Result<Option<u64>, ApiError> {
    let id = id.to_string();
    let counts: Option<Vec<i64>> = match kind {
        ObjectKind::Tag => transport.query::<TagUsage>(tag_usage::Variables { id })?.find_tag.map(|t| {
            vec![
                t.scene_count,
                t.scene_marker_count,
                t.image_count,
                t.gallery_count,
                t.performer_count,
                t.studio_count,
                t.group_count,
                t.parent_count,
                t.child_count,
            ]
        }),
        ObjectKind::Performer => transport
            .query::<PerformerUsage>(performer_usage::Variables { id })?
            .find_performer
            .map(|p| vec![p.scene_count, p.image_count, p.gallery_count, p.group_count]),
        ObjectKind::Studio => transport.query::<StudioUsage>(studio_usage::Variables { id })?.find_studio.map(|s| {
            let children = i64::try_from(s.child_studios.len()).unwrap_or(i64::MAX);
            vec![s.scene_count, s.image_count, s.gallery_count, s.group_count, children]
        }),
        ObjectKind::Gallery => transport
            .query::<GalleryUsage>(gallery_usage::Variables { id })?
            .find_gallery
            .map(|g| vec![g.image_count, i64::try_from(g.scenes.len()).unwrap_or(i64::MAX)]),
        ObjectKind::Scene | ObjectKind::Image => return Err(not_created_by_name(kind)),
    };
    Ok(counts.map(|c| c.iter().map(|n| u64::try_from(*n).unwrap_or(0)).sum()))
}
