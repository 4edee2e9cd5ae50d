//! Live signals in the marketplace loop (SPEC §9), through the real binary:
//! a STEER sent while the implementer works reaches the next round's
//! bidders (in their round context, `ralph:plugin@0.2.0`) and the next
//! implementer prompt, INFO the implementer's alone; a feedback folder a
//! person adds reaches the next round. The simple loop's signals are
//! tested in `simple.rs`.

mod common;

use std::path::Path;

use common::{Repository, text};
use serde_json::{Value, json};

const TWO: &str = "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n";
const THREE: &str = "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n\npub fn three() -> u32 {\n    3\n}\n";

/// A `command` implementer that keeps each prompt, says it started, waits
/// for `go-<n>`, then writes `TWO` on its first call and `THREE` after.
fn implementer(state: &Path) -> Vec<String> {
    let script = state.join("implement.sh");
    let state = state.display();
    std::fs::write(
        &script,
        format!(
            "set -e\nn=$(cat {state}/calls 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > {state}/calls\n\
             cp \"$1\" {state}/prompt-$n.md\ntouch {state}/started-$n\n\
             while [ ! -e {state}/go-$n ]; do sleep 0.05; done\n\
             if [ $n -eq 1 ]; then printf '%s' '{TWO}' > src/lib.rs; else printf '%s' '{THREE}' > src/lib.rs; fi\n"
        ),
    )
    .expect("script");
    vec![
        "sh".to_owned(),
        script.display().to_string(),
        "{prompt_file}".to_owned(),
    ]
}

/// One 0.2.0 bidder (it echoes its round's steering in its summary), the
/// `implementer` above, and `check`.
fn config(state: &Path, check: Value) -> Value {
    json!({
        "num_bots": 1,
        "weight_constraints": {"min": 0.1, "max": 1.0},
        "bidders": {"bidder_1": {"plugin": ralph_runtime_fixtures::BIDDER_0_2_0_PATH, "grants": ["repository"]}},
        "specialists": [],
        "checks": [check],
        "implementer": {"kind": "command", "argv": implementer(state), "timeout_seconds": 300},
        "sandbox": {"kind": "none"}
    })
}

