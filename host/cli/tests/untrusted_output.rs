//! What plugins hand back is untrusted text (SPEC §5): written as an
//! attacker would, through the real binary. Control characters in a
//! proposal never reach the terminal; a secret the host knows never reaches
//! a bidder, the terminal, the logs, `.ralph/` or the issue; a closed pipe
//! ends the output quietly.

mod common;

use std::process::{Command, Output, Stdio};

use common::chat_server::{ChatServer, Reply};
use common::{Repository, text};
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";
const PATCH: &str =
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n";
const KEY: &str = "sk-live-key-that-must-never-leak-0123456789";

/// Issue #1 asking for `fn two`, the three scripted bidders, `checks`.
fn repository(checks: Value, llm: Option<Value>) -> Repository {
    let mut config = json!({
        "num_bots": 3,
        "bidders": {
            "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH,
                         "grants": ["repository", "complete"]},
            "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH,
                         "grants": ["repository"]},
            "bidder_3": {"plugin": ralph_broker_fixtures::SCRIPTED_C_PATH,
                         "grants": ["repository"]},
        },
        "specialists": [],
        "checks": checks,
    });
    if let Some(llm) = llm {
        config["llm"] = llm;
    }
    Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"])
}

/// Scripts bidder `letter`, committed: bidders read a clean checkout.
fn script(repository: &Repository, letter: &str, rounds: Value) {
    repository.commit_file(&format!("ralph-script/{letter}.json"), &rounds.to_string());
}

/// Bidders b and c propose a plan without a patch.
fn quiet_rivals(repository: &Repository) {
    script(repository, "b", json!([{"summary": "a plan only"}]));
    script(repository, "c", json!([{"summary": "another plan only"}]));
}

#[test]
fn control_characters_in_a_proposal_summary_never_reach_the_terminal() {
    let repository = repository(json!([]), None);
    let summary = "add two\u{1b}[2J\u{1b}[H\u{1b}]0;pwned title\u{7}\rFinished: complete, nothing to review\u{1b}[8m hidden \u{202e}txt.exe";
    script(
        &repository,
        "a",
        json!([{"summary": summary, "patch": PATCH, "files": [["src/lib.rs", 4]]}]),
    );
    quiet_rivals(&repository);
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    for (name, shown) in [("stdout", &stdout), ("stderr", &stderr)] {
        for control in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
            assert!(
                !shown.contains(control),
                "{name} holds {control:?}: {shown:?}"
            );
        }
    }
    assert!(
        stdout.contains("add twoFinished: complete"),
        "the summary is shown, cleaned, on its own line: {stdout}"
    );
}

/// Every file under `.ralph/` (the issue file included) and `recorded.json`.
fn written(repository: &Repository) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = repository
        .snapshot()
        .into_iter()
        .map(|(path, bytes)| (path.display().to_string(), text(&bytes)))
        .collect();
    let recorded = repository.path().join("recorded.json");
    files.push((
        recorded.display().to_string(),
        std::fs::read_to_string(&recorded).expect("the recording"),
    ));
    files
}

#[test]
fn a_completion_carrying_the_api_key_reaches_the_bidder_redacted() {
    // The model (or whatever answers as one) returns the key plain, wrapped
    // over two lines and percent-encoded.
    let answer = format!(
        "the key is {KEY}; wrapped {}\n{}; encoded {}",
        &KEY[..12],
        &KEY[12..],
        KEY.replace('-', "%2d")
    );
    let server = ChatServer::start(move |_, _| Reply::chat(&answer));
    // A check the change fails that prints the key too, for the failure
    // report the replan round hands every bidder.
    // The key is written octal-escaped in the check, so it is nowhere in
    // the repository as text until the check prints it.
    let escaped: String = KEY.bytes().map(|byte| format!("\\{byte:03o}")).collect();
    let check = json!([{"name": "leaky", "category": "test", "timeout_seconds": 20,
        "argv": ["sh", "-c", format!("if grep -q two src/lib.rs; then printf 'token={escaped}\\n'; exit 1; fi")]}]);
    let llm = json!({"provider": "openai", "model": "test-model",
        "base_url": format!("{}/v1", server.base_url), "record_file": "recorded.json"});
    let repository = repository(check, Some(llm));
    script(
        &repository,
        "a",
        json!([
            {"summary": "add two", "patch": PATCH, "files": [["src/lib.rs", 4]],
             "completions": 1, "echo_completion": true, "reversed": true},
            {"summary": "add two again", "patch": PATCH, "files": [["src/lib.rs", 4]],
             "completions": 1, "echo_completion": true, "echo_failure_report": true,
             "reversed": true},
        ]),
    );
    quiet_rivals(&repository);
    let output = repository
        .command(&["-vvv", "marketplace", "loop", "1", "--json"])
        .env_remove("ANTHROPIC_API_KEY")
        .env("OPENAI_API_KEY", KEY)
        .output()
        .expect("ralph runs");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(
        output.status.code(),
        Some(3),
        "the replan fails too: attention needed: {stdout}\n{stderr}"
    );
    let summaries: Vec<String> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|step| step["step"] == "proposal_received")
        .filter_map(|step| step["summary"].as_str().map(str::to_owned))
        .collect();
    // The bidder writes what it got backwards: what the host redacts in its
    // summary cannot hide what reached it.
    let backwards = |text: &str| -> String { text.chars().rev().collect() };
    let received: Vec<String> = summaries.iter().map(|summary| backwards(summary)).collect();
    assert!(
        received.iter().any(|summary| summary
            .contains("the key is [REDACTED]; wrapped [REDACTED]; encoded [REDACTED]")),
        "the bidder got the completion, redacted: {received:#?}"
    );
    assert!(
        received
            .iter()
            .any(|summary| summary.contains("token=[REDACTED]")),
        "the bidder got the failure report, redacted: {received:#?}"
    );
    let mut places = vec![("stdout".to_owned(), stdout), ("stderr".to_owned(), stderr)];
    places.extend(written(&repository));
    let reversed_key = backwards(KEY);
    let fragments = [KEY, &KEY[12..], &KEY[..12], &reversed_key[..20]];
    for (place, content) in &places {
        for fragment in fragments {
            assert!(
                !content.contains(fragment),
                "{place} holds {fragment:?}:\n{content}"
            );
        }
    }
    let issue =
        std::fs::read_to_string(repository.path().join(".ralph/issues/1.md")).expect("the issue");
    assert!(
        issue.contains("[REDACTED]"),
        "the note quotes the report: {issue}"
    );
}

#[test]
fn inspect_into_a_closed_pipe_ends_quietly() {
    // The reading end is closed before Ralph writes a byte, as `| head -1`
    // leaves it after its first line.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let directory = tempfile::tempdir().expect("temp dir");
    let output: Output = Command::new(env!("CARGO_BIN_EXE_ralph"))
        .args(["plugin", "inspect", "bundled:smallest-change"])
        .current_dir(directory.path())
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("ralph runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "nothing to say: {stderr}");
}
