//! The fake Stash: result objects.

use super::*;

pub(super) struct FindResult<'c> {
    pub(super) cx: Cx<'c>,
    pub(super) kind: Kind,
    pub(super) count: usize,
    pub(super) ids: Vec<u64>,
    pub(super) duration: f64,
    pub(super) filesize: f64,
}

impl ObjectValue for FindResult<'_> {
    fn type_name(&self) -> &str {
        self.kind.result_type()
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        match info.field_name() {
            "count" => Ok(ResolvedValue::leaf(self.count as i64)),
            "duration" if self.kind == Kind::Scene => Ok(ResolvedValue::leaf(self.duration)),
            "filesize" if self.kind == Kind::Scene => Ok(ResolvedValue::leaf(self.filesize)),
            field if field == self.kind.list_field() => {
                let items: Vec<ResolvedValue<'a>> =
                    self.ids.iter().map(|id| ResolvedValue::object(EntityObj::new(self.cx, self.kind, *id))).collect();
                Ok(ResolvedValue::list(items))
            }
            other => Err(nm(self.kind.result_type(), other)),
        }
    }
}

/// A scene, tag, performer or studio, read from the state when each field resolves.
pub(super) struct EntityObj<'c> {
    pub(super) cx: Cx<'c>,
    pub(super) kind: Kind,
    pub(super) id: u64,
}

impl<'c> EntityObj<'c> {
    pub(super) fn new(cx: Cx<'c>, kind: Kind, id: u64) -> Self {
        EntityObj { cx, kind, id }
    }

    fn objects<'a>(&self, kind: Kind, ids: impl IntoIterator<Item = u64>) -> ResolvedValue<'a>
    where
        'c: 'a,
    {
        let items: Vec<ResolvedValue<'a>> =
            ids.into_iter().map(|id| ResolvedValue::object(EntityObj::new(self.cx, kind, id))).collect();
        ResolvedValue::list(items)
    }
}

