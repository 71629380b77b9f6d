//! `FindPerformers`: one sorted page of performers.

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use super::{entity_ids, find_filter, name_equals, parse_id, stash_ids, updated_after};
use crate::graphql::{ApiError, Transport};
use crate::stash::{EntityQuery, FindFilter, Performer};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/find_performers.graphql",
    response_derives = "Debug",
    skip_serializing_none
)]
struct FindPerformers;

/// Fetches one page; returns Stash's total count and the page's performers.
pub fn run(
    transport: &Transport,
    query: &EntityQuery,
    name: Option<&str>,
    filter: &FindFilter,
) -> Result<(u64, Vec<Performer>), ApiError> {
    let updated_at = updated_after!(find_performers, query.updated_after.as_deref());
    let name = name_equals!(find_performers, name);
    let performer_filter =
        (updated_at.is_some() || name.is_some()).then_some(find_performers::PerformerFilterType { name, updated_at });
    let variables = find_performers::Variables {
        filter: Some(find_filter!(find_performers, filter)),
        performer_filter,
        ids: entity_ids(query),
    };
    let found = transport.query::<FindPerformers>(variables)?.find_performers;
    let performers = found.performers.into_iter().map(convert).collect::<Result<_, _>>()?;
    Ok((u64::try_from(found.count).unwrap_or(0), performers))
}

/// A generated performer as the crate's own [`Performer`].
fn convert(p: find_performers::FindPerformersFindPerformersPerformers) -> Result<Performer, ApiError> {
    Ok(Performer {
        id: parse_id(&p.id)?,
        name: p.name,
        disambiguation: p.disambiguation,
        aliases: p.alias_list,
        urls: p.urls.unwrap_or_default(),
        updated_at: p.updated_at,
        stash_ids: stash_ids!(p.stash_ids),
    })
}
