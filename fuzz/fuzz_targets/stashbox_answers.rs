//! What a stash-box answers (somebody else's server): any body must be read or refused, never
//! panic. The first byte picks the operation, the rest is the HTTP body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stashhog::stash::Fingerprint;
use stashhog::stashbox::answers;

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, body)) = bytes.split_first() else { return };
    let Ok(body) = std::str::from_utf8(body) else { return };
    match which % 3 {
        0 => {
            let asked = usize::from(which / 3 % 41);
            if let Ok(lookups) = answers::scenes(body, asked) {
                assert!(lookups.len() <= asked);
            }
        }
        1 => {
            let ours = vec![
                vec![Fingerprint { kind: "phash".into(), value: "f1".into() }],
                vec![Fingerprint { kind: "oshash".into(), value: "00ab".into() }],
            ];
            if let Ok(found) = answers::scenes_by_fingerprints(body, &ours) {
                assert!(found.len() <= ours.len());
            }
        }
        _ => {
            let _ = answers::merged_into(body, "scene-1");
        }
    }
});
