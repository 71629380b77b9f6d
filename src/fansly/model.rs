//! The scraper's data as plain values, and the two questions the import asks of it: which
//! media does a file in Stash belong to, and which posts and messages own that media.
//!
//! Ids are Fansly snowflakes; `account_media.id` ≠ `media.id`, and a bundle lists
//! `account_media` ids, not media ids: every join below names which id it follows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::FanslyError;
use super::names::{self, basename};
use super::source::{Connection, Era, Row};

/// A Fansly account: a creator, a mentioned account or the scraper's own user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Fansly account id.
    pub id: i64,
    /// Current handle.
    pub username: String,
    /// Display name, when set.
    pub display_name: Option<String>,
    /// Bio.
    pub about: Option<String>,
}

impl Account {
    /// The name fansly-scraper gives the performer: display name, else handle.
    pub fn performer_name(&self) -> &str {
        self.display_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&self.username)
    }

    /// `https://fansly.com/<username>`.
    pub(crate) fn profile_url(&self) -> String {
        format!("https://fansly.com/{}", self.username)
    }
}

/// A media row (an original, a preview, or a variant rendition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Fansly media id.
    pub id: i64,
    /// Uploader.
    pub account_id: i64,
    /// MIME type (`image/jpeg`, `video/mp4`, …).
    pub mimetype: Option<String>,
    /// Basename of the downloaded file, when the scraper recorded one.
    pub local_filename: Option<String>,
}

/// A post or a message: what becomes a gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemId {
    /// A timeline post.
    Post(i64),
    /// A direct message.
    Message(i64),
}

impl ItemId {
    /// The Fansly id (a gallery's code).
    pub fn id(self) -> i64 {
        match self {
            ItemId::Post(id) | ItemId::Message(id) => id,
        }
    }
}

/// A post or message with what the import shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Which.
    pub id: ItemId,
    /// The creator it is filed under: the author of a post, the creator of a conversation.
    pub creator_id: i64,
    /// Text, as written (hashtags and mentions included).
    pub content: String,
    /// UTC date `YYYY-MM-DD`; `None` for stub posts.
    pub date: Option<String>,
    /// The conversation of a message.
    pub group_id: Option<i64>,
    /// Deleted on Fansly (messages only; posts have no such flag).
    pub deleted: bool,
}

impl Item {
    /// The item's page: posts have a public URL; a message's is only visible to its recipient.
    pub fn url(&self) -> String {
        match (self.id, self.group_id) {
            (ItemId::Post(id), _) => format!("https://fansly.com/post/{id}"),
            (ItemId::Message(id), Some(group)) => format!("https://fansly.com/messages/{group}/{id}"),
            (ItemId::Message(id), None) => format!("https://fansly.com/messages/{id}"),
        }
    }
}

/// One attachment of an item, resolved to media: the media id of the file's owner row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attached {
    /// The media (`account_media.mediaId`, or a preview id).
    pub media_id: i64,
    /// Whether it is a preview (teaser) of the item's media, from the database.
    pub preview: bool,
}

/// Where a file found in Stash belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// Its media, and how it was recognised.
    Media {
        /// The media a post or message attaches (a variant's parent).
        media_id: i64,
        /// `name` (the recorded file name) or `id` (the id in the name).
        by: &'static str,
    },
    /// Not this library's file, or not linkable; the reason is for the summary.
    NotFound(NotFound),
}

/// Why a file did not lead to any media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotFound {
    /// The name carries no `_id_` and is not a recorded file name.
    NoIdInName,
    /// The id in the name is no media the database knows.
    UnknownMedia,
    /// The media is known but attached to no post or message (e.g. an orphan row from the
    /// scraper's 2025-10 → 2026-03 variant gap, an avatar, or `Collections/`).
    NoPostOrMessage,
}

/// What the import reads of the scraper's database.
#[derive(Debug, Default)]
pub struct Library {
    /// The era.
    pub era: Option<Era>,
    /// Accounts by id.
    pub accounts: HashMap<i64, Account>,
    /// Media rows by id.
    pub media: HashMap<i64, Media>,
    /// Posts and messages with media, by id.
    pub items: BTreeMap<ItemId, Item>,
    /// Each item's media in the order the item shows them.
    pub item_media: BTreeMap<ItemId, Vec<Attached>>,
    /// Hashtags of each post, lowercased, first-seen order.
    pub hashtags: HashMap<i64, Vec<String>>,
    /// Mentions of each post: handle, and the account when the scraper stored one.
    pub mentions: HashMap<i64, Vec<(String, Option<i64>)>>,
    /// Media id → the items that attach it (sorted: the earliest snowflake first).
    pub owners: HashMap<i64, Vec<(ItemId, bool)>>,
    /// Variant id → parent media id.
    variant_parent: HashMap<i64, i64>,
    /// Parent media id → its variants.
    variants_of: HashMap<i64, Vec<i64>>,
    /// Recorded basename → the media rows carrying it.
    by_name: HashMap<String, Vec<i64>>,
}

