//! The one JSON document Stash writes to a plugin's stdin, parsed exactly as Stash sends it.
//!
//! Stash serialises a Go struct without json tags, so `server_connection`'s keys are capitalised;
//! `SessionCookie` may be null and carries many fields of which only `Name` and `Value` matter;
//! there is no API key. `Host` is Stash's listen address, which a client cannot always dial.

use std::io::Read;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use super::args::Args;
use crate::graphql::Cookie;

/// Stash's input could not be read or is not what Stash sends.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// stdin could not be read.
    #[error("cannot read stdin")]
    Read(#[source] std::io::Error),
    /// stdin held nothing.
    #[error(
        "stdin is empty: StashHog expects the JSON document Stash sends to plugins; to run it by hand use the command line (`stashhog --help`)"
    )]
    Empty,
    /// stdin is not JSON.
    #[error("stdin is not JSON (StashHog expects the document Stash sends to plugins)")]
    NotJson(#[source] serde_json::Error),
    /// stdin is JSON of the wrong shape.
    #[error("stdin holds a JSON {0}, not the object Stash sends ({{\"server_connection\": …, \"args\": …}})")]
    NotObject(&'static str),
    /// `server_connection` is missing: something other than Stash started us.
    #[error(
        "the input has no `server_connection`, so StashHog does not know where Stash is; start it from Stash, or use the command line (`stashhog --help`)"
    )]
    NoServerConnection,
    /// A field has the wrong type.
    #[error("the input's {0}")]
    Invalid(String),
}

/// Where and how to reach the Stash that started us.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConnection {
    /// `http` or `https`.
    pub scheme: String,
    /// A host we can dial (`0.0.0.0`, `::` and empty mapped to `127.0.0.1`).
    pub host: String,
    /// Stash's port.
    pub port: u16,
    /// Stash's session cookie, when it has one.
    pub cookie: Option<Cookie>,
    /// Stash's config folder (`Dir`).
    pub stash_dir: Option<PathBuf>,
    /// The folder of our manifest (`PluginDir`).
    pub plugin_dir: Option<PathBuf>,
}

impl ServerConnection {
    /// The GraphQL endpoint URL.
    pub fn graphql_url(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{}://{}:{}/graphql", self.scheme, host, self.port)
    }
}

/// What Stash adds to `args` when a hook starts us (`args.hookContext`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HookContext {
    /// The object's id; Stash omits it when 0.
    #[serde(default)]
    pub id: Option<i64>,
    /// The trigger, e.g. `Scene.Update.Post`.
    #[serde(rename = "type")]
    pub trigger: String,
    /// The mutation's input: for `sceneUpdate` every key (null when unset), for
    /// `bulkSceneUpdate` the bulk input; null for hooks from scans and identify.
    #[serde(default)]
    pub input: Value,
    /// The keys the mutation really sent; Stash omits the list when empty.
    #[serde(rename = "inputFields", default)]
    pub input_fields: Vec<String>,
}

/// A parsed plugin invocation.
#[derive(Debug, Clone)]
pub struct PluginInput {
    /// How to reach Stash.
    pub server: ServerConnection,
    /// The mode's arguments (`mode` included).
    pub args: Args,
    /// Present when a hook started us.
    pub hook: Option<HookContext>,
}

#[derive(Deserialize)]
struct RawConnection {
    #[serde(rename = "Scheme", default)]
    scheme: Option<String>,
    #[serde(rename = "Host", default)]
    host: Option<String>,
    #[serde(rename = "Port")]
    port: u16,
    #[serde(rename = "SessionCookie", default)]
    session_cookie: Option<RawCookie>,
    #[serde(rename = "Dir", default)]
    dir: Option<String>,
    #[serde(rename = "PluginDir", default)]
    plugin_dir: Option<String>,
}

#[derive(Deserialize)]
struct RawCookie {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Value", default)]
    value: String,
}

/// Reads stdin to EOF and parses it.
pub(crate) fn read_stdin() -> Result<PluginInput, InputError> {
    let mut bytes = Vec::new();
    std::io::stdin().lock().read_to_end(&mut bytes).map_err(InputError::Read)?;
    parse(&bytes)
}

