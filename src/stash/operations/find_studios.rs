//! `FindStudios`: one sorted page of studios.

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use super::{entity_ids, find_filter, name_equals, parse_id, stash_ids, updated_after};
use crate::graphql::{ApiError, Transport};
use crate::stash::{EntityQuery, FindFilter, Studio};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/find_studios.graphql",
    response_derives = "Debug",
    skip_serializing_none
)]
struct FindStudios;

/// Fetches one page; returns Stash's total count and the page's studios.
pub fn run(
    transport: &Transport,
    query: &EntityQuery,
    name: Option<&str>,
    filter: &FindFilter,
) -> Result<(u64, Vec<Studio>), ApiError> {
    let updated_at = updated_after!(find_studios, query.updated_after.as_deref());
    let name = name_equals!(find_studios, name);
    let studio_filter =
        (updated_at.is_some() || name.is_some()).then_some(find_studios::StudioFilterType { name, updated_at });
    let variables = find_studios::Variables {
        filter: Some(find_filter!(find_studios, filter)),
        studio_filter,
        ids: entity_ids(query),
    };
    let found = transport.query::<FindStudios>(variables)?.find_studios;
    let studios = found.studios.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), studios))
}

/// A generated studio as the crate's own [`Studio`].
fn convert(s: find_studios::FindStudiosFindStudiosStudios) -> Result<Studio, ApiError> {
    Ok(Studio {
        id: parse_id(&s.id)?,
        name: s.name,
        aliases: s.aliases,
        parent_id: s.parent_studio.map(|p| parse_id(&p.id)).transpose()?,
        updated_at: s.updated_at,
        stash_ids: stash_ids!(s.stash_ids),
    })
}
