//! Failures name the token's origin, the repository, the issue, the field.

use ralph_github::{Credentials, Token, TokenOrigin};
use ralph_github_standin::StandIn;
use ralph_issues::{IssueSource, RemoteError, SourceError};

use crate::support::{assert_valid_requests, config, github, issues, issues_with};

#[test]
fn a_401_names_where_the_token_came_from() {
    let standin = StandIn::start();
    let mut config = config(&standin);
    config.credentials = Credentials {
        token: Token::new("wrong-token-value-42"),
        origin: TokenOrigin::GhTokenVariable,
    };
    let error = issues_with(&standin, config)
        .list_open()
        .expect_err("refused");
    assert!(
        matches!(error, SourceError::Remote(RemoteError::Unauthorized { .. })),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("the GH_TOKEN environment variable"),
        "{message}"
    );
    assert!(!message.contains("wrong-token-value-42"), "{message}");
    assert!(error.is_bad_input());
    assert_valid_requests(&standin);
}

#[test]
fn a_404_names_the_issue_or_the_repository() {
    let standin = StandIn::start();
    let error = issues(&standin).get(99).expect_err("no issue 99");
    let message = error.to_string();
    assert!(
        message.contains(&format!("issue #99 in {}", standin.repository())),
        "{message}"
    );
    assert!(error.is_bad_input());

    let mut elsewhere = config(&standin);
    elsewhere.user_agent = "ralph-test".to_owned();
    let client = ralph_github::Client::new(elsewhere).expect("client");
    let missing = ralph_github::GithubIssues::new(ralph_github::Github::new(
        client,
        "octo-org/no-such-repository".parse().expect("a name"),
    ))
    .expect("source");
    let error = missing.get(1).expect_err("no repository");
    let message = error.to_string();
    assert!(
        message.contains("repository octo-org/no-such-repository"),
        "{message}"
    );
    let error = missing.list_open().expect_err("no repository");
    assert_eq!(
        error.to_string(),
        "repository octo-org/no-such-repository was not found on GitHub (404)"
    );
    assert_valid_requests(&standin);
}

#[tokio::test]
async fn a_422_names_the_rejected_field() {
    let standin = StandIn::start();
    let github = github(&standin);
    let error = github
        .open_pull_request("ralph/7", "", "Add a backlog", "Closes #7")
        .await
        .expect_err("no base");
    let RemoteError::Rejected { fields, .. } = &error else {
        panic!("not a rejection: {error:?}");
    };
    assert_eq!(fields[0].field, "base");
    let message = error.to_string();
    assert!(message.contains("field `base`"), "{message}");
    assert!(
        message.contains("a pull request from `ralph/7`"),
        "{message}"
    );
    assert!(error.is_bad_input());
    assert_valid_requests(&standin);
}
