//! Where plans are made: rejections that stay rejected, plans that do not pile up, and the
//! names a reviewer reads.
//!
//! Every plan producer (tag sync, analysis) hands its changes to [`Store::propose_plan`], so the
//! rules hold for all of them without each knowing them: a change the user rejected for that
//! scene, or a value rejected everywhere, is never proposed again; and a new plan takes over
//! the still-open changes of the same producer's earlier plans that were never applied (marking
//! them `superseded`, carrying approvals over), so review never has to wade through duplicates.
//! Imported plan files are the user's own and bypass both (`Store::create_plan`).

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as Sql;
use rusqlite::{TransactionBehavior, params, params_from_iter};
use serde::Serialize;
use serde_json::{Value, json};

use super::plan_rows::{change_from_row, insert_changes, insert_plan_row};
use super::{NOW, Store, StoreError};
use crate::plans::view::{Names, SceneLabel, Wanted};
use crate::plans::{
    Action, Change, ChangeId, ChangeStatus, CreatedRef, Creation, FileIndex, NewChange, created_refs, map_created_refs,
    value_key,
};
use crate::stash::ObjectKind;

/// For which scenes a rejection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The scene of the rejected change.
    Scene,
    /// Every scene: "never add tag X".
    Everywhere,
}

/// A remembered rejection.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// Id, for `remove_rejection`.
    pub id: i64,
    /// Field.
    pub field: String,
    /// Action, lower case.
    pub action: String,
    /// The value, as a change carries it (`{"new": name}` for something a plan would create).
    pub value: Value,
    /// How the value reads.
    pub value_name: String,
    /// One scene or all.
    pub scope: Scope,
    /// The scene, for scope `scene`.
    pub scene_id: Option<i64>,
    /// Its title, when the mirror has it.
    pub scene_title: Option<String>,
    /// When it was rejected.
    pub created_at: String,
}

/// What [`Store::propose_plan`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Proposed {
    /// The new plan; none when nothing was left to propose.
    pub plan_id: Option<i64>,
    /// Changes in it.
    pub changes: usize,
    /// Proposed changes left out because the user had rejected them.
    pub rejected_earlier: usize,
    /// Open changes of earlier plans now superseded.
    pub superseded: usize,
    /// Of those, approvals carried over to the same change in the new plan.
    pub approvals_carried: usize,
    /// Of those, changes of scenes this run did not look at, taken over into the new plan.
    pub taken_over: usize,
    /// Earlier plans left with nothing open, now `superseded` themselves.
    pub plans_superseded: Vec<i64>,
}

/// What identifies a proposal across plans: entity, scene, field, action and value (a value
/// that refers to something to create, by that thing's name).
type Key = (String, i64, String, String, String);

fn key(entity: ObjectKind, scene: Option<i64>, field: &str, action: Action, value: String) -> Key {
    (entity.as_str().to_owned(), scene.unwrap_or(0), field.to_owned(), action.as_str().to_owned(), value)
}

/// A value as rejections and superseding compare it: `{"new": name}` for a reference to a
/// CREATE (named by `created`), else the stored text. A reference that names nothing is
/// compared as written (storing it refuses it).
fn compared_value<R: CreatedRef>(value: &Value, created: impl Fn(R) -> Option<String>) -> String {
    let named = map_created_refs(value, |target: R| Some(json!({ "new": created(target).unwrap_or_default() })));
    value_key(named.as_ref().unwrap_or(value))
}

/// The name a CREATE's value gives what it makes (a gallery: its code, which says which post
/// it stands for, else its title).
fn created_name(value: &Value) -> Option<String> {
    let creation = Creation::parse(value)?;
    Some(creation.code.unwrap_or(creation.name))
}

impl Store {
    /// Stores a producer's proposal as a new plan: leaves out what the user rejected, then
    /// takes over the open (pending or approved) changes of the same producer's earlier plans
    /// that were never applied: the same change proposed again keeps its approval; a change of
    /// an object in `examined` (kind and id) that is not proposed again is dropped; a change of
    /// an object this run did not look at moves into the new plan. What was taken over is marked `superseded`
    /// in the old plan, and an old plan with nothing open left becomes `superseded`. One
    /// transaction. Plans of `sync_scene_tags` supersede only plans of the same stash-box.
    pub(crate) fn propose_plan(
        &self,
        name: &str,
        producer: &str,
        source: &Value,
        changes: &[NewChange],
        examined: &HashSet<(ObjectKind, i64)>,
    ) -> Result<Proposed, StoreError> {
        let whole = std::iter::once(Ok(changes.to_vec()));
        self.propose_plan_in_parts(name, producer, source, whole, |kind, id| examined.contains(&(kind, id)))
    }

