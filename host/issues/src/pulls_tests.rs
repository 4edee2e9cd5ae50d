use proptest::prelude::*;

use super::*;

fn scores(value: f64) -> DimensionScores {
    DimensionScores {
        spec_alignment: value,
        technical_quality: value,
        innovation: value,
        risk: value,
        efficiency: value,
    }
}

fn record(number: u64) -> PullRequest {
    PullRequest {
        issue_number: number,
        title: "Backlog command".to_owned(),
        branch: format!("ralph/{number}-backlog-command"),
        summary: "Adds `ralph marketplace backlog`.\n\nFlags duplicates.".to_owned(),
        proposals: vec![
            ProposalScore {
                label: "proposal-a".to_owned(),
                total: 0.8125,
                scores: scores(0.8),
            },
            ProposalScore {
                label: "proposal-b".to_owned(),
                total: 0.5,
                scores: scores(0.5),
            },
        ],
        checks: vec![CheckResult {
            name: "clippy".to_owned(),
            category: CheckCategory::Lint,
            passed: true,
            passed_before: true,
            duration: Duration::from_millis(1250),
            summary: "no warnings | clean".to_owned(),
        }],
        reviews: vec![
            SpecialistReview {
                specialist: "change-risk".to_owned(),
                findings: vec![
                    ReviewFinding {
                        severity: FindingSeverity::Warning,
                        file: Some("Cargo.toml".to_owned()),
                        line: Some(3),
                        message: "Touches a file | that affects every build.".to_owned(),
                    },
                    ReviewFinding {
                        severity: FindingSeverity::Info,
                        file: None,
                        line: None,
                        message: "About 40 lines.".to_owned(),
                    },
                ],
                error: None,
            },
            SpecialistReview {
                specialist: "rust-conventions".to_owned(),
                findings: Vec::new(),
                error: None,
            },
            SpecialistReview {
                specialist: "trading".to_owned(),
                findings: Vec::new(),
                error: Some("trading: deadline of 100 ms exceeded".to_owned()),
            },
        ],
        changes: Some(ChangeSummary {
            files: vec![ChangedFile {
                path: "src/backlog.rs".to_owned(),
                added: 22,
                removed: 3,
            }],
        }),
        commits: vec!["Add the backlog command".to_owned()],
        failed_attempts: vec![FailedAttempt {
            round: 1,
            label: "B".to_owned(),
            reason: "tests: failed (exit code 101)".to_owned(),
        }],
    }
}

fn store() -> (tempfile::TempDir, PullRequests) {
    let directory = tempfile::tempdir().expect("temp dir");
    let store = PullRequests::new(&Layout::new(directory.path()));
    (directory, store)
}

#[test]
fn a_record_shows_the_title_closes_the_issue_and_tables_proposals_and_checks() {
    let text = markdown(&record(4));
    assert!(
        text.starts_with("# Backlog command\n\nCloses #4\n"),
        "{text}"
    );
    assert!(text.contains("Branch: `ralph/4-backlog-command`"));
    assert!(text.contains("Flags duplicates."));
    assert!(text.contains("| 1 | proposal-a | 0.812 | 0.800 | 0.800 | 0.800 | 0.800 | 0.800 |"));
    assert!(text.contains("| clippy | lint | passed | 1.25 s | no warnings \\| clean |"));
}

#[test]
fn the_record_shows_the_real_change_the_commits_and_the_failed_attempts() {
    let text = markdown(&record(4));
    assert!(
        text.contains("## Changes\n\n1 file changed, +22 −3\n\n- `src/backlog.rs` (+22 −3)"),
        "{text}"
    );
    assert!(
        text.contains("## Commits\n\n- Add the backlog command"),
        "{text}"
    );
    assert!(
        text.contains("| 1 | B | tests: failed (exit code 101) |"),
        "{text}"
    );
    let mut failing = record(4);
    failing.checks[0].passed = false;
    failing.checks[0].passed_before = false;
    assert!(markdown(&failing).contains("| failed before the change too |"));
}

#[test]
fn specialist_reviews_are_a_section_with_one_row_per_finding() {
    let text = markdown(&record(4));
    let section = &text[text.find("## Specialist reviews").expect("section")..];
    assert!(section.contains("do not block the change"), "{section}");
    for row in [
        "| change-risk | warning | `Cargo.toml:3` | Touches a file \\| that affects every build. |",
        "| change-risk | info | | About 40 lines. |",
        "| rust-conventions | | | no findings |",
        "| trading | | | review failed: trading: deadline of 100 ms exceeded |",
    ] {
        assert!(section.contains(row), "{row} missing from\n{section}");
    }
    let mut unreviewed = record(4);
    unreviewed.reviews.clear();
    assert!(!markdown(&unreviewed).contains("Specialist reviews"));
}

