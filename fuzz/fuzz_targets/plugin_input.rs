//! The JSON document Stash writes to our stdin: any bytes must parse or be refused, never panic,
//! and what parses must give a usable GraphQL URL.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(input) = stashhog::protocol::input::parse(bytes) {
        let url = input.server.graphql_url();
        assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
        assert!(!url.contains('\n'), "{url:?}");
    }
});
