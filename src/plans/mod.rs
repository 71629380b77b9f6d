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

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;

use serde::Serialize;
use serde_json::{Value, json};

use crate::stash::{Gallery, Image, ObjectKind, Scene, StashId};
use crate::words;

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
    pub(crate) fn to_status(self) -> ChangeStatus {
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
    /// What a change's own row says happened to it. Declared in the order a person reads a
    /// plan in — what waits for review, what was decided, what a run did, what a rollback did —
    /// which is the order counts are told in (the page's `CHANGE_STATUSES` lists them the same).
    ChangeStatus {
        /// Not reviewed.
        Pending = "pending",
        /// Approved: `apply_plan` will apply it.
        Approved = "approved",
        /// Rejected: never applied.
        Rejected = "rejected",
        /// Stash confirmed it.
        Applied = "applied",
        /// Stash's value had changed since the plan was made: left alone.
        SkippedConflict = "skipped_conflict",
        /// Stash refused it (the error is recorded).
        Failed = "failed",
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
        /// The galleries a scene or image belongs to (by id).
        Galleries = "galleries",
        /// The name of an entity to CREATE.
        Name = "name",
    }
}

impl Field {
    /// Whether the field is a list changed member by member (ADD / REMOVE).
    pub(crate) fn is_list(self) -> bool {
        matches!(self, Field::Tags | Field::Performers | Field::Urls | Field::Galleries)
    }

    /// Whether a change of `kind` may touch this field: images and galleries have no director
    /// and no StashIDs, galleries belong to no gallery, and only CREATEs name things.
    pub(crate) fn applies_to(self, kind: ObjectKind) -> bool {
        match self {
            Field::Name => false,
            Field::Director | Field::StashIds => kind == ObjectKind::Scene,
            Field::Galleries => matches!(kind, ObjectKind::Scene | ObjectKind::Image),
            _ => kind.is_media(),
        }
    }

    /// The entity a member or value of this field refers to, when it refers to one.
    pub(crate) fn refers_to(self) -> Option<ObjectKind> {
        match self {
            Field::Tags => Some(ObjectKind::Tag),
            Field::Performers => Some(ObjectKind::Performer),
            Field::Studio => Some(ObjectKind::Studio),
            Field::Galleries => Some(ObjectKind::Gallery),
            _ => None,
        }
    }

    /// Checks a value (a SET value, or one list member) for this field; says what is expected.
    pub(crate) fn check_value(self, value: &Value) -> Result<(), String> {
        let ok = match self {
            Field::Title | Field::Code | Field::Details | Field::Director => value.is_string() || value.is_null(),
            Field::Date => value.is_null() || value.as_str().is_some_and(is_date),
            Field::Rating100 => value.is_null() || value.as_i64().is_some_and(|r| (1..=100).contains(&r)),
            Field::Organized => value.is_boolean(),
            Field::Studio => value.is_null() || is_id(value) || is_created_ref(value),
            Field::Tags | Field::Performers | Field::Galleries => is_id(value) || is_created_ref(value),
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
            Field::Galleries => "a gallery id or {\"created\": <index of a CREATE>}",
            Field::Urls => "a URL string",
            Field::Name => {
                "a non-empty name, or {\"name\": …} with optional \"aliases\", \"urls\" (lists of text), \"details\", (studios) \"parent\" (a studio id or {\"created\": <index>}) and (galleries) \"code\", \"date\", \"studio\", \"performers\", \"tags\""
            }
            Field::StashIds => "a list of {\"endpoint\": …, \"stash_id\": …}",
        }
    }

    /// The object's current value of this field, as a change's `value` / `before` writes it
    /// (empty text reads as null: Stash shows both as empty).
    pub fn current(self, object: &(impl Target + ?Sized)) -> Value {
        let text = |t: Option<&str>| t.filter(|t| !t.is_empty()).map_or(Value::Null, Value::from);
        match self {
            Field::Title | Field::Code | Field::Details | Field::Director | Field::Date => text(object.text(self)),
            Field::Rating100 => object.rating100().map_or(Value::Null, Value::from),
            Field::Organized => Value::from(object.organized()),
            Field::Studio => object.studio_id().map_or(Value::Null, Value::from),
            Field::Tags | Field::Performers | Field::Galleries => json!(object.ids(self)),
            Field::Urls => json!(object.urls()),
            Field::StashIds => stash_ids_value(object.stash_ids()),
            Field::Name => Value::Null,
        }
    }