/// Waits for `path` while `child` runs; a child that ends first fails the
/// test with what it printed.
fn wait_for(path: &Path, child: &mut std::process::Child) {
    let waited = std::time::Instant::now();
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut printed = String::new();
            for stream in [
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read>),
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn std::io::Read>),
            ]
            .into_iter()
            .flatten()
            {
                let mut stream = stream;
                let _ = std::io::Read::read_to_string(&mut stream, &mut printed);
            }
            panic!(
                "the loop ended ({status}) before {}: {printed}",
                path.display()
            );
        }
        assert!(
            waited.elapsed().as_secs() < 120,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_steer_reaches_the_next_rounds_bidders_and_implementer() {
    let state = tempfile::tempdir().expect("temp dir");
    // Passes before any change and after `three`; fails on `two` alone, so
    // round 1 fails and round 2 replans.
    let check = json!({
        "name": "tests",
        "argv": ["sh", "-c", "if grep -q two src/lib.rs && ! grep -q three src/lib.rs; then echo 'FAILED: three is missing'; exit 1; fi"],
        "category": "test",
        "timeout_seconds": 60
    });
    let config = config(state.path(), check);
    let repository = Repository::for_loop(
        &[("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n")],
        &config,
        &["Add `two`", "Add `three`"],
    );
    let mut child = repository
        .command(&["marketplace", "loop", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for(&state.path().join("started-1"), &mut child);
    let sent = repository.ralph(&["signal", "steer", "--issue", "1", "keep it small"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let sent = repository.ralph(&["signal", "info", "--issue", "1", "CI has 2 cores"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    for go in ["go-1", "go-2"] {
        std::fs::write(state.path().join(go), "").expect("go");
    }
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let steps: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    // The bidder echoes its round context's steering in its summary.
    let summaries: Vec<&str> = steps
        .iter()
        .filter(|step| step["step"] == "proposal_received")
        .map(|step| step["summary"].as_str().expect("a summary"))
        .collect();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert!(summaries[0].contains("steering: []"), "{}", summaries[0]);
    assert!(
        summaries[1].contains("steering: [keep it small]"),
        "{}",
        summaries[1]
    );
    let prompt = |n: usize| {
        std::fs::read_to_string(state.path().join(format!("prompt-{n}.md"))).expect("prompt")
    };
    assert!(!prompt(1).contains("keep it small"));
    assert!(
        prompt(2).contains("<<<steer\nkeep it small\n>>>steer"),
        "{}",
        prompt(2)
    );
    // INFO reaches the implementer, not the bidders: the plan stays.
    assert!(prompt(2).contains("CI has 2 cores"), "{}", prompt(2));
    assert!(!summaries[1].contains("CI has 2 cores"), "{}", summaries[1]);
    let shown: Vec<&Value> = steps
        .iter()
        .filter(|step| step["step"] == "signal")
        .collect();
    assert_eq!(shown.len(), 2, "each acted on once: {shown:?}");
    // The marketplace's session: its state and what was steered.
    let sessions: Vec<_> = std::fs::read_dir(repository.path().join(".ralph-sessions"))
        .expect("sessions")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let metadata =
        std::fs::read_to_string(sessions[0].join("metadata.yaml")).expect("metadata.yaml");
    assert!(metadata.contains("loop: marketplace"), "{metadata}");
    assert!(metadata.contains("state: COMPLETE"), "{metadata}");
    assert!(metadata.contains("- keep it small"), "{metadata}");
    // Its rounds are the session's iterations (SPEC §8).
    let read = |file: &str| {
        std::fs::read_to_string(sessions[0].join(file))
            .unwrap_or_else(|error| panic!("{file}: {error}"))
    };
    let progress = read("progress.md");
    assert!(
        progress.contains("- [F] task-2 (Attempt 1, Iteration 1, failed: "),
        "{progress}"
    );
    assert!(
        progress.contains("- [x] task-2 (Attempt 2, Iteration 2, qualified: "),
        "{progress}"
    );
    assert!(read("iterations/1/metadata.yaml").contains("outcome: failed"));
    let second = read("iterations/2/metadata.yaml");
    assert!(
        second.contains("outcome: succeeded") && second.contains("planning_completed_at:"),
        "{second}"
    );
    assert!(read("plan.iteration-2.md").contains("steering: [keep it small]"));
    assert!(!read("plan.iteration-1.md").contains("keep it small"));
    assert!(read("tasks/task-1.md").contains("type: Sequential"));
    // The failed round left its feedback for the next iteration, which
    // replanned on it; every iteration has its review, every task tried a
    // report of the implementer's answer.
    let feedbacks: Vec<_> = std::fs::read_dir(sessions[0].join("iterations/2/feedbacks"))
        .expect("iteration 2's feedback")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(feedbacks.len(), 1, "{feedbacks:?}");
    let feedback = std::fs::read_to_string(feedbacks[0].join("feedbacks.md")).expect("feedbacks");
    assert!(
        feedback.contains("source: ralph") && feedback.contains("Iteration 1 failed"),
        "{feedback}"
    );
    let output = std::fs::read_to_string(feedbacks[0].join("tests.log")).expect("tests.log");
    assert!(output.contains("FAILED: three is missing"), "{output}");
    assert!(
        read("iterations/2/replanning/delta.md").contains("task-2: failed → open again"),
        "{}",
        read("iterations/2/replanning/delta.md")
    );
    assert!(read("iterations/2/replanning/rationale.md").contains("FAILED: three is missing"));
    assert!(read("plan.md").contains("## Replanning for iteration 2"));
    assert!(read("iterations/1/review.md").contains("Outcome: failed"));
    assert!(read("iterations/2/review.md").contains("Outcome: succeeded"));
    assert!(read("reports/task-2-report.md").contains("<<<answer"));
    assert!(read("reports/task-2-report-r2.md").contains("iteration 2"));
}

#[test]
fn a_feedback_folder_a_person_adds_reaches_the_next_rounds_bidders_and_implementer() {
    let state = tempfile::tempdir().expect("temp dir");
    let check =
        json!({"name": "true", "argv": ["true"], "category": "test", "timeout_seconds": 60});
    let config = config(state.path(), check);
    let repository = Repository::for_loop(
        &[("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n")],
        &config,
        &["Add `two`"],
    );
    // A first run stopped while its implementer works leaves the session
    // unfinished.
    let mut child = repository
        .command(&["marketplace", "loop", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for(&state.path().join("started-1"), &mut child);
    let sent = repository.ralph(&["signal", "stop", "--issue", "1"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let sessions: Vec<_> = std::fs::read_dir(repository.path().join(".ralph-sessions"))
        .expect("sessions")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    // A person adds a feedback folder by hand.
    let folder = sessions[0].join("iterations/1/feedbacks/by-hand");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(
        folder.join("feedbacks.md"),
        "# Feedback\n\nName the constant TWO_VALUE.\n",
    )
    .expect("feedbacks.md");
    std::fs::write(state.path().join("go-2"), "").expect("go");
    let (output, steps) = repository.loop_steps();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = steps
        .iter()
        .find(|step| step["step"] == "proposal_received")
        .and_then(|step| step["summary"].as_str())
        .expect("a proposal");
    assert!(
        summary.contains("Feedback a person left in the session")
            && summary.contains("Name the constant TWO_VALUE."),
        "{summary}"
    );
    let prompt = std::fs::read_to_string(state.path().join("prompt-2.md")).expect("prompt");
    assert!(prompt.contains("Name the constant TWO_VALUE."), "{prompt}");
    assert!(
        steps.iter().any(|step| step["step"] == "replanned"),
        "the REPLANNING step is shown"
    );
    let read = |file: &str| {
        std::fs::read_to_string(sessions[0].join(file))
            .unwrap_or_else(|error| panic!("{file}: {error}"))
    };
    assert!(read("iterations/2/replanning/rationale.md").contains("TWO_VALUE"));
    assert!(read("metadata.yaml").contains("iterations/1/feedbacks/by-hand"));
}
