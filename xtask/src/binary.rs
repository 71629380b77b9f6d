//! Refuses a binary that would not run where its package says: built for another platform, or a
//! Linux binary that needs a dynamic loader.
//!
//! A user on Stash's Alpine image who installs a glibc-linked binary sees nothing but
//! `/dyn: No such file or directory` in Stash's log; this check stops such a release instead.

use anyhow::{Context, bail};

use crate::platform::{Format, Platform};

/// `PT_INTERP`: the program header naming the dynamic loader.
const PT_INTERP: u32 = 3;

/// Checks that `bytes` is an executable of `platform`'s format (and static, on Linux).
pub fn check(platform: &Platform, bytes: &[u8]) -> anyhow::Result<()> {
    match platform.format {
        Format::StaticElf { machine, wide } => check_static_elf(bytes, machine, wide),
        Format::Pe if bytes.starts_with(b"MZ") => Ok(()),
        Format::Pe => bail!("not a Windows executable (no MZ header)"),
        Format::MachO => {
            // 64-bit Mach-O (little-endian) or a universal ("fat") binary.
            let magic = bytes.get(..4).context("shorter than a header")?;
            if magic == [0xcf, 0xfa, 0xed, 0xfe] || magic == [0xca, 0xfe, 0xba, 0xbe] {
                Ok(())
            } else {
                bail!("not a macOS executable (no Mach-O header)")
            }
        }
    }
}

fn check_static_elf(bytes: &[u8], machine: u16, wide: bool) -> anyhow::Result<()> {
    if !bytes.starts_with(b"\x7fELF") {
        bail!("not a Linux executable (no ELF header)");
    }
    if bytes.get(5) != Some(&1) {
        bail!("not a little-endian ELF file");
    }
    if bytes.get(4) != Some(if wide { &2 } else { &1 }) {
        bail!("built for a {}-bit machine", if wide { 32 } else { 64 });
    }
    let found = u16_at(bytes, 18)?;
    if found != machine {
        bail!("built for ELF machine {found}, this platform needs {machine}");
    }
    let (offset, entry_size, count) = if wide {
        (u64_at(bytes, 32)?, u16_at(bytes, 54)?, u16_at(bytes, 56)?)
    } else {
        (u64::from(u32_at(bytes, 28)?), u16_at(bytes, 42)?, u16_at(bytes, 44)?)
    };
    for index in 0..u64::from(count) {
        let header = usize::try_from(offset + index * u64::from(entry_size)).context("program header offset")?;
        if u32_at(bytes, header)? == PT_INTERP {
            bail!("dynamically linked (it names a loader): it would not start on Alpine or in an empty root");
        }
    }
    Ok(())
}

fn field<const N: usize>(bytes: &[u8], at: usize) -> anyhow::Result<[u8; N]> {
    let slice = bytes.get(at..at + N).context("truncated ELF header")?;
    let mut out = [0; N];
    out.copy_from_slice(slice);
    Ok(out)
}

fn u16_at(bytes: &[u8], at: usize) -> anyhow::Result<u16> {
    Ok(u16::from_le_bytes(field(bytes, at)?))
}

fn u32_at(bytes: &[u8], at: usize) -> anyhow::Result<u32> {
    Ok(u32::from_le_bytes(field(bytes, at)?))
}

fn u64_at(bytes: &[u8], at: usize) -> anyhow::Result<u64> {
    Ok(u64::from_le_bytes(field(bytes, at)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> &'static Platform {
        Platform::find("linux-x86_64").expect("listed")
    }

    #[test]
    fn a_dynamic_elf_is_refused() {
        // The tool running this test is a dynamically linked x86-64 binary on this machine.
        let bytes = std::fs::read(std::env::current_exe().expect("exe")).expect("readable");
        let error = check(linux(), &bytes).expect_err("dynamic");
        assert!(error.to_string().contains("dynamically linked"), "{error}");
    }

    #[test]
    fn a_binary_for_another_platform_is_refused() {
        assert!(check(linux(), b"MZ\x90\x00").is_err());
        assert!(check(Platform::find("windows-x86_64").expect("listed"), b"\x7fELF").is_err());
        assert!(check(Platform::find("macos").expect("listed"), b"MZ").is_err());
        let arm = Platform::find("linux-aarch64").expect("listed");
        let bytes = std::fs::read(std::env::current_exe().expect("exe")).expect("readable");
        assert!(check(arm, &bytes).expect_err("x86-64").to_string().contains("machine 62"));
    }
}
