//! `ralph marketplace loop --review` (SPEC §11): a person at a terminal
//! approves the top proposal, chooses another, sends feedback for a new
//! round, or quits; driven through the real binary on a pseudo-terminal,
//! with the scripted bidders of `common::scripted`.

mod common;

use std::process::Command;

use common::scripted::{add_two, add_two_badly, plan_only, three_proposals};
use common::terminal::Terminal;
use common::{Repository, git, text};
use serde_json::{Value, json};

/// What the loop asks once per ranking.
const PROMPT: &str = "approve [Enter] / choose <label> / feedback / quit > ";

/// `ralph marketplace loop 1 --review ARGS` on a terminal.
fn review(repository: &Repository, args: &[&str], capture_stdout: bool) -> Terminal {
    let mut command = Command::new(common::RALPH);
    command
        .arg("--repo")
        .arg(repository.path())
        .args(["marketplace", "loop", "1", "--review"])
        .args(args);
    Terminal::start(command, capture_stdout)
}

/// The label the ranking table shows for the proposal whose summary
/// starts with `summary`.
fn label_of(screen: &str, summary: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|line| {
            let line = line.trim_end();
            line.ends_with(&format!("  {summary}"))
                || line.ends_with(&format!("  {summary} (cannot be implemented)"))
        })
        .and_then(|line| line.split_whitespace().next())
        .unwrap_or_else(|| panic!("no row for {summary:?} in:\n{screen}"))
        .to_owned()
}

/// Every event as `bot:outcome:rank:delta`, sorted.
fn recorded(repository: &Repository) -> Vec<String> {
    let mut events: Vec<String> = repository
        .events()
        .iter()
        .map(|event| {
            format!(
                "{}:{}:{}:{}",
                event["bot_id"].as_str().unwrap_or(""),
                event["outcome"].as_str().unwrap_or(""),
                event["rank"],
                event["weight_delta"]
            )
        })
        .collect();
    events.sort();
    events
}

fn json_steps(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

fn steps_named<'a>(steps: &'a [Value], name: &str) -> Vec<&'a Value> {
    steps.iter().filter(|step| step["step"] == name).collect()
}

fn the_three_proposals() -> Repository {
    three_proposals(
        json!([add_two()]),
        json!([plan_only()]),
        json!([add_two_badly()]),
    )
}

#[test]
fn approving_writes_the_same_events_as_an_autonomous_run() {
    let autonomous = the_three_proposals();
    let (output, _) = autonomous.loop_steps();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    let reviewed = the_three_proposals();
    let mut terminal = review(&reviewed, &["--json"], true);
    let screen = terminal.wait_for(PROMPT, 1);
    for shown in [
        "label  total   spec  tech innov  risk effic  summary",
        "add two\r\n",
        "plan only, no patch (cannot be implemented)",
        "add two, badly",
        "No specialist reviewed proposal",
    ] {
        assert!(screen.contains(shown), "{shown:?} in:\n{screen}");
    }
    assert!(
        !screen.contains("bidder_"),
        "the review is blind:\n{screen}"
    );
    terminal.type_in("\n");
    let (status, screen, stdout) = terminal.finish();
    assert_eq!(status.code(), Some(0), "{screen}");
    assert_eq!(recorded(&reviewed), recorded(&autonomous));
    let steps = json_steps(&stdout);
    let decided = steps_named(&steps, "review_decided");
    assert_eq!(decided.len(), 1, "{stdout}");
    assert_eq!(decided[0]["decision"], "approve");
}

/// A log of `count` implementations outside any round, so that `analyze`
/// (which needs 20) runs and counts only the loop's rounds.
fn write_implementations(repository: &Repository, count: usize) {
    for index in 0..count {
        let outcome = if index.is_multiple_of(2) {
            "success"
        } else {
            "failure"
        };
        let timestamp = format!("2026-11-01T10:00:{index:02}.000000Z");
        let event = json!({
            "timestamp": timestamp, "issue_number": 100 + index, "bot_id": "bidder_1",
            "outcome": outcome, "weight_delta": 0.0, "proposal_score": 0.5,
            "proposal_dimensions": {"spec_alignment": 0.5, "technical_quality": 0.5,
                "innovation": 0.5, "risk": 0.5, "efficiency": 0.5}
        });
        let name = format!(
            "{}-bidder_1-{outcome}.json",
            timestamp.replace([':', '.'], "-")
        );
        repository.write_event(&name, &event.to_string());
    }
    git(repository.path(), &["add", "--all"]);
    git(repository.path(), &["commit", "--quiet", "-m", "a log"]);
}

