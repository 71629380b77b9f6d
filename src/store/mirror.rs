//! The mirror tables: Stash's scenes, images, galleries, tags, performers and studios as of
//! the last sync.
//!
//! Writes come in pages, each page one short IMMEDIATE transaction (an IMMEDIATE transaction
//! waits for another writer instead of failing with "database is locked" when it upgrades), and
//! a row never goes back in time: an older copy of a scene (a page read before a hook wrote a
//! newer one) only marks the row as seen.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rusqlite::types::Value;
use rusqlite::vtab::array::Array;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde_json::json;

use super::{Store, StoreError};
use crate::stash::{Gallery, Image, ObjectKind, Performer, Scene, StashId, Studio, Tag};

/// How many rows of each kind the mirror holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Scenes.
    pub scenes: u64,
    /// Tags.
    pub tags: u64,
    /// Performers.
    pub performers: u64,
    /// Studios.
    pub studios: u64,
    /// Images.
    pub images: u64,
    /// Galleries.
    pub galleries: u64,
}

/// What the mirror holds of a row about to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// No such row.
    Nothing,
    /// A copy as old as the one being written, or older.
    Older,
    /// A newer copy (a hook wrote it after the page being written was read).
    Newer,
}

/// The statements of one of a scene's link tables.
struct Links {
    /// The scene's links, in the order of their sorted values.
    read: &'static str,
    /// Removes all the scene's links.
    clear: &'static str,
    /// Adds links.
    insert: &'static str,
}

const TAG_LINKS: Links = Links {
    read: "SELECT tag_id FROM scene_tags WHERE scene_id = ?1 ORDER BY tag_id",
    clear: "DELETE FROM scene_tags WHERE scene_id = ?1",
    insert: "INSERT OR IGNORE INTO scene_tags (scene_id, tag_id) SELECT ?1, value FROM rarray(?2)",
};

const PERFORMER_LINKS: Links = Links {
    read: "SELECT performer_id FROM scene_performers WHERE scene_id = ?1 ORDER BY performer_id",
    clear: "DELETE FROM scene_performers WHERE scene_id = ?1",
    insert: "INSERT OR IGNORE INTO scene_performers (scene_id, performer_id) SELECT ?1, value FROM rarray(?2)",
};

// NULL sorts first in SQL as `None` does in Rust, and text compares bytewise in both.
const STASH_ID_LINKS: Links = Links {
    read: "SELECT endpoint, stash_id, updated_at FROM scene_stash_ids WHERE scene_id = ?1
           ORDER BY endpoint, stash_id, updated_at",
    clear: "DELETE FROM scene_stash_ids WHERE scene_id = ?1",
    insert: "INSERT OR IGNORE INTO scene_stash_ids (scene_id, endpoint, stash_id, updated_at) VALUES (?1, ?2, ?3, ?4)",
};

/// One write transaction on the mirror.
pub struct MirrorWriter<'a> {
    tx: Transaction<'a>,
    /// Our clock when the transaction started: the `mirrored_at` of every row it writes (read
    /// once, not once per row).
    now: String,
    /// What the mirror holds of the page being written, read in one query (see
    /// [`MirrorWriter::expect`]).
    page: RefCell<Option<HeldPage>>,
}

/// The `updated_at` of every row of one kind between two ids, as the mirror holds them.
struct HeldPage {
    kind: ObjectKind,
    ids: std::ops::RangeInclusive<i64>,
    updated_at: HashMap<i64, String>,
}

/// A list as the JSON text a column holds. Lists of ids, strings and plain records always
/// serialize; the empty list stands in for what cannot happen.
fn json_text<T: Serialize + ?Sized>(list: &T) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

/// A StashID as the `stash_ids` column of tags, performers and studios holds it.
#[derive(Serialize)]
struct StashIdJson<'a> {
    endpoint: &'a str,
    stash_id: &'a str,
}

fn stash_ids_json(ids: &[StashId]) -> String {
    json_text(&ids.iter().map(|s| StashIdJson { endpoint: &s.endpoint, stash_id: &s.stash_id }).collect::<Vec<_>>())
}

/// A scene's file as the `files` column holds it (keys in the order the column always had).
#[derive(Serialize)]
struct FileJson<'a> {
    duration: f64,
    fingerprints: Vec<FingerprintJson<'a>>,
    frame_rate: f64,
    height: i64,
    path: &'a str,
    width: i64,
}

#[derive(Serialize)]
struct FingerprintJson<'a> {
    kind: &'a str,
    value: &'a str,
}

fn files_json(files: &[crate::stash::SceneFile]) -> String {
    let files: Vec<FileJson<'_>> = files
        .iter()
        .map(|f| FileJson {
            duration: f.duration,
            fingerprints: f.fingerprints.iter().map(|p| FingerprintJson { kind: &p.kind, value: &p.value }).collect(),
            frame_rate: f.frame_rate,
            height: f.height,
            path: &f.path,
            width: f.width,
        })
        .collect();
    json_text(&files)
}

