//! Reading fansly-scraper's database, both eras, through the library's reader: the same
//! fixture written as an SQLite-era file and into a real PostgreSQL server must read back the
//! same, and every file of the scenario must lead to the media its name and the database say.

use stashhog::fansly::model::{ItemId, NotFound};
use stashhog::fansly::source::PgTarget;
use stashhog::fansly::{Library, Located, Source};

use crate::support::fansly::pg::Server;
use crate::support::fansly::scenario::{self, *};
use crate::support::temp::TempDir;

fn read(source: &Source) -> Library {
    let mut connection = source.open().expect("open the scraper database");
    Library::read(&mut connection).expect("read the scraper database")
}

fn sqlite_library() -> (TempDir, Library) {
    let dir = TempDir::new("fansly-sqlite");
    let path = dir.path().join("metadata_db.sqlite3");
    scenario::standard().fixture.write_sqlite(&path);
    let library = read(&Source::Sqlite(path));
    (dir, library)
}

fn postgres_library(server: &Server, database: &str) -> Library {
    scenario::standard().fixture.write_postgres(server, database);
    read(&Source::Postgres(PgTarget {
        host: server.host.clone(),
        port: server.port,
        database: database.into(),
        user: server.user.clone(),
        password: None,
    }))
}

/// What the tests check of a library, as comparable values.
fn digest(library: &Library) -> String {
    let mut out = String::new();
    for (id, item) in &library.items {
        out.push_str(&format!("{id:?} creator={} date={:?} content={:?}\n", item.creator_id, item.date, item.content));
        out.push_str(&format!("  media={:?}\n", library.item_media[id]));
    }
    let mut hashtags: Vec<_> = library.hashtags.iter().collect();
    hashtags.sort();
    let mut mentions: Vec<_> = library.mentions.iter().collect();
    mentions.sort();
    out.push_str(&format!("hashtags={hashtags:?}\nmentions={mentions:?}\n"));
    for file in scenario::standard().files {
        out.push_str(&format!("{} -> {:?}\n", file.path, library.locate(&file.path)));
    }
    out
}

fn check_standard(library: &Library) {
    let items: Vec<ItemId> = library.items.keys().copied().collect();
    // The stub post and the text-only reply have no media: no gallery for them.
    assert_eq!(
        items,
        vec![
            ItemId::Post(P_BEACH),
            ItemId::Post(P_BUNDLE),
            ItemId::Post(P_AGAIN),
            ItemId::Post(P_LEGACY),
            ItemId::Post(Q_SUNSET),
            ItemId::Message(M_VIDEO)
        ]
    );
    let beach = &library.items[&ItemId::Post(P_BEACH)];
    assert_eq!(beach.date.as_deref(), Some("2024-03-01"));
    assert_eq!(library.items[&ItemId::Post(P_LEGACY)].date.as_deref(), Some("2023-01-03"), "UTC date of createdAt");
    assert_eq!(library.items[&ItemId::Message(M_VIDEO)].creator_id, ANNA);
    // The bundle follows `pos`, not insertion order, and reaches media through account media.
    let bundle: Vec<i64> = library.item_media[&ItemId::Post(P_BUNDLE)].iter().map(|m| m.media_id).collect();
    assert_eq!(bundle, vec![I_BUNDLE_B, I_BUNDLE_A]);
    let beach_media = &library.item_media[&ItemId::Post(P_BEACH)];
    assert!(beach_media.iter().any(|m| m.media_id == I_LOCKED_PREVIEW && m.preview), "preview from the database");
    assert_eq!(library.hashtags[&P_BEACH], vec!["beach", "summer"]);
    assert_eq!(library.mentions[&P_BEACH], vec![("carla".to_string(), Some(CARLA)), ("ghost".to_string(), None)]);
    // One media in two posts: the earliest owner first.
    let owners: Vec<ItemId> = library.owners[&V_BEACH].iter().map(|(i, _)| *i).collect();
    assert_eq!(owners, vec![ItemId::Post(P_BEACH), ItemId::Post(P_AGAIN)]);

    let located = |name: &str| {
        let file = scenario::standard().files.into_iter().find(|f| f.path.contains(name)).expect("scenario file");
        library.locate(&file.path)
    };
    assert_eq!(located(&V_BEACH_HLS.to_string()), Located::Media { media_id: V_BEACH, by: "name" });
    assert_eq!(located(&I_LOCKED_PREVIEW.to_string()), Located::Media { media_id: I_LOCKED_PREVIEW, by: "name" });
    assert_eq!(located("hash2"), Located::Media { media_id: V_LEGACY, by: "id" });
    assert_eq!(located(&V_ORPHAN.to_string()), Located::NotFound(NotFound::NoPostOrMessage));
    assert_eq!(library.locate("/data/other/holiday.mp4"), Located::NotFound(NotFound::NoIdInName));
    assert_eq!(library.locate("/data/x/2024-01-01_at_00-00_UTC_id_999.mp4"), Located::NotFound(NotFound::UnknownMedia));
}

