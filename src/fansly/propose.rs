//! From fansly-scraper's metadata and the Stash library to the changes a careful person would
//! make: pure, so every rule is tested without a server.
//!
//! For each Stash scene or image whose file belongs to a creator's media: the post or message
//! that first published it (the earliest snowflake, as fansly-scraper decides) gives its title,
//! date, details and URL; the creator gives its performer and studio; the post's hashtags its
//! tags. Every post or message it appears in gets a gallery — found again by its code (the
//! post's or message's id, never by title and date: two posts of a day share a default title),
//! else a reviewable CREATE — and the scene or image joins each of them.
//! Only empty fields are filled with confidence; a value that differs is proposed at a lower
//! confidence with the old value shown; organized objects are left alone. Performers are found
//! by StashHog's recorded link, the profile URL, then exact name or alias — never by substring, so `anna` is not
//! `annabelle`. Missing performers, studios and tags become reviewable CREATEs.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::model::{Account, Item, ItemId, Library, Located, NotFound};
use crate::matching::TagMatcher;
use crate::plans::Target;
use crate::plans::{Action, ChangeStatus, CreatedRef, Creation, Field, FileIndex, NewChange};
use crate::stash::{Gallery, Image, ObjectKind, Performer, Scene, Studio, Tag};

/// How sure a change that fills an empty field, or adds a missing member, is.
pub(crate) const FILL: f64 = 0.9;
/// How sure a change that would replace a value the user (or another tool) set is.
pub(crate) const OVERWRITE: f64 = 0.4;
/// The parent studio fansly-scraper and FansDB file creator studios under.
pub(crate) const NETWORK_STUDIO: &str = "Fansly (network)";

/// The user's choices for an import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Creators to import, by username (empty: every creator with files in Stash).
    pub creators: Vec<String>,
    /// Only Stash files under this folder (empty: the whole library).
    pub stash_root: Option<String>,
    /// The tag previews get, when it exists (fansly-scraper uses `Trailer`).
    pub preview_tag: Option<String>,
    /// Propose CREATEs for hashtags no tag matches (else they are only counted).
    pub create_tags: bool,
}

/// What StashHog knows of the Stash library.
#[derive(Debug, Default)]
pub struct StashSide<'a> {
    /// Scenes (organized ones included: they are counted, never changed).
    pub scenes: &'a [Scene],
    /// Images (likewise).
    pub images: &'a [Image],
    /// Galleries: those whose code is a post's or message's id are that item's.
    pub galleries: &'a [Gallery],
    /// Performers.
    pub performers: &'a [Performer],
    /// Studios.
    pub studios: &'a [Studio],
    /// Tags.
    pub tags: &'a [Tag],
    /// Performers and studios earlier imports linked to Fansly accounts: `(account, performer)`
    /// and `(account, studio)`.
    pub performer_links: HashMap<i64, i64>,
    /// Creator studios by account.
    pub studio_links: HashMap<i64, i64>,
}

/// An entity a change refers to: one Stash has, or one the plan creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ref {
    Existing(i64),
    Created(FileIndex),
}

impl Ref {
    fn value(self) -> Value {
        match self {
            Ref::Existing(id) => json!(id),
            Ref::Created(index) => index.value(),
        }
    }
}

/// What the import proposes and what it saw.
#[derive(Debug, Default)]
pub struct Proposal {
    /// The changes, CREATEs first.
    pub changes: Vec<NewChange>,
    /// Counts for the summary.
    pub report: Report,
    /// Accounts matched to existing performers (to remember for the next import).
    pub performer_links: BTreeMap<i64, i64>,
    /// Accounts matched to existing creator studios.
    pub studio_links: BTreeMap<i64, i64>,
}