impl ObjectValue for EntityObj<'_> {
    fn type_name(&self) -> &str {
        self.kind.object_type()
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let st = self.cx.st.borrow();
        let lib = &st.library;
        let field = info.field_name();
        let vanished = || field_error(format!("{} {} vanished", self.kind.object_type(), self.id));
        match self.kind {
            Kind::Scene => {
                let s = lib.scenes.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(s.id),
                    "title" => opt_leaf(s.title.as_deref()),
                    "code" => opt_leaf(s.code.as_deref()),
                    "details" => opt_leaf(s.details.as_deref()),
                    "director" => opt_leaf(s.director.as_deref()),
                    "url" => opt_leaf(s.urls.first().map(String::as_str)),
                    "urls" => string_list(&s.urls),
                    "date" => opt_leaf(s.date.as_deref()),
                    "rating100" => s.rating100.map_or(ResolvedValue::null(), ResolvedValue::leaf),
                    "organized" => ResolvedValue::leaf(s.organized),
                    "created_at" => ResolvedValue::leaf(s.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(s.updated_at.as_str()),
                    "files" => {
                        let items: Vec<ResolvedValue<'a>> = s
                            .files
                            .iter()
                            .enumerate()
                            .map(|(i, f)| {
                                ResolvedValue::object(FileObj {
                                    id: s.id * 1000 + i as u64 + 1,
                                    file: f.clone(),
                                    created_at: s.created_at.clone(),
                                    updated_at: s.updated_at.clone(),
                                })
                            })
                            .collect();
                        ResolvedValue::list(items)
                    }
                    "studio" => ResolvedValue::nullable_object(
                        s.studio_id
                            .filter(|id| lib.studios.contains_key(id))
                            .map(|id| EntityObj::new(self.cx, Kind::Studio, id)),
                    ),
                    "tags" => self.objects(Kind::Tag, s.tag_ids.iter().copied().filter(|id| lib.tags.contains_key(id))),
                    "performers" => self.objects(
                        Kind::Performer,
                        s.performer_ids.iter().copied().filter(|id| lib.performers.contains_key(id)),
                    ),
                    "stash_ids" => stash_ids_value(&s.stash_ids),
                    "galleries" => self.objects(
                        Kind::Gallery,
                        s.gallery_ids.iter().copied().filter(|id| lib.galleries.contains_key(id)),
                    ),
                    other => return Err(nm("Scene", other)),
                })
            }
            Kind::Tag => {
                let t = lib.tags.get(&self.id).ok_or_else(vanished)?;
                let children =
                    || lib.tags.values().filter(|c| c.parent_ids.contains(&t.id)).map(|c| c.id).collect::<Vec<_>>();
                let parents =
                    || t.parent_ids.iter().copied().filter(|id| lib.tags.contains_key(id)).collect::<Vec<_>>();
                Ok(match field {
                    "id" => id_leaf(t.id),
                    "name" => ResolvedValue::leaf(t.name.as_str()),
                    "sort_name" => opt_leaf(t.sort_name.as_deref()),
                    "description" => opt_leaf(t.description.as_deref()),
                    "aliases" => string_list(&t.aliases),
                    "ignore_auto_tag" => ResolvedValue::leaf(t.ignore_auto_tag),
                    "favorite" => ResolvedValue::leaf(t.favorite),
                    "created_at" => ResolvedValue::leaf(t.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(t.updated_at.as_str()),
                    "stash_ids" => stash_ids_value(&t.stash_ids),
                    "image_path" => ResolvedValue::null(),
                    "parents" => self.objects(Kind::Tag, parents()),
                    "children" => self.objects(Kind::Tag, children()),
                    "parent_count" => ResolvedValue::leaf(parents().len() as i64),
                    "child_count" => ResolvedValue::leaf(children().len() as i64),
                    "scene_count" => {
                        ResolvedValue::leaf(lib.scenes.values().filter(|s| s.tag_ids.contains(&t.id)).count() as i64)
                    }
                    "performer_count" => {
                        ResolvedValue::leaf(lib.performers.values().filter(|p| p.tag_ids.contains(&t.id)).count() as i64)
                    }
                    "studio_count" => {
                        ResolvedValue::leaf(lib.studios.values().filter(|s| s.tag_ids.contains(&t.id)).count() as i64)
                    }
                    "image_count" => {
                        ResolvedValue::leaf(lib.images.values().filter(|i| i.tag_ids.contains(&t.id)).count() as i64)
                    }
                    "gallery_count" => {
                        ResolvedValue::leaf(lib.galleries.values().filter(|g| g.tag_ids.contains(&t.id)).count() as i64)
                    }
                    // The fake models no groups or scene markers.
                    "group_count" | "scene_marker_count" => ResolvedValue::leaf(0i64),
                    other => return Err(nm("Tag", other)),
                })
            }
            Kind::Performer => {
                let p = lib.performers.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(p.id),
                    "name" => ResolvedValue::leaf(p.name.as_str()),
                    "disambiguation" => opt_leaf(p.disambiguation.as_deref()),
                    "url" => opt_leaf(p.urls.first().map(String::as_str)),
                    "urls" => string_list(&p.urls),
                    "alias_list" => string_list(&p.alias_list),
                    "ignore_auto_tag" => ResolvedValue::leaf(p.ignore_auto_tag),
                    "favorite" => ResolvedValue::leaf(p.favorite),
                    "created_at" => ResolvedValue::leaf(p.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(p.updated_at.as_str()),
                    "stash_ids" => stash_ids_value(&p.stash_ids),
                    "scene_count" => ResolvedValue::leaf(
                        lib.scenes.values().filter(|s| s.performer_ids.contains(&p.id)).count() as i64,
                    ),
                    "image_count" => ResolvedValue::leaf(
                        lib.images.values().filter(|i| i.performer_ids.contains(&p.id)).count() as i64,
                    ),
                    "gallery_count" => ResolvedValue::leaf(
                        lib.galleries.values().filter(|g| g.performer_ids.contains(&p.id)).count() as i64,
                    ),
                    "group_count" => ResolvedValue::leaf(0i64),
                    other => return Err(nm("Performer", other)),
                })
            }
            Kind::Studio => {
                let s = lib.studios.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(s.id),
                    "name" => ResolvedValue::leaf(s.name.as_str()),
                    "url" => opt_leaf(s.urls.first().map(String::as_str)),
                    "urls" => string_list(&s.urls),
                    "aliases" => string_list(&s.aliases),
                    "details" => opt_leaf(s.details.as_deref()),
                    "rating100" => s.rating100.map_or(ResolvedValue::null(), ResolvedValue::leaf),
                    "ignore_auto_tag" => ResolvedValue::leaf(s.ignore_auto_tag),
                    "favorite" => ResolvedValue::leaf(s.favorite),
                    "created_at" => ResolvedValue::leaf(s.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(s.updated_at.as_str()),
                    "stash_ids" => stash_ids_value(&s.stash_ids),
                    "parent_studio" => ResolvedValue::nullable_object(
                        s.parent_id
                            .filter(|id| lib.studios.contains_key(id))
                            .map(|id| EntityObj::new(self.cx, Kind::Studio, id)),
                    ),
                    "child_studios" => self.objects(
                        Kind::Studio,
                        lib.studios.values().filter(|c| c.parent_id == Some(s.id)).map(|c| c.id).collect::<Vec<_>>(),
                    ),
                    "scene_count" => {
                        ResolvedValue::leaf(lib.scenes.values().filter(|sc| sc.studio_id == Some(s.id)).count() as i64)
                    }
                    "image_count" => {
                        ResolvedValue::leaf(lib.images.values().filter(|i| i.studio_id == Some(s.id)).count() as i64)
                    }
                    "gallery_count" => {
                        ResolvedValue::leaf(lib.galleries.values().filter(|g| g.studio_id == Some(s.id)).count() as i64)
                    }
                    "group_count" => ResolvedValue::leaf(0i64),
                    other => return Err(nm("Studio", other)),
                })
            }
            Kind::Image => {
                let i = lib.images.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(i.id),
                    "title" => opt_leaf(i.title.as_deref()),
                    "code" => opt_leaf(i.code.as_deref()),
                    "details" => opt_leaf(i.details.as_deref()),
                    "photographer" => opt_leaf(i.photographer.as_deref()),
                    "url" => opt_leaf(i.urls.first().map(String::as_str)),
                    "urls" => string_list(&i.urls),
                    "date" => opt_leaf(i.date.as_deref()),
                    "rating100" => i.rating100.map_or(ResolvedValue::null(), ResolvedValue::leaf),
                    "organized" => ResolvedValue::leaf(i.organized),
                    "o_counter" => ResolvedValue::leaf(0i64),
                    "created_at" => ResolvedValue::leaf(i.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(i.updated_at.as_str()),
                    "files" | "visual_files" => {
                        let items: Vec<ResolvedValue<'a>> = i
                            .files
                            .iter()
                            .enumerate()
                            .map(|(n, f)| {
                                ResolvedValue::object(ImageFileObj {
                                    id: 1_000_000_000 + i.id * 1000 + n as u64 + 1,
                                    file: f.clone(),
                                    created_at: i.created_at.clone(),
                                    updated_at: i.updated_at.clone(),
                                })
                            })
                            .collect();
                        ResolvedValue::list(items)
                    }
                    "studio" => ResolvedValue::nullable_object(
                        i.studio_id
                            .filter(|id| lib.studios.contains_key(id))
                            .map(|id| EntityObj::new(self.cx, Kind::Studio, id)),
                    ),
                    "tags" => self.objects(Kind::Tag, i.tag_ids.iter().copied().filter(|id| lib.tags.contains_key(id))),
                    "performers" => self.objects(
                        Kind::Performer,
                        i.performer_ids.iter().copied().filter(|id| lib.performers.contains_key(id)),
                    ),
                    "galleries" => self.objects(
                        Kind::Gallery,
                        i.gallery_ids.iter().copied().filter(|id| lib.galleries.contains_key(id)),
                    ),
                    other => return Err(nm("Image", other)),
                })
            }
            Kind::Gallery => {
                let g = lib.galleries.get(&self.id).ok_or_else(vanished)?;
                Ok(match field {
                    "id" => id_leaf(g.id),
                    "title" => opt_leaf(g.title.as_deref()),
                    "code" => opt_leaf(g.code.as_deref()),
                    "details" => opt_leaf(g.details.as_deref()),
                    "photographer" => opt_leaf(g.photographer.as_deref()),
                    "url" => opt_leaf(g.urls.first().map(String::as_str)),
                    "urls" => string_list(&g.urls),
                    "date" => opt_leaf(g.date.as_deref()),
                    "rating100" => g.rating100.map_or(ResolvedValue::null(), ResolvedValue::leaf),
                    "organized" => ResolvedValue::leaf(g.organized),
                    "created_at" => ResolvedValue::leaf(g.created_at.as_str()),
                    "updated_at" => ResolvedValue::leaf(g.updated_at.as_str()),
                    "image_count" => ResolvedValue::leaf(lib.gallery_image_ids(g.id).len() as i64),
                    // The fake models folder galleries and galleries made by hand, no zips.
                    "files" => ResolvedValue::list(Vec::new()),
                    "folder" => ResolvedValue::nullable_object(g.folder_path.as_deref().map(|path| {
                        JsonObject::new("Folder", json!({"id": (2_000_000_000 + g.id).to_string(), "path": path}))
                    })),
                    "studio" => ResolvedValue::nullable_object(
                        g.studio_id
                            .filter(|id| lib.studios.contains_key(id))
                            .map(|id| EntityObj::new(self.cx, Kind::Studio, id)),
                    ),
                    "tags" => self.objects(Kind::Tag, g.tag_ids.iter().copied().filter(|id| lib.tags.contains_key(id))),
                    "performers" => self.objects(
                        Kind::Performer,
                        g.performer_ids.iter().copied().filter(|id| lib.performers.contains_key(id)),
                    ),
                    "scenes" => self.objects(Kind::Scene, lib.gallery_scene_ids(g.id)),
                    other => return Err(nm("Gallery", other)),
                })
            }
        }
    }
}