    /// [`Store::propose_plan`] for a proposal produced part by part (a library's worth of
    /// scenes), so that only one part is ever in memory: each part is stored as it comes, inside
    /// the one transaction (parts may read this store: nothing here goes over the network). A
    /// part's `{"created": i}` references count from the start of that part.
    pub(crate) fn propose_plan_in_parts(
        &self,
        name: &str,
        producer: &str,
        source: &Value,
        parts: impl IntoIterator<Item = Result<Vec<NewChange>, StoreError>>,
        examined: impl Fn(ObjectKind, i64) -> bool,
    ) -> Result<Proposed, StoreError> {
        let rejected = self.rejection_keys()?;
        let mut proposed = Proposed::default();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let endpoint = source.pointer("/settings/endpoint").and_then(Value::as_str);
        let old_plans: Vec<i64> = tx
            .prepare(
                "SELECT id FROM plans WHERE producer = ?1 AND status IN ('draft', 'reviewing')
                   AND json_extract(source, '$.settings.endpoint') IS ?2 ORDER BY id",
            )?
            .query_map(params![producer, endpoint], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut old: Vec<Change> = Vec::new();
        {
            let mut statement = tx.prepare(&format!(
                "SELECT {} FROM plan_changes WHERE plan_id = ?1 AND status IN ('pending', 'approved') ORDER BY id",
                super::plan_rows::CHANGE_COLUMNS
            ))?;
            for plan in &old_plans {
                let rows = statement.query_map([plan], change_from_row)?;
                for row in rows {
                    old.push(row?);
                }
            }
        }
        let old_creates: HashMap<ChangeId, &Change> =
            old.iter().filter(|c| c.action == Action::Create).map(|c| (ChangeId(c.id), c)).collect();
        let old_name = |id: ChangeId| old_creates.get(&id).and_then(|c| created_name(&c.value));
        let mut old_by_key: HashMap<Key, Vec<usize>> = HashMap::new();
        for (index, change) in old.iter().enumerate() {
            let value = compared_value(&change.value, old_name);
            old_by_key
                .entry(key(change.entity, change.entity_id, change.field.as_str(), change.action, value))
                .or_default()
                .push(index);
        }
        let mut proposed_again = vec![false; old.len()];
        // The new plan's CREATEs by what they create, for old changes referring to the same.
        let mut new_creates: HashMap<Key, FileIndex> = HashMap::new();
        let mut created_ids: HashMap<FileIndex, ChangeId> = HashMap::new();
        let mut plan_id = None;
        for part in parts {
            let (mut changes, rejected_earlier) = without_rejected(&part?, &rejected);
            proposed.rejected_earlier += rejected_earlier;
            if changes.is_empty() {
                continue;
            }
            let keys: Vec<Key> = changes
                .iter()
                .map(|change| {
                    let value = compared_value(&change.value, |i| new_name(&changes, i));
                    key(change.entity, change.entity_id, change.field.as_str(), change.action, value)
                })
                .collect();
            for (index, k) in keys.into_iter().enumerate() {
                let change = &mut changes[index];
                for &earlier in old_by_key.get(&k).into_iter().flatten() {
                    proposed_again[earlier] = true;
                    if old[earlier].status == ChangeStatus::Approved && change.status == ChangeStatus::Pending {
                        change.status = ChangeStatus::Approved;
                        proposed.approvals_carried += 1;
                    }
                }
                if change.action == Action::Create {
                    new_creates.insert(k, FileIndex(proposed.changes + index));
                }
            }
            let id = match plan_id {
                Some(id) => id,
                None => *plan_id.insert(insert_plan_row(&tx, name, producer, source)?),
            };
            // References count from the part's start; the plan numbers its changes from its own.
            // One that is no index stays as written, and storing it refuses it.
            for change in &mut changes {
                let offset = proposed.changes;
                if let Ok(value) = map_created_refs(&change.value, |i: FileIndex| Some(FileIndex(i.0 + offset).value()))
                {
                    change.value = value;
                }
            }
            insert_changes(&tx, id, &changes, proposed.changes, &mut created_ids)?;
            proposed.changes += changes.len();
        }
        let mut taken: Vec<NewChange> = Vec::new();
        let mut moved_creates: HashMap<ChangeId, FileIndex> = HashMap::new();
        for (index, change) in old.iter().enumerate() {
            proposed.superseded += 1;
            if proposed_again[index] {
                continue;
            }
            let looked_at = change.entity_id.is_some_and(|id| examined(change.entity, id));
            if change.action == Action::Create || looked_at {
                continue;
            }
            let value = match change.created_ref() {
                None => change.value.clone(),
                Some(target) => {
                    let mut carry = Carry {
                        old_creates: &old_creates,
                        new_creates: &new_creates,
                        moved: &mut moved_creates,
                        taken: &mut taken,
                        first: proposed.changes,
                    };
                    let Some(index) = carry.create(target, &old_name) else { continue };
                    index.value()
                }
            };
            taken.push(NewChange { value, ..new_change(change) });
            proposed.taken_over += 1;
        }
        if !taken.is_empty() {
            let id = match plan_id {
                Some(id) => id,
                None => *plan_id.insert(insert_plan_row(&tx, name, producer, source)?),
            };
            insert_changes(&tx, id, &taken, proposed.changes, &mut created_ids)?;
            proposed.changes += taken.len();
        }
        proposed.plan_id = plan_id;
        {
            let mut supersede = tx.prepare_cached(&format!(
                "UPDATE plan_changes SET status = 'superseded', updated_at = {NOW} WHERE id = ?1"
            ))?;
            for change in &old {
                supersede.execute([change.id])?;
            }
        }
        for plan in &old_plans {
            tx.execute(&format!("UPDATE plans SET revision = revision + 1, updated_at = {NOW} WHERE id = ?1"), [plan])?;
            let done = tx.execute(
                &format!(
                    "UPDATE plans SET status = 'superseded', updated_at = {NOW} WHERE id = ?1 AND NOT EXISTS (
                         SELECT 1 FROM plan_changes WHERE plan_id = ?1 AND status NOT IN ('superseded', 'rejected'))"
                ),
                [plan],
            )?;
            if done > 0 {
                proposed.plans_superseded.push(*plan);
            }
        }
        tx.commit()?;
        Ok(proposed)
    }