/// The summary a user acts on.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Creators with files in Stash, by username.
    pub creators: Vec<CreatorReport>,
    /// Posts and messages whose media Stash has.
    pub items_with_files: usize,
    /// Stash files recognised as a creator's media.
    pub files_matched: usize,
    /// Of those, images (photos).
    pub images_matched: usize,
    /// Galleries of posts and messages that Stash already has (found by their code).
    pub galleries_found: usize,
    /// Stash files with a scraper name that led to no usable media, by reason.
    pub files_not_matched: BTreeMap<&'static str, usize>,
    /// Downloaded media (per the scraper) that no Stash file matched, by likely reason.
    pub media_not_in_stash: BTreeMap<&'static str, usize>,
    /// Objects left alone because they are marked organized.
    pub organized_skipped: usize,
    /// Objects that already carry everything the import would set.
    pub unchanged: usize,
    /// Objects with at least one proposed change.
    pub to_change: usize,
    /// Changes that fill an empty field or add a missing member.
    pub fills: usize,
    /// Changes that would replace a value (proposed at lower confidence).
    pub overwrites: usize,
    /// CREATEs by kind.
    pub creates: BTreeMap<ObjectKind, usize>,
    /// Hashtags no tag matches, left out because creating tags is off.
    pub hashtags_left_out: Vec<String>,
    /// The preview tag named in the settings does not exist.
    pub preview_tag_missing: bool,
}

/// One creator's line of the summary.
#[derive(Debug, Default, Serialize)]
pub struct CreatorReport {
    /// Fansly handle (current).
    pub username: String,
    /// Fansly account id.
    pub account_id: i64,
    /// How the performer was found (`link`, `name`, `alias`) or `create`.
    pub performer: String,
    /// Files matched.
    pub files: usize,
}

/// A scene's, image's or gallery's values the import compares with.
struct Wanted {
    galleries: Vec<Ref>,
    title: String,
    date: Option<String>,
    details: Option<String>,
    code: String,
    urls: Vec<String>,
    performers: Vec<Ref>,
    studio: Ref,
    tags: Vec<Ref>,
    reason: String,
}

/// Builds the plan.
pub fn propose(fansly: &Library, stash: &StashSide, options: &Options) -> Proposal {
    let mut planner = Planner::new(fansly, stash, options);
    let mut matched_media: HashSet<i64> = HashSet::new();
    let mut creators_seen: BTreeMap<i64, usize> = BTreeMap::new();
    let mut items_seen: HashSet<ItemId> = HashSet::new();
    let scenes = stash.scenes.iter().map(|s| (s as &dyn Target, s.files.iter().map(|f| f.path.as_str()).collect()));
    let images = stash.images.iter().map(|i| (i as &dyn Target, i.paths.iter().map(String::as_str).collect()));
    let objects: Vec<(&dyn Target, Vec<&str>)> = scenes.chain(images).collect();
    for (object, paths) in objects {
        let Some((media_id, item, preview)) = planner.locate(&paths) else { continue };
        matched_media.insert(media_id);
        *creators_seen.entry(item.creator_id).or_default() += 1;
        items_seen.extend(fansly.owners.get(&media_id).into_iter().flatten().map(|(i, _)| *i));
        planner.proposal.report.files_matched += 1;
        if object.kind() == ObjectKind::Image {
            planner.proposal.report.images_matched += 1;
        }
        if object.organized() {
            planner.proposal.report.organized_skipped += 1;
            continue;
        }
        let mut wanted = planner.wanted(item, media_id, preview);
        wanted.galleries = planner.galleries_of(media_id);
        planner.diff(object, &wanted);
    }
    planner.proposal.report.items_with_files = items_seen.len();
    planner.report_missing(&matched_media, &creators_seen);
    for (account_id, files) in creators_seen {
        let username = fansly.account(account_id).map(|a| a.username.clone()).unwrap_or_else(|| account_id.to_string());
        let performer = planner.found_by.get(&account_id).cloned().unwrap_or_default();
        planner.proposal.report.creators.push(CreatorReport { username, account_id, performer, files });
    }
    planner.proposal
}

