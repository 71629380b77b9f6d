//! The HTTP machinery both fake servers share: a tiny_http server on a free loopback port,
//! a request log, and failures injected per request.
//!
//! Why it exists: StashHog's client must survive what real deployments do to it — 5xx, 429
//! with `Retry-After`, a reverse proxy's HTML login page, a slow server, a connection dropped
//! mid-request, a session that expires. Tests queue those faults while the fake runs and then
//! read the log to prove what the binary sent (operation, variables, ApiKey, cookie) and when.
//!
//! A dropped connection must reach the client as a transport error, not as an HTTP status, and
//! tiny_http cannot close a connection on request (a dropped `Request` is answered 500). So
//! clients talk to a small loopback relay in front of tiny_http, which can cut the client's
//! socket for one particular request.

use super::gql::{self, EnvelopeError, GqlRequest, lock};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A failure injected into one request. Faults wait in a queue and are consumed in order,
/// one per matching request, before authentication and GraphQL processing.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this HTTP status and a short plain-text body.
    Status(u16),
    /// Answer 429 with a `Retry-After: <secs>` header.
    RateLimited {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// Wait this long, then answer normally (for client timeouts and pacing).
    Slow(Duration),
    /// Answer 200 with an HTML page, like a reverse proxy's login page.
    Html,
    /// Cut the connection after reading the request: the client sees a transport error.
    DropConnection,
    /// Answer 401 with an empty body.
    Unauthorized,
    /// Answer 200 with a GraphQL error with this message and `"data": null`.
    GraphqlError(String),
    /// Run the request, then lose its answer: cut the connection (`None`) or answer this status
    /// instead (`Some(502)`, a proxy that gave up).
    LoseAnswer(Option<u16>),
}

/// One request as the fake received it, and how it was answered.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Position in the log since the server started (not reset by `clear_requests`).
    pub seq: usize,
    /// When the request arrived.
    pub at: Instant,
    /// HTTP method.
    pub method: String,
    /// Request path, without the query string.
    pub path: String,
    /// `operationName`, or the name of the document's first operation.
    pub operation_name: Option<String>,
    /// The GraphQL document text, if the body carried one.
    pub query: Option<String>,
    /// The request's variables (`null` when none were sent).
    pub variables: Value,
    /// The `ApiKey` header.
    pub api_key: Option<String>,
    /// The raw `Cookie` header.
    pub cookie: Option<String>,
    /// The HTTP status answered; `None` when the connection was dropped (or not answered yet).
    pub status: Option<u16>,
    /// The injected fault that answered this request, if any.
    pub fault: Option<Fault>,
    /// The messages of the GraphQL errors in the response.
    pub errors: Vec<String>,
    /// The `Set-Cookie` header the response carried, if any.
    pub set_cookie: Option<String>,
}

impl RecordedRequest {
    /// The value of cookie `name` in the request's `Cookie` header.
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        cookie_value(self.cookie.as_deref()?, name)
    }

    /// The value of Stash's `session` cookie, if sent.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie_value("session")
    }

    /// A variable by JSON pointer (`/filter/page`), if present.
    pub fn var(&self, pointer: &str) -> Option<&Value> {
        self.variables.pointer(pointer)
    }
}

/// The value of cookie `name` in a `Cookie` header (`a=1; session=xyz`).
pub fn cookie_value(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

/// An HTTP request handed to a fake's handler.
#[derive(Debug)]
pub struct Incoming {
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Headers, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The body read as a GraphQL request.
    pub gql: Result<GqlRequest, EnvelopeError>,
}

impl Incoming {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A cookie's value from the `Cookie` header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        cookie_value(self.header("Cookie")?, name)
    }

    /// The operation name: `operationName`, else the first named operation in the document.
    pub fn operation_name(&self) -> Option<String> {
        let request = self.gql.as_ref().ok()?;
        request.operation_name.clone().or_else(|| first_operation_name(&request.query))
    }
}

