//! The updates of scenes, images and galleries (fields set, or list members added and removed
//! in bulk; both aliased, up to 40 to a request), the creates of tags, performers, studios and
//! galleries and their destroys: the writes a plan makes, and nothing else does.
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

operation!(GalleryDestroy, "entity_destroy.graphql");
operation!(TagCreate, "tag_create.graphql");
operation!(PerformerCreate, "performer_create.graphql");
operation!(StudioCreate, "studio_create.graphql");
operation!(TagDestroy, "entity_destroy.graphql");
operation!(PerformerDestroy, "entity_destroy.graphql");
operation!(StudioDestroy, "entity_destroy.graphql");

/// A list of a scene, image or gallery that a bulk update changes member by member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SceneList {
    /// Tag ids.
    Tags,
    /// Performer ids.
    Performers,
    /// URLs.
    Urls,
    /// Gallery ids (scenes and images: the galleries they belong to).
    Galleries,
}

/// Whether members are added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListEdit {
    /// `mode: ADD`.
    Add,
    /// `mode: REMOVE`.
    Remove,
}

/// A single-valued field of a scene, image or gallery that its update sets (images and
/// galleries have no director and no StashIDs).
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

/// Members added to, or removed from, one list of a scene, image or gallery.
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

/// Objects (of one kind) that get exactly the same list edits: one bulk update, so each of
/// them is updated (and runs its `….Update.Post` hooks) once.
#[derive(Debug, Clone, PartialEq)]
pub struct ListGroup {
    /// The scenes, images or galleries.
    pub ids: Vec<i64>,
    /// The edits, at most one per list.
    pub edits: Vec<ListChange>,
}

/// Most bulk updates aliased into one request.
pub const MAX_ALIASES: usize = 40;

/// How a write reaches scenes, images or galleries, aliased up to [`MAX_ALIASES`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aliased {
    /// The bulk update: list members added or removed, one alias per group of objects that
    /// get the same edits.
    Bulk,
    /// The plain update: fields set, one alias per object.
    Fields,
    /// The create: one alias per new object (galleries: a plan never creates scenes or images).
    Create,
}

/// The aliased writes, and their operation and mutation names.
const ALIASED: [(ObjectKind, Aliased, &str, &str); 7] = [
    (ObjectKind::Scene, Aliased::Bulk, "BulkSceneUpdate", "bulkSceneUpdate"),
    (ObjectKind::Image, Aliased::Bulk, "BulkImageUpdate", "bulkImageUpdate"),
    (ObjectKind::Gallery, Aliased::Bulk, "BulkGalleryUpdate", "bulkGalleryUpdate"),
    (ObjectKind::Scene, Aliased::Fields, "SceneUpdate", "sceneUpdate"),
    (ObjectKind::Image, Aliased::Fields, "ImageUpdate", "imageUpdate"),
    (ObjectKind::Gallery, Aliased::Fields, "GalleryUpdate", "galleryUpdate"),
    (ObjectKind::Gallery, Aliased::Create, "GalleryCreate", "galleryCreate"),
];

/// Where `kind`'s `how` write is in [`ALIASED`].
fn aliased_row(kind: ObjectKind, how: Aliased) -> usize {
    ALIASED.iter().position(|(k, h, _, _)| *k == kind && *h == how).unwrap_or(0)
}

/// The operation name of `kind`'s `how` write.
fn aliased_operation(kind: ObjectKind, how: Aliased) -> &'static str {
    ALIASED[aliased_row(kind, how)].2
}

/// The request of `kind`'s `how` write for `n` aliases (1 to [`MAX_ALIASES`]), `u0 …
/// u{n-1}`, built once per update and size.
fn aliased_document(kind: ObjectKind, how: Aliased, n: usize) -> &'static str {
    static DOCUMENTS: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    let all = DOCUMENTS.get_or_init(|| {
        ALIASED
            .iter()
            .map(|(kind, how, operation, field)| {
                // Scenes answer with what FindScenes reads, which is what the mirror copies.
                let answer: &str = if *kind == ObjectKind::Scene && *how != Aliased::Create {
                    &super::find_scenes::SCENE_FIELDS
                } else {
                    "{ id }"
                };
                let comment = match how {
                    Aliased::Bulk => {
                        "# ADD or REMOVE list members (tags, performers, urls, galleries): atomic per object on\n\
                         # the server, so it never races with the user's own edits; one alias per group.\n"
                    }
                    Aliased::Fields => {
                        "# SET fields, one alias per object: Stash applies every key present in an input (null\n\
                         # clears the field) and leaves the others alone.\n"
                    }
                    Aliased::Create => "# CREATE what a plan proposes with its fields, one alias per new object.\n",
                };
                (1..=MAX_ALIASES)
                    .map(|n| {
                        let variables: Vec<String> = (0..n).map(|i| format!("$u{i}: {operation}Input!")).collect();
                        let fields: String =
                            (0..n).map(|i| format!("  u{i}: {field}(input: $u{i}) {answer}\n")).collect();
                        format!("{comment}mutation {operation}({}) {{\n{fields}}}\n", variables.join(", "))
                    })
                    .collect()
            })
            .collect()
    });
    &all[aliased_row(kind, how)][n.clamp(1, MAX_ALIASES) - 1]
}

