//! The layers `src/lib.rs` declares, checked against every `crate::` path in `src/`: a module
//! never names one of a higher layer, and no two modules name each other, however indirectly.
//!
//! `lib.rs` lists its modules top-down in groups, each group a layer opened by a `// …`
//! comment line; this test reads that list, so the file stays the one home of the layering.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of the crate, and its layer (0 = top), as `lib.rs` lists them.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut layer = 0;
    let mut seen_module = false;
    let mut out = BTreeMap::new();
    for line in lib.lines().map(str::trim) {
        if line.starts_with("// ") {
            if seen_module {
                layer += 1;
                seen_module = false;
            }
        } else if let Some(rest) = line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("pub(crate) mod ")) {
            out.insert(rest.trim_end_matches(';').to_owned(), layer);
            seen_module = true;
        }
    }
    out
}

/// Every file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reads src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// (module, module it names) for every `crate::x` path in a module's files.
fn imports(src: &Path, modules: &BTreeMap<String, usize>) -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let first = relative.components().next().expect("a path").as_os_str().to_string_lossy();
        let from = first.trim_end_matches(".rs").to_owned();
        if !modules.contains_key(&from) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("reads a source file");
        for (at, _) in text.match_indices("crate::") {
            let name: String =
                text[at + "crate::".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name != from && modules.contains_key(&name) {
                edges.insert((from.clone(), name));
            }
        }
    }
    edges
}

#[test]
fn no_module_names_a_higher_layer_and_no_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("reads lib.rs");
    let modules = layers(&lib);
    assert!(modules.len() > 10 && modules.values().max() > Some(&5), "lib.rs lists its layers: {modules:?}");
    let edges = imports(&root.join("src"), &modules);
    let upward: Vec<String> = edges
        .iter()
        .filter(|(from, to)| modules[to] < modules[from])
        .map(|(from, to)| format!("{from} (layer {}) names {to} (layer {})", modules[from], modules[to]))
        .collect();
    assert!(upward.is_empty(), "a lower layer names a higher one:\n{}", upward.join("\n"));
    // Within a layer: no cycle (depth-first search over the edges).
    fn visit<'a>(
        module: &'a str,
        edges: &'a BTreeSet<(String, String)>,
        state: &mut BTreeMap<&'a str, bool>,
        path: &mut Vec<&'a str>,
    ) {
        state.insert(module, false);
        path.push(module);
        for (_, next) in edges.iter().filter(|(from, _)| from == module) {
            match state.get(next.as_str()) {
                Some(false) => panic!("import cycle: {} -> {next}", path.join(" -> ")),
                Some(true) => {}
                None => visit(next, edges, state, path),
            }
        }
        path.pop();
        state.insert(module, true);
    }
    let mut state = BTreeMap::new();
    for module in modules.keys() {
        if !state.contains_key(module.as_str()) {
            visit(module, &edges, &mut state, &mut Vec::new());
        }
    }
}

#[test]
fn the_layer_reader_finds_the_groups() {
    let lib = "// Entry.\npub mod app;\n// Faces.\n/// doc\npub(crate) mod cli;\npub mod plugin;\n// Bottom.\npub mod words;\n";
    let found = layers(lib);
    assert_eq!(found["app"], 0);
    assert_eq!((found["cli"], found["plugin"]), (1, 1));
    assert_eq!(found["words"], 2);
}
