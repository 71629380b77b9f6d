//! The engine behind `apply_plan` and `rollback_plan`: turns a plan's changes into as few
//! requests as Stash allows, and journals each one so a kill at any moment loses nothing and
//! repeats nothing.
//!
//! For each page of scenes it reads what Stash holds NOW, and compares it with what the plan
//! expects (the value before, for apply; the plan's own value, for rollback). A change whose
//! field moved on is left alone and reported as a conflict: StashHog never overwrites an edit it
//! did not see. The rest are grouped so that Stash updates each scene ONCE (every update runs
//! every plugin's `Scene.Update.Post` hook): all list edits of a scene (tags, performers, URLs
//! it gains or loses) go in one `bulkSceneUpdate` ADD / REMOVE — member by member and atomic on
//! the server, so it cannot race with the user's own edits, never a read-then-SET — shared by
//! every scene getting exactly the same edits; up to 40 such updates travel aliased in one
//! request. Each scene's single-valued fields go in one `sceneUpdate` carrying only those keys.
//! A scene whose net change is empty gets no request at all.
//!
//! Journal: a batch is one request, whatever number of aliased updates it carries. Before a
//! request leaves, a batch row is committed as `sending`; when Stash answers,
//! the changes' statuses and the batch are committed together. No transaction is ever open while
//! a request is out (Stash runs our hook, which opens this database, inside our mutation). A
//! batch found still `sending` at start was cut off by a kill: the engine re-reads those scenes
//! and counts what landed as done, and sends only the rest again. A failed request is checked
//! the same way, since a timeout does not say whether Stash ran it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::graphql::ApiError;
use crate::plans::{
    Action, Change, ChangeId, ChangeStatus, Creation, Direction, Field, Settled, Target, created_ref, same_value,
};
use crate::protocol::progress::Progress;
use crate::stash::{
    FieldsSet, ListChange, ListEdit, ListGroup, MAX_ALIASES, ObjectKind, SceneList, SceneScalar, StashClient,
    StashWrite,
};
use crate::store::{BatchState, JournalRequest, Store};

/// Scenes per request unless `batch_size` says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// How many requests' worth of objects are grouped together (see [`Engine::run`]): a wider
/// window lets more objects that get the same edits share a request, but holds all their changes
/// in memory at once (2,000 scenes of five changes each: about 8 MB).
const GROUPING_WINDOW: usize = 4;

/// Most conflicts and failures a summary lists (the counts are always complete; `show_plan`
/// with `status=skipped_conflict` or `failed` lists them all).
const LISTED: usize = 1000;

/// What a run of the engine did.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Changes Stash confirmed (applied, or reverted when rolling back).
    pub done: usize,
    /// Changes already in place: nothing had to be sent for them.
    pub already_in_place: usize,
    /// Changes left alone because Stash's value had moved on.
    pub conflicted: usize,
    /// Changes Stash refused.
    pub failed: usize,
    /// Requests sent (or, in a dry run, that would be sent), by operation.
    pub requests: BTreeMap<&'static str, usize>,
    /// Scenes a request went to.
    pub scenes_touched: usize,
    /// Journal entries of an interrupted run that were checked in Stash first.
    pub resumed_batches: usize,
    /// The conflicts (the first 1000): the change, and the value Stash holds now.
    pub conflicts: Vec<Value>,
    /// The failures (the first 1000), with Stash's error.
    pub failures: Vec<Value>,
    /// Dry run: the requests that would be sent (the first 1000), exactly as they would be.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_send: Vec<Value>,
}

/// What a rollback did with the tags, performers and studios its plan created.
#[derive(Debug, Default, Serialize)]
pub struct CreatedOutcome {
    /// Deleted (in a dry run: would be), since nothing used them any more.
    pub deleted: Vec<Value>,
    /// Kept: still in use, or not asked to delete them.
    pub kept: Vec<Value>,
}

/// What a run of a plan is asked to do: the options `apply_plan`, `rollback_plan` and their
/// previews share, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Apply the approved changes, or roll back the applied ones.
    pub direction: Direction,
    /// Send nothing and change nothing: report (and log) the requests it would send.
    pub dry_run: bool,
    /// Scenes per page, and so most scenes in one request.
    pub batch_size: usize,
    /// Rollback: also delete what the plan created once nothing in Stash uses it.
    pub delete_created: bool,
    /// Apply: the plan's revision a preview showed; the run is refused if the approvals changed
    /// since (checked under the plan's lock, before anything is sent).
    pub revision: Option<i64>,
    /// Dry run: log each request it would send (the page's preview does not).
    pub log_requests: bool,
}

impl RunOptions {
    /// A real run in `direction` with the defaults: [`DEFAULT_BATCH_SIZE`] scenes per request,
    /// everything created kept, no revision to match.
    pub fn new(direction: Direction) -> Self {
        RunOptions {
            direction,
            dry_run: false,
            batch_size: DEFAULT_BATCH_SIZE,
            delete_created: false,
            revision: None,
            log_requests: true,
        }
    }
}

/// One plan's run through the engine.
pub struct Engine<'a> {
    stash: &'a StashClient,
    store: &'a Store,
    plan_id: i64,
    options: RunOptions,
    progress: &'a RefCell<Progress>,
    /// What happened so far.
    pub report: Report,
    created: Created,
    /// What the mirror got from the writes' answers.
    pub mirrored: Mirrored,
}

