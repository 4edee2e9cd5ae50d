//! The HTTP side: records each request, checks the token, answers
//! injected faults, routes, and makes GET answers conditional (`ETag`,
//! `If-None-Match`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State as Extract};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::record::RecordedRequest;
use crate::routes;
use crate::state::State;

/// A fault injected for the next requests to one route.
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: String,
    pub path: String,
    pub remaining: u32,
    pub kind: FaultKind,
}

/// What a faulted request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// 403 with `retry-after` (seconds).
    SecondaryLimit { retry_after: u64 },
    /// 403 with `x-ratelimit-remaining: 0` and this reset.
    PrimaryLimit { reset: SystemTime },
}

/// Everything the server and the tests share.
#[derive(Debug)]
pub struct Shared {
    pub token: String,
    pub state: Mutex<State>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub faults: Mutex<Vec<Fault>>,
    /// How long each mutation is held, so overlapping ones are seen.
    pub mutation_hold: Mutex<Duration>,
    pub mutations_in_flight: AtomicUsize,
    /// `http://127.0.0.1:PORT`, for the addresses in answers.
    pub base: String,
}

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An answer before it is sent.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    /// GitHub's error body.
    pub fn error(status: StatusCode, message: &str) -> Self {
        Reply::json(
            status,
            json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
                "status": status.as_u16().to_string(),
            }),
        )
    }

    pub fn not_found() -> Self {
        Reply::error(StatusCode::NOT_FOUND, "Not Found")
    }

    /// GitHub's 422 naming one field.
    pub fn invalid(resource: &str, field: &str, code: &str) -> Self {
        Reply::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "message": "Validation Failed",
                "errors": [{ "resource": resource, "field": field, "code": code }],
                "documentation_url": "https://docs.github.com/rest",
                "status": "422",
            }),
        )
    }

    pub fn with_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_owned(), value));
        self
    }
}

/// The one handler: every request comes here.
pub async fn handle(Extract(shared): Extract<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .map(|bytes| bytes.to_vec())
        .unwrap_or_default();
    let mut recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        overlapped: false,
        received: std::time::Instant::now(),
    };
    let mutation = recorded.is_mutation();
    if mutation {
        recorded.overlapped = shared.mutations_in_flight.fetch_add(1, Ordering::SeqCst) > 0;
    }
    lock(&shared.requests).push(recorded.clone());
    if mutation {
        let hold = *lock(&shared.mutation_hold);
        if !hold.is_zero() {
            tokio::time::sleep(hold).await;
        }
    }
    let reply = answer(&shared, &recorded);
    if mutation {
        shared.mutations_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    respond(reply, &recorded)
}

fn answer(shared: &Shared, request: &RecordedRequest) -> Reply {
    if !authorized(shared, request) {
        return Reply::error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    if let Some(fault) = take_fault(shared, request) {
        return fault_reply(fault);
    }
    let mut state = lock(&shared.state);
    routes::route(&mut state, request, &shared.base)
}

fn authorized(shared: &Shared, request: &RecordedRequest) -> bool {
    let Some(value) = request.header("authorization") else {
        return false;
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "));
    token == Some(shared.token.as_str())
}

fn take_fault(shared: &Shared, request: &RecordedRequest) -> Option<FaultKind> {
    let mut faults = lock(&shared.faults);
    let fault = faults.iter_mut().find(|fault| {
        fault.remaining > 0 && fault.method == request.method && fault.path == request.path
    })?;
    fault.remaining -= 1;
    Some(fault.kind)
}

fn fault_reply(kind: FaultKind) -> Reply {
    match kind {
        FaultKind::SecondaryLimit { retry_after } => Reply::error(
            StatusCode::FORBIDDEN,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        )
        .with_header("retry-after", retry_after.to_string()),
        FaultKind::PrimaryLimit { reset } => {
            let reset = reset
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs());
            Reply::error(StatusCode::FORBIDDEN, "API rate limit exceeded for user ID 1.")
                .with_header("x-ratelimit-limit", "5000".to_owned())
                .with_header("x-ratelimit-remaining", "0".to_owned())
                .with_header("x-ratelimit-used", "5000".to_owned())
                .with_header("x-ratelimit-reset", reset.to_string())
        }
    }
}

/// Sends `reply`; a GET answer carries an `ETag` of its body, and a GET
/// whose `If-None-Match` matches it gets `304 Not Modified`.
fn respond(reply: Reply, request: &RecordedRequest) -> Response {
    let text = reply.body.as_ref().map(Value::to_string);
    let mut headers = reply.headers;
    let mut status = reply.status;
    let mut text = text;
    if request.method == "GET" && status == StatusCode::OK {
        let etag = etag_of(text.as_deref().unwrap_or_default());
        if request.header("if-none-match") == Some(etag.as_str()) {
            status = StatusCode::NOT_MODIFIED;
            text = None;
        }
        headers.push(("etag".to_owned(), etag));
    }
    let mut response = Response::new(Body::from(text.clone().unwrap_or_default()));
    *response.status_mut() = status;
    let response_headers = response.headers_mut();
    if text.is_some() {
        response_headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&value),
        ) {
            response_headers.append(name, value);
        }
    }
    response
}

fn etag_of(text: &str) -> String {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    format!("W/\"{:016x}\"", hasher.finish())
}
