//! The fake Stash: the library.

use super::*;

/// A StashID: an entity's id on a stash-box endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StashId {
    /// The stash-box GraphQL URL, exactly as configured in Stash.
    pub endpoint: String,
    /// The entity's id on that stash-box.
    pub stash_id: String,
    /// When it was set (filled from the clock on insert when empty).
    pub updated_at: String,
}

impl StashId {
    /// A StashID; `updated_at` is stamped when the entity is inserted.
    pub fn new(endpoint: &str, stash_id: &str) -> Self {
        StashId { endpoint: endpoint.to_owned(), stash_id: stash_id.to_owned(), updated_at: String::new() }
    }
}

/// A tag.
#[derive(Clone, Debug, Default)]
pub struct Tag {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Sort name.
    pub sort_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Ignore auto-tag.
    pub ignore_auto_tag: bool,
    /// Favorite.
    pub favorite: bool,
    /// Parent tag ids.
    pub parent_ids: Vec<u64>,
    /// StashIDs (Stash ≥ 0.30).
    pub stash_ids: Vec<StashId>,
    /// Creation time (filled on insert when empty).
    pub created_at: String,
    /// Update time (filled on insert when empty).
    pub updated_at: String,
}

/// A performer.
#[derive(Clone, Debug, Default)]
pub struct Performer {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Disambiguation.
    pub disambiguation: Option<String>,
    /// Aliases.
    pub alias_list: Vec<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Details (bio).
    pub details: Option<String>,
    /// Ignore auto-tag.
    pub ignore_auto_tag: bool,
    /// Favorite.
    pub favorite: bool,
    /// Tag ids (a tag's `performer_count`).
    pub tag_ids: Vec<u64>,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
}

/// A studio.
#[derive(Clone, Debug, Default)]
pub struct Studio {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Parent studio id.
    pub parent_id: Option<u64>,
    /// Details.
    pub details: Option<String>,
    /// Rating 1-100.
    pub rating100: Option<i64>,
    /// Ignore auto-tag.
    pub ignore_auto_tag: bool,
    /// Favorite.
    pub favorite: bool,
    /// Tag ids (a tag's `studio_count`).
    pub tag_ids: Vec<u64>,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
}

/// A file fingerprint: `kind` is Stash's `type` (`md5`, `oshash`, `phash`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// `md5`, `oshash` or `phash`.
    pub kind: String,
    /// The value as Stash stores it (phash: unpadded lowercase hex).
    pub value: String,
}

impl Fingerprint {
    /// A fingerprint.
    pub fn new(kind: &str, value: &str) -> Self {
        Fingerprint { kind: kind.to_owned(), value: value.to_owned() }
    }
}

/// A scene's video file.
#[derive(Clone, Debug, Default)]
pub struct VideoFile {
    /// Full path.
    pub path: String,
    /// Fingerprints.
    pub fingerprints: Vec<Fingerprint>,
    /// Size in bytes.
    pub size: i64,
    /// Duration in seconds.
    pub duration: f64,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
    /// Frames per second.
    pub frame_rate: f64,
}

impl VideoFile {
    /// A file at `path` with the given fingerprints.
    pub fn new(path: &str, fingerprints: Vec<Fingerprint>) -> Self {
        VideoFile {
            path: path.to_owned(),
            fingerprints,
            size: 1_000_000,
            duration: 600.0,
            width: 1920,
            height: 1080,
            frame_rate: 29.97,
        }
    }
}

