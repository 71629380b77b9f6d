//! Stash's plugin runner, for the fake Stash: `runPluginOperation`, and `runPluginTask` with
//! Stash's job queue (`findJob`, `jobQueue`, `stopJob`) — each running the REAL binary over the
//! raw protocol, with `server_connection` pointing back at the fake itself.
//!
//! Why it exists: the StashHog page talks to the binary only through these four GraphQL fields,
//! and their semantics are what the page must survive (read from Stash's `pkg/plugin` and
//! `pkg/job`):
//! - `runPluginOperation` starts the binary with `{server_connection, args}` — NO defaultArgs —
//!   holds the request until it exits, returns `output`, or a GraphQL error carrying `error`.
//! - `runPluginTask` queues a job: jobs run ONE AT A TIME, the task's defaultArgs (when
//!   `task_name` is given) fill missing keys as strings, `p` frames set the job's progress, and
//!   the output and error are DISCARDED: the job ends FINISHED even when the plugin failed.
//! - `stopJob` cancels a queued job at once and SIGKILLs a running one (STOPPING, then
//!   CANCELLED). `findJob` forgets all but the last 10 finished jobs.
//!
//! What it must never do: keep a job's output somewhere the page could read it — Stash does not.

use super::fake_http::Reply;
use super::fake_stash::rfc3339;
use super::gql::{self, Document, GqlRequest, arguments, field_error, lock};
use super::runner::{self, PluginInput, RunOptions};
use super::schema::Api;
use apollo_compiler::executable::{OperationType, Selection};
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The root fields this runner answers; a document selecting only these is ours.
const FIELDS: &[&str] = &["runPluginOperation", "runPluginTask", "findJob", "jobQueue", "stopJob"];

/// How many finished jobs `findJob` still knows (Stash's graveyard).
const KEPT_FINISHED: usize = 10;

/// Where the plugin lives and how Stash starts it.
#[derive(Clone, Debug)]
pub struct PluginSetup {
    /// The plugin id (the manifest's file name).
    pub plugin_id: String,
    /// The fake Stash's port, for `server_connection`.
    pub port: u16,
    /// The session cookie Stash hands the plugin.
    pub cookie: Option<String>,
    /// `Dir`.
    pub dir: PathBuf,
    /// `PluginDir`.
    pub plugin_dir: PathBuf,
    /// The manifest's tasks: name → defaultArgs.
    pub tasks: BTreeMap<String, BTreeMap<String, String>>,
    /// Environment, working directory and timeout of every run.
    pub options: RunOptions,
}

impl PluginSetup {
    fn input(&self, args: Value) -> PluginInput {
        PluginInput::new(self.port, self.cookie.as_deref(), &self.dir, &self.plugin_dir).args(args)
    }
}

/// The manifest's tasks and their defaultArgs, read from `stashhog.yml`.
pub fn manifest_tasks() -> BTreeMap<String, BTreeMap<String, String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stashhog.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let manifest: Value = serde_yaml::from_str(&text).unwrap_or(Value::Null);
    let mut tasks = BTreeMap::new();
    for task in manifest.get("tasks").and_then(Value::as_array).into_iter().flatten() {
        let name = task.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let defaults = task
            .get("defaultArgs")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect()
            })
            .unwrap_or_default();
        tasks.insert(name, defaults);
    }
    tasks
}

/// A job's state, with Stash's status names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Queued.
    Ready,
    /// The plugin runs.
    Running,
    /// Cancel requested; the process is being killed.
    Stopping,
    /// The plugin exited (successfully or not: Stash does not tell).
    Finished,
    /// Cancelled.
    Cancelled,
}

impl JobStatus {
    fn as_str(self) -> &'static str {
        match self {
            JobStatus::Ready => "READY",
            JobStatus::Running => "RUNNING",
            JobStatus::Stopping => "STOPPING",
            JobStatus::Finished => "FINISHED",
            JobStatus::Cancelled => "CANCELLED",
        }
    }

    fn done(self) -> bool {
        matches!(self, JobStatus::Finished | JobStatus::Cancelled)
    }
}

/// One job of the queue.
#[derive(Clone, Debug)]
pub struct Job {
    /// Id.
    pub id: u64,
    /// Shown in Stash's task queue.
    pub description: String,
    /// Status.
    pub status: JobStatus,
    /// 0..1 from the plugin's `p` frames.
    pub progress: Option<f64>,
    /// The plugin's `args` (defaultArgs applied).
    pub args: Value,
    /// When it was queued, started, ended (RFC3339).
    pub add_time: String,
    /// Started.
    pub start_time: Option<String>,
    /// Ended.
    pub end_time: Option<String>,
    /// The plugin's stderr, for a test that fails (Stash logs it; the page never sees it).
    pub stderr: String,
}

impl Job {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "status": self.status.as_str(),
            "subTasks": null,
            "description": self.description,
            "progress": self.progress,
            "startTime": self.start_time,
            "endTime": self.end_time,
            "addTime": self.add_time,
            "error": null,
        })
    }
}

