//! The fake Stash: mutations.

use super::*;

pub(super) struct MutationRoot<'c> {
    pub(super) cx: Cx<'c>,
}

impl ObjectValue for MutationRoot<'_> {
    fn type_name(&self) -> &str {
        "Mutation"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let cx = self.cx;
        let args = arguments(info);
        let input = args.get("input").and_then(Value::as_object);
        match (info.field_name(), input) {
            ("sceneUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = scene_update(&mut st.library, input)?;
                *st.scene_updates.entry(id).or_default() += 1;
                st.pending_hooks.push(hook_event(id, "Scene.Update.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Scene, id)))
            }
            ("bulkSceneUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let ids = bulk_scene_update(&mut st.library, input)?;
                for id in &ids {
                    *st.scene_updates.entry(*id).or_default() += 1;
                    st.pending_hooks.push(hook_event(*id, "Scene.Update.Post", input));
                }
                let items: Vec<ResolvedValue<'a>> =
                    ids.into_iter().map(|id| ResolvedValue::object(EntityObj::new(cx, Kind::Scene, id))).collect();
                Ok(ResolvedValue::list(items))
            }
            ("imageUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = image_update(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Image.Update.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Image, id)))
            }
            ("bulkImageUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let ids = bulk_image_update(&mut st.library, input)?;
                for id in &ids {
                    st.pending_hooks.push(hook_event(*id, "Image.Update.Post", input));
                }
                let items: Vec<ResolvedValue<'a>> =
                    ids.into_iter().map(|id| ResolvedValue::object(EntityObj::new(cx, Kind::Image, id))).collect();
                Ok(ResolvedValue::list(items))
            }
            ("galleryCreate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = gallery_create(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Gallery.Create.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Gallery, id)))
            }
            ("galleryUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = parse_id(input.get("id").unwrap_or(&Value::Null))?;
                gallery_update(&mut st.library, &[id], input, "GalleryUpdateInput")?;
                st.pending_hooks.push(hook_event(id, "Gallery.Update.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Gallery, id)))
            }
            ("bulkGalleryUpdate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let ids = ids_vec(input.get("ids").unwrap_or(&Value::Null))?;
                gallery_update(&mut st.library, &ids, input, "BulkGalleryUpdateInput")?;
                for id in &ids {
                    st.pending_hooks.push(hook_event(*id, "Gallery.Update.Post", input));
                }
                let items: Vec<ResolvedValue<'a>> =
                    ids.into_iter().map(|id| ResolvedValue::object(EntityObj::new(cx, Kind::Gallery, id))).collect();
                Ok(ResolvedValue::list(items))
            }
            ("galleryDestroy", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let ids = ids_vec(input.get("ids").unwrap_or(&Value::Null))?;
                check_exist(&st.library, Kind::Gallery, &ids)?;
                if input.get("delete_file").and_then(Value::as_bool) == Some(true) {
                    return Err(field_error("the fake Stash does not model galleryDestroy with delete_file"));
                }
                for id in &ids {
                    st.library.remove_gallery(*id);
                    st.pending_hooks.push(hook_event(*id, "Gallery.Destroy.Post", input));
                }
                Ok(ResolvedValue::leaf(true))
            }
            (field @ ("addGalleryImages" | "removeGalleryImages"), Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let gallery = parse_id(input.get("gallery_id").unwrap_or(&Value::Null))?;
                let images = ids_vec(input.get("image_ids").unwrap_or(&Value::Null))?;
                check_exist(&st.library, Kind::Gallery, &[gallery])?;
                check_exist(&st.library, Kind::Image, &images)?;
                let now = st.library.tick();
                for id in &images {
                    if let Some(image) = st.library.images.get_mut(id) {
                        image.gallery_ids.retain(|g| *g != gallery);
                        if field == "addGalleryImages" {
                            image.gallery_ids.push(gallery);
                        }
                    }
                }
                if let Some(g) = st.library.galleries.get_mut(&gallery) {
                    g.updated_at = now;
                }
                Ok(ResolvedValue::leaf(true))
            }
            ("tagCreate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = tag_create(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Tag.Create.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Tag, id)))
            }
            ("performerCreate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = performer_create(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Performer.Create.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Performer, id)))
            }
            ("studioCreate", Some(input)) => {
                let mut st = cx.st.borrow_mut();
                let id = studio_create(&mut st.library, input)?;
                st.pending_hooks.push(hook_event(id, "Studio.Create.Post", input));
                Ok(ResolvedValue::object(EntityObj::new(cx, Kind::Studio, id)))
            }
            (field @ ("tagDestroy" | "performerDestroy" | "studioDestroy"), Some(input)) => {
                let (kind, trigger) = match field {
                    "tagDestroy" => (Kind::Tag, "Tag.Destroy.Post"),
                    "performerDestroy" => (Kind::Performer, "Performer.Destroy.Post"),
                    _ => (Kind::Studio, "Studio.Destroy.Post"),
                };
                let mut st = cx.st.borrow_mut();
                let id = parse_id(input.get("id").unwrap_or(&Value::Null))?;
                check_exist(&st.library, kind, &[id])?;
                match kind {
                    Kind::Tag => st.library.remove_tag(id),
                    Kind::Performer => st.library.remove_performer(id),
                    _ => st.library.remove_studio(id),
                }
                st.pending_hooks.push(hook_event(id, trigger, input));
                Ok(ResolvedValue::leaf(true))
            }
            ("configurePlugin", _) => {
                let plugin = args.get("plugin_id").and_then(Value::as_str).unwrap_or_default().to_owned();
                let settings = args.get("input").and_then(Value::as_object).cloned().unwrap_or_default();
                cx.st.borrow_mut().config.plugins.insert(plugin, settings.clone());
                Ok(ResolvedValue::Leaf(gql::to_json_value(&Value::Object(settings))))
            }
            (other, _) => Err(nm("Mutation", other)),
        }
    }
}

pub(super) fn hook_event(id: u64, trigger: &str, input: &Map<String, Value>) -> HookEvent {
    HookEvent {
        id,
        trigger: trigger.to_owned(),
        input: Value::Object(input.clone()),
        input_fields: input.keys().cloned().collect(),
        cookie: String::new(),
    }
}

pub(super) fn opt_string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

pub(super) fn string_vec(value: &Value) -> Vec<String> {
    value.as_array().map(|items| items.iter().filter_map(opt_string).collect()).unwrap_or_default()
}

pub(super) fn ids_vec(value: &Value) -> Result<Vec<u64>, FieldError> {
    Ok(parse_ids(Some(value))?.unwrap_or_default())
}

pub(super) fn check_exist(lib: &Library, kind: Kind, ids: &[u64]) -> Result<(), FieldError> {
    for id in ids {
        let exists = match kind {
            Kind::Tag => lib.tags.contains_key(id),
            Kind::Performer => lib.performers.contains_key(id),
            Kind::Studio => lib.studios.contains_key(id),
            Kind::Scene => lib.scenes.contains_key(id),
            Kind::Image => lib.images.contains_key(id),
            Kind::Gallery => lib.galleries.contains_key(id),
        };
        if !exists {
            return Err(field_error(format!("{} with id {id} not found", kind.object_type().to_lowercase())));
        }
    }
    Ok(())
}

pub(super) fn stash_ids_input(value: &Value, now: &str) -> Vec<StashId> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|s| StashId {
                    endpoint: s.get("endpoint").and_then(Value::as_str).unwrap_or_default().into(),
                    stash_id: s.get("stash_id").and_then(Value::as_str).unwrap_or_default().into(),
                    updated_at: s.get("updated_at").and_then(Value::as_str).unwrap_or(now).into(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `sceneUpdate`: a key present — even as null — is applied; a missing key is left alone;
/// list fields REPLACE the list. `updated_at` is always bumped.
pub(super) fn scene_update(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let id = parse_id(input.get("id").unwrap_or(&Value::Null))?;
    check_exist(lib, Kind::Scene, &[id])?;
    let now = lib.tick();
    let mut scene = lib.scenes[&id].clone();
    for (key, value) in input {
        match key.as_str() {
            "id" => {}
            "title" => scene.title = opt_string(value),
            "code" => scene.code = opt_string(value),
            "details" => scene.details = opt_string(value),
            "director" => scene.director = opt_string(value),
            "date" => scene.date = opt_string(value),
            "urls" => scene.urls = string_vec(value),
            "rating100" => scene.rating100 = value.as_i64(),
            "organized" => scene.organized = value.as_bool().unwrap_or(false),
            "studio_id" => {
                scene.studio_id = match value {
                    Value::Null => None,
                    v => Some(parse_id(v)?),
                };
                check_exist(lib, Kind::Studio, scene.studio_id.as_slice())?;
            }
            "tag_ids" => {
                scene.tag_ids = dedup(ids_vec(value)?);
                check_exist(lib, Kind::Tag, &scene.tag_ids)?;
            }
            "performer_ids" => {
                scene.performer_ids = dedup(ids_vec(value)?);
                check_exist(lib, Kind::Performer, &scene.performer_ids)?;
            }
            "stash_ids" => scene.stash_ids = stash_ids_input(value, &now),
            "gallery_ids" => {
                scene.gallery_ids = dedup(ids_vec(value)?);
                check_exist(lib, Kind::Gallery, &scene.gallery_ids)?;
            }
            other => {
                return Err(field_error(format!("the fake Stash does not model SceneUpdateInput.{other} yet")));
            }
        }
    }
    scene.updated_at = now;
    lib.scenes.insert(id, scene);
    Ok(id)
}

pub(super) fn dedup(ids: Vec<u64>) -> Vec<u64> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Applies a `BulkUpdateIds` (`{ids, mode: SET|ADD|REMOVE}`) to a list.
pub(super) fn bulk_ids(current: &[u64], update: &Map<String, Value>) -> Result<Vec<u64>, FieldError> {
    let ids = ids_vec(update.get("ids").unwrap_or(&Value::Null))?;
    Ok(match update.get("mode").and_then(Value::as_str) {
        Some("SET") => dedup(ids),
        Some("ADD") => dedup(current.iter().copied().chain(ids).collect()),
        Some("REMOVE") => current.iter().copied().filter(|id| !ids.contains(id)).collect(),
        other => return Err(field_error(format!("unknown bulk update mode {other:?}"))),
    })
}

/// `bulkSceneUpdate`: ADD/REMOVE touch only the named ids, atomically (the race-free way to
/// change tags). Every scene's `updated_at` is bumped.
pub(super) fn bulk_scene_update(lib: &mut Library, input: &Map<String, Value>) -> Result<Vec<u64>, FieldError> {
    let ids = ids_vec(input.get("ids").unwrap_or(&Value::Null))?;
    check_exist(lib, Kind::Scene, &ids)?;
    let now = lib.tick();
    let mut updated = Vec::new();
    for id in &ids {
        let mut scene = lib.scenes[id].clone();
        for (key, value) in input {
            match (key.as_str(), value) {
                ("ids", _) | (_, Value::Null) => {}
                ("tag_ids", Value::Object(update)) => {
                    scene.tag_ids = bulk_ids(&scene.tag_ids, update)?;
                    check_exist(lib, Kind::Tag, &scene.tag_ids)?;
                }
                ("performer_ids", Value::Object(update)) => {
                    scene.performer_ids = bulk_ids(&scene.performer_ids, update)?;
                    check_exist(lib, Kind::Performer, &scene.performer_ids)?;
                }
                ("gallery_ids", Value::Object(update)) => {
                    scene.gallery_ids = bulk_ids(&scene.gallery_ids, update)?;
                    check_exist(lib, Kind::Gallery, &scene.gallery_ids)?;
                }
                ("urls", Value::Object(update)) => scene.urls = bulk_strings(&scene.urls, update)?,
                ("title", v) => scene.title = opt_string(v),
                ("code", v) => scene.code = opt_string(v),
                ("details", v) => scene.details = opt_string(v),
                ("director", v) => scene.director = opt_string(v),
                ("date", v) => scene.date = opt_string(v),
                ("rating100", v) => scene.rating100 = v.as_i64(),
                ("organized", v) => scene.organized = v.as_bool().unwrap_or(false),
                ("studio_id", v) => {
                    scene.studio_id = Some(parse_id(v)?);
                    check_exist(lib, Kind::Studio, scene.studio_id.as_slice())?;
                }
                (other, _) => {
                    return Err(field_error(format!("the fake Stash does not model BulkSceneUpdateInput.{other} yet")));
                }
            }
        }
        scene.updated_at.clone_from(&now);
        lib.scenes.insert(*id, scene);
        updated.push(*id);
    }
    Ok(updated)
}

/// `BulkUpdateStrings {values, mode}`: like the id lists, members only.
pub(super) fn bulk_strings(current: &[String], update: &Map<String, Value>) -> Result<Vec<String>, FieldError> {
    let values = string_vec(update.get("values").unwrap_or(&Value::Null));
    Ok(match update.get("mode").and_then(Value::as_str) {
        Some("SET") => values,
        Some("ADD") => {
            let mut urls = current.to_vec();
            urls.extend(values.into_iter().filter(|v| !current.contains(v)));
            urls
        }
        Some("REMOVE") => current.iter().filter(|u| !values.contains(u)).cloned().collect(),
        other => return Err(field_error(format!("unknown bulk update mode {other:?}"))),
    })
}

/// The fields images and galleries share, so one function applies an update input to either.
struct MediaFields<'m> {
    title: &'m mut Option<String>,
    code: &'m mut Option<String>,
    details: &'m mut Option<String>,
    photographer: &'m mut Option<String>,
    urls: &'m mut Vec<String>,
    date: &'m mut Option<String>,
    rating100: &'m mut Option<i64>,
    organized: &'m mut bool,
    studio_id: &'m mut Option<u64>,
    performer_ids: &'m mut Vec<u64>,
    tag_ids: &'m mut Vec<u64>,
}

/// Applies one key of an image or gallery update input: a key present — even null — is
/// applied; plain lists replace, `BulkUpdate…` objects edit members. `Ok(false)`: not a shared
/// field.
fn media_field(lib: &Library, fields: &mut MediaFields<'_>, key: &str, value: &Value) -> Result<bool, FieldError> {
    match (key, value) {
        ("title", v) => *fields.title = opt_string(v),
        ("code", v) => *fields.code = opt_string(v),
        ("details", v) => *fields.details = opt_string(v),
        ("photographer", v) => *fields.photographer = opt_string(v),
        ("date", v) => *fields.date = opt_string(v),
        ("rating100", v) => *fields.rating100 = v.as_i64(),
        ("organized", v) => *fields.organized = v.as_bool().unwrap_or(false),
        ("urls", Value::Object(update)) => *fields.urls = bulk_strings(fields.urls, update)?,
        ("urls", v) => *fields.urls = string_vec(v),
        ("studio_id", Value::Null) => *fields.studio_id = None,
        ("studio_id", v) => {
            *fields.studio_id = Some(parse_id(v)?);
            check_exist(lib, Kind::Studio, fields.studio_id.as_slice())?;
        }
        ("tag_ids", Value::Object(update)) => *fields.tag_ids = bulk_ids(fields.tag_ids, update)?,
        ("tag_ids", v) => *fields.tag_ids = dedup(ids_vec(v)?),
        ("performer_ids", Value::Object(update)) => *fields.performer_ids = bulk_ids(fields.performer_ids, update)?,
        ("performer_ids", v) => *fields.performer_ids = dedup(ids_vec(v)?),
        _ => return Ok(false),
    }
    check_exist(lib, Kind::Tag, fields.tag_ids)?;
    check_exist(lib, Kind::Performer, fields.performer_ids)?;
    Ok(true)
}

fn image_fields(image: &mut Image) -> (MediaFields<'_>, &mut Vec<u64>) {
    let fields = MediaFields {
        title: &mut image.title,
        code: &mut image.code,
        details: &mut image.details,
        photographer: &mut image.photographer,
        urls: &mut image.urls,
        date: &mut image.date,
        rating100: &mut image.rating100,
        organized: &mut image.organized,
        studio_id: &mut image.studio_id,
        performer_ids: &mut image.performer_ids,
        tag_ids: &mut image.tag_ids,
    };
    (fields, &mut image.gallery_ids)
}

fn gallery_fields(gallery: &mut Gallery) -> MediaFields<'_> {
    MediaFields {
        title: &mut gallery.title,
        code: &mut gallery.code,
        details: &mut gallery.details,
        photographer: &mut gallery.photographer,
        urls: &mut gallery.urls,
        date: &mut gallery.date,
        rating100: &mut gallery.rating100,
        organized: &mut gallery.organized,
        studio_id: &mut gallery.studio_id,
        performer_ids: &mut gallery.performer_ids,
        tag_ids: &mut gallery.tag_ids,
    }
}

/// Applies an image update input to the images `ids`, all or none; bumps their `updated_at`.
fn update_images(
    lib: &mut Library,
    ids: &[u64],
    input: &Map<String, Value>,
    input_type: &str,
) -> Result<(), FieldError> {
    check_exist(lib, Kind::Image, ids)?;
    let now = lib.tick();
    let mut updated = Vec::new();
    for id in ids {
        let mut image = lib.images[id].clone();
        let (mut fields, gallery_ids) = image_fields(&mut image);
        for (key, value) in input {
            match (key.as_str(), value) {
                ("id" | "ids", _) => {}
                ("gallery_ids", Value::Object(update)) => *gallery_ids = bulk_ids(gallery_ids, update)?,
                ("gallery_ids", v) => *gallery_ids = dedup(ids_vec(v)?),
                (key, value) => {
                    if !media_field(lib, &mut fields, key, value)? {
                        return Err(field_error(format!("the fake Stash does not model {input_type}.{key} yet")));
                    }
                }
            }
        }
        check_exist(lib, Kind::Gallery, gallery_ids)?;
        image.updated_at.clone_from(&now);
        updated.push(image);
    }
    for image in updated {
        lib.images.insert(image.id, image);
    }
    Ok(())
}

/// `imageUpdate`: list fields replace.
pub(super) fn image_update(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let id = parse_id(input.get("id").unwrap_or(&Value::Null))?;
    update_images(lib, &[id], input, "ImageUpdateInput")?;
    Ok(id)
}

/// `bulkImageUpdate`: ADD/REMOVE touch only the named members, for every image, atomically.
pub(super) fn bulk_image_update(lib: &mut Library, input: &Map<String, Value>) -> Result<Vec<u64>, FieldError> {
    let ids = ids_vec(input.get("ids").unwrap_or(&Value::Null))?;
    update_images(lib, &ids, input, "BulkImageUpdateInput")?;
    Ok(ids)
}

/// `galleryCreate`: a gallery made by hand (no folder). `scene_ids` links scenes.
pub(super) fn gallery_create(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let mut gallery = Gallery::default();
    let mut scene_ids = Vec::new();
    {
        let mut fields = gallery_fields(&mut gallery);
        for (key, value) in input {
            match key.as_str() {
                "scene_ids" => {
                    scene_ids = dedup(ids_vec(value)?);
                    check_exist(lib, Kind::Scene, &scene_ids)?;
                }
                key => {
                    if !media_field(lib, &mut fields, key, value)? {
                        return Err(field_error(format!("the fake Stash does not model GalleryCreateInput.{key} yet")));
                    }
                }
            }
        }
    }
    if gallery.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(field_error("title must be set"));
    }
    let id = lib.add_gallery(gallery);
    for scene in lib.scenes.values_mut().filter(|s| scene_ids.contains(&s.id)) {
        scene.gallery_ids.push(id);
    }
    Ok(id)
}

/// `galleryUpdate` / `bulkGalleryUpdate`: the galleries `ids`, all or none; `scene_ids`
/// replaces (or, as `BulkUpdateIds`, edits) which scenes link them.
pub(super) fn gallery_update(
    lib: &mut Library,
    ids: &[u64],
    input: &Map<String, Value>,
    input_type: &str,
) -> Result<(), FieldError> {
    check_exist(lib, Kind::Gallery, ids)?;
    let now = lib.tick();
    let mut updated = Vec::new();
    let mut links: Vec<(u64, Vec<u64>)> = Vec::new();
    for id in ids {
        let mut gallery = lib.galleries[id].clone();
        let mut fields = gallery_fields(&mut gallery);
        for (key, value) in input {
            match (key.as_str(), value) {
                ("id" | "ids" | "clientMutationId", _) => {}
                ("scene_ids", Value::Object(update)) => {
                    let scenes = bulk_ids(&lib.gallery_scene_ids(*id), update)?;
                    check_exist(lib, Kind::Scene, &scenes)?;
                    links.push((*id, scenes));
                }
                ("scene_ids", v) => {
                    let scenes = dedup(ids_vec(v)?);
                    check_exist(lib, Kind::Scene, &scenes)?;
                    links.push((*id, scenes));
                }
                (key, value) => {
                    if !media_field(lib, &mut fields, key, value)? {
                        return Err(field_error(format!("the fake Stash does not model {input_type}.{key} yet")));
                    }
                }
            }
        }
        gallery.updated_at.clone_from(&now);
        updated.push(gallery);
    }
    for gallery in updated {
        lib.galleries.insert(gallery.id, gallery);
    }
    for (gallery, scenes) in links {
        for scene in lib.scenes.values_mut() {
            let linked = scenes.contains(&scene.id);
            if linked != scene.gallery_ids.contains(&gallery) {
                scene.gallery_ids.retain(|g| *g != gallery);
                if linked {
                    scene.gallery_ids.push(gallery);
                }
            }
        }
    }
    Ok(())
}

/// `tagCreate`: the name must not equal (ASCII case-insensitively) any tag's name or alias.
pub(super) fn tag_create(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let name = input.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let clash = lib
        .tags
        .values()
        .any(|t| t.name.eq_ignore_ascii_case(&name) || t.aliases.iter().any(|a| a.eq_ignore_ascii_case(&name)));
    if clash {
        return Err(field_error(format!("tag with name '{name}' already exists")));
    }
    let now = lib.now();
    let mut tag = Tag { name, ..Tag::default() };
    for (key, value) in input {
        match key.as_str() {
            "name" => {}
            "sort_name" => tag.sort_name = opt_string(value),
            "description" => tag.description = opt_string(value),
            "aliases" => tag.aliases = string_vec(value),
            "ignore_auto_tag" => tag.ignore_auto_tag = value.as_bool().unwrap_or(false),
            "favorite" => tag.favorite = value.as_bool().unwrap_or(false),
            "stash_ids" => tag.stash_ids = stash_ids_input(value, &now),
            "parent_ids" => {
                tag.parent_ids = ids_vec(value)?;
                check_exist(lib, Kind::Tag, &tag.parent_ids)?;
            }
            other => {
                return Err(field_error(format!("the fake Stash does not model TagCreateInput.{other} yet")));
            }
        }
    }
    Ok(lib.insert_tag(tag))
}

/// Two names Stash's uniqueness checks call equal: SQLite `LIKE` without wildcards, i.e. ASCII
/// case-insensitive.
pub(super) fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `performerCreate`, validated like Stash's `performer.ValidateCreate`: a blank name is
/// refused, and so is a name another performer has with the same disambiguation (both empty
/// counts as the same). Aliases are not checked: two performers may share a name as long as a
/// disambiguation tells them apart.
pub(super) fn performer_create(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let name = input.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(field_error("performer name must not be blank"));
    }
    let disambiguation = input.get("disambiguation").and_then(Value::as_str).filter(|d| !d.is_empty());
    let clash = lib.performers.values().any(|p| {
        same_name(&p.name, &name)
            && match (p.disambiguation.as_deref().filter(|d| !d.is_empty()), disambiguation) {
                (None, None) => true,
                (Some(a), Some(b)) => same_name(a, b),
                _ => false,
            }
    });
    if clash {
        return Err(field_error(match disambiguation {
            Some(d) => format!("performer with name '{name}' and disambiguation '{d}' already exists"),
            None => format!("performer with name '{name}' already exists"),
        }));
    }
    let now = lib.now();
    let mut performer = Performer { name, ..Performer::default() };
    for (key, value) in input {
        match key.as_str() {
            "name" => {}
            "disambiguation" => performer.disambiguation = opt_string(value),
            "alias_list" => performer.alias_list = string_vec(value),
            "urls" => performer.urls = string_vec(value),
            "details" => performer.details = opt_string(value),
            "ignore_auto_tag" => performer.ignore_auto_tag = value.as_bool().unwrap_or(false),
            "stash_ids" => performer.stash_ids = stash_ids_input(value, &now),
            other => {
                return Err(field_error(format!("the fake Stash does not model PerformerCreateInput.{other} yet")));
            }
        }
    }
    Ok(lib.insert_performer(performer))
}

/// `studioCreate`, validated like Stash's `studio.EnsureStudioNameUnique`: the name must not
/// equal (ASCII case-insensitively) another studio's name or alias.
pub(super) fn studio_create(lib: &mut Library, input: &Map<String, Value>) -> Result<u64, FieldError> {
    let name = input.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(field_error("studio name must not be blank"));
    }
    if lib.studios.values().any(|s| same_name(&s.name, &name)) {
        return Err(field_error(format!("studio with name '{name}' already exists")));
    }
    if let Some(other) = lib.studios.values().find(|s| s.aliases.iter().any(|a| same_name(a, &name))) {
        return Err(field_error(format!("name '{name}' is used as alias for '{}'", other.name)));
    }
    let now = lib.now();
    let mut studio = Studio { name, ..Studio::default() };
    for (key, value) in input {
        match key.as_str() {
            "name" => {}
            "aliases" => studio.aliases = string_vec(value),
            "urls" => studio.urls = string_vec(value),
            "details" => studio.details = opt_string(value),
            "ignore_auto_tag" => studio.ignore_auto_tag = value.as_bool().unwrap_or(false),
            "stash_ids" => studio.stash_ids = stash_ids_input(value, &now),
            "parent_id" => {
                studio.parent_id = Some(parse_id(value)?);
                check_exist(lib, Kind::Studio, studio.parent_id.as_slice())?;
            }
            other => {
                return Err(field_error(format!("the fake Stash does not model StudioCreateInput.{other} yet")));
            }
        }
    }
    Ok(lib.insert_studio(studio))
}
