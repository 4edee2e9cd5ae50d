use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::issue::Label;
use crate::requirements::{RequirementKind, extract};

fn issues() -> (tempfile::TempDir, LocalIssues) {
    let directory = tempfile::tempdir().expect("temp dir");
    let issues = LocalIssues::new(&Layout::new(directory.path()));
    (directory, issues)
}

fn draft(title: &str, body: &str) -> Draft {
    Draft {
        title: title.to_owned(),
        labels: BTreeSet::from([Label::InRefinement]),
        tags: BTreeSet::new(),
        body: body.to_owned(),
    }
}

#[test]
fn issues_live_in_dot_ralph_issues_as_number_dot_md() {
    let (directory, issues) = issues();
    let issue = issues.create(&draft("First", "body\n")).expect("create");
    assert_eq!(issue.number, 1);
    let path = directory.path().join(".ralph/issues/1.md");
    assert_eq!(issues.path(1), path);
    let text = fs::read_to_string(path).expect("written");
    assert_eq!(
        text,
        "---\ntitle: First\nlabels: [in-refinement]\nstate: open\n---\nbody\n"
    );
}

#[test]
fn a_new_issue_takes_one_more_than_the_highest_number() {
    let (_directory, issues) = issues();
    fs::create_dir_all(issues.path(1).parent().expect("dir")).expect("mkdir");
    fs::write(
        issues.path(41),
        "---\ntitle: T\nlabels: []\nstate: closed\n---\n",
    )
    .expect("write");
    let issue = issues.create(&draft("Next", "")).expect("create");
    assert_eq!(issue.number, 42);
    assert_eq!(issues.numbers().expect("numbers"), [41, 42]);
}

#[test]
fn only_canonical_issue_file_names_are_issues() {
    let (_directory, issues) = issues();
    let directory = issues.path(1).parent().expect("dir").to_owned();
    fs::create_dir_all(&directory).expect("mkdir");
    for name in ["README.md", "007.md", "0.md", "3.txt", "-1.md", "4.md.bak"] {
        fs::write(directory.join(name), "not an issue").expect("write");
    }
    assert!(issues.numbers().expect("numbers").is_empty());
    assert!(issues.list_open().expect("list").is_empty());
}

#[test]
fn listing_open_issues_leaves_closed_ones_out() {
    let (_directory, issues) = issues();
    issues.create(&draft("One", "")).expect("create");
    issues.create(&draft("Two", "")).expect("create");
    issues.close(1).expect("close");
    let open: Vec<u64> = issues
        .list_open()
        .expect("list")
        .iter()
        .map(|issue| issue.number)
        .collect();
    assert_eq!(open, [2]);
    assert_eq!(issues.reopen(1).expect("reopen").state, IssueState::Open);
}

#[test]
fn an_unknown_issue_is_not_found_naming_its_file() {
    let (_directory, issues) = issues();
    let error = issues.get(9).expect_err("missing");
    assert!(error.is_bad_input());
    assert!(error.to_string().contains(".ralph/issues/9.md"), "{error}");
    assert!(matches!(
        issues.set_labels(9, &LabelChange::add([Label::Ready])),
        Err(SourceError::NotFound { number: 9, .. })
    ));
}

#[test]
fn a_malformed_file_is_an_error_naming_file_line_and_key() {
    let (_directory, issues) = issues();
    issues.create(&draft("One", "")).expect("create");
    let text = "---\ntitle: One\nlabels: [ready, soon]\nstate: open\n---\n";
    fs::write(issues.path(1), text).expect("write");
    let error = issues.get(1).expect_err("malformed");
    assert!(error.is_bad_input());
    let message = error.to_string();
    assert!(message.contains(".ralph/issues/1.md:3:"), "{message}");
    assert!(message.contains("unknown label `soon`"), "{message}");
    assert!(issues.list_open().is_err());
    assert!(issues.close(1).is_err());
    assert_eq!(fs::read_to_string(issues.path(1)).expect("read"), text);
}

#[test]
fn a_file_that_is_not_utf8_is_named() {
    let (_directory, issues) = issues();
    issues.create(&draft("One", "")).expect("create");
    fs::write(issues.path(1), [0xff, 0xfe]).expect("write");
    let error = issues.get(1).expect_err("not text");
    assert!(matches!(error, SourceError::NotText { .. }));
    assert!(error.to_string().contains("1.md"));
}

