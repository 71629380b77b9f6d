//! The plan file: a JSON document a person can write, a script can generate, and any editor can
//! review. `export_plan` writes it, `import_plan` reads it — strictly: an unknown key, a wrong
//! type, or a change that makes no sense is refused with the line or the change it is in, and
//! nothing is stored. The format is documented in README.md ("Plans").

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::{
    Action, Change, ChangeId, ChangeStatus, CreatedRef, Creation, Field, FileIndex, NewChange, Plan, is_created_ref,
    map_created_refs, reference_number,
};
use crate::stash::ObjectKind;

/// The value of `format` in a plan file.
pub(crate) const FORMAT: &str = "stashhog-plan";
/// The version of the format this StashHog reads and writes.
pub(crate) const VERSION: u32 = 1;

/// A plan file that cannot be imported.
#[derive(Debug, thiserror::Error)]
#[error("the plan file is not valid: {}", crate::words::one_line(.0))]
pub struct PlanFileError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    #[serde(default)]
    format: Option<String>,
    version: u32,
    name: String,
    #[serde(default)]
    source: Option<Value>,
    changes: Vec<ChangeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeEntry {
    entity: String,
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    field: Option<String>,
    action: String,
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    before: Option<Value>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    status: Option<String>,
}

/// A key that is present, even as `null`, is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// What an imported file holds.
#[derive(Debug)]
pub struct ParsedPlan {
    /// The plan's name.
    pub name: String,
    /// Which mode made it, with which settings.
    pub source: Value,
    /// Its changes, in file order.
    pub changes: Vec<NewChange>,
}

