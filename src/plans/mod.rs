//! Plans: the one way StashHog writes to Stash.
//!
//! Every change StashHog would make is first a row of a plan — which entity, which field, ADD /
//! REMOVE / SET / CREATE, the proposed value, the value before as StashHog saw it, why, and how
//! sure — so it can be previewed, approved in part, applied, resumed after a kill, and rolled
//! back. This module holds the model and the rules a change's value must follow; [`file`] is the
//! JSON file format; [`view`] how a change reads for review (names beside ids); `plan_runner` is
//! the journaled engine behind `apply_plan` and `rollback_plan`. The rows themselves live in the
//! database (`store::plan_rows`); where plans are made — rejections, superseding — is
//! `store::rejections`.

pub mod file;
pub mod view;

use std::ops::RangeInclusive;

use serde::Serialize;
use serde_json::{Value, json};

use crate::stash::{ObjectKind, Scene};

/// Declares a closed set of names stored as text: `as_str`, `parse`, `ALL`, and serialisation
/// as that text.
macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value with this stored name.
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every name, for messages.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

/// Which way the engine is going: a batch of `apply_plan` or of `rollback_plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Applying approved changes.
    Apply,
    /// Reverting applied changes.
    Rollback,
}

impl Direction {
    /// The name the journal stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Apply => "apply",
            Direction::Rollback => "rollback",
        }
    }

    /// The status of the changes a run in this direction works on.
    pub fn from_status(self) -> ChangeStatus {
        match self {
            Direction::Apply => ChangeStatus::Approved,
            Direction::Rollback => ChangeStatus::Applied,
        }
    }

    /// The status a change gets once the run carried it out.
    pub fn to_status(self) -> ChangeStatus {
        match self {
            Direction::Apply => ChangeStatus::Applied,
            Direction::Rollback => ChangeStatus::Reverted,
        }
    }
}

/// What became of one change after a request (or a check in Stash).
#[derive(Debug, Clone)]
pub struct Settled {
    /// The change.
    pub change_id: i64,
    /// Its new status.
    pub status: ChangeStatus,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// What a CREATE made.
    pub created_id: Option<i64>,
    /// What Stash held in the field, for a conflict.
    pub stash_now: Option<Value>,
}

names! {
    /// Where a plan is in its life: draft → reviewing → applying → applied / partially applied →
    /// rolling back → rolled back, or cancelled.
    PlanStatus {
        /// Made (or imported), nothing reviewed yet.
        Draft = "draft",
        /// Some changes approved or rejected.
        Reviewing = "reviewing",
        /// `apply_plan` is running, or was killed and will resume.
        Applying = "applying",
        /// Every approved change applied.
        Applied = "applied",
        /// Applied, but some approved changes failed or were skipped as conflicts.
        PartiallyApplied = "partially_applied",
        /// `rollback_plan` is running, or was killed and will resume.
        RollingBack = "rolling_back",
        /// Every applied scene change reverted (or reported as a conflict).
        RolledBack = "rolled_back",
        /// Abandoned by the user; never applied.
        Cancelled = "cancelled",
        /// Never applied, and a newer plan of the same producer took over everything it still
        /// proposed.
        Superseded = "superseded",
    }
}

names! {
    /// What a change's own row says happened to it.
    ChangeStatus {
        /// Not reviewed.
        Pending = "pending",
        /// Approved: `apply_plan` will apply it.
        Approved = "approved",
        /// Rejected: never applied.
        Rejected = "rejected",
        /// Stash confirmed it.
        Applied = "applied",
        /// Stash refused it (the error is recorded).
        Failed = "failed",
        /// Stash's value had changed since the plan was made: left alone.
        SkippedConflict = "skipped_conflict",
        /// Rolled back.
        Reverted = "reverted",
        /// Not rolled back: Stash no longer held the value the plan put there.
        RevertConflict = "revert_conflict",
        /// Taken over by a newer plan of the same producer (still pending or approved then).
        Superseded = "superseded",
    }
}

names! {
    /// What a change does.
    Action {
        /// Add one member to a list (tags, performers, urls).
        Add = "ADD",
        /// Remove one member from a list.
        Remove = "REMOVE",
        /// Set a value (title, details, date, studio, organized, …).
        Set = "SET",
        /// Create a missing tag, performer or studio that later changes refer to.
        Create = "CREATE",
    }
}

