//! A fake OpenAI-compatible chat-completions endpoint, so the AI detector is tested without a
//! real model: it checks the bearer key, records every request, and answers with whatever the
//! test's `answer` function makes of the scenes it was asked about, with a usage block.

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What the test's answer function returns for one request.
pub enum Answer {
    /// The assistant's message text (normally a JSON document).
    Content(String),
    /// An HTTP error status with a JSON error body.
    Status(u16),
}

/// Makes the answer from the scenes of the request (`[{"id", "path", "title"}]`).
pub type AnswerFn = dyn Fn(&[Value]) -> Answer + Send + Sync;

/// The fake endpoint; stops on drop.
pub struct FakeAi {
    server: Arc<tiny_http::Server>,
    port: u16,
    requests: Arc<Mutex<Vec<Value>>>,
    thread: Option<JoinHandle<()>>,
}

/// The key the fake accepts.
pub const API_KEY: &str = "sk-test-secret";

/// Usage the fake reports per request: (prompt, completion) tokens.
pub const USAGE: (u64, u64) = (1000, 200);

impl FakeAi {
    /// Starts the fake on a free loopback port.
    pub fn start(answer: impl Fn(&[Value]) -> Answer + Send + Sync + 'static) -> FakeAi {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("binds a loopback port"));
        let port = server.server_addr().to_ip().map(|a| a.port()).expect("an IP address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (srv, log) = (Arc::clone(&server), Arc::clone(&requests));
        let answer: Box<AnswerFn> = Box::new(answer);
        let thread = std::thread::spawn(move || {
            while let Ok(mut request) = srv.recv() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let authorized = request
                    .headers()
                    .iter()
                    .any(|h| h.field.equiv("Authorization") && h.value.as_str() == format!("Bearer {API_KEY}"));
                if let Ok(mut log) = log.lock() {
                    log.push(json!({"path": request.url(), "authorized": authorized, "body": body}));
                }
                let (status, reply) = if !authorized {
                    (401, json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}))
                } else {
                    let scenes = body
                        .pointer("/messages/1/content")
                        .and_then(Value::as_str)
                        .and_then(|c| serde_json::from_str::<Value>(c).ok())
                        .and_then(|v| v["scenes"].as_array().cloned())
                        .unwrap_or_default();
                    match answer(&scenes) {
                        Answer::Content(content) => (
                            200,
                            json!({
                                "id": "chatcmpl-fake", "object": "chat.completion", "model": body["model"],
                                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                                "usage": {"prompt_tokens": USAGE.0, "completion_tokens": USAGE.1, "total_tokens": USAGE.0 + USAGE.1},
                            }),
                        ),
                        Answer::Status(status) => (status, json!({"error": {"message": "fake failure"}})),
                    }
                };
                let header = tiny_http::Header::from_bytes("Content-Type", "application/json").expect("a valid header");
                let response =
                    tiny_http::Response::from_string(reply.to_string()).with_status_code(status).with_header(header);
                let _ = request.respond(response);
            }
        });
        FakeAi { server, port, requests, thread: Some(thread) }
    }

    /// The base URL to put in `aiBaseUrl`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// Every request so far: `{"path", "authorized", "body"}`.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeAi {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