/// A guard against cycles of reposts.
const MAX_REPOST_DEPTH: usize = 4;

fn int(cell: &Option<String>) -> Option<i64> {
    let text = cell.as_deref()?.trim();
    text.parse().ok().or_else(|| text.parse::<f64>().ok().map(|f| f as i64))
}

fn text(cell: &Option<String>) -> Option<String> {
    cell.clone()
}

fn truthy(cell: &Option<String>) -> bool {
    matches!(cell.as_deref().map(str::trim), Some("1" | "t" | "true" | "TRUE" | "True"))
}

/// `YYYY-MM-DD` of a stored timestamp: SQLite text, PostgreSQL text in a UTC session, or
/// epoch seconds/milliseconds from a database converted by hand.
fn utc_date(cell: &Option<String>) -> Option<String> {
    let value = cell.as_deref()?.trim();
    let head = value.get(..10)?;
    let b = head.as_bytes();
    if b[4] == b'-' && b[7] == b'-' {
        return Some(head.to_string());
    }
    None
}

fn col(row: &Row, i: usize) -> &Option<String> {
    static NONE: Option<String> = None;
    row.get(i).unwrap_or(&NONE)
}

impl Library {
    /// Reads the database.
    pub fn read(connection: &mut Connection) -> Result<Library, FanslyError> {
        let mut library = Library { era: Some(connection.era()?), ..Library::default() };
        library.read_accounts(connection)?;
        library.read_media(connection)?;
        let account_media = read_account_media(connection)?;
        let bundles = read_bundles(connection)?;
        library.read_posts(connection)?;
        library.read_messages(connection)?;
        let attachments = read_attachments(connection)?;
        library.resolve_attachments(&attachments, &account_media, &bundles);
        library.read_hashtags(connection)?;
        library.read_mentions(connection)?;
        library.index_owners();
        Ok(library)
    }

    fn read_accounts(&mut self, c: &mut Connection) -> Result<(), FanslyError> {
        for row in c.rows(r#"SELECT CAST(id AS TEXT), username, "displayName", about FROM accounts"#)? {
            let Some(id) = int(col(&row, 0)) else { continue };
            let username = text(col(&row, 1)).unwrap_or_default();
            let account = Account { id, username, display_name: text(col(&row, 2)), about: text(col(&row, 3)) };
            self.accounts.insert(id, account);
        }
        Ok(())
    }

    fn read_media(&mut self, c: &mut Connection) -> Result<(), FanslyError> {
        let sql = r#"SELECT CAST(id AS TEXT), CAST("accountId" AS TEXT), mimetype, local_filename FROM media"#;
        for row in c.rows(sql)? {
            let Some(id) = int(col(&row, 0)) else { continue };
            let local_filename = text(col(&row, 3)).map(|n| basename(&n).to_string()).filter(|n| !n.is_empty());
            if let Some(name) = &local_filename {
                self.by_name.entry(name.clone()).or_default().push(id);
            }
            let media =
                Media { id, account_id: int(col(&row, 1)).unwrap_or(0), mimetype: text(col(&row, 2)), local_filename };
            self.media.insert(id, media);
        }
        if c.has_table("media_variants") {
            for row in c.rows(r#"SELECT CAST("mediaId" AS TEXT), CAST("variantId" AS TEXT) FROM media_variants"#)? {
                if let (Some(parent), Some(variant)) = (int(col(&row, 0)), int(col(&row, 1)))
                    && parent != variant
                {
                    self.variant_parent.entry(variant).or_insert(parent);
                    self.variants_of.entry(parent).or_default().push(variant);
                }
            }
        }
        Ok(())
    }

