//! The JSON document Stash writes to our stdin: any bytes must parse or be refused with a
//! one-line error, never panic; what parses must give a usable GraphQL URL.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    match stashhog::protocol::input::parse(bytes) {
        Ok(input) => {
            let url = input.server.graphql_url();
            assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
            assert!(!url.chars().any(char::is_control), "{url:?}");
        }
        Err(e) => {
            let text = e.to_string();
            assert!(!text.contains('\n') && !text.contains('\r'), "a multi-line error: {text:?}");
        }
    }
});
