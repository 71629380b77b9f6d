//! `ConfigurePlugin`: saves StashHog's plugin settings (Stash replaces the whole map).

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use crate::graphql::{ApiError, Transport};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/configure_plugin.graphql",
    response_derives = "Debug"
)]
struct ConfigurePlugin;

/// Replaces StashHog's saved settings by `settings`.
pub fn run(transport: &Transport, settings: &Map) -> Result<(), ApiError> {
    let variables = configure_plugin::Variables { plugin_id: crate::PLUGIN_ID.to_owned(), input: settings.clone() };
    transport.mutate::<ConfigurePlugin>(variables)?;
    Ok(())
}
