//! What a stash-box answers to an aliased batch (`findScene` by id, or `queryEdits` for merges):
//! any status and body must be read as one answer per asked id, or refused as a typed one-line
//! error, never panic. The first byte picks the operation and the batch size, the second the
//! HTTP status; the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stashhog::stashbox::{BATCH, answers};

/// Statuses a stash-box or a proxy in front of it answers with.
const STATUSES: [u16; 8] = [200, 200, 200, 401, 404, 429, 502, 503];

fuzz_target!(|bytes: &[u8]| {
    let [which, status, body @ ..] = bytes else { return };
    let Ok(body) = std::str::from_utf8(body) else { return };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let n = usize::from(which >> 1) % BATCH + 1;
    let ids: Vec<String> = (0..n).map(|i| format!("box-{i}")).collect();
    if which & 1 == 0 {
        match answers::scenes(status, body, &ids) {
            Ok(found) => assert_eq!(found.len(), n),
            Err(e) => one_line(&e),
        }
    } else {
        match answers::merged_into(status, body, &ids) {
            Ok(merges) => {
                assert_eq!(merges.len(), n);
                for (merge, id) in merges.iter().zip(&ids) {
                    assert!(merge.as_ref().is_none_or(|(to, _)| to != id), "{id} merged into itself");
                }
            }
            Err(e) => one_line(&e),
        }
    }
});

/// Stash shows a plugin's error as one log line: an error must never span two.
fn one_line(e: &impl std::fmt::Display) {
    let text = e.to_string();
    assert!(!text.contains('\n') && !text.contains('\r'), "a multi-line error: {text:?}");
}
