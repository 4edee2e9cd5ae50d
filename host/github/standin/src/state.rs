//! What the stand-in holds: one repository's issues, pull requests,
//! labels, comments, events, collaborators and reviews, rendered in
//! GitHub's JSON shapes.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

/// A label of the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRecord {
    pub id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
}

/// An issue event (`labeled`, `unlabeled`, `closed`, `reopened`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub id: u64,
    pub event: String,
    pub actor: String,
    pub label: Option<String>,
}

/// A comment on an issue or a pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentRecord {
    pub id: u64,
    pub author: String,
    pub body: String,
}

/// The pull-request side of an issue number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRecord {
    pub head: String,
    pub base: String,
}

/// An issue, or a pull request (GitHub numbers both alike).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRecord {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub labels: Vec<String>,
    pub author: String,
    pub assignees: Vec<String>,
    pub pull: Option<PullRecord>,
    pub events: Vec<EventRecord>,
    pub comments: Vec<CommentRecord>,
}

/// A review comment on a pull request's diff (a reply has
/// `in_reply_to`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewCommentRecord {
    pub id: u64,
    pub pull: u64,
    pub author: String,
    pub body: String,
    pub path: String,
    pub line: Option<u64>,
    pub in_reply_to: Option<u64>,
}

/// A pull-request review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRecord {
    pub id: u64,
    pub pull: u64,
    pub author: String,
    pub state: String,
    pub body: String,
}

/// The whole repository.
#[derive(Debug)]
pub struct State {
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    /// The token's user.
    pub login: String,
    pub labels: Vec<LabelRecord>,
    pub issues: BTreeMap<u64, IssueRecord>,
    /// Login to permission (`admin`, `maintain`, `write`, `triage`,
    /// `read`, `none`).
    pub collaborators: HashMap<String, String>,
    pub review_comments: Vec<ReviewCommentRecord>,
    pub reviews: Vec<ReviewRecord>,
    next_id: u64,
}

impl State {
    pub fn new(owner: &str, name: &str, login: &str) -> Self {
        let mut collaborators = HashMap::new();
        collaborators.insert(login.to_owned(), "admin".to_owned());
        State {
            owner: owner.to_owned(),
            name: name.to_owned(),
            default_branch: "main".to_owned(),
            login: login.to_owned(),
            labels: Vec::new(),
            issues: BTreeMap::new(),
            collaborators,
            review_comments: Vec::new(),
            reviews: Vec::new(),
            next_id: 1000,
        }
    }

