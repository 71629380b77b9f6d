//! One module per stash-box operation: the documents in `graphql/stashbox/`, and the aliased
//! batches built to size.

pub mod batched;
pub mod find_by_fingerprints;
pub mod me;
