//! One module per GraphQL operation in `graphql/stashbox/`.

pub mod find_by_fingerprints;
pub mod find_scenes_batch;
pub mod me;
pub mod merged_into;