/// How far the mirror was kept up with the run's writes from Stash's own answers, so that
/// catching it up afterwards need not read those scenes again.
#[derive(Debug, Default)]
pub struct Mirrored {
    /// Scenes copied from what `bulkSceneUpdate` answered.
    pub scenes: usize,
    /// The newest `updated_at` among them, in Stash's text form.
    pub latest: Option<String>,
    /// Something was written whose result the mirror did not get (a create, a delete, a
    /// `sceneUpdate`, a request whose answer was lost, an interrupted run's batch).
    pub incomplete: bool,
}

/// The ids the plan's CREATE changes made, by change id: what a `{"created": change}` member
/// or value stands for.
#[derive(Debug, Default)]
struct Created(HashMap<ChangeId, i64>);

impl Created {
    /// The change `change_id` made the object `id`.
    fn record(&mut self, change_id: i64, id: i64) {
        self.0.insert(ChangeId(change_id), id);
    }

    /// The member or value a change writes, with a `{"created": change}` reference resolved to
    /// the id that CREATE made. A dry run, which creates nothing, shows a placeholder; a real
    /// run cannot write a reference whose CREATE did not land, and says so.
    fn resolve(&self, value: &Value, dry_run: bool) -> Result<Value, String> {
        match created_ref(value) {
            None => Ok(value.clone()),
            Some(change) => match self.0.get(&change) {
                Some(id) => Ok(Value::from(*id)),
                None if dry_run => Ok(Value::String(format!("<created by change {change}>"))),
                None => Err(format!("what it refers to was not created (change {change} was not applied)")),
            },
        }
    }
}

/// One request and the changes it carries.
struct Pending {
    write: StashWrite,
    changes: Vec<Change>,
}

impl<'a> Engine<'a> {
    /// An engine running `plan_id` against `stash` as `options` say, nothing done yet.
    pub fn new(
        stash: &'a StashClient,
        store: &'a Store,
        plan_id: i64,
        options: RunOptions,
        progress: &'a RefCell<Progress>,
    ) -> Self {
        let options = RunOptions { batch_size: options.batch_size.max(1), ..options };
        Engine {
            stash,
            store,
            plan_id,
            options,
            progress,
            report: Report::default(),
            created: Created::default(),
            mirrored: Mirrored::default(),
        }
    }

    /// Runs the plan: first settles what an interrupted run left in flight, then creates what
    /// needs creating (apply only), then works through the scenes, images and galleries page by
    /// page.
    pub fn run(&mut self, total: usize) -> anyhow::Result<()> {
        if !self.options.dry_run {
            self.resume()?;
        }
        self.create_entities()?;
        let from = self.options.direction.from_status();
        let reverse = self.options.direction == Direction::Rollback;
        let mut seen = 0;
        for kind in [ObjectKind::Scene, ObjectKind::Image, ObjectKind::Gallery] {
            let mut after = None;
            loop {
                // A wide window of changes, so objects getting the same tag share requests
                // across what would be many pages; each request still carries at most
                // `batch_size` objects.
                let window = self.options.batch_size * GROUPING_WINDOW;
                let changes = self.store.changes_after(self.plan_id, kind, from, after, reverse, window)?;
                let Some(last) = changes.last() else { break };
                after = last.entity_id;
                seen += changes.len();
                self.page(kind, changes)?;
                self.progress.borrow_mut().step(seen.min(total) as u64, total.max(1) as u64);
            }
        }
        Ok(())
    }

    /// Settles the batches a killed run left `sending`: what landed is done, the rest goes back
    /// in the queue to be checked and sent again. A rollback also settles what an apply left in
    /// flight: a change that landed counts as applied (and so is reverted now), one that did not
    /// stays approved — otherwise its effect would be in Stash with no plan owning it.
    fn resume(&mut self) -> anyhow::Result<()> {
        let directions: &[Direction] = match self.options.direction {
            Direction::Apply => &[Direction::Apply],
            Direction::Rollback => &[Direction::Apply, Direction::Rollback],
        };
        for &direction in directions {
            let (from, to) = (direction.from_status(), direction.to_status());
            for batch in self.store.open_batches(self.plan_id, direction)? {
                self.report.resumed_batches += 1;
                self.mirrored.incomplete = true;
                log::info!("Checking in Stash whether an interrupted request ({}) landed", batch.request.operation);
                // What the changes are says how to look: a created or deleted tag, performer or
                // studio by name or id, anything else on its scene.
                let landed: Vec<Settled> = if batch.changes.iter().any(|c| creatable(c.entity).is_some()) {
                    self.landed_entities(&batch.changes, direction)?
                } else {
                    let objects = self.objects_now(&batch.changes)?;
                    batch
                        .changes
                        .iter()
                        .filter(|c| c.status == from)
                        .filter(|c| {
                            objects
                                .get(&c.entity_id.unwrap_or_default())
                                .is_some_and(|o| landed(c, o.as_ref(), direction, &self.created))
                        })
                        .map(|c| settled(c, to, None, None))
                        .collect()
                };
                if direction == self.options.direction {
                    self.report.done += landed.len();
                }
                for outcome in &landed {
                    if let Some(id) = outcome.created_id {
                        self.created.record(outcome.change_id, id);
                    }
                }
                let rest = if direction == self.options.direction { "are sent again" } else { "were never applied" };
                log::info!("{} of its {} change(s) had landed; the rest {rest}", landed.len(), batch.changes.len());
                self.store.settle(Some((batch.id, BatchState::Verified)), &landed)?;
            }
        }
        Ok(())
    }