    /// A fresh id for any object.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn next_number(&self) -> u64 {
        self.issues
            .keys()
            .next_back()
            .map_or(1, |highest| highest + 1)
    }

    /// The label `name`, created with GitHub's default colour when the
    /// repository lacks it (as GitHub does when a label is added to an
    /// issue).
    pub fn label_named(&mut self, name: &str) -> LabelRecord {
        if let Some(label) = self.labels.iter().find(|label| label.name == name) {
            return label.clone();
        }
        let label = LabelRecord {
            id: self.next_id(),
            name: name.to_owned(),
            color: "ededed".to_owned(),
            description: None,
        };
        self.labels.push(label.clone());
        label
    }

    /// Adds `label` to issue `number` with a `labeled` event by `actor`.
    pub fn add_label(&mut self, number: u64, label: &str, actor: &str) {
        self.label_named(label);
        let id = self.next_id();
        if let Some(issue) = self.issues.get_mut(&number) {
            if !issue.labels.iter().any(|name| name == label) {
                issue.labels.push(label.to_owned());
            }
            issue.events.push(EventRecord {
                id,
                event: "labeled".to_owned(),
                actor: actor.to_owned(),
                label: Some(label.to_owned()),
            });
        }
    }

    /// Removes `label` from issue `number` with an `unlabeled` event;
    /// whether it had the label.
    pub fn remove_label(&mut self, number: u64, label: &str, actor: &str) -> bool {
        let id = self.next_id();
        let Some(issue) = self.issues.get_mut(&number) else {
            return false;
        };
        let before = issue.labels.len();
        issue.labels.retain(|name| name != label);
        if issue.labels.len() == before {
            return false;
        }
        issue.events.push(EventRecord {
            id,
            event: "unlabeled".to_owned(),
            actor: actor.to_owned(),
            label: Some(label.to_owned()),
        });
        true
    }

    pub fn user_json(&self, login: &str) -> Value {
        json!({
            "login": login,
            "id": login_id(login),
            "type": "User",
            "site_admin": false,
        })
    }

    pub fn label_json(label: &LabelRecord) -> Value {
        json!({
            "id": label.id,
            "name": label.name,
            "color": label.color,
            "description": label.description,
            "default": false,
        })
    }

    fn repo_url(&self, base: &str) -> String {
        format!("{base}/repos/{}/{}", self.owner, self.name)
    }

    pub fn issue_json(&self, issue: &IssueRecord, base: &str) -> Value {
        let labels: Vec<Value> = issue
            .labels
            .iter()
            .filter_map(|name| self.labels.iter().find(|label| &label.name == name))
            .map(State::label_json)
            .collect();
        let assignees: Vec<Value> = issue
            .assignees
            .iter()
            .map(|login| self.user_json(login))
            .collect();
        let url = format!("{}/issues/{}", self.repo_url(base), issue.number);
        let mut object = json!({
            "id": issue.number + 500_000,
            "number": issue.number,
            "url": url,
            "html_url": format!("https://github.invalid/{}/{}/issues/{}", self.owner, self.name, issue.number),
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "labels": labels,
            "user": self.user_json(&issue.author),
            "assignees": assignees,
            "comments": issue.comments.len(),
            "locked": false,
        });
        if issue.pull.is_some() {
            object["pull_request"] = json!({
                "url": format!("{}/pulls/{}", self.repo_url(base), issue.number),
            });
        }
        object
    }

    pub fn pull_json(&self, issue: &IssueRecord, pull: &PullRecord, base: &str) -> Value {
        json!({
            "id": issue.number + 700_000,
            "number": issue.number,
            "url": format!("{}/pulls/{}", self.repo_url(base), issue.number),
            "html_url": format!("https://github.invalid/{}/{}/pull/{}", self.owner, self.name, issue.number),
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "user": self.user_json(&issue.author),
            "head": { "ref": pull.head, "label": format!("{}:{}", self.owner, pull.head) },
            "base": { "ref": pull.base, "label": format!("{}:{}", self.owner, pull.base) },
            "draft": false,
        })
    }

    pub fn comment_json(&self, comment: &CommentRecord) -> Value {
        json!({
            "id": comment.id,
            "body": comment.body,
            "user": self.user_json(&comment.author),
        })
    }

    pub fn event_json(&self, event: &EventRecord) -> Value {
        let mut object = json!({
            "id": event.id,
            "event": event.event,
            "actor": self.user_json(&event.actor),
        });
        if let Some(label) = &event.label {
            let color = self
                .labels
                .iter()
                .find(|known| &known.name == label)
                .map_or("ededed", |known| known.color.as_str());
            object["label"] = json!({ "name": label, "color": color });
        }
        object
    }

    pub fn review_comment_json(&self, comment: &ReviewCommentRecord) -> Value {
        json!({
            "id": comment.id,
            "body": comment.body,
            "user": self.user_json(&comment.author),
            "path": comment.path,
            "line": comment.line,
            "in_reply_to_id": comment.in_reply_to,
        })
    }

    pub fn review_json(&self, review: &ReviewRecord) -> Value {
        json!({
            "id": review.id,
            "state": review.state,
            "body": review.body,
            "user": self.user_json(&review.author),
        })
    }

    pub fn repository_json(&self, base: &str) -> Value {
        json!({
            "id": 1,
            "name": self.name,
            "full_name": format!("{}/{}", self.owner, self.name),
            "owner": self.user_json(&self.owner),
            "private": false,
            "default_branch": self.default_branch,
            "url": self.repo_url(base),
        })
    }
}

/// A stable user id from a login.
fn login_id(login: &str) -> u64 {
    login.bytes().fold(7u64, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u64::from(byte))
    }) % 1_000_000
}