#[test]
fn sqlite_era_reads_items_media_and_files() {
    let (_dir, library) = sqlite_library();
    assert_eq!(
        library.era.as_ref().map(|e| (e.engine, e.revision.clone())),
        Some(("sqlite", Some("06658bf47c03".into())))
    );
    check_standard(&library);
}

#[test]
fn postgresql_era_reads_the_same_as_sqlite() {
    let Some(server) = Server::from_env("postgresql_era_reads_the_same_as_sqlite") else { return };
    let library = postgres_library(&server, "fansly_reader_same");
    assert_eq!(
        library.era.as_ref().map(|e| (e.engine, e.revision.clone())),
        Some(("postgresql", Some("b6d60f698c27".into())))
    );
    check_standard(&library);
    let (_dir, sqlite) = sqlite_library();
    assert_eq!(digest(&library), digest(&sqlite));
}

#[test]
fn a_file_that_is_not_a_database_gives_a_clear_error() {
    let dir = TempDir::new("fansly-bad");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not a database at all, just some text that is long enough").expect("write");
    let error = Source::Sqlite(path).open().err().expect("an error").to_string();
    assert!(error.contains("fansly"), "{error}");
    let missing = Source::Sqlite(dir.path().join("missing.sqlite3")).open().err().expect("an error").to_string();
    assert!(missing.contains("no such file") && missing.contains("fanslyDatabase"), "{missing}");
}

#[test]
fn the_database_file_is_never_written() {
    let dir = TempDir::new("fansly-ro");
    let path = dir.path().join("metadata_db.sqlite3");
    scenario::standard().fixture.write_sqlite(&path);
    let before = std::fs::read(&path).expect("read");
    let _ = read(&Source::Sqlite(path.clone()));
    assert_eq!(std::fs::read(&path).expect("read"), before);
    assert!(
        !dir.path().join("metadata_db.sqlite3-journal").exists()
            && !dir.path().join("metadata_db.sqlite3-wal").exists()
    );
}

mod proposal {
    //! The planner over the scenario, without a server: the rules a user relies on.

    use serde_json::json;
    use stashhog::fansly::propose::{Options, StashSide, propose};
    use stashhog::plans::{Action, Creation, Field};
    use stashhog::stash::ObjectKind;
    use stashhog::stash::{Performer, Scene, SceneFile, Studio, Tag};

    use super::*;

    fn performer(id: i64, name: &str, aliases: &[&str]) -> Performer {
        Performer {
            id,
            name: name.into(),
            disambiguation: None,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            urls: vec![],
            updated_at: String::new(),
            stash_ids: vec![],
        }
    }

    fn tag(id: i64, name: &str, aliases: &[&str]) -> Tag {
        Tag {
            id,
            name: name.into(),
            sort_name: None,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            ignore_auto_tag: false,
            updated_at: String::new(),
            stash_ids: vec![],
        }
    }