/// A scene. Related entities are referenced by id and resolved at query time, so editing a
/// tag shows on every scene that has it.
#[derive(Clone, Debug, Default)]
pub struct Scene {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Title.
    pub title: Option<String>,
    /// Studio code.
    pub code: Option<String>,
    /// Details.
    pub details: Option<String>,
    /// Director.
    pub director: Option<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Release date (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Rating 1-100.
    pub rating100: Option<i64>,
    /// Organized flag.
    pub organized: bool,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
    /// Files (the first is primary).
    pub files: Vec<VideoFile>,
    /// Studio id.
    pub studio_id: Option<u64>,
    /// Performer ids.
    pub performer_ids: Vec<u64>,
    /// Tag ids.
    pub tag_ids: Vec<u64>,
    /// StashIDs.
    pub stash_ids: Vec<StashId>,
    /// Galleries it belongs to (Stash's `scenes_galleries` join: a gallery's `scenes` reads
    /// the same rows).
    pub gallery_ids: Vec<u64>,
}

/// An image's file (Stash's `ImageFile`, one of the `visual_files`).
#[derive(Clone, Debug, Default)]
pub struct ImageFile {
    /// Full path.
    pub path: String,
    /// Size in bytes.
    pub size: i64,
    /// Width in pixels.
    pub width: i64,
    /// Height in pixels.
    pub height: i64,
}

impl ImageFile {
    /// A 1080p photo at `path`.
    pub fn new(path: &str) -> Self {
        ImageFile { path: path.to_owned(), size: 250_000, width: 1080, height: 1350 }
    }
}

/// An image. Related entities are referenced by id and resolved at query time.
#[derive(Clone, Debug, Default)]
pub struct Image {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Title.
    pub title: Option<String>,
    /// Studio code.
    pub code: Option<String>,
    /// Details.
    pub details: Option<String>,
    /// Photographer.
    pub photographer: Option<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Date (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Rating 1-100.
    pub rating100: Option<i64>,
    /// Organized flag.
    pub organized: bool,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
    /// Files (the first is primary).
    pub files: Vec<ImageFile>,
    /// Studio id.
    pub studio_id: Option<u64>,
    /// Performer ids.
    pub performer_ids: Vec<u64>,
    /// Tag ids.
    pub tag_ids: Vec<u64>,
    /// Galleries it belongs to (Stash's `galleries_images` join).
    pub gallery_ids: Vec<u64>,
}

/// A gallery: made by hand (no folder or zip) or found by a scan (`folder_path`). Its images
/// and scenes are the images and scenes that list it.
#[derive(Clone, Debug, Default)]
pub struct Gallery {
    /// Id (0 on insert: assigned).
    pub id: u64,
    /// Title.
    pub title: Option<String>,
    /// Studio code.
    pub code: Option<String>,
    /// Details.
    pub details: Option<String>,
    /// Photographer.
    pub photographer: Option<String>,
    /// URLs.
    pub urls: Vec<String>,
    /// Date (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Rating 1-100.
    pub rating100: Option<i64>,
    /// Organized flag.
    pub organized: bool,
    /// Creation time.
    pub created_at: String,
    /// Update time.
    pub updated_at: String,
    /// The folder a scan made it from (none for a gallery made by hand).
    pub folder_path: Option<String>,
    /// Studio id.
    pub studio_id: Option<u64>,
    /// Performer ids.
    pub performer_ids: Vec<u64>,
    /// Tag ids.
    pub tag_ids: Vec<u64>,
}

/// Options for [`Library::generate`]: a large, realistic library, fast to build.
#[derive(Clone, Debug)]
pub struct Generate {
    /// Number of scenes.
    pub scenes: usize,
    /// Number of tags.
    pub tags: usize,
    /// Number of performers.
    pub performers: usize,
    /// Number of studios.
    pub studios: usize,
    /// Tags per scene (picked pseudo-randomly).
    pub tags_per_scene: usize,
    /// Performers per scene.
    pub performers_per_scene: usize,
    /// Give every `stash_id_every`-th scene a StashID on this endpoint (0: none).
    pub stash_id_every: usize,
    /// The endpoint of those StashIDs.
    pub endpoint: String,
    /// How many consecutive scenes share one `updated_at` (≥ 1): Stash imports produce ties.
    pub scenes_per_timestamp: usize,
    /// Seed for every pseudo-random choice.
    pub seed: u64,
}

impl Default for Generate {
    fn default() -> Self {
        Generate {
            scenes: 1000,
            tags: 200,
            performers: 300,
            studios: 50,
            tags_per_scene: 5,
            performers_per_scene: 2,
            stash_id_every: 2,
            endpoint: "https://stashdb.org/graphql".into(),
            scenes_per_timestamp: 1,
            seed: 1,
        }
    }
}

/// What [`Library::generate`] created.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// Tag ids.
    pub tag_ids: Vec<u64>,
    /// Performer ids.
    pub performer_ids: Vec<u64>,
    /// Studio ids.
    pub studio_ids: Vec<u64>,
    /// Scene ids.
    pub scene_ids: Vec<u64>,
}

/// Stash's data: what its SQLite database holds. Tests edit it freely, also while the fake runs.
#[derive(Clone, Debug, Default)]
pub struct Library {
    /// Tags by id.
    pub tags: BTreeMap<u64, Tag>,
    /// Performers by id.
    pub performers: BTreeMap<u64, Performer>,
    /// Studios by id.
    pub studios: BTreeMap<u64, Studio>,
    /// Scenes by id.
    pub scenes: BTreeMap<u64, Scene>,
    /// Images by id.
    pub images: BTreeMap<u64, Image>,
    /// Galleries by id.
    pub galleries: BTreeMap<u64, Gallery>,
    /// The clock that stamps inserts and edits.
    pub clock: Clock,
    last_ids: [u64; 6],
}

pub(super) const TAG: usize = 0;
pub(super) const PERFORMER: usize = 1;
pub(super) const STUDIO: usize = 2;
pub(super) const SCENE: usize = 3;
pub(super) const IMAGE: usize = 4;
pub(super) const GALLERY: usize = 5;

impl Library {
    fn next_id(&mut self, table: usize, wanted: u64) -> u64 {
        let id = if wanted == 0 { self.last_ids[table] + 1 } else { wanted };
        self.last_ids[table] = self.last_ids[table].max(id);
        id
    }

