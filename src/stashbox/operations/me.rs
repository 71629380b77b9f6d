//! `Me`: whose key this is; the cheapest authenticated stash-box query.

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Transport};
use crate::stashbox::StashBoxUser;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stashbox/schema.graphql",
    query_path = "graphql/stashbox/me.graphql",
    response_derives = "Debug"
)]
struct Me;

/// Asks the stash-box who we are.
pub fn run(transport: &Transport) -> Result<StashBoxUser, ApiError> {
    match transport.query::<Me>(me::Variables)?.me {
        Some(user) => Ok(convert(user)),
        // stash-box answers `me: null` to a request without a valid user.
        None => Err(ApiError::Auth {
            service: transport.service().clone(),
            status: "no user".into(),
            hint: "the stash-box did not recognise the key; renew it in Stash's Settings > Metadata Providers",
        }),
    }
}

/// The generated user as the crate's own [`StashBoxUser`].
fn convert(user: me::MeMe) -> StashBoxUser {
    StashBoxUser { id: user.id, name: user.name }
}
