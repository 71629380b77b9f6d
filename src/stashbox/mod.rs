//! The stash-box client (StashDB and other boxes configured in Stash).
//!
//! A stash-box is somebody else's server shared by many users: StashHog identifies itself with
//! the key the user configured in Stash and never sends more than it must.

mod operations;

use std::time::Duration;

use ratelimit::{Ratelimiter, TryWaitError};

use crate::graphql::{ApiError, Auth, Retry, Service, Transport, TransportConfig};
use crate::stash::{Fingerprint, StashBox};

pub use operations::find_by_fingerprints::same_hash;

/// Stash-box answer bodies read exactly as the client reads them off the wire. A stash-box is
/// somebody else's server: whatever it sends must never panic StashHog (the fuzz targets in
/// `fuzz/` feed these).
pub mod answers {
    pub use super::operations::batched::{decode_merges as merged_into, decode_scenes as scenes};
    pub use super::operations::find_by_fingerprints::decode as scenes_by_fingerprints;
}

/// Scenes looked up per request (aliased `findScene`s, or fingerprint groups).
pub const BATCH: usize = operations::batched::BATCH;

pub use operations::batched::documents as batch_documents;

/// A stash-box tag as a scene carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BoxTag {
    /// Its id on the stash-box.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A live stash-box scene with its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxScene {
    /// Its id.
    pub id: String,
    /// Its tags.
    pub tags: Vec<BoxTag>,
}

/// What a stash-box answered for one scene id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The scene, with its tags.
    Found(BoxScene),
    /// Deleted (or merged away): `tags: []` then means nothing.
    Deleted,
    /// No such scene.
    NotFound,
}

/// The account a stash-box key belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StashBoxUser {
    /// User id.
    pub id: String,
    /// User name.
    pub name: String,
}

/// A client for one stash-box endpoint, paced so it never sends faster than its budget.
pub(crate) struct StashBoxClient {
    transport: Transport,
    pacer: Option<Ratelimiter>,
}

impl std::fmt::Debug for StashBoxClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StashBoxClient").field("transport", &self.transport).finish_non_exhaustive()
    }
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
        Ok(StashBoxClient { transport, pacer: None })
    }

    /// Paces every later request to at most `per_minute`, evenly spaced (a retry waits its own
    /// back-off, 1 s or more, instead).
    pub(crate) fn paced(mut self, per_minute: u32) -> Self {
        self.pacer = Ratelimiter::builder(u64::from(per_minute.max(1)))
            .period(Duration::from_secs(60))
            .max_tokens(1)
            .initial_available(1)
            .build()
            .ok();
        self
    }

    /// Requests sent so far.
    pub(crate) fn requests_sent(&self) -> u64 {
        self.transport.requests_sent()
    }

    fn wait_turn(&self) {
        let Some(pacer) = &self.pacer else { return };
        loop {
            match pacer.try_wait() {
                Ok(()) => return,
                Err(TryWaitError::Insufficient(wait)) => std::thread::sleep(wait),
                Err(_) => return,
            }
        }
    }

    /// Who the configured key logs in as; an auth error when the key is rejected or missing.
    pub fn me(&self) -> Result<StashBoxUser, ApiError> {
        self.wait_turn();
        operations::me::run(&self.transport)
    }

    /// Looks up to [`BATCH`] scenes by id in one request; one answer per id, in order.
    pub fn scenes(&self, ids: &[String]) -> Result<Vec<Lookup>, ApiError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.wait_turn();
        operations::batched::scenes(&self.transport, ids)
    }

    /// For up to [`BATCH`] groups of local fingerprints, the live stash-box scenes that carry one.
    pub fn scenes_by_fingerprints(&self, groups: &[Vec<Fingerprint>]) -> Result<Vec<Vec<String>>, ApiError> {
        self.wait_turn();
        operations::find_by_fingerprints::run(&self.transport, groups)
    }

    /// For up to [`BATCH`] deleted scenes, in one request: the scene the applied MERGE that
    /// consumed each went to, and whether that one is deleted (merged on) too.
    pub fn merged_into(&self, ids: &[String]) -> Result<Vec<Option<(String, bool)>>, ApiError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.wait_turn();
        operations::batched::merged_into(&self.transport, ids)
    }
}
