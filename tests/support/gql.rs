//! GraphQL over HTTP the way the real servers answer it: parse the request envelope, validate
//! the document against the upstream schema, execute it with per-field resolvers.
//!
//! Why it exists: both fakes must treat any operation text exactly like a spec-compliant
//! server (aliases, fragments, variables, nested selections, validation errors) without
//! knowing StashHog's operations in advance. apollo-compiler does the parsing, validation and
//! execution; the fakes only supply resolvers. Parsed documents are cached by query text so a
//! 100k-scene benchmark does not re-validate the same operation on every page.
//!
//! Both Stash (gqlgen) and stash-box (gqlgen) answer a document that fails validation with
//! HTTP 422, `errors` and `"data": null`; a field error with HTTP 200, `errors` and partial data.

use super::schema::Api;
use apollo_compiler::ExecutableDocument;
use apollo_compiler::Name;
use apollo_compiler::collections::HashMap as ApolloHashMap;
use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::serde_json_bytes::ByteString;
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::{ExtendedType, Implementers, Type};
use apollo_compiler::validation::Valid;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A GraphQL request as it arrived in an HTTP body.
#[derive(Clone, Debug, Default)]
pub struct GqlRequest {
    /// The document text.
    pub query: String,
    /// `operationName`, when given and not null.
    pub operation_name: Option<String>,
    /// `variables` (empty when absent or null).
    pub variables: Map<String, Value>,
}

/// Why a request body is not a GraphQL request at all.
#[derive(Clone, Debug)]
pub enum EnvelopeError {
    /// Not a JSON object: gqlgen answers 400.
    BadJson(String),
    /// A JSON object without a query: gqlgen answers 422 "no operation provided".
    NoQuery,
}

/// Parses `{"query", "operationName", "variables"}` from an HTTP body.
pub fn parse_request(body: &[u8]) -> Result<GqlRequest, EnvelopeError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| EnvelopeError::BadJson(format!("json request body could not be decoded: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(EnvelopeError::BadJson("json request body could not be decoded: not an object".into()));
    };
    let query = match obj.get("query") {
        Some(Value::String(q)) if !q.trim().is_empty() => q.clone(),
        _ => return Err(EnvelopeError::NoQuery),
    };
    let operation_name = obj.get("operationName").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let variables = match obj.get("variables") {
        Some(Value::Object(vars)) => vars.clone(),
        _ => Map::new(),
    };
    Ok(GqlRequest { query, operation_name, variables })
}

/// A validated document, shared between requests with the same text.
pub type Document = Arc<Valid<ExecutableDocument>>;

/// Parses and validates `query` against `api`'s schema, cached by text. `Err` holds the
/// GraphQL error objects a gqlgen server would send (with locations).
pub fn document(api: Api, query: &str) -> Result<Document, Vec<Value>> {
    type Cache = Mutex<HashMap<(Api, String), Result<Document, Vec<Value>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (api, query.to_owned());
    if let Some(hit) = lock(cache).get(&key) {
        return hit.clone();
    }
    // Validate outside the lock: concurrent requests for other documents must not wait.
    let result = ExecutableDocument::parse_and_validate(api.schema(), query, "request.graphql").map(Arc::new).map_err(
        |with_errors| {
            with_errors
                .errors
                .iter()
                .map(|diagnostic| {
                    let mut error = serde_json::to_value(diagnostic.to_json()).expect("a GraphQL error serialises");
                    error["extensions"] = json!({
                        "code": "GRAPHQL_VALIDATION_FAILED",
                        "detail": diagnostic.to_string(),
                    });
                    error
                })
                .collect()
        },
    );
    lock(cache).insert(key, result.clone());
    result
}

/// The outcome of executing a request: what goes on the wire.
#[derive(Clone, Debug)]
pub struct Executed {
    /// HTTP status: 200, or 422 for request errors (unknown operation, bad variables).
    pub status: u16,
    /// The JSON response body.
    pub body: Value,
}

impl Executed {
    /// The `message` of every GraphQL error in the body.
    pub fn error_messages(&self) -> Vec<String> {
        error_messages(&self.body)
    }
}