fn override_rate(repository: &Repository) -> Value {
    let output = repository.ralph(&["marketplace", "analyze", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let analysis: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    analysis["override_rate"].clone()
}

#[test]
fn choosing_another_proposal_implements_it_and_records_an_override_for_the_top_one() {
    let repository = the_three_proposals();
    write_implementations(&repository, 20);
    let mut terminal = review(&repository, &["--json"], true);
    let screen = terminal.wait_for(PROMPT, 1);
    let badly = label_of(&screen, "add two, badly");
    let plan = label_of(&screen, "plan only, no patch");
    let top = label_of(&screen, "add two");
    // Refused and asked again: a label the round has not, and a plan the
    // `patch` implementer cannot carry out.
    terminal.type_in("choose Z\n");
    terminal.wait_for("there is no proposal Z in this round", 1);
    terminal.type_in(&format!("choose {plan}\n"));
    terminal.wait_for(
        "carries no change the configured implementer can carry out",
        1,
    );
    terminal.wait_for(PROMPT, 3);
    terminal.type_in(&format!("choose {badly}\n"));
    let (status, screen, stdout) = terminal.finish();
    assert_eq!(status.code(), Some(0), "{screen}\n{stdout}");

    let events: Vec<Value> = repository
        .events()
        .into_iter()
        .filter(|event| event["round"] == 1)
        .collect();
    let of = |bot: &str| -> &Value {
        events
            .iter()
            .find(|event| event["bot_id"] == bot)
            .unwrap_or_else(|| panic!("no event of {bot}: {events:?}"))
    };
    let chosen = of("bidder_3");
    assert_eq!(chosen["outcome"], "success", "{chosen}");
    assert_eq!(chosen["proposal_id"].as_str(), Some(badly.as_str()));
    assert_eq!(chosen["rank"], 2, "the chosen one keeps its rank: {chosen}");
    let overridden = of("bidder_1");
    assert_eq!(overridden["outcome"], "override", "{overridden}");
    assert_eq!(overridden["weight_delta"], 0.0);
    assert_eq!(overridden["rank"], 1);
    assert_eq!(overridden["proposal_id"].as_str(), Some(top.as_str()));
    assert_eq!(overridden["chosen"].as_str(), Some(badly.as_str()));
    assert!(
        overridden["proposal_dimensions"].is_object(),
        "{overridden}"
    );
    assert_eq!(of("bidder_2")["outcome"], "not_tried");
    // The round's rank 1 is written first, as `analyze` reads a round.
    assert!(
        overridden["timestamp"].as_str() < chosen["timestamp"].as_str(),
        "{overridden}\n{chosen}"
    );
    assert_eq!(events.len(), 3, "{events:?}");
    // The chosen bidder is charged as a winner is.
    let steps = json_steps(&stdout);
    let finished = steps_named(&steps, "finished");
    assert_eq!(finished[0]["budget_used"], 1, "{stdout}");
    let decided = steps_named(&steps, "review_decided");
    assert_eq!(decided[0]["decision"], "choose");
    assert_eq!(decided[0]["chosen"].as_str(), Some(badly.as_str()));
    // One ranked round, overridden.
    assert_eq!(override_rate(&repository), json!(1.0));
}

#[test]
fn approving_counts_no_override() {
    let repository = the_three_proposals();
    write_implementations(&repository, 20);
    let mut terminal = review(&repository, &["--json"], true);
    terminal.wait_for(PROMPT, 1);
    terminal.type_in("approve\n");
    let (status, screen, _) = terminal.finish();
    assert_eq!(status.code(), Some(0), "{screen}");
    assert_eq!(override_rate(&repository), json!(0.0));
}

#[test]
fn feedback_starts_a_new_round_that_carries_it_and_charges_no_one() {
    let mut second = add_two();
    second["summary"] = json!("add two again");
    second["echo_steering"] = json!(true);
    let mut plan = plan_only();
    plan["echo_steering"] = json!(true);
    let repository = three_proposals(
        json!([add_two(), second]),
        json!([plan_only(), plan]),
        json!([add_two_badly()]),
    );
    let weights_before = repository.status_json();
    let mut terminal = review(&repository, &["--json"], true);
    terminal.wait_for(PROMPT, 1);
    terminal.type_in("feedback\nKeep it small: one function.\nAnd test it.\n\n");
    let screen = terminal.wait_for(PROMPT, 2);
    assert!(screen.contains("add two again [steering: "), "{screen}");
    terminal.type_in("\n");
    let (status, screen, stdout) = terminal.finish();
    assert_eq!(status.code(), Some(0), "{screen}\n{stdout}");

    let events = repository.events();
    let first: Vec<&Value> = events.iter().filter(|event| event["round"] == 1).collect();
    assert_eq!(first.len(), 3, "{first:?}");
    for event in &first {
        assert_eq!(event["outcome"], "ranked", "{event}");
        assert_eq!(event["weight_delta"], 0.0, "{event}");
    }
    // Nothing of the first round moved a weight.
    let folded_first = {
        let scratch = Repository::set_up();
        for (index, event) in first.iter().enumerate() {
            scratch.write_event(
                &format!("2026-12-01T00-00-0{index}-000000Z-x.json"),
                &event.to_string(),
            );
        }
        scratch.status_json()
    };
    for bot in ["bidder_1", "bidder_2", "bidder_3"] {
        assert_eq!(
            folded_first["bots"][bot]["weight"], weights_before["bots"][bot]["weight"],
            "{bot}"
        );
    }
    let steps = json_steps(&stdout);
    let rounds = steps_named(&steps, "round_started");
    assert_eq!(rounds.len(), 2, "{stdout}");
    assert_eq!(
        rounds[0]["budget_left"], rounds[1]["budget_left"],
        "the first round spent nothing"
    );
    assert_eq!(steps_named(&steps, "finished")[0]["budget_used"], 1);
    // The second round's bidders got the person's text.
    let summaries: Vec<&str> = steps_named(&steps, "proposal_received")
        .iter()
        .filter_map(|step| step["summary"].as_str())
        .collect();
    for echoed in ["add two again", "plan only, no patch"] {
        let summary = summaries
            .iter()
            .find(|summary| summary.starts_with(&format!("{echoed} [steering:")))
            .unwrap_or_else(|| panic!("{echoed}: {summaries:?}"));
        assert!(
            summary.contains("Keep it small: one function. / And test it."),
            "{summary}"
        );
    }
    let second: Vec<&Value> = events.iter().filter(|event| event["round"] == 2).collect();
    assert!(
        second.iter().any(|event| event["outcome"] == "success"),
        "{second:?}"
    );
}

#[test]
fn quitting_at_the_review_implements_nothing_and_control_sequences_are_not_shown() {
    let mut hostile = add_two();
    hostile["summary"] = json!("add two\u{1b}[2J\u{1b}]0;owned\u{7} cleanly");
    let repository = three_proposals(
        json!([hostile]),
        json!([plan_only()]),
        json!([add_two_badly()]),
    );
    // No --json: standard output is the terminal, with the live view.
    let mut terminal = review(&repository, &[], false);
    let screen = terminal.wait_for(PROMPT, 1);
    assert!(screen.contains("add two cleanly"), "{screen}");
    terminal.type_in("quit\n");
    let (status, screen, _) = terminal.finish();
    assert_eq!(status.code(), Some(130), "{screen}");
    assert!(!screen.contains("\u{1b}[2J"), "{screen:?}");
    assert!(!screen.contains("\u{1b}]0;"), "{screen:?}");
    let outcomes: Vec<String> = recorded(&repository);
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|event| event.contains(":ranked:")),
        "{outcomes:?}"
    );
    let library = git(
        repository.path(),
        &["show", "ralph/1-add-numbers:src/lib.rs"],
    );
    assert!(!library.contains("two"), "{library}");
}

