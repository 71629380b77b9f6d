//! The platforms StashHog is released for: one package each in the plugin source.
//!
//! Stash's package index has no platform field, so every platform is a package of its own
//! (`stashhog-<platform>`), and the package's name and description tell a user which one to pick.

/// The minimum Stash version: the page needs `PluginApi` and `runPluginOperation` (v0.25).
pub const MIN_STASH: &str = "v0.25";

/// What kind of executable a platform runs, to refuse a binary built for another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A Linux ELF executable for this `e_machine`, which must be fully static.
    StaticElf {
        /// `e_machine`: 62 x86-64, 183 AArch64, 40 ARM.
        machine: u16,
        /// 64-bit ELF class.
        wide: bool,
    },
    /// A Windows PE executable.
    Pe,
    /// A macOS Mach-O executable, universal or single-architecture.
    MachO,
}

/// One platform of the release.
#[derive(Debug)]
pub struct Platform {
    /// Short id, the suffix of the package id: `linux-x86_64`.
    pub id: &'static str,
    /// Shown in Stash's list of available plugins.
    pub title: &'static str,
    /// Who should pick it, for the package's description.
    pub audience: &'static str,
    /// The binary's file name in the package; Stash adds `.exe` to `./stashhog` on Windows.
    pub binary_name: &'static str,
    /// What a binary for it must be.
    pub format: Format,
    /// The Rust target(s) the release workflow builds it from.
    pub rust_targets: &'static [&'static str],
}

/// Every platform, in the order the index lists them.
pub const PLATFORMS: &[Platform] = &[
    Platform {
        id: "linux-x86_64",
        title: "Linux x86-64",
        audience: "Linux on 64-bit Intel or AMD, including Stash's Docker image on amd64",
        binary_name: "stashhog",
        format: Format::StaticElf { machine: 62, wide: true },
        rust_targets: &["x86_64-unknown-linux-musl"],
    },
    Platform {
        id: "linux-aarch64",
        title: "Linux ARM64",
        audience: "Linux on 64-bit ARM (Raspberry Pi OS 64-bit, most ARM NAS boxes), including Stash's Docker image on arm64",
        binary_name: "stashhog",
        format: Format::StaticElf { machine: 183, wide: true },
        rust_targets: &["aarch64-unknown-linux-musl"],
    },
    Platform {
        id: "linux-armv7",
        title: "Linux ARMv7",
        audience: "Linux on 32-bit ARMv7 (Raspberry Pi OS 32-bit), including Stash's Docker image on arm/v7",
        binary_name: "stashhog",
        format: Format::StaticElf { machine: 40, wide: false },
        rust_targets: &["armv7-unknown-linux-musleabihf"],
    },
    Platform {
        id: "windows-x86_64",
        title: "Windows x86-64",
        audience: "Windows on 64-bit Intel or AMD",
        binary_name: "stashhog.exe",
        format: Format::Pe,
        rust_targets: &["x86_64-pc-windows-msvc"],
    },
    Platform {
        id: "macos",
        title: "macOS",
        audience: "macOS on Apple silicon or Intel (one universal binary)",
        binary_name: "stashhog",
        format: Format::MachO,
        rust_targets: &["aarch64-apple-darwin", "x86_64-apple-darwin"],
    },
];

impl Platform {
    /// The platform with this id.
    pub fn find(id: &str) -> Option<&'static Platform> {
        PLATFORMS.iter().find(|p| p.id == id)
    }

    /// The package id, which names the folder Stash installs it into.
    pub fn package_id(&self) -> String {
        format!("stashhog-{}", self.id)
    }

    /// The package's name in Stash's list of available plugins.
    pub fn package_name(&self) -> String {
        format!("StashHog for {}", self.title)
    }

    /// The package's description: which machine it is for, and the Stash it needs.
    pub fn description(&self) -> String {
        format!(
            "For {}. Needs Stash {MIN_STASH} or newer. Install only the package for your platform: all of them are the \
             plugin StashHog.",
            self.audience
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_are_unique_and_name_the_platform() {
        let mut ids: Vec<String> = PLATFORMS.iter().map(Platform::package_id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PLATFORMS.len());
        assert!(ids.contains(&"stashhog-linux-x86_64".to_owned()));
    }

    #[test]
    fn description_names_platform_and_minimum_stash() {
        let linux = Platform::find("linux-armv7").expect("listed");
        assert!(linux.description().contains("arm/v7"));
        assert!(linux.description().contains("Stash v0.25 or newer"));
    }
}