#[test]
fn changing_labels_keeps_the_body_byte_for_byte() {
    let (_directory, issues) = issues();
    let body = "Spec\r\n\n- [ ] one  \n\u{00e9}\t";
    issues.create(&draft("One", body)).expect("create");
    let change = LabelChange::add([Label::Ready]).removing([Label::InRefinement]);
    let issue = issues.set_labels(1, &change).expect("labels");
    assert_eq!(issue.labels, BTreeSet::from([Label::Ready]));
    assert_eq!(issues.get(1).expect("read"), issue);
    assert_eq!(issue.body, body);
}

#[test]
fn ticking_requirements_rewrites_only_their_marks() {
    let (_directory, issues) = issues();
    let body = "- [ ] one\n- [ ] two\n";
    issues.create(&draft("One", body)).expect("create");
    let second = extract(body)[1].id.clone();
    let issue = issues.tick_requirements(1, &[second]).expect("tick");
    assert_eq!(issue.body, "- [ ] one\n- [x] two\n");
    let component = crate::requirements::RequirementId("implicit:tests".to_owned());
    let error = issues
        .tick_requirements(1, &[component])
        .expect_err("not a checkbox");
    assert!(matches!(error, SourceError::Tick { number: 1, .. }));
    assert_eq!(issues.get(1).expect("read").body, "- [ ] one\n- [x] two\n");
}

#[test]
fn a_note_is_appended_under_its_heading_and_adds_no_checkbox() {
    let (_directory, issues) = issues();
    issues.create(&draft("One", "- [ ] one")).expect("create");
    let issue = issues
        .append_note(1, "Stopped: the budget is spent.\n")
        .expect("note");
    assert_eq!(
        issue.body,
        "- [ ] one\n\n### Note from Ralph\n\nStopped: the budget is spent.\n"
    );
    let checkboxes = extract(&issue.body)
        .into_iter()
        .filter(|r| r.kind == RequirementKind::Checkbox)
        .count();
    assert_eq!(checkboxes, 1);
    assert!(matches!(
        issues.append_note(1, "  \n"),
        Err(SourceError::EmptyNote { number: 1 })
    ));
}

#[test]
fn a_note_never_carries_a_secret_into_the_issue_file() {
    // A failure report quoting check output that printed a credential.
    // (A test process knows no secret values; a credential-shaped one
    // stands in for them: both go through the host's redactor.)
    let (directory, issues) = issues();
    issues.create(&draft("One", "- [ ] one")).expect("create");
    issues
        .append_note(
            1,
            "check failed: printed AKIAIOSFODNN7EXAMPLE and Bearer s3cr3t.t0ken",
        )
        .expect("note");
    let file = std::fs::read_to_string(directory.path().join(".ralph/issues/1.md")).expect("read");
    assert!(!file.contains("IOSFODNN7EXAMPLE"), "{file}");
    assert!(!file.contains("s3cr3t.t0ken"), "{file}");
    assert!(
        file.contains("AKIA[REDACTED] and Bearer [REDACTED]"),
        "{file}"
    );
}

#[test]
fn updating_the_spec_keeps_labels_and_state() {
    let (_directory, issues) = issues();
    issues.create(&draft("One", "old")).expect("create");
    issues.close(1).expect("close");
    let spec = Spec {
        title: "One, refined".to_owned(),
        body: "new\n".to_owned(),
    };
    let issue = issues.update_spec(1, &spec).expect("update");
    assert_eq!(issue.title, "One, refined");
    assert_eq!(issue.body, "new\n");
    assert_eq!(issue.state, IssueState::Closed);
    assert_eq!(issue.labels, BTreeSet::from([Label::InRefinement]));
    let bad = Spec {
        title: "two\nlines".to_owned(),
        body: String::new(),
    };
    assert!(matches!(
        issues.update_spec(1, &bad),
        Err(SourceError::Title {
            number: Some(1),
            ..
        })
    ));
    assert_eq!(issues.get(1).expect("read"), issue);
}