#[derive(Default)]
struct Queue {
    next_id: u64,
    jobs: BTreeMap<u64, Job>,
    waiting: VecDeque<u64>,
    finished: VecDeque<u64>,
    stop_running: bool,
}

struct Inner {
    setup: PluginSetup,
    queue: Mutex<Queue>,
    wake: Condvar,
    stopping: AtomicBool,
}

/// The plugin runner (see the module docs). Stops its worker, killing a running job, on drop.
pub struct PluginHost {
    inner: Arc<Inner>,
    worker: Option<JoinHandle<()>>,
}

fn now() -> String {
    let unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
    rfc3339(unix, 0)
}

impl PluginHost {
    /// Starts the runner and its one worker.
    pub fn start(setup: PluginSetup) -> PluginHost {
        let inner =
            Arc::new(Inner { setup, queue: Mutex::default(), wake: Condvar::new(), stopping: AtomicBool::new(false) });
        let worker = {
            let inner = Arc::clone(&inner);
            thread::Builder::new()
                .name("fake-job-queue".into())
                .spawn(move || work(&inner))
                .expect("spawn the job worker")
        };
        PluginHost { inner, worker: Some(worker) }
    }

    /// Every job Stash still knows, oldest first.
    pub fn jobs(&self) -> Vec<Job> {
        lock(&self.inner.queue).jobs.values().cloned().collect()
    }

    /// Answers a validated document when it selects only the runner's fields.
    pub fn graphql(&self, document: &Document, request: &GqlRequest) -> Option<Reply> {
        let operation = document.operations.get(request.operation_name.as_deref()).ok()?;
        let mut fields = operation.selection_set.selections.iter().filter_map(|s| match s {
            Selection::Field(f) => Some(f.name.as_str()),
            _ => None,
        });
        if !fields.all(|name| FIELDS.contains(&name) || name == "__typename") {
            return None;
        }
        let executed = gql::execute(Api::Stash, document, request, |op| Box::new(Root { host: self, op }));
        Some(Reply::json(executed.status, &executed.body))
    }

    fn operation(&self, args: &Map<String, Value>) -> Result<Value, FieldError> {
        self.check_plugin(args)?;
        let plugin_args = args.get("args").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
        let run = runner::run_plugin(&self.inner.setup.input(plugin_args), &self.inner.setup.options);
        match run.error {
            Some(error) => Err(field_error(error)),
            None => Ok(run.output),
        }
    }

    fn check_plugin(&self, args: &Map<String, Value>) -> Result<(), FieldError> {
        let id = args.get("plugin_id").and_then(Value::as_str).unwrap_or_default();
        if id == self.inner.setup.plugin_id {
            Ok(())
        } else {
            Err(field_error(format!("plugin with ID {id} not found")))
        }
    }

    fn queue_task(&self, args: &Map<String, Value>) -> Result<u64, FieldError> {
        self.check_plugin(args)?;
        let mut plugin_args = args.get("args_map").and_then(Value::as_object).cloned().unwrap_or_default();
        let task_name = args.get("task_name").and_then(Value::as_str);
        if let Some(name) = task_name {
            let defaults = self.inner.setup.tasks.get(name).ok_or_else(|| {
                field_error(format!("task {name} not found in plugin {}", self.inner.setup.plugin_id))
            })?;
            for (key, value) in defaults {
                plugin_args.entry(key.clone()).or_insert_with(|| Value::String(value.clone()));
            }
        }
        let description = args
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Running plugin task: {}", task_name.unwrap_or("")));
        let mut queue = lock(&self.inner.queue);
        queue.next_id += 1;
        let id = queue.next_id;
        queue.jobs.insert(
            id,
            Job {
                id,
                description,
                status: JobStatus::Ready,
                progress: None,
                args: Value::Object(plugin_args),
                add_time: now(),
                start_time: None,
                end_time: None,
                stderr: String::new(),
            },
        );
        queue.waiting.push_back(id);
        self.inner.wake.notify_all();
        Ok(id)
    }

