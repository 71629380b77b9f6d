//! What a stash-box answers (somebody else's server): any status and body must be read or
//! refused as a typed error, never panic. The second byte picks the HTTP status; the rest is the
//! body of a fingerprint lookup's answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stashhog::stash::Fingerprint;
use stashhog::stashbox::answers;

/// Statuses a stash-box or a proxy in front of it answers with.
const STATUSES: [u16; 8] = [200, 200, 200, 401, 404, 429, 502, 503];

fuzz_target!(|bytes: &[u8]| {
    let [which, status, body @ ..] = bytes else { return };
    let Ok(body) = std::str::from_utf8(body) else { return };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    let _ = which;
    let ours = vec![
        vec![Fingerprint { kind: "phash".into(), value: "f1".into() }],
        vec![Fingerprint { kind: "oshash".into(), value: "00ab".into() }],
    ];
    match answers::scenes_by_fingerprints(status, body, &ours) {
        Ok(found) => assert!(found.len() <= ours.len()),
        Err(e) => one_line(&e),
    }
});

/// Stash shows a plugin's error as one log line: an error must never span two.
fn one_line(e: &impl std::fmt::Display) {
    let text = e.to_string();
    assert!(!text.contains('\n') && !text.contains('\r'), "a multi-line error: {text:?}");
}