struct Planner<'a> {
    fansly: &'a Library,
    stash: &'a StashSide<'a>,
    options: &'a Options,
    tags: TagMatcher,
    creators: Option<HashSet<String>>,
    proposal: Proposal,
    performers: HashMap<i64, Ref>,
    mentioned: HashMap<String, Option<Ref>>,
    studios: HashMap<i64, Ref>,
    network: Option<Ref>,
    created_tags: HashMap<String, Ref>,
    preview_tag: Option<i64>,
    found_by: HashMap<i64, String>,
    /// Each post's or message's gallery, once decided.
    galleries: HashMap<ItemId, Ref>,
    /// Stash's galleries by code (the lowest id when several share one).
    gallery_codes: HashMap<&'a str, &'a Gallery>,
}

/// Stash's name comparison for performers and studios: ASCII letters fold, nothing else.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl<'a> Planner<'a> {
    fn new(fansly: &'a Library, stash: &'a StashSide<'a>, options: &'a Options) -> Self {
        let tags = TagMatcher::new(stash.tags, "", &[], &[]);
        let preview_tag =
            options.preview_tag.as_deref().filter(|t| !t.trim().is_empty()).map(|t| tags.find("", t).tag_id());
        let mut proposal = Proposal::default();
        proposal.report.preview_tag_missing = matches!(preview_tag, Some(None));
        let creators = (!options.creators.is_empty())
            .then(|| options.creators.iter().map(|c| c.trim().to_ascii_lowercase()).collect());
        Planner {
            fansly,
            stash,
            options,
            tags,
            creators,
            proposal,
            performers: HashMap::new(),
            mentioned: HashMap::new(),
            studios: HashMap::new(),
            network: None,
            created_tags: HashMap::new(),
            preview_tag: preview_tag.flatten(),
            found_by: HashMap::new(),
            galleries: HashMap::new(),
            gallery_codes: stash
                .galleries
                .iter()
                .rev()
                .filter_map(|g| g.code.as_deref().map(|code| (code.trim(), g)))
                .filter(|(code, _)| !code.is_empty())
                .collect(),
        }
    }

    fn selected(&self, creator: i64) -> bool {
        match &self.creators {
            None => true,
            Some(names) => {
                self.fansly.account(creator).is_some_and(|a| names.contains(&a.username.to_ascii_lowercase()))
            }
        }
    }

    /// The media a scene's or image's files belong to (the first file that leads anywhere), the
    /// item that gives it its metadata, and whether it is a preview.
    fn locate(&mut self, paths: &[&str]) -> Option<(i64, &'a Item, bool)> {
        let fansly = self.fansly;
        for path in paths {
            if !self.in_root(path) {
                continue;
            }
            match fansly.locate(path) {
                Located::Media { media_id, .. } => {
                    let owners = fansly.owners.get(&media_id).into_iter().flatten();
                    let first = owners
                        .filter_map(|(id, preview)| fansly.items.get(id).map(|item| (item, *preview)))
                        .find(|(item, _)| item.date.is_some() && self.selected(item.creator_id));
                    match first {
                        Some((item, preview)) => return Some((media_id, item, preview)),
                        None if self.creators.is_some() => {}
                        None => self.count_unmatched(NotFound::NoPostOrMessage),
                    }
                }
                // Most libraries hold far more than one scraper's files: a name without an id
                // is simply not the scraper's.
                Located::NotFound(NotFound::NoIdInName) => {}
                Located::NotFound(reason) => self.count_unmatched(reason),
            }
        }
        None
    }

    /// Whether a file is under the folder the user named (a whole path component: `/data/fansly`
    /// does not contain `/data/fansly2/…`; either separator).
    fn in_root(&self, path: &str) -> bool {
        let Some(root) = self.options.stash_root.as_deref().map(|r| r.trim_end_matches(['/', '\\'])) else {
            return true;
        };
        if root.is_empty() {
            return true;
        }
        path.strip_prefix(root).is_some_and(|rest| rest.starts_with(['/', '\\']))
    }

    fn count_unmatched(&mut self, reason: NotFound) {
        let key = match reason {
            NotFound::NoIdInName => "no_id_in_name",
            NotFound::UnknownMedia => "unknown_media_id",
            NotFound::NoPostOrMessage => "media_without_post_or_message",
        };
        *self.proposal.report.files_not_matched.entry(key).or_default() += 1;
    }

    /// What the object showing `media_id` should carry, from `item`.
    fn wanted(&mut self, item: &Item, media_id: i64, preview: bool) -> Wanted {
        let creator = self.fansly.account(item.creator_id).cloned().unwrap_or_else(|| Account {
            id: item.creator_id,
            username: item.creator_id.to_string(),
            display_name: None,
            about: None,
        });
        let performer = self.creator_performer(&creator);
        let studio = self.creator_studio(&creator);
        let mut performers = vec![performer];
        if let ItemId::Post(post) = item.id {
            for (handle, account) in self.fansly.mentions.get(&post).into_iter().flatten() {
                if let Some(found) = self.mentioned_performer(handle, *account)
                    && !performers.contains(&found)
                {
                    performers.push(found);
                }
            }
        }
        let mut tags = Vec::new();
        if let ItemId::Post(post) = item.id {
            for hashtag in self.fansly.hashtags.get(&post).into_iter().flatten() {
                if let Some(tag) = self.hashtag(hashtag)
                    && !tags.contains(&tag)
                {
                    tags.push(tag);
                }
            }
        }
        if preview
            && let Some(tag) = self.preview_tag.map(Ref::Existing)
            && !tags.contains(&tag)
        {
            tags.push(tag);
        }
        let date = item.date.clone();
        let kind = match item.id {
            ItemId::Post(_) => "post",
            ItemId::Message(_) => "message",
        };
        Wanted {
            galleries: Vec::new(),
            title: title(item, &creator),
            details: Some(item.content.trim().to_string()).filter(|c| !c.is_empty()),
            code: media_id.to_string(),
            // A message's page opens only for its recipient: fansly-scraper keeps it off scenes.
            urls: if kind == "post" { vec![item.url()] } else { Vec::new() },
            performers,
            studio,
            tags,
            reason: format!(
                "fansly {kind} {} of @{} ({}){}",
                item.id.id(),
                creator.username,
                date.as_deref().unwrap_or("undated"),
                if preview { ", preview" } else { "" }
            ),
            date,
        }
    }

    /// The creator's performer: the recorded link, else exactly one performer with the profile
    /// URL, else exactly one performer with the display
    /// name (or handle) as name, else exactly one with the handle as alias; else a CREATE.
    fn creator_performer(&mut self, account: &Account) -> Ref {
        if let Some(found) = self.performers.get(&account.id) {
            return *found;
        }
        let found = self.find_performer(account.id, Some(account.performer_name()), &account.username);
        let (found, how) = match found {
            Some((id, how)) => {
                self.proposal.performer_links.insert(account.id, id);
                (Ref::Existing(id), how)
            }
            None => {
                let creation = Creation {
                    name: account.performer_name().to_string(),
                    aliases: vec![account.username.clone()]
                        .into_iter()
                        .filter(|u| u != account.performer_name())
                        .collect(),
                    urls: vec![account.profile_url()],
                    details: account.about.clone().filter(|a| !a.trim().is_empty()),
                    ..Creation::default()
                };
                let index = self.create(
                    ObjectKind::Performer,
                    creation,
                    format!(
                        "fansly creator @{} ({}) has no performer in Stash",
                        account.username,
                        account.profile_url()
                    ),
                );
                (Ref::Created(index), "create")
            }
        };
        self.found_by.insert(account.id, how.to_string());
        self.performers.insert(account.id, found);
        found
    }

    fn find_performer(&self, account: i64, name: Option<&str>, handle: &str) -> Option<(i64, &'static str)> {
        let performers = self.stash.performers;
        if let Some(id) = self.stash.performer_links.get(&account)
            && performers.iter().any(|p| p.id == *id)
        {
            return Some((*id, "link"));
        }
        let only = |hits: Vec<i64>| if hits.len() == 1 { Some(hits[0]) } else { None };
        // The profile URL, as fansly-scraper writes it (`…/<username>`, formerly `…/<username>/posts`),
        // compared whole: `fansly.com/anna` is not `fansly.com/annabelle`.
        let profile = format!("https://fansly.com/{handle}");
        let is_profile = |url: &str| {
            let url = url.trim().trim_end_matches('/');
            let url = url.strip_suffix("/posts").unwrap_or(url);
            let url = url.strip_prefix("http://").map_or(url.to_string(), |rest| format!("https://{rest}"));
            let url = url.replacen("https://www.", "https://", 1);
            url.eq_ignore_ascii_case(&profile)
        };
        let by_url = performers.iter().filter(|p| p.urls.iter().any(|u| is_profile(u))).map(|p| p.id).collect();
        if let Some(id) = only(by_url) {
            return Some((id, "profile_url"));
        }
        for candidate in [name, Some(handle)].into_iter().flatten() {
            let by_name = performers.iter().filter(|p| same_name(&p.name, candidate)).map(|p| p.id).collect();
            if let Some(id) = only(by_name) {
                return Some((id, "name"));
            }
        }
        let by_alias =
            performers.iter().filter(|p| p.aliases.iter().any(|a| same_name(a, handle))).map(|p| p.id).collect();
        only(by_alias).map(|id| (id, "alias"))
    }

    /// A mentioned account's performer, only when Stash has it (never created: a mention is
    /// not proof the person appears).
    fn mentioned_performer(&mut self, handle: &str, account: Option<i64>) -> Option<Ref> {
        if let Some(found) = account.and_then(|a| self.performers.get(&a)) {
            return Some(*found);
        }
        let key = handle.to_ascii_lowercase();
        if let Some(found) = self.mentioned.get(&key) {
            return *found;
        }
        let stored = account.and_then(|a| self.fansly.account(a));
        let name = stored.map(Account::performer_name);
        let found = self.find_performer(account.unwrap_or(0), name, handle).map(|(id, _)| Ref::Existing(id));
        self.mentioned.insert(key, found);
        found
    }

    /// `<username> (Fansly)` under `Fansly (network)`: the recorded link, else by exact name or
    /// alias; else CREATEs (the network too, when missing).
    fn creator_studio(&mut self, account: &Account) -> Ref {
        if let Some(found) = self.studios.get(&account.id) {
            return *found;
        }
        let name = format!("{} (Fansly)", account.username);
        let studios = self.stash.studios;
        let linked =
            self.stash.studio_links.get(&account.id).filter(|id| studios.iter().any(|s| s.id == **id)).copied();
        let found = match linked.or_else(|| find_studio(studios, &name)) {
            Some(id) => {
                self.proposal.studio_links.insert(account.id, id);
                Ref::Existing(id)
            }
            None => {
                let network = self.network_studio();
                let creation = Creation {
                    name,
                    urls: vec![account.profile_url()],
                    parent: Some(network.value()),
                    ..Creation::default()
                };
                Ref::Created(self.create(
                    ObjectKind::Studio,
                    creation,
                    format!("the studio of fansly creator @{}, under {NETWORK_STUDIO}", account.username),
                ))
            }
        };
        self.studios.insert(account.id, found);
        found
    }

    fn network_studio(&mut self) -> Ref {
        if let Some(found) = self.network {
            return found;
        }
        let found = match find_studio(self.stash.studios, NETWORK_STUDIO) {
            Some(id) => Ref::Existing(id),
            None => Ref::Created(self.create(
                ObjectKind::Studio,
                Creation { name: NETWORK_STUDIO.into(), ..Creation::default() },
                "the parent studio of Fansly creator studios (FansDB's naming)".into(),
            )),
        };
        self.network = Some(found);
        found
    }

    /// A hashtag's tag, matched as the Tagger matches names; unmatched: a CREATE, or nothing.
    fn hashtag(&mut self, value: &str) -> Option<Ref> {
        if let Some(id) = self.tags.find("", value).tag_id() {
            return Some(Ref::Existing(id));
        }
        let key = value.to_ascii_lowercase();
        if let Some(found) = self.created_tags.get(&key) {
            return Some(*found);
        }
        if !self.options.create_tags {
            if !self.proposal.report.hashtags_left_out.contains(&key) {
                self.proposal.report.hashtags_left_out.push(key);
            }
            return None;
        }
        let creation = Creation { name: value.to_string(), ..Creation::default() };
        let index =
            self.create(ObjectKind::Tag, creation, format!("fansly hashtag #{value} matches no tag name or alias"));
        self.created_tags.insert(key, Ref::Created(index));
        Some(Ref::Created(index))
    }

    fn create(&mut self, entity: ObjectKind, creation: Creation, reason: String) -> FileIndex {
        *self.proposal.report.creates.entry(entity).or_default() += 1;
        self.proposal.changes.push(NewChange {
            entity,
            entity_id: None,
            field: Field::Name,
            action: Action::Create,
            value: creation.value(),
            before: Value::Null,
            reason,
            confidence: FILL,
            status: ChangeStatus::Pending,
        });
        FileIndex(self.proposal.changes.len() - 1)
    }

    /// The galleries of every post and message that shows `media_id` (fansly-scraper puts a
    /// shared media in each), made or found as needed.
    fn galleries_of(&mut self, media_id: i64) -> Vec<Ref> {
        let fansly = self.fansly;
        let mut galleries = Vec::new();
        for (id, _) in fansly.owners.get(&media_id).into_iter().flatten() {
            let Some(item) = fansly.items.get(id).filter(|i| i.date.is_some() && self.selected(i.creator_id)) else {
                continue;
            };
            let gallery = self.gallery(item);
            if !galleries.contains(&gallery) {
                galleries.push(gallery);
            }
        }
        galleries
    }

    /// A post's or message's gallery: the one whose code is the item's id (its fields brought
    /// up to date like a scene's, unless it is organized), else a CREATE with everything the
    /// item says.
    fn gallery(&mut self, item: &Item) -> Ref {
        if let Some(found) = self.galleries.get(&item.id) {
            return *found;
        }
        let mut wanted = self.wanted(item, item.id.id(), false);
        wanted.code = item.id.id().to_string();
        // The gallery carries the item's page, a message's too (as fansly-scraper does).
        wanted.urls = vec![item.url()];
        let found = match self.gallery_codes.get(wanted.code.as_str()).copied() {
            Some(gallery) => {
                self.proposal.report.galleries_found += 1;
                if !gallery.organized {
                    self.diff(gallery, &wanted);
                }
                Ref::Existing(gallery.id)
            }
            None => {
                let creation = Creation {
                    name: wanted.title.clone(),
                    urls: wanted.urls.clone(),
                    details: wanted.details.clone(),
                    code: Some(wanted.code.clone()),
                    date: wanted.date.clone(),
                    studio: Some(wanted.studio.value()),
                    performers: wanted.performers.iter().map(|p| p.value()).collect(),
                    tags: wanted.tags.iter().map(|t| t.value()).collect(),
                    ..Creation::default()
                };
                Ref::Created(self.create(ObjectKind::Gallery, creation, format!("the gallery of {}", wanted.reason)))
            }
        };
        self.galleries.insert(item.id, found);
        found
    }

    /// The changes that bring a scene, image or gallery to `wanted`.
    fn diff(&mut self, object: &dyn Target, wanted: &Wanted) {
        let before = self.proposal.changes.len();
        let (kind, id) = (object.kind(), object.id());
        let text = |field: Field| object.text(field).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
        let fields = [
            (Field::Title, Some(wanted.title.clone())),
            (Field::Date, wanted.date.clone()),
            (Field::Details, wanted.details.clone()),
            (Field::Code, Some(wanted.code.clone())),
        ];
        for (field, proposed) in fields {
            let Some(proposed) = proposed else { continue };
            self.set(kind, id, field, text(field).map(Value::from), Value::from(proposed), &wanted.reason);
        }
        let studio = object.studio_id().map(Value::from);
        self.set(kind, id, Field::Studio, studio, wanted.studio.value(), &wanted.reason);
        for url in &wanted.urls {
            if !object.urls().iter().any(|u| u == url) {
                self.add(kind, id, Field::Urls, json!(object.urls()), json!(url), &wanted.reason);
            }
        }
        let lists = [
            (Field::Performers, &wanted.performers),
            (Field::Tags, &wanted.tags),
            (Field::Galleries, &wanted.galleries),
        ];
        for (field, want) in lists.into_iter().filter(|(field, _)| field.applies_to(kind)) {
            let have = object.ids(field);
            for member in want {
                if matches!(member, Ref::Existing(id) if have.contains(id)) {
                    continue;
                }
                self.add(kind, id, field, json!(have), member.value(), &wanted.reason);
            }
        }
        // A gallery counts apart: it is not a file.
        if kind == ObjectKind::Gallery {
            return;
        }
        if self.proposal.changes.len() > before {
            self.proposal.report.to_change += 1;
        } else {
            self.proposal.report.unchanged += 1;
        }
    }

    /// A SET: nothing when equal; fill when empty; an overwrite at lower confidence otherwise.
    fn set(
        &mut self,
        entity: ObjectKind,
        id: i64,
        field: Field,
        current: Option<Value>,
        proposed: Value,
        reason: &str,
    ) {
        let (confidence, reason) = match &current {
            None => (FILL, reason.to_string()),
            Some(old) if *old == proposed => return,
            Some(old) => (OVERWRITE, format!("{reason}; would replace {old}")),
        };
        if confidence == FILL {
            self.proposal.report.fills += 1;
        } else {
            self.proposal.report.overwrites += 1;
        }
        self.proposal.changes.push(NewChange {
            entity,
            entity_id: Some(id),
            field,
            action: Action::Set,
            value: proposed,
            before: current.unwrap_or(Value::Null),
            reason,
            confidence,
            status: ChangeStatus::Pending,
        });
    }

    fn add(&mut self, entity: ObjectKind, id: i64, field: Field, before: Value, member: Value, reason: &str) {
        self.proposal.report.fills += 1;
        self.proposal.changes.push(NewChange {
            entity,
            entity_id: Some(id),
            field,
            action: Action::Add,
            value: member,
            before,
            reason: reason.to_string(),
            confidence: FILL,
            status: ChangeStatus::Pending,
        });
    }

    /// Media the scraper downloaded that no Stash file matched, with the likely reason.
    fn report_missing(&mut self, matched: &HashSet<i64>, creators_seen: &BTreeMap<i64, usize>) {
        let fansly = self.fansly;
        for (media_id, owners) in &fansly.owners {
            if matched.contains(media_id) {
                continue;
            }
            let Some(creator) = owners.iter().find_map(|(item, _)| fansly.items.get(item)).map(|i| i.creator_id) else {
                continue;
            };
            if !self.selected(creator) {
                continue;
            }
            let reason = if !fansly.has_file(*media_id) {
                // Never downloaded (no access, previews off), or a legacy name the scraper reset.
                "no_file_recorded_by_the_scraper"
            } else if !creators_seen.contains_key(&creator) {
                "creator_folder_not_in_stash_check_library_paths"
            } else {
                "not_scanned_by_stash_yet"
            };
            *self.proposal.report.media_not_in_stash.entry(reason).or_default() += 1;
        }
    }
}

fn find_studio(studios: &[Studio], name: &str) -> Option<i64> {
    studios
        .iter()
        .find(|s| same_name(&s.name, name))
        .or_else(|| studios.iter().find(|s| s.aliases.iter().any(|a| same_name(a, name))))
        .map(|s| s.id)
}

/// fansly-scraper's title rule: the first line of the text when it is 10–128 characters, its
/// first 125 and `...` when longer, else `<username> - YYYY/MM/DD`.
pub fn title(item: &Item, creator: &Account) -> String {
    let first = item.content.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let length = first.chars().count();
    if (10..=128).contains(&length) {
        first.to_string()
    } else if length > 128 {
        format!("{}...", first.chars().take(125).collect::<String>())
    } else {
        let date = item.date.as_deref().unwrap_or("").replace('-', "/");
        format!("{} - {date}", creator.username)
    }
}
