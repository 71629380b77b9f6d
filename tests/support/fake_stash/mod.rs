//! `FakeStash`: an in-process fake of Stash's GraphQL server, faithful where StashHog depends
//! on Stash's behaviour.
//!
//! Why it exists: every integration test runs the real binary against it. It validates each
//! document against the upstream schema (422 like gqlgen), executes it with real GraphQL
//! semantics (aliases, fragments, variables), authenticates like Stash (ApiKey header or the
//! session cookie, 401 before GraphQL, cookie renewal), and pages like Stash's SQL: `findScenes`
//! without `sort` has NO `ORDER BY` (rows come back in a different order on every call), ties
//! are broken like Stash's final sort, timestamps are compared as text, string equality is
//! SQLite `LIKE`. A client bug that real Stash would expose must fail here too.
//!
//! What it must never do: return plausible data for something it does not model. Unmodelled
//! fields, filters, sorts and mutations are loud field errors naming what to extend.

use super::fake_http::{self, FakeServer, Handler, Incoming, Reply};
use super::fake_stashbox::fake_uuid;
use super::fake_web::Extension;
use super::gql::{self, EnvelopeError, JsonObject, arguments, field_error, lock, not_modelled, opt_leaf, string_list};
use super::schema::Api;
use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

mod configuration;
mod filters;
mod finding;
mod library;
mod mutations;
mod objects;
mod resolvers;
mod server;
mod time;

pub use configuration::*;
use filters::*;
pub use finding::*;
pub use library::*;
use mutations::*;
use objects::*;
use resolvers::*;
pub use server::*;
pub use time::*;