impl ParsedPlan {
    /// The scenes the changes are about, each once.
    pub fn scene_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> =
            self.changes.iter().filter(|c| c.entity == ObjectKind::Scene).filter_map(|c| c.entity_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Parses and checks a plan file.
pub fn parse(text: &str) -> Result<ParsedPlan, PlanFileError> {
    let file: PlanFile = serde_json::from_str(text).map_err(|e| PlanFileError(e.to_string()))?;
    if file.format.as_deref().is_some_and(|f| f != FORMAT) {
        return Err(PlanFileError(format!("`format` must be \"{FORMAT}\"")));
    }
    if file.version != VERSION {
        return Err(PlanFileError(format!(
            "version {} is not one this StashHog reads (it reads {VERSION}); upgrade StashHog",
            file.version
        )));
    }
    if file.name.trim().is_empty() {
        return Err(PlanFileError("`name` is empty: give the plan a name".into()));
    }
    if file.changes.is_empty() {
        return Err(PlanFileError("`changes` is empty: a plan needs at least one change".into()));
    }
    let mut changes: Vec<NewChange> = Vec::with_capacity(file.changes.len());
    let mut seen = HashSet::new();
    for (index, entry) in file.changes.into_iter().enumerate() {
        let change = check_change(entry, &changes).map_err(|e| PlanFileError(format!("changes[{index}]: {e}")))?;
        let key = (change.entity, change.entity_id, change.field, change.action == Action::Set, member_key(&change));
        if change.action != Action::Create && !seen.insert(key) {
            return Err(PlanFileError(format!(
                "changes[{index}]: {} {} already has a change of `{}`{} earlier in the file; keep one",
                change.entity.as_str(),
                change.entity_id.unwrap_or_default(),
                change.field.as_str(),
                if change.field.is_list() { format!(" for {}", change.value) } else { String::new() }
            )));
        }
        changes.push(change);
    }
    let source = file.source.unwrap_or_else(|| json!({"mode": "import_plan"}));
    Ok(ParsedPlan { name: file.name.trim().to_owned(), source, changes })
}

fn member_key(change: &NewChange) -> String {
    if change.field.is_list() { change.value.to_string() } else { String::new() }
}

fn check_change(entry: ChangeEntry, earlier: &[NewChange]) -> Result<NewChange, String> {
    let entity =
        ObjectKind::parse(&entry.entity).ok_or_else(|| format!("`entity` must be one of {}", ObjectKind::names()))?;
    let action = Action::parse(&entry.action).ok_or_else(|| format!("`action` must be one of {}", Action::names()))?;
    let value = entry.value.ok_or("`value` is missing")?;
    let confidence = entry.confidence.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&confidence) {
        return Err(format!("`confidence` must be between 0 and 1, got {confidence}"));
    }
    // An exported plan that was applied or rolled back carries what happened to each change
    // there (`applied`, `reverted`, `failed`, …); as a new plan nothing has happened yet, so
    // those come in as `pending`, to be reviewed again.
    let status = match entry.status.as_deref() {
        None => ChangeStatus::Pending,
        Some(s) => match ChangeStatus::parse(s) {
            Some(s @ (ChangeStatus::Pending | ChangeStatus::Approved | ChangeStatus::Rejected)) => s,
            Some(_) => ChangeStatus::Pending,
            None => return Err(format!("`status` {s:?} is not a change status; use pending, approved or rejected")),
        },
    };
    let field = match (&entry.field, action) {
        (None, Action::Create) => Field::Name,
        (None, _) => return Err("`field` is missing".into()),
        (Some(f), _) => Field::parse(f).ok_or_else(|| format!("`field` must be one of {}", Field::names()))?,
    };
    field.check_value(&value)?;

    if action == Action::Create {
        if matches!(entity, ObjectKind::Scene | ObjectKind::Image) {
            return Err(
                "CREATE makes a tag, performer, studio or gallery; scenes and images come from Stash's scan".into()
            );
        }
        if field != Field::Name || entry.id.is_some() || entry.before.is_some() {
            return Err(
                "a CREATE takes `entity`, `value` (the name, or an object with it) and no `id`, `field` or `before`"
                    .into(),
            );
        }
        let creation = Creation::parse(&value).ok_or("the CREATE's value is not a name or a well-formed object")?;
        if !creation.fits(entity) {
            return Err(format!("a CREATE of a {} does not take all of {value}", entity.as_str()));
        }
        let references =
            [(ObjectKind::Studio, "parent", creation.parent.iter().collect::<Vec<_>>())].into_iter().chain([
                (ObjectKind::Studio, "studio", creation.studio.iter().collect()),
                (ObjectKind::Performer, "performers", creation.performers.iter().collect()),
                (ObjectKind::Tag, "tags", creation.tags.iter().collect()),
            ]);
        for (kind, key, members) in references {
            for target in members.into_iter().filter_map(reference_number) {
                if !names_earlier_create(target, Some(kind), earlier) {
                    return Err(format!(
                        "`{key}` {target} must name the index of an earlier CREATE of a {}",
                        kind.as_str()
                    ));
                }
            }
        }
        let clash = earlier.iter().any(|c| c.action == Action::Create && c.entity == entity && c.value == value);
        if clash {
            return Err(format!("{} {value} is created twice", entity.as_str()));
        }
        return Ok(NewChange {
            entity,
            entity_id: None,
            field,
            action,
            value,
            before: Value::Null,
            reason: entry.reason,
            confidence,
            status,
        });
    }
    if !entity.is_media() {
        return Err(format!("changes to a {} itself are not supported yet; only CREATE", entity.as_str()));
    }
    if !field.applies_to(entity) {
        return Err(format!("a {} has no `{}` a plan can change", entity.as_str(), field.as_str()));
    }
    let id = entry
        .id
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("`id` (the {}'s Stash id) is missing or not a positive number", entity.as_str()))?;
    let before = match (action, field.is_list()) {
        (Action::Add | Action::Remove, true) => {
            let before = entry.before.unwrap_or(Value::Null);
            if !(before.is_null() || before.is_array()) {
                return Err("`before` of an ADD / REMOVE is the list as it was (or absent)".into());
            }
            before
        }
        (Action::Set, false) => {
            let before = entry
                .before
                .ok_or("a SET needs `before`: the value Stash had when the plan was made (null if empty)")?;
            if is_created_ref(&before) {
                return Err("`before` cannot refer to a CREATE".into());
            }
            field.check_value(&before).map_err(|e| format!("before: {e}"))?;
            before
        }
        (_, true) => return Err(format!("`{}` is a list: use ADD or REMOVE", field.as_str())),
        (_, false) => return Err(format!("`{}` takes SET", field.as_str())),
    };
    if let Some(target) = reference_number(&value) {
        let wanted = field.refers_to();
        if !names_earlier_create(target, wanted, earlier) {
            return Err(format!(
                "{value} must name the index of an earlier CREATE of a {}",
                wanted.map_or("?", ObjectKind::as_str)
            ));
        }
    }
    Ok(NewChange {
        entity,
        entity_id: Some(id),
        field,
        action,
        value,
        before,
        reason: entry.reason,
        confidence,
        status,
    })
}