impl MirrorWriter<'_> {
    /// Reads in one query what the mirror holds of the objects of `kind` with these ids, which
    /// are about to be written: a page of a walk, whose ids lie close together. Ids spread
    /// wide (a page of changes across the whole library) are left to be looked up one by one.
    pub fn expect(&self, kind: ObjectKind, ids: impl Iterator<Item = i64> + Clone) -> Result<(), StoreError> {
        let count = ids.clone().count() as i64;
        let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) else { return Ok(()) };
        if last - first >= count * 4 {
            *self.page.borrow_mut() = None;
            return Ok(());
        }
        let sql = format!("SELECT id, updated_at FROM {} WHERE id BETWEEN ?1 AND ?2", kind.plural());
        let updated_at = self
            .tx
            .prepare_cached(&sql)?
            .query_map([first, last], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        *self.page.borrow_mut() = Some(HeldPage { kind, ids: first..=last, updated_at });
        Ok(())
    }

    /// What the mirror holds of this row compared with a copy last updated at `updated_at`; a
    /// newer row is only marked seen by `pass`.
    fn held(&self, kind: ObjectKind, id: i64, updated_at: &str, pass: Option<i64>) -> Result<Held, StoreError> {
        let compare = |current: Option<&str>| match current {
            None => Held::Nothing,
            Some(current) if current > updated_at => Held::Newer,
            Some(_) => Held::Older,
        };
        let mut page = self.page.borrow_mut();
        let held = match page.as_mut().filter(|p| p.kind == kind && p.ids.contains(&id)) {
            Some(page) => {
                let held = compare(page.updated_at.get(&id).map(String::as_str));
                // The row is written next: the same id again in this page finds it.
                if held != Held::Newer {
                    page.updated_at.insert(id, updated_at.to_owned());
                }
                held
            }
            None => {
                let sql = format!("SELECT updated_at FROM {} WHERE id = ?1", kind.plural());
                let current: Option<String> = self.tx.prepare_cached(&sql)?.query_row([id], |r| r.get(0)).optional()?;
                compare(current.as_deref())
            }
        };
        if held == Held::Newer && pass.is_some() {
            let sql = format!("UPDATE {} SET seen_pass = ?2 WHERE id = ?1", kind.plural());
            self.tx.prepare_cached(&sql)?.execute(params![id, pass])?;
        }
        Ok(held)
    }

    /// Whether the mirror holds a newer copy of this row than `updated_at`; if so the row is
    /// only marked seen by `pass`.
    fn keeps_newer(&self, kind: ObjectKind, id: i64, updated_at: &str, pass: Option<i64>) -> Result<bool, StoreError> {
        Ok(self.held(kind, id, updated_at, pass)? == Held::Newer)
    }

    /// Makes `scene`'s links in `links` exactly `wanted`. A scene the mirror did not hold has
    /// none yet (its links go when it goes, see [`MirrorWriter::delete`]); one it held keeps
    /// links that did not change, so a sync of an unchanged library rewrites none.
    fn put_links<T: Ord>(
        &self,
        links: &Links,
        scene: i64,
        mut wanted: Vec<T>,
        held: bool,
        read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        insert: impl FnOnce(&mut rusqlite::CachedStatement<'_>, &[T]) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        wanted.sort_unstable();
        wanted.dedup();
        if held {
            let current: Vec<T> =
                self.tx.prepare_cached(links.read)?.query_map([scene], |r| read(r))?.collect::<Result<_, _>>()?;
            if current == wanted {
                return Ok(());
            }
            self.tx.prepare_cached(links.clear)?.execute([scene])?;
        }
        if !wanted.is_empty() {
            insert(&mut self.tx.prepare_cached(links.insert)?, &wanted)?;
        }
        Ok(())
    }

    /// Writes a tag.
    pub fn put_tag(&self, t: &Tag, pass: Option<i64>) -> Result<(), StoreError> {
        if self.keeps_newer(ObjectKind::Tag, t.id, &t.updated_at, pass)? {
            return Ok(());
        }
        self.tx
            .prepare_cached(
                "INSERT INTO tags (id, name, sort_name, aliases, ignore_auto_tag, stash_ids, updated_at, mirrored_at, seen_pass)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, sort_name = excluded.sort_name,
                   aliases = excluded.aliases, ignore_auto_tag = excluded.ignore_auto_tag,
                   stash_ids = excluded.stash_ids, updated_at = excluded.updated_at,
                   mirrored_at = excluded.mirrored_at, seen_pass = COALESCE(excluded.seen_pass, seen_pass)",
            )?
            .execute(params![
                t.id,
                t.name,
                t.sort_name,
                json_text(&t.aliases),
                t.ignore_auto_tag,
                stash_ids_json(&t.stash_ids),
                t.updated_at,
                self.now,
                pass
            ])?;
        Ok(())
    }

    /// Writes a performer.
    pub fn put_performer(&self, p: &Performer, pass: Option<i64>) -> Result<(), StoreError> {
        if self.keeps_newer(ObjectKind::Performer, p.id, &p.updated_at, pass)? {
            return Ok(());
        }
        self.tx
            .prepare_cached(
                "INSERT INTO performers (id, name, disambiguation, aliases, stash_ids, updated_at, mirrored_at, seen_pass, urls)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, disambiguation = excluded.disambiguation,
                   aliases = excluded.aliases, stash_ids = excluded.stash_ids, updated_at = excluded.updated_at,
                   urls = excluded.urls,
                   mirrored_at = excluded.mirrored_at, seen_pass = COALESCE(excluded.seen_pass, seen_pass)",
            )?
            .execute(params![
                p.id,
                p.name,
                p.disambiguation,
                json_text(&p.aliases),
                stash_ids_json(&p.stash_ids),
                p.updated_at,
                self.now,
                pass,
                json_text(&p.urls)
            ])?;
        Ok(())
    }

    /// Writes a studio.
    pub fn put_studio(&self, s: &Studio, pass: Option<i64>) -> Result<(), StoreError> {
        if self.keeps_newer(ObjectKind::Studio, s.id, &s.updated_at, pass)? {
            return Ok(());
        }
        self.tx
            .prepare_cached(
                "INSERT INTO studios (id, name, aliases, parent_id, stash_ids, updated_at, mirrored_at, seen_pass)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases,
                   parent_id = excluded.parent_id, stash_ids = excluded.stash_ids, updated_at = excluded.updated_at,
                   mirrored_at = excluded.mirrored_at, seen_pass = COALESCE(excluded.seen_pass, seen_pass)",
            )?
            .execute(params![
                s.id,
                s.name,
                json_text(&s.aliases),
                s.parent_id,
                stash_ids_json(&s.stash_ids),
                s.updated_at,
                self.now,
                pass
            ])?;
        Ok(())
    }

    /// Writes a scene with its tags, performers and StashIDs.
    pub fn put_scene(&self, s: &Scene, pass: Option<i64>) -> Result<(), StoreError> {
        let held = match self.held(ObjectKind::Scene, s.id, &s.updated_at, pass)? {
            Held::Newer => return Ok(()),
            Held::Older => true,
            Held::Nothing => false,
        };
        self.tx
            .prepare_cached(
                "INSERT INTO scenes (id, title, code, details, director, urls, date, rating100, organized, studio_id,
                   files, created_at, updated_at, mirrored_at, seen_pass, gallery_ids)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, code = excluded.code,
                   details = excluded.details, director = excluded.director, urls = excluded.urls,
                   date = excluded.date, rating100 = excluded.rating100, organized = excluded.organized,
                   studio_id = excluded.studio_id, files = excluded.files, created_at = excluded.created_at,
                   updated_at = excluded.updated_at, mirrored_at = excluded.mirrored_at,
                   seen_pass = COALESCE(excluded.seen_pass, seen_pass), gallery_ids = excluded.gallery_ids",
            )?
            .execute(params![
                s.id,
                s.title,
                s.code,
                s.details,
                s.director,
                json_text(&s.urls),
                s.date,
                s.rating100,
                s.organized,
                s.studio_id,
                files_json(&s.files),
                s.created_at,
                s.updated_at,
                self.now,
                pass,
                json_text(&s.gallery_ids)
            ])?;
        let id = |r: &rusqlite::Row<'_>| r.get::<_, i64>(0);
        // All of a scene's tags (performers) in one statement: a statement costs more than a row.
        let insert_ids = |statement: &mut rusqlite::CachedStatement<'_>, ids: &[i64]| {
            let ids: Array = Rc::new(ids.iter().map(|&id| Value::Integer(id)).collect());
            statement.execute(params![s.id, ids]).map(drop)
        };
        self.put_links(&TAG_LINKS, s.id, s.tag_ids.clone(), held, id, insert_ids)?;
        self.put_links(&PERFORMER_LINKS, s.id, s.performer_ids.clone(), held, id, insert_ids)?;
        let stash_ids = s.stash_ids.iter().map(|i| (i.endpoint.clone(), i.stash_id.clone(), i.updated_at.clone()));
        self.put_links(
            &STASH_ID_LINKS,
            s.id,
            stash_ids.collect(),
            held,
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            |statement, links| {
                links.iter().try_for_each(|(endpoint, stash_id, updated_at)| {
                    statement.execute(params![s.id, endpoint, stash_id, updated_at]).map(drop)
                })
            },
        )?;
        Ok(())
    }

    /// Writes an image.
    pub fn put_image(&self, i: &Image, pass: Option<i64>) -> Result<(), StoreError> {
        if self.keeps_newer(ObjectKind::Image, i.id, &i.updated_at, pass)? {
            return Ok(());
        }
        self.tx
            .prepare_cached(
                "INSERT INTO images (id, title, code, details, photographer, urls, date, rating100, organized,
                   studio_id, paths, performer_ids, tag_ids, gallery_ids, created_at, updated_at, mirrored_at, seen_pass)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, code = excluded.code,
                   details = excluded.details, photographer = excluded.photographer, urls = excluded.urls,
                   date = excluded.date, rating100 = excluded.rating100, organized = excluded.organized,
                   studio_id = excluded.studio_id, paths = excluded.paths, performer_ids = excluded.performer_ids,
                   tag_ids = excluded.tag_ids, gallery_ids = excluded.gallery_ids, created_at = excluded.created_at,
                   updated_at = excluded.updated_at, mirrored_at = excluded.mirrored_at,
                   seen_pass = COALESCE(excluded.seen_pass, seen_pass)",
            )?
            .execute(params![
                i.id,
                i.title,
                i.code,
                i.details,
                i.photographer,
                json_text(&i.urls),
                i.date,
                i.rating100,
                i.organized,
                i.studio_id,
                json_text(&i.paths),
                json_text(&i.performer_ids),
                json_text(&i.tag_ids),
                json_text(&i.gallery_ids),
                i.created_at,
                i.updated_at,
                self.now,
                pass
            ])?;
        Ok(())
    }

    /// Writes a gallery.
    pub fn put_gallery(&self, g: &Gallery, pass: Option<i64>) -> Result<(), StoreError> {
        if self.keeps_newer(ObjectKind::Gallery, g.id, &g.updated_at, pass)? {
            return Ok(());
        }
        self.tx
            .prepare_cached(
                "INSERT INTO galleries (id, title, code, details, photographer, urls, date, rating100, organized,
                   studio_id, path, image_count, performer_ids, tag_ids, created_at, updated_at, mirrored_at, seen_pass)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, code = excluded.code,
                   details = excluded.details, photographer = excluded.photographer, urls = excluded.urls,
                   date = excluded.date, rating100 = excluded.rating100, organized = excluded.organized,
                   studio_id = excluded.studio_id, path = excluded.path, image_count = excluded.image_count,
                   performer_ids = excluded.performer_ids, tag_ids = excluded.tag_ids,
                   created_at = excluded.created_at, updated_at = excluded.updated_at,
                   mirrored_at = excluded.mirrored_at, seen_pass = COALESCE(excluded.seen_pass, seen_pass)",
            )?
            .execute(params![
                g.id,
                g.title,
                g.code,
                g.details,
                g.photographer,
                json_text(&g.urls),
                g.date,
                g.rating100,
                g.organized,
                g.studio_id,
                g.path,
                g.image_count,
                json_text(&g.performer_ids),
                json_text(&g.tag_ids),
                g.created_at,
                g.updated_at,
                self.now,
                pass
            ])?;
        Ok(())
    }

    /// Removes objects that no longer exist in Stash (a scene's links go with it).
    pub fn delete(&self, kind: ObjectKind, ids: &[i64]) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        *self.page.borrow_mut() = None;
        // One statement per table for all the ids: links are not indexed by what they point
        // to, so each unlink is one scan, whatever the number of ids.
        let ids = json!(ids).to_string();
        let deleted = self
            .tx
            .prepare_cached(&format!("DELETE FROM {} WHERE id IN (SELECT value FROM json_each(?1))", kind.plural()))?
            .execute([&ids])?;
        // Stash drops a deleted tag, performer or studio from its scenes without touching their
        // updated_at: the mirror's links go the same way, or no sync would ever notice.
        // Images and galleries keep their links as JSON lists: the ids leave the list.
        let drop_from = |table: &str, column: &str| {
            format!(
                "UPDATE {table} SET {column} = (SELECT json_group_array(value) FROM json_each({table}.{column})
                   WHERE value NOT IN (SELECT value FROM json_each(?1)))
                 WHERE EXISTS (SELECT 1 FROM json_each({table}.{column}) WHERE value IN (SELECT value FROM json_each(?1)))"
            )
        };
        let unlink: Vec<String> = match kind {
            ObjectKind::Tag => vec![
                "DELETE FROM scene_tags WHERE tag_id IN (SELECT value FROM json_each(?1))".into(),
                drop_from("images", "tag_ids"),
                drop_from("galleries", "tag_ids"),
            ],
            ObjectKind::Performer => vec![
                "DELETE FROM scene_performers WHERE performer_id IN (SELECT value FROM json_each(?1))".into(),
                drop_from("images", "performer_ids"),
                drop_from("galleries", "performer_ids"),
            ],
            ObjectKind::Studio => ["scenes", "images", "galleries"]
                .map(|table| {
                    format!("UPDATE {table} SET studio_id = NULL WHERE studio_id IN (SELECT value FROM json_each(?1))")
                })
                .to_vec(),
            ObjectKind::Gallery => vec![drop_from("images", "gallery_ids"), drop_from("scenes", "gallery_ids")],
            // A scene's own links go with it.
            ObjectKind::Scene => ["scene_tags", "scene_performers", "scene_stash_ids"]
                .map(|table| format!("DELETE FROM {table} WHERE scene_id IN (SELECT value FROM json_each(?1))"))
                .to_vec(),
            ObjectKind::Image => Vec::new(),
        };
        for sql in unlink {
            self.tx.prepare_cached(&sql)?.execute([&ids])?;
        }
        Ok(deleted)
    }

    /// Sets a sync_state value.
    pub fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
            .execute([key, value])?;
        Ok(())
    }

    /// Removes a sync_state value.
    pub fn clear_state(&self, key: &str) -> Result<(), StoreError> {
        self.tx.prepare_cached("DELETE FROM sync_state WHERE key = ?1")?.execute([key])?;
        Ok(())
    }
}

