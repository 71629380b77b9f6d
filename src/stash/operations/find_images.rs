//! `FindImages`: one sorted page of images.

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use super::{find_filter, parse_id, updated_after};
use crate::graphql::{ApiError, Transport};
use crate::stash::{FindFilter, Image, MediaQuery};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/find_images.graphql",
    response_derives = "Debug",
    skip_serializing_none
)]
struct FindImages;

/// Fetches one page; returns Stash's total count and the page's images.
pub fn run(transport: &Transport, query: &MediaQuery, filter: &FindFilter) -> Result<(u64, Vec<Image>), ApiError> {
    let updated_at = updated_after!(find_images, query.updated_after.as_deref());
    let id = query.id_after.map(|after| find_images::IntCriterionInput {
        value: after,
        value2: None,
        modifier: find_images::CriterionModifier::GREATER_THAN,
    });
    let image_filter =
        (updated_at.is_some() || id.is_some()).then_some(find_images::ImageFilterType { id, updated_at });
    let ids = query.ids.as_ref().map(|ids| ids.iter().map(i64::to_string).collect());
    let variables = find_images::Variables { filter: Some(find_filter!(find_images, filter)), image_filter, ids };
    let found = transport.query::<FindImages>(variables)?.find_images;
    let images = found.images.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), images))
}

fn convert(i: find_images::FindImagesFindImagesImages) -> Result<Image, ApiError> {
    use find_images::FindImagesFindImagesImagesVisualFiles as File;
    let ids = |list: Vec<String>| list.iter().map(|id| parse_id(id)).collect::<Result<Vec<_>, _>>();
    Ok(Image {
        id: parse_id(&i.id)?,
        title: i.title,
        code: i.code,
        details: i.details,
        photographer: i.photographer,
        urls: i.urls,
        date: i.date,
        rating100: i.rating100,
        organized: i.organized,
        created_at: i.created_at,
        updated_at: i.updated_at,
        paths: i
            .visual_files
            .into_iter()
            .map(|f| match f {
                File::ImageFile(f) => f.path,
                File::VideoFile(f) => f.path,
            })
            .collect(),
        studio_id: i.studio.map(|st| parse_id(&st.id)).transpose()?,
        performer_ids: ids(i.performers.into_iter().map(|p| p.id).collect())?,
        tag_ids: ids(i.tags.into_iter().map(|t| t.id).collect())?,
        gallery_ids: ids(i.galleries.into_iter().map(|g| g.id).collect())?,
    })
}
