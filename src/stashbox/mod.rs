//! The stash-box client (StashDB and other boxes configured in Stash).
//!
//! A stash-box is somebody else's server shared by many users: StashHog identifies itself with
//! the key the user configured in Stash and never sends more than it must.

mod operations;

use std::time::Duration;

use crate::graphql::{ApiError, Auth, Retry, Service, Transport, TransportConfig};
use crate::stash::StashBox;

/// The account a stash-box key belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StashBoxUser {
    /// User id.
    pub id: String,
    /// User name.
    pub name: String,
}

/// A client for one stash-box endpoint.
#[derive(Debug)]
pub struct StashBoxClient {
    transport: Transport,
}

impl StashBoxClient {
    /// Prepares a client for a stash-box configured in Stash.
    pub fn new(stash_box: &StashBox) -> Result<Self, ApiError> {
        let transport = Transport::new(TransportConfig {
            service: Service::StashBox(stash_box.name.clone()),
            url: stash_box.endpoint.clone(),
            auth: Auth { api_key: Some(stash_box.api_key.clone()), cookie: None },
            accept_invalid_certs: false,
            timeout: Duration::from_secs(30),
            // StashDB's hosting answers 429 under load: back off 1 s, 2 s, 4 s, then give up.
            retry: Retry { retries: 3, first_delay: Duration::from_secs(1), max_wait: Duration::from_secs(60) },
        })?;
        Ok(StashBoxClient { transport })
    }

    /// Who the configured key logs in as; an auth error when the key is rejected or missing.
    pub fn me(&self) -> Result<StashBoxUser, ApiError> {
        operations::me::run(&self.transport)
    }
}