/// Parses Stash's input document.
pub fn parse(bytes: &[u8]) -> Result<PluginInput, InputError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::Empty);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(InputError::NotJson)?;
    let Value::Object(mut doc) = value else {
        return Err(InputError::NotObject(kind(&value)));
    };
    let raw = match doc.remove("server_connection") {
        None | Some(Value::Null) => return Err(InputError::NoServerConnection),
        Some(v) => serde_json::from_value::<RawConnection>(v)
            .map_err(|e| InputError::Invalid(format!("server_connection is malformed: {e}")))?,
    };
    let args = match doc.remove("args") {
        None | Some(Value::Null) => Args::default(),
        Some(Value::Object(map)) => Args::new(map),
        Some(other) => {
            return Err(InputError::Invalid(format!("`args` must be an object, not {}", kind(&other))));
        }
    };
    let hook = args
        .get("hookContext")
        .map(|v| serde_json::from_value::<HookContext>(v.clone()))
        .transpose()
        .map_err(|e| InputError::Invalid(format!("`args.hookContext` is malformed: {e}")))?;
    let host = match raw.host.as_deref().map(str::trim) {
        None | Some("" | "0.0.0.0" | "::" | "[::]") => "127.0.0.1".to_owned(),
        Some(h) if h.chars().any(|c| c.is_control() || c.is_whitespace() || "/?#@".contains(c)) => {
            return Err(InputError::Invalid(format!(
                "server_connection.Host {h:?} is not a host name or address; check Stash's host setting"
            )));
        }
        Some(h) => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
    };
    let scheme = match raw.scheme.as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("https") => "https",
        None | Some("" | "http") => "http",
        Some(other) => {
            return Err(InputError::Invalid(format!(
                "server_connection.Scheme {other:?} is not one Stash serves (http or https)"
            )));
        }
    };
    let cookie = raw
        .session_cookie
        .filter(|c| !c.name.is_empty() && !c.value.is_empty())
        .map(|c| Cookie { name: c.name, value: c.value });
    let folder = |d: Option<String>| d.filter(|d| !d.is_empty()).map(PathBuf::from);
    Ok(PluginInput {
        server: ServerConnection {
            scheme: scheme.to_owned(),
            host,
            port: raw.port,
            cookie,
            stash_dir: folder(raw.dir),
            plugin_dir: folder(raw.plugin_dir),
        },
        args,
        hook,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STASH_INPUT: &str = r#"{"server_connection":{"Scheme":"http","Host":"0.0.0.0","Port":9999,
      "SessionCookie":{"Name":"session","Value":"abc","Quoted":false,"Path":"","Domain":"",
        "Expires":"0001-01-01T00:00:00Z","RawExpires":"","MaxAge":0,"Secure":false,
        "HttpOnly":false,"SameSite":0,"Partitioned":false,"Raw":"","Unparsed":null},
      "Dir":"/root/.stash","PluginDir":"/root/.stash/plugins/stashhog"},
     "args":{"mode":"check"}}"#;

    #[test]
    fn parses_what_stash_sends() {
        let input = parse(STASH_INPUT.as_bytes()).expect("valid input");
        assert_eq!(input.server.graphql_url(), "http://127.0.0.1:9999/graphql");
        assert_eq!(input.server.cookie, Some(Cookie { name: "session".into(), value: "abc".into() }));
        assert_eq!(input.server.stash_dir, Some(PathBuf::from("/root/.stash")));
        assert_eq!(input.args.string("mode"), Ok(Some("check".into())));
    }

    #[test]
    fn unroutable_listen_hosts_become_loopback() {
        for host in ["0.0.0.0", "::", ""] {
            let doc = format!(r#"{{"server_connection":{{"Host":"{host}","Port":1}}}}"#);
            assert_eq!(parse(doc.as_bytes()).expect("parses").server.host, "127.0.0.1");
        }
        let doc = r#"{"server_connection":{"Scheme":"https","Host":"::1","Port":9999,"SessionCookie":null}}"#;
        let input = parse(doc.as_bytes()).expect("parses");
        assert_eq!(input.server.graphql_url(), "https://[::1]:9999/graphql");
        assert_eq!(input.server.cookie, None);
    }

    #[test]
    fn hook_context_is_read_with_stash_omissions() {
        let doc = br#"{"server_connection":{"Port":1},"args":{"mode":"hook_scene_updated",
            "hookContext":{"id":12,"type":"Scene.Update.Post","input":{"id":"12","title":null,"tag_ids":["3"]},
            "inputFields":["tag_ids"]}}}"#;
        let hook = parse(doc).expect("parses").hook.expect("a hook");
        assert_eq!(hook.id, Some(12));
        assert_eq!(hook.trigger, "Scene.Update.Post");
        assert_eq!(hook.input_fields, vec!["tag_ids".to_owned()]);
        let doc =
            br#"{"server_connection":{"Port":1},"args":{"hookContext":{"type":"Scene.Create.Post","input":null}}}"#;
        let hook = parse(doc).expect("parses").hook.expect("a hook");
        assert_eq!((hook.id, hook.input, hook.input_fields.len()), (None, Value::Null, 0));
        let bad = br#"{"server_connection":{"Port":1},"args":{"hookContext":{"id":"x"}}}"#;
        assert!(parse(bad).unwrap_err().to_string().contains("hookContext"));
    }

    #[test]
    fn bad_documents_say_what_is_wrong() {
        assert!(matches!(parse(b""), Err(InputError::Empty)));
        assert!(matches!(parse(b"{not json"), Err(InputError::NotJson(_))));
        assert!(matches!(parse(b"[1,2]"), Err(InputError::NotObject("array"))));
        assert!(matches!(parse(b"{\"args\":{}}"), Err(InputError::NoServerConnection)));
        let e = parse(br#"{"server_connection":{"Port":"x"}}"#).unwrap_err();
        assert!(e.to_string().contains("server_connection is malformed"), "{e}");
        let e = parse(br#"{"server_connection":{"Port":1},"args":[]}"#).unwrap_err();
        assert!(e.to_string().contains("`args` must be an object, not array"), "{e}");
    }
}