/// The `message` of every error in a GraphQL response body.
pub fn error_messages(body: &Value) -> Vec<String> {
    body.get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors.iter().map(|e| e.get("message").and_then(Value::as_str).unwrap_or_default().to_owned()).collect()
        })
        .unwrap_or_default()
}

/// A body holding only request-level errors, like gqlgen sends them (`"data": null`).
pub fn errors_body(errors: Vec<Value>) -> Value {
    json!({ "errors": errors, "data": null })
}

/// A body with one error message and no data.
pub fn error_body(message: &str) -> Value {
    errors_body(vec![json!({ "message": message })])
}

/// Executes `request` against `document`. `root` builds the root object for the operation's
/// type (query or mutation); it is called once.
pub fn execute<'r>(
    api: Api,
    document: &Document,
    request: &GqlRequest,
    root: impl FnOnce(OperationType) -> Box<dyn ObjectValue + 'r>,
) -> Executed {
    let schema = api.schema();
    let operation = match document.operations.get(request.operation_name.as_deref()) {
        Ok(op) => op,
        Err(e) => {
            return Executed {
                status: 422,
                body: errors_body(vec![
                    serde_json::to_value(e.to_graphql_error(&document.sources)).expect("a GraphQL error serialises"),
                ]),
            };
        }
    };
    let variables: JsonMap =
        request.variables.iter().map(|(k, v)| (ByteString::from(k.as_str()), to_json_value(v))).collect();
    let root = root(operation.operation_type);
    let result = Execution::new(schema, document)
        .operation(operation)
        .implementers_map(implementers(api))
        .raw_variable_values(&variables)
        .execute_sync(root.as_ref());
    match result {
        Ok(response) => {
            let mut body = serde_json::to_value(&response).expect("a GraphQL response serialises");
            // apollo-compiler prefixes resolver errors; gqlgen sends the error's text as is.
            if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
                for error in errors {
                    if let Some(Value::String(message)) = error.get_mut("message")
                        && let Some(bare) = message.strip_prefix("resolver error: ")
                    {
                        *message = bare.to_owned();
                    }
                }
            }
            Executed { status: 200, body }
        }
        Err(e) => Executed {
            status: 422,
            body: errors_body(vec![
                serde_json::to_value(e.to_graphql_error(&document.sources)).expect("a GraphQL error serialises"),
            ]),
        },
    }
}

fn implementers(api: Api) -> &'static ApolloHashMap<Name, Implementers> {
    static STASH: OnceLock<ApolloHashMap<Name, Implementers>> = OnceLock::new();
    static STASHBOX: OnceLock<ApolloHashMap<Name, Implementers>> = OnceLock::new();
    let cell = match api {
        Api::Stash => &STASH,
        Api::StashBox => &STASHBOX,
    };
    cell.get_or_init(|| api.schema().implementers_map())
}

/// Locks a mutex, ignoring poisoning: a panicking test must not cascade into every other
/// request of the fake.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---- resolver helpers ----------------------------------------------------------------------

/// A field error with `message`.
pub fn field_error(message: impl Into<String>) -> FieldError {
    FieldError { message: message.into() }
}

/// The field error for a field the fake does not model yet: loud, so a test never passes
/// because the fake silently returned nothing.
pub fn not_modelled(api: Api, type_name: &str, field: &str) -> FieldError {
    field_error(format!("the fake {} does not model {type_name}.{field} yet (extend tests/support/)", api.name()))
}

/// The field's arguments as plain `serde_json` (after coercion: defaults applied).
pub fn arguments(info: &ResolveInfo<'_>) -> Map<String, Value> {
    info.arguments().iter().map(|(k, v)| (k.as_str().to_owned(), from_json_value(v))).collect()
}

