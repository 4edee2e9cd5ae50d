//! Every request carries GitHub's recommended headers.

use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::IssueSource;

use crate::support::{assert_valid_requests, issues};

#[test]
fn every_request_sends_the_token_the_media_type_the_api_version_and_a_user_agent() {
    let standin = StandIn::start();
    let number = standin.seed_issue(&SeedIssue {
        title: "Headers",
        ..SeedIssue::default()
    });
    let source = issues(&standin);
    source.get(number).expect("get");
    source.append_note(number, "a note").expect("note");
    source.close(number).expect("close");
    let token = &standin.config().token;
    let requests = standin.requests();
    assert!(requests.iter().any(|request| request.method == "POST"));
    for request in &requests {
        let line = request.line();
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "{line}"
        );
        assert_eq!(
            request.header("accept"),
            Some("application/vnd.github+json"),
            "{line}"
        );
        assert_eq!(
            request.header("x-github-api-version"),
            Some("2022-11-28"),
            "{line}"
        );
        let agent = request.header("user-agent").unwrap_or_default();
        assert!(agent.starts_with("ralph/"), "{line}: {agent}");
    }
    assert_valid_requests(&standin);
}