    fn read_posts(&mut self, c: &mut Connection) -> Result<(), FanslyError> {
        let sql =
            r#"SELECT CAST(id AS TEXT), CAST("accountId" AS TEXT), content, CAST("createdAt" AS TEXT) FROM posts"#;
        for row in c.rows(sql)? {
            let (Some(id), Some(creator_id)) = (int(col(&row, 0)), int(col(&row, 1))) else { continue };
            let item = Item {
                id: ItemId::Post(id),
                creator_id,
                content: text(col(&row, 2)).unwrap_or_default(),
                date: utc_date(col(&row, 3)),
                group_id: None,
                deleted: false,
            };
            self.items.insert(item.id, item);
        }
        Ok(())
    }

    fn read_messages(&mut self, c: &mut Connection) -> Result<(), FanslyError> {
        if !c.has_table("messages") {
            return Ok(());
        }
        let sql = r#"SELECT CAST(id AS TEXT), CAST("groupId" AS TEXT), CAST("senderId" AS TEXT), content,
                            CAST("createdAt" AS TEXT), CAST(deleted AS TEXT) FROM messages"#;
        for row in c.rows(sql)? {
            let Some(id) = int(col(&row, 0)) else { continue };
            let group_id = int(col(&row, 1));
            let sender = int(col(&row, 2)).unwrap_or(0);
            let item = Item {
                id: ItemId::Message(id),
                // Settled in `resolve_attachments`: the creator whose media the message carries
                // (a conversation also holds the scraper user's own messages).
                creator_id: sender,
                content: text(col(&row, 3)).unwrap_or_default(),
                date: utc_date(col(&row, 4)),
                group_id,
                deleted: truthy(col(&row, 5)),
            };
            self.items.insert(item.id, item);
        }
        Ok(())
    }
}

/// An `account_media` row: a creator's offer of one media, with its optional free preview.
#[derive(Debug, Clone, Copy)]
struct AccountMedia {
    account_id: i64,
    media_id: i64,
    preview_id: Option<i64>,
}

/// A bundle: its `account_media` ids in order, and its own preview.
#[derive(Debug, Clone, Default)]
struct Bundle {
    items: Vec<(i64, i64)>,
    preview_id: Option<i64>,
}

/// An attachment row, as stored.
#[derive(Debug, Clone)]
struct Attachment {
    item: ItemId,
    order: (i64, i64),
    kind: String,
    content_id: i64,
}

fn read_account_media(c: &mut Connection) -> Result<HashMap<i64, AccountMedia>, FanslyError> {
    let mut out = HashMap::new();
    if !c.has_table("account_media") {
        return Ok(out);
    }
    let sql = r#"SELECT CAST(id AS TEXT), CAST("accountId" AS TEXT), CAST("mediaId" AS TEXT), CAST("previewId" AS TEXT)
                 FROM account_media"#;
    for row in c.rows(sql)? {
        let (Some(id), Some(media_id)) = (int(col(&row, 0)), int(col(&row, 2))) else { continue };
        let account_id = int(col(&row, 1)).unwrap_or(0);
        out.insert(id, AccountMedia { account_id, media_id, preview_id: int(col(&row, 3)) });
    }
    Ok(out)
}

fn read_bundles(c: &mut Connection) -> Result<HashMap<i64, Bundle>, FanslyError> {
    let mut out: HashMap<i64, Bundle> = HashMap::new();
    if c.has_table("account_media_bundles") {
        for row in c.rows(r#"SELECT CAST(id AS TEXT), CAST("previewId" AS TEXT) FROM account_media_bundles"#)? {
            if let Some(id) = int(col(&row, 0)) {
                out.entry(id).or_default().preview_id = int(col(&row, 1));
            }
        }
    }
    if c.has_table("account_media_bundle_media") {
        let sql =
            "SELECT CAST(bundle_id AS TEXT), CAST(media_id AS TEXT), CAST(pos AS TEXT) FROM account_media_bundle_media";
        for row in c.rows(sql)? {
            if let (Some(bundle), Some(account_media)) = (int(col(&row, 0)), int(col(&row, 1))) {
                out.entry(bundle).or_default().items.push((int(col(&row, 2)).unwrap_or(0), account_media));
            }
        }
    }
    for bundle in out.values_mut() {
        bundle.items.sort_unstable();
    }
    Ok(out)
}

