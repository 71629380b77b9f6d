//! How a change reads where people review it (the StashHog page, `show_plan` in a terminal):
//! scenes, images and galleries by title and path, tags, performers and studios by name, never
//! bare ids.
//!
//! The names come from the mirror (loaded by `Store::names_for`); a name the mirror does not
//! have yet says what kind of id it is, so the reader still knows what the change is about.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Change, ChangeId, Field, created_ref};
use crate::stash::ObjectKind;

/// A scene as a reviewer recognises it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SceneLabel {
    /// Its title, else (as Stash shows it) its first file's name.
    pub title: Option<String>,
    /// Its first file's path.
    pub path: Option<String>,
}

impl SceneLabel {
    /// A scene's label from its title and first file's path: the title, else the file's name,
    /// as Stash shows it.
    pub fn new(title: Option<String>, path: Option<String>) -> SceneLabel {
        let title = title.filter(|t| !t.trim().is_empty()).or_else(|| {
            path.as_deref().and_then(|p| p.rsplit(['/', '\\']).next()).filter(|n| !n.is_empty()).map(str::to_owned)
        });
        SceneLabel { title, path }
    }
}

/// The names a set of changes needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// Tag names by id.
    pub tags: HashMap<i64, String>,
    /// Performer names by id.
    pub performers: HashMap<i64, String>,
    /// Studio names by id.
    pub studios: HashMap<i64, String>,
    /// What a CREATE change makes, by the change's id.
    pub created: HashMap<ChangeId, String>,
    /// Scenes by id.
    pub scenes: HashMap<i64, SceneLabel>,
    /// Images by id.
    pub images: HashMap<i64, SceneLabel>,
    /// Galleries by id.
    pub galleries: HashMap<i64, SceneLabel>,
}

/// The ids whose names a set of changes needs, by kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Wanted {
    /// Tag ids.
    pub tags: Vec<i64>,
    /// Performer ids.
    pub performers: Vec<i64>,
    /// Studio ids.
    pub studios: Vec<i64>,
    /// CREATE change ids.
    pub created: Vec<ChangeId>,
    /// Scene ids.
    pub scenes: Vec<i64>,
    /// Image ids.
    pub images: Vec<i64>,
    /// Gallery ids (changed, or linked to).
    pub galleries: Vec<i64>,
}

impl Wanted {
    /// What `changes` (their values, values before and conflicts) refer to.
    pub fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Wanted {
        let mut wanted = Wanted::default();
        for change in changes {
            let list = match change.entity {
                ObjectKind::Scene => Some(&mut wanted.scenes),
                ObjectKind::Image => Some(&mut wanted.images),
                ObjectKind::Gallery => Some(&mut wanted.galleries),
                _ => None,
            };
            if let (Some(list), Some(id)) = (list, change.entity_id) {
                list.push(id);
            }
            for value in [Some(&change.value), Some(&change.before), change.stash_now.as_ref()].into_iter().flatten() {
                wanted.add(change.field, value);
            }
        }
        for list in [
            &mut wanted.tags,
            &mut wanted.performers,
            &mut wanted.studios,
            &mut wanted.scenes,
            &mut wanted.images,
            &mut wanted.galleries,
        ] {
            list.sort_unstable();
            list.dedup();
        }
        wanted.created.sort_unstable();
        wanted.created.dedup();
        wanted
    }

    /// What one value of `field` refers to.
    pub fn add(&mut self, field: Field, value: &Value) {
        if let Value::Array(items) = value {
            items.iter().for_each(|item| self.add(field, item));
            return;
        }
        if let Some(change) = created_ref(value) {
            self.created.push(change);
            return;
        }
        let Some(id) = value.as_i64() else { return };
        match field {
            Field::Tags => self.tags.push(id),
            Field::Performers => self.performers.push(id),
            Field::Studio => self.studios.push(id),
            Field::Galleries => self.galleries.push(id),
            _ => {}
        }
    }
}

impl Names {
    /// How a value of `field` reads: a name, the text itself, or none for an empty value.
    pub fn value_name(&self, field: Field, value: &Value) -> Option<String> {
        if let Some(change) = created_ref(value) {
            return Some(match self.created.get(&change) {
                Some(name) => format!("{name} (new)"),
                None => format!("what change {change} creates"),
            });
        }
        match value {
            Value::Null => None,
            Value::String(text) if text.is_empty() => None,
            Value::String(text) => Some(text.clone()),
            Value::Array(items) if field == Field::StashIds => Some(
                items
                    .iter()
                    .map(|s| {
                        format!("{}: {}", s["endpoint"].as_str().unwrap_or(""), s["stash_id"].as_str().unwrap_or(""))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Value::Array(items) => {
                let names: Vec<String> = items.iter().filter_map(|item| self.value_name(field, item)).collect();
                Some(names.join(", "))
            }
            Value::Number(n) => Some(match (field, n.as_i64()) {
                (Field::Tags, Some(id)) => self.tags.get(&id).cloned().unwrap_or_else(|| format!("tag {id}")),
                (Field::Performers, Some(id)) => {
                    self.performers.get(&id).cloned().unwrap_or_else(|| format!("performer {id}"))
                }
                (Field::Studio, Some(id)) => self.studios.get(&id).cloned().unwrap_or_else(|| format!("studio {id}")),
                (Field::Galleries, Some(id)) => self.title(ObjectKind::Gallery, id),
                _ => n.to_string(),
            }),
            other => Some(other.to_string()),
        }
    }

    /// A scene's title (its file name when it has none), or "scene N" when the mirror lacks it.
    pub fn scene_title(&self, id: i64) -> String {
        self.title(ObjectKind::Scene, id)
    }

    /// The label of a scene, image or gallery, if the mirror has it.
    pub fn label(&self, kind: ObjectKind, id: i64) -> Option<&SceneLabel> {
        match kind {
            ObjectKind::Scene => self.scenes.get(&id),
            ObjectKind::Image => self.images.get(&id),
            ObjectKind::Gallery => self.galleries.get(&id),
            _ => None,
        }
    }

    /// A scene's, image's or gallery's title (its file or folder name when it has none), or
    /// "image N" when the mirror lacks it.
    pub fn title(&self, kind: ObjectKind, id: i64) -> String {
        self.label(kind, id).and_then(|s| s.title.clone()).unwrap_or_else(|| format!("{} {id}", kind.as_str()))
    }

    /// A change as `show_plan` returns it: the stored change with names beside every value.
    pub fn change(&self, change: &Change) -> Value {
        let scene_id = change.entity_id.filter(|_| change.entity == crate::stash::ObjectKind::Scene);
        json!({
            "id": change.id,
            "scene_id": scene_id,
            "entity": change.entity,
            "entity_id": change.entity_id,
            "field": change.field,
            "action": change.action.as_str().to_ascii_lowercase(),
            "value": change.value,
            "value_name": self.value_name(change.field, &change.value),
            "before": change.before,
            "before_name": self.value_name(change.field, &change.before),
            "reason": change.reason,
            "confidence": change.confidence,
            "status": change.status,
            "error": change.error,
            "stash_now": change.stash_now,
            "stash_now_name": change.stash_now.as_ref().and_then(|v| self.value_name(change.field, v)),
            "created_id": change.created_id,
        })
    }
}
