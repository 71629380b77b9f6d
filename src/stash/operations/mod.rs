//! One module per GraphQL operation in `graphql/stash/`, reading the document named after it
//! (`find_tags.rs` → `find_tags.graphql`): the derive, the conversion of our input into its
//! variables, and a `convert` at its edge turning the generated answer into
//! [`crate::stash::model`] types, so generated types never leave the module.

pub mod configuration;
pub mod configure_plugin;
pub mod entity_usage;
pub mod find_galleries;
pub mod find_images;
pub mod find_performers;
pub mod find_scene_ids;
pub mod find_scenes;
pub mod find_studios;
pub mod find_tags;
pub mod system_info;
pub mod writes;

/// Builds an operation's generated `FindFilterType` from our [`crate::stash::FindFilter`]: each
/// operation module has its own generated copy of the type.
macro_rules! find_filter {
    ($module:ident, $filter:expr) => {{
        let f: &$crate::stash::FindFilter = $filter;
        $module::FindFilterType {
            q: None,
            page: Some(f.page),
            per_page: Some(f.per_page),
            sort: Some(f.sort.as_str().to_owned()),
            direction: Some(if f.ascending {
                $module::SortDirectionEnum::ASC
            } else {
                $module::SortDirectionEnum::DESC
            }),
        }
    }};
}
pub(crate) use find_filter;

/// The `updated_at > value` criterion, in an operation's generated types.
macro_rules! updated_after {
    ($module:ident, $value:expr) => {
        $value.map(|v: &str| $module::TimestampCriterionInput {
            value: v.to_owned(),
            value2: None,
            modifier: $module::CriterionModifier::GREATER_THAN,
        })
    };
}
pub(crate) use updated_after;

/// The `name EQUALS value` criterion (SQLite `LIKE` in Stash: ASCII case-insensitive, `%` and
/// `_` wildcards), in an operation's generated types.
macro_rules! name_equals {
    ($module:ident, $value:expr) => {
        $value.map(|v: &str| $module::StringCriterionInput {
            value: v.to_owned(),
            modifier: $module::CriterionModifier::EQUALS,
        })
    };
}
pub(crate) use name_equals;

/// Parses Stash's string ids (they are numeric); an id that is not is a broken answer.
pub fn parse_id(id: &str) -> Result<i64, crate::graphql::ApiError> {
    id.parse().map_err(|_| crate::graphql::ApiError::Server {
        service: crate::graphql::Service::Stash,
        status: None,
        detail: format!("it returned the non-numeric id {id:?}"),
    })
}

/// The `ids` argument of a find query.
pub(crate) fn entity_ids(query: &crate::stash::EntityQuery) -> Option<Vec<String>> {
    query.ids.as_ref().map(|ids| ids.iter().map(i64::to_string).collect())
}

/// Converts a list of generated StashIDs into ours.
macro_rules! stash_ids {
    ($list:expr) => {
        $list
            .into_iter()
            .map(|s| $crate::stash::StashId { endpoint: s.endpoint, stash_id: s.stash_id, updated_at: None })
            .collect()
    };
}
pub(crate) use stash_ids;
