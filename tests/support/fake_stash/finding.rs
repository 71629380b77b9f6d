//! The fake Stash: finding.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Scene,
    Tag,
    Performer,
    Studio,
    Image,
    Gallery,
}

impl Kind {
    pub(super) fn object_type(self) -> &'static str {
        match self {
            Kind::Scene => "Scene",
            Kind::Tag => "Tag",
            Kind::Performer => "Performer",
            Kind::Studio => "Studio",
            Kind::Image => "Image",
            Kind::Gallery => "Gallery",
        }
    }

    pub(super) fn result_type(self) -> &'static str {
        match self {
            Kind::Scene => "FindScenesResultType",
            Kind::Tag => "FindTagsResultType",
            Kind::Performer => "FindPerformersResultType",
            Kind::Studio => "FindStudiosResultType",
            Kind::Image => "FindImagesResultType",
            Kind::Gallery => "FindGalleriesResultType",
        }
    }

    pub(super) fn list_field(self) -> &'static str {
        match self {
            Kind::Scene => "scenes",
            Kind::Tag => "tags",
            Kind::Performer => "performers",
            Kind::Studio => "studios",
            Kind::Image => "images",
            Kind::Gallery => "galleries",
        }
    }

    pub(super) fn filter_arg(self) -> &'static str {
        match self {
            Kind::Scene => "scene_filter",
            Kind::Tag => "tag_filter",
            Kind::Performer => "performer_filter",
            Kind::Studio => "studio_filter",
            Kind::Image => "image_filter",
            Kind::Gallery => "gallery_filter",
        }
    }

    /// The field holding the entity's name (`title` for scenes).
    pub(super) fn name_field(self) -> &'static str {
        match self {
            Kind::Scene | Kind::Image | Kind::Gallery => "title",
            _ => "name",
        }
    }

    /// Stash's allowed sorts (sqlite/*.go `…SortOptions`); anything else is "invalid sort".
    fn sort_options(self) -> &'static [&'static str] {
        match self {
            Kind::Scene => &[
                "bitrate",
                "created_at",
                "code",
                "date",
                "production_date",
                "file_count",
                "filesize",
                "duration",
                "file_mod_time",
                "framerate",
                "group_scene_number",
                "id",
                "interactive",
                "interactive_speed",
                "last_o_at",
                "last_played_at",
                "movie_scene_number",
                "o_counter",
                "organized",
                "performer_count",
                "play_count",
                "play_duration",
                "resume_time",
                "path",
                "perceptual_similarity",
                "random",
                "rating",
                "resolution",
                "studio",
                "tag_count",
                "title",
                "updated_at",
                "performer_age",
            ],
            Kind::Tag => &[
                "created_at",
                "galleries_count",
                "id",
                "images_count",
                "name",
                "performers_count",
                "random",
                "scene_markers_count",
                "scenes_count",
                "updated_at",
            ],
            Kind::Performer => &[
                "birthdate",
                "career_length",
                "created_at",
                "galleries_count",
                "height",
                "id",
                "images_count",
                "last_o_at",
                "last_played_at",
                "measurements",
                "name",
                "o_counter",
                "penis_length",
                "play_count",
                "random",
                "rating",
                "scenes_count",
                "scenes_duration",
                "tag_count",
                "updated_at",
                "weight",
            ],
            Kind::Studio => &[
                "child_count",
                "created_at",
                "galleries_count",
                "id",
                "images_count",
                "name",
                "scenes_count",
                "random",
                "rating",
                "tag_count",
                "updated_at",
            ],
            Kind::Image => &[
                "created_at",
                "date",
                "file_count",
                "file_mod_time",
                "filesize",
                "id",
                "o_counter",
                "path",
                "performer_count",
                "random",
                "rating",
                "tag_count",
                "title",
                "updated_at",
            ],
            Kind::Gallery => &[
                "created_at",
                "date",
                "file_mod_time",
                "id",
                "image_count",
                "path",
                "performer_count",
                "random",
                "rating",
                "tag_count",
                "title",
                "updated_at",
            ],
        }
    }

    /// Whether Stash's query for this kind has no `ORDER BY` when no sort is given.
    fn unordered_by_default(self) -> bool {
        matches!(self, Kind::Scene | Kind::Image | Kind::Gallery)
    }
}

