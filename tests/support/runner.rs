//! Runs the built `stashhog` binary exactly as Stash does, and reads its output with Stash's
//! rules.
//!
//! Why it exists: the plugin protocol is full of edges a unit test cannot see — no arguments,
//! stdin is ONE JSON document without a trailing newline and then EOF, the CWD and environment
//! are Stash's (never the plugin's folder), stderr lines are `\x01<level>\x02message` frames
//! where an unframed line is logged at error level, and stdout must hold exactly one JSON
//! object `{"output", "error"}` or Stash treats all of it as a plain string. The parsers here
//! replicate Stash's (`pkg/plugin/raw.go`, `pkg/logger/plugin.go`) so a test sees what a user
//! would see in Stash's UI and log.
//!
//! Every run has a timeout: a hung binary fails its test instead of hanging CI.

use super::fake_stash::FakeStash;
use super::temp::TempDir;
use serde_json::{Map, Value, json};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The binary under test: the one cargo built, or `STASHHOG_BINARY` (a bench measuring an
/// earlier build for a before/after table).
pub fn binary() -> PathBuf {
    std::env::var_os("STASHHOG_BINARY").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_stashhog")), PathBuf::from)
}

/// Stash's longest stderr line; longer ones are cut and marked `" [truncated]"`.
pub const MAX_LOG_LINE: usize = 64 * 1024;

// ---- the plugin input ----------------------------------------------------------------------

/// The JSON document Stash writes to a raw plugin's stdin.
#[derive(Clone, Debug)]
pub struct PluginInput {
    /// `http` or `https`.
    pub scheme: String,
    /// Stash's listen host (`0.0.0.0` by default: the plugin must connect to 127.0.0.1).
    pub host: String,
    /// Stash's port.
    pub port: u16,
    /// The session cookie (name, value); `None` sends `"SessionCookie": null`.
    pub cookie: Option<(String, String)>,
    /// Stash's config dir (`Dir`).
    pub dir: PathBuf,
    /// The plugin's folder (`PluginDir`).
    pub plugin_dir: PathBuf,
    /// `args`.
    pub args: Value,
}

impl PluginInput {
    /// An input for a Stash on `port` with session cookie `cookie_value`.
    pub fn new(port: u16, cookie_value: Option<&str>, dir: &Path, plugin_dir: &Path) -> Self {
        PluginInput {
            scheme: "http".into(),
            host: "0.0.0.0".into(),
            port,
            cookie: cookie_value.map(|v| ("session".to_owned(), v.to_owned())),
            dir: dir.to_owned(),
            plugin_dir: plugin_dir.to_owned(),
            args: json!({}),
        }
    }

    /// An input pointing at `stash`, carrying its current session cookie.
    pub fn for_stash(stash: &FakeStash, dir: &Path, plugin_dir: &Path) -> Self {
        Self::new(stash.port(), Some(&stash.session_cookie()), dir, plugin_dir)
    }

    /// Replaces `args`.
    pub fn args(mut self, args: Value) -> Self {
        self.args = args;
        self
    }

    /// Sets one key of `args`.
    pub fn arg(mut self, key: &str, value: Value) -> Self {
        if !self.args.is_object() {
            self.args = json!({});
        }
        self.args[key] = value;
        self
    }

    /// Sets `Host`.
    pub fn host(mut self, host: &str) -> Self {
        self.host = host.to_owned();
        self
    }

    /// Sends `"SessionCookie": null`.
    pub fn without_cookie(mut self) -> Self {
        self.cookie = None;
        self
    }

    /// Sets the session cookie's value.
    pub fn cookie_value(mut self, value: &str) -> Self {
        self.cookie = Some(("session".into(), value.into()));
        self
    }

    /// Adds `args.hookContext` as Stash does for a hook: `id` is omitted when 0 and
    /// `inputFields` when empty.
    pub fn hook(self, id: u64, hook_type: &str, input: Value, input_fields: &[&str]) -> Self {
        let mut context = Map::new();
        if id != 0 {
            context.insert("id".into(), json!(id));
        }
        context.insert("type".into(), json!(hook_type));
        context.insert("input".into(), input);
        if !input_fields.is_empty() {
            context.insert("inputFields".into(), json!(input_fields));
        }
        self.arg("hookContext", Value::Object(context))
    }

    /// The document, shaped like Go's `json.Marshal` of Stash's structs.
    pub fn to_json(&self) -> Value {
        let cookie = match &self.cookie {
            Some((name, value)) => json!({
                "Name": name, "Value": value, "Quoted": false, "Path": "", "Domain": "",
                "Expires": "0001-01-01T00:00:00Z", "RawExpires": "", "MaxAge": 0,
                "Secure": false, "HttpOnly": false, "SameSite": 0, "Partitioned": false,
                "Raw": "", "Unparsed": null
            }),
            None => Value::Null,
        };
        json!({
            "server_connection": {
                "Scheme": self.scheme,
                "Host": self.host,
                "Port": self.port,
                "SessionCookie": cookie,
                "Dir": self.dir.to_string_lossy(),
                "PluginDir": self.plugin_dir.to_string_lossy(),
            },
            "args": self.args,
        })
    }
}

// ---- stderr --------------------------------------------------------------------------------

/// A log level of Stash's plugin frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `t`.
    Trace,
    /// `d`.
    Debug,
    /// `i`.
    Info,
    /// `w`.
    Warning,
    /// `e`.
    Error,
}