/// What a full-sync pass saw of one kind (see [`Store::seen_by_pass`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenByPass {
    /// Rows the mirror holds.
    pub held: u64,
    /// Of those, rows the pass saw or something wrote since it started.
    pub seen: u64,
}

impl Store {
    /// Runs `write` in one IMMEDIATE transaction, committed when it returns Ok.
    pub fn write_mirror<T>(&self, write: impl FnOnce(&MirrorWriter) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let now = tx.query_row(concat!("SELECT ", now_sql!()), [], |r| r.get(0))?;
        let writer = MirrorWriter { tx, now, page: RefCell::new(None) };
        let value = write(&writer)?;
        writer.tx.commit()?;
        Ok(value)
    }

    /// A sync_state value.
    pub fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Rows per kind.
    pub fn mirror_counts(&self) -> Result<Counts, StoreError> {
        let count = |kind: ObjectKind| -> Result<u64, StoreError> {
            let n: i64 = self.conn.query_row(&format!("SELECT COUNT(*) FROM {}", kind.plural()), [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok(Counts {
            scenes: count(ObjectKind::Scene)?,
            tags: count(ObjectKind::Tag)?,
            performers: count(ObjectKind::Performer)?,
            studios: count(ObjectKind::Studio)?,
            images: count(ObjectKind::Image)?,
            galleries: count(ObjectKind::Gallery)?,
        })
    }

    /// How many rows of `kind` the mirror holds, and how many of them full-sync pass `pass` saw
    /// or were written since `since` (by hooks or syncs running beside the pass).
    pub fn seen_by_pass(&self, kind: ObjectKind, pass: i64, since: &str) -> Result<SeenByPass, StoreError> {
        let sql =
            format!("SELECT COUNT(*), COALESCE(SUM(seen_pass IS ?1 OR mirrored_at >= ?2), 0) FROM {}", kind.plural());
        let (total, seen): (i64, i64) =
            self.conn.query_row(&sql, params![pass, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(SeenByPass { held: u64::try_from(total).unwrap_or(0), seen: u64::try_from(seen).unwrap_or(0) })
    }

    /// Ids of `kind` that pass `pass` did not see and nothing wrote since `since`.
    pub fn unseen_by_pass(&self, kind: ObjectKind, pass: i64, since: &str) -> Result<Vec<i64>, StoreError> {
        let sql =
            format!("SELECT id FROM {} WHERE seen_pass IS NOT ?1 AND mirrored_at < ?2 ORDER BY id", kind.plural());
        let mut statement = self.conn.prepare(&sql)?;
        let ids = statement.query_map(params![pass, since], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Every id of `kind` in the mirror, ascending.
    pub fn mirrored_ids(&self, kind: ObjectKind) -> Result<Vec<i64>, StoreError> {
        let mut statement = self.conn.prepare(&format!("SELECT id FROM {} ORDER BY id", kind.plural()))?;
        let ids = statement.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Scenes in the mirror that carry any of these tags, ascending (one scan of the links).
    pub fn scenes_with_tags(&self, tag_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if tag_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT DISTINCT scene_id FROM scene_tags WHERE tag_id IN (SELECT value FROM json_each(?1)) ORDER BY scene_id",
        )?;
        let scenes = statement.query_map([json!(tag_ids).to_string()], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(scenes)
    }

    /// How many mirrored scenes carry an `updated_at` after `after` (compared as text, as
    /// Stash compares it).
    pub fn scenes_updated_after(&self, after: &str) -> Result<u64, StoreError> {
        let mut statement = self.conn.prepare_cached("SELECT COUNT(*) FROM scenes WHERE updated_at > ?1")?;
        Ok(statement.query_row([after], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64)?)
    }

    /// Our clock, in the form `mirrored_at` uses.
    pub fn now(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row(concat!("SELECT ", now_sql!()), [], |r| r.get(0))?)
    }
}

/// Reading the mirror: what tasks use instead of asking Stash.
impl Store {
    /// Every mirrored tag.
    pub fn mirrored_tags(&self) -> Result<Vec<Tag>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, name, sort_name, aliases, ignore_auto_tag, updated_at, stash_ids FROM tags ORDER BY id",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(Tag {
                id: r.get(0)?,
                name: r.get(1)?,
                sort_name: r.get(2)?,
                aliases: json_list(r.get(3)?),
                ignore_auto_tag: r.get(4)?,
                updated_at: r.get(5)?,
                stash_ids: stash_ids_from(&r.get::<_, String>(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every mirrored performer.
    pub fn mirrored_performers(&self) -> Result<Vec<Performer>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, name, disambiguation, aliases, updated_at, stash_ids, urls FROM performers ORDER BY id",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(Performer {
                id: r.get(0)?,
                name: r.get(1)?,
                disambiguation: r.get(2)?,
                aliases: json_list(r.get(3)?),
                urls: json_list(r.get(6)?),
                updated_at: r.get(4)?,
                stash_ids: stash_ids_from(&r.get::<_, String>(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every mirrored studio.
    pub fn mirrored_studios(&self) -> Result<Vec<Studio>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, name, aliases, parent_id, updated_at, stash_ids FROM studios ORDER BY id")?;
        let rows = statement.query_map([], |r| {
            Ok(Studio {
                id: r.get(0)?,
                name: r.get(1)?,
                aliases: json_list(r.get(2)?),
                parent_id: r.get(3)?,
                updated_at: r.get(4)?,
                stash_ids: stash_ids_from(&r.get::<_, String>(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The mirrored images with these ids, in id order; ids the mirror lacks are skipped.
    pub fn mirrored_images(&self, ids: &[i64]) -> Result<Vec<Image>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, title, code, details, photographer, urls, date, rating100, organized, studio_id, paths,
                    performer_ids, tag_ids, gallery_ids, created_at, updated_at FROM images WHERE id = ?1",
        )?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut images = Vec::with_capacity(ids.len());
        for id in ids {
            let found = statement
                .query_row([id], |r| {
                    Ok(Image {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        code: r.get(2)?,
                        details: r.get(3)?,
                        photographer: r.get(4)?,
                        urls: json_list(r.get(5)?),
                        date: r.get(6)?,
                        rating100: r.get(7)?,
                        organized: r.get(8)?,
                        studio_id: r.get(9)?,
                        paths: json_list(r.get(10)?),
                        performer_ids: json_ids(r.get(11)?),
                        tag_ids: json_ids(r.get(12)?),
                        gallery_ids: json_ids(r.get(13)?),
                        created_at: r.get(14)?,
                        updated_at: r.get(15)?,
                    })
                })
                .optional()?;
            images.extend(found);
        }
        Ok(images)
    }

    /// Every mirrored gallery, in id order (a library has far fewer galleries than images).
    pub fn mirrored_galleries(&self) -> Result<Vec<Gallery>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, title, code, details, photographer, urls, date, rating100, organized, studio_id, path,
                    image_count, performer_ids, tag_ids, created_at, updated_at FROM galleries ORDER BY id",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(Gallery {
                id: r.get(0)?,
                title: r.get(1)?,
                code: r.get(2)?,
                details: r.get(3)?,
                photographer: r.get(4)?,
                urls: json_list(r.get(5)?),
                date: r.get(6)?,
                rating100: r.get(7)?,
                organized: r.get(8)?,
                studio_id: r.get(9)?,
                path: r.get(10)?,
                image_count: r.get(11)?,
                performer_ids: json_ids(r.get(12)?),
                tag_ids: json_ids(r.get(13)?),
                created_at: r.get(14)?,
                updated_at: r.get(15)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The mirrored scenes with these ids, in id order; ids the mirror lacks are skipped.
    pub fn mirrored_scenes(&self, ids: &[i64]) -> Result<Vec<Scene>, StoreError> {
        let mut scene = self.conn.prepare_cached(
            "SELECT id, title, code, details, director, urls, date, rating100, organized, studio_id, files,
                    created_at, updated_at, gallery_ids FROM scenes WHERE id = ?1",
        )?;
        let mut tags = self.conn.prepare_cached("SELECT tag_id FROM scene_tags WHERE scene_id = ?1 ORDER BY tag_id")?;
        let mut performers = self
            .conn
            .prepare_cached("SELECT performer_id FROM scene_performers WHERE scene_id = ?1 ORDER BY performer_id")?;
        let mut stash_ids = self.conn.prepare_cached(
            "SELECT endpoint, stash_id, updated_at FROM scene_stash_ids WHERE scene_id = ?1 ORDER BY endpoint, stash_id",
        )?;
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut scenes = Vec::with_capacity(ids.len());
        for id in ids {
            let found = scene
                .query_row([id], |r| {
                    Ok(Scene {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        code: r.get(2)?,
                        details: r.get(3)?,
                        director: r.get(4)?,
                        urls: json_list(r.get(5)?),
                        date: r.get(6)?,
                        rating100: r.get(7)?,
                        organized: r.get(8)?,
                        studio_id: r.get(9)?,
                        files: files_from(&r.get::<_, String>(10)?),
                        created_at: r.get(11)?,
                        updated_at: r.get(12)?,
                        performer_ids: Vec::new(),
                        tag_ids: Vec::new(),
                        stash_ids: Vec::new(),
                        gallery_ids: json_ids(r.get(13)?),
                    })
                })
                .optional()?;
            let Some(mut found) = found else { continue };
            found.tag_ids = tags.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
            found.performer_ids = performers.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
            found.stash_ids = stash_ids
                .query_map([id], |r| Ok(StashId { endpoint: r.get(0)?, stash_id: r.get(1)?, updated_at: r.get(2)? }))?
                .collect::<Result<_, _>>()?;
            scenes.push(found);
        }
        Ok(scenes)
    }
}

/// Which scenes an analysis looks at; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct SceneScope {
    /// Only these scenes.
    pub ids: Option<Vec<i64>>,
    /// Only scenes with a file whose path contains this text (ASCII case-insensitive).
    pub path: Option<String>,
    /// Only scenes carrying one of these tags.
    pub tag_ids: Option<Vec<i64>>,
    /// Only scenes Stash updated strictly after this time (compared as text, like Stash).
    pub updated_after: Option<String>,
    /// Organized scenes too (the user said they are done, so by default they are left alone).
    pub include_organized: bool,
    /// At most this many, lowest ids first.
    pub limit: Option<usize>,
}

/// Analysis reads: choosing the scenes to analyze.
impl Store {
    /// The ids of the mirrored scenes in `scope`, ascending.
    pub fn scenes_in_scope(&self, scope: &SceneScope) -> Result<Vec<i64>, StoreError> {
        use rusqlite::types::Value as Sql;
        let mut sql = String::from("SELECT id FROM scenes s WHERE 1 = 1");
        let mut values: Vec<Sql> = Vec::new();
        if !scope.include_organized {
            sql.push_str(" AND organized = 0");
        }
        if let Some(ids) = &scope.ids {
            sql.push_str(&format!(" AND id IN (SELECT value FROM json_each(?{}))", values.len() + 1));
            values.push(Sql::Text(json!(ids).to_string()));
        }
        if let Some(path) = &scope.path {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM json_each(s.files) f
                   WHERE instr(lower(json_extract(f.value, '$.path')), lower(?{})) > 0)",
                values.len() + 1
            ));
            values.push(Sql::Text(path.clone()));
        }
        if let Some(tags) = &scope.tag_ids {
            sql.push_str(&format!(
                " AND id IN (SELECT scene_id FROM scene_tags WHERE tag_id IN (SELECT value FROM json_each(?{})))",
                values.len() + 1
            ));
            values.push(Sql::Text(json!(tags).to_string()));
        }
        if let Some(after) = &scope.updated_after {
            sql.push_str(&format!(" AND updated_at > ?{}", values.len() + 1));
            values.push(Sql::Text(after.clone()));
        }
        sql.push_str(" ORDER BY id");
        if let Some(limit) = scope.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut statement = self.conn.prepare(&sql)?;
        let ids = statement.query_map(rusqlite::params_from_iter(values), |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Stash's newest `updated_at` among the mirrored scenes: the mark "changed since the last
    /// analysis" is measured from.
    pub fn newest_scene_update(&self) -> Result<Option<String>, StoreError> {
        Ok(self.conn.query_row("SELECT MAX(updated_at) FROM scenes", [], |r| r.get(0))?)
    }
}

fn json_ids(text: String) -> Vec<i64> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn json_list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn stash_ids_from(text: &str) -> Vec<StashId> {
    let list: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    list.iter()
        .map(|v| StashId {
            endpoint: v["endpoint"].as_str().unwrap_or_default().to_owned(),
            stash_id: v["stash_id"].as_str().unwrap_or_default().to_owned(),
            updated_at: None,
        })
        .collect()
}

fn files_from(text: &str) -> Vec<crate::stash::SceneFile> {
    let list: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    list.iter()
        .map(|f| crate::stash::SceneFile {
            path: f["path"].as_str().unwrap_or_default().to_owned(),
            fingerprints: f["fingerprints"]
                .as_array()
                .map(|fps| {
                    fps.iter()
                        .map(|p| crate::stash::Fingerprint {
                            kind: p["kind"].as_str().unwrap_or_default().to_owned(),
                            value: p["value"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            // Rows mirrored before these were copied read as unknown (0).
            width: f["width"].as_i64().unwrap_or(0),
            height: f["height"].as_i64().unwrap_or(0),
            duration: f["duration"].as_f64().unwrap_or(0.0),
            frame_rate: f["frame_rate"].as_f64().unwrap_or(0.0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stash::{Fingerprint, SceneFile};

    #[test]
    fn a_scene_reads_back_as_written() {
        let dir = std::env::temp_dir().join(format!("stashhog-mirror-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("db.sqlite")).expect("opens");
        let scene = Scene {
            id: 7,
            title: Some("T".into()),
            code: None,
            details: Some("d".into()),
            director: None,
            urls: vec!["u".into()],
            date: Some("2024-01-02".into()),
            rating100: Some(60),
            organized: true,
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-02T00:00:00Z".into(),
            files: vec![SceneFile {
                path: "/p.mp4".into(),
                fingerprints: vec![Fingerprint { kind: "phash".into(), value: "ab".into() }],
                width: 1920,
                height: 1080,
                duration: 612.5,
                frame_rate: 29.97,
            }],
            studio_id: Some(3),
            performer_ids: vec![1, 2],
            tag_ids: vec![4, 5],
            stash_ids: vec![StashId { endpoint: "e".into(), stash_id: "s".into(), updated_at: Some("x".into()) }],
            gallery_ids: vec![9],
        };
        store.write_mirror(|w| w.put_scene(&scene, None)).expect("writes");
        assert_eq!(store.mirrored_scenes(&[7, 8]).expect("reads"), vec![scene]);
        // An older copy never overwrites a newer one.
        let older = Scene {
            title: Some("old".into()),
            updated_at: "2023-01-01T00:00:00Z".into(),
            ..store.mirrored_scenes(&[7]).expect("reads")[0].clone()
        };
        store.write_mirror(|w| w.put_scene(&older, Some(1))).expect("writes");
        assert_eq!(store.mirrored_scenes(&[7]).expect("reads")[0].title.as_deref(), Some("T"));
    }

    fn linked_scene(id: i64, tag_ids: Vec<i64>) -> Scene {
        Scene {
            id,
            title: None,
            code: None,
            details: None,
            director: None,
            urls: Vec::new(),
            date: None,
            rating100: None,
            organized: false,
            created_at: "2024-01-01T00:00:00Z".into(),
            updated_at: "2024-01-01T00:00:00Z".into(),
            files: Vec::new(),
            studio_id: None,
            performer_ids: vec![3],
            tag_ids,
            stash_ids: vec![StashId { endpoint: "e".into(), stash_id: format!("s{id}"), updated_at: None }],
            gallery_ids: Vec::new(),
        }
    }

    #[test]
    fn a_page_read_at_once_still_keeps_newer_rows() {
        let dir = std::env::temp_dir().join(format!("stashhog-mirror-page-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("db.sqlite")).expect("opens");
        let newer =
            Scene { title: Some("hook".into()), updated_at: "2025-01-01T00:00:00Z".into(), ..linked_scene(7, vec![1]) };
        store.write_mirror(|w| w.put_scene(&newer, None)).expect("writes");
        let page =
            [linked_scene(6, vec![2]), linked_scene(7, vec![2]), linked_scene(8, vec![2]), linked_scene(8, vec![3])];
        store
            .write_mirror(|w| {
                w.expect(ObjectKind::Scene, page.iter().map(|s| s.id))?;
                page.iter().try_for_each(|s| w.put_scene(s, Some(1)))
            })
            .expect("writes");
        let scenes = store.mirrored_scenes(&[6, 7, 8]).expect("reads");
        let got: Vec<(i64, Option<&str>, &[i64])> =
            scenes.iter().map(|s| (s.id, s.title.as_deref(), s.tag_ids.as_slice())).collect();
        assert_eq!(got, vec![(6, None, &[2][..]), (7, Some("hook"), &[1][..]), (8, None, &[3][..])]);
    }

    #[test]
    fn links_follow_their_scene_and_tag_out_of_the_mirror() {
        let dir = std::env::temp_dir().join(format!("stashhog-mirror-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("db.sqlite")).expect("opens");
        let links = |scene: i64| -> i64 {
            ["scene_tags", "scene_performers", "scene_stash_ids"]
                .iter()
                .map(|t| -> i64 {
                    let sql = format!("SELECT COUNT(*) FROM {t} WHERE scene_id = ?1");
                    store.conn.query_row(&sql, [scene], |r| r.get(0)).expect("counts")
                })
                .sum()
        };
        store
            .write_mirror(|w| {
                w.put_scene(&linked_scene(7, vec![5, 4, 5]), Some(1))?;
                w.put_scene(&linked_scene(8, vec![5]), Some(1))
            })
            .expect("writes");
        assert_eq!(store.mirrored_scenes(&[7]).expect("reads")[0].tag_ids, vec![4, 5]);
        assert_eq!(store.scenes_with_tags(&[5, 9]).expect("reads"), vec![7, 8]);

        // The same scene again with other tags: the links are replaced, not added to.
        store.write_mirror(|w| w.put_scene(&linked_scene(7, vec![6]), Some(2))).expect("writes");
        assert_eq!(store.mirrored_scenes(&[7]).expect("reads")[0].tag_ids, vec![6]);

        store.write_mirror(|w| w.delete(ObjectKind::Scene, &[7])).expect("deletes");
        assert_eq!(links(7), 0, "a deleted scene leaves no links behind");
        store.write_mirror(|w| w.put_scene(&linked_scene(7, Vec::new()), None)).expect("writes");
        assert_eq!(store.mirrored_scenes(&[7]).expect("reads")[0].tag_ids, Vec::<i64>::new());

        store.write_mirror(|w| w.delete(ObjectKind::Tag, &[5, 6])).expect("deletes");
        assert_eq!(store.mirrored_scenes(&[8]).expect("reads")[0].tag_ids, Vec::<i64>::new());
        assert_eq!(store.scenes_with_tags(&[5]).expect("reads"), Vec::<i64>::new());
        store.write_mirror(|w| w.delete(ObjectKind::Performer, &[3])).expect("deletes");
        assert_eq!(
            store.mirrored_scenes(&[7, 8]).expect("reads").iter().map(|s| s.performer_ids.len()).sum::<usize>(),
            0
        );
    }
}
