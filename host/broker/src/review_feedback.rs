//! Review feedback on GitHub as work (SPEC §7): `pull-request N` reads the
//! issue's pull request's unresolved review comments and change-requesting
//! reviews (by users with write access only), adds each to the issue as a
//! checkbox of a follow-up round on the same branch, and — once the loop
//! has finished that round — answers each with the commit that addressed
//! it.
//!
//! A comment's text becomes one line of the issue: its whitespace is
//! collapsed, so it can never add a checkbox, a heading or front matter of
//! its own, and it is cut to [`TEXT_LIMIT`] characters. A hidden marker
//! (`<!-- ralph:review-comment ID -->`) ties the checkbox to the comment.

use std::path::Path;
use std::sync::Arc;

use ralph_github::{GithubIssues, ReviewFeedback};
use ralph_issues::requirements::extract;
use ralph_issues::{Issue, IssueSource, Label, LabelChange, RemoteError, SourceError, Spec};

use crate::worktree::git;

/// The most characters of a comment a checkbox keeps.
pub const TEXT_LIMIT: usize = 300;

/// One piece of feedback, as a checkbox of the issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    /// The checkbox's text, marker included.
    pub text: String,
}

/// What an item answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Comment { id: u64 },
    Review { id: u64 },
}

/// The feedback a follow-up round works on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowUp {
    pub pull: u64,
    pub url: String,
    pub items: Vec<Item>,
}

/// An answer written on the pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub kind: ItemKind,
    pub commit: String,
}

/// The checkboxes `feedback` becomes, each on one line.
pub fn items(feedback: &ReviewFeedback) -> Vec<Item> {
    let mut items = Vec::new();
    for comment in &feedback.comments {
        let place = match comment.line {
            Some(line) => format!("{}:{line}", comment.path),
            None => comment.path.clone(),
        };
        items.push(Item {
            kind: ItemKind::Comment { id: comment.id },
            text: format!(
                "Review comment by {} on `{place}`: {} <!-- ralph:review-comment {} -->",
                one_line(&comment.author),
                one_line(&comment.body),
                comment.id
            ),
        });
    }
    for request in &feedback.change_requests {
        items.push(Item {
            kind: ItemKind::Review {
                id: request.review_id,
            },
            text: format!(
                "Changes requested by {}: {} <!-- ralph:review {} -->",
                one_line(&request.author),
                one_line(&request.body),
                request.review_id
            ),
        });
    }
    items
}

/// `text` on one line (whitespace collapsed, backticks and markers kept
/// harmless), within [`TEXT_LIMIT`] characters.
fn one_line(text: &str) -> String {
    let line = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("<!--", "<!‐‐")
        .replace("-->", "‐‐>");
    if line.chars().count() > TEXT_LIMIT {
        let kept: String = line.chars().take(TEXT_LIMIT - 1).collect();
        format!("{kept}…")
    } else if line.is_empty() {
        "(no text)".to_owned()
    } else {
        line
    }
}

/// `body` with a section of `items` that it does not have yet.
pub fn with_items(body: &str, pull: u64, items: &[Item]) -> String {
    let known: Vec<String> = extract(body).into_iter().map(|r| r.text).collect();
    let new: Vec<&Item> = items
        .iter()
        .filter(|item| !known.iter().any(|text| text == &item.text))
        .collect();
    if new.is_empty() {
        return body.to_owned();
    }
    let lines: Vec<String> = new
        .iter()
        .map(|item| format!("- [ ] {}", item.text))
        .collect();
    format!(
        "{}\n\n## Review feedback on pull request #{pull}\n\n{}\n",
        body.trim_end(),
        lines.join("\n")
    )
}

/// The follow-up of issue `number`, whose work is on `branch`: the open
/// pull request's feedback, added to the issue as checkboxes, and the
/// issue handed back to the loop (`in-progress`, `ralph`; who made it
/// ready stays who did). `None` when nothing is left to address.
pub fn follow_up(
    github: &Arc<GithubIssues>,
    issues: &dyn IssueSource,
    number: u64,
    branch: &str,
) -> Result<Option<FollowUp>, SourceError> {
    let head = branch.to_owned();
    let found = github.run(move |github| async move {
        let Some(pull) = github.open_pull_request_from(&head).await? else {
            return Ok(None);
        };
        let feedback = github.review_feedback(pull.number).await?;
        Ok::<_, RemoteError>(Some((pull, feedback)))
    })?;
    let Some((pull, feedback)) = found else {
        return Err(SourceError::Remote(RemoteError::NotFound {
            service: "GitHub".to_owned(),
            what: format!("an open pull request from `{branch}` (issue #{number})"),
        }));
    };
    let items = items(&feedback);
    if items.is_empty() {
        return Ok(None);
    }
    let issue = issues.get(number)?;
    let body = with_items(&issue.body, pull.number, &items);
    if body != issue.body {
        issues.update_spec(
            number,
            &Spec {
                title: issue.title.clone(),
                body,
            },
        )?;
    }
    issues.set_labels(
        number,
        &LabelChange::add([Label::InProgress, Label::Ralph]).removing([Label::AttentionNeeded]),
    )?;
    Ok(Some(FollowUp {
        pull: pull.number,
        url: pull.url,
        items,
    }))
}