    /// Which of these CREATE or delete changes landed although no answer said so (the run was
    /// killed, or the answer lost): a CREATE landed if Stash now has an object of that name (a
    /// gallery: of that code); a delete of what a plan created landed if Stash no longer has it.
    fn landed_entities(&self, changes: &[Change], direction: Direction) -> anyhow::Result<Vec<Settled>> {
        let mut landed = Vec::new();
        for change in changes {
            let Some(kind) = creatable(change.entity) else { continue };
            let outcome = match (direction, change.status, change.created_id) {
                (Direction::Apply, ChangeStatus::Approved, _) => {
                    let creation = Creation::parse(&change.value).unwrap_or_default();
                    let found = match (kind, creation.code) {
                        (ObjectKind::Gallery, Some(code)) => self.stash.find_gallery_by_code(&code)?,
                        // A gallery without a code cannot be told from another of the same
                        // title: it counts as not made, and is made again.
                        (ObjectKind::Gallery, None) => None,
                        _ => self.stash.find_named(kind, &creation.name)?,
                    };
                    found.map(|id| settled(change, ChangeStatus::Applied, None, Some(id)))
                }
                (Direction::Rollback, ChangeStatus::Applied, Some(id)) => {
                    let gone = self.stash.usage(kind, id)?.is_none();
                    gone.then(|| settled(change, ChangeStatus::Reverted, None, None))
                }
                _ => None,
            };
            landed.extend(outcome);
        }
        Ok(landed)
    }

    /// Creates the approved CREATE changes' entities, and learns what earlier runs created.
    fn create_entities(&mut self) -> anyhow::Result<()> {
        // Galleries come last and go up to 40 to a request (those with a code: each is found
        // again by it if the answer is lost). They refer only to tags, performers and studios,
        // which refer to no gallery, so making those first keeps every reference resolvable.
        let (mut creates, galleries_last): (Vec<Change>, Vec<Change>) =
            self.store.plan_creates(self.plan_id)?.into_iter().partition(|c| c.entity != ObjectKind::Gallery);
        creates.extend(galleries_last);
        let mut galleries: Vec<(Map<String, Value>, Change)> = Vec::new();
        for change in creates {
            if let Some(id) = change.created_id {
                self.created.record(change.id, id);
            }
            if self.options.direction == Direction::Apply && change.status == ChangeStatus::Approved {
                let Some(kind) = creatable(change.entity) else { continue };
                let Some(creation) = Creation::parse(&change.value) else { continue };
                let mut with = self.create_input(kind, &creation);
                if kind != ObjectKind::Gallery {
                    self.send_galleries(&mut galleries)?;
                    let write = StashWrite::Create { kind, name: creation.name, with };
                    self.send(Pending { write, changes: vec![change] })?;
                    continue;
                }
                with.insert("title".into(), Value::from(creation.name));
                let coded = creation.code.is_some();
                if !coded || galleries.len() == MAX_ALIASES {
                    self.send_galleries(&mut galleries)?;
                }
                galleries.push((with, change));
                if !coded {
                    self.send_galleries(&mut galleries)?;
                }
            }
        }
        self.send_galleries(&mut galleries)
    }

    /// Sends the galleries gathered so far, if any, in one request.
    fn send_galleries(&mut self, galleries: &mut Vec<(Map<String, Value>, Change)>) -> anyhow::Result<()> {
        if galleries.is_empty() {
            return Ok(());
        }
        let (inputs, changes) = galleries.drain(..).unzip();
        self.send(Pending { write: StashWrite::CreateGalleries { galleries: inputs }, changes })
    }

    /// The fields a CREATE sends besides the name, in Stash's input names; a parent the plan
    /// did not manage to create is left out (the studio is still made, without it).
    fn create_input(&self, kind: ObjectKind, creation: &Creation) -> serde_json::Map<String, Value> {
        let mut with = serde_json::Map::new();
        if !creation.aliases.is_empty() {
            let key = if kind == ObjectKind::Performer { "alias_list" } else { "aliases" };
            with.insert(key.into(), json!(creation.aliases));
        }
        if !creation.urls.is_empty() {
            with.insert("urls".into(), json!(creation.urls));
        }
        if let Some(details) = &creation.details {
            with.insert("details".into(), Value::from(details.clone()));
        }
        // A reference to something the plan did not manage to create is left out (the object
        // is still made, without it); a dry run shows the placeholder.
        let resolve = |reference: &Value, what: &str| match self.created.resolve(reference, self.options.dry_run) {
            Ok(Value::Number(id)) => Some(Value::from(id.to_string())),
            Ok(other) if self.options.dry_run => Some(other),
            Ok(_) | Err(_) => {
                log::warn!(
                    "Creating {} '{}' without its {what}: {reference} was not created",
                    kind.as_str(),
                    creation.name
                );
                None
            }
        };
        if let Some(id) =
            creation.parent.as_ref().filter(|_| kind == ObjectKind::Studio).and_then(|parent| resolve(parent, "parent"))
        {
            with.insert("parent_id".into(), id);
        }
        if kind == ObjectKind::Gallery {
            for (key, value) in [("code", &creation.code), ("date", &creation.date)] {
                if let Some(value) = value {
                    with.insert(key.into(), Value::from(value.clone()));
                }
            }
            if let Some(id) = creation.studio.as_ref().and_then(|studio| resolve(studio, "studio")) {
                with.insert("studio_id".into(), id);
            }
            for (key, members, what) in
                [("performer_ids", &creation.performers, "performer"), ("tag_ids", &creation.tags, "tag")]
            {
                let ids: Vec<Value> = members.iter().filter_map(|m| resolve(m, what)).collect();
                if !ids.is_empty() {
                    with.insert(key.into(), Value::Array(ids));
                }
            }
        }
        with
    }

