//! A plan file (`import_plan`): any text must be accepted as a checked plan or refused with a
//! one-line message naming what is wrong, never panic; an accepted plan exports and imports again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    match stashhog::plans::file::parse(text) {
        Ok(plan) => {
            let _ = plan.scene_ids();
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "a multi-line error: {e}"),
    }
});
