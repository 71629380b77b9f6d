//! Which certificate authorities an `https://` server (a stash-box, or Stash behind TLS) is
//! checked against.
//!
//! StashHog ships as one static binary, often into Stash's Alpine Docker image or a container
//! with no CA bundle at all. reqwest's rustls verifier reads the system store while the client is
//! built and, when that store is empty, refuses to build the client: every request then failed,
//! plain `http://` ones included, with "builder error". So every client carries Mozilla's root
//! certificates, compiled in, and the platform verifier adds the system's own store on top where
//! there is one (a company CA, a user's own roots, Windows' and macOS' stores). A self-signed
//! Stash on loopback is accepted separately, by the transport.

use reqwest::Certificate;
use reqwest::blocking::ClientBuilder;

/// Makes `builder` trust Mozilla's roots as well as the system store, so a client builds and
/// verifies with or without CA files on the machine.
pub(crate) fn trust_bundled_roots(builder: ClientBuilder) -> ClientBuilder {
    builder.tls_certs_merge(bundled_roots())
}

/// Mozilla's root certificates as compiled into the binary.
fn bundled_roots() -> Vec<Certificate> {
    // `from_der` only keeps the bytes (rustls parses them once, while the client is built), so it
    // cannot fail here; a certificate it ever refused would merely be left out.
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter_map(|der| Certificate::from_der(der).ok()).collect()
}

/// Why a client could not be built, with every cause: reqwest's own text is just "builder error".
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_root_is_kept() {
        assert_eq!(bundled_roots().len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(bundled_roots().len() > 100, "Mozilla's store has well over 100 roots");
    }

    #[test]
    fn a_client_builds_with_the_bundled_roots() {
        let client = trust_bundled_roots(reqwest::blocking::Client::builder()).build();
        assert!(client.is_ok(), "{:?}", client.err().map(|e| describe(&e)));
    }
}