    /// After a rollback: with `delete_created`, deletes what the plan created that nothing uses any more
    /// (no scene, image, gallery or group; for a tag also no performer, studio, scene marker,
    /// parent or child tag; for a studio no child studio), through the journal like every write;
    /// lists the rest as kept. Objects already gone (an interrupted run deleted them) count as
    /// deleted.
    pub fn settle_created(&mut self) -> anyhow::Result<CreatedOutcome> {
        let delete = self.options.delete_created;
        let mut outcome = CreatedOutcome::default();
        // Newest first: a studio created under a studio the plan also created is deleted
        // before its parent, which is then unused.
        for change in self.store.plan_creates(self.plan_id)?.into_iter().rev() {
            let (Some(id), Some(kind)) = (change.created_id, creatable(change.entity)) else { continue };
            if change.status != ChangeStatus::Applied {
                continue;
            }
            let name = Creation::parse(&change.value).map_or(change.value.clone(), |c| Value::from(c.name));
            let mut entry = json!({"entity": change.entity, "id": id, "name": name});
            if !delete {
                outcome.kept.push(entry);
                continue;
            }
            let uses = self.stash.usage(kind, id).with_context(|| format!("asking Stash what uses {entry}"))?;
            match uses {
                None => {
                    if !self.options.dry_run {
                        self.store.settle(None, &[settled(&change, ChangeStatus::Reverted, None, None)])?;
                    }
                    outcome.deleted.push(entry);
                }
                Some(0) => {
                    let failed = self.report.failed;
                    self.send(Pending { write: StashWrite::Destroy { kind, id }, changes: vec![change] })?;
                    if self.report.failed == failed {
                        outcome.deleted.push(entry);
                    } else {
                        entry["error"] = "Stash refused to delete it; see failures".into();
                        outcome.kept.push(entry);
                    }
                }
                Some(uses) => {
                    log::info!("Keeping {entry}: still in use {uses} time(s) in Stash");
                    entry["uses"] = uses.into();
                    outcome.kept.push(entry);
                }
            }
        }
        // Listed in the order the plan created them.
        outcome.deleted.reverse();
        outcome.kept.reverse();
        Ok(outcome)
    }

    /// The scenes, images or galleries of `changes` (all of one kind) as Stash holds them now,
    /// by id.
    fn objects_now(&self, changes: &[Change]) -> anyhow::Result<HashMap<i64, Box<dyn Target>>> {
        let mut ids: Vec<i64> = changes.iter().filter_map(|c| c.entity_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let kind = changes.first().map_or(ObjectKind::Scene, |c| c.entity);
        let context = || format!("reading the plan's {} from Stash", kind.plural());
        fn boxed<T: Target + 'static>(objects: Vec<T>) -> HashMap<i64, Box<dyn Target>> {
            objects.into_iter().map(|o| (o.id(), Box::new(o) as Box<dyn Target>)).collect()
        }
        Ok(match kind {
            ObjectKind::Image => boxed(self.stash.images_now(&ids).with_context(context)?),
            ObjectKind::Gallery => boxed(self.stash.galleries_now(&ids).with_context(context)?),
            _ => boxed(self.stash.scenes_now(&ids).with_context(context)?),
        })
    }

    /// Checks one page of scenes, images or galleries against Stash, and sends what is left in
    /// grouped requests.
    fn page(&mut self, kind: ObjectKind, changes: Vec<Change>) -> anyhow::Result<()> {
        let scenes = self.objects_now(&changes)?;
        let apply = self.options.direction == Direction::Apply;
        let mut now_settled = Vec::new();
        let mut lists: BTreeMap<i64, SceneEdits> = BTreeMap::new();
        let mut updates: BTreeMap<i64, (FieldsSet, Vec<Change>)> = BTreeMap::new();
        for change in changes {
            let scene_id = change.entity_id.unwrap_or_default();
            let Some(scene) = scenes.get(&scene_id).map(Box::as_ref) else {
                let gone = format!("{} {scene_id} no longer exists in Stash", kind.as_str());
                self.fail(&change, gone, &mut now_settled);
                continue;
            };
            let value = match self.created.resolve(&change.value, self.options.dry_run) {
                Ok(value) => value,
                Err(e) => {
                    self.fail(&change, e, &mut now_settled);
                    continue;
                }
            };
            match (change.action, list_of(change.field)) {
                (Action::Add | Action::Remove, Some(list)) => {
                    // Apply expects the member as it was before; rollback expects the plan's effect.
                    let expected = if apply { change.member_was_present() } else { change.action == Action::Add };
                    let present = change.field.has_member(scene, &value);
                    if present != expected {
                        let found = if present { "has it" } else { "does not have it" };
                        let detail = format!("Stash {found} now");
                        self.conflict(&change, scene, detail, &mut now_settled);
                        continue;
                    }
                    let adds = (change.action == Action::Add) == apply;
                    let edit = if adds { ListEdit::Add } else { ListEdit::Remove };
                    lists.entry(scene_id).or_default().push(list, edit, value, change);
                }
                (Action::Set, None) => {
                    let (expected, target) = if apply { (&change.before, &value) } else { (&value, &change.before) };
                    let current = change.field.current(scene);
                    if !same_value(&current, expected) {
                        let detail = format!("expected {expected}, Stash has {current}");
                        self.conflict(&change, scene, detail, &mut now_settled);
                        continue;
                    }
                    if same_value(&current, target) {
                        self.report.already_in_place += 1;
                        now_settled.push(settled(&change, self.options.direction.to_status(), None, None));
                        continue;
                    }
                    let Some(scalar) = scalar_of(change.field) else { continue };
                    let (set, changes) = updates
                        .entry(scene_id)
                        .or_insert_with(|| (FieldsSet { id: scene_id, values: Vec::new() }, Vec::new()));
                    set.values.push((scalar, target.clone()));
                    changes.push(change);
                }
                _ => self.fail(&change, "a change this StashHog cannot apply".into(), &mut now_settled),
            }
        }
        if !self.options.dry_run {
            self.store.settle(None, &now_settled)?;
        }
        let mut touched: Vec<i64> = Vec::new();
        let batch_size = self.options.batch_size;
        for pending in pack(kind, lists, batch_size).into_iter().chain(pack_fields(kind, updates)) {
            touched.extend(pending.changes.iter().filter_map(|c| c.entity_id));
            self.send(pending)?;
        }
        touched.sort_unstable();
        touched.dedup();
        self.report.scenes_touched += touched.len();
        Ok(())
    }