/// Every aliased document the writes can send, for the schema-fidelity tests.
pub fn aliased_documents() -> Vec<&'static str> {
    ALIASED.iter().flat_map(|(kind, how, _, _)| (1..=MAX_ALIASES).map(|n| aliased_document(*kind, *how, n))).collect()
}

/// Fields set on one scene, image or gallery.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldsSet {
    /// The scene, image or gallery.
    pub id: i64,
    /// The fields and their new values.
    pub values: Vec<(SceneScalar, Value)>,
}

/// One write request to Stash.
#[derive(Debug, Clone, PartialEq)]
pub enum StashWrite {
    /// Adds or removes members on scenes, images or galleries: each group one aliased bulk
    /// update, all in one request (at most [`MAX_ALIASES`] groups).
    EditLists {
        /// Scenes, images or galleries.
        kind: ObjectKind,
        /// The groups.
        groups: Vec<ListGroup>,
    },
    /// Sets some fields of scenes, images or galleries, one aliased update per object, all in
    /// one request (at most [`MAX_ALIASES`]); every other field is left alone (null clears a
    /// field).
    SetFields {
        /// Scenes, images or galleries.
        kind: ObjectKind,
        /// The objects and what each gets.
        objects: Vec<FieldsSet>,
    },
    /// Creates galleries (each found again by its code after a kill), one aliased create per
    /// gallery, all in one request (at most [`MAX_ALIASES`]).
    CreateGalleries {
        /// Each gallery's `GalleryCreateInput`: its title and further fields.
        galleries: Vec<Map<String, Value>>,
    },
    /// Creates a tag, performer or studio.
    Create {
        /// What to create.
        kind: ObjectKind,
        /// Its name (a gallery's title).
        name: String,
        /// Further fields of the create input, as Stash names them (`alias_list`, `urls`,
        /// `details`, `parent_id`, a gallery's `code`, `date`, `tag_ids`…); usually none.
        with: Map<String, Value>,
    },
    /// Deletes a tag, performer, studio or gallery (Stash unlinks it from every scene; a
    /// gallery's images stay).
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
            StashWrite::EditLists { kind, groups } => {
                let inputs = groups.iter().enumerate().map(|(i, group)| (format!("u{i}"), bulk_input(group)));
                (aliased_operation(*kind, Aliased::Bulk), Value::Object(inputs.collect()))
            }
            StashWrite::SetFields { kind, objects } => {
                let inputs = objects.iter().enumerate().map(|(i, object)| (format!("u{i}"), fields_input(object)));
                (aliased_operation(*kind, Aliased::Fields), Value::Object(inputs.collect()))
            }
            StashWrite::CreateGalleries { galleries } => {
                let inputs =
                    galleries.iter().enumerate().map(|(i, input)| (format!("u{i}"), Value::Object(input.clone())));
                (aliased_operation(ObjectKind::Gallery, Aliased::Create), Value::Object(inputs.collect()))
            }
            StashWrite::Create { kind, name, with } => {
                let (operation, name_key) = match kind {
                    ObjectKind::Tag => ("TagCreate", "name"),
                    ObjectKind::Performer => ("PerformerCreate", "name"),
                    ObjectKind::Studio => ("StudioCreate", "name"),
                    ObjectKind::Gallery => ("GalleryCreate", "title"),
                    ObjectKind::Scene => ("SceneCreate", "title"),
                    ObjectKind::Image => ("ImageCreate", "title"),
                };
                let mut input = with.clone();
                input.insert(name_key.into(), Value::from(name.clone()));
                (operation, json!({ "input": input }))
            }
            StashWrite::Destroy { kind: ObjectKind::Gallery, id } => {
                ("GalleryDestroy", json!({"input": {"ids": [id.to_string()]}}))
            }
            StashWrite::Destroy { kind, id } => {
                let operation = match kind {
                    ObjectKind::Tag => "TagDestroy",
                    ObjectKind::Performer => "PerformerDestroy",
                    ObjectKind::Studio => "StudioDestroy",
                    ObjectKind::Gallery => "GalleryDestroy",
                    ObjectKind::Scene => "SceneDestroy",
                    ObjectKind::Image => "ImageDestroy",
                };
                (operation, json!({"input": {"id": id.to_string()}}))
            }
        }
    }
}