/// One line as Stash logs it.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// Level.
    pub level: Level,
    /// Message (trimmed when framed, verbatim when not).
    pub message: String,
}

/// stderr as Stash reads it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stderr {
    /// Log lines in order.
    pub logs: Vec<LogLine>,
    /// Progress values in order.
    pub progress: Vec<f64>,
    /// Lines longer than [`MAX_LOG_LINE`] (Stash cuts them).
    pub overlong_lines: usize,
}

enum Frame {
    Log(Level),
    Progress,
    /// `\x01\x00\x02…`: Stash's "none" level, dropped.
    Dropped,
}

fn frame(char: u8) -> Option<Frame> {
    Some(match char {
        b't' => Frame::Log(Level::Trace),
        b'd' => Frame::Log(Level::Debug),
        b'i' => Frame::Log(Level::Info),
        b'w' => Frame::Log(Level::Warning),
        b'e' => Frame::Log(Level::Error),
        b'p' => Frame::Progress,
        0 => Frame::Dropped,
        _ => return None,
    })
}

/// Reads stderr like Stash's `PluginLogger`: one line at a time (`\n`, a trailing `\r`
/// dropped), lines over 64 KiB cut and marked, empty lines skipped; a line is a frame only if
/// it is at least 4 bytes, starts `\x01`, has `\x02` third and a known level char (the message
/// is then trimmed); anything else is logged verbatim at the manifest's `errLog` level (error).
pub fn parse_stderr(bytes: &[u8]) -> Stderr {
    let mut out = Stderr::default();
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop(); // the final newline ends a line, it does not start one
    }
    for raw in lines {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let mut line = String::from_utf8_lossy(&raw[..raw.len().min(MAX_LOG_LINE)]).into_owned();
        if raw.len() > MAX_LOG_LINE {
            out.overlong_lines += 1;
            line.push_str(" [truncated]");
        }
        if line.is_empty() {
            continue;
        }
        let b = line.as_bytes();
        let framed = (b.len() >= 4 && b[0] == 1 && b[2] == 2).then(|| frame(b[1])).flatten();
        match framed {
            None => out.logs.push(LogLine { level: Level::Error, message: line }),
            Some(frame) => {
                let message = line[3..].trim().to_owned();
                match frame {
                    Frame::Log(level) => out.logs.push(LogLine { level, message }),
                    Frame::Progress => match message.parse::<f64>() {
                        Ok(p) => out.progress.push(p),
                        Err(e) => out.logs.push(LogLine {
                            level: Level::Error,
                            message: format!("Error parsing progress value '{message}': {e}"),
                        }),
                    },
                    Frame::Dropped => {}
                }
            }
        }
    }
    out
}

// ---- stdout --------------------------------------------------------------------------------

/// stdout as Stash decodes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stdout {
    /// `output` (or the whole of stdout as a string when it is not one JSON object).
    pub output: Value,
    /// `error`.
    pub error: Option<String>,
    /// Whether stdout was exactly one `{"output", "error"}` object (an `error` that is a
    /// string or null).
    pub proper_json: bool,
}

/// Decodes stdout like Stash's `json.Unmarshal` into `PluginOutput{Output any; Error *string}`:
/// one JSON document (surrounding whitespace allowed, keys matched case-insensitively as Go
/// does); on any failure the whole stdout string becomes `output`.
pub fn decode_stdout(stdout: &str) -> Stdout {
    let raw = || Stdout { output: Value::String(stdout.to_owned()), error: None, proper_json: false };
    let Ok(document) = serde_json::from_str::<Value>(stdout) else {
        return raw();
    };
    let object = match document {
        Value::Object(object) => object,
        // `null` unmarshals into an empty struct without error; other values fail.
        Value::Null => {
            return Stdout { output: Value::Null, error: None, proper_json: false };
        }
        _ => return raw(),
    };
    let field =
        |name: &str| object.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).next_back();
    let error = match field("error") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) => Some(e),
        Some(_) => return raw(),
    };
    Stdout { output: field("output").unwrap_or(Value::Null), error, proper_json: true }
}

