//! `/repos/{owner}/{repo}/issues…` and `/repos/{owner}/{repo}/labels`.

use axum::http::StatusCode;
use serde_json::Value;

use super::{Incoming, page};
use crate::server::Reply;
use crate::state::{CommentRecord, EventRecord, IssueRecord, LabelRecord, State};

pub fn route(state: &mut State, incoming: &Incoming<'_>, rest: &[&str]) -> Reply {
    match (incoming.method, rest) {
        ("GET", []) => list(state, incoming),
        ("POST", []) => create(state, incoming),
        (method, [number, tail @ ..]) => {
            let Some(number) = number
                .parse::<u64>()
                .ok()
                .filter(|n| state.issues.contains_key(n))
            else {
                return Reply::not_found();
            };
            match (method, tail) {
                ("GET", []) => issue_reply(state, number, incoming, StatusCode::OK),
                ("PATCH", []) => update(state, number, incoming),
                ("POST", ["labels"]) => add_labels(state, number, incoming),
                ("DELETE", ["labels", name]) => remove_label(state, number, name),
                ("GET", ["comments"]) => comments(state, number, incoming),
                ("POST", ["comments"]) => comment(state, number, incoming),
                ("GET", ["events"]) => events(state, number, incoming),
                ("POST", ["assignees"]) => assign(state, number, incoming),
                _ => Reply::not_found(),
            }
        }
        _ => Reply::not_found(),
    }
}

fn list(state: &State, incoming: &Incoming<'_>) -> Reply {
    let wanted = incoming.query("state").unwrap_or("open");
    let mut issues: Vec<&IssueRecord> = state
        .issues
        .values()
        .filter(|issue| wanted == "all" || issue.state == wanted)
        .collect();
    // GitHub's default order: newest first.
    issues.reverse();
    let items = issues
        .into_iter()
        .map(|issue| state.issue_json(issue, incoming.base))
        .collect();
    page(items, incoming)
}

fn create(state: &mut State, incoming: &Incoming<'_>) -> Reply {
    let Some(title) = incoming
        .field("title")
        .filter(|title| !title.trim().is_empty())
    else {
        return Reply::invalid("Issue", "title", "missing_field");
    };
    let labels = match label_names(incoming.body.as_ref().and_then(|body| body.get("labels"))) {
        Ok(labels) => labels,
        Err(reply) => return reply,
    };
    let number = state.next_number();
    let login = state.login.clone();
    state.issues.insert(
        number,
        IssueRecord {
            number,
            title: title.to_owned(),
            body: incoming.field("body").map(str::to_owned),
            state: "open".to_owned(),
            labels: Vec::new(),
            author: login.clone(),
            assignees: Vec::new(),
            pull: None,
            events: Vec::new(),
            comments: Vec::new(),
        },
    );
    for label in labels {
        state.add_label(number, &label, &login);
    }
    issue_reply(state, number, incoming, StatusCode::CREATED)
}

fn update(state: &mut State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let title = incoming.field("title").map(str::to_owned);
    if title
        .as_deref()
        .is_some_and(|title| title.trim().is_empty())
    {
        return Reply::invalid("Issue", "title", "missing_field");
    }
    let wanted_state = incoming.field("state").map(str::to_owned);
    if wanted_state
        .as_deref()
        .is_some_and(|wanted| wanted != "open" && wanted != "closed")
    {
        return Reply::invalid("Issue", "state", "invalid");
    }
    let login = state.login.clone();
    let id = state.next_id();
    let body = incoming
        .body
        .as_ref()
        .and_then(|body| body.get("body"))
        .cloned();
    let Some(issue) = state.issues.get_mut(&number) else {
        return Reply::not_found();
    };
    if let Some(title) = title {
        issue.title = title;
    }
    if let Some(body) = body {
        issue.body = body.as_str().map(str::to_owned);
    }
    if let Some(wanted) = wanted_state.filter(|wanted| *wanted != issue.state) {
        let event = if wanted == "closed" {
            "closed"
        } else {
            "reopened"
        };
        issue.events.push(EventRecord {
            id,
            event: event.to_owned(),
            actor: login,
            label: None,
        });
        issue.state = wanted;
    }
    issue_reply(state, number, incoming, StatusCode::OK)
}