    fn fail(&mut self, change: &Change, error: String, out: &mut Vec<Settled>) {
        log::error!(
            "Change {} ({} {} of {} {:?}): {error}",
            change.id,
            change.action.as_str(),
            change.field.as_str(),
            change.entity.as_str(),
            change.entity_id
        );
        self.report.failed += 1;
        if self.report.failures.len() < LISTED {
            self.report.failures.push(json!({
                "change_id": change.id, "entity": change.entity, "scene_id": change.entity_id, "field": change.field,
                "action": change.action, "value": change.value, "error": error,
            }));
        }
        // A rollback that could not be done stays applied, so running it again retries.
        let status = match self.options.direction {
            Direction::Apply => ChangeStatus::Failed,
            Direction::Rollback => ChangeStatus::Applied,
        };
        out.push(settled(change, status, Some(error), None));
    }

    fn conflict(&mut self, change: &Change, scene: &dyn Target, detail: String, out: &mut Vec<Settled>) {
        let message = format!(
            "{} {} `{}` changed since the plan was made: {detail}",
            change.entity.as_str(),
            scene.id(),
            change.field.as_str()
        );
        log::warn!("Change {} left alone: {message}", change.id);
        self.report.conflicted += 1;
        if self.report.conflicts.len() < LISTED {
            self.report.conflicts.push(json!({
                "change_id": change.id, "entity": change.entity, "scene_id": scene.id(), "field": change.field,
                "action": change.action,
                "value": change.value, "before": change.before, "stash_now": change.field.current(scene),
            }));
        }
        let status = match self.options.direction {
            Direction::Apply => ChangeStatus::SkippedConflict,
            Direction::Rollback => ChangeStatus::RevertConflict,
        };
        let mut outcome = settled(change, status, Some(message), None);
        outcome.stash_now = Some(change.field.current(scene));
        out.push(outcome);
    }

    /// Sends one request through the journal (or, in a dry run, logs it).
    fn send(&mut self, pending: Pending) -> anyhow::Result<()> {
        let (operation, variables) = pending.write.request();
        *self.report.requests.entry(operation).or_default() += 1;
        if self.options.dry_run {
            if self.options.log_requests {
                log::info!("Dry run: would send {operation} {variables}");
            }
            if self.report.would_send.len() < 1000 {
                self.report.would_send.push(json!({"operation": operation, "variables": variables}));
            }
            self.report.done += pending.changes.len();
            return Ok(());
        }
        let ids: Vec<i64> = pending.changes.iter().map(|c| c.id).collect();
        let request = JournalRequest { operation: operation.to_owned(), variables };
        let batch = self.store.begin_batch(self.plan_id, self.options.direction, &request, &ids)?;
        log::debug!("Sending {operation} for {} change(s)", ids.len());
        let to = self.options.direction.to_status();
        match self.stash.write(&pending.write) {
            Ok(written) => {
                self.mirror(&pending.write, &written.scenes)?;
                // A create's changes each made one object, in order.
                let created_ids = |i: usize| written.created.get(i).copied();
                for (i, change) in pending.changes.iter().enumerate() {
                    if let Some(id) = created_ids(i) {
                        self.created.record(change.id, id);
                    }
                }
                let done: Vec<Settled> =
                    pending.changes.iter().enumerate().map(|(i, c)| settled(c, to, None, created_ids(i))).collect();
                self.report.done += done.len();
                self.store.settle(Some((batch, BatchState::Done)), &done)?;
            }
            Err(e) => {
                self.mirrored.incomplete = true;
                // A timeout or a 5xx does not say whether Stash ran it: look before calling it failed.
                let error = e.to_string();
                log::error!("{operation} failed: {error}");
                // Stash answering with an error did not run it; a lost answer may have. A check
                // that fails in turn stops the run with the batch still open, for the next run.
                let unanswered = matches!(e, ApiError::Connection { .. } | ApiError::Server { .. });
                // Stash runs each alias on its own: an error may come with other galleries made.
                let (creates, aliased) = match pending.write {
                    StashWrite::Create { .. } | StashWrite::Destroy { .. } => (true, false),
                    StashWrite::CreateGalleries { .. } => (true, true),
                    _ => (false, false),
                };
                let (scenes, entities) = if !creates {
                    (self.objects_now(&pending.changes)?, Vec::new())
                } else if unanswered || aliased {
                    (HashMap::new(), self.landed_entities(&pending.changes, self.options.direction)?)
                } else {
                    (HashMap::new(), Vec::new())
                };
                let mut outcomes = Vec::new();
                for change in &pending.changes {
                    if let Some(outcome) = entities.iter().find(|o| o.change_id == change.id) {
                        log::info!("… but it had landed in Stash: {} {:?}", change.entity.as_str(), change.value);
                        if let Some(id) = outcome.created_id {
                            self.created.record(change.id, id);
                        }
                        self.report.done += 1;
                        outcomes.push(outcome.clone());
                    } else if scenes
                        .get(&change.entity_id.unwrap_or_default())
                        .is_some_and(|s| landed(change, s.as_ref(), self.options.direction, &self.created))
                    {
                        self.report.done += 1;
                        outcomes.push(settled(change, to, None, None));
                    } else {
                        self.fail(change, error.clone(), &mut outcomes);
                    }
                }
                self.store.settle(Some((batch, BatchState::Failed)), &outcomes)?;
            }
        }
        Ok(())
    }
}

