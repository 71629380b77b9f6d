//! The GraphQL schemas the fakes serve, loaded and validated ONCE per test process.
//!
//! Why it exists: the fakes are only worth something if they reject exactly what the real
//! servers reject. So they validate every incoming document against the UPSTREAM schemas of
//! Stash and stash-box (`../shared/upstream`), not against the subsets the crate keeps in
//! `graphql/`: an operation that only passes against our own subset would pass here too and
//! then fail against a real server.
//!
//! When the upstream checkout is missing (a contributor's machine), the project's own subset
//! schemas stand in and a notice says so once; on CI (`CI` set) a missing checkout is an error,
//! never a silent downgrade.

use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

/// The two GraphQL APIs StashHog talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// The local Stash server.
    Stash,
    /// A stash-box server (StashDB).
    StashBox,
}

impl Api {
    /// The validated schema for this API (upstream, or the project's subset as a fallback).
    pub fn schema(self) -> &'static Valid<Schema> {
        static STASH: OnceLock<Valid<Schema>> = OnceLock::new();
        static STASHBOX: OnceLock<Valid<Schema>> = OnceLock::new();
        let cell = match self {
            Api::Stash => &STASH,
            Api::StashBox => &STASHBOX,
        };
        cell.get_or_init(|| load(self))
    }

    /// A short human name, used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Api::Stash => "Stash",
            Api::StashBox => "stash-box",
        }
    }

    fn upstream_subdir(self) -> &'static str {
        match self {
            Api::Stash => "stash/graphql/schema",
            Api::StashBox => "stash-box/graphql/schema",
        }
    }

    fn subset_file(self) -> &'static str {
        match self {
            Api::Stash => "graphql/stash/schema.graphql",
            Api::StashBox => "graphql/stashbox/schema.graphql",
        }
    }
}

/// The upstream schema checkout (`<repo>/../shared/upstream`), if present.
pub fn upstream_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/upstream");
    dir.is_dir().then_some(dir)
}

/// Whether the fakes validate against the upstream schemas (false: the project's subsets).
pub fn is_upstream() -> bool {
    upstream_dir().is_some()
}

/// Stash's schema, validated.
pub fn stash_schema() -> &'static Valid<Schema> {
    Api::Stash.schema()
}

/// stash-box's schema, validated.
pub fn stashbox_schema() -> &'static Valid<Schema> {
    Api::StashBox.schema()
}

fn load(api: Api) -> Valid<Schema> {
    let sources = match upstream_dir() {
        Some(dir) => upstream_sources(api, &dir.join(api.upstream_subdir())),
        None => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "CI is set but the upstream GraphQL schemas are missing: expected them in \
                     {}/../shared/upstream. The fakes must validate against upstream on CI.",
                    env!("CARGO_MANIFEST_DIR")
                );
            }
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                eprintln!(
                    "note: ../shared/upstream is missing: the fake servers validate against the \
                     project's own subset schemas (graphql/*/schema.graphql), NOT upstream"
                );
            });
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(api.subset_file());
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            vec![(path, text)]
        }
    };
    let mut builder = Schema::builder();
    for (path, text) in sources {
        builder = builder.parse(text, path);
    }
    let schema = builder.build().unwrap_or_else(|e| panic!("{} schema does not build:\n{}", api.name(), e.errors));
    schema.validate().unwrap_or_else(|e| panic!("{} schema is invalid:\n{}", api.name(), e.errors))
}

/// Every `.graphql` file under `dir`, in a stable order, with stash-box's `= False` quirk fixed.
fn upstream_sources(api: Api, dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    collect_graphql(dir, &mut files);
    assert!(!files.is_empty(), "no .graphql files under {}", dir.display());
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let mut text =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            if api == Api::StashBox {
                // Upstream writes two input defaults as `Boolean = False`: graphql-core accepts
                // it, the GraphQL spec (and apollo-compiler) does not.
                text = text.replace("= False", "= false");
            }
            (path, text)
        })
        .collect()
}

fn collect_graphql(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_graphql(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "graphql") {
            out.push(path);
        }
    }
}