#[test]
fn a_record_without_reviews_has_no_reviews_field_and_older_records_still_read() {
    let mut unreviewed = record(4);
    unreviewed.reviews.clear();
    let text = render(&unreviewed).expect("render");
    assert!(!text.contains("\"reviews\""), "{text}");
    assert_eq!(parse("4.md", &text).expect("parse"), unreviewed);
    let reviewed = render(&record(4)).expect("render");
    assert!(reviewed.contains("\"reviews\""), "{reviewed}");
    let broken = reviewed.replace("\"severity\": \"warning\"", "\"severity\": \"fatal\"");
    let error = parse("4.md", &broken).expect_err("an unknown severity");
    assert!(error.to_string().contains("fatal"), "{error}");
}

#[test]
fn a_record_never_carries_a_secret() {
    // The summary comes from a bidder and the check summaries from checks
    // running the change: either may hold a credential.
    let (directory, store) = store();
    let mut leaky = record(4);
    leaky.summary = "uses key AKIAIOSFODNN7EXAMPLE".to_owned();
    leaky.checks[0].summary = "Authorization: Bearer s3cr3t.t0ken".to_owned();
    store.write(&leaky).expect("write");
    let file = std::fs::read_to_string(directory.path().join(".ralph/pulls/4.md")).expect("read");
    assert!(!file.contains("IOSFODNN7EXAMPLE"), "{file}");
    assert!(!file.contains("s3cr3t.t0ken"), "{file}");
    assert_eq!(
        store.read(4).expect("read").summary,
        "uses key AKIA[REDACTED]"
    );
}

#[test]
fn records_are_written_to_dot_ralph_pulls_and_read_back_exactly() {
    let (directory, store) = store();
    let path = store.write(&record(4)).expect("write");
    assert_eq!(path, directory.path().join(".ralph/pulls/4.md"));
    assert_eq!(store.read(4).expect("read"), record(4));
    store.write(&record(12)).expect("write");
    let numbers: Vec<u64> = store
        .list()
        .expect("list")
        .iter()
        .map(|r| r.issue_number)
        .collect();
    assert_eq!(numbers, [4, 12]);
}

#[test]
fn a_comment_end_in_the_data_cannot_end_the_comment_early() {
    let mut tricky = record(4);
    tricky.summary = "closing --> early <!-- and again -->".to_owned();
    let text = render(&tricky).expect("render");
    assert_eq!(parse("4.md", &text).expect("parse"), tricky);
}

#[test]
fn an_invalid_record_is_refused_naming_the_field() {
    let (_directory, store) = store();
    type Breaking = fn(&mut PullRequest);
    let cases: [(Breaking, &str); 6] = [
        (|r| r.title = String::new(), "title"),
        (|r| r.branch = "has space".to_owned(), "branch"),
        (
            |r| r.proposals[1].scores.risk = 1.5,
            "proposals[1].scores.risk",
        ),
        (|r| r.proposals[0].total = f64::NAN, "proposals[0].total"),
        (|r| r.checks[0].name = " ".to_owned(), "checks[0].name"),
        (
            |r| r.reviews[2].specialist = String::new(),
            "reviews[2].specialist",
        ),
    ];
    for (breaking, field) in cases {
        let mut invalid = record(4);
        breaking(&mut invalid);
        let error = store.write(&invalid).expect_err(field);
        assert!(error.is_bad_input());
        assert!(
            error.to_string().contains(&format!("field `{field}`")),
            "{error}"
        );
    }
    assert!(
        store.list().expect("list").is_empty(),
        "nothing was written"
    );
}