fn add_labels(state: &mut State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let labels = match label_names(incoming.body.as_ref().and_then(|body| body.get("labels"))) {
        Ok(labels) if !labels.is_empty() => labels,
        Ok(_) => return Reply::invalid("Label", "labels", "missing_field"),
        Err(reply) => return reply,
    };
    let login = state.login.clone();
    for label in labels {
        state.add_label(number, &label, &login);
    }
    labels_of(state, number)
}

fn remove_label(state: &mut State, number: u64, name: &str) -> Reply {
    let login = state.login.clone();
    if !state.remove_label(number, name, &login) {
        return Reply::error(StatusCode::NOT_FOUND, "Label does not exist");
    }
    labels_of(state, number)
}

fn labels_of(state: &State, number: u64) -> Reply {
    let names = state
        .issues
        .get(&number)
        .map(|issue| issue.labels.clone())
        .unwrap_or_default();
    let labels: Vec<Value> = names
        .iter()
        .filter_map(|name| state.labels.iter().find(|label| &label.name == name))
        .map(State::label_json)
        .collect();
    Reply::json(StatusCode::OK, Value::Array(labels))
}

fn comments(state: &State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let items = state.issues[&number]
        .comments
        .iter()
        .map(|comment| state.comment_json(comment))
        .collect();
    page(items, incoming)
}

fn comment(state: &mut State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let Some(body) = incoming.field("body").filter(|body| !body.is_empty()) else {
        return Reply::invalid("IssueComment", "body", "missing_field");
    };
    let comment = CommentRecord {
        id: state.next_id(),
        author: state.login.clone(),
        body: body.to_owned(),
    };
    let reply = state.comment_json(&comment);
    if let Some(issue) = state.issues.get_mut(&number) {
        issue.comments.push(comment);
    }
    Reply::json(StatusCode::CREATED, reply)
}

fn events(state: &State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let items = state.issues[&number]
        .events
        .iter()
        .map(|event| state.event_json(event))
        .collect();
    page(items, incoming)
}

fn assign(state: &mut State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let Some(logins) = incoming
        .body
        .as_ref()
        .and_then(|body| body.get("assignees"))
        .and_then(Value::as_array)
    else {
        return Reply::invalid("Issue", "assignees", "missing_field");
    };
    let logins: Vec<String> = logins
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if let Some(issue) = state.issues.get_mut(&number) {
        for login in logins {
            if !issue.assignees.contains(&login) {
                issue.assignees.push(login);
            }
        }
    }
    issue_reply(state, number, incoming, StatusCode::CREATED)
}

/// `GET` lists the repository's labels; `POST` creates one (`name`
/// required and new, `color` six hex digits).
pub fn labels(state: &mut State, incoming: &Incoming<'_>) -> Reply {
    match incoming.method {
        "GET" => {
            let items = state.labels.iter().map(State::label_json).collect();
            page(items, incoming)
        }
        "POST" => {
            let Some(name) = incoming.field("name").filter(|name| !name.is_empty()) else {
                return Reply::invalid("Label", "name", "missing_field");
            };
            if state.labels.iter().any(|label| label.name == name) {
                return Reply::invalid("Label", "name", "already_exists");
            }
            let color = incoming.field("color").unwrap_or("ededed");
            if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
                return Reply::invalid("Label", "color", "invalid");
            }
            let label = LabelRecord {
                id: state.next_id(),
                name: name.to_owned(),
                color: color.to_owned(),
                description: incoming.field("description").map(str::to_owned),
            };
            let reply = State::label_json(&label);
            state.labels.push(label);
            Reply::json(StatusCode::CREATED, reply)
        }
        _ => Reply::not_found(),
    }
}

fn issue_reply(state: &State, number: u64, incoming: &Incoming<'_>, status: StatusCode) -> Reply {
    match state.issues.get(&number) {
        Some(issue) => Reply::json(status, state.issue_json(issue, incoming.base)),
        None => Reply::not_found(),
    }
}

/// Label names given as strings or `{"name": …}` objects.
fn label_names(value: Option<&Value>) -> Result<Vec<String>, Reply> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Some(items) = value.as_array() else {
        return Err(Reply::invalid("Label", "labels", "invalid"));
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .or_else(|| item.get("name").and_then(Value::as_str))
                .map(str::to_owned)
                .ok_or_else(|| Reply::invalid("Label", "labels", "invalid"))
        })
        .collect()
}
