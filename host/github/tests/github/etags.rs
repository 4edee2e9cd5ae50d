//! GETs are conditional on the remembered `ETag`.

use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::IssueSource;

use crate::support::{assert_valid_requests, issues};

#[test]
fn a_second_get_sends_if_none_match_and_uses_the_304() {
    let standin = StandIn::start();
    let number = standin.seed_issue(&SeedIssue {
        title: "Cached",
        body: "- [ ] once\n",
        ..SeedIssue::default()
    });
    let source = issues(&standin);
    let first = source.get(number).expect("first");
    let second = source.get(number).expect("second, from the 304");
    assert_eq!(first, second);
    let requests = standin.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("if-none-match"), None);
    let etag = requests[1].header("if-none-match").expect("If-None-Match");
    assert!(etag.starts_with("W/\""), "{etag}");

    standin.edit_body(number, "- [ ] twice\n");
    let third = source.get(number).expect("third, changed");
    assert_eq!(third.body, "- [ ] twice\n", "a changed issue is read anew");
    assert_valid_requests(&standin);
}
