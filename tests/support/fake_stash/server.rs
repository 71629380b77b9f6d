//! The fake Stash: the server.

use super::*;

pub(super) struct Auth {
    pub(super) api_key: Option<String>,
    pub(super) cookie: String,
    pub(super) generation: u64,
    pub(super) rotate_after: Option<u64>,
}

/// An edit of the state made just before the `n`th request of an operation is answered.
type Interleaved = (String, usize, Box<dyn FnOnce(&mut StashState) + Send>);

pub(super) struct StashInner {
    pub(super) state: Mutex<StashState>,
    pub(super) auth: Mutex<Auth>,
    pub(super) hooks: Mutex<Option<HookRunner>>,
    interleaved: Mutex<Vec<Interleaved>>,
    /// Requests answered so far, by operation name.
    answered: Mutex<BTreeMap<String, usize>>,
    pub(super) extension: Mutex<Option<Arc<dyn Extension>>>,
}

/// The fake Stash server (see the module docs). Request log and faults come from
/// [`FakeServer`] through `Deref`. Stops when dropped.
pub struct FakeStash {
    server: FakeServer,
    inner: Arc<StashInner>,
}

impl Deref for FakeStash {
    type Target = FakeServer;

    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

impl Default for FakeStash {
    fn default() -> Self {
        Self::start()
    }
}

impl FakeStash {
    /// Starts a fake Stash with an empty library and no credentials configured.
    pub fn start() -> FakeStash {
        let inner = Arc::new(StashInner {
            state: Mutex::new(StashState::default()),
            auth: Mutex::new(Auth { api_key: None, cookie: new_cookie(0), generation: 0, rotate_after: None }),
            hooks: Mutex::new(None),
            interleaved: Mutex::new(Vec::new()),
            answered: Mutex::new(BTreeMap::new()),
            extension: Mutex::new(None),
        });
        let server = FakeServer::start(Arc::new(StashHandler { inner: Arc::clone(&inner) }));
        FakeStash { server, inner }
    }

    /// Makes mutations run `runner` for each post hook they trigger, synchronously: after the
    /// change is committed and before the mutation answers, exactly as Stash runs plugin hooks
    /// (so a client that holds a lock across its mutation deadlocks here as it would there).
    pub fn on_hook(&self, runner: HookRunner) {
        *lock(&self.inner.hooks) = Some(runner);
    }

    /// Edits the state just before the `n`th request (from 1, counted from now) of operation
    /// `operation` is answered: someone else's change landing between two of a client's
    /// requests, such as a user saving the settings page while the plugin runs.
    pub fn before_nth(&self, operation: &str, n: usize, edit: impl FnOnce(&mut StashState) + Send + 'static) {
        let seen = lock(&self.inner.answered).get(operation).copied().unwrap_or(0);
        lock(&self.inner.interleaved).push((operation.to_owned(), seen + n, Box::new(edit)));
    }