/// An image's file (a snapshot, like [`FileObj`]).
pub(super) struct ImageFileObj {
    pub(super) id: u64,
    pub(super) file: ImageFile,
    pub(super) created_at: String,
    pub(super) updated_at: String,
}

impl ObjectValue for ImageFileObj {
    fn type_name(&self) -> &str {
        "ImageFile"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let f = &self.file;
        Ok(match info.field_name() {
            "id" => id_leaf(self.id),
            "path" => ResolvedValue::leaf(f.path.as_str()),
            "basename" => ResolvedValue::leaf(basename(&f.path)),
            "size" => ResolvedValue::leaf(f.size),
            "width" => ResolvedValue::leaf(f.width),
            "height" => ResolvedValue::leaf(f.height),
            "created_at" | "mod_time" => ResolvedValue::leaf(self.created_at.as_str()),
            "updated_at" => ResolvedValue::leaf(self.updated_at.as_str()),
            "fingerprints" => ResolvedValue::list(Vec::new()),
            other => return Err(nm("ImageFile", other)),
        })
    }
}

/// A scene's file (a snapshot: files do not change while a request runs).
pub(super) struct FileObj {
    pub(super) id: u64,
    pub(super) file: VideoFile,
    pub(super) created_at: String,
    pub(super) updated_at: String,
}

