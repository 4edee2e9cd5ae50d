//! GitHub's JSON, as far as Ralph reads it (the REST API's shapes, fields
//! Ralph does not use left out).

use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Debug, Deserialize)]
pub struct User {
    pub login: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LabelObject {
    pub name: String,
}

/// An issue, or a pull request seen as an issue (it then has
/// `pull_request`).
#[derive(Clone, Debug, Deserialize)]
pub struct IssueObject {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    pub state: String,
    #[serde(default)]
    pub labels: Vec<LabelObject>,
    #[serde(default)]
    pub pull_request: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CommentObject {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
}

/// An issue event (`labeled`, `unlabeled`, `closed`, …).
#[derive(Clone, Debug, Deserialize)]
pub struct EventObject {
    pub event: String,
    #[serde(default)]
    pub actor: Option<User>,
    #[serde(default)]
    pub label: Option<LabelObject>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PermissionObject {
    /// `admin`, `write`, `read` or `none` (maintain reads as write,
    /// triage as read).
    pub permission: String,
    /// The role: `admin`, `maintain`, `write`, `triage`, `read`, or a
    /// custom role's name.
    #[serde(default)]
    pub role_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RepositoryObject {
    pub default_branch: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct BranchObject {
    #[serde(rename = "ref")]
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PullObject {
    pub number: u64,
    pub html_url: String,
    pub title: String,
    pub head: BranchObject,
    pub base: BranchObject,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ReviewCommentObject {
    pub id: u64,
    pub body: String,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub in_reply_to_id: Option<u64>,
    pub path: String,
    #[serde(default)]
    pub line: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ReviewObject {
    pub id: u64,
    pub state: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
}
