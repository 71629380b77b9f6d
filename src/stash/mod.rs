//! The Stash client: how StashHog reads (and, through plans, writes) the local Stash.
//!
//! Each GraphQL operation lives in its own module under [`operations`], next to its document in
//! `graphql/stash/`; the types graphql_client generates stay inside that module and are turned
//! into the crate's own [`model`] types at its edge. Above this module nothing knows GraphQL.

pub mod model;
mod operations;
mod paging;
mod scalars;

use std::time::Duration;

use crate::graphql::{ApiError, Auth, Retry, Service, Transport, TransportConfig};
pub use model::*;
pub use paging::{FindFilter, Page, Pages, SortKey};

/// How to reach Stash, from the plugin input or the command line.
#[derive(Debug, Clone)]
pub struct StashConnection {
    /// Full GraphQL URL.
    pub url: String,
    /// API key and/or session cookie.
    pub auth: Auth,
    /// Accept a self-signed certificate: true for the Stash that started us, and on loopback.
    pub accept_invalid_certs: bool,
}

/// A client for one Stash server; cheap to share by reference, reuses one HTTP connection pool.
#[derive(Debug)]
pub struct StashClient {
    transport: Transport,
}

impl StashClient {
    /// Prepares a client (nothing is sent yet).
    pub fn new(connection: StashConnection) -> Result<Self, ApiError> {
        let transport = Transport::new(TransportConfig {
            service: Service::Stash,
            url: connection.url,
            auth: connection.auth,
            accept_invalid_certs: connection.accept_invalid_certs,
            timeout: Duration::from_secs(120),
            retry: Retry { retries: 3, first_delay: Duration::from_millis(250), max_wait: Duration::from_secs(60) },
        })?;
        Ok(StashClient { transport })
    }

    /// The GraphQL URL.
    pub fn url(&self) -> &str {
        self.transport.url()
    }

    /// What our requests prove who we are with: "api key", "session cookie" or "none".
    pub fn credentials(&self) -> &'static str {
        self.transport.credentials()
    }

    /// Stash's version and whether it is set up and migrated.
    pub fn system_info(&self) -> Result<SystemInfo, ApiError> {
        operations::system_info::run(&self.transport)
    }

    /// StashHog's saved settings, the stash-box endpoints and the scraper's tag exclusions.
    pub fn configuration(&self) -> Result<StashConfig, ApiError> {
        operations::configuration::run(&self.transport)
    }

    /// Scenes matching `query`, page by page in the order of `filter.sort`.
    pub fn scenes<'a>(&'a self, query: &'a SceneQuery, filter: FindFilter) -> Pages<'a, Scene> {
        Pages::new(filter, move |f| operations::find_scenes::run(&self.transport, query, f))
    }

    /// How many scenes match `query` (one request, no scenes transferred).
    pub fn count_scenes(&self, query: &SceneQuery) -> Result<u64, ApiError> {
        let filter = FindFilter { per_page: 0, ..FindFilter::sorted(SortKey::Id) };
        operations::find_scenes::run(&self.transport, query, &filter).map(|(count, _)| count)
    }

    /// Tags matching `query`, page by page in the order of `filter.sort`.
    pub fn tags<'a>(&'a self, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Tag> {
        Pages::new(filter, move |f| operations::find_tags::run(&self.transport, query, f))
    }

    /// Performers matching `query`, page by page in the order of `filter.sort`.
    pub fn performers<'a>(&'a self, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Performer> {
        Pages::new(filter, move |f| operations::find_performers::run(&self.transport, query, f))
    }

    /// Studios matching `query`, page by page in the order of `filter.sort`.
    pub fn studios<'a>(&'a self, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Studio> {
        Pages::new(filter, move |f| operations::find_studios::run(&self.transport, query, f))
    }
}
