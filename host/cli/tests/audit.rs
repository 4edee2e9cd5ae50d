//! `ralph audit` on the real binary.

mod common;

use chrono::{Duration, Utc};
use common::{Repository, text};
use ralph_integrations::audit::{AuditEntry, AuditLog, AuditStatus};
use ralph_runtime::capabilities::Capability;

fn entry(hours_ago: i64, plugin: &str, status: AuditStatus) -> AuditEntry {
    AuditEntry {
        time: Utc::now() - Duration::hours(hours_ago),
        plugin: plugin.to_owned(),
        sha256: None,
        name: None,
        capability: Capability::Aws,
        operation: "ecs:DescribeServices".to_owned(),
        parameters: serde_json::json!({"cluster": "prod", "services": ["web"]}),
        status,
        latency_ms: 84,
        bytes: 412,
        error: (status != AuditStatus::Ok).then(|| "denied: not approved".to_owned()),
    }
}

fn logged(repository: &Repository) -> AuditLog {
    let log = AuditLog::new(repository.path().join(".ralph/audit"));
    log.append(&entry(72, "old-reader", AuditStatus::Ok))
        .expect("append");
    log.append(&entry(2, "status-reader", AuditStatus::Ok))
        .expect("append");
    log.append(&entry(0, "status-reader", AuditStatus::Denied))
        .expect("append");
    log
}

#[test]
fn the_table_shows_every_call() {
    let repository = Repository::empty();
    logged(&repository);
    let output = repository.ralph(&["audit"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    let lines: Vec<_> = shown.lines().collect();
    assert_eq!(lines.len(), 4, "{shown}");
    assert!(lines[0].starts_with("time (UTC)"), "{shown}");
    assert!(lines[1].contains("old-reader"), "{shown}");
    assert!(lines[3].contains("ecs:DescribeServices"), "{shown}");
    assert!(lines[3].contains("denied"), "{shown}");
    assert!(
        lines[3].contains("84ms") && lines[3].contains("412"),
        "{shown}"
    );
}

#[test]
fn since_a_duration_leaves_older_calls_out() {
    let repository = Repository::empty();
    logged(&repository);
    let output = repository.ralph(&["audit", "--since", "1h", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["status"], "denied");
    assert_eq!(lines[0]["parameters"]["cluster"], "prod");
    let day = (Utc::now() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let output = repository.ralph(&["audit", "--since", &day, "--json"]);
    assert_eq!(text(&output.stdout).lines().count(), 2);
}

#[test]
fn bad_lines_are_reported_with_file_and_line_and_skipped() {
    let repository = Repository::empty();
    let log = logged(&repository);
    let today = log.file_for(Utc::now().date_naive());
    let mut content = std::fs::read_to_string(&today).expect("read");
    content.push_str("{\"truncated\n");
    std::fs::write(&today, content.as_bytes()).expect("write");
    let output = repository.ralph(&["audit", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let line = content.lines().count();
    let name = today
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let warning = text(&output.stderr);
    assert!(
        warning.contains(&format!(".ralph/audit/{name}:{line}: skipped")),
        "{warning}"
    );
    assert!(text(&output.stdout).lines().count() >= 2);
}

#[test]
fn a_bad_since_is_bad_input() {
    let repository = Repository::empty();
    let output = repository.ralph(&["audit", "--since", "last tuesday"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--since `last tuesday`"));
}

#[test]
fn an_empty_log_says_so() {
    let repository = Repository::empty();
    let output = repository.ralph(&["audit"]);
    assert!(output.status.success());
    assert_eq!(text(&output.stdout), "No integration calls recorded.\n");
}