    /// Waits until every request received so far was answered (a killed client's request
    /// still runs to its end in Stash); panics after 20 s.
    pub fn wait_for_answers(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self.requests().iter().any(|r| r.status.is_none()) {
            assert!(std::time::Instant::now() < deadline, "a request was never answered");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Adds Stash's web side (page files, plugin runner): see [`super::super::fake_web`].
    pub fn extend(&self, extension: Arc<dyn Extension>) {
        *lock(&self.inner.extension) = Some(extension);
    }

    /// Starts a fake Stash with credentials configured and this API key.
    pub fn with_api_key(key: &str) -> FakeStash {
        let fake = FakeStash::start();
        fake.set_api_key(Some(key));
        fake
    }

    /// Reads or edits the library while the server runs.
    pub fn lib<R>(&self, f: impl FnOnce(&mut Library) -> R) -> R {
        f(&mut lock(&self.inner.state).library)
    }

    /// Reads or edits version, status and configuration while the server runs.
    pub fn config<R>(&self, f: impl FnOnce(&mut StashConfig) -> R) -> R {
        f(&mut lock(&self.inner.state).config)
    }

    /// Scene updates Stash made so far (each fires `Scene.Update.Post` once).
    pub fn scene_updates(&self) -> SceneUpdates {
        let state = lock(&self.inner.state);
        SceneUpdates {
            total: state.scene_updates.values().sum(),
            busiest: state.scene_updates.values().copied().max().unwrap_or(0),
        }
    }

    /// Forgets the scene updates counted so far.
    pub fn clear_scene_updates(&self) {
        lock(&self.inner.state).scene_updates.clear();
    }

    /// Sets `systemStatus.status`.
    pub fn set_status(&self, status: SystemStatus) {
        self.config(|c| c.status = status);
    }

    /// Configures credentials (`Some`: every request needs the key or the session cookie) or
    /// removes them (`None`: Stash accepts everything).
    pub fn set_api_key(&self, key: Option<&str>) {
        lock(&self.inner.auth).api_key = key.map(str::to_owned);
    }

    /// The configured API key.
    pub fn api_key(&self) -> Option<String> {
        lock(&self.inner.auth).api_key.clone()
    }

    /// The session cookie's current value: what Stash would put in the plugin's input.
    pub fn session_cookie(&self) -> String {
        lock(&self.inner.auth).cookie.clone()
    }

    /// After `n` more authenticated requests, renew the session: that response carries
    /// `Set-Cookie: session=<new>` and from then on only the new value is accepted.
    pub fn rotate_cookie_after(&self, n: u64) {
        lock(&self.inner.auth).rotate_after = Some(n);
    }

    /// A URL where nothing listens.
    pub fn dead_url() -> String {
        fake_http::dead_url()
    }
}

pub(super) fn new_cookie(generation: u64) -> String {
    let noise = SplitMix(next_seed()).next();
    format!("MTc{generation}x{noise:016x}")
}

pub(super) struct StashHandler {
    pub(super) inner: Arc<StashInner>,
}

impl StashHandler {
    /// Stash's authentication middleware: `Ok(Some(cookie))` when this response renews it.
    fn authenticate(&self, request: &Incoming) -> Result<Option<String>, ()> {
        let mut auth = lock(&self.inner.auth);
        let authorized = match &auth.api_key {
            None => true,
            Some(key) => {
                request.header("ApiKey") == Some(key.as_str())
                    || request.cookie("session").as_deref() == Some(auth.cookie.as_str())
            }
        };
        if !authorized {
            return Err(());
        }
        match auth.rotate_after {
            Some(0) => {
                auth.generation += 1;
                auth.cookie = new_cookie(auth.generation);
                auth.rotate_after = None;
                Ok(Some(auth.cookie.clone()))
            }
            Some(n) => {
                auth.rotate_after = Some(n - 1);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    fn graphql(&self, request: &Incoming) -> Reply {
        if request.method != "POST" {
            return Reply::json(405, &gql::error_body("the fake Stash serves POST only"));
        }
        let gql_request = match &request.gql {
            Ok(r) => r,
            Err(EnvelopeError::BadJson(message)) => {
                return Reply::json(400, &gql::error_body(message));
            }
            Err(EnvelopeError::NoQuery) => {
                return Reply::json(
                    422,
                    &gql::errors_body(vec![json!({
                        "message": "no operation provided",
                        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}
                    })]),
                );
            }
        };
        let document = match gql::document(Api::Stash, &gql_request.query) {
            Ok(document) => document,
            Err(errors) => return Reply::json(422, &gql::errors_body(errors)),
        };
        let extension = lock(&self.inner.extension).clone();
        if let Some(reply) = extension.and_then(|e| e.graphql(&document, gql_request)) {
            return reply;
        }
        let mut state = lock(&self.inner.state);
        if let Some(name) = request.operation_name() {
            let number = {
                let mut answered = lock(&self.inner.answered);
                let count = answered.entry(name.clone()).or_insert(0);
                *count += 1;
                *count
            };
            let mut pending = lock(&self.inner.interleaved);
            while let Some(i) = pending.iter().position(|(op, at, _)| *op == name && *at == number) {
                let (_, _, edit) = pending.remove(i);
                edit(&mut state);
            }
        }
        let cell = RefCell::new(&mut *state);
        let cx = Cx { st: &cell, seed: next_seed() };
        let executed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            gql::execute(Api::Stash, &document, gql_request, |op| match op {
                OperationType::Mutation => Box::new(MutationRoot { cx }),
                _ => Box::new(QueryRoot { cx }),
            })
        }));
        let hooks = std::mem::take(&mut state.pending_hooks);
        drop(state);
        let runner = lock(&self.inner.hooks).clone();
        if let Some(runner) = runner {
            let cookie = lock(&self.inner.auth).cookie.clone();
            for hook in hooks {
                runner(&HookEvent { cookie: cookie.clone(), ..hook });
            }
        }
        match executed {
            Ok(executed) => Reply::json(executed.status, &executed.body),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                Reply::text(500, "text/plain; charset=utf-8", &format!("the fake Stash panicked: {message}\n"))
            }
        }
    }
}

impl Handler for StashHandler {
    fn handle(&self, request: &Incoming) -> Reply {
        let extension = lock(&self.inner.extension).clone();
        if request.path != "/graphql" {
            if let Some(reply) = extension.and_then(|e| e.serve(request)) {
                return reply;
            }
            return Reply::text(404, "text/plain; charset=utf-8", "404 page not found\n");
        }
        // Stash authenticates before the GraphQL handler sees anything.
        let renewed = match self.authenticate(request) {
            Ok(renewed) => renewed,
            Err(()) => return Reply::empty(401),
        };
        let reply = self.graphql(request);
        match renewed {
            Some(cookie) => {
                reply.with_header("Set-Cookie", &format!("session={cookie}; Path=/; Max-Age=3600; HttpOnly"))
            }
            None => reply,
        }
    }
}

/// A fresh seed per request: the order of unsorted rows changes from call to call.
pub(super) fn next_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    SplitMix(nanos ^ COUNTER.fetch_add(1, AtomicOrdering::Relaxed).wrapping_mul(0x9E37_79B9)).next()
}

/// splitmix64: a tiny, good-enough PRNG (no dependency needed).
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Shuffles `items` (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// How many times Stash updated scenes: what a test counts to pin "each scene updated once".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneUpdates {
    /// Updates of any scene, in all.
    pub total: u64,
    /// Updates of the scene updated most.
    pub busiest: u64,
}
