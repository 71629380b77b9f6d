//! The kinds of Stash object the mirror copies, each described once: how Stash lists it, how
//! its rows are identified, and how the mirror stores it. The sync's steps (full pass,
//! incremental, deletions, hooks) are written once against [`Mirrored`]; adding a kind is one
//! impl here and one entry in [`MIRRORED`].

use std::marker::PhantomData;

use crate::graphql::ApiError;
use crate::stash::{
    EntityQuery, FindFilter, Gallery, Image, MediaQuery, ObjectKind, Pages, Performer, Scene, SceneQuery, SortKey,
    StashClient, Studio, Tag,
};
use crate::store::StoreError;
use crate::store::mirror::MirrorWriter;

use super::Sources;
use super::copy;

/// How a whole walk over a kind pages through Stash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// "Id greater than the last one": stable while objects come and go, cheap at any depth,
    /// and resumable from a checkpoint.
    IdAfter,
    /// By page number: the only way Stash offers for this kind; a walk starts over when the
    /// count moves under it.
    Offset,
}

/// Which objects of a kind to list.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these ids.
    pub ids: Option<Vec<i64>>,
    /// Only those updated strictly after this time (Stash compares as text).
    pub updated_after: Option<String>,
    /// Only ids above this one (kinds paged [`Paging::IdAfter`]; the others ignore it).
    pub id_after: Option<i64>,
}

/// A kind of Stash object the mirror holds.
pub trait Mirrored: Sized {
    /// Which kind this is.
    const KIND: ObjectKind;
    /// The object's type name in Stash's hooks (`Scene` in `Scene.Update.Post`).
    const HOOK_NAME: &'static str;
    /// How a whole walk pages through this kind.
    const PAGING: Paging;
    /// The Stash client's query for this kind.
    type Query;

    /// The client's query for `selection`.
    fn query(selection: Selection) -> Self::Query;
    /// The objects `query` selects, page by page in the order of `filter`.
    fn pages<'a>(stash: &'a StashClient, query: &'a Self::Query, filter: FindFilter) -> Pages<'a, Self>;
    /// The object's id in Stash.
    fn id(&self) -> i64;
    /// When Stash last changed it (RFC3339, compared as text).
    fn updated_at(&self) -> &str;
    /// Writes it into the mirror, marked seen by full-sync pass `pass` when given.
    fn put(&self, mirror: &MirrorWriter<'_>, pass: Option<i64>) -> Result<(), StoreError>;

    /// Every id Stash holds, ascending.
    fn all_ids(stash: &StashClient) -> Result<Vec<i64>, ApiError> {
        let query = Self::query(Selection::default());
        let mut ids = Vec::new();
        for page in Self::pages(stash, &query, FindFilter::sorted(SortKey::Id)) {
            ids.extend(page?.items.iter().map(Self::id));
        }
        Ok(ids)
    }
}

impl Mirrored for Tag {
    const KIND: ObjectKind = ObjectKind::Tag;
    const HOOK_NAME: &'static str = "Tag";
    const PAGING: Paging = Paging::Offset;
    type Query = EntityQuery;

    fn query(selection: Selection) -> EntityQuery {
        EntityQuery { ids: selection.ids, updated_after: selection.updated_after }
    }
    fn pages<'a>(stash: &'a StashClient, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Tag> {
        stash.tags(query, filter)
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn put(&self, mirror: &MirrorWriter<'_>, pass: Option<i64>) -> Result<(), StoreError> {
        mirror.put_tag(self, pass)
    }
}

impl Mirrored for Performer {
    const KIND: ObjectKind = ObjectKind::Performer;
    const HOOK_NAME: &'static str = "Performer";
    const PAGING: Paging = Paging::Offset;
    type Query = EntityQuery;

    fn query(selection: Selection) -> EntityQuery {
        EntityQuery { ids: selection.ids, updated_after: selection.updated_after }
    }
    fn pages<'a>(stash: &'a StashClient, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Performer> {
        stash.performers(query, filter)
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn put(&self, mirror: &MirrorWriter<'_>, pass: Option<i64>) -> Result<(), StoreError> {
        mirror.put_performer(self, pass)
    }
}

impl Mirrored for Studio {
    const KIND: ObjectKind = ObjectKind::Studio;
    const HOOK_NAME: &'static str = "Studio";
    const PAGING: Paging = Paging::Offset;
    type Query = EntityQuery;

    fn query(selection: Selection) -> EntityQuery {
        EntityQuery { ids: selection.ids, updated_after: selection.updated_after }
    }
    fn pages<'a>(stash: &'a StashClient, query: &'a EntityQuery, filter: FindFilter) -> Pages<'a, Studio> {
        stash.studios(query, filter)
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn put(&self, mirror: &MirrorWriter<'_>, pass: Option<i64>) -> Result<(), StoreError> {
        mirror.put_studio(self, pass)
    }
}

impl Mirrored for Scene {
    const KIND: ObjectKind = ObjectKind::Scene;
    const HOOK_NAME: &'static str = "Scene";
    const PAGING: Paging = Paging::IdAfter;
    type Query = SceneQuery;