/// Whether `{"created": target}` in a file names one of the `earlier` changes, a CREATE of `kind`.
fn names_earlier_create(target: i64, kind: Option<ObjectKind>, earlier: &[NewChange]) -> bool {
    FileIndex::from_number(target)
        .and_then(|i| earlier.get(i.0))
        .is_some_and(|c| c.action == Action::Create && Some(c.entity) == kind)
}

/// A stored change that refers to a change its plan does not hold (the database was edited by
/// hand): a file cannot say what it refers to.
#[derive(Debug, thiserror::Error)]
#[error("change {change} refers to change {target}, which is not in plan {plan}; the plan cannot be exported")]
pub struct DanglingReference {
    /// The plan.
    pub plan: i64,
    /// The change that refers.
    pub change: i64,
    /// The id it refers to.
    pub target: i64,
}

/// The plan as a file (statuses included, CREATE references as indexes into `changes`).
pub fn export(plan: &Plan, changes: &[Change]) -> Result<Value, DanglingReference> {
    let index: HashMap<ChangeId, FileIndex> =
        changes.iter().enumerate().map(|(i, c)| (ChangeId(c.id), FileIndex(i))).collect();
    let entries: Vec<Value> = changes
        .iter()
        .map(|c| {
            let value = map_created_refs(&c.value, |id: ChangeId| index.get(&id).map(|i| i.value()))
                .map_err(|target| DanglingReference { plan: plan.id, change: c.id, target })?;
            let mut entry = json!({"entity": c.entity, "action": c.action, "value": value});
            if c.action != Action::Create {
                entry["id"] = json!(c.entity_id);
                entry["field"] = json!(c.field);
                entry["before"] = c.before.clone();
            }
            entry["reason"] = json!(c.reason);
            entry["confidence"] = json!(c.confidence);
            entry["status"] = json!(c.status);
            Ok(entry)
        })
        .collect::<Result<_, _>>()?;
    Ok(json!({"format": FORMAT, "version": VERSION, "name": plan.name, "source": plan.source, "changes": entries}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse(text).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_field_name_with_a_newline_is_quoted_on_one_line() {
        // Found by the plan_file fuzz target: serde quotes the unknown field as written.
        let message = error("{\"versi\\n\": 1}");
        assert!(message.starts_with("the plan file is not valid: unknown field `versi\\n`"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn a_hand_written_plan_parses_with_its_references() {
        let plan = parse(
            r#"{"version": 1, "name": "by hand", "changes": [
                {"entity": "tag", "action": "CREATE", "value": "New"},
                {"entity": "performer", "action": "CREATE", "value": "Kyle Ryder"},
                {"entity": "studio", "action": "CREATE", "value": "New Studio"},
                {"entity": "scene", "id": 3, "field": "tags", "action": "ADD", "value": {"created": 0}},
                {"entity": "scene", "id": 3, "field": "performers", "action": "ADD", "value": {"created": 1}},
                {"entity": "scene", "id": 3, "field": "studio", "action": "SET", "value": {"created": 2}, "before": null},
                {"entity": "scene", "id": 3, "field": "title", "action": "SET", "value": "T", "before": null,
                 "confidence": 0.5, "status": "approved"}
            ]}"#,
        )
        .expect("parses");
        assert_eq!(plan.changes.len(), 7);
        assert_eq!(plan.scene_ids(), vec![3]);
        assert_eq!(plan.changes[6].status, ChangeStatus::Approved);
    }

    fn stored(id: i64, entity: ObjectKind, field: Field, action: Action, value: Value) -> Change {
        Change {
            id,
            entity,
            entity_id: (action != Action::Create).then_some(3),
            field,
            action,
            value,
            before: Value::Null,
            reason: String::new(),
            confidence: 1.0,
            status: ChangeStatus::Pending,
            error: None,
            created_id: None,
            stash_now: None,
        }
    }

    fn plan() -> Plan {
        Plan {
            id: 1,
            name: "p".into(),
            producer: "import_plan".into(),
            source: Value::Null,
            created_at: String::new(),
            updated_at: String::new(),
            status: crate::plans::PlanStatus::Draft,
            changes: crate::plans::ChangeCounts::default(),
            mean_confidence: None,
            revision: 0,
        }
    }

    #[test]
    fn an_export_writes_references_as_indexes_and_refuses_one_to_a_change_outside_the_plan() {
        let changes = [
            stored(40, ObjectKind::Tag, Field::Name, Action::Create, json!("New")),
            stored(41, ObjectKind::Scene, Field::Tags, Action::Add, json!({"created": 40})),
        ];
        let file = export(&plan(), &changes).expect("exports");
        assert_eq!(file["changes"][1]["value"], json!({"created": 0}));
        let again = parse(&file.to_string()).expect("imports again");
        assert_eq!(again.changes[1].created_refs(), [FileIndex(0)]);

        let dangling = [stored(41, ObjectKind::Scene, Field::Tags, Action::Add, json!({"created": 40}))];
        let error = export(&plan(), &dangling).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(error, "change 41 refers to change 40, which is not in plan 1; the plan cannot be exported");
    }

    #[test]
    fn mistakes_name_the_line_or_the_change() {
        let unknown = error(
            r#"{"version": 1, "name": "x", "changes": [
            {"entity": "scene", "id": 1, "feild": "tags", "action": "ADD", "value": 2}]}"#,
        );
        assert!(unknown.contains("unknown field `feild`") && unknown.contains("line 2"), "{unknown}");
        let wrong = error(
            r#"{"version": 1, "name": "x", "changes": [
            {"entity": "scene", "id": 1, "field": "tags", "action": "ADD", "value": 2},
            {"entity": "scene", "id": 1, "field": "rating100", "action": "SET", "value": "high", "before": null}]}"#,
        );
        assert!(wrong.contains("changes[1]") && wrong.contains("rating100"), "{wrong}");
        let no_before = error(
            r#"{"version": 1, "name": "x", "changes": [
            {"entity": "scene", "id": 1, "field": "title", "action": "SET", "value": "a"}]}"#,
        );
        assert!(no_before.contains("changes[0]") && no_before.contains("before"), "{no_before}");
        let dangling = error(
            r#"{"version": 1, "name": "x", "changes": [
            {"entity": "scene", "id": 1, "field": "tags", "action": "ADD", "value": {"created": 4}}]}"#,
        );
        assert!(dangling.contains("earlier CREATE"), "{dangling}");
        let wrong_kind = error(
            r#"{"version": 1, "name": "x", "changes": [
            {"entity": "tag", "action": "CREATE", "value": "T"},
            {"entity": "scene", "id": 1, "field": "performers", "action": "ADD", "value": {"created": 0}}]}"#,
        );
        assert!(wrong_kind.contains("earlier CREATE of a performer"), "{wrong_kind}");
        let status = error(
            r#"{"version": 1, "name": "x", "changes": [
            {"entity": "scene", "id": 1, "field": "tags", "action": "ADD", "value": 2, "status": "done"}]}"#,
        );
        assert!(status.contains("changes[0]: `status` \"done\" is not a change status"), "{status}");
    }
}