fn read_attachments(c: &mut Connection) -> Result<Vec<Attachment>, FanslyError> {
    let mut out = Vec::new();
    if !c.has_table("attachments") {
        return Ok(out);
    }
    let sql = r#"SELECT CAST(id AS TEXT), CAST("postId" AS TEXT), CAST("messageId" AS TEXT), CAST("contentId" AS TEXT),
                        CAST(pos AS TEXT), CAST("contentType" AS TEXT) FROM attachments"#;
    for row in c.rows(sql)? {
        let item = match (int(col(&row, 1)), int(col(&row, 2))) {
            (Some(post), _) => ItemId::Post(post),
            (None, Some(message)) => ItemId::Message(message),
            (None, None) => continue,
        };
        let Some(content_id) = int(col(&row, 3)) else { continue };
        let order = (int(col(&row, 4)).unwrap_or(0), int(col(&row, 0)).unwrap_or(0));
        // Migrated databases may hold the enum's number instead of its name.
        let kind = match text(col(&row, 5)).unwrap_or_default().trim() {
            "1" => "ACCOUNT_MEDIA".to_string(),
            "2" => "ACCOUNT_MEDIA_BUNDLE".to_string(),
            "8" => "AGGREGATED_POSTS".to_string(),
            other => other.to_ascii_uppercase(),
        };
        out.push(Attachment { item, order, kind, content_id });
    }
    out.sort_by_key(|a| (a.item, a.order));
    Ok(out)
}

impl Library {
    /// Resolves every item's attachments to media (through account media, bundles and reposts),
    /// keeps only items with media, and files each message under the creator whose media it
    /// carries.
    fn resolve_attachments(
        &mut self,
        attachments: &[Attachment],
        account_media: &HashMap<i64, AccountMedia>,
        bundles: &HashMap<i64, Bundle>,
    ) {
        let mut direct: BTreeMap<ItemId, Vec<&Attachment>> = BTreeMap::new();
        for attachment in attachments {
            direct.entry(attachment.item).or_default().push(attachment);
        }
        let mut resolved: BTreeMap<ItemId, (Vec<Attached>, Option<i64>)> = BTreeMap::new();
        for item in direct.keys() {
            let mut media = Vec::new();
            let mut offered_by = None;
            collect(*item, &direct, account_media, bundles, 0, &mut media, &mut offered_by);
            let mut seen = HashSet::new();
            media.retain(|m: &Attached| seen.insert(*m));
            if !media.is_empty() {
                resolved.insert(*item, (media, offered_by));
            }
        }
        self.items.retain(|id, _| resolved.contains_key(id));
        for (id, (media, offered_by)) in resolved {
            let Some(item) = self.items.get_mut(&id) else { continue };
            if let (ItemId::Message(_), Some(creator)) = (id, offered_by) {
                item.creator_id = creator;
            }
            self.item_media.insert(id, media);
        }
    }

    fn read_hashtags(&mut self, c: &mut Connection) -> Result<(), FanslyError> {
        if !(c.has_table("hashtags") && c.has_table("post_hashtags")) {
            return Ok(());
        }
        let sql = r#"SELECT CAST(ph."postId" AS TEXT), h.value FROM post_hashtags ph
                     JOIN hashtags h ON h.id = ph."hashtagId" ORDER BY ph."postId", h.id"#;
        for row in c.rows(sql)? {
            let (Some(post), Some(value)) = (int(col(&row, 0)), text(col(&row, 1))) else { continue };
            let value = value.trim().to_lowercase();
            let tags = self.hashtags.entry(post).or_default();
            if !value.is_empty() && !tags.contains(&value) {
                tags.push(value);
            }
        }
        Ok(())
    }

    fn read_mentions(&mut self, c: &mut Connection) -> Result<(), FanslyError> {
        if !c.has_table("post_mentions") {
            return Ok(());
        }
        let sql = r#"SELECT CAST("postId" AS TEXT), handle, CAST("accountId" AS TEXT) FROM post_mentions ORDER BY "postId", handle"#;
        for row in c.rows(sql)? {
            let (Some(post), Some(handle)) = (int(col(&row, 0)), text(col(&row, 1))) else { continue };
            let handle = handle.trim().trim_start_matches('@').to_string();
            if !handle.is_empty() {
                self.mentions.entry(post).or_default().push((handle, int(col(&row, 2))));
            }
        }
        Ok(())
    }

