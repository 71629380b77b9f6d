//! `FindGalleries`: one sorted page of galleries.

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use super::{find_filter, parse_id, updated_after};
use crate::graphql::{ApiError, Transport};
use crate::stash::{FindFilter, Gallery, MediaQuery};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/find_galleries.graphql",
    response_derives = "Debug",
    skip_serializing_none
)]
struct FindGalleries;

/// Fetches one page; returns Stash's total count and the page's galleries.
pub fn run(transport: &Transport, query: &MediaQuery, filter: &FindFilter) -> Result<(u64, Vec<Gallery>), ApiError> {
    let updated_at = updated_after!(find_galleries, query.updated_after.as_deref());
    let id = query.id_after.map(|after| find_galleries::IntCriterionInput {
        value: after,
        value2: None,
        modifier: find_galleries::CriterionModifier::GREATER_THAN,
    });
    let gallery_filter = (updated_at.is_some() || id.is_some()).then_some(find_galleries::GalleryFilterType {
        id,
        code: None,
        updated_at,
    });
    let ids = query.ids.as_ref().map(|ids| ids.iter().map(i64::to_string).collect());
    let variables =
        find_galleries::Variables { filter: Some(find_filter!(find_galleries, filter)), gallery_filter, ids };
    let found = transport.query::<FindGalleries>(variables)?.find_galleries;
    let galleries = found.galleries.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), galleries))
}

/// Fetches the galleries whose code equals `code` (Stash compares with `LIKE`: callers keep
/// the exact matches).
pub(crate) fn run_with_code(
    transport: &Transport,
    code: &str,
    filter: &FindFilter,
) -> Result<(u64, Vec<Gallery>), ApiError> {
    let gallery_filter = find_galleries::GalleryFilterType {
        id: None,
        code: Some(find_galleries::StringCriterionInput {
            value: code.to_owned(),
            modifier: find_galleries::CriterionModifier::EQUALS,
        }),
        updated_at: None,
    };
    let variables = find_galleries::Variables {
        filter: Some(find_filter!(find_galleries, filter)),
        gallery_filter: Some(gallery_filter),
        ids: None,
    };
    let found = transport.query::<FindGalleries>(variables)?.find_galleries;
    let galleries = found.galleries.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), galleries))
}

fn convert(g: find_galleries::FindGalleriesFindGalleriesGalleries) -> Result<Gallery, ApiError> {
    let ids = |list: Vec<String>| list.iter().map(|id| parse_id(id)).collect::<Result<Vec<_>, _>>();
    // A zip gallery has its zip as file; a folder gallery has its folder; one made by hand neither.
    let path = g.files.into_iter().next().map(|f| f.path).or(g.folder.map(|f| f.path));
    Ok(Gallery {
        id: parse_id(&g.id)?,
        title: g.title,
        code: g.code,
        details: g.details,
        photographer: g.photographer,
        urls: g.urls,
        date: g.date,
        rating100: g.rating100,
        organized: g.organized,
        created_at: g.created_at,
        updated_at: g.updated_at,
        path,
        image_count: g.image_count,
        studio_id: g.studio.map(|st| parse_id(&st.id)).transpose()?,
        performer_ids: ids(g.performers.into_iter().map(|p| p.id).collect())?,
        tag_ids: ids(g.tags.into_iter().map(|t| t.id).collect())?,
    })
}