    /// Whether `member` is in this list field of `object`.
    pub(crate) fn has_member(self, object: &(impl Target + ?Sized), member: &Value) -> bool {
        match (self, member) {
            (Field::Urls, Value::String(url)) => object.urls().contains(url),
            (Field::Tags | Field::Performers | Field::Galleries, m) => {
                m.as_i64().is_some_and(|id| object.ids(self).contains(&id))
            }
            _ => false,
        }
    }
}

/// A scene, image or gallery as a change reads it: the fields plans change, whatever the kind
/// (a field the kind lacks reads as empty).
pub trait Target {
    /// Which kind it is.
    fn kind(&self) -> ObjectKind;
    /// Its Stash id.
    fn id(&self) -> i64;
    /// Title, code, details, director or date.
    fn text(&self, field: Field) -> Option<&str>;
    /// Rating 1–100.
    fn rating100(&self) -> Option<i64>;
    /// Organized flag.
    fn organized(&self) -> bool;
    /// Studio id.
    fn studio_id(&self) -> Option<i64>;
    /// Tag, performer or gallery ids.
    fn ids(&self, field: Field) -> &[i64];
    /// URLs.
    fn urls(&self) -> &[String];
    /// StashIDs (scenes only; empty for the others).
    fn stash_ids(&self) -> &[StashId];
    /// What a person reads to know which one it is: the title, else the first file's path.
    fn label(&self) -> String;
}

/// Implements [`Target`] for a model type with the shared field names.
macro_rules! target {
    ($type:ty, $kind:expr, director: $director:ident, galleries: $galleries:expr, stash_ids: $stash_ids:expr,
     label: $label:expr) => {
        impl Target for $type {
            fn kind(&self) -> ObjectKind {
                $kind
            }
            fn id(&self) -> i64 {
                self.id
            }
            fn text(&self, field: Field) -> Option<&str> {
                match field {
                    Field::Title => self.title.as_deref(),
                    Field::Code => self.code.as_deref(),
                    Field::Details => self.details.as_deref(),
                    Field::Director => self.$director.as_deref(),
                    Field::Date => self.date.as_deref(),
                    _ => None,
                }
            }
            fn rating100(&self) -> Option<i64> {
                self.rating100
            }
            fn organized(&self) -> bool {
                self.organized
            }
            fn studio_id(&self) -> Option<i64> {
                self.studio_id
            }
            fn ids(&self, field: Field) -> &[i64] {
                match field {
                    Field::Tags => &self.tag_ids,
                    Field::Performers => &self.performer_ids,
                    Field::Galleries => {
                        let galleries: fn(&Self) -> &[i64] = $galleries;
                        galleries(self)
                    }
                    _ => &[],
                }
            }
            fn urls(&self) -> &[String] {
                &self.urls
            }
            fn stash_ids(&self) -> &[StashId] {
                let stash_ids: fn(&Self) -> &[StashId] = $stash_ids;
                stash_ids(self)
            }
            fn label(&self) -> String {
                let label: fn(&Self) -> Option<&str> = $label;
                self.title.as_deref().filter(|t| !t.is_empty()).or_else(|| label(self)).unwrap_or_default().to_owned()
            }
        }
    };
}

target!(Scene, ObjectKind::Scene, director: director, galleries: |s| &s.gallery_ids, stash_ids: |s| &s.stash_ids,
    label: |s| s.files.first().map(|f| f.path.as_str()));
target!(Image, ObjectKind::Image, director: photographer, galleries: |i| &i.gallery_ids, stash_ids: |_| &[],
    label: |i| i.paths.first().map(String::as_str));
target!(Gallery, ObjectKind::Gallery, director: photographer, galleries: |_| &[], stash_ids: |_| &[],
    label: |g| g.path.as_deref());

/// What a CREATE makes: a name, and what Stash takes with it on creation (an import knows a
/// creator's alias, profile URL and bio, a studio's network, and a post's gallery with its
/// code, date, studio, performers and tags). A CREATE's value is the name alone (a gallery's
/// title), or an object with `name` and these optional keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Creation {
    /// The name (a gallery's title).
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Details (bio, description).
    pub details: Option<String>,
    /// A studio's parent: a studio id or `{"created": N}`.
    pub parent: Option<Value>,
    /// A gallery's code.
    pub code: Option<String>,
    /// A gallery's date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// A gallery's studio: an id or `{"created": N}`.
    pub studio: Option<Value>,
    /// A gallery's performers: ids or `{"created": N}`.
    pub performers: Vec<Value>,
    /// A gallery's tags: ids or `{"created": N}`.
    pub tags: Vec<Value>,
}

