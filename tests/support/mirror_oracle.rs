//! The mirror test's oracle: the fake Stash's library and StashHog's mirror, each in one JSON
//! shape, compared field by field. It reads the mirror's tables directly (not through the
//! binary) so that a bug in StashHog's own reading cannot hide a bug in its writing.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde_json::{Value, json};

use super::env::TestEnv;
use super::fake_stash::{Library, StashId};

fn stash_ids(ids: &[StashId]) -> Value {
    let mut v: Vec<Value> = ids.iter().map(|s| json!({"endpoint": s.endpoint, "stash_id": s.stash_id})).collect();
    v.sort_by_key(|v| v.to_string());
    json!(v)
}

fn sorted(ids: &[u64]) -> Value {
    let mut ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    ids.sort_unstable();
    json!(ids)
}

/// The fake's library in the mirror's shape.
pub fn expected(lib: &Library) -> Value {
    let tags: BTreeMap<String, Value> = lib
        .tags
        .values()
        .map(|t| {
            (t.id.to_string(), json!({"name": t.name, "sort_name": t.sort_name, "aliases": t.aliases,
                "ignore_auto_tag": t.ignore_auto_tag, "stash_ids": stash_ids(&t.stash_ids), "updated_at": t.updated_at}))
        })
        .collect();
    let performers: BTreeMap<String, Value> = lib
        .performers
        .values()
        .map(|p| {
            (
                p.id.to_string(),
                json!({"name": p.name, "disambiguation": p.disambiguation, "aliases": p.alias_list,
                "stash_ids": stash_ids(&p.stash_ids), "updated_at": p.updated_at}),
            )
        })
        .collect();
    let studios: BTreeMap<String, Value> = lib
        .studios
        .values()
        .map(|s| {
            (
                s.id.to_string(),
                json!({"name": s.name, "aliases": s.aliases, "parent_id": s.parent_id,
                "stash_ids": stash_ids(&s.stash_ids), "updated_at": s.updated_at}),
            )
        })
        .collect();
    let scenes: BTreeMap<String, Value> = lib
        .scenes
        .values()
        .map(|s| {
            let files: Vec<Value> = s
                .files
                .iter()
                .map(|f| json!({"path": f.path, "fingerprints": f.fingerprints.iter().map(|p| json!({"kind": p.kind, "value": p.value})).collect::<Vec<_>>(),
                    "width": f.width, "height": f.height, "duration": f.duration, "frame_rate": f.frame_rate}))
                .collect();
            (s.id.to_string(), json!({"title": s.title, "code": s.code, "details": s.details, "director": s.director,
                "urls": s.urls, "date": s.date, "rating100": s.rating100, "organized": s.organized,
                "studio_id": s.studio_id, "files": files, "created_at": s.created_at, "updated_at": s.updated_at,
                "tags": sorted(&s.tag_ids), "performers": sorted(&s.performer_ids), "stash_ids": stash_ids(&s.stash_ids)}))
        })
        .collect();
    json!({"tags": tags, "performers": performers, "studios": studios, "scenes": scenes})
}

