//! The issue source round trip.

use std::collections::BTreeSet;

use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::{Draft, IssueSource, IssueState, Label, LabelChange, Spec};

use crate::support::{assert_valid_requests, issues};

#[test]
fn an_issue_goes_through_create_get_list_update_labels_note_close_reopen_and_finish() {
    let standin = StandIn::start();
    let source = issues(&standin);
    let created = source
        .create(&Draft {
            title: "Add a backlog".to_owned(),
            labels: BTreeSet::from([Label::InRefinement]),
            tags: BTreeSet::new(),
            body: "- [ ] list the issues\n".to_owned(),
        })
        .expect("create");
    assert_eq!(created.state, IssueState::Open);
    assert_eq!(created.labels, BTreeSet::from([Label::InRefinement]));
    let number = created.number;
    assert_eq!(source.get(number).expect("get"), created);
    let listed = source.list_open().expect("list");
    assert_eq!(listed, vec![created.clone()]);

    let updated = source
        .update_spec(
            number,
            &Spec {
                title: "Add the backlog".to_owned(),
                body: "- [ ] list the open issues\n".to_owned(),
            },
        )
        .expect("update");
    assert_eq!(updated.title, "Add the backlog");
    assert_eq!(updated.body, "- [ ] list the open issues\n");
    assert_eq!(updated.labels, created.labels, "labels stay");

    let labelled = source
        .set_labels(
            number,
            &LabelChange::add([Label::Ready, Label::Ralph]).removing([Label::InRefinement]),
        )
        .expect("labels");
    assert_eq!(
        labelled.labels,
        BTreeSet::from([Label::Ready, Label::Ralph])
    );

    source
        .append_note(number, "Stopped: the checks failed")
        .expect("note");
    let comments = standin.issue(number).expect("the issue").comments;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "Stopped: the checks failed");
    assert!(
        source.append_note(number, "  ").is_err(),
        "an empty note is refused"
    );

    assert_eq!(
        source.close(number).expect("close").state,
        IssueState::Closed
    );
    assert!(source.list_open().expect("list").is_empty());
    assert_eq!(
        source.reopen(number).expect("reopen").state,
        IssueState::Open
    );
    let finished = source.finish(number).expect("finish");
    assert_eq!(
        finished.state,
        IssueState::Open,
        "the pull request closes it"
    );
    assert_eq!(standin.issue(number).expect("the issue").state, "open");
    assert_valid_requests(&standin);
}

#[test]
fn other_labels_are_kept_on_github_and_ignored_here() {
    let standin = StandIn::start();
    let number = standin.seed_issue(&SeedIssue {
        title: "Keep my labels",
        body: "",
        labels: &["bug", "ready"],
        ..SeedIssue::default()
    });
    let source = issues(&standin);
    assert_eq!(
        source.get(number).expect("get").labels,
        BTreeSet::from([Label::Ready])
    );
    let changed = source
        .set_labels(
            number,
            &LabelChange::add([Label::InProgress]).removing([Label::Ready]),
        )
        .expect("labels");
    assert_eq!(changed.labels, BTreeSet::from([Label::InProgress]));
    assert_eq!(
        standin.issue(number).expect("the issue").labels,
        ["bug", "in-progress"],
        "`bug` stays on GitHub"
    );
    assert_valid_requests(&standin);
}

#[test]
fn pull_requests_are_not_issues() {
    let standin = StandIn::start();
    let issue = standin.seed_issue(&SeedIssue {
        title: "An issue",
        ..SeedIssue::default()
    });
    let pull = standin.seed_pull("A pull request", "ralph/1", "main");
    let source = issues(&standin);
    let numbers: Vec<u64> = source
        .list_open()
        .expect("list")
        .iter()
        .map(|issue| issue.number)
        .collect();
    assert_eq!(numbers, [issue]);
    let error = source.get(pull).expect_err("a pull request");
    assert!(error.to_string().contains("is a pull request"), "{error}");
    assert_valid_requests(&standin);
}
