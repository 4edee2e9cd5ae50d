//! Killing an appending process at any moment never leaves a partial event.

mod common;

use std::time::{Duration, Instant};

use common::{Repository, text};
use ralph_marketplace::Event;

/// Enough kills that some land in every phase of an append.
const KILLS_WANTED: usize = 100;

#[test]
fn sigkill_at_random_moments_never_leaves_a_partial_event() {
    let repository = Repository::set_up();
    // Events of very different sizes, so writes take from microseconds to
    // milliseconds and kills land before, during and after them.
    let mut inputs = Vec::new();
    for (index, padding) in [0usize, 4_096, 262_144, 2_097_152].iter().enumerate() {
        let path = repository.path().join(format!("input-{index}.json"));
        let json = format!(
            r#"{{"timestamp": "2026-01-29T10:15:00Z", "issue_number": 1, "bot_id": "bidder_{}", "outcome": "failure", "weight_delta": -0.15, "padding": "{}"}}"#,
            index % 3 + 1,
            "x".repeat(*padding)
        );
        std::fs::write(&path, json).expect("input");
        inputs.push(path);
    }

    let mut random = 0x9e37_79b9_7f4a_7c15u64;
    let mut kills = 0;
    let mut attempts = 0;
    while kills < KILLS_WANTED && attempts < 5_000 {
        attempts += 1;
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let input = &inputs[(random % inputs.len() as u64) as usize];
        let mut child = repository
            .command(&[
                "marketplace",
                "record",
                "--file",
                input.to_str().expect("utf-8"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let delay = Duration::from_micros((random >> 20) % 8_000);
        let started = Instant::now();
        while started.elapsed() < delay {
            std::hint::spin_loop();
        }
        if child.try_wait().expect("poll").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reap");
    }
    assert!(
        kills >= KILLS_WANTED,
        "only {kills} kills landed in {attempts} attempts"
    );

    let mut files = 0;
    for entry in std::fs::read_dir(repository.events_dir()).expect("events") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        if let Err(error) = Event::parse(&bytes) {
            panic!("{} does not parse: {error}", path.display());
        }
        files += 1;
    }
    let output = repository.ralph(&["marketplace", "status", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let state: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(state["event_count"], files);
    assert_eq!(state["excluded_events"], serde_json::json!([]));
}
