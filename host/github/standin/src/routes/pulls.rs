//! `/repos/{owner}/{repo}/pulls…`: pull requests, review comments and
//! their replies, reviews.

use axum::http::StatusCode;

use super::{Incoming, page};
use crate::server::Reply;
use crate::state::{IssueRecord, PullRecord, ReviewCommentRecord, State};

pub fn route(state: &mut State, incoming: &Incoming<'_>, rest: &[&str]) -> Reply {
    match (incoming.method, rest) {
        ("GET", []) => list(state, incoming),
        ("POST", []) => create(state, incoming),
        (method, [number, tail @ ..]) => {
            let Some(number) = number
                .parse::<u64>()
                .ok()
                .filter(|number| is_pull(state, *number))
            else {
                return Reply::not_found();
            };
            match (method, tail) {
                ("GET", []) => pull_reply(state, number, incoming, StatusCode::OK),
                ("GET", ["comments"]) => review_comments(state, number, incoming),
                ("POST", ["comments", id, "replies"]) => reply(state, number, id, incoming),
                ("GET", ["reviews"]) => reviews(state, number, incoming),
                _ => Reply::not_found(),
            }
        }
        _ => Reply::not_found(),
    }
}

fn is_pull(state: &State, number: u64) -> bool {
    state
        .issues
        .get(&number)
        .is_some_and(|issue| issue.pull.is_some())
}

fn list(state: &State, incoming: &Incoming<'_>) -> Reply {
    let wanted = incoming.query("state").unwrap_or("open");
    let head = incoming.query("head");
    let items = state
        .issues
        .values()
        .rev()
        .filter(|issue| wanted == "all" || issue.state == wanted)
        .filter_map(|issue| issue.pull.as_ref().map(|pull| (issue, pull)))
        .filter(|(_, pull)| {
            head.is_none_or(|head| head == format!("{}:{}", state.owner, pull.head))
        })
        .map(|(issue, pull)| state.pull_json(issue, pull, incoming.base))
        .collect();
    page(items, incoming)
}

fn create(state: &mut State, incoming: &Incoming<'_>) -> Reply {
    for field in ["title", "head", "base"] {
        if incoming.field(field).is_none_or(str::is_empty) {
            return Reply::invalid("PullRequest", field, "missing_field");
        }
    }
    let head = incoming.field("head").unwrap_or_default().to_owned();
    let already = state.issues.values().any(|issue| {
        issue.state == "open" && issue.pull.as_ref().is_some_and(|pull| pull.head == head)
    });
    if already {
        return Reply::invalid("PullRequest", "head", "custom");
    }
    let number = seed_pull(
        state,
        incoming.field("title").unwrap_or_default(),
        incoming.field("body"),
        &head,
        incoming.field("base").unwrap_or_default(),
    );
    pull_reply(state, number, incoming, StatusCode::CREATED)
}

/// Opens a pull request by the token's user; its number.
pub fn seed_pull(
    state: &mut State,
    title: &str,
    body: Option<&str>,
    head: &str,
    base: &str,
) -> u64 {
    let number = state.next_number();
    let author = state.login.clone();
    state.issues.insert(
        number,
        IssueRecord {
            number,
            title: title.to_owned(),
            body: body.map(str::to_owned),
            state: "open".to_owned(),
            labels: Vec::new(),
            author,
            assignees: Vec::new(),
            pull: Some(PullRecord {
                head: head.to_owned(),
                base: base.to_owned(),
            }),
            events: Vec::new(),
            comments: Vec::new(),
        },
    );
    number
}

fn review_comments(state: &State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let items = state
        .review_comments
        .iter()
        .filter(|comment| comment.pull == number)
        .map(|comment| state.review_comment_json(comment))
        .collect();
    page(items, incoming)
}

fn reply(state: &mut State, number: u64, id: &str, incoming: &Incoming<'_>) -> Reply {
    let Some(parent) = id.parse::<u64>().ok().and_then(|id| {
        state
            .review_comments
            .iter()
            .find(|comment| comment.id == id && comment.pull == number)
            .cloned()
    }) else {
        return Reply::not_found();
    };
    let Some(body) = incoming.field("body").filter(|body| !body.is_empty()) else {
        return Reply::invalid("PullRequestReviewComment", "body", "missing_field");
    };
    let comment = ReviewCommentRecord {
        id: state.next_id(),
        pull: number,
        author: state.login.clone(),
        body: body.to_owned(),
        path: parent.path.clone(),
        line: parent.line,
        // GitHub threads every reply under the thread's first comment.
        in_reply_to: Some(parent.in_reply_to.unwrap_or(parent.id)),
    };
    let reply = state.review_comment_json(&comment);
    state.review_comments.push(comment);
    Reply::json(StatusCode::CREATED, reply)
}

fn reviews(state: &State, number: u64, incoming: &Incoming<'_>) -> Reply {
    let items = state
        .reviews
        .iter()
        .filter(|review| review.pull == number)
        .map(|review| state.review_json(review))
        .collect();
    page(items, incoming)
}

fn pull_reply(state: &State, number: u64, incoming: &Incoming<'_>, status: StatusCode) -> Reply {
    match state.issues.get(&number) {
        Some(issue) => match &issue.pull {
            Some(pull) => Reply::json(status, state.pull_json(issue, pull, incoming.base)),
            None => Reply::not_found(),
        },
        None => Reply::not_found(),
    }
}