    /// Remembers `changes` (just rejected) as rejected: each for its scene, and with
    /// `everywhere` also its field, action and value for every scene. A CREATE has no scene:
    /// it is remembered only with `everywhere`. Returns how many rejections are new.
    pub(crate) fn remember_rejections(
        &self,
        changes: &[Change],
        everywhere: bool,
        names: &Names,
    ) -> Result<usize, StoreError> {
        let created = self.created_names(changes)?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut added = 0;
        {
            let mut insert = tx.prepare_cached(&format!(
                "INSERT OR IGNORE INTO rejections (scope, entity_type, scene_id, field, action, value, value_name, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, {NOW})"
            ))?;
            for change in changes {
                let value = compared_value(&change.value, |id| created.get(&id).cloned());
                let value_name = names.value_name(change.field, &change.value).unwrap_or_default();
                let common = (change.entity.as_str(), change.field.as_str(), change.action.as_str());
                if let Some(scene) = change.entity_id.filter(|_| change.entity == ObjectKind::Scene) {
                    added +=
                        insert.execute(params!["scene", common.0, scene, common.1, common.2, value, value_name])?;
                }
                if everywhere {
                    added +=
                        insert.execute(params!["everywhere", common.0, 0, common.1, common.2, value, value_name])?;
                }
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Forgets the rejections of these scenes' changes (a change approved or reset after all);
    /// a rejection everywhere stays until removed by itself. Returns how many were forgotten.
    pub(crate) fn forget_rejections(&self, changes: &[Change]) -> Result<usize, StoreError> {
        let created = self.created_names(changes)?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut removed = 0;
        {
            let mut delete = tx.prepare_cached(
                "DELETE FROM rejections WHERE scope = 'scene' AND entity_type = ?1 AND scene_id = ?2 AND field = ?3
                   AND action = ?4 AND value = ?5",
            )?;
            for change in changes {
                let Some(scene) = change.entity_id else { continue };
                let value = compared_value(&change.value, |id| created.get(&id).cloned());
                removed += delete.execute(params![
                    change.entity.as_str(),
                    scene,
                    change.field.as_str(),
                    change.action.as_str(),
                    value
                ])?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Every remembered rejection, newest first.
    pub fn rejections(&self) -> Result<Vec<Rejection>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT r.id, r.field, r.action, r.value, r.value_name, r.scope, r.scene_id, s.title,
                    json_extract(s.files, '$[0].path'), r.created_at
             FROM rejections r LEFT JOIN scenes s ON s.id = r.scene_id AND r.scope = 'scene'
             ORDER BY r.id DESC",
        )?;
        let rows = statement.query_map([], |r| {
            let scope: String = r.get(5)?;
            let scope = if scope == "everywhere" { Scope::Everywhere } else { Scope::Scene };
            let title: Option<String> = r.get(7)?;
            let path: Option<String> = r.get(8)?;
            Ok(Rejection {
                id: r.get(0)?,
                field: r.get(1)?,
                action: r.get::<_, String>(2)?.to_ascii_lowercase(),
                value: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or(Value::Null),
                value_name: r.get(4)?,
                scope,
                scene_id: (scope == Scope::Scene).then(|| r.get(6)).transpose()?,
                scene_title: SceneLabel::new(title, path).title,
                created_at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets one rejection; false when there was none.
    pub fn remove_rejection(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM rejections WHERE id = ?1", [id])? > 0)
    }

    fn rejection_keys(&self) -> Result<HashSet<Key>, StoreError> {
        let mut statement =
            self.conn.prepare_cached("SELECT entity_type, scene_id, field, action, value FROM rejections")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The names of what the CREATE changes `changes` refer to make, by change id.
    fn created_names(&self, changes: &[Change]) -> Result<HashMap<ChangeId, String>, StoreError> {
        let ids: Vec<ChangeId> = changes.iter().filter_map(Change::created_ref).collect();
        let mut names = HashMap::new();
        let mut statement = self.conn.prepare_cached("SELECT value FROM plan_changes WHERE id = ?1")?;
        for id in ids {
            let value: Option<String> = statement.query_row([id.0], |r| r.get(0)).ok();
            if let Some(name) = value.and_then(|v| serde_json::from_str::<Value>(&v).ok()) {
                names.insert(id, created_name(&name).unwrap_or_default());
            }
        }
        Ok(names)
    }

    /// The names `wanted` asks for, from the mirror (and, for what a plan creates, the plan).
    pub(crate) fn names_for(&self, wanted: &Wanted) -> Result<Names, StoreError> {
        let mut names = Names::default();
        let pairs = |sql: &str, ids: &[i64]| -> Result<Vec<(i64, String)>, StoreError> {
            let mut found = Vec::new();
            for chunk in ids.chunks(500) {
                let sql = sql.replace("{ids}", &vec!["?"; chunk.len()].join(", "));
                let mut statement = self.conn.prepare(&sql)?;
                let rows = statement.query_map(params_from_iter(chunk.iter().map(|id| Sql::Integer(*id))), |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                for row in rows {
                    found.push(row?);
                }
            }
            Ok(found)
        };
        names.tags = pairs("SELECT id, name FROM tags WHERE id IN ({ids})", &wanted.tags)?.into_iter().collect();
        names.performers = pairs(
            "SELECT id, name || COALESCE(' (' || NULLIF(disambiguation, '') || ')', '') FROM performers WHERE id IN ({ids})",
            &wanted.performers,
        )?
        .into_iter()
        .collect();
        names.studios =
            pairs("SELECT id, name FROM studios WHERE id IN ({ids})", &wanted.studios)?.into_iter().collect();
        let created: Vec<i64> = wanted.created.iter().map(|c| c.0).collect();
        names.created = pairs("SELECT id, value FROM plan_changes WHERE id IN ({ids})", &created)?
            .into_iter()
            .map(|(id, value)| {
                let value = serde_json::from_str::<Value>(&value).ok();
                (ChangeId(id), value.as_ref().and_then(Creation::parse).map(|c| c.name).unwrap_or_default())
            })
            .collect();
        let labels = |select: &str, ids: &[i64]| -> Result<HashMap<i64, SceneLabel>, StoreError> {
            let mut labels = HashMap::new();
            for chunk in ids.chunks(500) {
                let sql = format!("{select} WHERE id IN ({})", vec!["?"; chunk.len()].join(", "));
                let mut statement = self.conn.prepare(&sql)?;
                let rows = statement.query_map(params_from_iter(chunk.iter().map(|id| Sql::Integer(*id))), |r| {
                    Ok((r.get::<_, i64>(0)?, SceneLabel::new(r.get(1)?, r.get(2)?)))
                })?;
                for row in rows {
                    let (id, label) = row?;
                    labels.insert(id, label);
                }
            }
            Ok(labels)
        };
        names.scenes = labels("SELECT id, title, json_extract(files, '$[0].path') FROM scenes", &wanted.scenes)?;
        names.images = labels("SELECT id, title, json_extract(paths, '$[0]') FROM images", &wanted.images)?;
        names.galleries = labels("SELECT id, title, path FROM galleries", &wanted.galleries)?;
        Ok(names)
    }
}

/// The name of what the `index`-th proposed change creates.
fn new_name(changes: &[NewChange], index: FileIndex) -> Option<String> {
    created_name(&changes.get(index.0)?.value)
}

/// A stored change as a change to store again (in a new plan).
/// Old CREATEs moving into a new plan with the changes that refer to them.
struct Carry<'a, 'c> {
    /// The old plans' CREATEs, by id.
    old_creates: &'a HashMap<ChangeId, &'c Change>,
    /// The new plan's own CREATEs, by what they create.
    new_creates: &'a HashMap<Key, FileIndex>,
    /// The old CREATEs moved so far, and where.
    moved: &'a mut HashMap<ChangeId, FileIndex>,
    /// The changes moving into the new plan, in order.
    taken: &'a mut Vec<NewChange>,
    /// The new plan's index of `taken[0]`.
    first: usize,
}

impl Carry<'_, '_> {
    /// Where the old CREATE `target` is in the new plan: the new plan's own equal CREATE, or the
    /// old one moved there, after the CREATEs it refers to (a gallery's new studio), renumbered
    /// for the new plan. None when `target` is no open CREATE of the old plans.
    fn create(&mut self, target: ChangeId, name: &dyn Fn(ChangeId) -> Option<String>) -> Option<FileIndex> {
        let create = *self.old_creates.get(&target)?;
        let compared = compared_value(&create.value, name);
        let create_key = key(create.entity, None, create.field.as_str(), Action::Create, compared);
        if let Some(&index) = self.new_creates.get(&create_key).or_else(|| self.moved.get(&target)) {
            return Some(index);
        }
        let mut value = create.value.clone();
        if !created_refs::<ChangeId>(&create.value).is_empty() {
            value =
                map_created_refs(&create.value, |nested: ChangeId| Some(self.create(nested, name)?.value())).ok()?;
        }
        self.taken.push(NewChange { value, ..new_change(create) });
        let index = FileIndex(self.first + self.taken.len() - 1);
        self.moved.insert(target, index);
        Some(index)
    }
}

fn new_change(change: &Change) -> NewChange {
    NewChange {
        entity: change.entity,
        entity_id: change.entity_id,
        field: change.field,
        action: change.action,
        value: change.value.clone(),
        before: change.before.clone(),
        reason: change.reason.clone(),
        confidence: change.confidence,
        status: change.status,
    }
}

/// `changes` without what `rejected` holds (for the change's scene, or everywhere), without
/// changes that refer to a CREATE left out, and without CREATEs nothing left refers to;
/// references renumbered. Also how many were left out as rejected.
fn without_rejected(changes: &[NewChange], rejected: &HashSet<Key>) -> (Vec<NewChange>, usize) {
    let is_rejected = |change: &NewChange| {
        let value = compared_value(&change.value, |i| new_name(changes, i));
        let field = change.field.as_str();
        rejected.contains(&key(change.entity, None, field, change.action, value.clone()))
            || (change.entity == ObjectKind::Scene
                && rejected.contains(&key(change.entity, change.entity_id, field, change.action, value)))
    };
    let mut keep: Vec<bool> = changes.iter().map(|c| !is_rejected(c)).collect();
    let rejected_count = keep.iter().filter(|k| !**k).count();
    let targets = |change: &NewChange| -> Vec<usize> { change.created_refs().into_iter().map(|t| t.0).collect() };
    // A reference to a CREATE left out cannot be applied (references point backwards, so one
    // pass in order carries a left-out CREATE through the CREATEs that refer to it).
    for (i, change) in changes.iter().enumerate() {
        keep[i] = keep[i] && targets(change).iter().all(|t| keep.get(*t).copied().unwrap_or(false));
    }
    // A CREATE that was referred to, and no longer is, has no use.
    let referred: HashSet<usize> = changes.iter().flat_map(targets).collect();
    let still_referred: HashSet<usize> =
        changes.iter().enumerate().filter(|(i, _)| keep[*i]).flat_map(|(_, c)| targets(c)).collect();
    for (i, change) in changes.iter().enumerate() {
        if change.action == Action::Create && referred.contains(&i) && !still_referred.contains(&i) {
            keep[i] = false;
        }
    }
    let mut index_of = HashMap::new();
    let mut kept = Vec::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        let mut change = change.clone();
        // Every reference of a kept change names a kept CREATE; one that is no index stays as
        // written, and storing it refuses it.
        if let Ok(value) =
            map_created_refs(&change.value, |t: FileIndex| index_of.get(&t.0).map(|i| FileIndex(*i).value()))
        {
            change.value = value;
        }
        index_of.insert(i, kept.len());
        kept.push(change);
    }
    (kept, rejected_count)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::{Value, json};

    use crate::plans::{Action, ChangeFilter, ChangeStatus, Field, NewChange};
    use crate::stash::ObjectKind;
    use crate::store::Store;

    fn change(entity: ObjectKind, entity_id: Option<i64>, field: Field, action: Action, value: Value) -> NewChange {
        NewChange {
            entity,
            entity_id,
            field,
            action,
            value,
            before: Value::Null,
            reason: String::new(),
            confidence: 1.0,
            status: ChangeStatus::Pending,
        }
    }

    #[test]
    fn a_change_taken_over_brings_the_creates_it_needs_and_theirs() {
        let dir = std::env::temp_dir().join(format!("stashhog-carry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("db.sqlite")).expect("opens");
        let nothing_examined = HashSet::new();
        // A gallery made with a new studio, and an image put in it.
        let first = [
            change(ObjectKind::Studio, None, Field::Name, Action::Create, json!("New studio")),
            change(
                ObjectKind::Gallery,
                None,
                Field::Name,
                Action::Create,
                json!({"name": "Post", "code": "p1", "studio": {"created": 0}}),
            ),
            change(ObjectKind::Image, Some(5), Field::Galleries, Action::Add, json!({"created": 1})),
        ];
        store.propose_plan("first", "import_fansly", &json!({}), &first, &nothing_examined).expect("stores");
        // The next run looks at nothing of that: the image's change moves into its plan, with
        // the gallery and the gallery's studio, references renumbered.
        let unrelated = [change(ObjectKind::Tag, None, Field::Name, Action::Create, json!("Other"))];
        let second =
            store.propose_plan("second", "import_fansly", &json!({}), &unrelated, &nothing_examined).expect("stores");
        assert_eq!(second.taken_over, 1);
        let plan = second.plan_id.expect("a plan");
        let (_, changes) = store.changes(plan, &ChangeFilter::default(), usize::MAX, 0).expect("reads");
        let id_of = |entity: ObjectKind| changes.iter().find(|c| c.entity == entity).map(|c| c.id).expect("moved");
        let gallery = changes.iter().find(|c| c.entity == ObjectKind::Gallery).expect("the gallery moved");
        assert_eq!(gallery.value["studio"], json!({"created": id_of(ObjectKind::Studio)}));
        let image = changes.iter().find(|c| c.entity == ObjectKind::Image).expect("the image's change moved");
        assert_eq!(image.value, json!({"created": gallery.id}));
        assert_eq!(changes.len(), 4);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
