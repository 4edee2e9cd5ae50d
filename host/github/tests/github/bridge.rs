//! The synchronous source works from a plain thread, a current-thread
//! runtime and a multi-thread runtime, and may be dropped in any of them.

use ralph_github_standin::{SeedIssue, StandIn};
use ralph_issues::IssueSource;

use crate::support::{assert_valid_requests, issues};

fn seed(standin: &StandIn) -> u64 {
    standin.seed_issue(&SeedIssue {
        title: "Bridged",
        ..SeedIssue::default()
    })
}

fn use_the_source(standin: &StandIn, number: u64) {
    let source = issues(standin);
    assert_eq!(source.get(number).expect("get").title, "Bridged");
    source.append_note(number, "from here").expect("note");
    assert_eq!(source.list_open().expect("list").len(), 1);
    drop(source);
}

#[test]
fn it_works_from_a_plain_thread() {
    let standin = StandIn::start();
    let number = seed(&standin);
    std::thread::scope(|scope| {
        scope.spawn(|| use_the_source(&standin, number));
    });
    assert_valid_requests(&standin);
}

#[tokio::test(flavor = "current_thread")]
async fn it_works_inside_a_current_thread_runtime() {
    let standin = StandIn::start();
    let number = seed(&standin);
    use_the_source(&standin, number);
    // The runtime still runs tasks afterwards.
    let answer = tokio::spawn(async { 42 }).await.expect("a task");
    assert_eq!(answer, 42);
    assert_valid_requests(&standin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_works_inside_a_multi_thread_runtime() {
    let standin = StandIn::start();
    let number = seed(&standin);
    use_the_source(&standin, number);
    let standin = std::sync::Arc::new(standin);
    let inside = std::sync::Arc::clone(&standin);
    tokio::task::spawn_blocking(move || use_the_source(&inside, number))
        .await
        .expect("from spawn_blocking");
    assert_valid_requests(&standin);
}

#[test]
fn the_stand_in_stops_while_a_client_still_holds_its_connections() {
    let standin = StandIn::start();
    let number = seed(&standin);
    let source = issues(&standin);
    source.get(number).expect("get");
    assert_valid_requests(&standin);
    let started = std::time::Instant::now();
    drop(standin);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "stopping waited for the idle connection"
    );
    let error = source.get(number).expect_err("the stand-in is gone");
    assert!(error.is_resumable(), "{error}");
}
