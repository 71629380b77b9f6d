//! `FindTags`: one sorted page of tags.

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use super::{entity_ids, find_filter, name_equals, parse_id, stash_ids, updated_after};
use crate::graphql::{ApiError, Transport};
use crate::stash::{EntityQuery, FindFilter, Tag};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/find_tags.graphql",
    response_derives = "Debug",
    skip_serializing_none
)]
struct FindTags;

/// Fetches one page; returns Stash's total count and the page's tags.
pub fn run(
    transport: &Transport,
    query: &EntityQuery,
    name: Option<&str>,
    filter: &FindFilter,
) -> Result<(u64, Vec<Tag>), ApiError> {
    let updated_at = updated_after!(find_tags, query.updated_after.as_deref());
    let name = name_equals!(find_tags, name);
    let tag_filter = (updated_at.is_some() || name.is_some()).then_some(find_tags::TagFilterType { name, updated_at });
    let variables =
        find_tags::Variables { filter: Some(find_filter!(find_tags, filter)), tag_filter, ids: entity_ids(query) };
    let found = transport.query::<FindTags>(variables)?.find_tags;
    let tags = found.tags.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), tags))
}

/// A generated tag as the crate's own [`Tag`].
fn convert(t: find_tags::FindTagsFindTagsTags) -> Result<Tag, ApiError> {
    Ok(Tag {
        id: parse_id(&t.id)?,
        name: t.name,
        sort_name: t.sort_name,
        aliases: t.aliases,
        ignore_auto_tag: t.ignore_auto_tag,
        updated_at: t.updated_at,
        stash_ids: stash_ids!(t.stash_ids),
    })
}