/// One object's `SceneUpdateInput` (or image's, gallery's): its id and the fields it gets.
fn fields_input(object: &FieldsSet) -> Value {
    let mut input = Map::new();
    input.insert("id".into(), Value::String(object.id.to_string()));
    for (field, value) in &object.values {
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
    Value::Object(input)
}

/// One group's `BulkSceneUpdateInput`.
fn bulk_input(group: &ListGroup) -> Value {
    let mut input = Map::new();
    let ids: Vec<String> = group.ids.iter().map(i64::to_string).collect();
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
            SceneList::Galleries => {
                ("gallery_ids", json!({"ids": members.iter().map(id_text).collect::<Vec<_>>(), "mode": mode}))
            }
        };
        input.insert(key.into(), update);
    }
    Value::Object(input)
}

/// Plans never create or delete scenes or images (a plan file cannot say so), and galleries
/// are not found by name; a caller that tries gets this instead of a request.
pub(crate) fn not_created_by_name(kind: ObjectKind) -> ApiError {
    ApiError::Validation {
        service: Service::Stash,
        messages: vec![format!(
            "StashHog creates and deletes only tags, performers, studios and galleries, never a {}, and finds a \
             created gallery by its code, not its title",
            kind.as_str()
        )],
    }
}

/// What a write did, as Stash answered it.
#[derive(Debug, Default)]
pub struct Written {
    /// The ids of what it created, in the order of the write's objects (none for an update).
    pub created: Vec<i64>,
    /// The scenes it updated, as they are after it (a `bulkSceneUpdate` answers with them).
    pub scenes: Vec<crate::stash::Scene>,
}

impl Written {
    fn created(id: i64) -> Self {
        Written { created: vec![id], scenes: Vec::new() }
    }
}

/// Sends `n` aliased writes of `kind`. Creates answer with each new id, in order; scenes come
/// back as they are after it (a bulk update answers each alias with a list, a plain one with
/// the scene).
fn send_aliased(
    transport: &Transport,
    kind: ObjectKind,
    how: Aliased,
    n: usize,
    variables: Value,
) -> Result<Written, ApiError> {
    let body =
        QueryBody { variables, query: aliased_document(kind, how, n), operation_name: aliased_operation(kind, how) };
    let data = transport.mutate_built(&body)?;
    let mut written = Written::default();
    for alias in (0..n).map(|i| format!("u{i}")) {
        if how == Aliased::Create {
            written.created.push(new_id(&data, &format!("/{alias}/id"))?);
        } else if kind == ObjectKind::Scene {
            let answered = data.get(&alias).cloned().unwrap_or(Value::Null);
            let answered = if how == Aliased::Fields { Value::Array(vec![answered]) } else { answered };
            written.scenes.extend(super::find_scenes::scenes_from_json(answered)?);
        }
    }
    Ok(written)
}

/// The id of what a create made, at `pointer` in Stash's answer.
fn new_id(data: &Value, pointer: &str) -> Result<i64, ApiError> {
    match data.pointer(pointer).and_then(Value::as_str) {
        Some(id) => parse_id(id),
        None => Err(ApiError::Server {
            service: Service::Stash,
            status: None,
            detail: format!("it answered {data} without the new id"),
        }),
    }
}

/// Sends `write`; returns what it created or updated.
pub fn run(transport: &Transport, write: &StashWrite) -> Result<Written, ApiError> {
    let (_, variables) = write.request();
    match write {
        StashWrite::EditLists { kind, groups } => {
            send_aliased(transport, *kind, Aliased::Bulk, groups.len(), variables)
        }
        StashWrite::SetFields { kind, objects } => {
            send_aliased(transport, *kind, Aliased::Fields, objects.len(), variables)
        }
        StashWrite::CreateGalleries { galleries } => {
            send_aliased(transport, ObjectKind::Gallery, Aliased::Create, galleries.len(), variables)
        }
        StashWrite::Destroy { kind: ObjectKind::Gallery, .. } => {
            transport.mutate::<GalleryDestroy>(variables).map(|_| Written::default())
        }
        StashWrite::Create { kind: ObjectKind::Tag, .. } => {
            new_id(&transport.mutate::<TagCreate>(variables)?, "/tagCreate/id").map(Written::created)
        }
        StashWrite::Create { kind: ObjectKind::Performer, .. } => {
            new_id(&transport.mutate::<PerformerCreate>(variables)?, "/performerCreate/id").map(Written::created)
        }
        StashWrite::Create { kind: ObjectKind::Studio, .. } => {
            new_id(&transport.mutate::<StudioCreate>(variables)?, "/studioCreate/id").map(Written::created)
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
        // Galleries are created with `CreateGalleries`, whose answers are matched to them.
        StashWrite::Create { kind: kind @ (ObjectKind::Scene | ObjectKind::Image | ObjectKind::Gallery), .. }
        | StashWrite::Destroy { kind: kind @ (ObjectKind::Scene | ObjectKind::Image), .. } => {
            Err(not_created_by_name(*kind))
        }
    }
}