/// The mirror's content, read straight from its tables.
pub fn mirrored(env: &TestEnv) -> Value {
    let db = Connection::open(env.db_path()).expect("the database exists");
    let parse = |text: String| serde_json::from_str::<Value>(&text).expect("JSON column");
    let rows =
        |sql: &str, row: &dyn Fn(&rusqlite::Row) -> rusqlite::Result<(String, Value)>| -> BTreeMap<String, Value> {
            let mut statement = db.prepare(sql).expect("prepares");
            statement.query_map([], |r| row(r)).expect("queries").map(|r| r.expect("row")).collect()
        };
    let list = |sql: &str, id: i64| -> Vec<i64> {
        let mut statement = db.prepare(sql).expect("prepares");
        let mut v: Vec<i64> =
            statement.query_map([id], |r| r.get(0)).expect("queries").map(|r| r.expect("row")).collect();
        v.sort_unstable();
        v
    };
    let sort_json = |v: Value| {
        let mut items = v.as_array().cloned().unwrap_or_default();
        items.sort_by_key(|v| v.to_string());
        json!(items)
    };
    let tags = rows("SELECT id, name, sort_name, aliases, ignore_auto_tag, stash_ids, updated_at FROM tags", &|r| {
        Ok((
            r.get::<_, i64>(0)?.to_string(),
            json!({"name": r.get::<_, String>(1)?, "sort_name": r.get::<_, Option<String>>(2)?,
            "aliases": parse(r.get(3)?), "ignore_auto_tag": r.get::<_, bool>(4)?, "stash_ids": sort_json(parse(r.get(5)?)),
            "updated_at": r.get::<_, String>(6)?}),
        ))
    });
    let performers = rows("SELECT id, name, disambiguation, aliases, stash_ids, updated_at FROM performers", &|r| {
        Ok((
            r.get::<_, i64>(0)?.to_string(),
            json!({"name": r.get::<_, String>(1)?, "disambiguation": r.get::<_, Option<String>>(2)?,
            "aliases": parse(r.get(3)?), "stash_ids": sort_json(parse(r.get(4)?)), "updated_at": r.get::<_, String>(5)?}),
        ))
    });
    let studios = rows("SELECT id, name, aliases, parent_id, stash_ids, updated_at FROM studios", &|r| {
        Ok((
            r.get::<_, i64>(0)?.to_string(),
            json!({"name": r.get::<_, String>(1)?, "aliases": parse(r.get(2)?),
            "parent_id": r.get::<_, Option<i64>>(3)?, "stash_ids": sort_json(parse(r.get(4)?)), "updated_at": r.get::<_, String>(5)?}),
        ))
    });
    let mut scenes = rows(
        "SELECT id, title, code, details, director, urls, date, rating100, organized, studio_id, files, created_at, updated_at FROM scenes",
        &|r| {
            Ok((
                r.get::<_, i64>(0)?.to_string(),
                json!({"title": r.get::<_, Option<String>>(1)?, "code": r.get::<_, Option<String>>(2)?,
                "details": r.get::<_, Option<String>>(3)?, "director": r.get::<_, Option<String>>(4)?, "urls": parse(r.get(5)?),
                "date": r.get::<_, Option<String>>(6)?, "rating100": r.get::<_, Option<i64>>(7)?, "organized": r.get::<_, bool>(8)?,
                "studio_id": r.get::<_, Option<i64>>(9)?, "files": parse(r.get(10)?), "created_at": r.get::<_, String>(11)?,
                "updated_at": r.get::<_, String>(12)?}),
            ))
        },
    );
    for (id, scene) in scenes.iter_mut() {
        let id: i64 = id.parse().expect("numeric id");
        scene["tags"] = json!(list("SELECT tag_id FROM scene_tags WHERE scene_id = ?1", id));
        scene["performers"] = json!(list("SELECT performer_id FROM scene_performers WHERE scene_id = ?1", id));
        let mut statement =
            db.prepare("SELECT endpoint, stash_id FROM scene_stash_ids WHERE scene_id = ?1").expect("prepares");
        let ids: Vec<Value> = statement
            .query_map([id], |r| Ok(json!({"endpoint": r.get::<_, String>(0)?, "stash_id": r.get::<_, String>(1)?})))
            .expect("queries")
            .map(|r| r.expect("row"))
            .collect();
        scene["stash_ids"] = sort_json(json!(ids));
    }
    json!({"tags": tags, "performers": performers, "studios": studios, "scenes": scenes})
}

/// Panics naming the first differences when the mirror is not the fake Stash's library.
#[track_caller]
pub fn assert_mirror_equals_stash(env: &TestEnv) {
    let want = env.stash.lib(|l| expected(l));
    let got = mirrored(env);
    for kind in ["tags", "performers", "studios", "scenes"] {
        let (w, g) = (&want[kind], &got[kind]);
        if w != g {
            let w = w.as_object().cloned().unwrap_or_default();
            let g = g.as_object().cloned().unwrap_or_default();
            let missing: Vec<_> = w.keys().filter(|k| !g.contains_key(*k)).take(5).collect();
            let extra: Vec<_> = g.keys().filter(|k| !w.contains_key(*k)).take(5).collect();
            let differ: Vec<_> = w
                .iter()
                .filter(|(k, v)| g.get(*k).is_some_and(|gv| gv != *v))
                .take(2)
                .map(|(k, v)| (k, v, &g[k]))
                .collect();
            panic!(
                "mirror differs from Stash in {kind}: missing {missing:?}, extra {extra:?}, differing (id, stash, mirror) {differ:?}"
            );
        }
    }
}

/// The record of a full sync under way (or stopped), as StashHog keeps it in `sync_state`.
pub fn stopped_pass(db: &Connection) -> Option<Value> {
    let text: String =
        db.query_row("SELECT value FROM sync_state WHERE key = 'full_sync.pass'", [], |r| r.get(0)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The last scene id the full sync under way committed: its checkpoint.
pub fn scene_checkpoint(db: &Connection) -> Option<i64> {
    let pass = stopped_pass(db)?;
    let checkpoint = pass.get("checkpoint")?;
    (checkpoint["kind"] == "scene").then(|| checkpoint["after"].as_i64()).flatten()
}