/// The columns the finder needs from any entity.
pub(super) trait Row {
    fn id(&self) -> u64;
    fn name(&self) -> Option<&str>;
    fn created_at(&self) -> &str;
    fn updated_at(&self) -> &str;
    fn stash_ids(&self) -> &[StashId];
    /// Texts `filter.q` searches (approximately Stash's search columns).
    fn search_texts(&self) -> Vec<&str>;
    fn organized(&self) -> Option<bool> {
        None
    }
    fn date(&self) -> Option<&str> {
        None
    }
    fn code(&self) -> Option<&str> {
        None
    }
    /// `COALESCE(title, files.basename)` for scenes; the name otherwise.
    fn title_sort(&self) -> Option<&str> {
        self.name()
    }
}

impl Row for Scene {
    fn id(&self) -> u64 {
        self.id
    }
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> =
            [&self.title, &self.details, &self.code].into_iter().filter_map(|t| t.as_deref()).collect();
        texts.extend(self.files.iter().map(|f| f.path.as_str()));
        texts
    }
    fn organized(&self) -> Option<bool> {
        Some(self.organized)
    }
    fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }
    fn title_sort(&self) -> Option<&str> {
        self.title.as_deref().or_else(|| self.files.first().map(|f| basename(&f.path)))
    }
}

impl Row for Tag {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str)).collect()
    }
}

impl Row for Performer {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str()).chain(self.alias_list.iter().map(String::as_str)).collect()
    }
}

impl Row for Studio {
    fn id(&self) -> u64 {
        self.id
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &self.stash_ids
    }
    fn search_texts(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str)).collect()
    }
}

impl Row for Image {
    fn id(&self) -> u64 {
        self.id
    }
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &[]
    }
    fn search_texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = [&self.title, &self.code].into_iter().filter_map(|t| t.as_deref()).collect();
        texts.extend(self.files.iter().map(|f| f.path.as_str()));
        texts
    }
    fn organized(&self) -> Option<bool> {
        Some(self.organized)
    }
    fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }
    fn title_sort(&self) -> Option<&str> {
        self.title.as_deref().or_else(|| self.files.first().map(|f| basename(&f.path)))
    }
}

impl Row for Gallery {
    fn id(&self) -> u64 {
        self.id
    }
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn updated_at(&self) -> &str {
        &self.updated_at
    }
    fn stash_ids(&self) -> &[StashId] {
        &[]
    }
    fn search_texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = [&self.title, &self.code].into_iter().filter_map(|t| t.as_deref()).collect();
        texts.extend(self.folder_path.as_deref());
        texts
    }
    fn organized(&self) -> Option<bool> {
        Some(self.organized)
    }
    fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }
}

pub(super) fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

pub(super) fn find<'c: 'a, 'a>(
    cx: Cx<'c>,
    kind: Kind,
    args: &Map<String, Value>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let st = cx.st.borrow();
    let lib = &st.library;
    let page = match kind {
        Kind::Scene => query(&lib.scenes, kind, args, cx.seed)?,
        Kind::Tag => query(&lib.tags, kind, args, cx.seed)?,
        Kind::Performer => query(&lib.performers, kind, args, cx.seed)?,
        Kind::Studio => query(&lib.studios, kind, args, cx.seed)?,
        Kind::Image => query(&lib.images, kind, args, cx.seed)?,
        Kind::Gallery => query(&lib.galleries, kind, args, cx.seed)?,
    };
    let (duration, filesize) = if kind == Kind::Scene {
        page.all.iter().filter_map(|id| lib.scenes.get(id)).fold((0.0, 0.0), |(d, s), scene| {
            scene.files.iter().fold((d, s), |(d, s), f| (d + f.duration, s + f.size as f64))
        })
    } else {
        (0.0, 0.0)
    };
    Ok(ResolvedValue::object(FindResult { cx, kind, count: page.all.len(), ids: page.ids, duration, filesize }))
}