/// The name of the first operation in a document, read lexically (good enough for the log).
fn first_operation_name(query: &str) -> Option<String> {
    let without_comments: String =
        query.lines().map(|line| line.split('#').next().unwrap_or("")).collect::<Vec<_>>().join(" ");
    let mut words =
        without_comments.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
    while let Some(word) = words.next() {
        if matches!(word, "query" | "mutation" | "subscription") {
            return words.next().map(str::to_owned);
        }
    }
    None
}

/// What a handler answers.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// GraphQL error messages in the body (for the log).
    pub errors: Vec<String>,
}

impl Reply {
    /// A reply with no body.
    pub fn empty(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Vec::new(), errors: Vec::new() }
    }

    /// A JSON (GraphQL) reply; its error messages are recorded.
    pub fn json(status: u16, body: &Value) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(body).expect("JSON serialises"),
            errors: gql::error_messages(body),
        }
    }

    /// A reply with a text body of the given content type.
    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
            errors: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Fault {
    fn reply(&self) -> Reply {
        match self {
            Fault::Status(status) => {
                Reply::text(*status, "text/plain; charset=utf-8", &format!("HTTP {status} injected by the test\n"))
            }
            Fault::RateLimited { retry_after_secs } => {
                Reply::text(429, "text/plain; charset=utf-8", "Too Many Requests\n")
                    .with_header("Retry-After", &retry_after_secs.to_string())
            }
            Fault::Html => Reply::text(
                200,
                "text/html; charset=utf-8",
                "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\
                 <body><form method=\"post\" action=\"/login\">\
                 <input name=\"username\"><input name=\"password\" type=\"password\">\
                 </form></body></html>\n",
            ),
            Fault::Unauthorized => Reply::empty(401),
            Fault::GraphqlError(message) => Reply::json(200, &gql::error_body(message)),
            Fault::Slow(_) | Fault::DropConnection | Fault::LoseAnswer(_) => {
                unreachable!("handled by the request thread")
            }
        }
    }
}

/// Answers the requests that no fault intercepted.
pub trait Handler: Send + Sync + 'static {
    /// Produces the reply for one request. Runs on its own thread.
    fn handle(&self, request: &Incoming) -> Reply;
}

/// A queued fault, optionally only for one operation name.
struct QueuedFault {
    operation: Option<String>,
    fault: Fault,
}

/// State shared by the server threads and the test.
struct Shared {
    log: Mutex<Vec<RecordedRequest>>,
    /// Index of the first entry `requests()` returns (entries before were cleared).
    log_start: Mutex<usize>,
    faults: Mutex<VecDeque<QueuedFault>>,
    unauthorized_after: Mutex<Option<u64>>,
    /// Relay connections by the address tiny_http sees as the peer: (client side, server side).
    connections: Mutex<HashMap<SocketAddr, (TcpStream, TcpStream)>>,
}

impl Shared {
    /// Logs an arriving request and picks the fault that answers it.
    fn admit(&self, incoming: &Incoming) -> (usize, Option<Fault>) {
        let operation = incoming.operation_name();
        let fault = {
            let mut faults = lock(&self.faults);
            faults
                .iter()
                .position(|q| q.operation.is_none() || q.operation == operation)
                .and_then(|i| faults.remove(i))
                .map(|q| q.fault)
        };
        let fault = fault.or_else(|| {
            let mut remaining = lock(&self.unauthorized_after);
            match *remaining {
                Some(0) => Some(Fault::Unauthorized),
                Some(n) => {
                    *remaining = Some(n - 1);
                    None
                }
                None => None,
            }
        });
        let request = incoming.gql.as_ref().ok();
        let mut log = lock(&self.log);
        let seq = log.len();
        log.push(RecordedRequest {
            seq,
            at: Instant::now(),
            method: incoming.method.clone(),
            path: incoming.path.clone(),
            operation_name: operation,
            query: request.map(|r| r.query.clone()),
            variables: request.map(|r| Value::Object(r.variables.clone())).unwrap_or(Value::Null),
            api_key: incoming.header("ApiKey").map(str::to_owned),
            cookie: incoming.header("Cookie").map(str::to_owned),
            status: None,
            fault: fault.clone(),
            errors: Vec::new(),
            set_cookie: None,
        });
        (seq, fault)
    }