impl Engine<'_> {
    /// Copies the scenes a write answered with into the mirror (one short transaction, after
    /// the request), so the mirror keeps up without reading them again.
    fn mirror(&mut self, write: &StashWrite, scenes: &[crate::stash::Scene]) -> anyhow::Result<()> {
        // Only scenes' updates answer with what the mirror copies; anything else leaves
        // the ordinary catch-up to do.
        if !matches!(
            write,
            StashWrite::EditLists { kind: ObjectKind::Scene, .. }
                | StashWrite::SetFields { kind: ObjectKind::Scene, .. }
        ) {
            self.mirrored.incomplete = true;
            return Ok(());
        }
        self.store.write_mirror(|w| scenes.iter().try_for_each(|scene| w.put_scene(scene, None)))?;
        self.mirrored.scenes += scenes.len();
        if let Some(newest) = scenes.iter().map(|s| s.updated_at.as_str()).max()
            && self.mirrored.latest.as_deref().is_none_or(|latest| newest > latest)
        {
            self.mirrored.latest = Some(newest.to_owned());
        }
        Ok(())
    }
}

/// The list edits one scene gets, by direction, and the changes they carry out.
#[derive(Default)]
struct SceneEdits {
    adds: BTreeMap<SceneList, Vec<Value>>,
    removes: BTreeMap<SceneList, Vec<Value>>,
    add_changes: Vec<Change>,
    remove_changes: Vec<Change>,
}

impl SceneEdits {
    fn push(&mut self, list: SceneList, edit: ListEdit, member: Value, change: Change) {
        let (members, changes) = match edit {
            ListEdit::Add => (&mut self.adds, &mut self.add_changes),
            ListEdit::Remove => (&mut self.removes, &mut self.remove_changes),
        };
        members.entry(list).or_default().push(member);
        changes.push(change);
    }

    /// The scene's updates: one, unless it gains and loses members of the same list (only a
    /// hand-made plan does that), since one `bulkSceneUpdate` takes one mode per list.
    fn updates(self) -> Vec<(Vec<ListChange>, Vec<Change>)> {
        let edits = |lists: BTreeMap<SceneList, Vec<Value>>, edit| {
            lists.into_iter().map(move |(list, members)| ListChange { list, edit, members }).collect::<Vec<_>>()
        };
        let both_ways = self.adds.keys().any(|list| self.removes.contains_key(list));
        let (mut adds, mut removes) = (edits(self.adds, ListEdit::Add), edits(self.removes, ListEdit::Remove));
        let (mut add_changes, remove_changes) = (self.add_changes, self.remove_changes);
        if both_ways {
            return vec![(adds, add_changes), (removes, remove_changes)]
                .into_iter()
                .filter(|(edits, _)| !edits.is_empty())
                .collect();
        }
        adds.append(&mut removes);
        add_changes.extend(remove_changes);
        vec![(adds, add_changes)]
    }
}