#[test]
fn review_without_a_terminal_is_a_usage_error_that_writes_nothing() {
    let repository = the_three_proposals();
    let before = repository.snapshot();
    let output = repository.ralph(&["marketplace", "loop", "1", "--review"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--review asks you about each ranking on a terminal")
            && stderr.contains("standard input and standard error are not a terminal"),
        "{stderr}"
    );
    assert_eq!(repository.snapshot(), before);
    assert!(!repository.path().join(".ralph/worktrees").exists());
    assert!(!repository.path().join(".ralph-sessions").exists());
}

#[test]
fn the_specialists_findings_are_shown_and_a_chosen_proposal_is_reviewed_too() {
    let repository = the_three_proposals();
    let file = repository.path().join(".ralph/config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("config")).expect("JSON");
    config["specialists"] = json!([{"plugin": "bundled:change-risk", "grants": ["repository"]}]);
    std::fs::write(&file, config.to_string()).expect("config");
    git(
        repository.path(),
        &["commit", "--quiet", "--all", "-m", "a specialist"],
    );
    let mut terminal = review(&repository, &["--json"], true);
    let screen = terminal.wait_for(PROMPT, 1);
    let top = label_of(&screen, "add two");
    let badly = label_of(&screen, "add two, badly");
    assert!(
        screen.contains(&format!(
            "The specialists' review of proposal {top} (advisory):\r\n  change-risk: "
        )),
        "{screen}"
    );
    terminal.type_in(&format!("{badly}\n"));
    let (status, screen, stdout) = terminal.finish();
    assert_eq!(status.code(), Some(0), "{screen}\n{stdout}");
    let steps = json_steps(&stdout);
    let reviewed: Vec<&str> = steps_named(&steps, "reviewed")
        .iter()
        .filter_map(|step| step["label"].as_str())
        .collect();
    assert_eq!(reviewed, [top.as_str(), badly.as_str()], "{stdout}");
    let names: Vec<&str> = steps
        .iter()
        .filter_map(|step| step["step"].as_str())
        .collect();
    let decided = names.iter().position(|name| *name == "review_decided");
    let implementing = names.iter().position(|name| *name == "implementing");
    assert!(decided < implementing, "{names:?}");
}
