//! GraphQL over HTTP, shared by the Stash and stash-box clients.
//!
//! One place decides what a failure means (typed [`ApiError`]), which failures are worth another
//! try, and how the session cookie is renewed, so both clients behave the same way and each
//! operation module only converts types.

mod cookie;
mod error;
mod transport;

pub use cookie::Cookie;
pub use error::{ApiError, Service};
pub use transport::{Auth, Retry, Transport, TransportConfig};
