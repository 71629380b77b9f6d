//! GraphQL over HTTP, shared by the Stash and stash-box clients.
//!
//! One place decides what a failure means (typed [`ApiError`]), which failures are worth another
//! try, and how the session cookie is renewed, so both clients behave the same way and each
//! operation module only converts types.

mod cookie;
mod error;
mod tls;
mod transport;

pub use cookie::Cookie;
pub use error::{ApiError, Service};
pub use transport::{Auth, Credentials, Retry, Transport, TransportConfig, read_answer};

/// Whether a URL's host is this machine: `localhost` or a loopback address. Decides where a
/// self-signed certificate is accepted and where an AI endpoint counts as a free local server.
pub(crate) fn is_loopback(url: &str) -> bool {
    let authority = url.split("://").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for url in ["http://localhost:9999/graphql", "https://127.0.0.1:9999/graphql", "https://[::1]:9999/graphql"] {
            assert!(is_loopback(url), "{url}");
        }
        for url in
            ["https://127.example.com/graphql", "https://[::ffff:203.0.113.9]:9999/graphql", "https://nas/graphql"]
        {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
