//! The analyzer's quality and speed.
//!
//! `cargo bench --bench analyze [-- SCENES]` prints precision and recall on the held-out and the
//! development evaluation sets (per detector, per class of case, and per confidence band: the
//! calibration), then
//! the time to analyze SCENES (default 100,000) mirrored scenes with the rules only: choosing
//! the scenes, reading them from the mirror, running every detector, and storing the plan —
//! everything the `analyze` task does after its incremental sync. Figures, not assertions.

#[path = "../tests/support/evaluation.rs"]
mod evaluation;

use std::time::Instant;

use stashhog::analysis::{self, Analyzer, Library};
use stashhog::settings::Settings;
use stashhog::stash::{Performer, Scene, SceneFile, Studio, Tag};
use stashhog::store::Store;
use stashhog::store::mirror::SceneScope;

const FIRST: &[&str] = &[
    "Brent", "Jay", "Kevin", "Dale", "Tom", "Levi", "Johnny", "Paddy", "Dante", "Pierce", "Diego", "Ryan", "Adam",
    "Austin", "Boomer", "Dean", "Colby", "Cade", "Manuel", "Sean", "Calvin", "Jack", "Drew", "Max", "Beaux", "Joey",
    "Devin", "Trevor", "Nick", "Michael", "Cole", "Dakota", "Tyler", "Alex", "Jordan", "Riley", "Noah", "Josh",
    "Malik", "Leo",
];
const LAST: &[&str] = &[
    "Corrigan", "Roberts", "Warhol", "Cooper", "Faulk", "Karter", "Rapid", "Martin", "Paris", "Sans", "Bones",
    "Killian", "Wolf", "Banks", "Monroe", "Keller", "Maddox", "Skye", "Zevran", "Hunter", "Dixon", "Konnor", "Mills",
    "Franco", "Harris", "Floyd", "Boston", "Connor", "Payne", "Wu", "Mecum", "Lake", "Mitchell", "White", "Moore",
    "Delgaty", "Grand", "Park", "Tanaka", "Petrov",
];
const WORDS: &[&str] = &[
    "Red", "Blue", "Lion", "Stallion", "Falcon", "Titan", "Helix", "Noir", "Chaos", "Bromo", "Staxus", "Cocky",
    "Randy", "Hot", "House", "Next", "Door", "Play", "Male", "Men",
];
const TAGS: &[&str] = &[
    "Outdoor",
    "Pool",
    "Kissing",
    "Massage",
    "Shower",
    "Bareback",
    "Threesome",
    "Solo",
    "Interview",
    "Cowboy",
    "Locker Room",
    "Office",
    "Uniform",
    "Beach",
    "Muscle",
    "Casting",
    "1080p",
    "720p",
    "4K",
    "60fps",
];
const FILLER: &[&str] = &["Poolside Afternoon", "Late Night", "First Time", "Road Trip", "The Audition", "Study Break"];

fn main() {
    let scenes: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    report_quality();
    report_speed(scenes);
}

fn report_quality() {
    for (name, data) in [
        ("Held-out set (tests/data/analyze_heldout.json)", evaluation::HELD_OUT),
        ("Development set (tests/data/analyze_eval.json)", evaluation::DEV),
    ] {
        println!("{name}, rules only, default settings:");
        let e = evaluation::evaluate(data, Settings::default(), None);
        let row = |label: &str, s: evaluation::Score| {
            println!(
                "  {label:<28} P {:.3}  R {:.3}   right {:>4} / wrong {:>3} / missed {:>3}",
                s.precision(),
                s.recall(),
                s.right,
                s.wrong,
                s.missed
            )
        };
        println!("  {} cases", e.cases);
        row("all detectors", e.overall());
        row("studio", e.studio);
        row("performers", e.performers);
        row("tags", e.tags);
        let auto_tag = evaluation::evaluate_auto_tag(data);
        row("Stash's Auto Tag rule, all", auto_tag.overall());
        for (batch, (cases, score)) in &e.batches {
            row(&format!("batch {batch} ({cases} cases)"), *score);
        }
        println!("  per class (cases):                  StashHog                                      Auto Tag rule");
        let auto_classes = auto_tag.classes;
        for (class, (cases, score)) in &e.classes {
            let theirs = auto_classes.get(class).map(|c| c.1).unwrap_or_default();
            println!(
                "    {:<34} P {:.3} R {:.3} ({:>3}/{:>2}/{:>2})   P {:.3} R {:.3} ({:>3}/{:>2}/{:>2})",
                format!("{class} ({cases})"),
                score.precision(),
                score.recall(),
                score.right,
                score.wrong,
                score.missed,
                theirs.precision(),
                theirs.recall(),
                theirs.right,
                theirs.wrong,
                theirs.missed
            );
        }
        println!("  calibration, precision per confidence band:");
        for (band, _) in evaluation::BANDS {
            let s = e.bands.get(band).copied().unwrap_or_default();
            println!("    {band}  {:>4} proposals  precision {:.3}", s.right + s.wrong, s.precision());
        }
        println!("  mistakes:");
        for m in &e.mistakes {
            println!("    {m}");
        }
        println!();
    }
    println!("Development set at other minimum confidences:");
    for min in [0.8, 0.9] {
        let e = evaluation::evaluate(
            evaluation::DEV,
            Settings { analysis_min_confidence: min, ..Settings::default() },
            None,
        );
        let o = e.overall();
        println!("  {min:.2}: P {:.3} R {:.3}", o.precision(), o.recall());
    }
}

