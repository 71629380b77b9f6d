//! `cargo xtask <command>`: StashHog's release tooling (see the library's docs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use xtask::dist::{self, Options};
use xtask::platform::PLATFORMS;

const USAGE: &str = "\
usage: cargo xtask dist [--out DIR] [--date \"YYYY-MM-DD HH:MM:SS\"] [--binary PLATFORM=PATH]... [--no-build]

Writes a Stash plugin source: DIR/index.yml (default DIR: dist) and one zip per platform.
The Linux x86-64 binary is built here, fully static, unless given with --binary; the other
platforms' binaries come from their own machines (.github/workflows/release.yml).
  --date      the release date in UTC (default: the HEAD commit's date)
  --binary    a prebuilt binary for a platform: linux-x86_64, linux-aarch64, linux-armv7,
              windows-x86_64, macos
  --no-build  package only the binaries given";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dist") => dist_command(&args[1..]),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n{USAGE}"),
    }
}

fn dist_command(args: &[String]) -> anyhow::Result<()> {
    let root = workspace_root();
    let mut options = Options { out: root.join("dist"), root, date: None, binaries: BTreeMap::new(), build_host: true };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--out" => options.out = PathBuf::from(value()?),
            "--date" => options.date = Some(value()?.clone()),
            "--binary" => {
                let given = value()?;
                let (platform, path) =
                    given.split_once('=').with_context(|| format!("--binary {given}: expected PLATFORM=PATH"))?;
                options.binaries.insert(platform.to_owned(), PathBuf::from(path));
            }
            "--no-build" => options.build_host = false,
            other => bail!("unknown option `{other}`\n{USAGE}"),
        }
    }
    let source = dist::run(&options)?;
    println!("{} (date {})", source.index.display(), source.date);
    for package in &source.packages {
        println!(
            "  {:<32} {:>6.1} MiB zip, binary {:>6.1} MiB, sha256 {}",
            package.zip.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            mib(package.size),
            mib(package.binary_size),
            package.sha256
        );
    }
    let missing: Vec<&str> =
        PLATFORMS.iter().filter(|p| !source.packages.iter().any(|k| k.platform.id == p.id)).map(|p| p.id).collect();
    if !missing.is_empty() {
        println!("  not in this source (build them on their own machines): {}", missing.join(", "));
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The workspace root: the folder above this crate's manifest.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf)
}
