//! Rust types for Stash's custom GraphQL scalars, in scope of every generated operation.

#![allow(clippy::upper_case_acronyms, dead_code)]

/// RFC3339 text with offset; kept as text because Stash compares it as text.
pub type Time = String;
/// Like [`Time`] on output; may be relative ("<4h") on input.
pub type Timestamp = String;
/// A JSON object.
pub type Map = serde_json::Map<String, serde_json::Value>;
/// Any JSON value.
pub(crate) type Any = serde_json::Value;
/// Plugin id → its settings object.
pub(crate) type PluginConfigMap = std::collections::HashMap<String, serde_json::Map<String, serde_json::Value>>;
/// Name → flag.
pub(crate) type BoolMap = std::collections::HashMap<String, bool>;
/// A 64-bit integer.
pub(crate) type Int64 = i64;