impl ObjectValue for FileObj {
    fn type_name(&self) -> &str {
        "VideoFile"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let f = &self.file;
        Ok(match info.field_name() {
            "id" => id_leaf(self.id),
            "path" => ResolvedValue::leaf(f.path.as_str()),
            "basename" => ResolvedValue::leaf(basename(&f.path)),
            "size" => ResolvedValue::leaf(f.size),
            "duration" => ResolvedValue::leaf(f.duration),
            "width" => ResolvedValue::leaf(f.width),
            "height" => ResolvedValue::leaf(f.height),
            "frame_rate" => ResolvedValue::leaf(f.frame_rate),
            "created_at" | "mod_time" => ResolvedValue::leaf(self.created_at.as_str()),
            "updated_at" => ResolvedValue::leaf(self.updated_at.as_str()),
            "fingerprints" => {
                let items: Vec<ResolvedValue<'a>> = f
                    .fingerprints
                    .iter()
                    .map(|fp| {
                        ResolvedValue::object(JsonObject::new(
                            "Fingerprint",
                            json!({"type": fp.kind, "value": fp.value}),
                        ))
                    })
                    .collect();
                ResolvedValue::list(items)
            }
            "fingerprint" => {
                let wanted = arguments(info).get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
                opt_leaf(f.fingerprints.iter().find(|fp| fp.kind == wanted).map(|fp| fp.value.as_str()))
            }
            other => return Err(nm("VideoFile", other)),
        })
    }
}