// ---- a run ---------------------------------------------------------------------------------

/// How the process ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exit {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal, when it was killed by one.
    pub signal: Option<i32>,
}

impl Exit {
    /// A normal exit with `code`.
    pub fn code(code: i32) -> Exit {
        Exit { code: Some(code), signal: None }
    }

    fn from_status(status: std::process::ExitStatus) -> Exit {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        let signal = None;
        Exit { code: status.code(), signal }
    }

    /// Go's `exec.ExitError` text, which Stash uses as `error` when the output set none.
    fn go_error(&self) -> Option<String> {
        match (self.code, self.signal) {
            (Some(0), _) => None,
            (Some(code), _) => Some(format!("exit status {code}")),
            (None, Some(signal)) => Some(format!(
                "signal: {}",
                match signal {
                    6 => "aborted".to_owned(),
                    9 => "killed".to_owned(),
                    11 => "segmentation fault".to_owned(),
                    13 => "broken pipe".to_owned(),
                    15 => "terminated".to_owned(),
                    other => format!("signal {other}"),
                }
            )),
            (None, None) => Some("exit status unknown".into()),
        }
    }
}

/// The result of a plugin run, as Stash would see it.
#[derive(Clone, Debug)]
pub struct Run {
    /// `output` as Stash returns it.
    pub output: Value,
    /// `error` as Stash reports it (including `exit status N`).
    pub error: Option<String>,
    /// Log lines.
    pub logs: Vec<LogLine>,
    /// Progress values.
    pub progress: Vec<f64>,
    /// Exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// Whether stdout was one proper `{"output", "error"}` JSON object.
    pub proper_json: bool,
    /// stderr lines longer than Stash's 64 KiB limit.
    pub overlong_lines: usize,
    /// Wall time of the run.
    pub duration: Duration,
}

impl Run {
    /// Builds a `Run` from raw streams (also used to test the parsers themselves).
    pub fn from_parts(stdout: &[u8], stderr: &[u8], exit: Exit, duration: Duration) -> Run {
        let stdout_text = String::from_utf8_lossy(stdout).into_owned();
        let decoded = decode_stdout(&stdout_text);
        let parsed = parse_stderr(stderr);
        Run {
            output: decoded.output,
            error: decoded.error.or_else(|| exit.go_error()),
            logs: parsed.logs,
            progress: parsed.progress,
            exit_code: exit.code,
            stdout: stdout_text,
            stderr: String::from_utf8_lossy(stderr).into_owned(),
            proper_json: decoded.proper_json,
            overlong_lines: parsed.overlong_lines,
            duration,
        }
    }

    /// The messages logged at `level`.
    pub fn logs_at(&self, level: Level) -> Vec<&str> {
        self.logs.iter().filter(|l| l.level == level).map(|l| l.message.as_str()).collect()
    }

    /// The messages logged at `level` or above.
    pub fn logs_at_least(&self, level: Level) -> Vec<&str> {
        self.logs.iter().filter(|l| l.level >= level).map(|l| l.message.as_str()).collect()
    }

    /// Whether a message containing `needle` was logged at `level`.
    pub fn logged(&self, level: Level, needle: &str) -> bool {
        self.logs.iter().any(|l| l.level == level && l.message.contains(needle))
    }

    /// Whether any message at any level contains `needle`.
    pub fn logged_anywhere(&self, needle: &str) -> bool {
        self.logs.iter().any(|l| l.message.contains(needle))
    }

    /// The log as Stash's log view would show it, one `[level] message` per line.
    pub fn log_text(&self) -> String {
        self.logs.iter().map(|l| format!("[{:?}] {}\n", l.level, l.message)).collect()
    }

    /// A JSON pointer into `output` (`/counts/scenes`); `Null` when absent.
    pub fn out(&self, pointer: &str) -> &Value {
        self.output.pointer(pointer).unwrap_or(&Value::Null)
    }

    /// Panics (showing output and log) unless the run succeeded cleanly: exit 0, no `error`,
    /// proper JSON on stdout.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.error.is_none() && self.exit_code == Some(0) && self.proper_json,
            "the run failed: error={:?} exit={:?} proper_json={}\n--- stdout ---\n{}\n--- log ---\n{}",
            self.error,
            self.exit_code,
            self.proper_json,
            self.stdout,
            self.log_text()
        );
        self
    }
}

/// The result of a command-line run.
#[derive(Clone, Debug)]
pub struct CliRun {
    /// Exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
    /// Wall time.
    pub duration: Duration,
}

