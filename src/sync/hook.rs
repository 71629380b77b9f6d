//! The hook refresh: one object (or, after a tag merge, the merged tags and their scenes)
//! re-read the moment Stash reports a change, so the mirror is fresh between syncs.

use anyhow::Context as _;
use serde_json::{Value, json};

use super::Sources;
use super::copy;
use super::kinds::MIRRORED;
use crate::protocol::input::HookContext;
use crate::stash::{ObjectKind, Scene, Tag};

/// Refreshes what a hook names: one scene, tag, performer or studio, or after a tag merge the
/// merged tags and the scenes that carried them. Returns a small JSON summary.
pub fn refresh_from_hook(src: &Sources<'_>, hook: &HookContext) -> anyhow::Result<Value> {
    let (entity, action) = hook.trigger.split_once('.').unwrap_or((hook.trigger.as_str(), ""));
    let Some(kind) = MIRRORED.iter().find(|k| k.hook_name() == entity) else {
        anyhow::bail!("StashHog does not mirror {entity} objects; remove {} from the hook", hook.trigger);
    };
    let id = hook.id.with_context(|| format!("the {} hook carried no object id", hook.trigger))?;
    let summary = match action {
        "Destroy.Post" => {
            let deleted = src.store.write_mirror(|w| w.delete(kind.kind(), &[id]))?;
            json!({ "deleted": deleted })
        }
        "Merge.Post" => {
            // Stash moved the sources' scenes to the destination and deleted the sources,
            // without bumping those scenes' updated_at: re-read them.
            let sources: Vec<i64> = hook.input["source"]
                .as_array()
                .map(|ids| ids.iter().filter_map(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_i64())).collect())
                .unwrap_or_default();
            let scenes = src.store.scenes_with_tags(&sources)?;
            let deleted = src.store.write_mirror(|w| w.delete(ObjectKind::Tag, &sources))?;
            let tags = copy::refresh::<Tag>(src, &[id])?.copied;
            let scenes = copy::refresh::<Scene>(src, &scenes)?.copied;
            json!({ "deleted_tags": deleted, "refreshed_tags": tags, "refreshed_scenes": scenes })
        }
        _ => {
            let refreshed = kind.refresh(src, &[id])?;
            json!({ "refreshed": refreshed.copied, "deleted": refreshed.deleted })
        }
    };
    Ok(json!({ "hook": hook.trigger, "id": id, "mirror": summary }))
}
