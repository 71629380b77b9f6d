//! `Configuration`: StashHog's settings, stash-box endpoints, tag exclusions and where Stash's
//! config file is, in one request.

use graphql_client::GraphQLQuery;

use super::super::scalars::*;
use crate::graphql::{ApiError, Transport};
use crate::stash::{StashBox, StashConfig};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/configuration.graphql",
    response_derives = "Debug"
)]
struct Configuration;

/// Reads the configuration StashHog depends on.
pub fn run(transport: &Transport) -> Result<StashConfig, ApiError> {
    let variables = configuration::Variables { plugins: Some(vec![crate::PLUGIN_ID.to_owned()]) };
    Ok(convert(transport.query::<Configuration>(variables)?.configuration))
}

/// The generated configuration as the crate's own [`StashConfig`].
fn convert(config: configuration::ConfigurationConfiguration) -> StashConfig {
    let mut plugins: PluginConfigMap = config.plugins;
    StashConfig {
        stash_boxes: config
            .general
            .stash_boxes
            .into_iter()
            .map(|b| StashBox {
                name: b.name,
                endpoint: b.endpoint,
                api_key: b.api_key,
                max_requests_per_minute: u32::try_from(b.max_requests_per_minute).ok().filter(|n| *n > 0),
            })
            .collect(),
        exclude_tag_patterns: config.scraping.exclude_tag_patterns,
        config_file: Some(config.general.config_file_path)
            .filter(|p| !p.trim().is_empty())
            .map(std::path::PathBuf::from),
        plugin_settings: plugins.remove(crate::PLUGIN_ID).unwrap_or_default(),
    }
}