    fn scenes() -> Vec<Scene> {
        scenario::standard()
            .files
            .iter()
            .filter(|f| f.video)
            .enumerate()
            .map(|(i, f)| Scene {
                id: i as i64 + 1,
                files: vec![SceneFile { path: f.path.clone(), ..SceneFile::default() }],
                ..Scene::default()
            })
            .collect()
    }

    #[test]
    fn a_creator_is_never_matched_by_substring_and_missing_entities_are_created() {
        let (_dir, library) = sqlite_library();
        let scenes = scenes();
        let performers =
            vec![performer(1, "Annabelle", &["annabelle"]), performer(2, "Bella", &[]), performer(3, "Carla", &[])];
        let tags = vec![tag(10, "Beach", &[]), tag(11, "Summer Vibes", &["summer"]), tag(12, "Trailer", &[])];
        let studios: Vec<Studio> = vec![];
        let side = StashSide {
            scenes: &scenes,
            performers: &performers,
            studios: &studios,
            tags: &tags,
            ..Default::default()
        };
        let options = Options { preview_tag: Some("Trailer".into()), create_tags: true, ..Options::default() };
        let proposal = propose(&library, &side, &options);
        let creates: Vec<(ObjectKind, String)> = proposal
            .changes
            .iter()
            .filter(|c| c.action == Action::Create && c.entity != ObjectKind::Gallery)
            .map(|c| (c.entity, Creation::parse(&c.value).map(|c| c.name).unwrap_or_default()))
            .collect();
        // One gallery per post or message whose media Stash has, each with its item's id as code.
        let gallery_codes: Vec<String> = proposal
            .changes
            .iter()
            .filter(|c| c.action == Action::Create && c.entity == ObjectKind::Gallery)
            .filter_map(|c| Creation::parse(&c.value).and_then(|c| c.code))
            .collect();
        let distinct: std::collections::HashSet<&String> = gallery_codes.iter().collect();
        assert!(!gallery_codes.is_empty() && distinct.len() == gallery_codes.len(), "{gallery_codes:?}");
        assert!(
            proposal.changes.iter().any(|c| c.entity_id == Some(1) && c.field == Field::Galleries),
            "the beach video joins its post's gallery"
        );
        assert_eq!(
            creates,
            vec![
                (ObjectKind::Performer, "Anna Lee".to_string()),
                (ObjectKind::Studio, "Fansly (network)".to_string()),
                (ObjectKind::Studio, "anna (Fansly)".to_string()),
                (ObjectKind::Studio, "bella_new (Fansly)".to_string()),
            ],
            "Anna is not Annabelle; Bella is found by name although renamed"
        );
        assert_eq!(proposal.performer_links.get(&BELLA), Some(&2));
        // The beach video: earliest post's title, its date, the media id as code, the post URL,
        // Anna (to create) and Carla (mentioned, exists); ghost is nobody.
        let beach = 1;
        let of = |field: Field| -> Vec<serde_json::Value> {
            proposal
                .changes
                .iter()
                .filter(|c| c.entity_id == Some(beach) && c.field == field)
                .map(|c| c.value.clone())
                .collect()
        };
        assert_eq!(of(Field::Title), vec![json!("Beach day with @carla and @ghost #Beach #summer")]);
        assert_eq!(of(Field::Date), vec![json!("2024-03-01")]);
        assert_eq!(of(Field::Code), vec![json!(V_BEACH.to_string())]);
        assert_eq!(of(Field::Urls), vec![json!(format!("https://fansly.com/post/{P_BEACH}"))]);
        assert_eq!(of(Field::Performers), vec![json!({"created": 0}), json!(3)]);
        assert_eq!(of(Field::Tags), vec![json!(10), json!(11)], "beach by name, summer by alias");
        assert_eq!(proposal.report.files_not_matched.get("media_without_post_or_message"), Some(&1));
    }