pub(super) struct Page {
    /// Every matching id (for `count` and totals).
    pub(super) all: Vec<u64>,
    /// The requested page, in order.
    pub(super) ids: Vec<u64>,
}

/// Stash's `Query`: filter, sort, paginate.
pub(super) fn query<E: Row>(
    rows: &BTreeMap<u64, E>,
    kind: Kind,
    args: &Map<String, Value>,
    seed: u64,
) -> Result<Page, FieldError> {
    let empty = Map::new();
    let find_filter = args.get("filter").and_then(Value::as_object);
    let ff = find_filter.unwrap_or(&empty);
    let predicates = match args.get(kind.filter_arg()) {
        Some(Value::Object(filter)) => compile_filter(kind, filter)?,
        _ => Vec::new(),
    };
    let mut restrict = parse_ids(args.get("ids"))?;
    let legacy_ids = match kind {
        Kind::Scene => args.get("scene_ids"),
        Kind::Performer => args.get("performer_ids"),
        _ => None,
    };
    if let Some(legacy) = parse_ids(legacy_ids)? {
        restrict.get_or_insert_with(Vec::new).extend(legacy);
    }
    let q = ff.get("q").and_then(Value::as_str).filter(|q| !q.is_empty()).map(str::to_ascii_lowercase);

    let matches = |row: &E| {
        predicates.iter().all(|p| p.eval(row))
            && q.as_ref().is_none_or(|q| row.search_texts().iter().any(|t| t.to_ascii_lowercase().contains(q.as_str())))
    };
    let mut matched: Vec<&E> = match &restrict {
        Some(wanted) => {
            let wanted: BTreeSet<u64> = wanted.iter().copied().collect();
            wanted.iter().filter_map(|id| rows.get(id)).filter(|r| matches(r)).collect()
        }
        None => rows.values().filter(|r| matches(r)).collect(),
    };

    sort(kind, ff, &mut matched, seed)?;

    let ids: Vec<u64> = matched.iter().map(|r| r.id()).collect();
    let all = ids.clone();
    // Stash's FindFilterType.GetPageSize: 25 by default, -1 for all, never more than 1000.
    let per_page = ff.get("per_page").and_then(Value::as_i64).unwrap_or(25).min(1000);
    let page = ff.get("page").and_then(Value::as_i64).unwrap_or(1).max(1);
    let ids = if per_page < 0 {
        ids
    } else {
        let start = ((page - 1) * per_page) as usize;
        ids.into_iter().skip(start).take(per_page as usize).collect()
    };
    Ok(Page { all, ids })
}