impl CliRun {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// stdout parsed as JSON (panics, showing both streams, when it is not).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e})\n--- stdout ---\n{}\n--- stderr ---\n{}", self.stdout, self.stderr)
        })
    }
}

/// How to run the binary.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Extra environment variables (the environment is otherwise only PATH and HOME).
    pub envs: Vec<(String, String)>,
    /// Working directory (default: a fresh temp dir, unrelated to the plugin's folders).
    pub cwd: Option<PathBuf>,
    /// HOME (default: a fresh temp dir, so the binary can never write into a real home).
    pub home: Option<PathBuf>,
    /// Spawn with stderr piped and its read end closed at once (Stash stopped reading).
    pub stderr_closed: bool,
    /// Kill the process and fail the test after this long.
    pub timeout: Duration,
    /// The command that starts the plugin, when not the test build itself: e.g. an installed
    /// binary, or `chroot ROOT /path/in/root`.
    pub program: Option<Vec<OsString>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        let secs = std::env::var("STASHHOG_TEST_TIMEOUT_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
        RunOptions {
            envs: Vec::new(),
            cwd: None,
            home: None,
            stderr_closed: false,
            timeout: Duration::from_secs(secs),
            program: None,
        }
    }
}

impl RunOptions {
    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// Runs the binary as a plugin: no arguments, `input` on stdin (no trailing newline), EOF.
pub fn run_plugin(input: &PluginInput, options: &RunOptions) -> Run {
    let bytes = serde_json::to_vec(&input.to_json()).expect("the input serialises");
    run_raw_stdin(&bytes, options)
}

/// Runs the binary as a plugin with arbitrary stdin bytes (empty, not JSON, …).
pub fn run_raw_stdin(stdin: &[u8], options: &RunOptions) -> Run {
    let (stdout, stderr, exit, duration) = execute(&[], Some(stdin), options);
    Run::from_parts(&stdout, &stderr, exit, duration)
}

/// Runs the command-line face: plain arguments, stdin null (not a terminal).
pub fn run_cli(args: &[&str], options: &RunOptions) -> CliRun {
    let (stdout, stderr, exit, duration) = execute(args, None, options);
    CliRun {
        exit_code: exit.code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        duration,
    }
}

/// The binary as Stash starts it: a clean environment (PATH, HOME and `options.envs`), an
/// unrelated working directory.
pub fn command(args: &[&str], options: &RunOptions, scratch: &TempDir) -> Command {
    let cwd = options.cwd.clone().unwrap_or_else(|| scratch.subdir("cwd"));
    let home = options.home.clone().unwrap_or_else(|| scratch.subdir("home"));
    let mut command = match options.program.as_deref() {
        Some([program, prefix @ ..]) => {
            let mut command = Command::new(program);
            command.args(prefix);
            command
        }
        _ => Command::new(binary()),
    };
    command.args(args).env_clear().env("HOME", &home).current_dir(&cwd);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.envs(options.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

/// Starts the binary as a plugin on `input`, waits until `ready()` holds (at most 30 s), then
/// SIGKILLs it — how Stash cancels a task.
pub fn kill_when(input: &PluginInput, options: &RunOptions, ready: impl Fn() -> bool) {
    let scratch = TempDir::new("killed");
    let mut child = command(&[], options, &scratch)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
    let bytes = serde_json::to_vec(&input.to_json()).expect("the input serialises");
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(&bytes);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "the run never reached the point to kill it at");
        assert!(child.try_wait().ok().flatten().is_none(), "the run ended before it could be killed");
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn execute(args: &[&str], stdin: Option<&[u8]>, options: &RunOptions) -> (Vec<u8>, Vec<u8>, Exit, Duration) {
    let scratch = TempDir::new("run");
    let mut command = command(args, options, &scratch);
    command
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());

    let started = Instant::now();
    let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
    if options.stderr_closed {
        drop(child.stderr.take()); // writes now fail with EPIPE, as after Stash stops reading
    }
    if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), stdin) {
        let bytes = bytes.to_vec();
        // A separate thread: the binary may not read stdin at all, and a big input must not
        // deadlock against its output. Dropping the pipe is the EOF.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        })
    };
    let stdout = read_all(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = read_all(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));

    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < options.timeout => {
                thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = stderr.join().unwrap_or_default();
                panic!(
                    "stashhog did not finish within {:?} (killed); stderr so far:\n{}",
                    options.timeout,
                    String::from_utf8_lossy(&stderr)
                );
            }
            Err(e) => panic!("cannot wait for stashhog: {e}"),
        }
    };
    let duration = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    (stdout, stderr, Exit::from_status(status), duration)
}