    #[test]
    fn a_preview_gets_the_preview_tag_only_when_it_exists() {
        let (_dir, library) = sqlite_library();
        let preview = scenario::standard().files.into_iter().find(|f| f.path.contains("preview_id_")).expect("preview");
        let scenes = vec![Scene {
            id: 1,
            files: vec![SceneFile { path: preview.path, ..SceneFile::default() }],
            ..Scene::default()
        }];
        let tags = vec![tag(10, "Beach", &[]), tag(11, "Summer Vibes", &["summer"]), tag(12, "trailer", &[])];
        let side = StashSide { scenes: &scenes, tags: &tags, ..Default::default() };
        let options = Options { preview_tag: Some("Trailer".into()), ..Options::default() };
        let tagged: Vec<serde_json::Value> = propose(&library, &side, &options)
            .changes
            .iter()
            .filter(|c| c.field == Field::Tags)
            .map(|c| c.value.clone())
            .collect();
        assert_eq!(tagged, vec![json!(10), json!(11), json!(12)], "matched as the Tagger matches: ASCII case folds");
        let without = StashSide { scenes: &scenes, tags: &tags[..2], ..Default::default() };
        let proposal = propose(&library, &without, &options);
        assert!(proposal.report.preview_tag_missing);
        assert!(
            !proposal.changes.iter().any(|c| c.action == Action::Create && c.entity == ObjectKind::Tag),
            "never created"
        );
    }

    #[test]
    fn a_performer_fansly_scraper_made_is_found_by_its_profile_url() {
        let (_dir, library) = sqlite_library();
        let scenes = scenes();
        let mut old = performer(7, "Anna L.", &[]);
        old.urls = vec!["https://fansly.com/anna/posts".into()];
        let mut trap = performer(8, "Annabelle", &[]);
        trap.urls = vec!["https://fansly.com/annabelle".into()];
        let performers = vec![trap, old];
        let side = StashSide { scenes: &scenes, performers: &performers, ..Default::default() };
        let proposal = propose(&library, &side, &Options::default());
        assert_eq!(proposal.performer_links.get(&ANNA), Some(&7));
        let created: Vec<String> = proposal
            .changes
            .iter()
            .filter(|c| c.action == Action::Create && c.entity == ObjectKind::Performer)
            .filter_map(|c| Creation::parse(&c.value).map(|c| c.name))
            .collect();
        assert_eq!(created, vec!["Bella"], "Anna is found; only Bella (no performer here) is created");
    }

    #[test]
    fn filled_fields_are_kept_and_differences_proposed_at_lower_confidence() {
        let (_dir, library) = sqlite_library();
        let mut scenes = scenes();
        scenes[0].title = Some("My own title".into());
        scenes[0].date = Some("2024-03-01".into());
        scenes[1].organized = true;
        let side = StashSide { scenes: &scenes, ..Default::default() };
        let proposal = propose(&library, &side, &Options::default());
        let title = proposal
            .changes
            .iter()
            .find(|c| c.entity_id == Some(1) && c.field == Field::Title)
            .expect("a title change");
        assert_eq!(title.before, json!("My own title"));
        assert!(title.confidence < 0.5, "an overwrite is less sure: {}", title.confidence);
        assert!(
            !proposal.changes.iter().any(|c| c.entity_id == Some(1) && c.field == Field::Date),
            "same date: nothing"
        );
        assert!(!proposal.changes.iter().any(|c| c.entity_id == Some(2)), "organized: untouched");
        assert_eq!(proposal.report.organized_skipped, 1);
    }
}

mod scope {
    //! Narrowing an import: by creator, and by the folder Stash sees the downloads in.

    use stashhog::fansly::propose::{Options, StashSide, propose};
    use stashhog::stash::{Scene, SceneFile};

    use super::*;

    fn scene(id: i64, path: &str) -> Scene {
        Scene { id, files: vec![SceneFile { path: path.into(), ..SceneFile::default() }], ..Scene::default() }
    }

