//! The fake Stash: filters.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Modifier {
    Equals,
    NotEquals,
    GreaterThan,
    LessThan,
    IsNull,
    NotNull,
    Includes,
    Excludes,
    Between,
    NotBetween,
}

pub(super) fn modifier(criterion: &Map<String, Value>, context: &str) -> Result<Modifier, FieldError> {
    Ok(match criterion.get("modifier").and_then(Value::as_str).unwrap_or("") {
        "EQUALS" => Modifier::Equals,
        "NOT_EQUALS" => Modifier::NotEquals,
        "GREATER_THAN" => Modifier::GreaterThan,
        "LESS_THAN" => Modifier::LessThan,
        "IS_NULL" => Modifier::IsNull,
        "NOT_NULL" => Modifier::NotNull,
        "INCLUDES" => Modifier::Includes,
        "EXCLUDES" => Modifier::Excludes,
        "BETWEEN" => Modifier::Between,
        "NOT_BETWEEN" => Modifier::NotBetween,
        other => {
            return Err(field_error(format!("the fake Stash does not model modifier {other} on {context} yet")));
        }
    })
}

/// A compiled filter criterion.
pub(super) enum Predicate {
    Id {
        modifier: Modifier,
        value: i64,
        value2: Option<i64>,
    },
    /// `name` (`title` for scenes): Stash's string criterion.
    Name {
        modifier: Modifier,
        value: String,
    },
    Timestamp {
        updated: bool,
        modifier: Modifier,
        value: String,
        value2: String,
    },
    StashId {
        endpoint: Option<String>,
        modifier: Modifier,
        value: String,
    },
    Organized(bool),
    /// `code` (scenes, images, galleries): Stash's string criterion.
    Code {
        modifier: Modifier,
        value: String,
    },
}

pub(super) fn compile_filter(kind: Kind, filter: &Map<String, Value>) -> Result<Vec<Predicate>, FieldError> {
    let mut out = Vec::new();
    for (key, value) in filter {
        if value.is_null() {
            continue; // an explicit null is no criterion, as in gqlgen's Go structs
        }
        let context = format!("{}.{key}", kind.filter_arg());
        let criterion = value.as_object();
        let get_str = |field: &str| criterion.and_then(|c| c.get(field)).and_then(Value::as_str).map(str::to_owned);
        let predicate = match key.as_str() {
            "id" => {
                let c = criterion.ok_or_else(|| field_error("id: expected an object"))?;
                Predicate::Id {
                    modifier: modifier(c, &context)?,
                    value: c.get("value").and_then(Value::as_i64).unwrap_or(0),
                    value2: c.get("value2").and_then(Value::as_i64),
                }
            }
            k if k == kind.name_field() => {
                let c = criterion.ok_or_else(|| field_error("expected an object"))?;
                Predicate::Name { modifier: modifier(c, &context)?, value: get_str("value").unwrap_or_default() }
            }
            "updated_at" | "created_at" => {
                let c = criterion.ok_or_else(|| field_error("expected an object"))?;
                Predicate::Timestamp {
                    updated: key == "updated_at",
                    modifier: modifier(c, &context)?,
                    value: get_str("value").unwrap_or_default(),
                    // Stash's default upper bound is "tomorrow": any stored value is below "9".
                    value2: get_str("value2").unwrap_or_else(|| "9".into()),
                }
            }
            "stash_id_endpoint" => {
                let c = criterion.ok_or_else(|| field_error("expected an object"))?;
                Predicate::StashId {
                    endpoint: get_str("endpoint").filter(|e| !e.is_empty()),
                    modifier: modifier(c, &context)?,
                    value: get_str("stash_id").unwrap_or_default(),
                }
            }
            "organized" if kind == Kind::Scene => Predicate::Organized(value.as_bool() == Some(true)),
            "code" if matches!(kind, Kind::Scene | Kind::Image | Kind::Gallery) => {
                let c = criterion.ok_or_else(|| field_error("expected an object"))?;
                Predicate::Code { modifier: modifier(c, &context)?, value: get_str("value").unwrap_or_default() }
            }
            _ => {
                return Err(field_error(format!(
                    "the fake Stash does not model the filter {context} yet (extend tests/support/fake_stash.rs)"
                )));
            }
        };
        out.push(predicate);
    }
    Ok(out)
}

/// Stash's string criterion on a nullable column (`NULL` never matches a comparison).
pub(super) fn string_criterion(column: Option<&str>, modifier: Modifier, value: &str) -> bool {
    match modifier {
        Modifier::IsNull => column.is_none_or(str::is_empty),
        Modifier::NotNull => column.is_some_and(|c| !c.is_empty()),
        _ => {
            let Some(column) = column else { return false };
            match modifier {
                Modifier::Equals => sqlite_like(column, value),
                Modifier::NotEquals => !sqlite_like(column, value),
                Modifier::Includes => sqlite_like(column, &format!("%{value}%")),
                Modifier::Excludes => !sqlite_like(column, &format!("%{value}%")),
                _ => false,
            }
        }
    }
}

impl Predicate {
    pub(super) fn eval<E: Row>(&self, row: &E) -> bool {
        match self {
            Predicate::Id { modifier, value, value2 } => {
                let id = row.id() as i64;
                let upper = value2.unwrap_or(*value);
                match modifier {
                    Modifier::Equals => id == *value,
                    Modifier::NotEquals => id != *value,
                    Modifier::GreaterThan => id > *value,
                    Modifier::LessThan => id < *value,
                    Modifier::Between => (*value..=upper).contains(&id),
                    Modifier::NotBetween => !(*value..=upper).contains(&id),
                    Modifier::NotNull => true,
                    _ => false,
                }
            }
            Predicate::Name { modifier, value } => string_criterion(row.name(), *modifier, value),
            Predicate::Code { modifier, value } => string_criterion(row.code(), *modifier, value),
            Predicate::Timestamp { updated, modifier, value, value2 } => {
                // Stash stores timestamps as text and compares them as text.
                let column = if *updated { row.updated_at() } else { row.created_at() };
                let (v, v2) = (value.as_str(), value2.as_str());
                match modifier {
                    Modifier::Equals => column == v,
                    Modifier::NotEquals => column != v,
                    Modifier::GreaterThan => column > v,
                    Modifier::LessThan => column < v,
                    Modifier::Between => v <= column && column <= v2,
                    Modifier::NotBetween => !(v <= column && column <= v2),
                    Modifier::NotNull => true,
                    _ => false,
                }
            }
            Predicate::StashId { endpoint, modifier, value } => {
                // LEFT JOIN stash_ids ON … AND endpoint = E, then a string criterion on
                // stash_id: a row without a joined StashID offers one NULL to compare.
                let mut joined =
                    row.stash_ids().iter().filter(|s| endpoint.as_ref().is_none_or(|e| &s.endpoint == e)).peekable();
                if joined.peek().is_none() {
                    string_criterion(None, *modifier, value)
                } else {
                    joined.any(|s| string_criterion(Some(&s.stash_id), *modifier, value))
                }
            }
            Predicate::Organized(wanted) => row.organized() == Some(*wanted),
        }
    }
}