fn library() -> (Vec<Studio>, Vec<Performer>, Vec<Tag>) {
    let studios = (0..WORDS.len() * 5)
        .map(|i| Studio {
            id: 1 + i as i64,
            name: format!("{} {}", WORDS[i % WORDS.len()], WORDS[(i / WORDS.len() + i + 1) % WORDS.len()]),
            aliases: vec![],
            parent_id: None,
            updated_at: String::new(),
            stash_ids: vec![],
        })
        .collect();
    let performers = (0..FIRST.len() * LAST.len())
        .map(|i| Performer {
            id: 1 + i as i64,
            name: format!("{} {}", FIRST[i % FIRST.len()], LAST[i / FIRST.len()]),
            disambiguation: None,
            aliases: vec![],
            urls: vec![],
            updated_at: String::new(),
            stash_ids: vec![],
        })
        .collect();
    let tags = TAGS
        .iter()
        .enumerate()
        .map(|(i, name)| Tag {
            id: 1 + i as i64,
            name: (*name).into(),
            sort_name: None,
            aliases: vec![],
            ignore_auto_tag: false,
            updated_at: String::new(),
            stash_ids: vec![],
        })
        .collect();
    (studios, performers, tags)
}

fn report_speed(n: usize) {
    let dir = std::env::temp_dir().join(format!("stashhog-bench-analyze-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir.join("db.sqlite")).expect("opens the database");
    let (studios, performers, tags) = library();
    store
        .write_mirror(|w| {
            studios.iter().try_for_each(|s| w.put_studio(s, None))?;
            performers.iter().try_for_each(|p| w.put_performer(p, None))?;
            tags.iter().try_for_each(|t| w.put_tag(t, None))
        })
        .expect("writes the library");
    let mut seed = 6_u64;
    let mut next = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5000) {
        let scenes: Vec<Scene> = chunk
            .iter()
            .map(|&i| {
                let studio = &studios[next(studios.len())].name;
                let (p1, p2) = (&performers[next(performers.len())].name, &performers[next(performers.len())].name);
                let path = match i % 4 {
                    0 => format!("/Studios/{studio}/2023/{p1} & {p2} [1080p].mp4"),
                    1 => format!("/dl/{} - 2023-12-28.mp4", studio.replace(' ', "").to_lowercase()),
                    2 => format!(
                        "/media/{studio} - {} {} (2021) [HD].mp4",
                        FILLER[next(FILLER.len())],
                        TAGS[next(TAGS.len())]
                    ),
                    _ => format!("/Performers/{p1}/clip {i:06}.mp4"),
                };
                Scene {
                    id: 1 + i as i64,
                    title: (i % 3 == 0).then(|| format!("{p1} with {p2} - {}", TAGS[next(TAGS.len())])),
                    code: None,
                    details: (i % 10 == 0).then(|| "<p>Two friends &amp; a pool.</p>".to_owned()),
                    director: None,
                    urls: vec![],
                    date: None,
                    rating100: None,
                    organized: false,
                    created_at: "2024-01-01T00:00:00Z".into(),
                    updated_at: "2024-01-01T00:00:00Z".into(),
                    files: vec![SceneFile {
                        path,
                        fingerprints: vec![],
                        width: 1920,
                        height: [1080, 720, 2160, 480][i % 4],
                        duration: 600.0 + i as f64 % 3000.0,
                        frame_rate: if i % 5 == 0 { 59.94 } else { 29.97 },
                    }],
                    studio_id: None,
                    performer_ids: vec![],
                    tag_ids: vec![],
                    stash_ids: vec![],
                    gallery_ids: vec![],
                }
            })
            .collect();
        store.write_mirror(|w| scenes.iter().try_for_each(|s| w.put_scene(s, None))).expect("writes scenes");
    }
    println!("\nMirror of {n} scenes written in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let library = Library::new(
        store.mirrored_studios().expect("reads"),
        store.mirrored_performers().expect("reads"),
        store.mirrored_tags().expect("reads"),
    );
    let analyzer = Analyzer::new(library, &Settings::default()).expect("no rules");
    let indexed = started.elapsed();
    let ids = store.scenes_in_scope(&SceneScope::default()).expect("selects");
    let analysis = analysis::analyze_scenes(&store, &analyzer, &ids, None, false, |_, _| {}).expect("analyzes");
    let analyzed = started.elapsed();
    let plan = store
        .create_plan("bench", "analyze", &serde_json::json!({"mode": "analyze"}), &analysis.changes)
        .expect("stores");
    let total = started.elapsed();
    println!(
        "Analyzed {} scenes ({} studios, {} performers, {} tags): {} changes for {} scenes, plan {plan}",
        analysis.scenes,
        studios.len(),
        performers.len(),
        tags.len(),
        analysis.changes.len(),
        analysis.scenes_with_changes
    );
    println!(
        "  index {:.2} s, select + read + detect {:.1} s ({:.0} scenes/s), store plan {:.1} s, total {:.1} s",
        indexed.as_secs_f64(),
        (analyzed - indexed).as_secs_f64(),
        analysis.scenes as f64 / (analyzed - indexed).as_secs_f64(),
        (total - analyzed).as_secs_f64(),
        total.as_secs_f64()
    );
    println!("  by field {:?}; by confidence {:?}", analysis.tally.by_field, analysis.tally.by_confidence);
    let _ = std::fs::remove_dir_all(&dir);
}
