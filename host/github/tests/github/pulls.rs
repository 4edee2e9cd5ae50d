//! Pull requests, assignment, review feedback and answers.

use ralph_github::{ChangeRequest, ReviewComment};
use ralph_github_standin::{SeedIssue, StandIn};

use crate::support::{assert_valid_requests, github};

#[tokio::test]
async fn a_pull_request_is_opened_once_against_the_default_branch_and_assigned() {
    let standin = StandIn::start();
    let issue = standin.seed_issue(&SeedIssue {
        title: "Add a backlog",
        ..SeedIssue::default()
    });
    let github = github(&standin);
    let me = github.authenticated_user().await.expect("user");
    assert_eq!(me, "ralph-bot");
    let base = github.default_branch().await.expect("default branch");
    assert_eq!(base, "main");
    let body = format!("Closes #{issue}");
    let opened = github
        .open_pull_request("ralph/1", &base, "Add a backlog", &body)
        .await
        .expect("open");
    assert!(opened.opened);
    assert_eq!(
        (opened.head.as_str(), opened.base.as_str()),
        ("ralph/1", "main")
    );
    let again = github
        .open_pull_request("ralph/1", &base, "Add a backlog", &body)
        .await
        .expect("the open one");
    assert_eq!(again.number, opened.number);
    assert!(!again.opened);
    github
        .assign(opened.number, &me)
        .await
        .expect("assign the pull request");
    github.assign(issue, &me).await.expect("assign the issue");
    for number in [issue, opened.number] {
        assert_eq!(
            standin.issue(number).expect("issue").assignees,
            ["ralph-bot"]
        );
    }
    let pull = standin.issue(opened.number).expect("pull");
    assert_eq!(pull.body.as_deref(), Some(body.as_str()));
    assert_valid_requests(&standin);
}

#[tokio::test]
async fn review_feedback_is_the_unanswered_feedback_of_writers_until_answered() {
    let standin = StandIn::start();
    standin.add_collaborator("reviewer", "write");
    standin.add_collaborator("reader", "read");
    let pull = standin.seed_pull("Add a backlog", "ralph/1", "main");
    let open =
        standin.add_review_comment_as(pull, "reviewer", "name this better", "src/a.rs", None);
    let answered = standin.add_review_comment_as(pull, "reviewer", "add a test", "src/b.rs", None);
    standin.add_review_comment_as(
        pull,
        "ralph-bot",
        "done in abc123",
        "src/b.rs",
        Some(answered),
    );
    standin.add_review_comment_as(pull, "reviewer", "thanks", "src/b.rs", Some(answered));
    standin.add_review_comment_as(pull, "reader", "use unsafe here", "src/c.rs", None);
    let changes = standin.add_review_as(pull, "reviewer", "CHANGES_REQUESTED", "split the module");
    standin.add_review_as(pull, "reviewer", "APPROVED", "");
    standin.add_review_as(pull, "stranger", "CHANGES_REQUESTED", "delete the tests");

    let github = github(&standin);
    let feedback = github.review_feedback(pull).await.expect("feedback");
    assert_eq!(
        feedback.comments,
        [ReviewComment {
            id: open,
            author: "reviewer".to_owned(),
            body: "name this better".to_owned(),
            path: "src/a.rs".to_owned(),
            line: Some(3),
        }]
    );
    assert_eq!(
        feedback.change_requests,
        [ChangeRequest {
            review_id: changes,
            author: "reviewer".to_owned(),
            body: "split the module".to_owned(),
        }]
    );

    github
        .answer_review_comment(pull, open, "Renamed in def456")
        .await
        .expect("answer the comment");
    github
        .answer_review(pull, changes, "Split in 0a1b2c")
        .await
        .expect("answer the review");
    let after = github.review_feedback(pull).await.expect("feedback");
    assert!(after.is_empty(), "{after:?}");
    let replies = standin.with_state(|state| state.review_comments.clone());
    let reply = replies.last().expect("a reply");
    assert_eq!(
        (reply.in_reply_to, reply.body.as_str()),
        (Some(open), "Renamed in def456")
    );
    assert_valid_requests(&standin);
}

#[test]
fn the_pull_request_helpers_run_from_a_synchronous_caller_through_the_source() {
    let standin = StandIn::start();
    let source = crate::support::issues(&standin);
    let (login, branch) = source
        .run(|github| async move {
            Ok((
                github.authenticated_user().await?,
                github.default_branch().await?,
            ))
        })
        .expect("through the bridge");
    assert_eq!((login.as_str(), branch.as_str()), ("ralph-bot", "main"));
    let error = source
        .run(|github| async move { github.review_feedback(404).await })
        .expect_err("no pull request 404");
    assert!(
        error
            .to_string()
            .contains(&format!("pull request #404 in {}", standin.repository())),
        "{error}"
    );
    assert_valid_requests(&standin);
}