/// Packs the scenes' list edits into as few requests as possible, each scene's edits in ONE
/// `bulkSceneUpdate` (so Stash updates it, and runs every plugin's hook, once): scenes getting
/// exactly the same edits share an update, and up to [`MAX_ALIASES`] updates for at most
/// `batch_size` scenes in all go in one request.
fn pack(kind: ObjectKind, scenes: BTreeMap<i64, SceneEdits>, batch_size: usize) -> Vec<Pending> {
    /// The edits, and the scenes getting exactly them with the changes each carries out.
    type Group = (Vec<ListChange>, Vec<(i64, Vec<Change>)>);
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (scene_id, scene) in scenes {
        for (edits, changes) in scene.updates() {
            let key = edits.iter().map(ListChange::key).collect::<Vec<_>>().join(";");
            groups.entry(key).or_insert_with(|| (edits, Vec::new())).1.push((scene_id, changes));
        }
    }
    let empty = || Pending { write: StashWrite::EditLists { kind, groups: Vec::new() }, changes: Vec::new() };
    let mut requests = Vec::new();
    let mut current = empty();
    let mut scenes_in_current = 0;
    for (edits, scenes) in groups.into_values() {
        // The changes move into the requests, never copied: a window holds them once.
        let mut scenes = scenes.into_iter().peekable();
        while scenes.peek().is_some() {
            let chunk: Vec<(i64, Vec<Change>)> = scenes.by_ref().take(batch_size).collect();
            let StashWrite::EditLists { groups, .. } = &mut current.write else { continue };
            if scenes_in_current + chunk.len() > batch_size || groups.len() == MAX_ALIASES {
                requests.push(std::mem::replace(&mut current, empty()));
                scenes_in_current = 0;
            }
            if let StashWrite::EditLists { groups, .. } = &mut current.write {
                groups.push(ListGroup { ids: chunk.iter().map(|(id, _)| *id).collect(), edits: edits.clone() });
            }
            scenes_in_current += chunk.len();
            current.changes.extend(chunk.into_iter().flat_map(|(_, changes)| changes));
        }
    }
    if !current.changes.is_empty() {
        requests.push(current);
    }
    requests
}

/// Packs the objects' field updates [`MAX_ALIASES`] to a request, one alias per object (so
/// each is updated, and runs its hooks, once).
fn pack_fields(kind: ObjectKind, objects: BTreeMap<i64, (FieldsSet, Vec<Change>)>) -> Vec<Pending> {
    let mut requests: Vec<Pending> = Vec::new();
    for (set, changes) in objects.into_values() {
        match requests.last_mut() {
            Some(Pending { write: StashWrite::SetFields { objects, .. }, changes: carried })
                if objects.len() < MAX_ALIASES =>
            {
                objects.push(set);
                carried.extend(changes);
            }
            _ => requests.push(Pending { write: StashWrite::SetFields { kind, objects: vec![set] }, changes }),
        }
    }
    requests
}

/// What a plan's CREATE of `entity` makes in Stash: a tag, performer, studio or gallery.
fn creatable(entity: ObjectKind) -> Option<ObjectKind> {
    (!matches!(entity, ObjectKind::Scene | ObjectKind::Image)).then_some(entity)
}

/// Whether Stash shows the change's effect (apply: the plan's value; rollback: the value
/// before). Tells whether an interrupted request, or one whose answer was lost, landed; a
/// reference to an object that was never created cannot have landed.
fn landed(change: &Change, scene: &dyn Target, direction: Direction, created: &Created) -> bool {
    let Ok(value) = created.resolve(&change.value, false) else { return false };
    let apply = direction == Direction::Apply;
    match change.action {
        Action::Add => change.field.has_member(scene, &value) == apply,
        Action::Remove => change.field.has_member(scene, &value) != apply,
        Action::Set => same_value(&change.field.current(scene), if apply { &value } else { &change.before }),
        Action::Create => false,
    }
}

fn settled(change: &Change, status: ChangeStatus, error: Option<String>, created_id: Option<i64>) -> Settled {
    Settled { change_id: change.id, status, error, created_id, stash_now: None }
}

fn list_of(field: Field) -> Option<SceneList> {
    match field {
        Field::Tags => Some(SceneList::Tags),
        Field::Performers => Some(SceneList::Performers),
        Field::Urls => Some(SceneList::Urls),
        Field::Galleries => Some(SceneList::Galleries),
        _ => None,
    }
}

