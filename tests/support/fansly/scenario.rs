//! The edge-case library the import tests share: two creators (one renamed since the download),
//! a mentioned account and a mention nobody stored, the scraper's own user, variants and
//! previews, a bundle stored out of order, a conversation with messages from both sides, one
//! media in two posts, a file the scraper never recorded (legacy `_hash2_` name), a media the
//! user could only see the preview of, an orphan row from the variant gap, a stub post, and a
//! repost.

use super::Fixture;

/// A Fansly-like 18-digit snowflake in its own range: `space` keeps account, media, account
/// media, variant, post, message and bundle ids apart.
pub const fn sf(space: i64, n: i64) -> i64 {
    space * 1_000_000_000_000_000 + n
}

/// Accounts.
pub const ANNA: i64 = sf(410, 1);
/// Renamed since her folder was made: username `bella_new`, folder `bella_old_fansly`.
pub const BELLA: i64 = sf(410, 2);
/// Mentioned by Anna; exists in Stash as performer "Carla".
pub const CARLA: i64 = sf(410, 3);
/// The scraper's own user.
pub const ME: i64 = sf(410, 9);

/// Anna's posts.
pub const P_BEACH: i64 = sf(510, 1);
/// A bundle post, short text.
pub const P_BUNDLE: i64 = sf(510, 2);
/// Reuses the beach video; no text.
pub const P_AGAIN: i64 = sf(510, 3);
/// A legacy-named video whose `local_filename` the scraper reset.
pub const P_LEGACY: i64 = sf(510, 4);
/// A stub (pinned, never fetched).
pub const P_STUB: i64 = sf(510, 5);
/// Bella's post.
pub const Q_SUNSET: i64 = sf(510, 7);
/// A message from Anna with a video.
pub const M_VIDEO: i64 = sf(520, 1);
/// The scraper user's reply, text only.
pub const M_REPLY: i64 = sf(520, 2);
/// The conversation.
pub const GROUP: i64 = sf(550, 1);

/// Media (the ids the posts reach through account media).
pub const V_BEACH: i64 = sf(720, 1);
/// Its HLS variant: the downloaded file carries this id.
pub const V_BEACH_HLS: i64 = sf(730, 1);
/// A photo the user may not see; only its preview is on disk.
pub const I_LOCKED: i64 = sf(720, 2);
/// The locked photo's preview.
pub const I_LOCKED_PREVIEW: i64 = sf(720, 3);
/// Bundle photos (stored in reverse position order).
pub const I_BUNDLE_A: i64 = sf(720, 4);
/// Second bundle photo.
pub const I_BUNDLE_B: i64 = sf(720, 5);
/// The legacy video.
pub const V_LEGACY: i64 = sf(720, 6);
/// The message video.
pub const V_MESSAGE: i64 = sf(720, 7);
/// Bella's photo.
pub const I_SUNSET: i64 = sf(720, 8);
/// Bella's video (for scenes of the renamed creator).
pub const V_SUNSET: i64 = sf(720, 9);
/// An orphan row from the variant gap: a file, no post.
pub const V_ORPHAN: i64 = sf(720, 99);

/// Where Stash sees the scraper's download folder.
pub const ROOT: &str = "/data/fansly";

/// A file as Stash would hold it.
#[derive(Debug, Clone)]
pub struct StashFile {
    /// Full path.
    pub path: String,
    /// A video (scene) or an image.
    pub video: bool,
}

/// The scraper database and the files Stash has scanned.
pub struct Scenario {
    /// The rows.
    pub fixture: Fixture,
    /// Files in Stash.
    pub files: Vec<StashFile>,
}

fn file(folder: &str, sub: &str, name: &str, video: bool) -> StashFile {
    StashFile { path: format!("{ROOT}/{folder}/{sub}/{name}"), video }
}