/// `serde_json` → apollo-compiler's JSON.
pub fn to_json_value(value: &Value) -> JsonValue {
    match value {
        Value::Null => JsonValue::Null,
        Value::Bool(b) => JsonValue::Bool(*b),
        Value::Number(n) => JsonValue::Number(n.clone()),
        Value::String(s) => JsonValue::String(ByteString::from(s.as_str())),
        Value::Array(items) => JsonValue::Array(items.iter().map(to_json_value).collect()),
        Value::Object(map) => {
            JsonValue::Object(map.iter().map(|(k, v)| (ByteString::from(k.as_str()), to_json_value(v))).collect())
        }
    }
}

/// apollo-compiler's JSON → `serde_json`.
pub fn from_json_value(value: &JsonValue) -> Value {
    match value {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(*b),
        JsonValue::Number(n) => Value::Number(n.clone()),
        JsonValue::String(s) => Value::String(s.as_str().to_owned()),
        JsonValue::Array(items) => Value::Array(items.iter().map(from_json_value).collect()),
        JsonValue::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.as_str().to_owned(), from_json_value(v))).collect())
        }
    }
}

/// A nullable string leaf.
pub fn opt_leaf<'a>(value: Option<&str>) -> ResolvedValue<'a> {
    match value {
        Some(s) => ResolvedValue::leaf(s),
        None => ResolvedValue::null(),
    }
}

/// A list of string leaves.
pub fn string_list<'a>(values: &[String]) -> ResolvedValue<'a> {
    let items: Vec<ResolvedValue<'a>> = values.iter().map(|s| ResolvedValue::leaf(s.as_str())).collect();
    ResolvedValue::list(items)
}

/// Resolves a JSON value as a value of GraphQL type `ty`: objects become [`JsonObject`]s
/// (typed by `__typename` when present, for unions and interfaces), scalars become leaves.
pub fn resolve_json<'a>(info: &ResolveInfo<'_>, ty: &Type, value: &Value) -> Result<ResolvedValue<'a>, FieldError> {
    if value.is_null() {
        return Ok(ResolvedValue::null());
    }
    match ty {
        Type::List(inner) | Type::NonNullList(inner) => {
            let Value::Array(items) = value else {
                return Err(field_error(format!("fake data: expected a list for {ty}")));
            };
            let resolved = items.iter().map(|item| resolve_json(info, inner, item)).collect::<Result<Vec<_>, _>>()?;
            Ok(ResolvedValue::list(resolved))
        }
        Type::Named(name) | Type::NonNullNamed(name) => {
            let composite = matches!(
                info.schema().types.get(name),
                Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
            );
            if !composite {
                return Ok(ResolvedValue::Leaf(to_json_value(value)));
            }
            let Value::Object(map) = value else {
                return Err(field_error(format!("fake data: expected an object for {ty}")));
            };
            let type_name = map.get("__typename").and_then(Value::as_str).unwrap_or(name.as_str()).to_owned();
            Ok(ResolvedValue::object(JsonObject { type_name, fields: map.clone() }))
        }
    }
}

/// A GraphQL object backed by a JSON map: every selected field is read from the map. A missing
/// nullable field resolves to null; a missing non-null field is a field error naming it.
/// Field arguments are ignored: use a dedicated resolver for fields whose result depends on them.
#[derive(Clone, Debug)]
pub struct JsonObject {
    /// The concrete GraphQL object type.
    pub type_name: String,
    /// The fields.
    pub fields: Map<String, Value>,
}

impl JsonObject {
    /// An object of `type_name` from a JSON object (anything else gives an empty object).
    pub fn new(type_name: &str, value: Value) -> Self {
        let fields = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        JsonObject { type_name: type_name.to_owned(), fields }
    }
}

impl ObjectValue for JsonObject {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'a>(&'a self, info: &'a ResolveInfo<'a>) -> Result<ResolvedValue<'a>, FieldError> {
        let ty = &info.field_definition().ty;
        match self.fields.get(info.field_name()) {
            Some(value) => resolve_json(info, ty, value),
            None if ty.is_non_null() => Err(field_error(format!(
                "the fake server has no value for {}.{} (set it in the fake's data)",
                self.type_name,
                info.field_name()
            ))),
            None => Ok(ResolvedValue::null()),
        }
    }
}