    fn finish(&self, seq: usize, reply: Option<&Reply>) {
        let mut log = lock(&self.log);
        let entry = &mut log[seq];
        if let Some(reply) = reply {
            entry.status = Some(reply.status);
            entry.errors = reply.errors.clone();
            entry.set_cookie = reply.header("Set-Cookie").map(str::to_owned);
        }
    }

    /// Cuts the client's connection that carried a request seen from `peer`.
    fn cut(&self, peer: Option<&SocketAddr>) {
        let Some(peer) = peer else { return };
        if let Some((client, server)) = lock(&self.connections).remove(peer) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

/// A running fake HTTP server (see the module docs). Stops when dropped.
pub struct FakeServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    inner: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl FakeServer {
    /// Starts a server on a free loopback port; `handler` answers what no fault intercepts.
    pub fn start(handler: Arc<dyn Handler>) -> FakeServer {
        let inner = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind a loopback port"));
        let inner_addr = inner.server_addr().to_ip().expect("tiny_http listens on TCP");
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            log_start: Mutex::new(0),
            faults: Mutex::new(VecDeque::new()),
            unauthorized_after: Mutex::new(None),
            connections: Mutex::new(HashMap::new()),
        });
        let stopping = Arc::new(AtomicBool::new(false));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");

        let relay = {
            let shared = Arc::clone(&shared);
            let stopping = Arc::clone(&stopping);
            thread::Builder::new()
                .name("fake-relay".into())
                .spawn(move || relay(listener, inner_addr, &shared, &stopping))
                .expect("spawn the relay thread")
        };
        let serve = {
            let shared = Arc::clone(&shared);
            let inner = Arc::clone(&inner);
            thread::Builder::new()
                .name("fake-http".into())
                .spawn(move || serve(&inner, &shared, &handler))
                .expect("spawn the server thread")
        };
        FakeServer { shared, addr, inner, stopping, threads: vec![relay, serve] }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// `http://127.0.0.1:<port>/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url())
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request since the start (or the last `clear_requests`), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let start = *lock(&self.shared.log_start);
        lock(&self.shared.log)[start..].to_vec()
    }

    /// The requests whose operation is `name`.
    pub fn requests_named(&self, name: &str) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.operation_name.as_deref() == Some(name)).collect()
    }

    /// Forgets the requests logged so far.
    pub fn clear_requests(&self) {
        let len = lock(&self.shared.log).len();
        *lock(&self.shared.log_start) = len;
    }

    /// Queues a fault for the next request (whatever its operation).
    pub fn fail_next(&self, fault: Fault) {
        self.queue(None, fault);
    }

    /// Queues a fault for the next request carrying operation `operation`.
    pub fn fail_next_named(&self, operation: &str, fault: Fault) {
        self.queue(Some(operation.to_owned()), fault);
    }

    /// Queues `fault` for each of the next `n` requests.
    pub fn fail_times(&self, n: usize, fault: Fault) {
        for _ in 0..n {
            self.queue(None, fault.clone());
        }
    }

    fn queue(&self, operation: Option<String>, fault: Fault) {
        lock(&self.shared.faults).push_back(QueuedFault { operation, fault });
    }

    /// Faults still waiting for a request.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).len()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// After `n` more requests, answer every request 401 (a session that expired, a key that
    /// was revoked) until [`FakeServer::authorize_again`].
    pub fn unauthorized_after(&self, n: u64) {
        *lock(&self.shared.unauthorized_after) = Some(n);
    }

    /// Ends the effect of [`FakeServer::unauthorized_after`].
    pub fn authorize_again(&self) {
        *lock(&self.shared.unauthorized_after) = None;
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the relay's accept() and the server's recv().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        self.inner.unblock();
        for (client, server) in lock(&self.shared.connections).drain().map(|(_, c)| c) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A URL where nothing listens (a port that was just free), for connection-refused tests.
pub fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/graphql")
}

