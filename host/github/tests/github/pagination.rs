//! Lists are read page by page.

use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::IssueSource;

use crate::support::{assert_valid_requests, issues};

#[test]
fn a_hundred_and_fifty_issues_come_in_two_pages_of_a_hundred() {
    let standin = StandIn::start();
    for index in 0..150 {
        let title = format!("Issue {index}");
        standin.seed_issue(&SeedIssue {
            title: &title,
            ..SeedIssue::default()
        });
    }
    let listed = issues(&standin).list_open().expect("list");
    let numbers: Vec<u64> = listed.iter().map(|issue| issue.number).collect();
    assert_eq!(
        numbers,
        (1..=150).collect::<Vec<u64>>(),
        "every issue once, by number"
    );
    let pages: Vec<String> = standin
        .requests()
        .iter()
        .map(|request| request.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[0].contains("per_page=100"), "{pages:?}");
    assert!(
        pages[1].contains("per_page=100") && pages[1].contains("page=2"),
        "{pages:?}"
    );
    assert_valid_requests(&standin);
}