    fn stamp(&mut self, created: &mut String, updated: &mut String, stash_ids: &mut [StashId]) {
        if created.is_empty() || updated.is_empty() || stash_ids.iter().any(|s| s.updated_at.is_empty()) {
            let now = self.clock.tick();
            if created.is_empty() {
                created.clone_from(&now);
            }
            if updated.is_empty() {
                updated.clone_from(&now);
            }
            for stash_id in stash_ids.iter_mut().filter(|s| s.updated_at.is_empty()) {
                stash_id.updated_at.clone_from(&now);
            }
        }
    }

    /// The current time as Stash prints it.
    pub fn now(&self) -> String {
        self.clock.now()
    }

    /// Advances the clock one second and returns the new time.
    pub fn tick(&mut self) -> String {
        self.clock.tick()
    }

    /// Adds a tag named `name`; returns its id.
    pub fn add_tag(&mut self, name: &str) -> u64 {
        self.insert_tag(Tag { name: name.to_owned(), ..Tag::default() })
    }

    /// Inserts a tag (id assigned when 0, timestamps stamped when empty); returns its id.
    pub fn insert_tag(&mut self, mut tag: Tag) -> u64 {
        tag.id = self.next_id(TAG, tag.id);
        self.stamp(&mut tag.created_at, &mut tag.updated_at, &mut tag.stash_ids);
        let id = tag.id;
        self.tags.insert(id, tag);
        id
    }

    /// Adds a performer named `name`; returns its id.
    pub fn add_performer(&mut self, name: &str) -> u64 {
        self.insert_performer(Performer { name: name.to_owned(), ..Performer::default() })
    }

    /// Inserts a performer; returns its id.
    pub fn insert_performer(&mut self, mut performer: Performer) -> u64 {
        performer.id = self.next_id(PERFORMER, performer.id);
        self.stamp(&mut performer.created_at, &mut performer.updated_at, &mut performer.stash_ids);
        let id = performer.id;
        self.performers.insert(id, performer);
        id
    }