fn scalar_of(field: Field) -> Option<SceneScalar> {
    Some(match field {
        Field::Title => SceneScalar::Title,
        Field::Code => SceneScalar::Code,
        Field::Details => SceneScalar::Details,
        Field::Director => SceneScalar::Director,
        Field::Date => SceneScalar::Date,
        Field::Rating100 => SceneScalar::Rating100,
        Field::Organized => SceneScalar::Organized,
        Field::Studio => SceneScalar::Studio,
        Field::StashIds => SceneScalar::StashIds,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stash::Scene;

    fn change(id: i64, scene: i64, action: Action, tag: i64) -> Change {
        Change {
            id,
            entity: ObjectKind::Scene,
            entity_id: Some(scene),
            field: Field::Tags,
            action,
            value: json!(tag),
            before: json!([]),
            reason: String::new(),
            confidence: 1.0,
            status: ChangeStatus::Approved,
            error: None,
            created_id: None,
            stash_now: None,
        }
    }

    fn edits(changes: &[(i64, ListEdit, i64)]) -> BTreeMap<i64, SceneEdits> {
        let mut scenes: BTreeMap<i64, SceneEdits> = BTreeMap::new();
        for (i, (scene, edit, tag)) in changes.iter().enumerate() {
            let action = if *edit == ListEdit::Add { Action::Add } else { Action::Remove };
            let c = change(i as i64, *scene, action, *tag);
            scenes.entry(*scene).or_default().push(SceneList::Tags, *edit, json!(tag), c);
        }
        scenes
    }

    fn groups(pending: &Pending) -> &[ListGroup] {
        match &pending.write {
            StashWrite::EditLists { groups, .. } => groups,
            _ => &[],
        }
    }

    #[test]
    fn each_scene_gets_one_update_shared_by_scenes_with_the_same_edits() {
        use ListEdit::Add;
        let scenes = edits(&[(1, Add, 10), (1, Add, 11), (2, Add, 10), (2, Add, 11), (3, Add, 10)]);
        let requests = pack(ObjectKind::Scene, scenes, 500);
        assert_eq!(requests.len(), 1);
        let groups = groups(&requests[0]);
        assert_eq!(groups.len(), 2, "{{10, 11}} for scenes 1 and 2, {{10}} for scene 3");
        assert!(groups.iter().any(|g| g.ids == [1, 2] && g.edits[0].members == [json!(10), json!(11)]));
        assert_eq!(requests[0].changes.len(), 5);
    }

    #[test]
    fn a_scene_gaining_and_losing_in_one_list_gets_two_updates_and_requests_respect_their_limits() {
        let scenes = edits(&[(1, ListEdit::Add, 10), (1, ListEdit::Remove, 11)]);
        let requests = pack(ObjectKind::Scene, scenes, 500);
        assert_eq!(groups(&requests[0]).len(), 2, "one bulkSceneUpdate takes one mode per list");
        // 100 scenes, each its own tag set: 40 aliases per request at most, 30 scenes at most.
        let scenes = edits(&(0..100).map(|i| (i, ListEdit::Add, i)).collect::<Vec<_>>());
        let sizes: Vec<usize> = pack(ObjectKind::Scene, scenes, 30).iter().map(|p| groups(p).len()).collect();
        assert_eq!(sizes, [30, 30, 30, 10]);
        let scenes = edits(&(0..100).map(|i| (i, ListEdit::Add, i)).collect::<Vec<_>>());
        let sizes: Vec<usize> = pack(ObjectKind::Scene, scenes, 500).iter().map(|p| groups(p).len()).collect();
        assert_eq!(sizes, [40, 40, 20]);
    }

    fn scene(tags: &[i64], title: &str) -> Scene {
        Scene { id: 1, tag_ids: tags.to_vec(), title: Some(title.into()), ..Scene::default() }
    }

    #[test]
    fn a_reference_resolves_to_the_id_its_create_made() {
        let mut created = Created::default();
        created.record(7, 4242);
        assert_eq!(created.resolve(&json!({"created": 7}), false), Ok(json!(4242)));
        assert_eq!(created.resolve(&json!(12), false), Ok(json!(12)), "a plain id stays as it is");
        let text = json!({"created": 7, "name": "x"});
        assert_eq!(created.resolve(&text, false), Ok(text.clone()), "only a lone `created` key is a reference");
    }

    #[test]
    fn an_unresolved_reference_fails_the_change_with_its_reason_but_a_dry_run_shows_a_placeholder() {
        let created = Created::default();
        let error = created.resolve(&json!({"created": 9}), false).unwrap_err();
        assert_eq!(error, "what it refers to was not created (change 9 was not applied)");
        assert_eq!(created.resolve(&json!({"created": 9}), true), Ok(json!("<created by change 9>")));
    }

    #[test]
    fn a_lost_answer_counts_as_landed_only_when_stash_shows_the_effect() {
        let created = Created::default();
        let add = change(1, 1, Action::Add, 10);
        assert!(landed(&add, &scene(&[10], ""), Direction::Apply, &created), "the tag is there: ADD landed");
        assert!(!landed(&add, &scene(&[], ""), Direction::Apply, &created), "not there: send it again");
        assert!(landed(&add, &scene(&[], ""), Direction::Rollback, &created), "rolled back: the tag is gone");
        let remove = change(2, 1, Action::Remove, 10);
        assert!(landed(&remove, &scene(&[], ""), Direction::Apply, &created));
        assert!(!landed(&remove, &scene(&[10], ""), Direction::Apply, &created));
        assert!(landed(&remove, &scene(&[10], ""), Direction::Rollback, &created));
        let set = Change {
            field: Field::Title,
            action: Action::Set,
            value: json!("New"),
            before: json!("Old"),
            ..change(3, 1, Action::Set, 0)
        };
        assert!(landed(&set, &scene(&[], "New"), Direction::Apply, &created));
        assert!(!landed(&set, &scene(&[], "Old"), Direction::Apply, &created));
        assert!(landed(&set, &scene(&[], "Old"), Direction::Rollback, &created));
    }

    #[test]
    fn a_lost_answer_with_a_reference_checks_the_created_id() {
        let mut created = Created::default();
        let add = Change { value: json!({"created": 5}), ..change(6, 1, Action::Add, 0) };
        assert!(!landed(&add, &scene(&[77], ""), Direction::Apply, &created), "never created: cannot have landed");
        created.record(5, 77);
        assert!(landed(&add, &scene(&[77], ""), Direction::Apply, &created));
        assert!(!landed(&add, &scene(&[78], ""), Direction::Apply, &created));
    }

    #[test]
    fn a_batch_never_exceeds_batch_size_scenes_even_when_they_share_edits() {
        // 25 scenes with the same edits, 10 per request: one shared update split across requests.
        let scenes = edits(&(0..25).map(|i| (i, ListEdit::Add, 10)).collect::<Vec<_>>());
        let requests = pack(ObjectKind::Scene, scenes, 10);
        let scenes_per_request: Vec<usize> =
            requests.iter().map(|p| groups(p).iter().map(|g| g.ids.len()).sum()).collect();
        assert_eq!(scenes_per_request, [10, 10, 5]);
        assert!(requests.iter().all(|p| groups(p).len() == 1), "the same edits: one aliased update each");
        assert_eq!(requests.iter().map(|p| p.changes.len()).sum::<usize>(), 25, "every change in exactly one request");
    }
}
