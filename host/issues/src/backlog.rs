//! The backlog: open issues with their status and progress, and likely
//! duplicates.
//!
//! Two issues are likely duplicates when the Jaccard similarity of their
//! word shingles reaches [`DUPLICATE_THRESHOLD`]. A text's shingles are its
//! pairs of consecutive words (title, then body), lowercased, counting only
//! words of two or more letters or digits so that list marks like `[x]` do
//! not matter; a one-word text is its own shingle. The similarity is the
//! number of shared shingles over the number of distinct shingles in
//! either; an issue with no words matches nothing.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use crate::issue::{Issue, Label};
use crate::requirements::{RequirementKind, extract};

/// The similarity from which two issues are flagged as likely duplicates.
pub const DUPLICATE_THRESHOLD: f64 = 0.5;

/// Where an issue stands, from its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Labelled `attention-needed`: a person must look.
    AttentionNeeded,
    /// Labelled `in-progress`: the loop is on it.
    InProgress,
    /// Labelled `ready`: the loop may take it.
    Ready,
    /// Labelled `in-refinement`: the spec is being written.
    InRefinement,
    /// Labelled `backlog-review`: a review tracking issue.
    BacklogReview,
    /// None of the status labels.
    New,
}

impl Status {
    /// The most pressing status among the labels: attention-needed, then
    /// in-progress, ready, in-refinement, backlog-review.
    pub fn of(labels: &BTreeSet<Label>) -> Self {
        [
            (Label::AttentionNeeded, Status::AttentionNeeded),
            (Label::InProgress, Status::InProgress),
            (Label::Ready, Status::Ready),
            (Label::InRefinement, Status::InRefinement),
            (Label::BacklogReview, Status::BacklogReview),
        ]
        .into_iter()
        .find(|(label, _)| labels.contains(label))
        .map_or(Status::New, |(_, status)| status)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::AttentionNeeded => "attention-needed",
            Status::InProgress => "in-progress",
            Status::Ready => "ready",
            Status::InRefinement => "in-refinement",
            Status::BacklogReview => "backlog-review",
            Status::New => "new",
        }
    }
}

/// One open issue in the backlog.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub number: u64,
    pub title: String,
    pub status: Status,
    pub labels: BTreeSet<Label>,
    /// Ticked checkboxes.
    pub checkboxes_done: usize,
    pub checkboxes_total: usize,
}

/// Two open issues that read alike.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LikelyDuplicate {
    /// The lower number.
    pub first: u64,
    pub second: u64,
    /// Jaccard similarity of their shingles, in [0, 1].
    pub similarity: f64,
}

/// The open issues and the likely duplicates among them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backlog {
    pub entries: Vec<Entry>,
    pub duplicates: Vec<LikelyDuplicate>,
}

/// The backlog of `issues`; closed issues are left out.
pub fn backlog(issues: &[Issue]) -> Backlog {
    let mut open: Vec<&Issue> = issues.iter().filter(|issue| issue.is_open()).collect();
    open.sort_by_key(|issue| issue.number);
    let entries = open.iter().map(|issue| entry(issue)).collect();
    let shingles: Vec<HashSet<String>> = open.iter().map(|issue| shingles_of(issue)).collect();
    let mut duplicates = Vec::new();
    for (index, first) in open.iter().enumerate() {
        for (offset, second) in open[index + 1..].iter().enumerate() {
            let similarity = jaccard(&shingles[index], &shingles[index + 1 + offset]);
            if similarity >= DUPLICATE_THRESHOLD {
                duplicates.push(LikelyDuplicate {
                    first: first.number,
                    second: second.number,
                    similarity,
                });
            }
        }
    }
    Backlog {
        entries,
        duplicates,
    }
}

fn entry(issue: &Issue) -> Entry {
    let checkboxes: Vec<bool> = extract(&issue.body)
        .into_iter()
        .filter(|requirement| requirement.kind == RequirementKind::Checkbox)
        .map(|requirement| requirement.done)
        .collect();
    Entry {
        number: issue.number,
        title: issue.title.clone(),
        status: Status::of(&issue.labels),
        labels: issue.labels.clone(),
        checkboxes_done: checkboxes.iter().filter(|done| **done).count(),
        checkboxes_total: checkboxes.len(),
    }
}

