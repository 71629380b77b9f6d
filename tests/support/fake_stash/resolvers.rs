//! The fake Stash: resolvers.

use super::*;

/// What every resolver of one request shares: the state (borrowed per field, so mutations can
/// write between fields) and the request's seed.
#[derive(Clone, Copy)]
pub(super) struct Cx<'a> {
    pub(super) st: &'a RefCell<&'a mut StashState>,
    pub(super) seed: u64,
}

pub(super) fn nm(type_name: &str, field: &str) -> FieldError {
    not_modelled(Api::Stash, type_name, field)
}

pub(super) fn id_leaf<'a>(id: u64) -> ResolvedValue<'a> {
    ResolvedValue::leaf(id.to_string())
}

pub(super) fn parse_id(value: &Value) -> Result<u64, FieldError> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.parse().map_err(|_| field_error(format!("strconv.Atoi: parsing {text:?}: invalid syntax")))
}

pub(super) fn parse_ids(value: Option<&Value>) -> Result<Option<Vec<u64>>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items.iter().map(parse_id).collect::<Result<_, _>>().map(Some),
        Some(other) => Err(field_error(format!("expected a list of ids, got {other}"))),
    }
}

pub(super) fn stash_ids_value<'a>(stash_ids: &[StashId]) -> ResolvedValue<'a> {
    let items: Vec<ResolvedValue<'a>> = stash_ids
        .iter()
        .map(|s| {
            ResolvedValue::object(JsonObject::new(
                "StashID",
                json!({"endpoint": s.endpoint, "stash_id": s.stash_id, "updated_at": s.updated_at}),
            ))
        })
        .collect();
    ResolvedValue::list(items)
}

pub(super) struct QueryRoot<'c> {
    pub(super) cx: Cx<'c>,
}

impl ObjectValue for QueryRoot<'_> {
    fn type_name(&self) -> &str {
        "Query"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let cx = self.cx;
        let args = arguments(info);
        match info.field_name() {
            "version" => {
                let st = cx.st.borrow();
                let c = &st.config;
                Ok(ResolvedValue::object(JsonObject::new(
                    "Version",
                    json!({"version": c.version, "hash": c.hash, "build_time": c.build_time}),
                )))
            }
            "systemStatus" => {
                let st = cx.st.borrow();
                let c = &st.config;
                Ok(ResolvedValue::object(JsonObject::new(
                    "SystemStatus",
                    json!({
                        "status": c.status.as_str(),
                        "databaseSchema": c.database_schema,
                        "appSchema": c.app_schema,
                        "databasePath": "/root/.stash/stash-go.sqlite",
                        "configPath": "/root/.stash/config.yml",
                        "os": "linux",
                        "workingDir": "/root",
                        "homeDir": "/root",
                    }),
                )))
            }
            "configuration" => Ok(ResolvedValue::object(ConfigObj { cx })),
            "findScenes" => find(cx, Kind::Scene, &args),
            "findTags" => find(cx, Kind::Tag, &args),
            "findPerformers" => find(cx, Kind::Performer, &args),
            "findStudios" => find(cx, Kind::Studio, &args),
            "findImages" => find(cx, Kind::Image, &args),
            "findGalleries" => find(cx, Kind::Gallery, &args),
            field @ ("findImage" | "findGallery") => {
                let kind = if field == "findImage" { Kind::Image } else { Kind::Gallery };
                let Some(id) = args.get("id").filter(|v| !v.is_null()) else {
                    return Err(field_error(format!("the fake Stash models {field} by id only")));
                };
                let id = parse_id(id)?;
                let exists = {
                    let st = cx.st.borrow();
                    match kind {
                        Kind::Image => st.library.images.contains_key(&id),
                        _ => st.library.galleries.contains_key(&id),
                    }
                };
                Ok(ResolvedValue::nullable_object(exists.then(|| EntityObj::new(cx, kind, id))))
            }
            "findScene" => {
                let st = cx.st.borrow();
                let scenes = &st.library.scenes;
                let found = if let Some(id) = args.get("id").filter(|v| !v.is_null()) {
                    let id = parse_id(id)?;
                    scenes.contains_key(&id).then_some(id)
                } else if let Some(checksum) = args.get("checksum").and_then(Value::as_str) {
                    scenes
                        .values()
                        .find(|s| {
                            s.files.iter().any(|f| {
                                f.fingerprints
                                    .iter()
                                    .any(|fp| (fp.kind == "md5" || fp.kind == "oshash") && fp.value == checksum)
                            })
                        })
                        .map(|s| s.id)
                } else {
                    None
                };
                Ok(ResolvedValue::nullable_object(found.map(|id| EntityObj::new(cx, Kind::Scene, id))))
            }
            field @ ("findTag" | "findPerformer" | "findStudio") => {
                let kind = match field {
                    "findTag" => Kind::Tag,
                    "findPerformer" => Kind::Performer,
                    _ => Kind::Studio,
                };
                let id = parse_id(args.get("id").unwrap_or(&Value::Null))?;
                let exists = {
                    let st = cx.st.borrow();
                    let lib = &st.library;
                    match kind {
                        Kind::Tag => lib.tags.contains_key(&id),
                        Kind::Performer => lib.performers.contains_key(&id),
                        _ => lib.studios.contains_key(&id),
                    }
                };
                Ok(ResolvedValue::nullable_object(exists.then(|| EntityObj::new(cx, kind, id))))
            }
            other => Err(nm("Query", other)),
        }
    }
}

pub(super) struct ConfigObj<'c> {
    pub(super) cx: Cx<'c>,
}

impl ObjectValue for ConfigObj<'_> {
    fn type_name(&self) -> &str {
        "ConfigResult"
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let st = self.cx.st.borrow();
        let c = &st.config;
        match info.field_name() {
            "general" => {
                let boxes: Vec<Value> = c
                    .stash_boxes
                    .iter()
                    .map(|b| {
                        json!({
                            "endpoint": b.endpoint,
                            "api_key": b.api_key,
                            "name": b.name,
                            "max_requests_per_minute": b.max_requests_per_minute,
                        })
                    })
                    .collect();
                Ok(ResolvedValue::object(JsonObject::new(
                    "ConfigGeneralResult",
                    json!({ "stashBoxes": boxes, "configFilePath": c.config_file_path }),
                )))
            }
            "scraping" => Ok(ResolvedValue::object(JsonObject::new(
                "ConfigScrapingResult",
                json!({
                    "excludeTagPatterns": c.exclude_tag_patterns,
                    "scraperCertCheck": true,
                }),
            ))),
            "plugins" => {
                let include: Option<Vec<String>> = arguments(info)
                    .get("include")
                    .and_then(Value::as_array)
                    .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_owned).collect());
                let map: Map<String, Value> = c
                    .plugins
                    .iter()
                    .filter(|(id, _)| include.as_ref().is_none_or(|inc| inc.contains(id)))
                    .map(|(id, settings)| (id.clone(), Value::Object(settings.clone())))
                    .collect();
                Ok(ResolvedValue::Leaf(gql::to_json_value(&Value::Object(map))))
            }
            "ui" => Ok(ResolvedValue::Leaf(gql::to_json_value(&json!({})))),
            other => Err(nm("ConfigResult", other)),
        }
    }
}
