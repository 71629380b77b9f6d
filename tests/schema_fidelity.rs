//! Schema fidelity: the GraphQL schemas StashHog compiles against must say what the real Stash
//! and stash-box servers say.
//!
//! graphql_client generates Rust types from `graphql/<api>/schema.graphql`, a hand-kept SUBSET of
//! each upstream schema, and at compile time it checks field names only. An argument of the
//! wrong type, a missing required argument, a `String` that upstream calls `String!`, a list
//! nested differently, an enum value the server may send but we never declared: all of these
//! compile, pass tests against our own fakes, and then fail (or decode wrongly) against a real
//! server. These tests close that gap:
//! - every operation document under `graphql/<api>/` (found by listing the folder) validates,
//!   with apollo-compiler's full validation, against our subset AND against upstream;
//! - our subsets are valid schemas, and every type, field, argument, input field, enum value,
//!   union member and scalar in them exists upstream with exactly the same type; no argument or
//!   input field that upstream REQUIRES is left out; enums and unions are complete.
//!
//! The upstream schemas live in `../shared/upstream` beside the project checkout and must never
//! be copied into the project. Where that folder is absent the upstream checks skip, except
//! under `CI`, where its absence is a failure: CI is exactly where they must run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use apollo_compiler::ast::{FieldDefinition, InputValueDefinition, Value};
use apollo_compiler::collections::{IndexMap, IndexSet};
use apollo_compiler::schema::{Component, ComponentName, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node, Schema};

/// One GraphQL API StashHog talks to: where our subset and the upstream schema live.
struct Api {
    /// How messages name this API.
    name: &'static str,
    /// Folder, relative to the crate root, holding our subset and the operation documents.
    project_dir: &'static str,
    /// Folder, relative to [`UPSTREAM`], holding the upstream schema files.
    upstream_dir: &'static str,
}

/// The local Stash server.
const STASH: Api = Api { name: "Stash", project_dir: "graphql/stash", upstream_dir: "stash/graphql/schema" };

/// stash-box, the server behind StashDB.
const STASH_BOX: Api =
    Api { name: "stash-box", project_dir: "graphql/stashbox", upstream_dir: "stash-box/graphql/schema" };

/// Our subset's file name inside [`Api::project_dir`]; every other `.graphql` there is an operation.
const SUBSET_FILE: &str = "schema.graphql";

/// The upstream schemas, relative to the crate root.
const UPSTREAM: &str = "../shared/upstream";

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The upstream folder, or `None` (after saying so) where it is legitimately absent.
fn upstream_root() -> Option<PathBuf> {
    let dir = crate_root().join(UPSTREAM);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{UPSTREAM} not found at {}: CI runs beside shared/ and must check our GraphQL \
             against the upstream schemas",
            dir.display()
        );
    }
    println!("skipping: ../shared/upstream not found (only present beside the project checkout)");
    None
}

/// Every `.graphql` file under `base/rel_dir`, recursively and sorted, as paths that start
/// with `rel_dir` (short enough to read in a diagnostic).
fn graphql_files(base: &Path, rel_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![rel_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let full = base.join(&dir);
        let entries = std::fs::read_dir(&full).unwrap_or_else(|e| panic!("listing {}: {e}", full.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("listing {}: {e}", full.display()));
            let rel = dir.join(entry.file_name());
            if base.join(&rel).is_dir() {
                pending.push(rel);
            } else if rel.extension().is_some_and(|ext| ext == "graphql") {
                found.push(rel);
            }
        }
    }
    found.sort();
    found
}

/// Our subset schema, validated.
fn subset_schema(api: &Api) -> Valid<Schema> {
    let rel = Path::new(api.project_dir).join(SUBSET_FILE);
    let sdl = read(&crate_root().join(&rel));
    Schema::parse_and_validate(sdl, &rel)
        .unwrap_or_else(|e| panic!("{} is not a valid schema:\n{}", rel.display(), e.errors))
}

/// The upstream schema of `api`: all its files fed to one builder, then validated.
fn upstream_schema(root: &Path, api: &Api) -> Valid<Schema> {
    let files = graphql_files(root, Path::new(api.upstream_dir));
    assert!(!files.is_empty(), "no .graphql files under {UPSTREAM}/{}", api.upstream_dir);
    let mut builder = Schema::builder();
    for rel in &files {
        // stash-box writes two defaults as `Boolean = False`: not GraphQL (booleans are
        // lowercase; graphql-core lets it pass). apollo-compiler 1.33.1 reads `False` as an
        // enum value, so a subset that writes the valid `= false` would "differ". Fixed here,
        // in memory, never in the file.
        let sdl = read(&root.join(rel)).replace("= False", "= false");
        builder = builder.parse(sdl, Path::new(UPSTREAM).join(rel));
    }
    builder
        .build()
        .and_then(Schema::validate)
        .unwrap_or_else(|e| panic!("upstream {} schema is not valid:\n{}", api.name, e.errors))
}