    /// Adds a studio named `name`; returns its id.
    pub fn add_studio(&mut self, name: &str) -> u64 {
        self.insert_studio(Studio { name: name.to_owned(), ..Studio::default() })
    }

    /// Inserts a studio; returns its id.
    pub fn insert_studio(&mut self, mut studio: Studio) -> u64 {
        studio.id = self.next_id(STUDIO, studio.id);
        self.stamp(&mut studio.created_at, &mut studio.updated_at, &mut studio.stash_ids);
        let id = studio.id;
        self.studios.insert(id, studio);
        id
    }

    /// Adds a scene (id assigned when 0, timestamps stamped when empty); returns its id.
    pub fn add_scene(&mut self, mut scene: Scene) -> u64 {
        scene.id = self.next_id(SCENE, scene.id);
        self.stamp(&mut scene.created_at, &mut scene.updated_at, &mut scene.stash_ids);
        let id = scene.id;
        self.scenes.insert(id, scene);
        id
    }

    /// Adds an image (id assigned when 0, timestamps stamped when empty); returns its id.
    pub fn add_image(&mut self, mut image: Image) -> u64 {
        image.id = self.next_id(IMAGE, image.id);
        self.stamp(&mut image.created_at, &mut image.updated_at, &mut []);
        let id = image.id;
        self.images.insert(id, image);
        id
    }

    /// Adds a gallery (id assigned when 0, timestamps stamped when empty); returns its id.
    pub fn add_gallery(&mut self, mut gallery: Gallery) -> u64 {
        gallery.id = self.next_id(GALLERY, gallery.id);
        self.stamp(&mut gallery.created_at, &mut gallery.updated_at, &mut []);
        let id = gallery.id;
        self.galleries.insert(id, gallery);
        id
    }

    /// Deletes a gallery: its images and scenes leave it (the join rows go), as Stash's
    /// `galleryDestroy` without `delete_file` does.
    pub fn remove_gallery(&mut self, id: u64) {
        self.galleries.remove(&id);
        for image in self.images.values_mut() {
            image.gallery_ids.retain(|g| *g != id);
        }
        for scene in self.scenes.values_mut() {
            scene.gallery_ids.retain(|g| *g != id);
        }
    }

    /// The ids of a gallery's images.
    pub fn gallery_image_ids(&self, gallery_id: u64) -> Vec<u64> {
        self.images.values().filter(|i| i.gallery_ids.contains(&gallery_id)).map(|i| i.id).collect()
    }

    /// The ids of a gallery's scenes.
    pub fn gallery_scene_ids(&self, gallery_id: u64) -> Vec<u64> {
        self.scenes.values().filter(|s| s.gallery_ids.contains(&gallery_id)).map(|s| s.id).collect()
    }

    /// An image by id.
    pub fn image(&self, id: u64) -> Option<&Image> {
        self.images.get(&id)
    }

    /// A gallery by its code (for assertions).
    pub fn gallery_by_code(&self, code: &str) -> Option<&Gallery> {
        self.galleries.values().find(|g| g.code.as_deref() == Some(code))
    }

    /// Adds `n` scenes built by `make(i)`; returns their ids.
    pub fn add_scenes(&mut self, n: usize, mut make: impl FnMut(usize) -> Scene) -> Vec<u64> {
        (0..n).map(|i| self.add_scene(make(i))).collect()
    }

