//! Integrations in a real loop: a scripted bidder consults the bundled
//! `trading` specialist, which reads an Alpaca stand-in on loopback through
//! the integration gateway, and only once the user approved it.

mod common;

use std::process::Output;

use common::chat_server::{ChatServer, Reply};
use common::{Repository, text};
use serde_json::{Value, json};

const KEY_ID: &str = "PKLOOPTESTKEYID000001";
const SECRET: &str = "loop/planted+alpaca/secret0123456789";
const ACCOUNT_NUMBER: &str = "PA9LOOPTEST42";
const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";
const PATCH: &str =
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n";

/// Alpaca's account, positions and open orders, for the right key only.
fn alpaca() -> ChatServer {
    ChatServer::start(|_, request| {
        if request.header("apca-api-key-id") != Some(KEY_ID)
            || request.header("apca-api-secret-key") != Some(SECRET)
        {
            return Reply::status(403, r#"{"message": "forbidden."}"#);
        }
        let body = match request.path.as_str() {
            "/v2/account" => json!({
                "account_number": ACCOUNT_NUMBER, "status": "ACTIVE", "currency": "USD",
                "cash": "4000.32", "portfolio_value": "10320.5", "buying_power": "8000.64",
                "trading_blocked": false
            }),
            "/v2/positions" => json!([{"symbol": "AAPL", "qty": "5", "side": "long",
                "market_value": "950.00", "unrealized_pl": "12.50"}]),
            path if path.starts_with("/v2/orders?status=open") => json!([{
                "id": "o-1", "symbol": "MSFT", "qty": "3", "side": "buy", "type": "limit",
                "status": "new", "submitted_at": "2026-11-21T09:00:00Z",
                "client_order_id": format!("for account {ACCOUNT_NUMBER}")
            }]),
            _ => return Reply::status(404, "{}"),
        };
        Reply::status(200, &body.to_string())
    })
}

/// Two scripted bidders; `a` consults `trading` before it proposes.
fn repository(server: &ChatServer) -> Repository {
    let scripted = |path: &str| json!({"plugin": path, "grants": ["repository", "consult"]});
    let config = json!({
        "num_bots": 2,
        "bidders": {
            "bidder_1": scripted(ralph_broker_fixtures::SCRIPTED_A_PATH),
            "bidder_2": scripted(ralph_broker_fixtures::SCRIPTED_B_PATH),
        },
        "specialists": [{"plugin": "bundled:trading"}],
        "checks": [],
        "integrations": {
            "alpaca": {"base_url": server.base_url},
            "redact": {"account_numbers": [ACCOUNT_NUMBER]}
        },
    });
    let consulting = json!([{"summary": "Add two", "patch": PATCH, "consult": ["trading", "How is the account?"]}]);
    let plain = json!([{"summary": "Add two", "patch": PATCH}]);
    Repository::for_loop(
        &[
            ("src/lib.rs", LIBRARY),
            ("ralph-script/a.json", &consulting.to_string()),
            ("ralph-script/b.json", &plain.to_string()),
        ],
        &config,
        &["Add two"],
    )
}

fn run_loop(repository: &Repository) -> Output {
    repository
        .command(&["marketplace", "loop", "1", "--json"])
        .env("APCA_API_KEY_ID", KEY_ID)
        .env("APCA_API_SECRET_KEY", SECRET)
        .output()
        .expect("ralph runs")
}

/// The summary of the proposal that consulted `trading`.
fn consulting_summary(output: &Output) -> String {
    text(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|step| step["step"] == "proposal_received")
        .filter_map(|step| step["summary"].as_str().map(str::to_owned))
        .find(|summary| summary.contains("[trading:"))
        .unwrap_or_else(|| panic!("no consulting proposal in {}", text(&output.stdout)))
}

/// Every file under `.ralph/` but the config (which names the account
/// number to redact), as text, for secret hunting.
fn ralph_files(repository: &Repository) -> String {
    fn walk(directory: &std::path::Path, text: &mut String) {
        for entry in std::fs::read_dir(directory).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.ends_with(".ralph/config.json") {
                continue;
            }
            if path.is_dir() {
                walk(&path, text);
            } else if let Ok(content) = std::fs::read(&path) {
                text.push_str(&String::from_utf8_lossy(&content));
            }
        }
    }
    let mut text = String::new();
    walk(&repository.path().join(".ralph"), &mut text);
    text
}

fn audit(repository: &Repository) -> Vec<Value> {
    let output = repository.ralph(&["audit", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("an audit line is JSON"))
        .collect()
}

#[test]
fn an_approved_specialist_reads_alpaca_for_a_bidder_and_no_secret_is_kept() {
    let server = alpaca();
    let repository = repository(&server);
    let granted = repository.ralph(&["permissions", "grant", "trading", "alpaca"]);
    assert!(granted.status.success(), "{}", text(&granted.stderr));

    let output = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = consulting_summary(&output);
    assert!(summary.contains("Account ACTIVE (paper), USD"), "{summary}");
    assert!(summary.contains("AAPL long 5"), "{summary}");
    assert!(summary.contains("buy 3 MSFT limit"), "{summary}");
    assert_eq!(server.requests().len(), 3, "{:?}", server.requests());

    let entries = audit(&repository);
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(
        entries
            .iter()
            .all(|entry| entry["plugin"] == "trading" && entry["status"] == "ok"),
        "{entries:?}"
    );
    let everything = format!(
        "{}{}{}",
        text(&output.stdout),
        text(&output.stderr),
        ralph_files(&repository)
    );
    for secret in [KEY_ID, SECRET, ACCOUNT_NUMBER] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}

#[test]
fn without_an_approval_or_a_terminal_the_call_is_denied_audited_and_explained() {
    let server = alpaca();
    let repository = repository(&server);
    let output = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = consulting_summary(&output);
    assert!(
        summary.contains("ralph permissions grant trading alpaca"),
        "{summary}"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    let entries = audit(&repository);
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .all(|entry| entry["plugin"] == "trading" && entry["status"] == "denied"),
        "{entries:?}"
    );
}