/// The keys of a CREATE's object that hold references (`{"created": N}` or an id).
const REFERENCE_KEYS: [&str; 4] = ["parent", "studio", "performers", "tags"];

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
        let optional_text = |v: Option<&Value>| -> Option<Option<String>> {
            match v {
                None | Some(Value::Null) => Some(None),
                Some(Value::String(d)) => Some(Some(d.clone()).filter(|d| !d.trim().is_empty())),
                Some(_) => None,
            }
        };
        let reference = |v: &Value| is_id(v) || is_created_ref(v);
        let references = |v: Option<&Value>| -> Option<Vec<Value>> {
            match v {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(items)) if items.iter().all(reference) => Some(items.clone()),
                Some(_) => None,
            }
        };
        match value {
            Value::String(_) => Some(Creation { name: text(value)?, ..Creation::default() }),
            Value::Object(object) => {
                let known = ["name", "aliases", "urls", "details", "code", "date"];
                if object.keys().any(|k| !known.contains(&k.as_str()) && !REFERENCE_KEYS.contains(&k.as_str())) {
                    return None;
                }
                let single = |key: &str| object.get(key).filter(|p| !p.is_null()).cloned();
                let (parent, studio) = (single("parent"), single("studio"));
                if [&parent, &studio].into_iter().flatten().any(|p| !reference(p)) {
                    return None;
                }
                let date = optional_text(object.get("date"))?;
                if date.as_deref().is_some_and(|d| !is_date(d)) {
                    return None;
                }
                Some(Creation {
                    name: text(object.get("name")?)?,
                    aliases: list(object.get("aliases"))?,
                    urls: list(object.get("urls"))?,
                    details: optional_text(object.get("details"))?,
                    parent,
                    code: optional_text(object.get("code"))?,
                    date,
                    studio,
                    performers: references(object.get("performers"))?,
                    tags: references(object.get("tags"))?,
                })
            }
            _ => None,
        }
    }

    /// The CREATE's value: the bare name when nothing else is set (as plan files write it).
    pub fn value(&self) -> Value {
        let mut object = serde_json::Map::new();
        let mut put = |key: &str, value: Value, set: bool| {
            if set {
                object.insert(key.into(), value);
            }
        };
        put("aliases", json!(self.aliases), !self.aliases.is_empty());
        put("urls", json!(self.urls), !self.urls.is_empty());
        put("details", json!(self.details), self.details.is_some());
        put("parent", json!(self.parent), self.parent.is_some());
        put("code", json!(self.code), self.code.is_some());
        put("date", json!(self.date), self.date.is_some());
        put("studio", json!(self.studio), self.studio.is_some());
        put("performers", json!(self.performers), !self.performers.is_empty());
        put("tags", json!(self.tags), !self.tags.is_empty());
        if object.is_empty() {
            return Value::from(self.name.clone());
        }
        object.insert("name".into(), Value::from(self.name.clone()));
        Value::Object(object)
    }

    /// Whether it sets what only a gallery takes (code, date, studio, performers, tags), or
    /// what a gallery does not take (aliases, parent).
    pub(crate) fn fits(&self, kind: ObjectKind) -> bool {
        let gallery_only = self.code.is_some()
            || self.date.is_some()
            || self.studio.is_some()
            || !self.performers.is_empty()
            || !self.tags.is_empty();
        match kind {
            ObjectKind::Gallery => self.aliases.is_empty() && self.parent.is_none(),
            ObjectKind::Studio => !gallery_only,
            ObjectKind::Tag | ObjectKind::Performer => !gallery_only && self.parent.is_none(),
            ObjectKind::Scene | ObjectKind::Image => false,
        }
    }
}

/// A CREATE that a `{"created": N}` reference names, counted as a new plan counts: the N-th
/// change (from 0) of the same list. A plan file and a producer's [`NewChange`]s refer so; the
/// store turns each into the [`ChangeId`] of the row it inserts, and a file export turns it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileIndex(pub usize);

/// A CREATE that a stored `{"created": N}` reference names: the id of its change's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ChangeId(pub i64);