/// How alike two issues read, in [0, 1].
pub fn similarity(first: &Issue, second: &Issue) -> f64 {
    jaccard(&shingles_of(first), &shingles_of(second))
}

fn shingles_of(issue: &Issue) -> HashSet<String> {
    let text = format!("{}\n{}", issue.title, issue.body);
    let words: Vec<String> = text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| word.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect();
    if words.len() == 1 {
        return words.into_iter().collect();
    }
    words
        .windows(2)
        .map(|pair| format!("{} {}", pair[0], pair[1]))
        .collect()
}

fn jaccard(first: &HashSet<String>, second: &HashSet<String>) -> f64 {
    let union = first.union(second).count();
    if union == 0 {
        return 0.0;
    }
    first.intersection(second).count() as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::issue::IssueState;

    fn issue(number: u64, title: &str, body: &str, labels: &[Label]) -> Issue {
        Issue {
            number,
            title: title.to_owned(),
            labels: labels.iter().copied().collect(),
            tags: Default::default(),
            state: IssueState::Open,
            body: body.to_owned(),
        }
    }

    #[test]
    fn the_status_is_the_most_pressing_label() {
        let status = |labels: &[Label]| Status::of(&labels.iter().copied().collect());
        assert_eq!(
            status(&[Label::Ready, Label::InProgress]),
            Status::InProgress
        );
        assert_eq!(
            status(&[Label::InProgress, Label::AttentionNeeded, Label::Ralph]),
            Status::AttentionNeeded
        );
        assert_eq!(status(&[Label::InRefinement]), Status::InRefinement);
        assert_eq!(status(&[Label::Ralph]), Status::New);
    }

    #[test]
    fn the_backlog_lists_open_issues_by_number_with_checkbox_progress() {
        let mut closed = issue(1, "Closed", "", &[]);
        closed.state = IssueState::Closed;
        let issues = [
            issue(5, "Later", "- [x] a\n- [ ] b\n- [x] c\n", &[Label::Ready]),
            closed,
            issue(2, "Earlier", "prose", &[]),
        ];
        let backlog = backlog(&issues);
        let numbers: Vec<u64> = backlog.entries.iter().map(|e| e.number).collect();
        assert_eq!(numbers, [2, 5]);
        assert_eq!(backlog.entries[1].checkboxes_done, 2);
        assert_eq!(backlog.entries[1].checkboxes_total, 3);
        assert_eq!(backlog.entries[1].status, Status::Ready);
    }

    #[test]
    fn issues_that_read_alike_are_flagged_as_likely_duplicates() {
        let body = "List the open issues with their status and flag likely duplicates.\n- [ ] a table within 80 columns\n";
        let issues = [
            issue(3, "Backlog command", body, &[]),
            issue(7, "Backlog command", &body.replace("[ ]", "[x]"), &[]),
            issue(
                9,
                "Faster fold",
                "Read event files on several threads.",
                &[],
            ),
        ];
        let backlog = backlog(&issues);
        assert_eq!(backlog.duplicates.len(), 1);
        let pair = &backlog.duplicates[0];
        assert_eq!((pair.first, pair.second), (3, 7));
        assert!((pair.similarity - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn issues_below_the_threshold_are_not_flagged() {
        let first = issue(1, "Backlog command", "List open issues with status", &[]);
        let second = issue(
            2,
            "Backlog colours",
            "Colour the status column in green",
            &[],
        );
        assert!(similarity(&first, &second) < DUPLICATE_THRESHOLD);
        assert!(backlog(&[first, second]).duplicates.is_empty());
    }

    #[test]
    fn issues_without_words_match_nothing() {
        let first = issue(1, "#", "", &[]);
        let second = issue(2, "#", "", &[]);
        assert_eq!(similarity(&first, &second), 0.0);
    }

    proptest! {
        #[test]
        fn similarity_is_symmetric_bounded_and_one_with_itself(
            first in "[a-z ]{0,60}",
            second in "[a-z ]{0,60}",
        ) {
            let first = issue(1, "Title", &first, &[]);
            let second = issue(2, "Title", &second, &[]);
            let forward = similarity(&first, &second);
            prop_assert_eq!(forward, similarity(&second, &first));
            prop_assert!((0.0..=1.0).contains(&forward));
            prop_assert_eq!(similarity(&first, &first), 1.0);
        }
    }
}
