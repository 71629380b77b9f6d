//! What the mirror holds and how fresh it is, for the status and check tasks.

use serde_json::{Value, json};

use super::state;
use crate::stash::ObjectKind;
use crate::store::Store;

/// What the mirror holds and how fresh it is.
pub fn status(store: &Store) -> anyhow::Result<Value> {
    let mut watermarks = serde_json::Map::new();
    for kind in ObjectKind::ALL {
        watermarks.insert(kind.plural().to_owned(), json!(state::watermark(store, kind)?));
    }
    let stopped = match store.state(state::PASS)? {
        Some(pass) => {
            Some(json!({"pass": pass, "scene_checkpoint": store.state(&state::checkpoint_key(ObjectKind::Scene))?}))
        }
        None => None,
    };
    Ok(json!({
        "mirror": store.mirror_counts()?,
        "full_sync": { "completed_at": state::completed_at(store)?, "stopped": stopped },
        "watermarks": watermarks,
    }))
}