/// The operation documents of `api`: every `.graphql` under its folder except our subset.
fn operation_documents(api: &Api) -> Vec<PathBuf> {
    let subset = Path::new(api.project_dir).join(SUBSET_FILE);
    let documents: Vec<PathBuf> =
        graphql_files(&crate_root(), Path::new(api.project_dir)).into_iter().filter(|path| *path != subset).collect();
    assert!(!documents.is_empty(), "no operation documents under {}: is the folder right?", api.project_dir);
    documents
}

/// The documents the binary builds at run time (aliased batches, one per size) for `api`.
fn built_documents(api: &Api) -> Vec<&'static str> {
    match api.name {
        "stash-box" => stashhog::stashbox::batch_documents(),
        _ => stashhog::stash::aliased_documents(),
    }
}

/// Validates every operation document of `api` against `schema` — the files, and every document
/// the binary builds at run time; one failure lists them all.
fn assert_operations_validate(api: &Api, schema: &Valid<Schema>, schema_name: &str) {
    let documents = operation_documents(api);
    let built = built_documents(api);
    assert!(!built.is_empty(), "no built documents for {}", api.name);
    let mut invalid = 0;
    let mut diagnostics = String::new();
    let files = documents.iter().map(|rel| (read(&crate_root().join(rel)), rel.display().to_string()));
    let built = built.iter().enumerate().map(|(i, doc)| ((*doc).to_owned(), format!("built document {i}")));
    for (source, name) in files.chain(built) {
        if let Err(e) = ExecutableDocument::parse_and_validate(schema, source, name) {
            invalid += 1;
            write!(diagnostics, "{}", e.errors).expect("writing to a String");
        }
    }
    assert!(
        invalid == 0,
        "{invalid} of {} operation document(s) under {} are invalid against {schema_name}:\n\
         {diagnostics}",
        documents.len(),
        api.project_dir
    );
}

/// Checks that our subset matches upstream, failing once with every departure listed.
fn assert_subset_matches_upstream(api: &Api) {
    let Some(root) = upstream_root() else { return };
    let ours = subset_schema(api);
    let upstream = upstream_schema(&root, api);
    let found = departures(&ours, &upstream);
    assert!(
        found.is_empty(),
        "{}/{SUBSET_FILE} departs from the upstream {} schema in {} place(s):\n  - {}",
        api.project_dir,
        api.name,
        found.len(),
        found.join("\n  - ")
    );
}

/// Every way `ours` departs from `upstream`, one line each, in our schema's order.
///
/// Allowed: leaving out types, fields, optional arguments, optional input fields and
/// `implements` clauses. Not allowed: anything we declare that upstream does not, or types or
/// defaults differently; leaving out something upstream requires; incomplete unions (the
/// generated code fails to decode a member it does not know) and incomplete enums (they would
/// decode as graphql_client's catch-all `Other(String)`, which no caller expects).
fn departures(ours: &Schema, upstream: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let roots = [
        ("query", &ours.schema_definition.query, &upstream.schema_definition.query),
        ("mutation", &ours.schema_definition.mutation, &upstream.schema_definition.mutation),
        ("subscription", &ours.schema_definition.subscription, &upstream.schema_definition.subscription),
    ];
    for (operation, our_root, upstream_root) in roots {
        if let Some(our_root) = our_root {
            let theirs = upstream_root.as_ref().map(|name| name.as_str());
            if theirs != Some(our_root.as_str()) {
                out.push(format!(
                    "schema {operation}: root type `{our_root}` here, {} upstream",
                    theirs.map_or("none".to_owned(), |name| format!("`{name}`"))
                ));
            }
        }
    }
    for (name, ty) in &ours.types {
        if ty.is_built_in() {
            continue;
        }
        let Some(up) = upstream.types.get(name) else {
            out.push(format!("{} {name}: no such type upstream", kind(ty)));
            continue;
        };
        match (ty, up) {
            (ExtendedType::Scalar(_), ExtendedType::Scalar(_)) => {}
            (ExtendedType::Object(o), ExtendedType::Object(u)) => {
                extra_names(&mut out, name, "implements", &o.implements_interfaces, &u.implements_interfaces);
                compare_fields(&mut out, name, &o.fields, &u.fields);
            }
            (ExtendedType::Interface(o), ExtendedType::Interface(u)) => {
                extra_names(&mut out, name, "implements", &o.implements_interfaces, &u.implements_interfaces);
                compare_fields(&mut out, name, &o.fields, &u.fields);
            }
            (ExtendedType::Union(o), ExtendedType::Union(u)) => {
                extra_names(&mut out, name, "member", &o.members, &u.members);
                for member in u.members.iter().filter(|m| !o.members.contains(*m)) {
                    out.push(format!("union {name}: member `{member}` missing here (unions must be complete)"));
                }
            }
            (ExtendedType::Enum(o), ExtendedType::Enum(u)) => {
                for value in o.values.keys().filter(|v| !u.values.contains_key(*v)) {
                    out.push(format!("enum {name}: value `{value}` not upstream"));
                }
                for value in u.values.keys().filter(|v| !o.values.contains_key(*v)) {
                    out.push(format!("enum {name}: value `{value}` missing here (enums must be complete)"));
                }
            }
            (ExtendedType::InputObject(o), ExtendedType::InputObject(u)) => {
                compare_input_values(
                    &mut out,
                    o.fields.values().map(|field| &field.node),
                    u.fields.values().map(|field| &field.node),
                    |field| format!("input {name}.{field}"),
                );
            }
            _ => out.push(format!("type {name}: {} here, {} upstream", kind(ty), kind(up))),
        }
    }
    out
}