names! {
    /// A field a change touches, named as Stash's `Scene` type names it (`name` for CREATE).
    Field {
        /// Title.
        Title = "title",
        /// Studio code.
        Code = "code",
        /// Details.
        Details = "details",
        /// Director.
        Director = "director",
        /// Release date, `YYYY-MM-DD`.
        Date = "date",
        /// Rating 1–100.
        Rating100 = "rating100",
        /// Organized flag.
        Organized = "organized",
        /// Studio (by id).
        Studio = "studio",
        /// Tags (by id).
        Tags = "tags",
        /// Performers (by id).
        Performers = "performers",
        /// URLs.
        Urls = "urls",
        /// StashIDs, set as a whole list of `{endpoint, stash_id}`.
        StashIds = "stash_ids",
        /// The name of an entity to CREATE.
        Name = "name",
    }
}

impl Field {
    /// Whether the field is a list changed member by member (ADD / REMOVE).
    pub fn is_list(self) -> bool {
        matches!(self, Field::Tags | Field::Performers | Field::Urls)
    }

    /// The entity a member or value of this field refers to, when it refers to one.
    pub fn refers_to(self) -> Option<ObjectKind> {
        match self {
            Field::Tags => Some(ObjectKind::Tag),
            Field::Performers => Some(ObjectKind::Performer),
            Field::Studio => Some(ObjectKind::Studio),
            _ => None,
        }
    }

    /// Checks a value (a SET value, or one list member) for this field; says what is expected.
    pub fn check_value(self, value: &Value) -> Result<(), String> {
        let ok = match self {
            Field::Title | Field::Code | Field::Details | Field::Director => value.is_string() || value.is_null(),
            Field::Date => value.is_null() || value.as_str().is_some_and(is_date),
            Field::Rating100 => value.is_null() || value.as_i64().is_some_and(|r| (1..=100).contains(&r)),
            Field::Organized => value.is_boolean(),
            Field::Studio => value.is_null() || is_id(value) || created_ref(value).is_some(),
            Field::Tags | Field::Performers => is_id(value) || created_ref(value).is_some(),
            Field::Urls => value.as_str().is_some_and(|s| !s.trim().is_empty()),
            Field::Name => Creation::parse(value).is_some(),
            Field::StashIds => value.as_array().is_some_and(|ids| {
                ids.iter()
                    .all(|id| id["endpoint"].as_str().is_some_and(|e| !e.is_empty()) && id["stash_id"].is_string())
            }),
        };
        if ok { Ok(()) } else { Err(format!("`{}` takes {}, got {value}", self.as_str(), self.expects())) }
    }

    fn expects(self) -> &'static str {
        match self {
            Field::Title | Field::Code | Field::Details | Field::Director => "a string or null",
            Field::Date => "a date \"YYYY-MM-DD\" or null",
            Field::Rating100 => "a whole number 1-100 or null",
            Field::Organized => "true or false",
            Field::Studio => "a studio id, {\"created\": <index of a CREATE>} or null",
            Field::Tags => "a tag id or {\"created\": <index of a CREATE>}",
            Field::Performers => "a performer id or {\"created\": <index of a CREATE>}",
            Field::Urls => "a URL string",
            Field::Name => {
                "a non-empty name, or {\"name\": …} with optional \"aliases\", \"urls\" (lists of text), \"details\" and (studios) \"parent\" (a studio id or {\"created\": <index>})"
            }
            Field::StashIds => "a list of {\"endpoint\": …, \"stash_id\": …}",
        }
    }

    /// The scene's current value of this field, as a change's `value` / `before` writes it
    /// (empty text reads as null: Stash shows both as empty).
    pub fn current(self, scene: &Scene) -> Value {
        let text = |t: &Option<String>| t.as_deref().filter(|t| !t.is_empty()).map_or(Value::Null, Value::from);
        match self {
            Field::Title => text(&scene.title),
            Field::Code => text(&scene.code),
            Field::Details => text(&scene.details),
            Field::Director => text(&scene.director),
            Field::Date => text(&scene.date),
            Field::Rating100 => scene.rating100.map_or(Value::Null, Value::from),
            Field::Organized => Value::from(scene.organized),
            Field::Studio => scene.studio_id.map_or(Value::Null, Value::from),
            Field::Tags => json!(scene.tag_ids),
            Field::Performers => json!(scene.performer_ids),
            Field::Urls => json!(scene.urls),
            Field::StashIds => stash_ids_value(&scene.stash_ids),
            Field::Name => Value::Null,
        }
    }

    /// Whether `member` is in this list field of `scene`.
    pub fn has_member(self, scene: &Scene, member: &Value) -> bool {
        match (self, member) {
            (Field::Tags, m) => m.as_i64().is_some_and(|id| scene.tag_ids.contains(&id)),
            (Field::Performers, m) => m.as_i64().is_some_and(|id| scene.performer_ids.contains(&id)),
            (Field::Urls, Value::String(url)) => scene.urls.contains(url),
            _ => false,
        }
    }
}