/// How a `{"created": N}` reference's N reads: as a [`FileIndex`] (a new plan) or a
/// [`ChangeId`] (a stored one). The JSON is the same; the type says which list N counts in, so
/// an index is never looked up as an id.
pub(crate) trait CreatedRef: Copy + fmt::Display {
    /// N as this kind of reference; none when it cannot be one (a negative index).
    fn from_number(n: i64) -> Option<Self>;

    /// N as written.
    fn number(self) -> i64;

    /// The reference as a value: `{"created": N}`.
    fn value(self) -> Value {
        json!({ "created": self.number() })
    }
}

impl CreatedRef for FileIndex {
    fn from_number(n: i64) -> Option<Self> {
        usize::try_from(n).ok().map(FileIndex)
    }

    fn number(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl CreatedRef for ChangeId {
    fn from_number(n: i64) -> Option<Self> {
        Some(ChangeId(n))
    }

    fn number(self) -> i64 {
        self.0
    }
}

impl fmt::Display for FileIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Every `{"created": N}` a change's value holds that reads as an `R`: the value itself, or, in
/// a CREATE's object, its `parent`, `studio`, `performers` and `tags`.
pub(crate) fn created_refs<R: CreatedRef>(value: &Value) -> Vec<R> {
    let Some(object) = value.as_object().filter(|_| !is_created_ref(value)) else {
        return created_ref(value).into_iter().collect();
    };
    REFERENCE_KEYS
        .iter()
        .filter_map(|key| object.get(*key))
        .flat_map(|held| held.as_array().map_or_else(|| std::slice::from_ref(held), Vec::as_slice))
        .filter_map(created_ref)
        .collect()
}

/// The value with every `{"created": N}` it holds (see [`created_refs`]) replaced by `f(N)`;
/// the first N that is no `R`, or that `f` has no value for, is the error, as written.
pub(crate) fn map_created_refs<R: CreatedRef>(
    value: &Value,
    mut f: impl FnMut(R) -> Option<Value>,
) -> Result<Value, i64> {
    let mut replace = |item: &Value| -> Result<Option<Value>, i64> {
        let Some(n) = reference_number(item) else { return Ok(None) };
        R::from_number(n).and_then(&mut f).map(Some).ok_or(n)
    };
    if let Some(replaced) = replace(value)? {
        return Ok(replaced);
    }
    let Value::Object(object) = value else { return Ok(value.clone()) };
    let mut mapped = object.clone();
    for key in REFERENCE_KEYS {
        match mapped.get_mut(key) {
            Some(Value::Array(items)) => {
                for item in items.iter_mut() {
                    if let Some(replaced) = replace(item)? {
                        *item = replaced;
                    }
                }
            }
            Some(single) => {
                if let Some(replaced) = replace(single)? {
                    *single = replaced;
                }
            }
            None => {}
        }
    }
    Ok(Value::Object(mapped))
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
pub(crate) fn same_value(a: &Value, b: &Value) -> bool {
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

/// The target of a `{"created": N}` reference, read as an `R`: the change whose CREATE makes
/// the entity.
pub(crate) fn created_ref<R: CreatedRef>(value: &Value) -> Option<R> {
    reference_number(value).and_then(R::from_number)
}

/// Whether the value has the shape of a reference, `{"created": N}`, whatever N names.
pub(crate) fn is_created_ref(value: &Value) -> bool {
    reference_number(value).is_some()
}

/// N of a `{"created": N}`, as written.
fn reference_number(value: &Value) -> Option<i64> {
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
    pub changes: ChangeCounts,
    /// The mean confidence of its changes (superseded ones aside); none when it has none.
    pub mean_confidence: Option<f64>,
    /// Moves whenever a review decision changes: an apply given an older revision refuses.
    pub revision: i64,
}

/// How many changes have each status: a plan's, or one row of its summary. Serialised as an
/// object keyed by the status words with the statuses that have none left out
/// (`{"pending": 3, "approved": 2}`), and told as `5 changes: 3 pending, 2 approved` in
/// [`ChangeStatus`]'s order.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ChangeCounts(BTreeMap<ChangeStatus, i64>);

impl ChangeCounts {
    /// Counts `n` more changes of `status`.
    pub fn add(&mut self, status: ChangeStatus, n: i64) {
        if n != 0 {
            *self.0.entry(status).or_default() += n;
        }
    }

    /// How many changes have `status`.
    pub fn get(&self, status: ChangeStatus) -> i64 {
        self.0.get(&status).copied().unwrap_or(0)
    }

    /// How many changes in all.
    pub fn total(&self) -> i64 {
        self.0.values().sum()
    }
}

impl fmt::Display for ChangeCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            self.0.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {}", words::status(s.as_str()))).collect();
        if parts.is_empty() {
            return f.write_str("no changes");
        }
        write!(f, "{}: {}", words::count(self.total() as u64, "change"), parts.join(", "))
    }
}

impl fmt::Debug for ChangeCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(s, n)| (s.as_str(), n))).finish()
    }
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
    /// The proposed value (one member for ADD / REMOVE); `{"created": id}` refers to the change
    /// of that id (a [`ChangeId`]).
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
    /// The CREATE the value refers to, when it is a `{"created": id}`.
    pub(crate) fn created_ref(&self) -> Option<ChangeId> {
        created_ref(&self.value)
    }

    /// For ADD / REMOVE: whether the member was in the list when the plan was made (from
    /// `before` when it lists the members, else implied by the action).
    pub(crate) fn member_was_present(&self) -> bool {
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
    /// The value; `{"created": i}` refers to the `i`-th change of the same list (a [`FileIndex`]).
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

impl NewChange {
    /// The CREATEs the value refers to (itself, or inside a CREATE's object), by their index.
    pub(crate) fn created_refs(&self) -> Vec<FileIndex> {
        created_refs(&self.value)
    }
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
    pub(crate) fn narrows(&self) -> bool {
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
pub(crate) fn value_key(value: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_told_in_the_order_a_plan_is_read() {
        let mut counts = ChangeCounts::default();
        for (status, n) in [(ChangeStatus::Failed, 1), (ChangeStatus::Pending, 3), (ChangeStatus::Applied, 0)] {
            counts.add(status, n);
        }
        counts.add(ChangeStatus::SkippedConflict, 2);
        assert_eq!(counts.to_string(), "6 changes: 3 pending, 2 skipped conflict, 1 failed");
        assert_eq!(counts.get(ChangeStatus::Pending), 3);
        assert_eq!(counts.get(ChangeStatus::Applied), 0);
        assert_eq!(
            serde_json::to_value(&counts).ok(),
            Some(json!({"pending": 3, "skipped_conflict": 2, "failed": 1})),
            "the JSON keys are the status words, statuses with none left out"
        );
        assert_eq!(ChangeCounts::default().to_string(), "no changes");
    }

    #[test]
    fn a_reference_reads_as_an_index_in_a_new_plan_and_an_id_when_stored() {
        let reference = json!({"created": 3});
        assert_eq!(created_ref::<FileIndex>(&reference), Some(FileIndex(3)));
        assert_eq!(created_ref::<ChangeId>(&reference), Some(ChangeId(3)));
        let negative = json!({"created": -1});
        assert!(is_created_ref(&negative));
        assert_eq!(created_ref::<FileIndex>(&negative), None, "no change has a negative index");
        assert_eq!(created_ref::<FileIndex>(&json!({"created": 3, "name": "x"})), None);
    }

    #[test]
    fn turning_references_over_reaches_into_a_creates_object_and_names_the_first_it_cannot_turn() {
        let gallery = json!({"name": "Post", "studio": {"created": 0}, "performers": [{"created": 1}, 5]});
        let ids = [ChangeId(40), ChangeId(41)];
        let stored = map_created_refs(&gallery, |i: FileIndex| ids.get(i.0).map(|id| id.value()));
        assert_eq!(stored, Ok(json!({"name": "Post", "studio": {"created": 40}, "performers": [{"created": 41}, 5]})));
        assert_eq!(created_refs::<ChangeId>(&stored.unwrap_or_default()), [ChangeId(40), ChangeId(41)]);
        assert_eq!(map_created_refs(&json!({"created": 2}), |i: FileIndex| ids.get(i.0).map(|id| id.value())), Err(2));
        assert_eq!(map_created_refs(&json!({"created": -1}), |i: FileIndex| Some(i.value())), Err(-1));
        let one_bad = json!({"name": "Post", "studio": {"created": -1}, "tags": [{"created": 2}]});
        assert_eq!(created_refs::<FileIndex>(&one_bad), [FileIndex(2)], "a bad reference hides no good one");
        assert_eq!(map_created_refs(&json!(7), |_: FileIndex| None), Ok(json!(7)), "a plain id is no reference");
    }
}