fn kind(ty: &ExtendedType) -> &'static str {
    match ty {
        ExtendedType::Scalar(_) => "scalar",
        ExtendedType::Object(_) => "type",
        ExtendedType::Interface(_) => "interface",
        ExtendedType::Union(_) => "union",
        ExtendedType::Enum(_) => "enum",
        ExtendedType::InputObject(_) => "input",
    }
}

/// Reports names in `ours` that `upstream` lacks (interfaces implemented, union members).
fn extra_names(
    out: &mut Vec<String>,
    owner: &Name,
    what: &str,
    ours: &IndexSet<ComponentName>,
    upstream: &IndexSet<ComponentName>,
) {
    for name in ours.iter().filter(|n| !upstream.contains(*n)) {
        out.push(format!("{owner}: {what} `{name}` not upstream"));
    }
}

fn compare_fields(
    out: &mut Vec<String>,
    owner: &Name,
    ours: &IndexMap<Name, Component<FieldDefinition>>,
    upstream: &IndexMap<Name, Component<FieldDefinition>>,
) {
    for (name, field) in ours {
        let Some(up) = upstream.get(name) else {
            out.push(format!("{owner}.{name}: no such field upstream"));
            continue;
        };
        if field.ty != up.ty {
            out.push(format!("{owner}.{name}: `{}` here, `{}` upstream", field.ty, up.ty));
        }
        compare_input_values(out, field.arguments.iter(), up.arguments.iter(), |arg| format!("{owner}.{name}({arg}:)"));
    }
}

/// Compares arguments or input fields: ours must exist upstream with the same type and default,
/// and every one upstream requires must be ours too.
fn compare_input_values<'a>(
    out: &mut Vec<String>,
    ours: impl Iterator<Item = &'a Node<InputValueDefinition>>,
    upstream: impl Iterator<Item = &'a Node<InputValueDefinition>> + Clone,
    label: impl Fn(&Name) -> String,
) {
    let ours: Vec<&Node<InputValueDefinition>> = ours.collect();
    for value in &ours {
        let Some(up) = upstream.clone().find(|u| u.name == value.name) else {
            out.push(format!("{}: not upstream", label(&value.name)));
            continue;
        };
        if value.ty != up.ty {
            out.push(format!("{}: `{}` here, `{}` upstream", label(&value.name), value.ty, up.ty));
        }
        if value.default_value != up.default_value {
            out.push(format!(
                "{}: default {} here, {} upstream",
                label(&value.name),
                show_default(value.default_value.as_ref()),
                show_default(up.default_value.as_ref())
            ));
        }
    }
    for up in upstream.filter(|u| u.is_required()) {
        if !ours.iter().any(|value| value.name == up.name) {
            out.push(format!("{}: required upstream (`{}`), missing here", label(&up.name), up.ty));
        }
    }
}

fn show_default(value: Option<&Node<Value>>) -> String {
    value.map_or("none".to_owned(), |v| format!("`{v}`"))
}

#[test]
fn subset_schemas_are_valid_schemas() {
    subset_schema(&STASH);
    subset_schema(&STASH_BOX);
}

#[test]
fn stash_operations_validate_against_subset() {
    let schema = subset_schema(&STASH);
    assert_operations_validate(&STASH, &schema, "graphql/stash/schema.graphql");
}

#[test]
fn stashbox_operations_validate_against_subset() {
    let schema = subset_schema(&STASH_BOX);
    assert_operations_validate(&STASH_BOX, &schema, "graphql/stashbox/schema.graphql");
}

#[test]
fn stash_operations_validate_against_upstream() {
    let Some(root) = upstream_root() else { return };
    let schema = upstream_schema(&root, &STASH);
    assert_operations_validate(&STASH, &schema, "the upstream Stash schema");
}