/// Answers every item of `follow_up` whose checkbox `issue` has ticked,
/// naming the commit on `branch` that addressed it (the newest whose
/// message carries its marker, else the branch's head).
pub fn answer(
    github: &Arc<GithubIssues>,
    repository: &Path,
    branch: &str,
    issue: &Issue,
    follow_up: &FollowUp,
) -> Result<Vec<Answered>, RemoteError> {
    let ticked: Vec<String> = extract(&issue.body)
        .into_iter()
        .filter(|requirement| requirement.done)
        .map(|requirement| requirement.text)
        .collect();
    let log = git(repository, &["log", "--format=%H%x00%B%x01", branch], None)
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    let commits: Vec<(&str, &str)> = log
        .split('\u{1}')
        .filter_map(|entry| entry.trim_start().split_once('\0'))
        .collect();
    let head = commits.first().map(|(hash, _)| *hash).unwrap_or_default();
    let mut answered = Vec::new();
    for item in &follow_up.items {
        if !ticked.iter().any(|text| text == &item.text) {
            continue;
        }
        let marker = match item.kind {
            ItemKind::Comment { id } => format!("ralph:review-comment {id}"),
            ItemKind::Review { id } => format!("ralph:review {id}"),
        };
        let commit = commits
            .iter()
            .find(|(_, message)| message.contains(&marker))
            .map_or(head, |(hash, _)| *hash)
            .to_owned();
        let text = format!("Addressed in {commit}.");
        let (pull, kind) = (follow_up.pull, item.kind);
        github.run(move |github| async move {
            match kind {
                ItemKind::Comment { id } => github.answer_review_comment(pull, id, &text).await,
                ItemKind::Review { id } => github.answer_review(pull, id, &text).await,
            }
        })?;
        answered.push(Answered {
            kind: item.kind,
            commit,
        });
    }
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ralph_github::{ChangeRequest, ReviewComment};

    fn feedback() -> ReviewFeedback {
        ReviewFeedback {
            comments: vec![ReviewComment {
                id: 11,
                author: "alice".to_owned(),
                body: "Rename this.\n\n- [ ] a box of its own\n## A heading".to_owned(),
                path: "src/lib.rs".to_owned(),
                line: Some(3),
            }],
            change_requests: vec![ChangeRequest {
                review_id: 12,
                author: "bob".to_owned(),
                body: "Add a test. <!-- hidden --> -->".to_owned(),
            }],
        }
    }

    #[test]
    fn each_piece_of_feedback_is_one_checkbox_and_adds_no_other() {
        let body = with_items("Do it.\n\n- [x] Add `two`\n", 5, &items(&feedback()));
        let requirements: Vec<_> = extract(&body)
            .into_iter()
            .filter(|r| r.kind == ralph_issues::RequirementKind::Checkbox)
            .collect();
        assert_eq!(requirements.len(), 3, "{body}");
        assert!(
            requirements[1]
                .text
                .starts_with("Review comment by alice on `src/lib.rs:3`: Rename this. - [ ] a box"),
            "{}",
            requirements[1].text
        );
        assert!(
            requirements[1]
                .text
                .ends_with("<!-- ralph:review-comment 11 -->")
        );
        assert!(
            !requirements[2].text.contains("<!-- hidden"),
            "{}",
            requirements[2].text
        );
        assert!(requirements[2].text.ends_with("<!-- ralph:review 12 -->"));
        assert!(!body.contains("\n## A heading"));
    }

    #[test]
    fn feedback_already_in_the_body_is_not_added_twice() {
        let once = with_items("Do it.\n", 5, &items(&feedback()));
        assert_eq!(with_items(&once, 5, &items(&feedback())), once);
    }

    #[test]
    fn a_long_comment_is_cut() {
        let long = ReviewFeedback {
            comments: vec![ReviewComment {
                id: 1,
                author: "alice".to_owned(),
                body: "word ".repeat(200),
                path: "a".to_owned(),
                line: None,
            }],
            change_requests: Vec::new(),
        };
        let text = &items(&long)[0].text;
        assert!(text.chars().count() < TEXT_LIMIT + 80, "{text}");
        assert!(text.contains('…'));
    }
}
