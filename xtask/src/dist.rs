//! `cargo xtask dist`: a Stash plugin source in one folder — `index.yml` and one zip per platform.
//!
//! What Stash does with it (stashapp/stash `pkg/pkg`): it reads the index leniently, downloads a
//! package's zip from `path` (relative to the index URL), refuses it unless its sha256 matches,
//! and writes every entry to `<plugins>/<source's local path>/<package id>/<entry name>` with the
//! entry's own mode — so the binary's run bit is stored in the zip. It offers an update only when
//! `date` is newer than the installed one, so all packages of a release share one date. It loads
//! every `*.yml` under the plugins folder as a plugin manifest, so a zip holds exactly one, and
//! the plugin id comes from that file's name (`stashhog`), whichever package carried it.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

use crate::binary;
use crate::platform::{PLATFORMS, Platform};
use crate::stash_manifest;

/// The Rust target this machine builds the Linux x86-64 package from: musl, fully static.
pub const HOST_TARGET: &str = "x86_64-unknown-linux-musl";

/// What to release, and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace: `stashhog.yml`, `plugin/`, README.md and LICENSE are read from here.
    pub root: PathBuf,
    /// Where the source is written (created if missing; earlier packages in it are replaced).
    pub out: PathBuf,
    /// The release date, `YYYY-MM-DD HH:MM:SS` in UTC; default: the HEAD commit's date.
    pub date: Option<String>,
    /// Prebuilt binaries by platform id (the release workflow's builds for other machines).
    pub binaries: BTreeMap<String, PathBuf>,
    /// Build the Linux x86-64 binary here when `binaries` lacks it.
    pub build_host: bool,
}

/// One package written.
#[derive(Debug, Clone)]
pub struct Package {
    /// Its platform.
    pub platform: &'static Platform,
    /// The zip, inside the output folder.
    pub zip: PathBuf,
    /// The zip's sha256, lowercase hex, as `index.yml` lists it.
    pub sha256: String,
    /// The zip's size in bytes.
    pub size: u64,
    /// The binary's size in bytes, uncompressed.
    pub binary_size: u64,
}

/// A written source: the packages in index order, and the date they share.
#[derive(Debug, Clone)]
pub struct Source {
    /// `index.yml`.
    pub index: PathBuf,
    /// The release date.
    pub date: String,
    /// Every package, in `PLATFORMS` order.
    pub packages: Vec<Package>,
}

/// Builds what this machine can build, packages every platform that has a binary, and writes
/// the index.
pub fn run(options: &Options) -> anyhow::Result<Source> {
    let manifest_text = fs::read_to_string(options.root.join("stashhog.yml")).context("reading stashhog.yml")?;
    let manifest = stash_manifest::parse(&manifest_text).context("stashhog.yml would not load in Stash")?;
    let version = manifest.version.clone().context("stashhog.yml has no version")?;
    let date = match &options.date {
        Some(date) => date.clone(),
        None => commit_date(&options.root)?,
    };
    let zip_time = zip_time(&date)?;

    let mut binaries = options.binaries.clone();
    for id in binaries.keys() {
        ensure!(Platform::find(id).is_some(), "unknown platform `{id}`; known: {}", platform_ids());
    }
    if options.build_host && !binaries.contains_key("linux-x86_64") {
        binaries.insert("linux-x86_64".to_owned(), build_static_binary(&options.root)?);
    }
    ensure!(!binaries.is_empty(), "no binary to package: pass --binary PLATFORM=PATH");

    let mut common = vec![("stashhog.yml".to_owned(), manifest_text.into_bytes())];
    for name in page_files(&manifest, &options.root.join("plugin"))? {
        let path = options.root.join("plugin").join(&name);
        let bytes =
            fs::read(&path).with_context(|| format!("reading {} (named by the manifest's ui)", path.display()))?;
        common.push((name, bytes));
    }
    for name in ["README.md", "LICENSE"] {
        common.push((name.to_owned(), fs::read(options.root.join(name)).with_context(|| format!("reading {name}"))?));
    }

    fs::create_dir_all(&options.out).with_context(|| format!("creating {}", options.out.display()))?;
    remove_earlier_release(&options.out)?;
    let mut packages = Vec::new();
    for platform in PLATFORMS {
        let Some(path) = binaries.get(platform.id) else { continue };
        let bytes = fs::read(path).with_context(|| format!("reading the {} binary {}", platform.id, path.display()))?;
        binary::check(platform, &bytes)
            .with_context(|| format!("{} is not a binary for {}", path.display(), platform.title))?;
        packages.push(write_package(platform, &bytes, &common, zip_time, &options.out)?);
    }
    let index = options.out.join("index.yml");
    fs::write(&index, index_yaml(&packages, &version, &date)).context("writing index.yml")?;
    Ok(Source { index, date, packages })
}

