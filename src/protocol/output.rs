//! The result Stash reads from stdout: exactly one JSON object `{"output": …, "error": …}`.
//!
//! Stash reads all of stdout and decodes one object; anything else printed there would turn the
//! whole stream into a string. So nothing in StashHog prints to stdout but this.

use std::io::Write;

use serde_json::{Value, json};

/// Writes the final result object; `output` is the mode's summary (also on failure when the mode
/// produced one, as `check` does), `error` the one-line message of what went wrong.
pub fn write(output: Option<&Value>, error: Option<&str>) {
    let doc = json!({ "output": output, "error": error });
    let mut stdout = std::io::stdout().lock();
    // A closed stdout means nobody is listening any more; there is nothing left to tell.
    let _ = writeln!(stdout, "{doc}");
    let _ = stdout.flush();
}
