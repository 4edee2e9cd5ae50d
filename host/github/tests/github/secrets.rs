//! The token goes only into the `Authorization` header.

use ralph_github::{Credentials, Token, TokenOrigin};
use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::IssueSource;

use crate::support::{assert_valid_requests, config, github, issues, issues_with};

#[test]
fn the_token_is_in_no_body_error_or_debug_output() {
    let standin = StandIn::start();
    let token = standin.config().token.clone();
    let number = standin.seed_issue(&SeedIssue {
        title: "Leaky",
        ..SeedIssue::default()
    });
    let source = issues(&standin);
    source
        .append_note(number, &format!("The loop saw {token} in a log"))
        .expect("note");
    let comment = &standin.issue(number).expect("issue").comments[0].body;
    assert!(!comment.contains(&token), "{comment}");
    assert!(comment.contains("[REDACTED]"), "{comment}");

    for request in standin.requests() {
        let body = String::from_utf8_lossy(&request.body);
        assert!(!body.contains(&token), "{}: {body}", request.line());
        assert!(
            !request.path.contains(&token)
                && request.query.as_deref().is_none_or(|q| !q.contains(&token))
        );
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
    }

    let error = source.get(404).expect_err("missing");
    assert!(!error.to_string().contains(&token), "{error}");
    assert!(!format!("{error:?}").contains(&token), "{error:?}");
    let github = github(&standin);
    for text in [
        format!("{source:?}"),
        format!("{github:?}"),
        format!("{:?}", config(&standin)),
    ] {
        assert!(!text.contains(&token), "{text}");
    }
    assert_valid_requests(&standin);
}

#[test]
fn a_refused_token_is_named_by_its_origin_only() {
    let standin = StandIn::start();
    let mut config = config(&standin);
    let wrong = "ghp_thisIsNotTheRightTokenAtAll";
    config.credentials = Credentials {
        token: Token::new(wrong),
        origin: TokenOrigin::GhAuthToken,
    };
    let source = issues_with(&standin, config);
    let error = source.get(1).expect_err("refused");
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{source:?}"),
    ] {
        assert!(!text.contains(wrong), "{text}");
    }
    assert!(error.to_string().contains("gh auth token"), "{error}");
    assert_valid_requests(&standin);
}
