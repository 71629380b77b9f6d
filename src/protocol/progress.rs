//! Progress reporting: Stash's `\x01p\x02<fraction>` frames, or a bar on a terminal.
//!
//! Stash drops updates it cannot keep up with and only shows them for queued tasks, so updates
//! are thinned out here: one when the fraction moved by a percent or a second passed, and always
//! the final one.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressSink {
    /// Stash's progress frames on stderr.
    Stash,
    /// A bar on stderr when it is a terminal, else nothing.
    Terminal,
    /// Nowhere.
    Silent,
}

/// A rate-limited progress reporter.
#[derive(Debug)]
pub struct Progress {
    sink: ProgressSink,
    last_sent: Option<(Instant, f64)>,
}

const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MIN_STEP: f64 = 0.01;

impl Progress {
    /// A reporter for `sink` (a terminal sink on a non-terminal stderr stays silent).
    pub fn new(sink: ProgressSink) -> Self {
        let sink = match sink {
            ProgressSink::Terminal if !std::io::stderr().is_terminal() => ProgressSink::Silent,
            other => other,
        };
        Progress { sink, last_sent: None }
    }

    /// Reports `done` of `total` units of work.
    pub fn step(&mut self, done: u64, total: u64) {
        let fraction = if total == 0 { 1.0 } else { done as f64 / total as f64 };
        self.set(fraction);
    }

    /// Reports a fraction between 0 and 1 (clamped).
    pub fn set(&mut self, fraction: f64) {
        let fraction = if fraction.is_nan() { 0.0 } else { fraction.clamp(0.0, 1.0) };
        let now = Instant::now();
        let due = match self.last_sent {
            None => true,
            Some((at, sent)) => {
                (fraction >= 1.0 && sent < 1.0)
                    || ((fraction - sent).abs() >= MIN_STEP && now.duration_since(at) >= Duration::from_millis(100))
                    || (fraction != sent && now.duration_since(at) >= MIN_INTERVAL)
            }
        };
        if due {
            self.last_sent = Some((now, fraction));
            self.emit(fraction);
        }
    }

    fn emit(&self, fraction: f64) {
        let mut stderr = std::io::stderr().lock();
        let _ = match self.sink {
            ProgressSink::Stash => writeln!(stderr, "\x01p\x02{fraction:.4}"),
            ProgressSink::Terminal => {
                let filled = (fraction * 30.0).round() as usize;
                let end = if fraction >= 1.0 { "\n" } else { "" };
                write!(stderr, "\r[{}{}] {:>3.0}%{end}", "#".repeat(filled), " ".repeat(30 - filled), fraction * 100.0)
            }
            ProgressSink::Silent => Ok(()),
        };
    }
}
