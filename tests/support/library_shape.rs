//! A library of the shape real ones collect over the years, for the tag sync's request and
//! scene-update counts (tests) and its figures (benches): 60 % of the scenes linked to the
//! stash-box, of those 1/12 pointing at deleted stash-box scenes, 1/12 at merged ones (one of
//! them a merge of a merge), 1/30 at ids the stash-box never had, and the stale ones' files
//! carrying fingerprints that half of the time match a live stash-box scene.
//!
//! At 900 scenes that is issue 13's library: 540 linked, 45 deleted, 45 merged, 18 unknown.

use std::collections::{BTreeMap, BTreeSet};

use super::env::TestEnv;
use super::fake_stash::{Fingerprint, Scene, StashId, Tag, VideoFile};
use super::fake_stashbox::{Algorithm, BoxFingerprint, BoxScene, fake_uuid};

/// Stash-box tags; the first [`NAMED`] exist locally under the same name in other case, the
/// next [`ALIASED`] as aliases of local tags, the rest not at all.
const BOX_TAGS: usize = 40;
const NAMED: usize = 30;
const ALIASED: usize = 4;

/// What a linked scene's StashID points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// A live stash-box scene.
    Live,
    /// A deleted one.
    Deleted,
    /// One merged into another (which may itself have been merged).
    Merged,
    /// An id the stash-box never had.
    Unknown,
}

/// The library built, and what a correct sync makes of it.
#[derive(Debug, Default)]
pub struct Shape {
    /// Local scenes with a StashID on the stash-box.
    pub linked: usize,
    /// Linked scenes by what they point at.
    pub live: usize,
    /// Pointing at deleted scenes.
    pub deleted: usize,
    /// Pointing at merged scenes.
    pub merged: usize,
    /// Pointing at unknown ids.
    pub unknown: usize,
    /// Merge edits a follow-up has to walk (one per merged scene, one more for the chain).
    pub merge_steps: usize,
    /// Per local scene that must change: the tag ids it must end with.
    pub expected: BTreeMap<u64, BTreeSet<u64>>,
}

impl Shape {
    /// Scenes a sync must update.
    pub fn changed(&self) -> usize {
        self.expected.len()
    }

    /// The fewest stash-box requests that answer everything: the key check, the live lookups
    /// 40 a request, and each kind of follow-up 40 a request: merge edits for every deleted
    /// scene (whether it was merged is what they tell) and once more for the chain's second
    /// step, the survivors, the fingerprints of what was not merged.
    pub fn fewest_box_requests(&self) -> usize {
        let per = |n: usize| n.div_ceil(40);
        let merge_edits = per(self.deleted + self.merged) + usize::from(self.merged > 0);
        1 + per(self.linked) + merge_edits + per(self.merged) + per(self.deleted + self.unknown)
    }
}

/// Builds a library of `scenes` scenes of the shape above into `env` (which has a stash-box).
pub fn build(env: &TestEnv, scenes: usize) -> Shape {
    let endpoint = env.stashbox().endpoint();
    let box_tags: Vec<String> =
        (0..BOX_TAGS).map(|i| env.stashbox().lib(|l| l.add_tag(&format!("Box Tag {i}")))).collect();
    // Local tag for each stash-box tag index it matches.
    let local: BTreeMap<usize, u64> = env.stash.lib(|l| {
        let mut local = BTreeMap::new();
        for i in 0..NAMED {
            local.insert(i, l.add_tag(&format!("box tag {i}")));
        }
        for i in NAMED..NAMED + ALIASED {
            let tag = Tag { name: format!("Local {i}"), aliases: vec![format!("BOX TAG {i}")], ..Tag::default() };
            local.insert(i, l.insert_tag(tag));
        }
        local
    });
    let linked = scenes * 3 / 5;
    let mut shape = Shape { linked, ..Shape::default() };
    let (deleted, merged, unknown) = (linked / 12, linked / 12, linked / 30);
    for k in 0..scenes {
        if k >= linked {
            env.stash.lib(|l| l.add_scene(Scene { title: Some(format!("Unlinked {k}")), ..Scene::default() }));
            continue;
        }
        // A permutation of 0..linked spreads the kinds over the library.
        let p = (k * 7919) % linked;
        let link = match p {
            p if p < deleted => Link::Deleted,
            p if p < deleted + merged => Link::Merged,
            p if p < deleted + merged + unknown => Link::Unknown,
            _ => Link::Live,
        };
        let tags: Vec<usize> = (0..4).map(|j| (k * 3 + j * 11) % BOX_TAGS).collect();
        let tag_ids: Vec<String> = tags.iter().map(|&t| box_tags[t].clone()).collect();
        let phash = format!("{:x}", 0x5000_0000_u64 + k as u64);
        let oshash = format!("{:016x}", 0x0a00_0000_u64 + k as u64);
        let files = vec![VideoFile::new(
            &format!("/library/scene {k}.mp4"),
            vec![Fingerprint::new("oshash", &oshash), Fingerprint::new("phash", &phash)],
        )];
        let stash_id = env.stashbox().lib(|l| match link {
            Link::Live => l.add_scene(BoxScene { tag_ids, ..BoxScene::default() }),
            Link::Deleted => l.add_scene(BoxScene { deleted: true, ..BoxScene::default() }),
            Link::Unknown => fake_uuid(0xDEAD_0000 + k as u64),
            Link::Merged => {
                let source = l.add_scene(BoxScene::default());
                let survivor = l.add_scene(BoxScene { tag_ids, ..BoxScene::default() });
                if shape.merged == 0 {
                    // The chain: merged into a scene that was merged into the survivor in turn.
                    let middle = l.add_scene(BoxScene::default());
                    l.merge_scenes(&[&source], &middle);
                    l.merge_scenes(&[&middle], &survivor);
                    shape.merge_steps += 1;
                } else {
                    l.merge_scenes(&[&source], &survivor);
                }
                shape.merge_steps += 1;
                source
            }
        });
        if matches!(link, Link::Deleted | Link::Unknown) && k % 2 == 0 {
            // What the stale StashID's files match today: a live scene carrying its phash.
            let fingerprints = vec![BoxFingerprint::new(Algorithm::Phash, &format!("{phash:0>16}"))];
            env.stashbox().lib(|l| l.add_scene(BoxScene { fingerprints, ..BoxScene::default() }));
        }
        let matched: BTreeSet<u64> = tags.iter().filter_map(|t| local.get(t).copied()).collect();
        // One scene in 15 already has every tag; the others have the first one, if it matches.
        let has: BTreeSet<u64> = match k % 15 {
            0 => matched.clone(),
            _ => local.get(&tags[0]).copied().into_iter().collect(),
        };
        let id = env.stash.lib(|l| {
            l.add_scene(Scene {
                title: Some(format!("Linked {k}")),
                files,
                tag_ids: has.iter().copied().collect(),
                stash_ids: vec![StashId::new(&endpoint, &stash_id)],
                ..Scene::default()
            })
        });
        match link {
            Link::Live => shape.live += 1,
            Link::Deleted => shape.deleted += 1,
            Link::Merged => shape.merged += 1,
            Link::Unknown => shape.unknown += 1,
        }
        if matches!(link, Link::Live | Link::Merged) && !matched.is_subset(&has) {
            shape.expected.insert(id, has.union(&matched).copied().collect());
        }
    }
    shape
}
