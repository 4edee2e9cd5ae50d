//! `ralph marketplace simulate` through the real binary: its JSON, its
//! seed, its errors, and that it writes nothing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{RALPH, Repository, text};

/// `ralph marketplace simulate ARGS` run inside `directory`.
fn simulate_in(directory: &Path, args: &[&str]) -> Output {
    Command::new(RALPH)
        .current_dir(directory)
        .args(["marketplace", "simulate"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ralph runs")
}

fn json_of(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("simulate prints JSON")
}

/// Every file and directory under `root` (`.git/` included), with the
/// bytes of each file.
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![root.to_owned()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                entries.insert(path.clone(), None);
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                entries.insert(path, Some(bytes));
            }
        }
    }
    entries
}

#[test]
fn the_json_holds_the_bidders_and_the_three_solved_counts() {
    let repository = Repository::set_up();
    let json = json_of(&simulate_in(
        repository.path(),
        &["--bidders", "0.9,0.3,0.3", "--issues", "300", "--json"],
    ));
    assert_eq!(json["issues"], 300);
    assert_eq!(json["rule"], "seed");
    let bidders = json["bidders"].as_array().expect("bidders");
    assert_eq!(bidders.len(), 3);
    for key in [
        "success_probability",
        "weight",
        "allocation",
        "wins",
        "implementations",
    ] {
        assert!(
            bidders.iter().all(|bidder| bidder.get(key).is_some()),
            "{key}"
        );
    }
    assert_eq!(bidders[0]["success_probability"], 0.9);
    let allocations: Vec<u64> = bidders
        .iter()
        .map(|bidder| bidder["allocation"].as_u64().expect("allocation"))
        .collect();
    assert!(allocations[0] > allocations[1] && allocations[0] > allocations[2]);
    assert_eq!(allocations.iter().sum::<u64>(), 30);
    let count = |key: &str| json[key].as_u64().expect(key);
    assert!(count("random_solved") <= count("solved"));
    assert!(count("solved") <= count("oracle_solved"));
    assert!(count("oracle_solved") <= 300);
    // The final state is the one `status --json` would show.
    assert_eq!(
        json["state"]["bots"]["bidder_1"]["weight"],
        bidders[0]["weight"]
    );
}

#[test]
fn the_same_seed_prints_the_same_run_and_another_seed_another() {
    let directory = tempfile::tempdir().expect("temp dir");
    let run = |seed: &str| {
        let output = simulate_in(
            directory.path(),
            &["--bidders", "0.6,0.5,0.4", "--seed", seed, "--json"],
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        output.stdout
    };
    assert_eq!(run("12"), run("12"));
    assert_ne!(run("12"), run("13"));
    let human = simulate_in(
        directory.path(),
        &["--bidders", "0.6,0.5,0.4", "--seed", "12"],
    );
    assert!(human.status.success());
    let human = text(&human.stdout);
    assert!(human.contains("bidder_3"), "{human}");
    assert!(human.contains("Over time"), "{human}");
}

#[test]
fn a_probability_outside_0_to_1_exits_2_naming_bidders() {
    let directory = tempfile::tempdir().expect("temp dir");
    for bidders in ["0.5,1.2", "-0.1,0.5", "0.5,NaN"] {
        let output = simulate_in(directory.path(), &["--bidders", bidders]);
        assert_eq!(output.status.code(), Some(2), "{bidders}");
        let error = text(&output.stderr);
        assert!(error.contains("--bidders"), "{bidders}: {error}");
        assert!(output.stdout.is_empty());
    }
    let cases: [(&[&str], &str); 5] = [
        (&["--bidders", "0.5,x"], "--bidders"),
        (&["--bidders", "0.5,0.5", "--issues", "0"], "--issues"),
        (&["--bidders", "0.5,0.5", "--issues", "10001"], "--issues"),
        (&["--bidders", "0.5,0.5", "--honesty", "1"], "--honesty"),
        (&["--bidders", "0.5,0.5", "--rule", "kind"], "--rule"),
    ];
    for (args, flag) in cases {
        let output = simulate_in(directory.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains(flag),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    let output = simulate_in(
        directory.path(),
        &["--bidders", "0.5,0.5", "--json", "--issues", "0"],
    );
    let error: serde_json::Value =
        serde_json::from_slice(&output.stderr).expect("a JSON error for --json");
    assert_eq!(error["exit_code"], 2);
}

#[test]
fn simulating_writes_no_file_in_the_repository() {
    let repository = Repository::set_up();
    let before = tree(repository.path());
    let output = simulate_in(
        repository.path(),
        &["--bidders", "0.8,0.4", "--issues", "50"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = repository.ralph(&["marketplace", "simulate", "--bidders", "0.8,0.4", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(tree(repository.path()), before);
}
