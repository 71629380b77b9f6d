//! What can go wrong talking to Stash or a stash-box, in kinds a caller can branch on.
//!
//! Each message names the service, says what happened and what to do about it, and never repeats
//! the text of an underlying error that is printed after it in the chain.

use std::time::Duration;

/// Which server a request went to, for messages ("Stash answered 401", "stash-box 'StashDB' …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// The local Stash server.
    Stash,
    /// A stash-box endpoint, by its configured name.
    StashBox(String),
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Service::Stash => f.write_str("Stash"),
            Service::StashBox(name) => write!(f, "stash-box '{name}'"),
        }
    }
}

/// A failed GraphQL request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server could not be reached or the connection broke.
    #[error("cannot reach {service} at {url} ({reason}): is it running, and is the address right?")]
    Connection {
        /// Who.
        service: Service,
        /// Where.
        url: String,
        /// What the transport said, in a few words.
        reason: String,
    },
    /// The server refused our credentials.
    #[error("{service} answered {status}: {hint}")]
    Auth {
        /// Who.
        service: Service,
        /// HTTP status, or "not authorized" for a GraphQL-level refusal.
        status: String,
        /// What to do.
        hint: &'static str,
    },
    /// The URL does not lead to a GraphQL endpoint.
    #[error("{service} answered 404 at {url}: this is not a GraphQL endpoint; check the URL (it ends in /graphql)")]
    NotFound {
        /// Who.
        service: Service,
        /// Where.
        url: String,
    },
    /// The server rejected the request itself (GraphQL errors).
    #[error("{service} rejected the request: {}", messages.join("; "))]
    Validation {
        /// Who.
        service: Service,
        /// The GraphQL error messages.
        messages: Vec<String>,
    },
    /// The server asked us to slow down, and kept asking after our retries.
    #[error("{service} is rate limiting us (HTTP 429){}; try again later or lower the request rate", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// Who.
        service: Service,
        /// What the server's Retry-After said.
        retry_after: Option<Duration>,
    },
    /// The server failed (5xx, or an answer that is not the JSON GraphQL promises).
    #[error("{service} failed: {detail}")]
    Server {
        /// Who.
        service: Service,
        /// The HTTP status, when the failure was one.
        status: Option<u16>,
        /// What was wrong, including the status and the start of the body.
        detail: String,
    },
}

impl ApiError {
    /// Whether the same request may succeed if sent again later.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            ApiError::Connection { .. } | ApiError::RateLimited { .. } => true,
            ApiError::Server { status, .. } => status.is_some_and(|s| s >= 500),
            _ => false,
        }
    }
}
