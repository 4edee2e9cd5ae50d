//! Ticking re-reads the issue and changes only the ticked boxes' bytes.

use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::{IssueSource, SourceError};

use crate::support::{assert_valid_requests, issues};

const BODY: &str = "Intro\n\n- [ ] parse the config\n- [ ] write the docs\n";

#[test]
fn a_tick_after_someone_edited_another_line_applies_to_the_new_body() {
    let standin = StandIn::start();
    let number = standin.seed_issue(&SeedIssue {
        title: "Config",
        body: BODY,
        ..SeedIssue::default()
    });
    let source = issues(&standin);
    let id = source.get(number).expect("get").requirements()[0]
        .id
        .clone();
    let edited = "Intro, edited by a person\n\n- [ ] parse the config\n- [ ] write the docs\n";
    standin.edit_body(number, edited);
    let ticked = source.tick_requirements(number, &[id]).expect("tick");
    let expected = "Intro, edited by a person\n\n- [x] parse the config\n- [ ] write the docs\n";
    assert_eq!(ticked.body, expected);
    assert_eq!(
        standin.issue(number).expect("issue").body.as_deref(),
        Some(expected)
    );
    assert_valid_requests(&standin);
}

#[test]
fn a_tick_whose_box_was_removed_is_reported_and_the_body_is_left_alone() {
    let standin = StandIn::start();
    let number = standin.seed_issue(&SeedIssue {
        title: "Config",
        body: BODY,
        ..SeedIssue::default()
    });
    let source = issues(&standin);
    let id = source.get(number).expect("get").requirements()[0]
        .id
        .clone();
    let edited = "Intro\n\n- [ ] read the config from TOML\n- [ ] write the docs\n";
    standin.edit_body(number, edited);
    let error = source
        .tick_requirements(number, &[id])
        .expect_err("the box is gone");
    assert!(matches!(error, SourceError::Tick { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&format!("issue #{number}")),
        "{error}"
    );
    assert_eq!(
        standin.issue(number).expect("issue").body.as_deref(),
        Some(edited)
    );
    let patches = standin
        .requests()
        .iter()
        .filter(|request| request.method == "PATCH")
        .count();
    assert_eq!(patches, 0, "nothing is written");
    assert_valid_requests(&standin);
}
