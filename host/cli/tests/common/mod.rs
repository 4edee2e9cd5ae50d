//! Helpers for tests that drive the real `ralph` binary on a temporary
//! repository.

#![allow(dead_code)]

pub mod chat_server;
pub mod scripted;
pub mod terminal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const RALPH: &str = env!("CARGO_BIN_EXE_ralph");

/// A temporary repository (a directory with `.git/`) with a marketplace set
/// up in it.
pub struct Repository {
    pub directory: tempfile::TempDir,
}

impl Repository {
    /// An empty repository, no marketplace yet.
    pub fn empty() -> Self {
        let directory = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(directory.path().join(".git")).expect("mkdir .git");
        Repository { directory }
    }

    /// A repository after `ralph marketplace setup`.
    pub fn set_up() -> Self {
        let repository = Repository::empty();
        let output = repository.ralph(&["marketplace", "setup"]);
        assert!(
            output.status.success(),
            "setup failed: {}",
            text(&output.stderr)
        );
        repository
    }

    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    pub fn events_dir(&self) -> PathBuf {
        self.path().join(".ralph/events")
    }

    /// Runs `ralph --repo <this> ARGS`.
    pub fn ralph(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("ralph runs")
    }

    /// `ralph --repo <this> ARGS`, not yet started, with no standard input.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(RALPH);
        command
            .arg("--repo")
            .arg(self.path())
            .args(args)
            .stdin(Stdio::null());
        command
    }

    /// Runs `ralph --repo <this> ARGS` with `input` on its standard input.
    pub fn ralph_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ralph runs");
        let mut stdin = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut stdin, input).expect("write the input");
        drop(stdin);
        child.wait_with_output().expect("ralph ends")
    }

    /// `ralph marketplace loop 1 --json` on this repository: its output and
    /// its steps, each line parsed.
    pub fn loop_steps(&self) -> (Output, Vec<serde_json::Value>) {
        let output = self.ralph(&["marketplace", "loop", "1", "--json"]);
        let steps = text(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
            .collect();
        (output, steps)
    }

    /// Every event in the log, oldest first.
    pub fn events(&self) -> Vec<serde_json::Value> {
        let mut events: Vec<serde_json::Value> = std::fs::read_dir(self.events_dir())
            .expect("events")
            .map(|entry| {
                serde_json::from_slice(&std::fs::read(entry.expect("entry").path()).expect("read"))
                    .expect("event JSON")
            })
            .collect();
        events.sort_by_key(|event| event["timestamp"].as_str().unwrap_or("").to_owned());
        events
    }

    /// Writes an event file by hand (bypassing `record`).
    pub fn write_event(&self, name: &str, json: &str) {
        std::fs::write(self.events_dir().join(name), json).expect("write event");
    }

    /// Every file under `.ralph/` and `.claude/` with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut pending = vec![self.path().join(".ralph"), self.path().join(".claude")];
        while let Some(directory) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&directory) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let bytes = std::fs::read(&path).expect("read");
                    files.insert(path, bytes);
                }
            }
        }
        files
    }

    /// `status --json`, parsed.
    pub fn status_json(&self) -> serde_json::Value {
        let output = self.ralph(&["marketplace", "status", "--json"]);
        assert!(
            output.status.success(),
            "status failed: {}",
            text(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("status prints JSON")
    }
}

/// An event as JSON.
pub fn event(timestamp: &str, bot: &str, outcome: &str, delta: f64) -> String {
    format!(
        r#"{{"timestamp": "{timestamp}", "issue_number": 42, "bot_id": "{bot}", "outcome": "{outcome}", "weight_delta": {delta}}}"#
    )
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `ralph ARGS` in `directory`, without `--repo` and with no standard
/// input: for commands that need no repository.
pub fn ralph_in(directory: &Path, args: &[&str]) -> Output {
    Command::new(RALPH)
        .current_dir(directory)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ralph runs")
}

/// Runs `git ARGS` in `directory` as a test user; its standard output.
pub fn git(directory: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(directory)
        .args(["-c", "user.name=Test", "-c", "user.email=test@localhost"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

impl Repository {
    /// Writes `content` to `path` in the repository and commits it.
    pub fn commit_file(&self, path: &str, content: &str) {
        let file = self.path().join(path);
        std::fs::create_dir_all(file.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&file, content).expect("write");
        git(self.path(), &["add", "--", path]);
        git(
            self.path(),
            &["commit", "--quiet", "-m", &format!("Add {path}")],
        );
    }

    /// A real git repository on `main` after `ralph marketplace setup`, with
    /// `files` (path, content), `config` as `.ralph/config.json`, issue #1
    /// (ready) asking for `checkboxes`, all committed.
    pub fn for_loop(
        files: &[(&str, &str)],
        config: &serde_json::Value,
        checkboxes: &[&str],
    ) -> Repository {
        let repository = Repository::set_up();
        let root = repository.path();
        std::fs::remove_dir(root.join(".git")).expect("remove the placeholder .git");
        git(root, &["init", "--quiet", "--initial-branch=main"]);
        for (path, content) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, content).expect("write");
        }
        std::fs::write(
            root.join(".ralph/config.json"),
            serde_json::to_string_pretty(config).expect("json"),
        )
        .expect("config");
        let boxes: Vec<String> = checkboxes
            .iter()
            .map(|text| format!("- [ ] {text}"))
            .collect();
        std::fs::create_dir_all(root.join(".ralph/issues")).expect("mkdir");
        std::fs::write(
            root.join(".ralph/issues/1.md"),
            format!(
                "---\ntitle: Add numbers\nlabels: [ready]\nstate: open\n---\nAdd functions.\n\n{}\n",
                boxes.join("\n")
            ),
        )
        .expect("issue");
        git(root, &["add", "--all"]);
        git(root, &["commit", "--quiet", "-m", "start"]);
        repository
    }
}
