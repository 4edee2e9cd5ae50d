//! Issue 10's attacks on what plugins see and what a change may carry, run
//! again through the real `ralph` binary, as an attacker would run them:
//! plugins read a clean checkout (no `.git/`, no ignored or per-user file,
//! no FIFO), a change under `.ralph/` is refused, and a compiled-component
//! cache planted in the repository is never loaded.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{Repository, git, text};
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";
/// A credential planted in `.git/config`, as a remote with a token has.
const TOKEN: &str = "ghp_plantedTokenInGitConfig0123456789";

/// Runs the loop on issue 1 with `--json`, killing it after `limit`.
fn run_loop_within(repository: &Repository, limit: Duration) -> (Output, Vec<Value>) {
    let mut child = repository
        .command(&["marketplace", "loop", "1", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ralph starts");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "the loop did not end within {limit:?}\n{}\n{}",
                text(&output.stdout),
                text(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    let steps = text(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    (output, steps)
}

/// The summaries of every proposal the loop received.
fn summaries(steps: &[Value]) -> Vec<String> {
    steps
        .iter()
        .filter(|step| step["step"] == "proposal_received")
        .filter_map(|step| step["summary"].as_str().map(str::to_owned))
        .collect()
}

/// A repository whose one bidder is the hostile test bidder, granted
/// `repository`, on issue 1 titled `behaviour` whose body lists `paths`
/// (what the bidder probes) and one checkbox.
fn hostile_repository(behaviour: &str, paths: &[&str]) -> Repository {
    let config = json!({
        "num_bots": 1,
        "weight_constraints": {"min": 0.0, "max": 1.0},
        "bidders": {
            "bidder_1": {"plugin": ralph_runtime_fixtures::HOSTILE_BIDDER_PATH, "grants": ["repository"]},
        },
        "specialists": [],
        "checks": [],
        // A test gives the repository a remote that cannot be reached; the
        // issue's lease stays local.
        "team": {"leases": "local"},
    });
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"]);
    repository.commit_file(
        ".ralph/issues/1.md",
        &format!(
            "---\ntitle: {behaviour}\nlabels: [ready]\nstate: open\n---\n{}\n\n- [ ] Add two\n",
            paths.join("\n")
        ),
    );
    repository
}

/// Attack 4: a bidder granted only `repository` reads the repository's
/// internals — `.git/config` with a token in it, approvals, the audit log,
/// caches, worktrees, files that are not committed. It sees none of them.
#[test]
fn a_bidder_reads_the_tracked_tree_and_none_of_the_repositorys_internals() {
    let internals = [
        ".git/config",
        ".ralph/approvals.json",
        ".ralph/audit/2026-01-01.jsonl",
        ".ralph/marketplace.json",
        ".ralph/worktrees/1/src/lib.rs",
        "untracked-secret.txt",
        ".env",
    ];
    let mut probed: Vec<&str> = vec!["src/lib.rs"];
    probed.extend(internals);
    let repository = hostile_repository("read-outside", &probed);
    let root = repository.path();
    git(
        root,
        &[
            "config",
            "remote.origin.url",
            &format!("https://x:{TOKEN}@example.invalid/r.git"),
        ],
    );
    std::fs::write(
        root.join(".ralph/approvals.json"),
        format!("{{\"{TOKEN}\": []}}"),
    )
    .expect("write");
    std::fs::create_dir_all(root.join(".ralph/audit")).expect("mkdir");
    std::fs::write(root.join(".ralph/audit/2026-01-01.jsonl"), TOKEN).expect("write");
    std::fs::write(root.join("untracked-secret.txt"), TOKEN).expect("write");
    std::fs::write(root.join(".gitignore"), ".env\n").expect("write");
    std::fs::write(root.join(".env"), TOKEN).expect("write");

    let (output, steps) = run_loop_within(&repository, Duration::from_secs(120));
    let summaries = summaries(&steps);
    let report = summaries.first().unwrap_or_else(|| {
        panic!(
            "no proposal: {}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    });
    assert!(
        report.contains("src/lib.rs: fs=READ pub fn one"),
        "{report}"
    );
    assert!(report.contains("host=READ pub fn one"), "{report}");
    for path in internals {
        let line = report
            .lines()
            .find(|line| line.starts_with(&format!("{path}:")))
            .unwrap_or_else(|| panic!("{path} not probed: {report}"));
        assert!(!line.contains("READ"), "{line}");
    }
    for place in [text(&output.stdout), text(&output.stderr)] {
        assert!(!place.contains(TOKEN), "{place}");
    }
}

/// Attack 4, without the grant: nothing at all is visible.
#[test]
fn a_bidder_without_the_repository_grant_sees_no_file() {
    let repository = hostile_repository("read-outside", &["src/lib.rs", ".git/config"]);
    let path = repository.path().join(".ralph/config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config")).expect("JSON");
    config["bidders"]["bidder_1"]["grants"] = json!([]);
    repository.commit_file(".ralph/config.json", &config.to_string());
    let (output, steps) = run_loop_within(&repository, Duration::from_secs(120));
    let report = summaries(&steps).join("\n");
    assert!(
        report.contains("src/lib.rs: fs=error"),
        "{report}\n{}",
        text(&output.stderr)
    );
    assert!(!report.contains("READ"), "{report}");
}

/// Attack 5: a FIFO in the repository, opened by a bidder, hung Ralph for
/// good. It is not in the bidder's view, so the loop ends by itself.
#[cfg(unix)]
#[test]
fn a_fifo_in_the_repository_does_not_hang_the_loop() {
    let repository = hostile_repository("read-outside", &["fifo", "src/lib.rs"]);
    nix::unistd::mkfifo(
        &repository.path().join("fifo"),
        nix::sys::stat::Mode::S_IRWXU,
    )
    .expect("fifo");
    let (_, steps) = run_loop_within(&repository, Duration::from_secs(120));
    let report = summaries(&steps).join("\n");
    assert!(report.contains("fifo: fs=error"), "{report}");
    assert!(report.contains("src/lib.rs: fs=READ"), "{report}");
}

/// A patch adding `path` with `content` (one line).
fn adding(path: &str, content: &str) -> String {
    format!(
        "diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+{content}\n"
    )
}

/// Attack 2: a bidder's patch adds forged events, an approvals file, a
/// config without checks and a compiled-plugin cache entry under `.ralph/`.
/// The attempt fails naming the path, and nothing of it is committed.
#[test]
fn a_change_under_ralph_fails_and_nothing_of_it_is_committed() {
    let forged = r#"{"timestamp": "2026-01-29T10:15:00.000000Z", "issue_number": 1, "bot_id": "bidder_1", "outcome": "success", "weight_delta": 0.6}"#;
    let patch = [
        adding(
            ".ralph/events/2026-01-29T10-15-00-000000Z-bidder_1-success.json",
            forged,
        ),
        adding(
            ".ralph/approvals.json",
            r#"{"bidder_1": ["aws", "http-get"]}"#,
        ),
        adding(".ralph/cache/plugins/0000.cwasm", "native code"),
        adding("src/two.rs", "pub fn two() -> u32 { 2 }"),
    ]
    .concat();
    let config = json!({
        "num_bots": 1,
        "weight_constraints": {"min": 0.0, "max": 1.0},
        "bidders": {
            "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
        },
        "specialists": [],
        "checks": [],
        // A test gives the repository a remote that cannot be reached; the
        // issue's lease stays local.
        "team": {"leases": "local"},
    });
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"]);
    repository.commit_file(
        "ralph-script/a.json",
        &json!([{"summary": "Add two", "patch": patch}]).to_string(),
    );
    let before = repository.status_json();
    let (output, steps) = run_loop_within(&repository, Duration::from_secs(120));
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let failed: Vec<&Value> = steps
        .iter()
        .filter(|step| step["step"] == "implementation_failed")
        .collect();
    assert!(!failed.is_empty(), "{}", text(&output.stdout));
    let error = failed[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains(".ralph/"), "{error}");
    assert!(error.contains("protected"), "{error}");
    // Nothing under `.ralph/` on the branch, in the worktree or the log.
    let branch = git(
        repository.path(),
        &["branch", "--list", "ralph/*", "--format=%(refname:short)"],
    );
    let branch = branch.trim();
    let changed = git(repository.path(), &["diff", "--name-only", "main", branch]);
    assert_eq!(changed.trim(), "", "committed: {changed}");
    let worktree = repository.path().join(".ralph/worktrees/1");
    assert!(!worktree.join(".ralph/approvals.json").exists());
    assert!(!worktree.join(".ralph/cache").exists());
    assert!(!repository.path().join(".ralph/approvals.json").exists());
    let after = repository.status_json();
    assert_eq!(
        after["bots"]["bidder_1"]["successes"],
        before["bots"]["bidder_1"]["successes"]
    );
    assert_eq!(after["bots"]["bidder_1"]["failures"], json!(1));
}

/// Attack 2, the cache: a compiled component planted where Ralph once kept
/// its cache (`.ralph/cache/plugins/`, which a merge can write), under the
/// name of a bundled plugin's entry, is never loaded: `plugin inspect`
/// reports the real component.
#[test]
fn a_compiled_component_planted_in_the_repository_is_never_loaded() {
    let repository = Repository::set_up();
    let inspect = |name: &str, cache: &Path| {
        let output = repository
            .command(&["plugin", "inspect", &format!("bundled:{name}"), "--json"])
            .env("RALPH_CACHE_DIR", cache)
            .output()
            .expect("ralph runs");
        assert!(output.status.success(), "{}", text(&output.stderr));
        serde_json::from_slice::<Value>(&output.stdout).expect("JSON")
    };
    let only_entry = |cache: &Path| {
        let entries: Vec<_> = std::fs::read_dir(cache)
            .expect("cache")
            .map(|entry| entry.expect("entry").path())
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries[0].clone()
    };
    // The victim's entry name and the attacker's compiled entry.
    let victim_cache = tempfile::tempdir().expect("temp dir");
    inspect("diff-size", victim_cache.path());
    let victim_name = only_entry(victim_cache.path())
        .file_name()
        .expect("a name")
        .to_owned();
    let attacker_cache = tempfile::tempdir().expect("temp dir");
    inspect("secrets", attacker_cache.path());
    let planted = repository.path().join(".ralph/cache/plugins");
    std::fs::create_dir_all(&planted).expect("mkdir");
    std::fs::copy(
        only_entry(attacker_cache.path()),
        planted.join(&victim_name),
    )
    .expect("copy");

    let fresh = tempfile::tempdir().expect("temp dir");
    assert_eq!(inspect("diff-size", fresh.path())["name"], "diff-size");
    // And the attacker's entry planted in the user's cache under the
    // victim's name is refused too: it names another component.
    std::fs::copy(planted.join(&victim_name), fresh.path().join(&victim_name)).expect("copy");
    assert_eq!(inspect("diff-size", fresh.path())["name"], "diff-size");
}
