//! `FindScenes`: one sorted page of scenes.

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use super::{find_filter, parse_id, updated_after};
use crate::graphql::{ApiError, Transport};
use crate::stash::{FindFilter, Fingerprint, Scene, SceneFile, SceneQuery, StashId};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/find_scenes.graphql",
    response_derives = "Debug",
    skip_serializing_none
)]
struct FindScenes;

/// The selection of a scene that `FindScenes` asks for (`{ id title … }`), taken from its
/// document so that a mutation answering with scenes asks for exactly the same fields.
pub(crate) static SCENE_FIELDS: std::sync::LazyLock<&'static str> = std::sync::LazyLock::new(|| {
    let document = include_str!("../../../graphql/stash/find_scenes.graphql");
    let start = document.find("scenes {").map_or(0, |i| i + "scenes ".len());
    let mut depth = 0;
    for (i, c) in document[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => return &document[start..=start + i],
            '}' => depth -= 1,
            _ => {}
        }
    }
    "{ id }"
});

/// Scenes answered in the shape of [`SCENE_FIELDS`] (a list, as `bulkSceneUpdate` answers).
pub(crate) fn scenes_from_json(answered: serde_json::Value) -> Result<Vec<Scene>, ApiError> {
    let scenes: Vec<find_scenes::FindScenesFindScenesScenes> =
        serde_json::from_value(answered).map_err(|e| ApiError::Server {
            service: crate::graphql::Service::Stash,
            status: None,
            detail: format!("it answered scenes we could not read: {e}"),
        })?;
    scenes.into_iter().map(convert).collect()
}

/// Fetches one page; returns Stash's total count and the page's scenes.
pub fn run(transport: &Transport, query: &SceneQuery, filter: &FindFilter) -> Result<(u64, Vec<Scene>), ApiError> {
    let endpoint = query.stash_id_endpoint.as_ref().map(|endpoint| find_scenes::StashIDCriterionInput {
        endpoint: Some(endpoint.clone()),
        stash_id: None,
        modifier: find_scenes::CriterionModifier::NOT_NULL,
    });
    let updated_at = updated_after!(find_scenes, query.updated_after.as_deref());
    let id = query.id_after.map(|after| find_scenes::IntCriterionInput {
        value: after,
        value2: None,
        modifier: find_scenes::CriterionModifier::GREATER_THAN,
    });
    let scene_filter = (endpoint.is_some() || updated_at.is_some() || id.is_some())
        .then_some(find_scenes::SceneFilterType { id, stash_id_endpoint: endpoint, updated_at });
    let ids = query.ids.as_ref().map(|ids| ids.iter().map(i64::to_string).collect());
    let variables = find_scenes::Variables { filter: Some(find_filter!(find_scenes, filter)), scene_filter, ids };
    let found = transport.query::<FindScenes>(variables)?.find_scenes;
    let scenes = found.scenes.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), scenes))
}

/// A generated scene as the crate's own [`Scene`].
fn convert(s: find_scenes::FindScenesFindScenesScenes) -> Result<Scene, ApiError> {
    fn ids<'a>(list: impl Iterator<Item = &'a String>) -> Result<Vec<i64>, ApiError> {
        list.map(|id| parse_id(id)).collect()
    }
    Ok(Scene {
        id: parse_id(&s.id)?,
        title: s.title,
        code: s.code,
        details: s.details,
        director: s.director,
        urls: s.urls,
        date: s.date,
        rating100: s.rating100,
        organized: s.organized,
        created_at: s.created_at,
        updated_at: s.updated_at,
        files: s
            .files
            .into_iter()
            .map(|f| SceneFile {
                path: f.path,
                fingerprints: f
                    .fingerprints
                    .into_iter()
                    .map(|p| Fingerprint { kind: p.type_, value: p.value })
                    .collect(),
                width: f.width,
                height: f.height,
                duration: f.duration,
                frame_rate: f.frame_rate,
            })
            .collect(),
        studio_id: s.studio.map(|st| parse_id(&st.id)).transpose()?,
        performer_ids: ids(s.performers.iter().map(|p| &p.id))?,
        tag_ids: ids(s.tags.iter().map(|t| &t.id))?,
        stash_ids: s
            .stash_ids
            .into_iter()
            .map(|i| StashId { endpoint: i.endpoint, stash_id: i.stash_id, updated_at: Some(i.updated_at) })
            .collect(),
        gallery_ids: ids(s.galleries.iter().map(|g| &g.id))?,
    })
}