/// What a CREATE makes: a name, and for performers and studios what Stash takes with it on
/// creation (an import knows a creator's alias, profile URL and bio, and a studio's network).
/// A CREATE's value is the name alone, or an object with `name` and these optional keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Creation {
    /// The name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Details (bio, description).
    pub details: Option<String>,
    /// A studio's parent: a studio id or `{"created": N}`.
    pub parent: Option<Value>,
}

impl Creation {
    /// Reads a CREATE's value; `None` when it is neither a non-empty name nor a well-formed object.
    pub fn parse(value: &Value) -> Option<Creation> {
        let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let list = |v: Option<&Value>| -> Option<Vec<String>> {
            match v {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(items)) => items.iter().map(text).collect(),
                Some(_) => None,
            }
        };
        match value {
            Value::String(_) => Some(Creation { name: text(value)?, ..Creation::default() }),
            Value::Object(object) => {
                if object.keys().any(|k| !["name", "aliases", "urls", "details", "parent"].contains(&k.as_str())) {
                    return None;
                }
                let parent = object.get("parent").filter(|p| !p.is_null()).cloned();
                if parent.as_ref().is_some_and(|p| !(is_id(p) || created_ref(p).is_some())) {
                    return None;
                }
                Some(Creation {
                    name: text(object.get("name")?)?,
                    aliases: list(object.get("aliases"))?,
                    urls: list(object.get("urls"))?,
                    details: match object.get("details") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(d)) => Some(d.clone()).filter(|d| !d.trim().is_empty()),
                        Some(_) => return None,
                    },
                    parent,
                })
            }
            _ => None,
        }
    }

    /// The CREATE's value: the bare name when nothing else is set (as plan files write it).
    pub fn value(&self) -> Value {
        if self.aliases.is_empty() && self.urls.is_empty() && self.details.is_none() && self.parent.is_none() {
            return Value::from(self.name.clone());
        }
        let mut object = serde_json::Map::new();
        object.insert("name".into(), Value::from(self.name.clone()));
        if !self.aliases.is_empty() {
            object.insert("aliases".into(), json!(self.aliases));
        }
        if !self.urls.is_empty() {
            object.insert("urls".into(), json!(self.urls));
        }
        if let Some(details) = &self.details {
            object.insert("details".into(), Value::from(details.clone()));
        }
        if let Some(parent) = &self.parent {
            object.insert("parent".into(), parent.clone());
        }
        Value::Object(object)
    }
}

/// StashIDs as a `stash_ids` change writes them: sorted, because Stash returns them in the order
/// they were added and the mirror sorted, and a conflict check must not see a difference there.
pub fn stash_ids_value(ids: &[crate::stash::StashId]) -> Value {
    let mut pairs: Vec<(&str, &str)> = ids.iter().map(|s| (s.endpoint.as_str(), s.stash_id.as_str())).collect();
    pairs.sort_unstable();
    pairs.dedup();
    json!(
        pairs
            .iter()
            .map(|(endpoint, stash_id)| json!({"endpoint": endpoint, "stash_id": stash_id}))
            .collect::<Vec<_>>()
    )
}

/// Two values of a field are the same for a conflict check: empty text equals null.
pub fn same_value(a: &Value, b: &Value) -> bool {
    let norm = |v: &Value| match v {
        Value::String(s) if s.is_empty() => Value::Null,
        other => other.clone(),
    };
    norm(a) == norm(b)
}

fn is_id(value: &Value) -> bool {
    value.as_i64().is_some_and(|id| id > 0)
}

/// A real calendar day written `YYYY-MM-DD` (Stash refuses `2024-13-45`, and so do we, before
/// anything is sent).
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|t| t.parse::<u32>().ok()).unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    shaped && year > 0 && (1..=days).contains(&day)
}

/// The target of a `{"created": N}` reference: the change (file: index) whose CREATE makes the
/// entity.
pub fn created_ref(value: &Value) -> Option<i64> {
    let object = value.as_object()?;
    (object.len() == 1).then(|| object.get("created")?.as_i64()).flatten()
}

