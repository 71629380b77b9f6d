//! Posting GraphQL documents: one reused HTTP client, credentials on every request, retries.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use graphql_client::{GraphQLQuery, QueryBody, Response};
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{COOKIE, HeaderMap, RETRY_AFTER, SET_COOKIE};
use serde::Serialize;
use serde_json::Value;

use super::{ApiError, Cookie, Service, tls};

/// What our requests prove who we are with, in the words a check report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Credentials {
    /// An API key (Stash's, from the plugin input or `--api-key`).
    #[serde(rename = "api key")]
    ApiKey,
    /// The session cookie Stash handed the plugin.
    #[serde(rename = "session cookie")]
    SessionCookie,
    /// Nothing: fine for a Stash without a password.
    #[serde(rename = "none")]
    None,
}

impl std::fmt::Display for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::ApiKey => "api key",
            Credentials::SessionCookie => "session cookie",
            Credentials::None => "none",
        })
    }
}

/// How a request proves who we are.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    /// Sent as the `ApiKey` header.
    pub api_key: Option<String>,
    /// Sent as `Cookie: name=value` on every request, renewed from `Set-Cookie`.
    pub cookie: Option<Cookie>,
}

/// How many times, and how patiently, a failed request is sent again.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Further attempts after the first.
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one. A `Retry-After` wins.
    pub first_delay: Duration,
    /// Longest `Retry-After` we are willing to honour before giving up.
    pub max_wait: Duration,
}

/// Everything needed to talk to one endpoint.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Who we talk to, for messages.
    pub service: Service,
    /// Full GraphQL URL.
    pub url: String,
    /// Credentials.
    pub auth: Auth,
    /// Accept a self-signed certificate (Stash on loopback serves one).
    pub accept_invalid_certs: bool,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retry policy for requests safe to repeat.
    pub retry: Retry,
}

/// A GraphQL endpoint with its reused HTTP client.
#[derive(Debug)]
pub struct Transport {
    http: Client,
    service: Service,
    url: String,
    api_key: Option<String>,
    cookie: Mutex<Option<Cookie>>,
    retry: Retry,
    sent: AtomicU64,
}

/// A request that failed, and whether Stash can have processed it.
struct Failure {
    error: ApiError,
    retry_after: Option<Duration>,
    /// True when the request never reached the server's resolvers (connect failure, 429), so even
    /// a mutation may be sent again.
    unprocessed: bool,
}

