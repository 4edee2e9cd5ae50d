//! Honest metering (SPEC §2.2): every model call the provider answered is
//! in exactly one event, whatever the round does — bidders that fail, trap,
//! resubmit or consult, specialists that review (and fail), check plugins,
//! the implementer, failed and replanned rounds.

mod common;

use common::chat_server::{ChatServer, Reply};
use common::{Repository, text};
use proptest::prelude::*;
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";
/// A patch adding `fn two()`, which the issue asks for.
const GOOD: &str =
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n";
/// A patch whose context is not in the file.
const BROKEN: &str =
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -90,1 +90,1 @@\n-nothing here\n+still nothing\n";

/// One bidder's proposal in one round of the script.
#[derive(Clone, Debug)]
struct Turn {
    completions: u32,
    fail: bool,
    trap: bool,
    consult: bool,
    /// 0: the good patch, 1: a broken one, 2: none (a plan only).
    patch: u8,
}

fn turn() -> impl Strategy<Value = Turn> {
    (
        0u32..3,
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.1),
        any::<bool>(),
        0u8..3,
    )
        .prop_map(|(completions, fail, trap, consult, patch)| Turn {
            completions,
            fail,
            trap,
            consult,
            patch,
        })
}

impl Turn {
    fn script(&self) -> Value {
        let mut entry = json!({
            "summary": format!("plan {} {} {}", self.completions, self.patch, self.consult),
            "completions": self.completions,
            "fail": self.fail,
            "trap": self.trap,
        });
        match self.patch {
            0 => entry["patch"] = json!(GOOD),
            1 => entry["patch"] = json!(BROKEN),
            _ => {}
        }
        if self.consult {
            entry["consult"] = json!(["reviewer", "is this safe?"]);
        }
        entry
    }
}

#[derive(Clone, Debug)]
struct Round {
    bidders: Vec<Vec<Turn>>,
    reviewer: (u32, bool),
    check: (u32, bool),
    model_implementer: bool,
    command_check_passes: bool,
    /// Bit `n % 64` set: the server's n-th answer is garbage, else a diff.
    garbage: u64,
}

fn round() -> impl Strategy<Value = Round> {
    (
        prop::collection::vec(prop::collection::vec(turn(), 1..3), 3),
        (0u32..3, prop::bool::weighted(0.2)),
        (0u32..3, prop::bool::weighted(0.2)),
        any::<bool>(),
        prop::bool::weighted(0.7),
        any::<u64>(),
    )
        .prop_map(
            |(bidders, reviewer, check, model_implementer, command_check_passes, garbage)| Round {
                bidders,
                reviewer,
                check,
                model_implementer,
                command_check_passes,
                garbage,
            },
        )
}

fn repository(round: &Round, server: &ChatServer) -> Repository {
    let bidder =
        |path: &str| json!({"plugin": path, "grants": ["repository", "complete", "consult"]});
    let implementer = if round.model_implementer {
        json!({"kind": "model", "max_tokens": 200})
    } else {
        json!({"kind": "patch"})
    };
    let command = if round.command_check_passes {
        "exit 0"
    } else {
        "exit 1"
    };
    let config = json!({
        "num_bots": 3,
        "bidders": {
            "bidder_1": bidder(ralph_broker_fixtures::SCRIPTED_A_PATH),
            "bidder_2": bidder(ralph_broker_fixtures::SCRIPTED_B_PATH),
            "bidder_3": bidder(ralph_broker_fixtures::SCRIPTED_C_PATH),
        },
        "specialists": [{"id": "reviewer", "plugin": ralph_broker_fixtures::SCRIPTED_REVIEWER_PATH,
                         "grants": ["repository", "complete"]}],
        "checks": [
            {"name": "command", "argv": ["sh", "-c", command], "category": "test", "timeout_seconds": 20},
            {"name": "model-check", "plugin": ralph_broker_fixtures::SCRIPTED_CHECK_PATH,
             "grants": ["repository", "complete"]},
        ],
        "llm": {"provider": "openai", "model": "test-model",
                "base_url": format!("{}/v1", server.base_url)},
        "implementer": implementer,
    });
    let mut files: Vec<(String, String)> = vec![("src/lib.rs".into(), LIBRARY.into())];
    for (letter, turns) in ["a", "b", "c"].iter().zip(&round.bidders) {
        let script: Vec<Value> = turns.iter().map(Turn::script).collect();
        files.push((
            format!("ralph-script/{letter}.json"),
            Value::Array(script).to_string(),
        ));
    }
    for (name, (completions, fail)) in [("reviewer", round.reviewer), ("check", round.check)] {
        files.push((
            format!("ralph-script/{name}.json"),
            json!({"completions": completions, "fail": fail}).to_string(),
        ));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, content)| (path.as_str(), content.as_str()))
        .collect();
    Repository::for_loop(&files, &config, &["Add two"])
}

fn calls_recorded(repository: &Repository) -> u64 {
    let output = repository.ralph(&["marketplace", "usage", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("usage JSON");
    report["total"]["calls"].as_u64().expect("calls")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_calls_recorded_equal_the_calls_the_provider_answered(round in round()) {
        let garbage = round.garbage;
        let server = ChatServer::start(move |index, _| {
            if garbage & (1 << (index % 64)) != 0 {
                Reply::chat("I would rather not say.")
            } else {
                Reply::chat(&format!("Add two.\n\n```diff\n{GOOD}```\n"))
            }
        });
        let repository = repository(&round, &server);
        let output = repository
            .command(&["marketplace", "loop", "1", "--json"])
            .env("OPENAI_API_KEY", "sk-test-metering")
            .output()
            .expect("ralph runs");
        let code = output.status.code();
        prop_assert!(
            matches!(code, Some(0 | 3)),
            "the loop ends by itself: {code:?}\n{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        );
        // The model calls; the implementer's probe of the server's context
        // window (`GET /models`, `GET /props`) is not one.
        let answered = server.chats().len() as u64;
        prop_assert_eq!(
            calls_recorded(&repository),
            answered,
            "{}",
            text(&output.stdout)
        );
    }
}