/// Builds the fully static Linux x86-64 binary, and returns its path.
///
/// musl, because Stash's Docker image is Alpine and has no glibc; static, so it also starts in a
/// container with no libc at all. When the musl target is not installed, glibc's static-pie is the
/// fallback: it is just as self-contained (its resolver reads /etc/hosts and resolv.conf itself).
pub fn build_static_binary(root: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let (target, rustflags) = if target_installed(HOST_TARGET) && musl_c_compiler() {
        (HOST_TARGET, None)
    } else {
        eprintln!(
            "note: building a static-pie glibc binary: the musl build needs `rustup target add {HOST_TARGET}` \
             and a musl C compiler (Debian: musl-tools)"
        );
        ("x86_64-unknown-linux-gnu", Some("-C target-feature=+crt-static"))
    };
    let mut command = Command::new(cargo);
    command.current_dir(root).args([
        "build",
        "--release",
        "--locked",
        "--package",
        "stashhog",
        "--bin",
        "stashhog",
        "--target",
        target,
    ]);
    if let Some(flags) = rustflags {
        command.env(format!("CARGO_TARGET_{}_RUSTFLAGS", target.to_uppercase().replace('-', "_")), flags);
    }
    let status = command.status().context("starting cargo")?;
    ensure!(status.success(), "cargo build --target {target} failed ({status})");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(target_dir.join(target).join("release").join("stashhog"))
}

/// SQLite and aws-lc are C: the musl build needs a musl C compiler (cc-rs looks for these names).
fn musl_c_compiler() -> bool {
    std::env::var_os("CC_x86_64_unknown_linux_musl").is_some()
        || std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path)
                .any(|dir| dir.join("x86_64-linux-musl-gcc").is_file() || dir.join("musl-gcc").is_file())
        })
}

