//! An issue: its number, title, labels, state and markdown body.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One issue, wherever it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    /// A set: each label at most once, in the order of [`Label::ALL`].
    pub labels: BTreeSet<Label>,
    /// The labels a person sets for Ralph to read, never changed by it:
    /// `type:<name>` and `complex` (SPEC §13; see [`is_tag`]).
    pub tags: BTreeSet<String>,
    pub state: IssueState,
    /// The markdown body; its checkboxes are the requirements.
    pub body: String,
}

impl Issue {
    pub fn has(&self, label: Label) -> bool {
        self.labels.contains(&label)
    }

    pub fn is_open(&self) -> bool {
        self.state == IssueState::Open
    }

    /// The requirements in the body (see [`crate::requirements::extract`]).
    pub fn requirements(&self) -> Vec<crate::requirements::Requirement> {
        crate::requirements::extract(&self.body)
    }
}

/// Whether `text` is a label a person sets for Ralph to read: `complex`,
/// or `type:` and a name of lowercase letters (`type:bug`).
pub fn is_tag(text: &str) -> bool {
    text == "complex"
        || text.strip_prefix("type:").is_some_and(|name| {
            !name.is_empty() && name.len() <= 32 && name.chars().all(|c| c.is_ascii_lowercase())
        })
}

/// The labels Ralph uses. Any other label text is an error, never ignored
/// (but for the tags of [`is_tag`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    /// The spec is being written or discussed.
    InRefinement,
    /// The spec is complete; the loop may take it.
    Ready,
    /// The loop is working on it.
    InProgress,
    /// The loop stopped and a person must look (the reason is in the body).
    AttentionNeeded,
    /// A backlog review tracking issue.
    BacklogReview,
    /// The actor label: Ralph is working on it (remove it to hand off).
    Ralph,
}

impl Label {
    pub const ALL: [Label; 6] = [
        Label::InRefinement,
        Label::Ready,
        Label::InProgress,
        Label::AttentionNeeded,
        Label::BacklogReview,
        Label::Ralph,
    ];

    /// The label as written in issue files and on GitHub.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::InRefinement => "in-refinement",
            Label::Ready => "ready",
            Label::InProgress => "in-progress",
            Label::AttentionNeeded => "attention-needed",
            Label::BacklogReview => "backlog-review",
            Label::Ralph => "ralph",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Label text that is not one of Ralph's labels.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown label `{text}` (expected one of: {})", expected(&Label::ALL.map(Label::as_str)))]
pub struct UnknownLabel {
    pub text: String,
}

impl FromStr for Label {
    type Err = UnknownLabel;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Label::ALL
            .into_iter()
            .find(|label| label.as_str() == text)
            .ok_or_else(|| UnknownLabel {
                text: text.to_owned(),
            })
    }
}

/// Whether an issue is still to be done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueState {
    Open,
    Closed,
}

impl IssueState {
    pub const ALL: [IssueState; 2] = [IssueState::Open, IssueState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            IssueState::Open => "open",
            IssueState::Closed => "closed",
        }
    }
}

impl fmt::Display for IssueState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// State text other than `open` or `closed`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown state `{text}` (expected one of: {})", expected(&IssueState::ALL.map(IssueState::as_str)))]
pub struct UnknownState {
    pub text: String,
}

impl FromStr for IssueState {
    type Err = UnknownState;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        IssueState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| UnknownState {
                text: text.to_owned(),
            })
    }
}

/// A title is one non-empty line without leading or trailing spaces or
/// control characters, so it survives every issue source unchanged.
pub fn check_title(title: &str) -> Result<(), InvalidTitle> {
    if title.trim().is_empty() {
        return Err(InvalidTitle::Empty);
    }
    if title.trim() != title {
        return Err(InvalidTitle::Padded);
    }
    if title.chars().any(char::is_control) {
        return Err(InvalidTitle::ControlCharacter);
    }
    Ok(())
}

/// Why a title was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTitle {
    #[error("the title is empty")]
    Empty,
    #[error("the title starts or ends with spaces")]
    Padded,
    #[error("the title contains a control character (a title is one line)")]
    ControlCharacter,
}

fn expected(names: &[&str]) -> String {
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_reads_back_from_its_own_text() {
        for label in Label::ALL {
            assert_eq!(label.as_str().parse::<Label>(), Ok(label));
            assert_eq!(label.to_string(), label.as_str());
        }
    }

    #[test]
    fn unknown_label_text_is_an_error_naming_it() {
        let error = "Ready"
            .parse::<Label>()
            .expect_err("labels are case-sensitive");
        assert_eq!(error.text, "Ready");
        let message = error.to_string();
        assert!(message.contains("`Ready`"), "{message}");
        assert!(message.contains("in-refinement"), "{message}");
    }

    #[test]
    fn labels_serialize_as_their_text() {
        let json = serde_json::to_string(&Label::AttentionNeeded).expect("json");
        assert_eq!(json, "\"attention-needed\"");
    }

    #[test]
    fn states_are_open_or_closed_and_nothing_else() {
        assert_eq!("open".parse::<IssueState>(), Ok(IssueState::Open));
        assert_eq!("closed".parse::<IssueState>(), Ok(IssueState::Closed));
        let error = "done".parse::<IssueState>().expect_err("unknown");
        assert!(error.to_string().contains("`done`"));
    }

    #[test]
    fn a_title_is_one_trimmed_non_empty_line() {
        assert_eq!(check_title("Add a backlog"), Ok(()));
        assert_eq!(check_title(""), Err(InvalidTitle::Empty));
        assert_eq!(check_title("  "), Err(InvalidTitle::Empty));
        assert_eq!(check_title(" padded"), Err(InvalidTitle::Padded));
        assert_eq!(
            check_title("two\nlines"),
            Err(InvalidTitle::ControlCharacter)
        );
    }
}