impl Transport {
    /// Builds the HTTP client for one endpoint.
    pub fn new(config: TransportConfig) -> Result<Self, ApiError> {
        let builder = Client::builder()
            .user_agent(concat!("stashhog/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(config.timeout)
            .no_proxy()
            .danger_accept_invalid_certs(config.accept_invalid_certs);
        let http = tls::trust_bundled_roots(builder).build().map_err(|e| ApiError::Connection {
            service: config.service.clone(),
            url: config.url.clone(),
            reason: format!("cannot set up HTTP: {}", tls::describe(&e)),
        })?;
        Ok(Transport {
            http,
            service: config.service,
            url: config.url,
            api_key: config.auth.api_key.filter(|k| !k.is_empty()),
            cookie: Mutex::new(config.auth.cookie),
            retry: config.retry,
            sent: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far, retries included (for summaries).
    pub(crate) fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The service this transport talks to.
    pub(crate) fn service(&self) -> &Service {
        &self.service
    }

    /// What requests prove who we are with.
    pub fn credentials(&self) -> Credentials {
        match (&self.api_key, self.current_cookie()) {
            (Some(_), _) => Credentials::ApiKey,
            (None, Some(_)) => Credentials::SessionCookie,
            (None, None) => Credentials::None,
        }
    }

    /// The newest session cookie (Stash renews it on authenticated requests).
    pub(crate) fn current_cookie(&self) -> Option<Cookie> {
        self.cookie.lock().map(|c| c.clone()).unwrap_or(None)
    }

    /// Runs a query; it is retried on connection errors, 5xx and 429, as reading is safe to repeat.
    pub fn query<Q: GraphQLQuery>(&self, variables: Q::Variables) -> Result<Q::ResponseData, ApiError> {
        self.send(&Q::build_query(variables), true)
    }

    /// Runs a query whose document is built at run time (an aliased batch, sized to the batch),
    /// retried like [`Transport::query`]; the answer's `data` as JSON.
    pub(crate) fn query_built(&self, body: &QueryBody<Value>) -> Result<Value, ApiError> {
        self.send(body, true)
    }

    /// Runs a mutation whose document is built at run time, sent again only as
    /// [`Transport::mutate`] would be; the answer's `data` as JSON.
    pub(crate) fn mutate_built(&self, body: &QueryBody<Value>) -> Result<Value, ApiError> {
        self.send(body, false)
    }

    /// Runs a mutation; it is sent again only when the server cannot have run it (the connection
    /// failed before sending, or a 429), never after a timeout or a 5xx.
    pub(crate) fn mutate<Q: GraphQLQuery>(&self, variables: Q::Variables) -> Result<Q::ResponseData, ApiError> {
        self.send(&Q::build_query(variables), false)
    }

    fn send<V: Serialize, D: serde::de::DeserializeOwned>(
        &self,
        body: &QueryBody<V>,
        idempotent: bool,
    ) -> Result<D, ApiError> {
        let mut attempt = 0;
        loop {
            match self.post_once::<V, D>(body) {
                Ok(data) => return Ok(data),
                Err(f) => {
                    let retryable = f.error.is_transient() && (idempotent || f.unprocessed);
                    if !retryable || attempt >= self.retry.retries {
                        return Err(f.error);
                    }
                    let backoff = self.retry.first_delay * 2u32.saturating_pow(attempt);
                    let wait = f.retry_after.unwrap_or(backoff);
                    if wait > self.retry.max_wait {
                        return Err(f.error);
                    }
                    log::warn!(
                        "{} (operation {}); retrying in {:.1} s ({}/{})",
                        f.error,
                        body.operation_name,
                        wait.as_secs_f64(),
                        attempt + 1,
                        self.retry.retries
                    );
                    std::thread::sleep(wait);
                    attempt += 1;
                }
            }
        }
    }

    fn request(&self) -> RequestBuilder {
        let mut request = self.http.post(&self.url);
        if let Some(key) = &self.api_key {
            request = request.header("ApiKey", key);
        }
        if let Some(cookie) = self.current_cookie() {
            request = request.header(COOKIE, format!("{}={}", cookie.name, cookie.value));
        }
        request
    }

    fn post_once<V: Serialize, D: serde::de::DeserializeOwned>(&self, body: &QueryBody<V>) -> Result<D, Failure> {
        log::trace!("{}: {} ({})", self.service, body.operation_name, self.url);
        self.sent.fetch_add(1, Ordering::Relaxed);
        let response = self.request().json(body).send().map_err(|e| self.transport_failure(&e))?;
        let status = response.status();
        self.renew_cookie(response.headers());
        let retry_after = retry_after(response.headers());
        let body = response.bytes().map_err(|e| self.transport_failure(&e))?;
        // Stash answers UTF-8: checked at once, not copied character by character as a lossy
        // decoding would (a page of scenes is hundreds of kilobytes).
        let text =
            std::str::from_utf8(&body).map_or_else(|_| String::from_utf8_lossy(&body), std::borrow::Cow::Borrowed);
        let endpoint = Endpoint {
            service: &self.service,
            url: &self.url,
            has_credentials: self.credentials() != Credentials::None,
        };
        classify(&endpoint, status, retry_after, &text).map_err(|(error, unprocessed)| Failure {
            error,
            retry_after,
            unprocessed,
        })
    }

    fn transport_failure(&self, e: &reqwest::Error) -> Failure {
        let reason = if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            "connection refused or unreachable".to_owned()
        } else {
            // reqwest's own text is "error sending request"; the cause says what happened.
            let mut source: &dyn std::error::Error = e;
            while let Some(next) = source.source() {
                source = next;
            }
            source.to_string()
        };
        Failure {
            error: ApiError::Connection { service: self.service.clone(), url: self.url.clone(), reason },
            retry_after: None,
            unprocessed: e.is_connect(),
        }
    }

    /// Keeps the newest value of our session cookie from `Set-Cookie`.
    fn renew_cookie(&self, headers: &HeaderMap) {
        let Ok(mut current) = self.cookie.lock() else { return };
        let Some(cookie) = current.as_mut() else { return };
        for header in headers.get_all(SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=')
                && name.trim() == cookie.name
                && !value.trim().is_empty()
            {
                cookie.value = value.trim().to_owned();
            }
        }
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The start of a body, on one line, for an error message.
fn snippet(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 { format!("{}…", flat.chars().take(200).collect::<String>()) } else { flat }
}

/// Reads one answer of `service` (an HTTP status and body) exactly as [`Transport`] reads a
/// request's: the entry of the fuzz targets, since whatever a server sends is outside data that
/// must never panic StashHog. An unknown status reads as a server error.
pub fn read_answer<D: serde::de::DeserializeOwned>(service: &Service, status: u16, body: &str) -> Result<D, ApiError> {
    let endpoint = Endpoint { service, url: "https://fuzzed.invalid/graphql", has_credentials: true };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    classify(&endpoint, status, None, body).map_err(|(error, _)| error)
}

/// Who answered, as [`classify`] needs it for its messages.
struct Endpoint<'a> {
    service: &'a Service,
    url: &'a str,
    /// Whether we sent an API key or a session cookie (the hint differs).
    has_credentials: bool,
}

/// Sorts one HTTP answer into the data or an error a caller can branch on, and whether the server
/// cannot have run the request (so even a mutation may be sent again).
fn classify<D: serde::de::DeserializeOwned>(
    endpoint: &Endpoint<'_>,
    status: StatusCode,
    retry_after: Option<Duration>,
    text: &str,
) -> Result<D, (ApiError, bool)> {
    let service = endpoint.service.clone();
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            return Err((auth_error(endpoint, status.as_u16().to_string()), false));
        }
        StatusCode::NOT_FOUND => {
            return Err((ApiError::NotFound { service, url: endpoint.url.to_owned() }, false));
        }
        StatusCode::TOO_MANY_REQUESTS => {
            return Err((ApiError::RateLimited { service, retry_after }, true));
        }
        s if s.is_server_error() => {
            let detail = format!("HTTP {} {}", s.as_u16(), snippet(text));
            return Err((ApiError::Server { service, status: Some(s.as_u16()), detail }, false));
        }
        _ => {}
    }
    let parsed: Response<D> = match serde_json::from_str(text) {
        Ok(parsed) => parsed,
        Err(e) => {
            let looks_html = text.trim_start().starts_with('<');
            let detail = if looks_html {
                format!(
                    "it answered HTML instead of JSON (HTTP {}) at {}: is this the GraphQL URL, or is a proxy or login page in between?",
                    status.as_u16(),
                    endpoint.url
                )
            } else {
                format!("its answer is not the JSON expected (HTTP {}, {e}): {}", status.as_u16(), snippet(text))
            };
            return Err((ApiError::Server { service, status: None, detail }, false));
        }
    };
    // A server's message may span lines (found by fuzzing): ours is shown as one log line.
    let messages: Vec<String> = parsed.errors.unwrap_or_default().into_iter().map(|e| snippet(&e.message)).collect();
    if messages.iter().any(|m| m.to_ascii_lowercase().contains("not authorized")) {
        return Err((auth_error(endpoint, "not authorized".into()), false));
    }
    if !messages.is_empty() {
        return Err((ApiError::Validation { service, messages }, false));
    }
    parsed.data.ok_or_else(|| {
        let detail = format!("HTTP {} with neither data nor errors", status.as_u16());
        (ApiError::Server { service, status: None, detail }, false)
    })
}

/// A refusal of our credentials, with what to do about it.
fn auth_error(endpoint: &Endpoint<'_>, status: String) -> ApiError {
    let hint = match (endpoint.service, endpoint.has_credentials) {
        (Service::Stash, false) => {
            "Stash requires a login; pass --api-key or set STASH_API_KEY (Settings > Security > API Key)"
        }
        (Service::Stash, true) => {
            "the API key or session was rejected; check --api-key / STASH_API_KEY against Settings > Security"
        }
        (Service::StashBox(_), false) => {
            "this stash-box needs an API key; add it in Stash's Settings > Metadata Providers"
        }
        (Service::StashBox(_), true) => {
            "the stash-box rejected its API key; renew it in Stash's Settings > Metadata Providers"
        }
    };
    ApiError::Auth { service: endpoint.service.clone(), status, hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Data = serde_json::Value;

    fn answer(service: Service, credentials: bool, status: u16, body: &str) -> Result<Data, (ApiError, bool)> {
        let endpoint = Endpoint { service: &service, url: "http://stash.test/graphql", has_credentials: credentials };
        let retry_after = (status == 429).then(|| Duration::from_secs(3));
        classify::<Data>(&endpoint, StatusCode::from_u16(status).expect("a valid status"), retry_after, body)
    }

    #[test]
    fn a_graphql_error_message_on_several_lines_is_told_on_one() {
        let body = r#"{"data": {"s0": null}, "errors": [{"message": "invalid UUID\n  at line 2\r\nvalid UUID"}]}"#;
        let (error, _) = answer(Service::StashBox("StashDB".into()), true, 200, body).expect_err("refused");
        assert_eq!(error.to_string(), "stash-box 'StashDB' rejected the request: invalid UUID at line 2 valid UUID");
    }

    #[test]
    fn data_is_data() {
        let data = answer(Service::Stash, false, 200, r#"{"data": {"version": {"version": "v0.30.1"}}}"#);
        assert_eq!(data.expect("data")["version"]["version"], "v0.30.1");
    }

    #[test]
    fn a_401_says_how_to_log_in_and_is_not_retried() {
        let (error, unprocessed) = answer(Service::Stash, false, 401, "").expect_err("refused");
        assert!(matches!(error, ApiError::Auth { .. }));
        assert!(error.to_string().contains("STASH_API_KEY"), "{error}");
        assert!(!error.is_transient() && !unprocessed);
        let (error, _) = answer(Service::StashBox("StashDB".into()), true, 401, "").expect_err("refused");
        assert!(error.to_string().contains("renew it"), "{error}");
    }

    #[test]
    fn not_authorized_in_the_body_is_an_auth_error() {
        let body = r#"{"errors": [{"message": "Not authorized"}], "data": null}"#;
        let (error, _) = answer(Service::StashBox("StashDB".into()), false, 200, body).expect_err("refused");
        assert!(matches!(error, ApiError::Auth { ref status, .. } if status == "not authorized"), "{error}");
        assert!(error.to_string().contains("needs an API key"), "{error}");
    }

    #[test]
    fn a_404_points_at_the_url() {
        let (error, _) = answer(Service::Stash, false, 404, "404 page not found").expect_err("not found");
        assert!(matches!(error, ApiError::NotFound { .. }));
        assert!(error.to_string().contains("ends in /graphql"), "{error}");
    }

    #[test]
    fn a_429_may_be_sent_again_even_as_a_mutation() {
        let (error, unprocessed) = answer(Service::StashBox("StashDB".into()), true, 429, "").expect_err("limited");
        assert!(matches!(error, ApiError::RateLimited { .. }));
        assert!(error.is_transient() && unprocessed);
        assert!(error.to_string().contains("retry after 3 s"), "{error}");
    }

    #[test]
    fn a_5xx_is_transient_but_may_have_run() {
        let (error, unprocessed) = answer(Service::Stash, false, 502, "<html>Bad Gateway</html>").expect_err("failed");
        assert!(matches!(error, ApiError::Server { status: Some(502), .. }));
        assert!(error.is_transient() && !unprocessed);
        assert!(error.to_string().contains("HTTP 502 <html>Bad Gateway</html>"), "{error}");
    }

    #[test]
    fn html_with_200_names_a_proxy_or_login_page() {
        let (error, _) = answer(Service::Stash, false, 200, "\n<!doctype html><title>Login</title>").expect_err("html");
        assert!(error.to_string().contains("HTML instead of JSON"), "{error}");
        assert!(!error.is_transient());
    }

    #[test]
    fn graphql_errors_are_a_validation_error_with_every_message() {
        let body = r#"{"errors": [{"message": "a"}, {"message": "b"}]}"#;
        let (error, _) = answer(Service::Stash, false, 200, body).expect_err("rejected");
        assert_eq!(error.to_string(), "Stash rejected the request: a; b");
    }

    #[test]
    fn neither_data_nor_errors_is_a_server_failure() {
        let (error, _) = answer(Service::Stash, false, 200, "{}").expect_err("empty");
        assert!(error.to_string().contains("neither data nor errors"), "{error}");
    }
}