fn target_installed(target: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .is_some_and(|dir| {
            // rustc prints the folder whether or not the target is installed: look for std in it.
            fs::read_dir(dir.trim())
                .is_ok_and(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        })
}

/// The files of `plugin/` that the manifest's `ui:` names (scripts, styles, asset folders), as
/// paths relative to the manifest: never the page's sources or anything else in `plugin/`.
fn page_files(manifest: &stash_manifest::Manifest, plugin: &Path) -> anyhow::Result<Vec<String>> {
    let Some(ui) = &manifest.ui else { return Ok(Vec::new()) };
    let mut files: Vec<String> =
        ui.javascript.iter().chain(&ui.css).filter(|path| !path.contains("://")).cloned().collect();
    for folder in ui.assets.values() {
        let mut found = Vec::new();
        collect(plugin, Path::new(folder), &mut found)?;
        files.extend(found);
    }
    for file in &files {
        ensure!(
            !file.starts_with('/') && !file.split('/').any(|part| part == ".."),
            "ui path {file} must stay inside the plugin's folder"
        );
        ensure!(!file.ends_with(".yml"), "ui file {file}: Stash would load a second .yml as a plugin");
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn collect(base: &Path, relative: &Path, files: &mut Vec<String>) -> anyhow::Result<()> {
    let dir = base.join(relative);
    for entry in fs::read_dir(&dir).with_context(|| format!("reading asset folder {}", dir.display()))? {
        let entry = entry?;
        let path = relative.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            collect(base, &path, files)?;
        } else {
            files.push(path.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

fn write_package(
    platform: &'static Platform,
    binary: &[u8],
    common: &[(String, Vec<u8>)],
    time: DateTime,
    out: &Path,
) -> anyhow::Result<Package> {
    let zip_path = out.join(format!("{}.zip", platform.package_id()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .system(System::Unix)
        .last_modified_time(time);
    let mut zip =
        ZipWriter::new(fs::File::create(&zip_path).with_context(|| format!("creating {}", zip_path.display()))?);
    zip.start_file(platform.binary_name, options.unix_permissions(0o755))?;
    zip.write_all(binary)?;
    for (name, bytes) in common {
        zip.start_file(name.as_str(), options.unix_permissions(0o644))?;
        zip.write_all(bytes)?;
    }
    zip.finish()?;
    let bytes = fs::read(&zip_path)?;
    Ok(Package {
        platform,
        zip: zip_path,
        sha256: hex(&Sha256::digest(&bytes)),
        size: bytes.len() as u64,
        binary_size: binary.len() as u64,
    })
}

/// Leaves no package of an earlier run in `out`: the index must list exactly what is there.
fn remove_earlier_release(out: &Path) -> anyhow::Result<()> {
    for platform in PLATFORMS {
        let zip = out.join(format!("{}.zip", platform.package_id()));
        if zip.exists() {
            fs::remove_file(&zip).with_context(|| format!("removing {}", zip.display()))?;
        }
    }
    Ok(())
}

fn index_yaml(packages: &[Package], version: &str, date: &str) -> String {
    let mut yaml = String::from(
        "# StashHog's plugin source. In Stash: Settings > Plugins > Available Plugins > Add Source,\n\
         # with this file's URL; then install the one package for your platform.\n",
    );
    for package in packages {
        let platform = package.platform;
        let file_name = package.zip.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        yaml.push_str(&format!("- id: {}\n", quote(&platform.package_id())));
        yaml.push_str(&format!("  name: {}\n", quote(&platform.package_name())));
        yaml.push_str(&format!("  version: {}\n", quote(version)));
        yaml.push_str(&format!("  date: {}\n", quote(date)));
        yaml.push_str("  requires: []\n");
        yaml.push_str(&format!("  path: {}\n", quote(&file_name)));
        yaml.push_str(&format!("  sha256: {}\n", quote(&package.sha256)));
        yaml.push_str("  metadata:\n");
        yaml.push_str(&format!("    description: {}\n", quote(&platform.description())));
    }
    yaml
}

/// A YAML double-quoted scalar: never read as a number, a date or a boolean.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The HEAD commit's date in UTC: a release of the same commit always carries the same date, and
/// a later commit a later one (Stash offers an update only for a newer date).
fn commit_date(root: &Path) -> anyhow::Result<String> {
    let out = Command::new("git")
        .current_dir(root)
        .env("TZ", "UTC")
        .args(["log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d %H:%M:%S"])
        .output()
        .context("running git for the release date (or pass --date)")?;
    ensure!(out.status.success(), "git cannot tell the release date: pass --date \"YYYY-MM-DD HH:MM:SS\"");
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Parses `YYYY-MM-DD HH:MM:SS`, Stash's format for `date`, into the zip entries' time.
fn zip_time(date: &str) -> anyhow::Result<DateTime> {
    let bad = || format!("date {date:?} is not YYYY-MM-DD HH:MM:SS");
    let bytes = date.as_bytes();
    let shape_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b' ',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        bail!(bad());
    }
    let number = |range: std::ops::Range<usize>| date[range].parse::<u16>().with_context(bad);
    let small = |range: std::ops::Range<usize>| -> anyhow::Result<u8> { Ok(u8::try_from(number(range)?)?) };
    DateTime::from_date_and_time(
        number(0..4)?,
        small(5..7)?,
        small(8..10)?,
        small(11..13)?,
        small(14..16)?,
        small(17..19)?,
    )
    .map_err(|_| anyhow::anyhow!(bad()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn platform_ids() -> String {
    PLATFORMS.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_stashs_format() {
        assert!(zip_time("2026-12-01 22:30:00").is_ok());
        for bad in ["2026-12-01", "2026-12-01T22:30:00", "2026-13-01 22:30:00", "01-12-2026 22:30:00"] {
            assert!(zip_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoting_keeps_yaml_from_guessing_types() {
        assert_eq!(quote("0.1.0"), "\"0.1.0\"");
        assert_eq!(quote("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
        let parsed: String = serde_yaml::from_str(&quote("say \"hi\"\t\\ yes")).expect("valid YAML");
        assert_eq!(parsed, "say \"hi\"\t\\ yes");
    }
}
