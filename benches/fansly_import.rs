//! Importing one fansly creator with 10k downloaded files, videos and photos (default; `-- N`
//! for another count),
//! the way Stash runs it: the real binary with JSON on stdin, against the in-process fake Stash
//! and an SQLite-era scraper database made by the fixture generator.
//!
//! `cargo bench --bench fansly_import [-- FILES]` prints the requests and wall time of the dry
//! run, of applying the plan, and of a second import that finds nothing to do. Figures, not
//! assertions.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::json;
use support::env::TestEnv;
use support::fake_stash::{Image, ImageFile, Scene, VideoFile};
use support::fansly::Fixture;
use support::fansly::scenario::sf;

fn main() {
    let files: i64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let mut env = TestEnv::new();
    // Applying 90k changes takes longer than a test's default limit in a debug build.
    env.options.timeout = std::time::Duration::from_secs(1800);
    let creator = sf(410, 1);
    let mut fixture = Fixture::default();
    fixture.account(creator, "benchcreator", Some("Bench Creator"), Some("A creator with many posts."));
    let mut paths = Vec::new();
    let mut post = 0;
    let mut n = 0;
    while n < files {
        post += 1;
        let post_id = sf(510, post);
        let day = 1 + post % 28;
        fixture.post(
            post_id,
            creator,
            Some(&format!("Post number {post} of the bench #tag{} #daily", post % 50)),
            Some(&format!("2024-02-{day:02} 10:00:00")),
        );
        fixture.hashtag(post_id, &format!("tag{}", post % 50));
        fixture.hashtag(post_id, "daily");
        for pos in 0..(1 + post % 3).min(files - n) {
            n += 1;
            let media = sf(720, n);
            // Each post leads with a video; the rest are photos.
            let (extension, mimetype, folder) =
                if pos == 0 { ("mp4", "video/mp4", "Videos") } else { ("jpg", "image/jpeg", "Pictures") };
            let name = format!("2024-02-{day:02}_at_10-00_UTC_id_{media}.{extension}");
            fixture.media(media, creator, mimetype, Some(&name));
            fixture.account_media(sf(630, n), creator, media, None);
            fixture.attach(post_id, true, pos, "ACCOUNT_MEDIA", sf(630, n));
            paths.push(format!("/data/fansly/benchcreator_fansly/Timeline/{folder}/{name}"));
        }
    }
    let database = env.root().join("metadata_db.sqlite3");
    fixture.write_sqlite(&database);
    env.stash.lib(|l| {
        for path in &paths {
            if path.ends_with(".mp4") {
                l.add_scene(Scene { files: vec![VideoFile::new(path, vec![])], ..Scene::default() });
            } else {
                l.add_image(Image { files: vec![ImageFile::new(path)], ..Image::default() });
            }
        }
        for i in 0..25 {
            l.add_tag(&format!("tag{i}"));
        }
    });
    env.set_settings(json!({"fanslyDatabase": database.display().to_string()}));
    // The first run's full sync is the mirror's cost, measured by its own bench.
    env.run(json!({"mode": "full_sync"})).assert_ok();
    env.stash.clear_requests();

    let dry = env.run(json!({"mode": "import_fansly"}));
    dry.assert_ok();
    let dry_requests = env.stash.requests().len();
    let plan_id = dry.out("/plan_id").clone();
    env.run(json!({"mode": "review_plan", "plan_id": plan_id, "decision": "approve", "all": true})).assert_ok();
    env.stash.clear_requests();
    let apply = env.run(json!({"mode": "apply_plan", "plan_id": plan_id}));
    apply.assert_ok();
    let apply_requests = env.stash.requests().len();
    env.stash.clear_requests();
    let again = env.run(json!({"mode": "import_fansly"}));
    again.assert_ok();
    assert_eq!(again.out("/changes"), &json!(0), "a second import changes nothing");

    let (scenes, images, galleries) = env.stash.lib(|l| (l.scenes.len(), l.images.len(), l.galleries.len()));
    println!(
        "import_fansly: one creator, {files} files ({scenes} videos, {images} photos) in {post} posts, SQLite era, \
         against the fake Stash; {galleries} galleries made:"
    );
    println!(
        "  dry run: {:.0} ms, {dry_requests} Stash requests (incremental sync only), {} changes proposed",
        dry.duration.as_secs_f64() * 1e3,
        dry.out("/changes")
    );
    println!(
        "  apply: {:.0} ms, {apply_requests} Stash requests ({} mutations: {})",
        apply.duration.as_secs_f64() * 1e3,
        apply.out("/mutations"),
        apply.out("/requests")
    );
    println!(
        "  second import: {:.0} ms, {} Stash requests, 0 changes",
        again.duration.as_secs_f64() * 1e3,
        env.stash.requests().len()
    );
}
