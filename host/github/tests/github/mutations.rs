//! Mutations go one at a time, the mutation interval apart.

use std::sync::Arc;
use std::time::Duration;

use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::IssueSource;

use crate::support::{assert_valid_requests, config, issues, issues_with};

/// Each source writes `rounds` notes from a thread of its own, all at once.
fn notes_from_threads(sources: &[Arc<ralph_github::GithubIssues>], number: u64, rounds: usize) {
    std::thread::scope(|scope| {
        for (index, source) in sources.iter().enumerate() {
            scope.spawn(move || {
                for round in 0..rounds {
                    source
                        .append_note(number, &format!("note {index}.{round}"))
                        .expect("note");
                }
            });
        }
    });
}

#[test]
fn mutations_from_many_threads_never_overlap() {
    let standin = StandIn::start();
    standin.hold_mutations(Duration::from_millis(40));
    let number = standin.seed_issue(&SeedIssue {
        title: "Busy",
        ..SeedIssue::default()
    });
    let source = Arc::new(issues(&standin));
    notes_from_threads(&vec![Arc::clone(&source); 4], number, 2);
    assert_eq!(standin.issue(number).expect("issue").comments.len(), 8);
    assert_eq!(standin.overlapping_mutations(), 0);
    assert_valid_requests(&standin);
}

#[test]
fn the_stand_in_sees_overlap_when_two_clients_write_at_once() {
    // The check above can fail: two clients (two queues) do overlap.
    let standin = StandIn::start();
    standin.hold_mutations(Duration::from_millis(200));
    let number = standin.seed_issue(&SeedIssue {
        title: "Busy",
        ..SeedIssue::default()
    });
    let sources = [Arc::new(issues(&standin)), Arc::new(issues(&standin))];
    notes_from_threads(&sources, number, 3);
    assert!(standin.overlapping_mutations() > 0);
    assert_valid_requests(&standin);
}

#[test]
fn mutations_are_the_interval_apart() {
    let standin = StandIn::start();
    let number = standin.seed_issue(&SeedIssue {
        title: "Paced",
        ..SeedIssue::default()
    });
    let mut config = config(&standin);
    config.mutation_interval = Duration::from_millis(300);
    let source = issues_with(&standin, config);
    for index in 0..3 {
        source
            .append_note(number, &format!("note {index}"))
            .expect("note");
    }
    let posts: Vec<_> = standin
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST")
        .collect();
    assert_eq!(posts.len(), 3);
    for pair in posts.windows(2) {
        assert!(pair[1].received - pair[0].received >= Duration::from_millis(300));
    }
    assert_valid_requests(&standin);
}