    fn index_owners(&mut self) {
        let mut owners: HashMap<i64, BTreeSet<(ItemId, bool)>> = HashMap::new();
        for (item, media) in &self.item_media {
            for m in media {
                owners.entry(m.media_id).or_default().insert((*item, m.preview));
            }
        }
        // The earliest snowflake first, posts and messages alike: it gives the file its metadata.
        self.owners = owners
            .into_iter()
            .map(|(media, set)| {
                let mut list: Vec<(ItemId, bool)> = set.into_iter().collect();
                list.sort_by_key(|(item, _)| (item.id(), *item));
                (media, list)
            })
            .collect();
    }

    /// The media a file belongs to, from its path as Stash has it: (1) the recorded file name of
    /// a media row or a variant row, (2) the same without a downloader-ng hash marker, (3) the id
    /// in the name as a media, variant or preview id. A variant leads to its parent; a row with
    /// no post or message is reported as such.
    pub fn locate(&self, path: &str) -> Located {
        let name = basename(path);
        let mut candidates: Vec<(i64, &'static str)> = Vec::new();
        for key in [name.to_string(), names::without_hash(name)] {
            for id in self.by_name.get(&key).into_iter().flatten() {
                candidates.push((*id, "name"));
            }
        }
        let parsed = names::parse(name);
        if let Some(parsed) = &parsed {
            candidates.push((parsed.id, "id"));
        }
        if candidates.is_empty() {
            return Located::NotFound(if parsed.is_none() { NotFound::NoIdInName } else { NotFound::UnknownMedia });
        }
        let mut known = false;
        for (id, by) in candidates {
            known |=
                self.media.contains_key(&id) || self.variant_parent.contains_key(&id) || self.owners.contains_key(&id);
            if let Some(media_id) = self.owning_media(id) {
                return Located::Media { media_id, by };
            }
        }
        Located::NotFound(if known { NotFound::NoPostOrMessage } else { NotFound::UnknownMedia })
    }

    /// The media an item attaches that this row stands for: itself, or the parent of a variant
    /// (variants of variants are followed a few steps).
    fn owning_media(&self, mut id: i64) -> Option<i64> {
        for _ in 0..3 {
            if self.owners.contains_key(&id) {
                return Some(id);
            }
            id = *self.variant_parent.get(&id)?;
        }
        None
    }

    /// Whether the scraper recorded a downloaded file for the media or one of its variants.
    pub(crate) fn has_file(&self, media_id: i64) -> bool {
        let recorded = |id: &i64| self.media.get(id).is_some_and(|m| m.local_filename.is_some());
        recorded(&media_id) || self.variants_of.get(&media_id).into_iter().flatten().any(recorded)
    }

    /// The creator's account.
    pub fn account(&self, id: i64) -> Option<&Account> {
        self.accounts.get(&id)
    }
}

/// Gathers an item's media in order, following bundles and reposts; `offered_by` learns the
/// account whose media it is.
fn collect(
    item: ItemId,
    direct: &BTreeMap<ItemId, Vec<&Attachment>>,
    account_media: &HashMap<i64, AccountMedia>,
    bundles: &HashMap<i64, Bundle>,
    depth: usize,
    out: &mut Vec<Attached>,
    offered_by: &mut Option<i64>,
) {
    let offer = |id: i64, out: &mut Vec<Attached>, offered_by: &mut Option<i64>| {
        if let Some(am) = account_media.get(&id) {
            offered_by.get_or_insert(am.account_id);
            out.push(Attached { media_id: am.media_id, preview: false });
            if let Some(preview) = am.preview_id.filter(|p| *p != am.media_id) {
                out.push(Attached { media_id: preview, preview: true });
            }
        }
    };
    for attachment in direct.get(&item).into_iter().flatten() {
        match attachment.kind.as_str() {
            "ACCOUNT_MEDIA" => offer(attachment.content_id, out, offered_by),
            "ACCOUNT_MEDIA_BUNDLE" => {
                let Some(bundle) = bundles.get(&attachment.content_id) else { continue };
                for (_, account_media_id) in &bundle.items {
                    offer(*account_media_id, out, offered_by);
                }
                if let Some(preview) = bundle.preview_id {
                    out.push(Attached { media_id: preview, preview: true });
                }
            }
            "AGGREGATED_POSTS" if depth < MAX_REPOST_DEPTH => {
                // A repost: the reposted post's media belong to this item's gallery too. Whose
                // media it is stays the reposting item's own question.
                let mut ignored = None;
                collect(
                    ItemId::Post(attachment.content_id),
                    direct,
                    account_media,
                    bundles,
                    depth + 1,
                    out,
                    &mut ignored,
                );
            }
            _ => {}
        }
    }
}