/// Receives requests, logs them, and answers each on its own thread (so a `Slow` fault does
/// not hold up the requests behind it).
fn serve(server: &tiny_http::Server, shared: &Arc<Shared>, handler: &Arc<dyn Handler>) {
    while let Ok(mut request) = server.recv() {
        let mut body = Vec::new();
        let _ = request.as_reader().read_to_end(&mut body);
        let url = request.url().to_owned();
        let incoming = Incoming {
            method: request.method().as_str().to_owned(),
            path: url.split('?').next().unwrap_or("").to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|h| (h.field.as_str().as_str().to_owned(), h.value.as_str().to_owned()))
                .collect(),
            gql: gql::parse_request(&body),
            body,
        };
        let (seq, fault) = shared.admit(&incoming);
        let shared = Arc::clone(shared);
        let handler = Arc::clone(handler);
        let spawned = thread::Builder::new().name("fake-request".into()).spawn(move || {
            let reply = match fault {
                Some(Fault::DropConnection) => {
                    shared.cut(request.remote_addr());
                    return; // dropping `request` now writes into a closed socket
                }
                Some(Fault::LoseAnswer(status)) => {
                    let _ = handler.handle(&incoming);
                    let Some(status) = status else { return shared.cut(request.remote_addr()) };
                    Fault::Status(status).reply()
                }
                Some(Fault::Slow(delay)) => {
                    thread::sleep(delay);
                    handler.handle(&incoming)
                }
                Some(fault) => fault.reply(),
                None => handler.handle(&incoming),
            };
            shared.finish(seq, Some(&reply));
            let _ = request.respond(to_response(reply));
        });
        if spawned.is_err() {
            eprintln!("fake server: cannot spawn a request thread");
        }
    }
}

fn to_response(reply: Reply) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in &reply.headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    response
}

/// Accepts client connections and relays each to tiny_http, remembering both sockets so a
/// `DropConnection` fault can cut the client's side.
fn relay(listener: TcpListener, inner: SocketAddr, shared: &Arc<Shared>, stopping: &AtomicBool) {
    for client in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = client else { continue };
        let Ok(server) = TcpStream::connect(inner) else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(peer), Ok(client2), Ok(server2), Ok(client3), Ok(server3)) =
            (server.local_addr(), client.try_clone(), server.try_clone(), client.try_clone(), server.try_clone())
        else {
            continue;
        };
        lock(&shared.connections).insert(peer, (client3, server3));
        let _ = thread::Builder::new().name("fake-relay-up".into()).spawn(move || pump(client, server));
        let shared = Arc::clone(shared);
        let _ = thread::Builder::new().name("fake-relay-down".into()).spawn(move || {
            pump(server2, client2);
            lock(&shared.connections).remove(&peer);
        });
    }
}

/// Copies one direction of a relayed connection until EOF, then passes the EOF on.
///
/// tiny_http writes a response's headers and body in separate small writes without
/// TCP_NODELAY, so a receiver that delays its ACK (Linux: up to 40 ms) stalls every answer
/// longer than its 1 KiB buffer. Stash (Go) answers without that stall; acknowledging at once
/// keeps the fake's latency honest for benchmarks.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    use std::io::{Read, Write};
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        quick_ack(&from);
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(target_os = "linux")]
fn quick_ack(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

#[cfg(not(target_os = "linux"))]
fn quick_ack(_: &TcpStream) {}