#[test]
fn reading_a_missing_or_broken_record_names_the_file() {
    let (_directory, store) = store();
    let missing = store.read(3).expect_err("missing");
    assert!(matches!(missing, PullError::NotFound { number: 3, .. }));
    assert!(missing.to_string().contains(".ralph/pulls/3.md"));
    store.write(&record(3)).expect("write");
    let text = fs::read_to_string(store.path(3)).expect("read");
    for (broken, expected) in [
        (
            text.replace("\"passed\": true", "\"passed\": \"yes\""),
            "not a valid record",
        ),
        (
            text.replace("\"category\": \"lint\"", "\"category\": \"style\""),
            "style",
        ),
        (
            text.replace(DATA_START, "<!-- data"),
            "no `<!-- ralph:pull-request",
        ),
        (
            text.replace("\"issue_number\": 3", "\"issue_number\": 4"),
            "issue_number",
        ),
    ] {
        fs::write(store.path(3), &broken).expect("write");
        let error = store.read(3).expect_err(expected);
        let message = error.to_string();
        assert!(message.contains(".ralph/pulls/3.md"), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(store.list().is_err());
    }
}

#[test]
fn check_categories_are_the_brokers_with_the_same_names() {
    use ralph_broker::checks::Category;
    for category in CheckCategory::ALL {
        let json = serde_json::to_string(&category).expect("json");
        assert_eq!(json, format!("\"{}\"", category.as_str()));
        let broker: Category = serde_json::from_str(&json).expect("a broker category");
        assert_eq!(serde_json::to_string(&broker).expect("json"), json);
    }
    let every_broker_category = [
        Category::Format,
        Category::Lint,
        Category::TypeCheck,
        Category::DeadCode,
        Category::Complexity,
        Category::Test,
        Category::Custom,
    ];
    for broker in every_broker_category {
        let json = serde_json::to_string(&broker).expect("json");
        serde_json::from_str::<CheckCategory>(&json).expect("a record category");
    }
}

#[test]
fn dimension_scores_read_the_brokers_scores() {
    let broker = ralph_broker::scoring::Scores {
        spec_alignment: 0.1,
        technical_quality: 0.2,
        innovation: 0.3,
        risk: 0.4,
        efficiency: 0.5,
    };
    let json = serde_json::to_string(&broker).expect("json");
    let scores: DimensionScores = serde_json::from_str(&json).expect("same fields");
    assert_eq!(serde_json::to_string(&scores).expect("json"), json);
}

fn score() -> impl Strategy<Value = f64> {
    0.0..=1.0f64
}

fn any_record() -> impl Strategy<Value = PullRequest> {
    let proposal = (
        "[a-z-]{1,12}",
        -1.0..2.0f64,
        [score(), score(), score(), score(), score()],
    )
        .prop_map(|(label, total, [a, b, c, d, e])| ProposalScore {
            label,
            total,
            scores: DimensionScores {
                spec_alignment: a,
                technical_quality: b,
                innovation: c,
                risk: d,
                efficiency: e,
            },
        });
    let category = prop::sample::select(CheckCategory::ALL.to_vec());
    let check = (
        "[a-z]{1,10}",
        category,
        any::<bool>(),
        0..1_000_000u64,
        any::<String>(),
    )
        .prop_map(
            |(name, category, passed, milliseconds, summary)| CheckResult {
                name,
                category,
                passed,
                passed_before: milliseconds % 2 == 0,
                duration: Duration::from_millis(milliseconds),
                summary,
            },
        );
    let finding = (
        prop::sample::select(FindingSeverity::ALL.to_vec()),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<u32>()),
        any::<String>(),
    )
        .prop_map(|(severity, file, line, message)| ReviewFinding {
            severity,
            file,
            line,
            message,
        });
    let review = (
        "[a-z-]{1,12}",
        prop::collection::vec(finding, 0..3),
        proptest::option::of(any::<String>()),
    )
        .prop_map(|(specialist, findings, error)| SpecialistReview {
            specialist,
            findings,
            error,
        });
    (
        1..100_000u64,
        "[A-Za-z][A-Za-z ]{0,30}[a-z]",
        any::<String>(),
        prop::collection::vec(proposal, 0..4),
        prop::collection::vec(check, 0..4),
        prop::collection::vec(review, 0..3),
    )
        .prop_map(
            |(issue_number, title, summary, proposals, checks, reviews)| PullRequest {
                issue_number,
                branch: format!("ralph/{issue_number}-work"),
                title,
                summary,
                proposals,
                checks,
                reviews,
                changes: (issue_number % 3 != 0).then(|| ChangeSummary {
                    files: vec![ChangedFile {
                        path: format!("src/{issue_number}.rs"),
                        added: issue_number,
                        removed: issue_number / 2,
                    }],
                }),
                commits: vec![format!("Commit {issue_number}")],
                failed_attempts: (issue_number % 2 == 0)
                    .then(|| FailedAttempt {
                        round: 1,
                        label: "A".to_owned(),
                        reason: "tests failed | twice".to_owned(),
                    })
                    .into_iter()
                    .collect(),
            },
        )
}

proptest! {
    #[test]
    fn parsing_a_rendered_record_gives_it_back(record in any_record()) {
        let text = render(&record).expect("render");
        prop_assert_eq!(parse("record.md", &text).expect("parse"), record);
    }
}