    /// Builds a large pseudo-random library (see [`Generate`]); 100k scenes take well under a
    /// second in release and a few seconds in debug builds.
    pub fn generate(&mut self, options: &Generate) -> Generated {
        let mut rng = SplitMix(options.seed);
        let mut out = Generated::default();
        for i in 0..options.tags {
            out.tag_ids.push(self.add_tag(&format!("Tag {i:05}")));
        }
        for i in 0..options.performers {
            out.performer_ids.push(self.add_performer(&format!("Performer {i:05}")));
        }
        for i in 0..options.studios {
            out.studio_ids.push(self.add_studio(&format!("Studio {i:04}")));
        }
        let per_stamp = options.scenes_per_timestamp.max(1);
        let mut stamp = self.now();
        out.scene_ids.reserve(options.scenes);
        for i in 0..options.scenes {
            if i % per_stamp == 0 {
                stamp = self.tick();
            }
            let pick = |rng: &mut SplitMix, from: &[u64], n: usize| -> Vec<u64> {
                let mut picked: Vec<u64> = Vec::with_capacity(n);
                if !from.is_empty() {
                    for _ in 0..n.min(from.len()) {
                        let id = from[rng.below(from.len())];
                        if !picked.contains(&id) {
                            picked.push(id);
                        }
                    }
                }
                picked
            };
            let tag_ids = pick(&mut rng, &out.tag_ids, options.tags_per_scene);
            let performer_ids = pick(&mut rng, &out.performer_ids, options.performers_per_scene);
            let studio_id = (!out.studio_ids.is_empty()).then(|| out.studio_ids[rng.below(out.studio_ids.len())]);
            let phash = format!("{:x}", rng.next() >> (rng.next() % 8));
            let stash_ids = if options.stash_id_every > 0 && i % options.stash_id_every == 0 {
                vec![StashId {
                    endpoint: options.endpoint.clone(),
                    stash_id: fake_uuid(options.seed.wrapping_mul(1_000_003) ^ i as u64),
                    updated_at: stamp.clone(),
                }]
            } else {
                Vec::new()
            };
            let id = self.add_scene(Scene {
                title: Some(format!("Scene {i:06}")),
                date: Some(format!("20{:02}-{:02}-{:02}", i % 25, i % 12 + 1, i % 28 + 1)),
                organized: i % 3 == 0,
                created_at: stamp.clone(),
                updated_at: stamp.clone(),
                files: vec![VideoFile::new(
                    &format!("/data/scenes/{:03}/scene_{i:06}.mp4", i % 1000),
                    vec![
                        Fingerprint::new("oshash", &format!("{:016x}", rng.next())),
                        Fingerprint::new("phash", &phash),
                    ],
                )],
                studio_id,
                performer_ids,
                tag_ids,
                stash_ids,
                ..Scene::default()
            });
            out.scene_ids.push(id);
        }
        out
    }

    /// A tag by id.
    pub fn tag(&self, id: u64) -> Option<&Tag> {
        self.tags.get(&id)
    }

    /// A tag by exact name.
    pub fn tag_by_name(&self, name: &str) -> Option<&Tag> {
        self.tags.values().find(|t| t.name == name)
    }

    /// A scene by id.
    pub fn scene(&self, id: u64) -> Option<&Scene> {
        self.scenes.get(&id)
    }

    /// A scene, mutably, WITHOUT bumping `updated_at` (use [`Library::edit_scene`] for an edit
    /// as Stash would record it).
    pub fn scene_mut(&mut self, id: u64) -> Option<&mut Scene> {
        self.scenes.get_mut(&id)
    }

    /// Edits a scene like a user in Stash's UI: applies `edit`, then stamps `updated_at`.
    pub fn edit_scene(&mut self, id: u64, edit: impl FnOnce(&mut Scene)) {
        let now = self.clock.tick();
        let scene = self.scenes.get_mut(&id).expect("edit_scene: no such scene");
        edit(scene);
        scene.updated_at = now;
    }

    /// Edits a tag, then stamps its `updated_at`.
    pub fn edit_tag(&mut self, id: u64, edit: impl FnOnce(&mut Tag)) {
        let now = self.clock.tick();
        let tag = self.tags.get_mut(&id).expect("edit_tag: no such tag");
        edit(tag);
        tag.updated_at = now;
    }

