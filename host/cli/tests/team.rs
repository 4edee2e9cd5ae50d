//! Many machines (SPEC §15), through the real binary: leases as refs on a
//! git remote (a bare repository on disk), `leases`, `sync`, and clones
//! converging on one state.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{RALPH, git, text};
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";
const PATCH: &str =
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n";

/// A bare remote and clones of it, each with the marketplace set up, the
/// scripted bidders and `issues` ready local issues.
struct Team {
    directory: tempfile::TempDir,
    clones: Vec<PathBuf>,
}

impl Team {
    /// `clones` clones of a remote whose `main` has the config (with
    /// `team` as its `team` section and `checks`) and issues 1..=`issues`.
    fn new(clones: usize, issues: u64, team: Value, checks: Value) -> Team {
        let directory = tempfile::tempdir().expect("temp dir");
        let seed = directory.path().join("seed");
        std::fs::create_dir_all(seed.join("src")).expect("mkdir");
        git(&seed, &["init", "--quiet", "--initial-branch=main"]);
        let setup = ralph(&seed, &["marketplace", "setup"]);
        assert!(setup.status.success(), "{}", describe(&setup));
        let config = json!({
            "num_bots": 2,
            "bidders": {
                "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
                "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH, "grants": ["repository"]},
            },
            "specialists": [],
            "checks": checks,
            "team": team,
        });
        std::fs::write(
            seed.join(".ralph/config.json"),
            serde_json::to_string_pretty(&config).expect("json"),
        )
        .expect("config");
        std::fs::write(seed.join("src/lib.rs"), LIBRARY).expect("library");
        std::fs::create_dir_all(seed.join("ralph-script")).expect("mkdir");
        let scripts = [
            (
                "a",
                json!([{"summary": "add two", "patch": PATCH, "files": [["src/lib.rs", 4]]}]),
            ),
            ("b", json!([{"summary": "plan only, no patch"}])),
        ];
        for (letter, rounds) in scripts {
            std::fs::write(
                seed.join(format!("ralph-script/{letter}.json")),
                rounds.to_string(),
            )
            .expect("script");
        }
        std::fs::create_dir_all(seed.join(".ralph/issues")).expect("mkdir");
        for number in 1..=issues {
            std::fs::write(
                seed.join(format!(".ralph/issues/{number}.md")),
                format!(
                    "---\ntitle: Add numbers {number}\nlabels: [ready]\nstate: open\n---\nAdd functions.\n\n- [ ] Add two\n"
                ),
            )
            .expect("issue");
        }
        git(&seed, &["add", "--all"]);
        git(&seed, &["commit", "--quiet", "-m", "start"]);
        let remote = directory.path().join("remote.git");
        git(
            directory.path(),
            &[
                "clone",
                "--quiet",
                "--bare",
                &seed.to_string_lossy(),
                &remote.to_string_lossy(),
            ],
        );
        let mut team = Team {
            directory,
            clones: Vec::new(),
        };
        for _ in 0..clones {
            team.clone_remote();
        }
        team
    }

    fn remote(&self) -> PathBuf {
        self.directory.path().join("remote.git")
    }

    /// A new clone of the remote, with an identity of its own.
    fn clone_remote(&mut self) -> PathBuf {
        let path = self
            .directory
            .path()
            .join(format!("clone-{}", self.clones.len()));
        git(
            self.directory.path(),
            &[
                "clone",
                "--quiet",
                &self.remote().to_string_lossy(),
                &path.to_string_lossy(),
            ],
        );
        git(&path, &["config", "user.name", "Clone"]);
        git(&path, &["config", "user.email", "clone@localhost"]);
        self.clones.push(path.clone());
        path
    }

    fn clone(&self, index: usize) -> &Path {
        &self.clones[index]
    }