#[test]
fn stashbox_operations_validate_against_upstream() {
    let Some(root) = upstream_root() else { return };
    let schema = upstream_schema(&root, &STASH_BOX);
    assert_operations_validate(&STASH_BOX, &schema, "the upstream stash-box schema");
}

#[test]
fn stash_subset_schema_matches_upstream_types() {
    assert_subset_matches_upstream(&STASH);
}

#[test]
fn stashbox_subset_schema_matches_upstream_types() {
    assert_subset_matches_upstream(&STASH_BOX);
}

/// The comparison itself, on a small made-up pair: each kind of departure is reported, all at
/// once, and what a subset may legitimately leave out is not.
#[test]
fn fidelity_check_reports_every_departure_and_allows_omissions() {
    let upstream = r#"
        schema { query: Query }
        scalar Time
        interface Node { id: ID! }
        type Query {
          scenes(filter: Filter, ids: [ID!], limit: Int! = 25): [Scene!]!
          tag(id: ID!): Tag
        }
        type Scene implements Node { id: ID!  title: String  urls: [String!]!  rating: Int }
        type Tag implements Node { id: ID!  name: String! }
        union Target = Scene | Tag
        enum Direction { ASC DESC }
        input Filter { q: String  page: Int = 1  mode: Direction! }
        input Range { from: Int!  to: Int  step: Int = 1 }
    "#;
    let ours = r#"
        schema { query: Query }
        scalar Time
        scalar Extra
        type Query {
          scenes(ids: [ID], limit: Int! = 50, range: Range): [Scene!]!
          tag: Tag
          gone: Int
        }
        type Scene { id: ID!  title: String!  urls: [String!]!  duration: Int }
        type Tag { id: ID!  name: String! }
        union Target = Scene
        enum Direction { ASC SIDEWAYS }
        type Filter { q: String }
        input Range { to: Int!  step: Int }
    "#;
    let upstream = Schema::parse_and_validate(upstream, "upstream.graphql").expect("upstream sample is valid");
    let ours = Schema::parse_and_validate(ours, "ours.graphql").expect("subset sample is valid");
    let found = departures(&ours, &upstream);
    let expected = [
        "scalar Extra: no such type upstream",
        "Query.scenes(ids:): `[ID]` here, `[ID!]` upstream",
        "Query.scenes(limit:): default `50` here, `25` upstream",
        "Query.scenes(range:): not upstream",
        "Query.tag(id:): required upstream (`ID!`), missing here",
        "Query.gone: no such field upstream",
        "Scene.title: `String!` here, `String` upstream",
        "Scene.duration: no such field upstream",
        "union Target: member `Tag` missing here (unions must be complete)",
        "enum Direction: value `SIDEWAYS` not upstream",
        "enum Direction: value `DESC` missing here (enums must be complete)",
        "type Filter: type here, input upstream",
        "input Range.to: `Int!` here, `Int` upstream",
        "input Range.step: default none here, `1` upstream",
        "input Range.from: required upstream (`Int!`), missing here",
    ];
    assert_eq!(found, expected);

    let exact_subset = r#"
        schema { query: Query }
        type Query { scenes(limit: Int! = 25): [Scene!]! }
        type Scene { id: ID! }
    "#;
    let exact_subset = Schema::parse_and_validate(exact_subset, "exact.graphql").expect("exact sample is valid");
    assert_eq!(departures(&exact_subset, &upstream), Vec::<String>::new());
}

/// Each operation module names its document after itself (`find_tags.rs` reads
/// `find_tags.graphql`), so a reader finds one from the other; and no document lies unused.
#[test]
fn every_operation_document_is_named_after_its_module_and_used() {
    for (api, modules) in [(&STASH, "src/stash/operations"), (&STASH_BOX, "src/stashbox/operations")] {
        let mut used = IndexSet::default();
        let entries = std::fs::read_dir(crate_root().join(modules)).expect("the operations folder exists");
        for entry in entries {
            let path = entry.expect("a readable folder entry").path();
            let module = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            let source = read(&path);
            // `query_path = "graphql/…/x.graphql"` (a derive) or `"x.graphql")` (hand-built writes).
            for piece in source.split('"').filter(|p| p.ends_with(".graphql") && !p.ends_with(SUBSET_FILE)) {
                let document = Path::new(piece).file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                if source.contains(&format!("query_path = \"{piece}\"")) {
                    assert_eq!(document, module, "{}: the derive reads {piece}", path.display());
                }
                used.insert(document);
            }
        }
        for document in operation_documents(api) {
            let name = document.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            assert!(used.contains(&name), "{} is used by no module under {modules}", document.display());
        }
    }
}
