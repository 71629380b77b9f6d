//! `SceneUpdate`, `BulkSceneUpdate`, the creates of tags, performers and studios and their
//! destroys: the writes a plan makes, and nothing else does.
//!
//! Their variables are built by hand rather than from graphql_client's generated inputs: Stash
//! applies every key PRESENT in an update input — a null clears the field — and leaves absent
//! keys alone, while a generated input can only leave a `None` out, so it could never clear a
//! field. A JSON map says exactly which keys we mean. The documents are still checked against
//! the schemas (tests/schema_fidelity.rs), and the fake Stash validates every request.

use graphql_client::{GraphQLQuery, QueryBody};
use serde_json::{Map, Value, json};

use super::parse_id;
use crate::graphql::{ApiError, Service, Transport};
use crate::stash::ObjectKind;

macro_rules! operation {
    ($name:ident, $file:literal) => {
        struct $name;

        impl GraphQLQuery for $name {
            type Variables = Value;
            type ResponseData = Value;

            fn build_query(variables: Value) -> QueryBody<Value> {
                QueryBody {
                    variables,
                    query: include_str!(concat!("../../../graphql/stash/", $file)),
                    operation_name: stringify!($name),
                }
            }
        }
    };
}

operation!(SceneUpdate, "scene_update.graphql");
operation!(TagCreate, "tag_create.graphql");
operation!(PerformerCreate, "performer_create.graphql");
operation!(StudioCreate, "studio_create.graphql");
operation!(TagDestroy, "entity_destroy.graphql");
operation!(PerformerDestroy, "entity_destroy.graphql");
operation!(StudioDestroy, "entity_destroy.graphql");

/// A list of a scene that `bulkSceneUpdate` changes member by member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SceneList {
    /// Tag ids.
    Tags,
    /// Performer ids.
    Performers,
    /// URLs.
    Urls,
}

/// Whether members are added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListEdit {
    /// `mode: ADD`.
    Add,
    /// `mode: REMOVE`.
    Remove,
}

/// A single-valued field of a scene that `sceneUpdate` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneScalar {
    /// `title`.
    Title,
    /// `code`.
    Code,
    /// `details`.
    Details,
    /// `director`.
    Director,
    /// `date`.
    Date,
    /// `rating100`.
    Rating100,
    /// `organized`.
    Organized,
    /// `studio_id`.
    Studio,
    /// `stash_ids` (the whole list).
    StashIds,
}

/// Members added to, or removed from, one list of a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct ListChange {
    /// Which list.
    pub list: SceneList,
    /// Add or remove.
    pub edit: ListEdit,
    /// Ids (tags, performers) or URL strings.
    pub members: Vec<Value>,
}

impl ListChange {
    /// A text that is equal for equal edits (to group scenes getting the same ones).
    pub fn key(&self) -> String {
        format!("{:?} {:?} {}", self.list, self.edit, Value::Array(self.members.clone()))
    }
}

/// Scenes that get exactly the same list edits: one `bulkSceneUpdate`, so each of them is
/// updated (and runs its `Scene.Update.Post` hooks) once.
#[derive(Debug, Clone, PartialEq)]
pub struct ListGroup {
    /// The scenes.
    pub scene_ids: Vec<i64>,
    /// The edits, at most one per list.
    pub edits: Vec<ListChange>,
}

/// Most `bulkSceneUpdate`s aliased into one request.
pub const MAX_ALIASES: usize = 40;

/// The `bulkSceneUpdate` request for `n` groups (1 to [`MAX_ALIASES`]): aliases `u0 … u{n-1}`,
/// built once per size.
fn bulk_update_document(n: usize) -> &'static str {
    static DOCUMENTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = DOCUMENTS.get_or_init(|| {
        (1..=MAX_ALIASES)
            .map(|n| {
                let variables: Vec<String> = (0..n).map(|i| format!("$u{i}: BulkSceneUpdateInput!")).collect();
                let scene: &str = &super::find_scenes::SCENE_FIELDS;
                let fields: String =
                    (0..n).map(|i| format!("  u{i}: bulkSceneUpdate(input: $u{i}) {scene}\n")).collect();
                format!(
                    "# ADD or REMOVE list members (tags, performers, urls): atomic per scene on the server, so\n\
                     # it never races with the user editing the same scene; one alias per group of scenes.\n\
                     # Each answers with the scenes as they are now, which is what the mirror copies.\n\
                     mutation BulkSceneUpdate({}) {{\n{fields}}}\n",
                    variables.join(", ")
                )
            })
            .collect()
    });
    &all[n.clamp(1, MAX_ALIASES) - 1]
}

