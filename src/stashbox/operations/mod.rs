//! One module per GraphQL operation in `graphql/stashbox/`.

pub mod me;