    #[test]
    fn only_the_named_creators_and_the_named_folder_are_imported() {
        let (_dir, library) = sqlite_library();
        let files = scenario::standard().files;
        let anna = files.iter().find(|f| f.path.contains(&V_MESSAGE.to_string())).expect("anna's video");
        let bella = files.iter().find(|f| f.path.contains(&V_SUNSET.to_string())).expect("bella's video");
        let elsewhere = anna.path.replace(ROOT, "/data/fansly2");
        let scenes = vec![scene(1, &anna.path), scene(2, &bella.path), scene(3, &elsewhere)];
        let side = StashSide { scenes: &scenes, ..Default::default() };

        let only_bella = Options { creators: vec!["Bella_New".into()], ..Options::default() };
        let touched: std::collections::BTreeSet<i64> =
            propose(&library, &side, &only_bella).changes.iter().filter_map(|c| c.entity_id).collect();
        assert_eq!(touched.into_iter().collect::<Vec<_>>(), vec![2]);

        let under_root = Options { stash_root: Some(format!("{ROOT}/")), ..Options::default() };
        let touched: std::collections::BTreeSet<i64> =
            propose(&library, &side, &under_root).changes.iter().filter_map(|c| c.entity_id).collect();
        assert_eq!(touched.into_iter().collect::<Vec<_>>(), vec![1, 2], "/data/fansly2 is not under /data/fansly");
    }
}

mod failures {
    //! What a user can get wrong, or what the scraper does under our feet.

    use super::*;

    #[test]
    fn a_database_replaced_while_reading_is_read_as_it_was_opened() {
        let dir = TempDir::new("fansly-replaced");
        let path = dir.path().join("metadata_db.sqlite3");
        scenario::standard().fixture.write_sqlite(&path);
        let mut connection = Source::Sqlite(path.clone()).open().expect("open");
        // The scraper's periodic sync: a new file written beside, then moved over the old one.
        let next = dir.path().join("metadata_db.sqlite3.tmp");
        crate::support::fansly::Fixture::default().write_sqlite(&next);
        std::fs::rename(&next, &path).expect("replace the database");
        let library = Library::read(&mut connection).expect("read the snapshot");
        check_standard(&library);
        let fresh = read(&Source::Sqlite(path));
        assert!(fresh.items.is_empty(), "a new import sees the new file");
    }

    #[test]
    fn an_unreachable_postgresql_server_gives_a_clear_error_without_the_password() {
        let target = PgTarget {
            host: "127.0.0.1".into(),
            port: 1,
            database: "fansly_metadata".into(),
            user: "fansly_user".into(),
            password: Some("hunter2".into()),
        };
        let error = Source::Postgres(target).open().err().expect("an error").to_string();
        assert!(error.contains("fansly_user@127.0.0.1:1/fansly_metadata") && error.contains("fanslyPg"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn a_database_migrated_by_hand_with_text_content_types_and_no_keys_reads_the_same() {
        let Some(server) = Server::from_env("a_database_migrated_by_hand_with_text_content_types") else { return };
        // fansly-scraper's migrate_to_postgres.py: generic types, `contentType` as text, no FKs.
        let without_keys = regex::Regex::new(r" REFERENCES \w+ \([^)]*\)( ON DELETE CASCADE)?").expect("regex");
        let schema =
            crate::support::fansly::schema::POSTGRES.replace("\"contentType\" contenttype", "\"contentType\" text");
        let schema = without_keys.replace_all(&schema, "");
        let mut client = server.create_database("fansly_reader_migrated");
        client.batch_execute(&schema).expect("migrated schema");
        let rows = scenario::standard()
            .fixture
            .sql(crate::support::fansly::Dialect::Postgres, "06658bf47c03")
            .replace("::contenttype", "");
        client.batch_execute(&rows).expect("rows");
        let library = read(&Source::Postgres(PgTarget {
            host: server.host.clone(),
            port: server.port,
            database: "fansly_reader_migrated".into(),
            user: server.user.clone(),
            password: None,
        }));
        check_standard(&library);
    }
}