/// Every `bulkSceneUpdate` document the writes can send, for the schema-fidelity tests.
pub fn bulk_update_documents() -> Vec<&'static str> {
    (1..=MAX_ALIASES).map(bulk_update_document).collect()
}

/// One write request to Stash.
#[derive(Debug, Clone, PartialEq)]
pub enum StashWrite {
    /// Adds or removes members on scenes: each group one aliased `bulkSceneUpdate`, all in one
    /// request (at most [`MAX_ALIASES`] groups).
    EditLists {
        /// The groups.
        groups: Vec<ListGroup>,
    },
    /// Sets some fields of one scene; every other field is left alone (null clears a field).
    UpdateScene {
        /// The scene.
        scene_id: i64,
        /// The fields and their new values.
        values: Vec<(SceneScalar, Value)>,
    },
    /// Creates a tag, performer or studio.
    Create {
        /// What to create.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// Further fields of the create input, as Stash names them (`alias_list`, `urls`,
        /// `details`, `parent_id`…); usually none.
        with: Map<String, Value>,
    },
    /// Deletes a tag, performer or studio (Stash unlinks it from every scene).
    Destroy {
        /// What to delete.
        kind: ObjectKind,
        /// Its id.
        id: i64,
    },
}

fn id_text(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

impl StashWrite {
    /// The operation name and the exact variables this write sends.
    pub fn request(&self) -> (&'static str, Value) {
        match self {
            StashWrite::EditLists { groups } => {
                let inputs = groups.iter().enumerate().map(|(i, group)| (format!("u{i}"), bulk_input(group)));
                ("BulkSceneUpdate", Value::Object(inputs.collect()))
            }
            StashWrite::UpdateScene { scene_id, values } => {
                let mut input = Map::new();
                input.insert("id".into(), Value::String(scene_id.to_string()));
                for (field, value) in values {
                    let (key, value) = match field {
                        SceneScalar::Title => ("title", value.clone()),
                        SceneScalar::Code => ("code", value.clone()),
                        SceneScalar::Details => ("details", value.clone()),
                        SceneScalar::Director => ("director", value.clone()),
                        SceneScalar::Date => ("date", value.clone()),
                        SceneScalar::Rating100 => ("rating100", value.clone()),
                        SceneScalar::Organized => ("organized", value.clone()),
                        SceneScalar::Studio => ("studio_id", id_text(value)),
                        SceneScalar::StashIds => ("stash_ids", value.clone()),
                    };
                    input.insert(key.into(), value);
                }
                ("SceneUpdate", json!({ "input": input }))
            }
            StashWrite::Create { kind, name, with } => {
                let operation = match kind {
                    ObjectKind::Tag => "TagCreate",
                    ObjectKind::Performer => "PerformerCreate",
                    ObjectKind::Studio => "StudioCreate",
                    ObjectKind::Scene => "SceneCreate",
                };
                let mut input = with.clone();
                input.insert("name".into(), Value::from(name.clone()));
                (operation, json!({ "input": input }))
            }
            StashWrite::Destroy { kind, id } => {
                let operation = match kind {
                    ObjectKind::Tag => "TagDestroy",
                    ObjectKind::Performer => "PerformerDestroy",
                    ObjectKind::Studio => "StudioDestroy",
                    ObjectKind::Scene => "SceneDestroy",
                };
                (operation, json!({"input": {"id": id.to_string()}}))
            }
        }
    }
}

/// One group's `BulkSceneUpdateInput`.
fn bulk_input(group: &ListGroup) -> Value {
    let mut input = Map::new();
    let ids: Vec<String> = group.scene_ids.iter().map(i64::to_string).collect();
    input.insert("ids".into(), json!(ids));
    for ListChange { list, edit, members } in &group.edits {
        let mode = match edit {
            ListEdit::Add => "ADD",
            ListEdit::Remove => "REMOVE",
        };
        let (key, update) = match list {
            SceneList::Tags => {
                ("tag_ids", json!({"ids": members.iter().map(id_text).collect::<Vec<_>>(), "mode": mode}))
            }
            SceneList::Performers => {
                ("performer_ids", json!({"ids": members.iter().map(id_text).collect::<Vec<_>>(), "mode": mode}))
            }
            SceneList::Urls => ("urls", json!({"values": members, "mode": mode})),
        };
        input.insert(key.into(), update);
    }
    Value::Object(input)
}

impl Written {
    fn created(id: Option<i64>) -> Self {
        Written { created: id, scenes: Vec::new() }
    }
}

/// Plans never create or delete scenes (a plan file cannot say so); a caller that tries gets
/// this instead of a request.
pub(crate) fn scenes_are_not_created() -> ApiError {
    ApiError::Validation {
        service: Service::Stash,
        messages: vec!["StashHog creates and deletes only tags, performers and studios, never scenes".into()],
    }
}

/// What a write did, as Stash answered it.
#[derive(Debug, Default)]
pub struct Written {
    /// The id of what it created, if it created something.
    pub created: Option<i64>,
    /// The scenes it updated, as they are after it (a `bulkSceneUpdate` answers with them).
    pub scenes: Vec<crate::stash::Scene>,
}

/// Sends `write`; returns what it created or updated.
pub fn run(transport: &Transport, write: &StashWrite) -> Result<Written, ApiError> {
    let (_, variables) = write.request();
    let created = |data: &Value, pointer: &str| match data.pointer(pointer).and_then(Value::as_str) {
        Some(id) => parse_id(id).map(Some),
        None => Err(ApiError::Server {
            service: Service::Stash,
            status: None,
            detail: format!("it answered {data} without the new id"),
        }),
    };
    match write {
        StashWrite::EditLists { groups } => {
            let body =
                QueryBody { variables, query: bulk_update_document(groups.len()), operation_name: "BulkSceneUpdate" };
            let data = transport.mutate_built(&body)?;
            let mut scenes = Vec::new();
            for alias in 0..groups.len() {
                let answered = data.get(format!("u{alias}")).cloned().unwrap_or(Value::Null);
                scenes.extend(super::find_scenes::scenes_from_json(answered)?);
            }
            Ok(Written { created: None, scenes })
        }
        StashWrite::UpdateScene { .. } => transport.mutate::<SceneUpdate>(variables).map(|_| Written::default()),
        StashWrite::Create { kind: ObjectKind::Tag, .. } => {
            created(&transport.mutate::<TagCreate>(variables)?, "/tagCreate/id").map(Written::created)
        }
        StashWrite::Create { kind: ObjectKind::Performer, .. } => {
            created(&transport.mutate::<PerformerCreate>(variables)?, "/performerCreate/id").map(Written::created)
        }
        StashWrite::Create { kind: ObjectKind::Studio, .. } => {
            created(&transport.mutate::<StudioCreate>(variables)?, "/studioCreate/id").map(Written::created)
        }
        StashWrite::Destroy { kind: ObjectKind::Tag, .. } => {
            transport.mutate::<TagDestroy>(variables).map(|_| Written::default())
        }
        StashWrite::Destroy { kind: ObjectKind::Performer, .. } => {
            transport.mutate::<PerformerDestroy>(variables).map(|_| Written::default())
        }
        StashWrite::Destroy { kind: ObjectKind::Studio, .. } => {
            transport.mutate::<StudioDestroy>(variables).map(|_| Written::default())
        }
        StashWrite::Create { kind: ObjectKind::Scene, .. } | StashWrite::Destroy { kind: ObjectKind::Scene, .. } => {
            Err(scenes_are_not_created())
        }
    }
}
