//! Repositories whose bidders are the scripted test bidders
//! (`host/broker/tests/scripted/`), so their proposals are known.

use serde_json::{Value, json};

use super::Repository;

pub const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";

/// A patch adding `fn NAME() -> u32 { VALUE }` after the last line of
/// `src/lib.rs`, whose current line count is `lines`.
pub fn add_function(lines: usize, name: &str, value: u32) -> String {
    format!(
        "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -{lines},0 +{},4 @@\n+\n+pub fn {name}() -> u32 {{\n+    {value}\n+}}\n",
        lines + 1
    )
}

/// A git repository with a small library, a marketplace whose bidders are
/// the scripted test bidders, `checks`, and issue #1 with `checkboxes`.
pub fn repository(checks: Value, checkboxes: &[&str]) -> Repository {
    repository_with(json!({}), checks, checkboxes)
}

/// [`repository`] with the keys of `extra` added to its config.
pub fn repository_with(extra: Value, checks: Value, checkboxes: &[&str]) -> Repository {
    let mut config = json!({
        "num_bots": 3,
        "bidders": {
            "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
            "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH, "grants": ["repository"]},
            "bidder_3": {"plugin": ralph_broker_fixtures::SCRIPTED_C_PATH, "grants": ["repository"]},
        },
        "specialists": [],
        "checks": checks,
    });
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, checkboxes);
    std::fs::create_dir_all(repository.path().join("ralph-script")).expect("mkdir");
    repository
}

/// Scripts bidder `letter` with one entry per round, committed: bidders
/// read a clean checkout of the commit a round works on.
pub fn script(repository: &Repository, letter: &str, rounds: Value) {
    repository.commit_file(&format!("ralph-script/{letter}.json"), &rounds.to_string());
}

/// A check that passes unless `src/lib.rs` in the worktree contains
/// `forbidden`.
pub fn grep_check(name: &str, forbidden: &str) -> Value {
    json!({"name": name, "argv": ["sh", "-c", format!("! grep -q '{forbidden}' src/lib.rs")],
           "category": "test", "timeout_seconds": 20})
}

/// Issue #1 "Add two" with a check against `BUG`, and three proposals,
/// one per round as `a`, `b` and `c` list them (the last repeats).
pub fn three_proposals(a: Value, b: Value, c: Value) -> Repository {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    script(&repository, "a", a);
    script(&repository, "b", b);
    script(&repository, "c", c);
    repository
}

/// bidder_1's proposal: adds `two` and scores best.
pub fn add_two() -> Value {
    json!({"summary": "add two", "patch": add_function(3, "two", 2),
           "files": [["src/lib.rs", 4]], "tests": ["two returns 2"]})
}

/// bidder_2's: a plan without a patch (the `patch` implementer cannot
/// carry it out).
pub fn plan_only() -> Value {
    json!({"summary": "plan only, no patch"})
}

/// bidder_3's: adds `two` too, claiming a far larger change.
pub fn add_two_badly() -> Value {
    json!({"summary": "add two, badly", "patch": add_function(3, "two", 2),
           "files": [["src/lib.rs", 400], ["src/other.rs", 200], ["a/b/c.rs", 90]]})
}