    fn stop(&self, id: u64) -> bool {
        let mut queue = lock(&self.inner.queue);
        let Some(job) = queue.jobs.get_mut(&id) else {
            return false;
        };
        match job.status {
            JobStatus::Ready => {
                job.status = JobStatus::Cancelled;
                job.end_time = Some(now());
                queue.waiting.retain(|j| *j != id);
                finish(&mut queue, id);
            }
            JobStatus::Running => {
                job.status = JobStatus::Stopping;
                queue.stop_running = true;
            }
            _ => {}
        }
        true
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        lock(&self.inner.queue).stop_running = true;
        self.inner.wake.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Moves a job to the graveyard, forgetting the oldest beyond Stash's limit.
fn finish(queue: &mut Queue, id: u64) {
    queue.finished.push_back(id);
    while queue.finished.len() > KEPT_FINISHED {
        if let Some(old) = queue.finished.pop_front() {
            queue.jobs.remove(&old);
        }
    }
}

/// The worker: one job at a time, in order.
fn work(inner: &Inner) {
    loop {
        let (id, args) = {
            let mut queue = lock(&inner.queue);
            loop {
                if inner.stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(id) = queue.waiting.pop_front() {
                    queue.stop_running = false;
                    let job = queue.jobs.get_mut(&id).expect("a waiting job is known");
                    job.status = JobStatus::Running;
                    job.start_time = Some(now());
                    job.progress = Some(0.0);
                    break (id, job.args.clone());
                }
                queue = match inner.wake.wait_timeout(queue, Duration::from_millis(200)) {
                    Ok((queue, _)) => queue,
                    Err(poisoned) => poisoned.into_inner().0,
                };
            }
        };
        run_job(inner, id, args);
        let mut queue = lock(&inner.queue);
        if let Some(job) = queue.jobs.get_mut(&id) {
            job.status = if job.status == JobStatus::Stopping { JobStatus::Cancelled } else { JobStatus::Finished };
            job.end_time = Some(now());
        }
        finish(&mut queue, id);
    }
}

/// Runs one task: progress from `p` frames; stdout (output and error) read and thrown away.
fn run_job(inner: &Inner, id: u64, args: Value) {
    let setup = &inner.setup;
    let scratch = super::temp::TempDir::new("job");
    let mut command = runner::command(&[], &setup.options, &scratch);
    let child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let Ok(mut child) = child else {
        return;
    };
    let bytes = serde_json::to_vec(&setup.input(args).to_json()).unwrap_or_default();
    if let Some(mut pipe) = child.stdin.take() {
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let stdout = child.stdout.take().map(|mut pipe| {
        thread::spawn(move || {
            let mut discarded = Vec::new();
            let _ = std::io::Read::read_to_end(&mut pipe, &mut discarded);
        })
    });
    let stderr = child.stderr.take().map(|pipe| {
        let shared = SharedProgress { id };
        let (sender, receiver) = std::sync::mpsc::channel::<String>();
        let reader = thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        (reader, receiver, shared)
    });
    let deadline = std::time::Instant::now() + setup.options.timeout;
    loop {
        if let Some((_, receiver, shared)) = &stderr {
            while let Ok(line) = receiver.try_recv() {
                shared.record(inner, &line);
            }
        }
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => {
                let stop = lock(&inner.queue).stop_running;
                if stop || std::time::Instant::now() > deadline {
                    let _ = child.kill(); // SIGKILL, as Stash cancels a task
                    let _ = child.wait();
                    break;
                }
                thread::sleep(Duration::from_millis(10));
            }
            Err(_) => break,
        }
    }
    if let Some((reader, receiver, shared)) = stderr {
        let _ = reader.join();
        while let Ok(line) = receiver.try_recv() {
            shared.record(inner, &line);
        }
    }
    if let Some(stdout) = stdout {
        let _ = stdout.join();
    }
}

/// Applies a task's stderr line to its job: a `p` frame sets the progress; the rest is kept
/// as Stash keeps its log.
struct SharedProgress {
    id: u64,
}

impl SharedProgress {
    fn record(&self, inner: &Inner, line: &str) {
        let mut queue = lock(&inner.queue);
        let Some(job) = queue.jobs.get_mut(&self.id) else {
            return;
        };
        if let Some(value) = line.strip_prefix("\u{1}p\u{2}")
            && let Ok(progress) = value.trim().parse::<f64>()
        {
            job.progress = Some(progress.clamp(0.0, 1.0));
        } else {
            job.stderr.push_str(line);
            job.stderr.push('\n');
        }
    }
}

struct Root<'h> {
    host: &'h PluginHost,
    op: OperationType,
}

impl ObjectValue for Root<'_> {
    fn type_name(&self) -> &str {
        if self.op == OperationType::Mutation { "Mutation" } else { "Query" }
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let args = arguments(info);
        let job_value = |job: Option<Job>| match job {
            Some(job) => gql::resolve_json(info, &info.field_definition().ty, &job.to_json()),
            None => Ok(ResolvedValue::null()),
        };
        match info.field_name() {
            "runPluginOperation" => Ok(ResolvedValue::Leaf(gql::to_json_value(&self.host.operation(&args)?))),
            "runPluginTask" => Ok(ResolvedValue::leaf(self.host.queue_task(&args)?.to_string())),
            "findJob" => {
                let id = args.get("input").and_then(|i| i.get("id")).map(job_id).unwrap_or_default();
                job_value(lock(&self.host.inner.queue).jobs.get(&id).cloned())
            }
            "jobQueue" => {
                let queue = lock(&self.host.inner.queue);
                let jobs: Vec<Value> = queue.jobs.values().filter(|j| !j.status.done()).map(Job::to_json).collect();
                gql::resolve_json(info, &info.field_definition().ty, &Value::Array(jobs))
            }
            "stopJob" => {
                let id = args.get("job_id").map(job_id).unwrap_or_default();
                Ok(ResolvedValue::leaf(self.host.stop(id)))
            }
            other => Err(field_error(format!("the fake plugin runner does not answer {other}"))),
        }
    }
}

fn job_id(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.parse().unwrap_or_default(),
        other => other.as_u64().unwrap_or_default(),
    }
}