/// Orders `ids` like Stash's SQL. Scenes, images and galleries without `sort` get NO order at all (a new shuffle per
/// request); tags, performers and studios default to `name`. Whatever the sort, Stash adds a
/// final `COALESCE(name|title, id) COLLATE NATURAL_CI ASC`; rows still tied after that come
/// back in an order that changes from request to request (a per-request random key).
pub(super) fn sort<E: Row>(
    kind: Kind,
    ff: &Map<String, Value>,
    rows: &mut Vec<&E>,
    seed: u64,
) -> Result<(), FieldError> {
    let requested = ff.get("sort").and_then(Value::as_str);
    let sort = match (kind, requested) {
        (kind, None | Some("")) if kind.unordered_by_default() => {
            SplitMix(seed).shuffle(rows);
            return Ok(());
        }
        (_, None) => "name",
        (_, Some(sort)) => sort,
    };
    if let Some(random_seed) = sort.strip_prefix("random_") {
        if random_seed.parse::<u64>().is_err() {
            return Err(field_error(format!("invalid random seed: {random_seed}")));
        }
    } else if !kind.sort_options().contains(&sort) {
        return Err(field_error(format!("invalid sort: {sort}")));
    }
    let descending = ff.get("direction").and_then(Value::as_str) == Some("DESC");
    if sort == "id" {
        // ids are unique and already ascending (BTreeMap order).
        if descending {
            rows.reverse();
        }
        return Ok(());
    }
    if sort == "random" || sort.starts_with("random_") {
        SplitMix(seed).shuffle(rows);
        return Ok(());
    }
    // (primary key, compare naturally?) per sort; keys are borrowed, computed once per row.
    let (primary, natural): (fn(&E) -> Option<&str>, bool) = match sort {
        "updated_at" => (|r| Some(r.updated_at()), false),
        "created_at" => (|r| Some(r.created_at()), false),
        "name" | "title" => (|r| r.title_sort(), true),
        "date" if kind.unordered_by_default() => (|r| r.date(), false),
        "organized" if kind == Kind::Scene => (|r| r.organized().map(|o| if o { "1" } else { "0" }), false),
        other => {
            return Err(field_error(format!(
                "the fake Stash does not model sort {other:?} for {} yet (extend tests/support/fake_stash.rs)",
                kind.object_type()
            )));
        }
    };
    struct Keyed<'r, E> {
        primary: Option<&'r str>,
        tie: Option<&'r str>,
        id: u64,
        row: &'r E,
    }
    let mut keyed: Vec<Keyed<'_, E>> =
        rows.iter().map(|&r| Keyed { primary: primary(r), tie: r.name(), id: r.id(), row: r }).collect();
    // Rows tied on everything Stash sorts by come back in an order that differs per request.
    let arbitrary = |id: u64| SplitMix(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next();
    keyed.sort_unstable_by(|a, b| {
        let first = nullable_cmp(a.primary, b.primary, |x, y| if natural { natural_cmp_ci(x, y) } else { x.cmp(y) });
        let first = if descending { first.reverse() } else { first };
        first
            .then_with(|| stash_tiebreak((a.tie, a.id), (b.tie, b.id)))
            .then_with(|| arbitrary(a.id).cmp(&arbitrary(b.id)))
    });
    *rows = keyed.into_iter().map(|k| k.row).collect();
    Ok(())
}

/// SQL ordering of nullable values: NULL first in ascending order.
pub(super) fn nullable_cmp(a: Option<&str>, b: Option<&str>, cmp: impl Fn(&str, &str) -> Ordering) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => cmp(a, b),
    }
}

/// `COALESCE(name, id) COLLATE NATURAL_CI ASC` on (name, id): an integer (a NULL name) sorts
/// before any text.
pub(super) fn stash_tiebreak(a: (Option<&str>, u64), b: (Option<&str>, u64)) -> Ordering {
    match (a.0, b.0) {
        (None, None) => a.1.cmp(&b.1),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => natural_cmp_ci(x, y),
    }
}

/// Stash's NATURAL_CI collation: case-insensitive, digit runs compared as numbers.
pub fn natural_cmp_ci(a: &str, b: &str) -> Ordering {
    let (ba, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ba.len() && j < bb.len() {
        if ba[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let run = |s: &[u8], mut k: usize| {
                while k < s.len() && s[k].is_ascii_digit() {
                    k += 1;
                }
                k
            };
            let (end_a, end_b) = (run(ba, i), run(bb, j));
            let strip = |s: &str| s.trim_start_matches('0').len();
            let (da, db) = (&a[i..end_a], &b[j..end_b]);
            let (na, nb) = (&da[da.len() - strip(da)..], &db[db.len() - strip(db)..]);
            let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if o != Ordering::Equal {
                return o;
            }
            (i, j) = (end_a, end_b);
        } else {
            // i and j always sit on character boundaries: digits are one byte.
            let (Some(ca), Some(cb)) = (a[i..].chars().next(), b[j..].chars().next()) else {
                break;
            };
            let o = if ca.is_ascii() && cb.is_ascii() {
                ca.to_ascii_lowercase().cmp(&cb.to_ascii_lowercase())
            } else {
                ca.to_lowercase().cmp(cb.to_lowercase())
            };
            if o != Ordering::Equal {
                return o;
            }
            i += ca.len_utf8();
            j += cb.len_utf8();
        }
    }
    (ba.len() - i).cmp(&(bb.len() - j))
}

/// SQLite's `LIKE` without ESCAPE: `%` and `_` are wildcards, ASCII letters compare
/// case-insensitively, nothing else is folded.
pub fn sqlite_like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let eq = |a: char, b: char| a.eq_ignore_ascii_case(&b);
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || (p[pi] != '%' && eq(p[pi], t[ti]))) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}