#[test]
fn local_issues_serve_the_loop_through_the_trait_object() {
    let (_directory, issues) = issues();
    let source: Box<dyn IssueSource> = Box::new(issues);
    let issue = source.create(&draft("One", "- [ ] a\n")).expect("create");
    let id = issue.requirements()[0].id.clone();
    let ticked = source.tick_requirements(issue.number, &[id]).expect("tick");
    assert!(ticked.requirements().iter().all(|r| r.done));
    assert_eq!(source.get(issue.number).expect("read"), ticked);
}

#[test]
fn a_new_issue_needs_a_valid_title_and_nothing_is_written_without_one() {
    let (_directory, issues) = issues();
    let error = issues.create(&draft(" padded", "")).expect_err("bad title");
    assert!(matches!(error, SourceError::Title { number: None, .. }));
    assert_eq!(error.to_string(), "the title starts or ends with spaces");
    assert!(issues.numbers().expect("numbers").is_empty());
}

#[test]
fn concurrent_creates_get_distinct_numbers() {
    let (_directory, issues) = issues();
    let numbers: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|index| {
                let issues = issues.clone();
                scope.spawn(move || {
                    issues
                        .create(&draft(&format!("Issue {index}"), ""))
                        .expect("create")
                        .number
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("thread"))
            .collect()
    });
    let distinct: BTreeSet<u64> = numbers.iter().copied().collect();
    assert_eq!(distinct.len(), 8);
    assert_eq!(issues.numbers().expect("numbers").len(), 8);
}

fn any_issue() -> impl Strategy<Value = Issue> {
    (
        1..10_000u64,
        "[A-Za-z0-9][A-Za-z0-9 ,.:#()-]{0,40}[A-Za-z0-9.)]",
        prop::collection::btree_set(prop::sample::select(Label::ALL.to_vec()), 0..6),
        prop::collection::btree_set("complex|type:[a-z]{1,12}", 0..3),
        prop::sample::select(IssueState::ALL.to_vec()),
        any::<String>(),
    )
        .prop_map(|(number, title, labels, tags, state, body)| Issue {
            number,
            title,
            labels,
            tags,
            state,
            body,
        })
}

proptest! {
    #[test]
    fn parsing_a_written_issue_gives_it_back(issue in any_issue()) {
        let text = issue_file::render(&issue);
        prop_assert_eq!(issue_file::parse(issue.number, &text), Ok(issue.clone()));
        let (_directory, issues) = issues();
        issues.write(&issue).expect("write");
        prop_assert_eq!(issues.get(issue.number).expect("read"), issue);
    }
}

#[test]
fn a_fifo_in_place_of_an_issue_file_is_refused_unread() {
    let (_directory, issues) = issues();
    fs::create_dir_all(issues.path(1).parent().expect("parent")).expect("mkdir");
    let status = std::process::Command::new("mkfifo")
        .arg(issues.path(1))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // Reading it would wait for a writer for ever.
    let error = issues.get(1).expect_err("a FIFO");
    let message = error.to_string();
    assert!(
        message.contains("1.md") && message.contains("FIFO"),
        "{message}"
    );
    assert!(issues.list_open().is_err());
}

/// Bytes near a valid issue file: some bytes replaced, removed or inserted.
fn near_an_issue_file() -> impl Strategy<Value = Vec<u8>> {
    const VALID: &str = "---\ntitle: Add a backlog\nlabels: [ready, ralph]\nstate: open\n---\n# Body\n\n- [ ] one\n";
    prop::collection::vec((0usize..200, any::<u8>(), 0u8..3), 1..6).prop_map(|edits| {
        let mut bytes = VALID.as_bytes().to_vec();
        for (position, byte, kind) in edits {
            let at = position % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_issue_file_parser_never_panics_and_every_rejection_names_the_file(
        bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..300), near_an_issue_file()],
    ) {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = issue_file::parse(1, text);
            let _ = issue_file::split(text);
        }
        let (_directory, issues) = issues();
        fs::create_dir_all(issues.path(3).parent().expect("parent")).expect("mkdir");
        fs::write(issues.path(3), &bytes).expect("write");
        if let Err(error) = issues.get(3) {
            prop_assert!(error.to_string().contains(".ralph/issues/3.md"), "{}", error);
        }
    }
}