    /// Deletes a tag and removes it from every scene, performer, studio and child tag, as
    /// Stash's foreign keys do.
    pub fn remove_tag(&mut self, id: u64) {
        self.tags.remove(&id);
        for scene in self.scenes.values_mut() {
            scene.tag_ids.retain(|t| *t != id);
        }
        for performer in self.performers.values_mut() {
            performer.tag_ids.retain(|t| *t != id);
        }
        for studio in self.studios.values_mut() {
            studio.tag_ids.retain(|t| *t != id);
        }
        for image in self.images.values_mut() {
            image.tag_ids.retain(|t| *t != id);
        }
        for gallery in self.galleries.values_mut() {
            gallery.tag_ids.retain(|t| *t != id);
        }
        for tag in self.tags.values_mut() {
            tag.parent_ids.retain(|t| *t != id);
        }
    }

    /// Deletes a performer and removes it from every scene, as Stash's foreign keys do.
    pub fn remove_performer(&mut self, id: u64) {
        self.performers.remove(&id);
        for scene in self.scenes.values_mut() {
            scene.performer_ids.retain(|p| *p != id);
        }
        for image in self.images.values_mut() {
            image.performer_ids.retain(|p| *p != id);
        }
        for gallery in self.galleries.values_mut() {
            gallery.performer_ids.retain(|p| *p != id);
        }
    }

    /// Deletes a studio: its scenes lose their studio and its children their parent, as Stash's
    /// foreign keys do (`ON DELETE SET NULL`).
    pub fn remove_studio(&mut self, id: u64) {
        self.studios.remove(&id);
        for scene in self.scenes.values_mut().filter(|s| s.studio_id == Some(id)) {
            scene.studio_id = None;
        }
        for image in self.images.values_mut().filter(|i| i.studio_id == Some(id)) {
            image.studio_id = None;
        }
        for gallery in self.galleries.values_mut().filter(|g| g.studio_id == Some(id)) {
            gallery.studio_id = None;
        }
        for studio in self.studios.values_mut().filter(|s| s.parent_id == Some(id)) {
            studio.parent_id = None;
        }
    }

    /// A performer by exact name.
    pub fn performer_by_name(&self, name: &str) -> Option<&Performer> {
        self.performers.values().find(|p| p.name == name)
    }

    /// A studio by exact name.
    pub fn studio_by_name(&self, name: &str) -> Option<&Studio> {
        self.studios.values().find(|s| s.name == name)
    }

    /// Merges tags as Stash's `tagsMerge` does: the sources' scenes get the destination (the
    /// join rows are rewritten, the scenes' `updated_at` is NOT touched), the sources' names
    /// become aliases of the destination (which is stamped), and the sources are deleted.
    pub fn merge_tags(&mut self, sources: &[u64], destination: u64) {
        let names: Vec<String> = sources.iter().filter_map(|id| self.tags.get(id)).map(|t| t.name.clone()).collect();
        for scene in self.scenes.values_mut() {
            if scene.tag_ids.iter().any(|t| sources.contains(t)) {
                scene.tag_ids.retain(|t| !sources.contains(t));
                if !scene.tag_ids.contains(&destination) {
                    scene.tag_ids.push(destination);
                }
            }
        }
        for id in sources {
            self.remove_tag(*id);
        }
        self.edit_tag(destination, |t| t.aliases.extend(names));
    }

    /// Deletes a scene.
    pub fn remove_scene(&mut self, id: u64) {
        self.scenes.remove(&id);
    }

    /// The names of a scene's tags, sorted (for assertions).
    pub fn scene_tag_names(&self, scene_id: u64) -> Vec<String> {
        let mut names: Vec<String> = self
            .scene(scene_id)
            .map(|s| s.tag_ids.iter().filter_map(|t| self.tags.get(t)).map(|t| t.name.clone()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}
