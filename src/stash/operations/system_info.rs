//! `SystemInfo`: Stash's version and readiness.

use graphql_client::GraphQLQuery;

use crate::graphql::{ApiError, Transport};
use crate::stash::{SystemInfo as Info, SystemState};

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/stash/schema.graphql",
    query_path = "graphql/stash/system_info.graphql",
    response_derives = "Debug"
)]
struct SystemInfo;

/// Asks Stash for its version and status.
pub fn run(transport: &Transport) -> Result<Info, ApiError> {
    Ok(convert(transport.query::<SystemInfo>(system_info::Variables)?))
}

/// The generated answer as the crate's own [`Info`].
fn convert(data: system_info::ResponseData) -> Info {
    use system_info::SystemStatusEnum as S;
    let status = match data.system_status.status {
        S::OK => SystemState::Ok,
        S::SETUP => SystemState::Setup,
        S::NEEDS_MIGRATION => SystemState::NeedsMigration,
        S::Other(other) => SystemState::Other(other),
    };
    Info {
        version: data.version.version,
        hash: data.version.hash,
        status,
        database_schema: data.system_status.database_schema,
        app_schema: data.system_status.app_schema,
    }
}
