//! GitHub's REST routes, as far as Ralph uses them.

mod issues;
mod pulls;

pub use pulls::seed_pull;

use axum::http::StatusCode;
use serde_json::Value;

use crate::record::RecordedRequest;
use crate::server::Reply;
use crate::state::State;

/// GitHub's default and largest page sizes.
const DEFAULT_PER_PAGE: usize = 30;
const LARGEST_PER_PAGE: usize = 100;

/// A request, decoded for routing.
pub struct Incoming<'a> {
    pub request: &'a RecordedRequest,
    pub method: &'a str,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    pub base: &'a str,
}

impl Incoming<'_> {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A string field of the JSON body.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }
}

pub fn route(state: &mut State, request: &RecordedRequest, base: &str) -> Reply {
    let segments = request.segments();
    let body = if request.body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(body) => Some(body),
            Err(_) => return Reply::error(StatusCode::BAD_REQUEST, "Problems parsing JSON"),
        }
    };
    let incoming = Incoming {
        request,
        method: &request.method,
        query: request.query_pairs(),
        body,
        base,
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["user"] if incoming.method == "GET" => {
            let login = state.login.clone();
            Reply::json(StatusCode::OK, state.user_json(&login))
        }
        ["repos", owner, name, rest @ ..] => {
            if *owner != state.owner || *name != state.name {
                return Reply::not_found();
            }
            repository(state, &incoming, rest)
        }
        _ => Reply::not_found(),
    }
}

fn repository(state: &mut State, incoming: &Incoming<'_>, rest: &[&str]) -> Reply {
    match (incoming.method, rest) {
        ("GET", []) => Reply::json(StatusCode::OK, state.repository_json(incoming.base)),
        (_, ["issues", ..]) => issues::route(state, incoming, &rest[1..]),
        (_, ["labels"]) => issues::labels(state, incoming),
        ("GET", ["collaborators", login, "permission"]) => permission(state, login),
        (_, ["pulls", ..]) => pulls::route(state, incoming, &rest[1..]),
        _ => Reply::not_found(),
    }
}

fn permission(state: &State, login: &str) -> Reply {
    let Some(permission) = state.collaborators.get(login) else {
        return Reply::not_found();
    };
    // GitHub's `permission` folds maintain into write and triage into
    // read; `role_name` keeps them.
    let legacy = match permission.as_str() {
        "maintain" => "write",
        "triage" => "read",
        other => other,
    };
    Reply::json(
        StatusCode::OK,
        serde_json::json!({
            "permission": legacy,
            "role_name": permission,
            "user": state.user_json(login),
        }),
    )
}

/// One page of `items` as `per_page` and `page` ask, with GitHub's `Link`
/// header (`next`, `last`).
pub fn page(items: Vec<Value>, incoming: &Incoming<'_>) -> Reply {
    let per_page = incoming
        .query("per_page")
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, LARGEST_PER_PAGE);
    let page: usize = incoming
        .query("page")
        .and_then(|value| value.parse().ok())
        .unwrap_or(1)
        .max(1);
    let pages = items.len().div_ceil(per_page).max(1);
    let chosen: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(StatusCode::OK, Value::Array(chosen));
    let address = |number: usize| {
        let mut pairs: Vec<(String, String)> = incoming
            .query
            .iter()
            .filter(|(name, _)| name != "page")
            .cloned()
            .collect();
        pairs.push(("page".to_owned(), number.to_string()));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("<{}{}?{query}>", incoming.base, incoming.request.path)
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", address(page + 1)));
        links.push(format!("{}; rel=\"last\"", address(pages)));
    }
    if !links.is_empty() {
        reply = reply.with_header("link", links.join(", "));
    }
    reply
}
