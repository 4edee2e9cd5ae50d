//! Processes appending at the same time never lose, overwrite or duplicate
//! an event.

mod common;

use std::collections::BTreeSet;

use common::{Repository, text};
use ralph_marketplace::Event;

const PROCESSES: usize = 8;
const EVENTS_EACH: usize = 60;

#[test]
fn eight_processes_appending_60_events_each_leave_480_distinct_valid_events() {
    let repository = Repository::set_up();
    // Every process appends the same timestamps for the same bidder, so
    // names clash constantly and must move to the next free microsecond.
    // Each process's events are its own (their issue numbers differ): an
    // identical event would rightly be recorded once.
    let inputs: Vec<Vec<_>> = (0..PROCESSES)
        .map(|process| {
            (0..EVENTS_EACH)
                .map(|index| {
                    let path = repository
                        .path()
                        .join(format!("input-{process}-{index}.json"));
                    let json = format!(
                        r#"{{"timestamp": "2026-01-29T10:15:00.{:06}Z", "issue_number": {process}, "bot_id": "bidder_1", "outcome": "not_tried", "weight_delta": -0.02}}"#,
                        index * 3
                    );
                    std::fs::write(&path, json).expect("input");
                    path
                })
                .collect()
        })
        .collect();

    std::thread::scope(|scope| {
        for inputs in &inputs {
            let repository = &repository;
            scope.spawn(move || {
                for input in inputs {
                    let output = repository.ralph(&[
                        "marketplace",
                        "record",
                        "--file",
                        input.to_str().expect("utf-8"),
                    ]);
                    assert!(output.status.success(), "{}", text(&output.stderr));
                }
            });
        }
    });

    let mut names = BTreeSet::new();
    let mut timestamps = BTreeSet::new();
    for entry in std::fs::read_dir(repository.events_dir()).expect("events") {
        let entry = entry.expect("entry");
        let event = Event::parse(&std::fs::read(entry.path()).expect("read"))
            .unwrap_or_else(|error| panic!("{}: {error}", entry.path().display()));
        assert_eq!(
            entry.file_name().into_string().expect("utf-8"),
            event.file_name()
        );
        timestamps.insert(event.timestamp);
        names.insert(entry.file_name());
    }
    assert_eq!(names.len(), PROCESSES * EVENTS_EACH);
    assert_eq!(
        timestamps.len(),
        PROCESSES * EVENTS_EACH,
        "every event has its own time"
    );
    assert_eq!(
        repository.status_json()["event_count"],
        PROCESSES * EVENTS_EACH
    );
}

#[test]
fn processes_recording_one_event_at_the_same_time_record_it_once() {
    let repository = Repository::set_up();
    let input = repository.path().join("input.json");
    std::fs::write(
        &input,
        r#"{"timestamp": "2026-01-29T10:15:00Z", "issue_number": 5, "bot_id": "bidder_1", "outcome": "success", "weight_delta": 0.1}"#,
    )
    .expect("input");
    std::thread::scope(|scope| {
        for _ in 0..PROCESSES {
            scope.spawn(|| {
                let output = repository.ralph(&[
                    "marketplace",
                    "record",
                    "--file",
                    input.to_str().expect("utf-8"),
                ]);
                assert!(output.status.success(), "{}", text(&output.stderr));
            });
        }
    });
    assert_eq!(
        std::fs::read_dir(repository.events_dir())
            .expect("events")
            .count(),
        1,
        "a retried or concurrent record never duplicates an event"
    );
}
