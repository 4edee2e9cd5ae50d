//! Rate limits are waited for within the wait budget; a wait past it
//! fails at once.

use std::time::{Duration, SystemTime};

use ralph_github_standin::{FaultKind, StandIn};
use ralph_issues::{IssueSource, RateLimit, RemoteError, SourceError};

use crate::support::{TEST_WAIT_BUDGET, assert_valid_requests, config, issues, issues_with};

#[test]
fn a_secondary_limit_with_retry_after_is_waited_for_and_the_request_repeated() {
    let standin = StandIn::start();
    let path = format!("/repos/{}/issues", standin.repository());
    standin.fail_next(
        "GET",
        &path,
        1,
        FaultKind::SecondaryLimit { retry_after: 1 },
    );
    let started = std::time::Instant::now();
    let listed = issues(&standin).list_open().expect("list after the wait");
    assert!(listed.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retry-after was obeyed"
    );
    let requests = standin.requests();
    assert_eq!(requests.len(), 2, "the request was sent again");
    assert!(requests[1].received - requests[0].received >= Duration::from_secs(1));
    assert_valid_requests(&standin);
}

#[test]
fn a_primary_limit_past_the_wait_budget_fails_at_once_naming_the_reset() {
    let standin = StandIn::start();
    let path = format!("/repos/{}/issues", standin.repository());
    standin.fail_next("GET", &path, 1, StandIn::primary_limit_for_an_hour());
    let error = issues(&standin).list_open().expect_err("past the budget");
    let SourceError::Remote(RemoteError::WaitBudget {
        limit,
        resets_at,
        budget,
        budget_left,
        ..
    }) = &error
    else {
        panic!("not the wait-budget error: {error:?}");
    };
    assert_eq!(*limit, RateLimit::Primary);
    assert_eq!(*budget, TEST_WAIT_BUDGET);
    assert_eq!(*budget_left, TEST_WAIT_BUDGET, "nothing was waited for");
    let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
    let off = in_an_hour
        .duration_since(*resets_at)
        .unwrap_or_else(|early| early.duration());
    assert!(
        off < Duration::from_secs(120),
        "the reset is the stand-in's"
    );
    assert!(error.is_resumable());
    assert!(error.to_string().contains("UTC"), "{error}");
    assert_eq!(standin.requests().len(), 1, "no retry");
    assert_valid_requests(&standin);
}

#[test]
fn every_wait_comes_out_of_one_budget() {
    let standin = StandIn::start();
    let mut config = config(&standin);
    config.wait_budget = Duration::from_secs(1);
    let source = issues_with(&standin, config);
    let path = format!("/repos/{}/issues", standin.repository());
    let limit_once = || {
        standin.fail_next(
            "GET",
            &path,
            1,
            FaultKind::SecondaryLimit { retry_after: 1 },
        )
    };
    limit_once();
    source.list_open().expect("the first wait fits");
    limit_once();
    let error = source.list_open().expect_err("the second does not");
    assert!(
        matches!(
            error,
            SourceError::Remote(RemoteError::WaitBudget {
                limit: RateLimit::Secondary,
                budget_left: Duration::ZERO,
                ..
            })
        ),
        "{error:?}"
    );
    assert_valid_requests(&standin);
}