/// A plan as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The mode that made it (`sync_scene_tags`, `analyze`, `import_plan`, …).
    #[serde(rename = "source")]
    pub producer: String,
    /// Which mode made it, with which settings.
    #[serde(rename = "source_detail")]
    pub source: Value,
    /// When it was made (UTC, RFC3339).
    pub created_at: String,
    /// When its status last changed.
    pub updated_at: String,
    /// Where it is in its life.
    pub status: PlanStatus,
    /// How many changes have each status.
    pub changes: std::collections::BTreeMap<&'static str, i64>,
    /// The mean confidence of its changes (superseded ones aside); none when it has none.
    pub mean_confidence: Option<f64>,
    /// Moves whenever a review decision changes: an apply given an older revision refuses.
    pub revision: i64,
}

/// One change of a plan, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Id (unique across plans).
    pub id: i64,
    /// The entity type.
    pub entity: ObjectKind,
    /// The entity's Stash id (none for CREATE).
    pub entity_id: Option<i64>,
    /// The field.
    pub field: Field,
    /// ADD, REMOVE, SET or CREATE.
    pub action: Action,
    /// The proposed value (one member for ADD / REMOVE).
    pub value: Value,
    /// The value as StashHog saw it when the plan was made.
    pub before: Value,
    /// Why.
    pub reason: String,
    /// How sure, 0–1.
    pub confidence: f64,
    /// Its status.
    pub status: ChangeStatus,
    /// Why it failed or was skipped.
    pub error: Option<String>,
    /// What a CREATE made.
    pub created_id: Option<i64>,
    /// What Stash held in the field when the change was skipped as a conflict.
    pub stash_now: Option<Value>,
}

impl Change {
    /// For ADD / REMOVE: whether the member was in the list when the plan was made (from
    /// `before` when it lists the members, else implied by the action).
    pub fn member_was_present(&self) -> bool {
        match self.before.as_array() {
            Some(list) => list.iter().any(|m| m == &self.value),
            None => self.action == Action::Remove,
        }
    }
}

/// A change to store: what a producer (or a plan file) proposes.
#[derive(Debug, Clone)]
pub struct NewChange {
    /// The entity type.
    pub entity: ObjectKind,
    /// The entity's id (none for CREATE).
    pub entity_id: Option<i64>,
    /// The field.
    pub field: Field,
    /// The action.
    pub action: Action,
    /// The value; `{"created": i}` refers to the `i`-th change of the same list.
    pub value: Value,
    /// The value before.
    pub before: Value,
    /// Why.
    pub reason: String,
    /// How sure, 0–1.
    pub confidence: f64,
    /// Pending, approved or rejected.
    pub status: ChangeStatus,
}

/// Which changes an operation looks at (`show_plan`, `review_plan`); every part given must hold.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// Only these change ids (as [`Args::id_ranges`](crate::protocol::args::Args::id_ranges)
    /// reads them: `5` is `5..=5`).
    pub ids: Option<Vec<RangeInclusive<i64>>>,
    /// Only changes of these scenes (the same).
    pub scene_ids: Option<Vec<RangeInclusive<i64>>>,
    /// Only these statuses.
    pub statuses: Vec<ChangeStatus>,
    /// Only this field.
    pub field: Option<Field>,
    /// Only this action.
    pub action: Option<Action>,
    /// Only changes whose value, as stored (JSON text), is one of these — or, for
    /// `value_name`, a tag, performer or studio of that name (any case), or a CREATE's name.
    pub values: Option<Vec<String>>,
    /// A name the value may also be given by (see `values`).
    pub value_name: Option<String>,
    /// Only changes at least this sure.
    pub min_confidence: Option<f64>,
    /// Only changes at most this sure.
    pub max_confidence: Option<f64>,
    /// Only changes less sure than this.
    pub below_confidence: Option<f64>,
    /// Only changes of scenes whose title or a file path contains this (any case).
    pub text: Option<String>,
}

impl ChangeFilter {
    /// Whether the filter picks changes by anything (so "all" was not meant by accident).
    pub fn narrows(&self) -> bool {
        self.ids.is_some()
            || self.scene_ids.is_some()
            || self.field.is_some()
            || self.action.is_some()
            || self.values.is_some()
            || self.min_confidence.is_some()
            || self.max_confidence.is_some()
            || self.below_confidence.is_some()
            || self.text.is_some()
    }
}

/// A value as a filter or a rejection compares it: the stored JSON text, with whole numbers
/// written as integers (Stash's UI sends every number as a float).
pub fn value_key(value: &Value) -> String {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.as_i64().is_none() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                _ => value.clone(),
            },
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect()),
            other => other.clone(),
        }
    }
    canonical(value).to_string()
}
