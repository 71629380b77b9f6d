//! Logging in Stash's frame format.
//!
//! Stash reads a plugin's stderr line by line; a line `\x01` + level + `\x02` + message lands in
//! its log at that level. Its reader gives up on a line of 64 KiB and then closes the pipe, so
//! every frame here is cut far below that, a multi-line message becomes one frame per line, and
//! a write to a closed stderr is ignored rather than allowed to panic the task.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Longest message part in one frame, in bytes: well below Stash's 64 KiB line limit.
pub(crate) const MAX_FRAME_BYTES: usize = 8 * 1024;

/// A `log::Log` that writes Stash frames to stderr.
pub(crate) struct StashLogger {
    level: LevelFilter,
}

impl StashLogger {
    /// Installs the logger for the whole process; our own records from `level` up, other
    /// crates' (reqwest, rustls…) from warning up.
    pub fn install(level: LevelFilter) {
        if log::set_boxed_logger(Box::new(StashLogger { level })).is_ok() {
            log::set_max_level(level);
        }
    }
}

impl Log for StashLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        let ours = metadata.target().starts_with(env!("CARGO_CRATE_NAME"));
        metadata.level() <= if ours { self.level } else { LevelFilter::Warn }
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let frames = frames(level_char(record.level()), &record.args().to_string());
            // Stash may have closed the pipe: losing a log line must never fail the task.
            let _ = std::io::stderr().lock().write_all(frames.as_bytes());
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

fn level_char(level: Level) -> char {
    match level {
        Level::Error => 'e',
        Level::Warn => 'w',
        Level::Info => 'i',
        Level::Debug => 'd',
        Level::Trace => 't',
    }
}

/// Renders `message` as Stash frames of level `level`: one per line, each line cut into parts
/// of at most [`MAX_FRAME_BYTES`], frame delimiters inside the text neutralised.
pub fn frames(level: char, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 8);
    for line in message.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let mut rest = line;
        while !rest.is_empty() {
            let mut cut = rest.len().min(MAX_FRAME_BYTES);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (part, tail) = rest.split_at(cut);
            out.push('\x01');
            out.push(level);
            out.push('\x02');
            out.extend(part.chars().map(|c| if c == '\x01' || c == '\x02' { '\u{FFFD}' } else { c }));
            out.push('\n');
            rest = tail;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_per_line() {
        assert_eq!(frames('i', "a\nb\r\n\n"), "\x01i\x02a\n\x01i\x02b\n");
    }

    #[test]
    fn long_lines_are_cut_far_below_stash_limit() {
        let message = "é".repeat(70 * 1024 / 2);
        let out = frames('w', &message);
        assert!(out.lines().all(|l| l.len() <= MAX_FRAME_BYTES + 3));
        let joined: String = out.lines().map(|l| &l[3..]).collect();
        assert_eq!(joined, message);
    }

    #[test]
    fn delimiters_in_text_cannot_forge_frames() {
        assert_eq!(frames('d', "x\x01e\x02y"), "\x01d\x02x\u{FFFD}e\u{FFFD}y\n");
    }
}
