//! Stash's web side, for the fake Stash: the plugin's page files served the way Stash serves
//! them, the test shell (a stand-in for Stash's own UI) for every extension-less path, scene
//! screenshots, and the plugin runner behind `/graphql`.
//!
//! Why it exists: the StashHog page is tested in a real browser against the real binary. Stash
//! concatenates a plugin's `ui.javascript` files into `/plugin/<id>/javascript` (CSS into
//! `/plugin/<id>/css`) and answers any path without a dot with index.html, which is what makes
//! `/plugins/stashhog?plan=3` survive a refresh; a path with a dot that is no file is a 404.

use super::fake_http::{Incoming, Reply};
use super::fake_plugins::PluginHost;
use super::gql::{Document, GqlRequest};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What the fake Stash asks of an extension before its own handling.
pub trait Extension: Send + Sync {
    /// Answers a request for anything but `/graphql`, or `None` (then: 404).
    fn serve(&self, request: &Incoming) -> Option<Reply>;
    /// Answers a validated GraphQL document it owns, or `None` (then: the fake's resolvers).
    fn graphql(&self, document: &Document, request: &GqlRequest) -> Option<Reply>;
}

/// The web side (see the module docs).
pub struct StashWeb {
    plugin_id: String,
    /// The folder of the manifest, where `ui:` paths are relative to.
    plugin_root: PathBuf,
    javascript: Vec<String>,
    css: Vec<String>,
    /// The built test shell: `index.html` and its assets.
    shell: PathBuf,
    /// The plugin runner.
    pub host: PluginHost,
}

impl StashWeb {
    /// Serves the plugin whose manifest is `<repo>/stashhog.yml` and the shell in `shell`.
    pub fn new(shell: &Path, host: PluginHost) -> StashWeb {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("stashhog.yml")).unwrap_or_default();
        let manifest: Value = serde_yaml::from_str(&text).unwrap_or(Value::Null);
        let list = |key: &str| -> Vec<String> {
            manifest
                .pointer(&format!("/ui/{key}"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        StashWeb {
            plugin_id: "stashhog".into(),
            // `install` puts plugin/'s files beside the manifest; serve them from where they are.
            plugin_root: root.join("plugin"),
            javascript: list("javascript"),
            css: list("css"),
            shell: shell.to_owned(),
            host,
        }
    }

    fn concatenated(&self, files: &[String]) -> Option<String> {
        let mut out = String::new();
        for file in files {
            out.push_str(&std::fs::read_to_string(self.plugin_root.join(file)).ok()?);
            out.push('\n');
        }
        Some(out)
    }

    fn file(&self, path: &Path) -> Option<Reply> {
        let body = std::fs::read(path).ok()?;
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some("js") => "application/javascript",
            Some("css") => "text/css",
            Some("html") => "text/html; charset=utf-8",
            Some("woff2") => "font/woff2",
            _ => "application/octet-stream",
        };
        let mut reply = Reply::empty(200).with_header("Content-Type", kind);
        reply.body = body;
        Some(reply)
    }
}

/// A stand-in screenshot: an SVG naming the scene (Stash serves a JPEG).
fn screenshot(id: &str) -> Reply {
    let hue = id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 360;
    Reply::text(
        200,
        "image/svg+xml",
        &format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='320' height='180'><rect width='320' height='180' \
             fill='hsl({hue},35%,30%)'/><text x='160' y='100' font-family='sans-serif' font-size='28' \
             fill='#eee' text-anchor='middle'>scene {id}</text></svg>"
        ),
    )
}

impl Extension for StashWeb {
    fn serve(&self, request: &Incoming) -> Option<Reply> {
        if request.method != "GET" {
            return None;
        }
        let path = request.path.as_str();
        let plugin = format!("/plugin/{}/", self.plugin_id);
        if let Some(kind) = path.strip_prefix(&plugin) {
            return match kind {
                "javascript" => self
                    .concatenated(&self.javascript)
                    .map(|js| Reply::text(200, "application/javascript; charset=utf-8", &js)),
                "css" => self.concatenated(&self.css).map(|css| Reply::text(200, "text/css; charset=utf-8", &css)),
                _ => None,
            };
        }
        if let Some(rest) = path.strip_prefix("/shell/") {
            if rest.split('/').any(|part| part == ".." || part.is_empty()) {
                return None;
            }
            return self.file(&self.shell.join(rest));
        }
        if let Some(id) = path.strip_prefix("/scene/").and_then(|rest| rest.strip_suffix("/screenshot")) {
            return Some(screenshot(id));
        }
        let last = path.rsplit('/').next().unwrap_or_default();
        if last.contains('.') {
            return None;
        }
        self.file(&self.shell.join("index.html"))
    }

    fn graphql(&self, document: &Document, request: &GqlRequest) -> Option<Reply> {
        self.host.graphql(document, request)
    }
}