/// The standard scenario.
pub fn standard() -> Scenario {
    let mut f = Fixture::default();
    let mut files = Vec::new();
    f.account(ANNA, "anna", Some("Anna Lee"), Some("Hi, I'm Anna."));
    f.account(BELLA, "bella_new", Some("Bella"), None);
    f.account(CARLA, "carla", Some("Carla"), None);
    f.account(ME, "me_user", None, None);

    // Beach post: an HLS video (the file is named after the variant, recorded on the parent as
    // HEAD does) and a photo the user could not unlock (only the preview was downloaded).
    let beach_name = format!("2024-03-01_at_18-22_UTC_id_{V_BEACH_HLS}.mp4");
    f.media(V_BEACH, ANNA, "video/mp4", Some(&beach_name));
    f.media(V_BEACH_HLS, ANNA, "application/vnd.apple.mpegurl", None);
    f.variant(V_BEACH, V_BEACH_HLS);
    files.push(file("anna_fansly", "Timeline/Videos", &beach_name, true));
    let preview_name = format!("2024-03-01_at_18-22_UTC_preview_id_{I_LOCKED_PREVIEW}.jpg");
    f.media(I_LOCKED, ANNA, "image/jpeg", None);
    f.media(I_LOCKED_PREVIEW, ANNA, "image/jpeg", Some(&preview_name));
    files.push(file("anna_fansly", "Timeline/Pictures", &preview_name, false));
    f.account_media(sf(630, 1), ANNA, V_BEACH, None);
    f.account_media(sf(630, 2), ANNA, I_LOCKED, Some(I_LOCKED_PREVIEW));
    f.post(
        P_BEACH,
        ANNA,
        Some("Beach day with @carla and @ghost #Beach #summer\nMore text below."),
        Some("2024-03-01 18:22:05"),
    );
    f.attach(P_BEACH, true, 0, "ACCOUNT_MEDIA", sf(630, 1));
    f.attach(P_BEACH, true, 1, "ACCOUNT_MEDIA", sf(630, 2));
    f.hashtag(P_BEACH, "beach");
    f.hashtag(P_BEACH, "summer");
    f.mention(P_BEACH, "carla", Some(CARLA));
    f.mention(P_BEACH, "ghost", None);

    // Bundle post: positions stored in reverse order of insertion.
    for (media, n) in [(I_BUNDLE_A, 4), (I_BUNDLE_B, 5)] {
        let name = format!("2024-03-02_at_09-00_UTC_id_{media}.jpg");
        f.media(media, ANNA, "image/jpeg", Some(&name));
        f.account_media(sf(630, n), ANNA, media, None);
        files.push(file("anna_fansly", "Timeline/Pictures", &name, false));
    }
    f.bundle(sf(640, 1), ANNA, &[(sf(630, 5), 0), (sf(630, 4), 1)]);
    f.post(P_BUNDLE, ANNA, Some("Hi"), Some("2024-03-02 09:00:00"));
    f.attach(P_BUNDLE, true, 0, "ACCOUNT_MEDIA_BUNDLE", sf(640, 1));

    // The beach video again, in a later post with no text.
    f.account_media(sf(630, 3), ANNA, V_BEACH, None);
    f.post(P_AGAIN, ANNA, Some(""), Some("2024-03-05 12:00:00"));
    f.attach(P_AGAIN, true, 0, "ACCOUNT_MEDIA", sf(630, 3));

    // A downloader-ng file (local time, 12-hour, hash marker) whose name the scraper reset.
    f.media(V_LEGACY, ANNA, "video/mp4", None);
    f.account_media(sf(630, 6), ANNA, V_LEGACY, None);
    f.post(P_LEGACY, ANNA, Some("An old clip from last winter, finally uploaded"), Some("2023-01-03 00:15:00"));
    f.attach(P_LEGACY, true, 0, "ACCOUNT_MEDIA", sf(630, 6));
    files.push(file(
        "anna_fansly",
        "Timeline/Videos",
        &format!("2023-01-02_at_07-15-PM_id_{V_LEGACY}_hash2_9f8e7d.mp4"),
        true,
    ));

    // A pinned stub post.
    f.post(P_STUB, ANNA, None, None);
    f.pin(P_STUB, ANNA);

    // A conversation: Anna sends a video, the scraper's user replies with text.
    let message_name = format!("2024-04-01_at_20-00_UTC_id_{V_MESSAGE}.mp4");
    f.media(V_MESSAGE, ANNA, "video/mp4", Some(&message_name));
    f.account_media(sf(630, 7), ANNA, V_MESSAGE, None);
    files.push(file("anna_fansly", "Messages/Videos", &message_name, true));
    f.group(GROUP, ME, &[ANNA, ME]);
    f.message(M_VIDEO, GROUP, ANNA, "", "2024-04-01 20:00:00");
    f.message(M_REPLY, GROUP, ME, "thanks!", "2024-04-01 20:05:00");
    f.attach(M_VIDEO, false, 0, "ACCOUNT_MEDIA", sf(630, 7));

    // Bella, renamed: her folder still has the old name.
    let sunset_video = format!("2024-05-01_at_19-30_UTC_id_{V_SUNSET}.mp4");
    let sunset_photo = format!("2024-05-01_at_19-30_UTC_id_{I_SUNSET}.jpg");
    f.media(V_SUNSET, BELLA, "video/mp4", Some(&sunset_video));
    f.media(I_SUNSET, BELLA, "image/jpeg", Some(&sunset_photo));
    f.account_media(sf(630, 8), BELLA, V_SUNSET, None);
    f.account_media(sf(630, 9), BELLA, I_SUNSET, None);
    f.post(Q_SUNSET, BELLA, Some("#beach sunset, the best light of the whole year"), Some("2024-05-01 19:30:00"));
    f.attach(Q_SUNSET, true, 0, "ACCOUNT_MEDIA", sf(630, 8));
    f.attach(Q_SUNSET, true, 1, "ACCOUNT_MEDIA", sf(630, 9));
    f.hashtag(Q_SUNSET, "beach");
    files.push(file("bella_old_fansly", "Timeline/Videos", &sunset_video, true));
    files.push(file("bella_old_fansly", "Timeline/Pictures", &sunset_photo, false));

    // An orphan row: a file and a media row, but no post or message reaches it.
    let orphan = format!("2025-11-01_at_10-00_UTC_id_{V_ORPHAN}.mp4");
    f.media(V_ORPHAN, ANNA, "video/mp4", Some(&orphan));
    files.push(file("anna_fansly", "Timeline/Videos", &orphan, true));

    Scenario { fixture: f, files }
}