    fn query(selection: Selection) -> SceneQuery {
        SceneQuery {
            ids: selection.ids,
            id_after: selection.id_after,
            updated_after: selection.updated_after,
            ..SceneQuery::default()
        }
    }
    fn pages<'a>(stash: &'a StashClient, query: &'a SceneQuery, filter: FindFilter) -> Pages<'a, Scene> {
        stash.scenes(query, filter)
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn put(&self, mirror: &MirrorWriter<'_>, pass: Option<i64>) -> Result<(), StoreError> {
        mirror.put_scene(self, pass)
    }
    // Only the ids, a thousand at a time: scenes are many and heavy.
    fn all_ids(stash: &StashClient) -> Result<Vec<i64>, ApiError> {
        stash.all_scene_ids()
    }
}

/// Implements [`Mirrored`] for images and galleries: paged by id like scenes, with the client's
/// [`MediaQuery`].
macro_rules! mirrored_media {
    ($type:ty, $kind:expr, $hook:literal, $pages:ident, $put:ident) => {
        impl Mirrored for $type {
            const KIND: ObjectKind = $kind;
            const HOOK_NAME: &'static str = $hook;
            const PAGING: Paging = Paging::IdAfter;
            type Query = MediaQuery;

            fn query(selection: Selection) -> MediaQuery {
                MediaQuery { ids: selection.ids, id_after: selection.id_after, updated_after: selection.updated_after }
            }
            fn pages<'a>(stash: &'a StashClient, query: &'a MediaQuery, filter: FindFilter) -> Pages<'a, $type> {
                stash.$pages(query, filter)
            }
            fn id(&self) -> i64 {
                self.id
            }
            fn updated_at(&self) -> &str {
                &self.updated_at
            }
            fn put(&self, mirror: &MirrorWriter<'_>, pass: Option<i64>) -> Result<(), StoreError> {
                mirror.$put(self, pass)
            }
        }
    };
}

mirrored_media!(Gallery, ObjectKind::Gallery, "Gallery", galleries, put_gallery);
mirrored_media!(Image, ObjectKind::Image, "Image", images, put_image);

/// What the sync's steps ask of a kind, with the type erased so they can loop over kinds.
pub trait Kind: Sync {
    /// Which kind this is.
    fn kind(&self) -> ObjectKind;
    /// The object's type name in Stash's hooks.
    fn hook_name(&self) -> &'static str;
    /// How many objects Stash has, and the newest `updated_at` among them (one request).
    fn latest(&self, src: &Sources<'_>) -> anyhow::Result<(u64, Option<String>)>;
    /// Copies every object (changed after `updated_after`, when given) into the mirror; see
    /// [`copy::copy`].
    fn copy(
        &self,
        src: &Sources<'_>,
        updated_after: Option<String>,
        pass: Option<copy::Pass<'_>>,
        on_page: &mut dyn FnMut(u64),
    ) -> anyhow::Result<u64>;
    /// Re-reads these objects; those Stash no longer has are removed.
    fn refresh(&self, src: &Sources<'_>, ids: &[i64]) -> anyhow::Result<copy::Refreshed>;
    /// Every id Stash holds, ascending.
    fn ids_in_stash(&self, src: &Sources<'_>) -> anyhow::Result<Vec<i64>>;
}

struct KindOf<K>(PhantomData<fn() -> K>);

impl<K: Mirrored> Kind for KindOf<K> {
    fn kind(&self) -> ObjectKind {
        K::KIND
    }
    fn hook_name(&self) -> &'static str {
        K::HOOK_NAME
    }
    fn latest(&self, src: &Sources<'_>) -> anyhow::Result<(u64, Option<String>)> {
        copy::latest::<K>(src)
    }
    fn copy(
        &self,
        src: &Sources<'_>,
        updated_after: Option<String>,
        pass: Option<copy::Pass<'_>>,
        on_page: &mut dyn FnMut(u64),
    ) -> anyhow::Result<u64> {
        copy::copy::<K>(src, updated_after, pass, on_page)
    }
    fn refresh(&self, src: &Sources<'_>, ids: &[i64]) -> anyhow::Result<copy::Refreshed> {
        copy::refresh::<K>(src, ids)
    }
    fn ids_in_stash(&self, src: &Sources<'_>) -> anyhow::Result<Vec<i64>> {
        copy::ids_in_stash::<K>(src)
    }
}

/// Every kind the mirror holds, in the order a full sync copies them (scenes and images refer
/// to the others, so they come last).
pub static MIRRORED: [&dyn Kind; 6] = [
    &KindOf::<Tag>(PhantomData),
    &KindOf::<Performer>(PhantomData),
    &KindOf::<Studio>(PhantomData),
    &KindOf::<Gallery>(PhantomData),
    &KindOf::<Scene>(PhantomData),
    &KindOf::<Image>(PhantomData),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_mirrored_once_in_sync_order() {
        let listed: Vec<ObjectKind> = MIRRORED.iter().map(|k| k.kind()).collect();
        assert_eq!(listed, ObjectKind::ALL.to_vec());
    }
}
