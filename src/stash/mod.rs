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
pub use operations::writes::{
    FieldsSet, ListChange, ListEdit, ListGroup, MAX_ALIASES, SceneList, SceneScalar, StashWrite, Written,
    aliased_documents,
};
pub use paging::{FindFilter, Page, Pages, SortKey};

/// The largest page Stash serves: it cuts any bigger `per_page` to this.
pub const MAX_PER_PAGE: i64 = 1000;

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

    /// Requests sent to Stash so far, retries included.
    pub(crate) fn requests_sent(&self) -> u64 {
        self.transport.requests_sent()
    }

    /// The GraphQL URL.
    pub fn url(&self) -> &str {
        self.transport.url()
    }

    /// What our requests prove who we are with.
    pub fn credentials(&self) -> crate::graphql::Credentials {
        self.transport.credentials()
    }

    /// Stash's version and whether it is set up and migrated.
    pub(crate) fn system_info(&self) -> Result<SystemInfo, ApiError> {
        operations::system_info::run(&self.transport)
    }

    /// StashHog's saved settings, the stash-box endpoints and the scraper's tag exclusions.
    pub fn configuration(&self) -> Result<StashConfig, ApiError> {
        operations::configuration::run(&self.transport)
    }

    /// Replaces StashHog's saved plugin settings by `settings` (Stash keeps no other copy:
    /// send the whole map).
    pub(crate) fn configure_plugin(
        &self,
        settings: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), ApiError> {
        operations::configure_plugin::run(&self.transport, settings)
    }

    /// Scenes matching `query`, page by page in the order of `filter.sort`.
    pub fn scenes<'a>(&'a self, query: &'a SceneQuery, filter: FindFilter) -> Pages<'a, Scene> {
        Pages::new(filter, move |f| operations::find_scenes::run(&self.transport, query, f))
    }

    /// The scenes with these ids as Stash holds them now (one request per 1,000 ids, Stash's largest page); ids Stash
    /// does not have are simply missing from the answer.
    pub(crate) fn scenes_now(&self, ids: &[i64]) -> Result<Vec<Scene>, ApiError> {
        let mut scenes = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_PER_PAGE as usize) {
            let query = SceneQuery { ids: Some(chunk.to_vec()), ..SceneQuery::default() };
            let filter = FindFilter { per_page: chunk.len() as i64, ..FindFilter::sorted(SortKey::Id) };
            scenes.extend(operations::find_scenes::run(&self.transport, &query, &filter)?.1);
        }
        Ok(scenes)
    }

    /// Sends one write of a plan; returns the id of what it created, if anything, and the
    /// scenes it updated as they are now. Only the plan engine calls this: plans are
    /// StashHog's one write path.
    pub fn write(&self, write: &StashWrite) -> Result<Written, ApiError> {
        operations::writes::run(&self.transport, write)
    }

    /// Every scene id in Stash, ascending, a thousand at a time (Stash's largest page; it
    /// quietly cuts a bigger `per_page` to 1000).
    pub(crate) fn all_scene_ids(&self) -> Result<Vec<i64>, ApiError> {
        let filter = FindFilter { per_page: MAX_PER_PAGE, ..FindFilter::sorted(SortKey::Id) };
        let mut ids = Vec::new();
        loop {
            let (_, page) = operations::find_scene_ids::run(&self.transport, ids.last().copied(), &filter)?;
            if page.is_empty() {
                return Ok(ids);
            }
            ids.extend(page);
        }
    }

    /// How many scenes match `query` (one request, no scenes transferred).
    pub fn count_scenes(&self, query: &SceneQuery) -> Result<u64, ApiError> {
        let filter = FindFilter { per_page: 0, ..FindFilter::sorted(SortKey::Id) };
        operations::find_scenes::run(&self.transport, query, &filter).map(|(count, _)| count)
    }

    /// Images matching `query`, page by page in the order of `filter.sort`.
    pub fn images<'a>(&'a self, query: &'a MediaQuery, filter: FindFilter) -> Pages<'a, Image> {
        Pages::new(filter, move |f| operations::find_images::run(&self.transport, query, f))
    }

    /// Galleries matching `query`, page by page in the order of `filter.sort`.
    pub fn galleries<'a>(&'a self, query: &'a MediaQuery, filter: FindFilter) -> Pages<'a, Gallery> {
        Pages::new(filter, move |f| operations::find_galleries::run(&self.transport, query, f))
    }

    /// The images with these ids as Stash holds them now (one request per 1,000 ids, Stash's largest page).
    pub(crate) fn images_now(&self, ids: &[i64]) -> Result<Vec<Image>, ApiError> {
        let mut images = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_PER_PAGE as usize) {
            let query = MediaQuery { ids: Some(chunk.to_vec()), ..MediaQuery::default() };
            let filter = FindFilter { per_page: chunk.len() as i64, ..FindFilter::sorted(SortKey::Id) };
            images.extend(operations::find_images::run(&self.transport, &query, &filter)?.1);
        }
        Ok(images)
    }

    /// The galleries with these ids as Stash holds them now (one request per 1,000 ids, Stash's largest page).
    pub(crate) fn galleries_now(&self, ids: &[i64]) -> Result<Vec<Gallery>, ApiError> {
        let mut galleries = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_PER_PAGE as usize) {
            let query = MediaQuery { ids: Some(chunk.to_vec()), ..MediaQuery::default() };
            let filter = FindFilter { per_page: chunk.len() as i64, ..FindFilter::sorted(SortKey::Id) };
            galleries.extend(operations::find_galleries::run(&self.transport, &query, &filter)?.1);
        }
        Ok(galleries)
    }

    /// Tags matching `query`, page by page in the order of `filter.sort`.
    pub fn tags<'a>(&'a self, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Tag> {
        Pages::new(filter, move |f| operations::find_tags::run(&self.transport, query, None, f))
    }

    /// Performers matching `query`, page by page in the order of `filter.sort`.
    pub fn performers<'a>(&'a self, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Performer> {
        Pages::new(filter, move |f| operations::find_performers::run(&self.transport, query, None, f))
    }

    /// The tag, performer (one without a disambiguation) or studio named exactly `name`, if
    /// Stash has one: how a killed CREATE is checked.
    pub(crate) fn find_named(&self, kind: ObjectKind, name: &str) -> Result<Option<i64>, ApiError> {
        let (query, filter) = (EntityQuery::default(), FindFilter::sorted(SortKey::Id));
        let t = &self.transport;
        let named = Some(name);
        // Stash compares with LIKE (ASCII case-insensitive, wildcards): keep the exact name only.
        Ok(match kind {
            ObjectKind::Tag => operations::find_tags::run(t, &query, named, &filter)?
                .1
                .into_iter()
                .find(|e| e.name == name)
                .map(|e| e.id),
            ObjectKind::Performer => operations::find_performers::run(t, &query, named, &filter)?
                .1
                .into_iter()
                .find(|e| e.name == name && e.disambiguation.as_deref().is_none_or(str::is_empty))
                .map(|e| e.id),
            ObjectKind::Studio => operations::find_studios::run(t, &query, named, &filter)?
                .1
                .into_iter()
                .find(|e| e.name == name)
                .map(|e| e.id),
            ObjectKind::Scene | ObjectKind::Image | ObjectKind::Gallery => {
                return Err(operations::writes::not_created_by_name(kind));
            }
        })
    }

    /// The gallery whose code is exactly `code`, if Stash has one (the lowest id when several
    /// do): how an import finds its gallery for a post again, and how a killed gallery CREATE
    /// is checked.
    pub(crate) fn find_gallery_by_code(&self, code: &str) -> Result<Option<i64>, ApiError> {
        let filter = FindFilter { per_page: MAX_PER_PAGE, ..FindFilter::sorted(SortKey::Id) };
        let (_, found) = operations::find_galleries::run_with_code(&self.transport, code, &filter)?;
        Ok(found.into_iter().find(|g| g.code.as_deref() == Some(code)).map(|g| g.id))
    }

    /// How many things in Stash use a tag, performer or studio (scenes, images, galleries,
    /// groups; for a tag also markers, performers, studios and related tags; for a studio also
    /// its child studios); `None` when Stash no longer has it.
    pub fn usage(&self, kind: ObjectKind, id: i64) -> Result<Option<u64>, ApiError> {
        operations::entity_usage::run(&self.transport, kind, id)
    }

    /// Studios matching `query`, page by page in the order of `filter.sort`.
    pub fn studios<'a>(&'a self, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Studio> {
        Pages::new(filter, move |f| operations::find_studios::run(&self.transport, query, None, f))
    }
}

/// `STASH_API_KEY` from the environment, when set and not empty.
pub(crate) fn api_key_from_env() -> Option<String> {
    std::env::var("STASH_API_KEY").ok().filter(|k| !k.trim().is_empty())
}