    /// The lease refs on the remote: issue → blob id.
    fn lease_refs(&self) -> BTreeMap<u64, String> {
        git(
            &self.remote(),
            &[
                "for-each-ref",
                "--format=%(refname) %(objectname)",
                "refs/ralph/leases/",
            ],
        )
        .lines()
        .filter_map(|line| {
            let (name, oid) = line.split_once(' ')?;
            let issue = name.strip_prefix("refs/ralph/leases/")?.parse().ok()?;
            Some((issue, oid.to_owned()))
        })
        .collect()
    }

    /// The holder the remote's lease of `issue` names.
    fn lease_holder(&self, issue: u64) -> Value {
        let oid = self.lease_refs().remove(&issue).expect("a lease");
        serde_json::from_str(&git(&self.remote(), &["cat-file", "blob", &oid])).expect("holder")
    }

    /// Puts a lease for `issue` on the remote by hand, naming `holder`.
    fn plant_lease(&self, issue: u64, holder: &Value) {
        let remote = self.remote();
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&remote)
            .args(["hash-object", "-w", "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("git");
        std::io::Write::write_all(
            child.stdin.as_mut().expect("stdin"),
            holder.to_string().as_bytes(),
        )
        .expect("write");
        let output = child.wait_with_output().expect("git");
        let oid = text(&output.stdout).trim().to_owned();
        git(
            &remote,
            &["update-ref", &format!("refs/ralph/leases/{issue}"), &oid],
        );
    }

    /// The event files on the remote's `main`.
    fn remote_events(&self) -> BTreeSet<String> {
        git(
            &self.remote(),
            &["ls-tree", "--name-only", "main", ".ralph/events/"],
        )
        .lines()
        .filter_map(|path| path.strip_prefix(".ralph/events/"))
        .filter(|name| name.ends_with(".json"))
        .map(str::to_owned)
        .collect()
    }
}

/// `ralph --repo DIRECTORY ARGS`, with no standard input.
fn command(directory: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(RALPH);
    command
        .arg("--repo")
        .arg(directory)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn ralph(directory: &Path, args: &[&str]) -> Output {
    command(directory, args).output().expect("ralph runs")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// The event file names in `clone` (none before the first: git keeps no
/// empty folder).
fn events_of(clone: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(clone.join(".ralph/events")) else {
        return BTreeSet::new();
    };
    entries
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect()
}

/// An event for `record`, unique by its microsecond.
fn event(issue: u64, microsecond: u64) -> String {
    json!({"timestamp": format!("2026-01-29T10:15:00.{microsecond:06}Z"), "issue_number": issue,
           "bot_id": "bidder_2", "outcome": "not_tried", "weight_delta": 0.0})
    .to_string()
}

fn record(clone: &Path, issue: u64, microsecond: u64) {
    let mut child = command(clone, &["marketplace", "record", "--file", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("ralph");
    std::io::Write::write_all(
        child.stdin.as_mut().expect("stdin"),
        event(issue, microsecond).as_bytes(),
    )
    .expect("write");
    let output = child.wait_with_output().expect("ralph");
    assert!(output.status.success(), "{}", describe(&output));
}

fn holder_elsewhere(issue: u64, expires: &str) -> Value {
    json!({"issue": issue, "host": "elsewhere.example", "pid": 4242,
           "started_at": "2026-01-29T10:15:00Z", "id": "0123456789abcdef", "expires": expires})
}

/// A check that takes `seconds` and passes.
fn slow_check(seconds: u64) -> Value {
    json!([{"name": "slow", "category": "test", "timeout_seconds": 60,
            "argv": ["sh", "-c", format!("sleep {seconds}")]}])
}

#[test]
fn of_eight_loops_racing_for_one_issue_from_eight_clones_one_gets_the_lease() {
    let team = Team::new(8, 1, json!({}), slow_check(3));
    let children: Vec<_> = team
        .clones
        .iter()
        .map(|clone| {
            command(clone, &["marketplace", "loop", "1"])
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait"))
        .collect();
    let all: Vec<String> = outputs.iter().map(describe).collect();
    let ran = outputs
        .iter()
        .filter(|output| output.status.code() == Some(0));
    let refused: Vec<&Output> = outputs
        .iter()
        .filter(|output| output.status.code() == Some(2))
        .collect();
    assert_eq!((ran.count(), refused.len()), (1, 7), "{all:#?}");
    for output in refused {
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("issue #1 is being worked on by pid")
                && stderr.contains(&ralph_marketplace::lock::host_name())
                && stderr.contains("leased on the remote `origin` as refs/ralph/leases/1"),
            "{stderr}"
        );
    }
    let worked: Vec<usize> = (0..8)
        .filter(|&index| !events_of(team.clone(index)).is_empty())
        .collect();
    assert_eq!(worked.len(), 1, "one clone recorded events");
    assert!(team.lease_refs().is_empty(), "released at the end");
}

#[test]
fn a_loop_on_an_issue_leased_elsewhere_exits_2_naming_the_holder_and_changes_nothing() {
    let team = Team::new(1, 1, json!({}), json!([]));
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    team.plant_lease(1, &holder_elsewhere(1, &later));
    let clone = team.clone(0);
    let issue = std::fs::read_to_string(clone.join(".ralph/issues/1.md")).expect("issue");
    let output = ralph(clone, &["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("issue #1 is being worked on by pid 4242 on elsewhere.example")
            && stderr.contains(&format!("until {later}")),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join(".ralph/issues/1.md")).expect("issue"),
        issue
    );
    assert!(events_of(clone).is_empty());
    assert_eq!(team.lease_holder(1)["host"], "elsewhere.example", "kept");
    // `leases` lists it, from this clone or any other.
    let listed = ralph(clone, &["marketplace", "leases", "--json"]);
    assert!(listed.status.success(), "{}", describe(&listed));
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(listed[0]["issue"], 1);
    assert_eq!(listed[0]["kind"], "remote");
    assert_eq!(listed[0]["holder"]["host"], "elsewhere.example");
    assert_eq!(listed[0]["expired"], false);
    let human = text(&ralph(clone, &["marketplace", "leases"]).stdout);
    assert!(
        human.contains("leases on the remote `origin`")
            && human.contains("#1")
            && human.contains("pid 4242 on elsewhere.example"),
        "{human}"
    );
}

#[test]
fn an_expired_lease_is_taken_over_and_the_new_one_released_at_the_end() {
    let team = Team::new(1, 1, json!({}), json!([]));
    team.plant_lease(1, &holder_elsewhere(1, "2026-01-29T12:15:00.000Z"));
    let clone = team.clone(0);
    let listed: Value =
        serde_json::from_slice(&ralph(clone, &["marketplace", "leases", "--json"]).stdout)
            .expect("json");
    assert_eq!(listed[0]["expired"], true, "{listed}");
    let output = ralph(clone, &["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Took over the expired lease of issue #1")
            && stdout.contains("pid 4242 on elsewhere.example"),
        "{stdout}"
    );
    assert!(team.lease_refs().is_empty(), "released at the end");
}

#[test]
fn a_lease_is_released_when_the_loop_stops_on_a_refused_issue() {
    let team = Team::new(1, 1, json!({}), json!([]));
    let clone = team.clone(0);
    let issue = clone.join(".ralph/issues/1.md");
    let text_of = std::fs::read_to_string(&issue).expect("issue");
    std::fs::write(&issue, text_of.replace("labels: [ready]", "labels: []")).expect("write");
    let output = ralph(clone, &["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains("is not ready"),
        "{}",
        describe(&output)
    );
    assert!(
        team.lease_refs().is_empty(),
        "released although the loop failed"
    );
}

#[test]
fn a_lease_shorter_than_the_loop_is_renewed_and_keeps_the_issue() {
    // A lease of 3 s, renewed every second; the loop runs its 3 s check
    // twice (baseline and change), so without renewal it would expire.
    let team = Team::new(2, 1, json!({"lease_seconds": 3}), slow_check(3));
    let started = Instant::now();
    let first = command(team.clone(0), &["marketplace", "loop", "1"])
        .spawn()
        .expect("spawn");
    let expiry = || -> Option<String> {
        let output = ralph(team.clone(1), &["marketplace", "leases", "--json"]);
        let listed: Value = serde_json::from_slice(&output.stdout).ok()?;
        let expires = listed[0]["expires"].as_str()?.to_owned();
        assert_eq!(listed[0]["expired"], false, "{listed}");
        Some(expires)
    };
    let mut first_expiry = None;
    while first_expiry.is_none() && started.elapsed() < Duration::from_secs(20) {
        first_expiry = expiry();
        std::thread::sleep(Duration::from_millis(100));
    }
    let first_expiry = first_expiry.expect("the lease appeared");
    // Past the first lease's end.
    std::thread::sleep(Duration::from_secs(4));
    let second = ralph(team.clone(1), &["marketplace", "loop", "1"]);
    let later_expiry = expiry().expect("still leased");
    let first = first.wait_with_output().expect("wait");
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    assert!(
        started.elapsed() > Duration::from_secs(6),
        "the loop outlived its first lease"
    );
    assert_eq!(second.status.code(), Some(2), "{}", describe(&second));
    assert!(
        later_expiry > first_expiry,
        "{later_expiry} > {first_expiry}"
    );
    assert!(team.lease_refs().is_empty(), "released at the end");
}

#[test]
fn a_loop_whose_lease_is_taken_over_stops_and_says_so() {
    let team = Team::new(1, 1, json!({"lease_seconds": 3}), slow_check(4));
    let loop_ = command(team.clone(0), &["marketplace", "loop", "1"])
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while team.lease_refs().is_empty() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Another loop takes it over (as one would after an expiry).
    team.plant_lease(1, &holder_elsewhere(1, "2099-01-01T00:00:00.000Z"));
    let output = loop_.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains("Lost the lease of issue #1"),
        "{}",
        describe(&output)
    );
    assert_eq!(
        team.lease_holder(1)["host"],
        "elsewhere.example",
        "the other loop's lease is left alone"
    );
}

#[test]
fn without_a_remote_the_local_lock_is_listed() {
    let team = Team::new(1, 1, json!({}), json!([]));
    let clone = team.clone(0);
    git(clone, &["remote", "remove", "origin"]);
    let locks = clone.join(".ralph/locks");
    std::fs::create_dir_all(&locks).expect("mkdir");
    let live = json!({"issue": 1, "host": ralph_marketplace::lock::host_name(),
                      "pid": std::process::id(), "started_at": "2026-01-29T10:15:00Z"});
    std::fs::write(locks.join("1.lock"), live.to_string()).expect("lock");
    let output = ralph(clone, &["marketplace", "leases", "--json"]);
    assert!(output.status.success(), "{}", describe(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(listed[0]["kind"], "local", "{listed}");
    assert_eq!(listed[0]["holder"]["pid"], std::process::id());
    let output = ralph(clone, &["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(text(&output.stderr).contains(".ralph/locks/1.lock"));
    // A remote named in the config that is missing is a config error.
    let config = clone.join(".ralph/config.json");
    let mut value: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("config")).expect("json");
    value["team"] = json!({"remote": "upstream"});
    std::fs::write(&config, value.to_string()).expect("config");
    let output = ralph(clone, &["marketplace", "leases"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains("team.remote") && text(&output.stderr).contains("upstream"),
        "{}",
        describe(&output)
    );
}

#[test]
fn sync_from_clones_pushing_at_once_retries_and_every_event_arrives() {
    let team = Team::new(6, 0, json!({}), json!([]));
    let mut expected = BTreeSet::new();
    for (index, clone) in team.clones.iter().enumerate() {
        for event in 0..3 {
            record(clone, index as u64 + 1, (index * 10 + event) as u64);
        }
        expected.extend(events_of(clone));
    }
    assert_eq!(expected.len(), 18);
    let children: Vec<_> = team
        .clones
        .iter()
        .map(|clone| {
            command(clone, &["marketplace", "sync", "--json"])
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait"))
        .collect();
    let mut attempts = 0;
    for output in &outputs {
        assert_eq!(output.status.code(), Some(0), "{}", describe(output));
        let synced: Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(synced["events"], 3, "{synced}");
        attempts += synced["push_attempts"].as_u64().expect("attempts");
    }
    eprintln!("{attempts} pushes for 6 clones");
    assert_eq!(team.remote_events(), expected);
    // A second sync brings every clone every event.
    for clone in &team.clones {
        let output = ralph(clone, &["marketplace", "sync"]);
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        assert_eq!(events_of(clone), expected);
    }
    let again = text(&ralph(team.clone(0), &["marketplace", "sync"]).stdout);
    assert!(
        again.contains("Nothing new to commit") && again.contains("Up to date with origin/main"),
        "{again}"
    );
}

#[test]
fn sync_with_other_changes_staged_refuses_and_changes_nothing() {
    let team = Team::new(1, 0, json!({}), json!([]));
    let clone = team.clone(0);
    record(clone, 1, 1);
    std::fs::write(clone.join("src/lib.rs"), "pub fn changed() {}\n").expect("write");
    git(clone, &["add", "src/lib.rs"]);
    let head = git(clone, &["rev-parse", "HEAD"]);
    let status = git(clone, &["status", "--porcelain"]);
    let remote_head = git(&team.remote(), &["rev-parse", "main"]);
    let output = ralph(clone, &["marketplace", "sync"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains("other changes are staged (src/lib.rs)"),
        "{}",
        describe(&output)
    );
    assert_eq!(git(clone, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(clone, &["status", "--porcelain"]), status);
    assert_eq!(git(&team.remote(), &["rev-parse", "main"]), remote_head);
}

#[test]
fn sync_commits_only_events_and_keeps_unstaged_work_through_the_rebase() {
    let team = Team::new(2, 0, json!({}), json!([]));
    record(team.clone(1), 1, 7);
    let pushed = ralph(team.clone(1), &["marketplace", "sync"]);
    assert!(pushed.status.success(), "{}", describe(&pushed));
    let clone = team.clone(0);
    record(clone, 2, 8);
    std::fs::write(clone.join("src/lib.rs"), "pub fn mine() {}\n").expect("write");
    std::fs::write(clone.join("notes.txt"), "untracked\n").expect("write");
    let output = ralph(clone, &["marketplace", "sync", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let synced: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(synced["received"], 1, "{synced}");
    assert_eq!(synced["committed"].as_array().expect("files").len(), 1);
    let committed = git(clone, &["show", "--name-only", "--format=%s", "HEAD"]);
    assert!(
        committed.starts_with("ralph: record 1 event\n"),
        "{committed}"
    );
    assert_eq!(committed.lines().filter(|line| !line.is_empty()).count(), 2);
    assert_eq!(
        std::fs::read_to_string(clone.join("src/lib.rs")).expect("kept"),
        "pub fn mine() {}\n"
    );
    assert!(clone.join("notes.txt").exists());
    assert_eq!(events_of(clone).len(), 2);
    assert_eq!(team.remote_events().len(), 2);
}

/// The issue the event file `name` of `clone` is about.
fn issue_of(clone: &Path, name: &str) -> u64 {
    let event: Value = serde_json::from_slice(
        &std::fs::read(clone.join(".ralph/events").join(name)).expect("event"),
    )
    .expect("event JSON");
    event["issue_number"].as_u64().expect("issue number")
}

/// One worker per clone: sync, then loop on the first ready (or in
/// progress) issue it can lease (starting from its own place in the list),
/// sync, again, until no open issue is left. Returns the issues it worked and the event files
/// each of its loops recorded.
fn work(clone: &Path, index: usize) -> (Vec<u64>, BTreeSet<String>) {
    let mut worked = Vec::new();
    let mut recorded = BTreeSet::new();
    loop {
        let synced = ralph(clone, &["marketplace", "sync"]);
        assert!(synced.status.success(), "{}", describe(&synced));
        let mut ready: Vec<u64> = std::fs::read_dir(clone.join(".ralph/issues"))
            .expect("issues")
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let body = std::fs::read_to_string(&path).ok()?;
                let number = path.file_stem()?.to_str()?.parse().ok()?;
                // Ready, or in progress by a loop that may have died (its
                // lease, if it is gone, expires).
                let open = body.contains("state: open");
                let workable = body.contains("labels: [ready]") || body.contains("in-progress");
                (open && workable).then_some(number)
            })
            .collect();
        if ready.is_empty() {
            return (worked, recorded);
        }
        ready.sort_unstable();
        let start = index % ready.len();
        ready.rotate_left(start);
        let mut ran = false;
        for number in ready {
            let before = events_of(clone);
            let output = ralph(clone, &["marketplace", "loop", &number.to_string()]);
            match output.status.code() {
                Some(0) => {
                    worked.push(number);
                    // The loop's sync brings others' events too; its own
                    // are those of its issue.
                    let new: Vec<String> = events_of(clone)
                        .difference(&before)
                        .filter(|name| issue_of(clone, name) == number)
                        .cloned()
                        .collect();
                    recorded.extend(new);
                    ran = true;
                    break;
                }
                // Leased by another clone, or finished by one since (the
                // loop's sync showed it closed).
                Some(2) => {}
                _ => panic!("{}", describe(&output)),
            }
        }
        if !ran {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// [`work`] in every clone of `clones` at once (worker `offset + i` for
/// the i-th); what each worked and recorded.
fn work_in_parallel(clones: &[PathBuf], offset: usize) -> Vec<(Vec<u64>, BTreeSet<String>)> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = clones
            .iter()
            .enumerate()
            .map(|(index, clone)| scope.spawn(move || work(clone, offset + index)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("worker"))
            .collect()
    })
}

/// Every issue the workers worked, sorted (a repeat shows as a repeat).
fn worked_issues(results: &[(Vec<u64>, BTreeSet<String>)]) -> Vec<u64> {
    let mut worked: Vec<u64> = results
        .iter()
        .flat_map(|(issues, _)| issues.clone())
        .collect();
    worked.sort_unstable();
    worked
}

/// How many of `clone`'s local issues are closed.
fn closed_issues(clone: &Path) -> usize {
    std::fs::read_dir(clone.join(".ralph/issues"))
        .expect("issues")
        .filter(|entry| {
            std::fs::read_to_string(entry.as_ref().expect("entry").path())
                .expect("issue")
                .contains("state: closed")
        })
        .count()
}

#[test]
fn eight_clones_working_24_issues_work_each_once_and_converge() {
    let started = Instant::now();
    let mut team = Team::new(8, 24, json!({"sync": true}), json!([]));
    let results = work_in_parallel(&team.clones, 0);
    let worked = worked_issues(&results);
    assert_eq!(
        worked,
        (1..=24).collect::<Vec<u64>>(),
        "each issue worked once"
    );
    let recorded: BTreeSet<String> = results
        .iter()
        .flat_map(|(_, events)| events.iter().cloned())
        .collect();
    let recorded_count: usize = results.iter().map(|(_, events)| events.len()).sum();
    assert_eq!(
        recorded.len(),
        recorded_count,
        "no two loops wrote one file"
    );
    assert_eq!(recorded.len(), 24 * 2, "two bidders' events per issue");
    // Every clone syncs once more, so each has what the others pushed.
    for clone in &team.clones {
        let output = ralph(clone, &["marketplace", "sync"]);
        assert!(output.status.success(), "{}", describe(&output));
    }
    assert_eq!(team.remote_events(), recorded, "no event lost");
    let fresh = team.clone_remote();
    let statuses: Vec<Vec<u8>> = team
        .clones
        .iter()
        .map(|clone| {
            assert_eq!(events_of(clone), recorded);
            let output = ralph(clone, &["marketplace", "status", "--json"]);
            assert!(output.status.success(), "{}", describe(&output));
            output.stdout
        })
        .collect();
    assert_eq!(statuses.len(), 9);
    assert!(
        statuses.iter().all(|status| status == &statuses[0]),
        "the remote's and every clone's status are the same bytes"
    );
    let closed = closed_issues(&fresh);
    assert_eq!(closed, 24, "every issue is closed on the remote");
    assert!(team.lease_refs().is_empty(), "every lease released");
    eprintln!("converged in {:?}", started.elapsed());
}

#[test]
fn a_sync_waits_for_another_sync_of_the_same_clone() {
    let team = Team::new(1, 0, json!({}), json!([]));
    let clone = team.clone(0);
    record(clone, 1, 3);
    std::fs::create_dir_all(clone.join(".ralph/locks")).expect("mkdir");
    let held = std::fs::File::create(clone.join(".ralph/locks/sync.lock")).expect("lock file");
    held.lock().expect("lock");
    let mut waiting = command(clone, &["marketplace", "sync"])
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        waiting.try_wait().expect("wait").is_none(),
        "it waits its turn"
    );
    assert!(team.remote_events().is_empty());
    drop(held);
    let output = waiting.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(team.remote_events().len(), 1);
}

#[test]
fn a_loop_that_cannot_sync_first_stops_before_the_issue_and_lets_the_lease_go() {
    let team = Team::new(1, 1, json!({"sync": true}), json!([]));
    let clone = team.clone(0);
    std::fs::write(clone.join("src/lib.rs"), "pub fn staged() {}\n").expect("write");
    git(clone, &["add", "src/lib.rs"]);
    let issue = std::fs::read_to_string(clone.join(".ralph/issues/1.md")).expect("issue");
    let output = ralph(clone, &["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot sync this clone before the loop reads the issue")
            && stderr.contains("other changes are staged (src/lib.rs)"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join(".ralph/issues/1.md")).expect("issue"),
        issue
    );
    assert!(events_of(clone).is_empty());
    assert!(team.lease_refs().is_empty(), "released");
}

#[test]
fn a_loop_killed_outright_leaves_a_lease_that_expires_and_another_clone_takes_the_issue_over() {
    let team = Team::new(
        3,
        3,
        json!({"sync": true, "lease_seconds": 3}),
        slow_check(2),
    );
    let mut killed = command(team.clone(0), &["marketplace", "loop", "1"])
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while team.lease_refs().is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !team.lease_refs().is_empty(),
        "the first loop took its lease"
    );
    // In the middle of its checks: SIGKILL, no chance to release anything.
    std::thread::sleep(Duration::from_millis(1500));
    killed.kill().expect("SIGKILL");
    let killed = killed.wait_with_output().expect("wait");
    assert_eq!(killed.status.code(), None, "killed by a signal");
    assert_eq!(
        team.lease_refs().len(),
        1,
        "the dead loop's lease is still on the remote"
    );

    // Another clone gets the issue once the lease has expired, not before.
    let mut refused = 0;
    let taken_over = loop {
        let output = ralph(team.clone(1), &["marketplace", "loop", "1"]);
        match output.status.code() {
            Some(0) => break output,
            Some(2) => refused += 1,
            _ => panic!("{}", describe(&output)),
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the lease never expired"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        text(&taken_over.stdout).contains("Took over the expired lease of issue #1"),
        "{}",
        describe(&taken_over)
    );
    assert!(
        refused >= 1,
        "the live lease refused a loop before it expired"
    );

    // The others finish the rest; every clone syncs; nothing is corrupt.
    std::thread::scope(|scope| {
        for index in [1, 2] {
            let clone = team.clone(index);
            scope.spawn(move || work(clone, index));
        }
    });
    for index in [1, 2] {
        let output = ralph(team.clone(index), &["marketplace", "sync"]);
        assert!(output.status.success(), "{}", describe(&output));
    }
    let statuses: Vec<Vec<u8>> = [1, 2]
        .into_iter()
        .map(|index| {
            let verify = ralph(team.clone(index), &["marketplace", "verify"]);
            assert!(verify.status.success(), "{}", describe(&verify));
            ralph(team.clone(index), &["marketplace", "status", "--json"]).stdout
        })
        .collect();
    assert_eq!(statuses[0], statuses[1], "the clones converge");
    let status: Value = serde_json::from_slice(&statuses[0]).expect("status");
    assert_eq!(
        status["rounds_completed"], 3,
        "each of the three issues succeeded once: {status}"
    );
    assert!(team.lease_refs().is_empty(), "every lease released");
    // The killed clone's synced `in-progress` issue file now conflicts with
    // the finished one: its sync says so and undoes the rebase.
    let output = ralph(team.clone(0), &["marketplace", "sync"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains(".ralph/issues/1.md")
            && text(&output.stderr).contains("the rebase was undone"),
        "{}",
        describe(&output)
    );
    assert!(!team.clone(0).join(".git/rebase-merge").exists());
    assert!(!team.clone(0).join(".git/rebase-apply").exists());
}

#[test]
fn with_one_of_eight_loops_killed_outright_the_other_seven_clones_still_work_each_issue_once() {
    let mut team = Team::new(
        8,
        24,
        json!({"sync": true, "lease_seconds": 3}),
        slow_check(2),
    );
    // Clone 0's machine dies in the middle of issue 1: SIGKILL while its
    // lease is on the remote, during its checks.
    let mut killed = command(team.clone(0), &["marketplace", "loop", "1"])
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while !team.lease_refs().contains_key(&1) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    killed.kill().expect("SIGKILL");
    let killed = killed.wait_with_output().expect("wait");
    assert!(team.lease_refs().contains_key(&1), "{}", describe(&killed));
    assert!(
        team.lease_refs().contains_key(&1),
        "killed in the middle: its lease is left on the remote"
    );
    let worked = worked_issues(&work_in_parallel(&team.clones[1..], 1));
    assert_eq!(
        worked,
        (1..=24).collect::<Vec<u64>>(),
        "each issue worked once by the seven, issue 1 taken over"
    );
    for clone in &team.clones[1..] {
        let output = ralph(clone, &["marketplace", "sync"]);
        assert!(output.status.success(), "{}", describe(&output));
    }
    let fresh = team.clone_remote();
    let statuses: Vec<Vec<u8>> = team.clones[1..]
        .iter()
        .map(|clone| {
            let verify = ralph(clone, &["marketplace", "verify"]);
            assert!(verify.status.success(), "{}", describe(&verify));
            ralph(clone, &["marketplace", "status", "--json"]).stdout
        })
        .collect();
    assert!(
        statuses.iter().all(|status| status == &statuses[0]),
        "the remote's and the seven clones' status are the same bytes"
    );
    let status: Value = serde_json::from_slice(&statuses[0]).expect("status");
    assert_eq!(
        status["rounds_completed"], 24,
        "each issue succeeded exactly once: {status}"
    );
    let closed = closed_issues(&fresh);
    assert_eq!(closed, 24, "every issue is closed on the remote");
    assert!(
        team.lease_refs().is_empty(),
        "every lease released or taken over"
    );
}
