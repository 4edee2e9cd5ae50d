//! A plugin's identity is its config entry, never the name it reports:
//! attacks on the real binary by a bidder that claims another plugin's name.

mod common;

use common::chat_server::{ChatServer, Reply};
use common::{Repository, git, text};
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";
const PATCH: &str =
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n";
const TOKEN: &str = "ghp_PLANTEDIDENTITYTOKEN0123456789";

fn audit(repository: &Repository) -> Vec<Value> {
    let output = repository.ralph(&["audit", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("an audit line is JSON"))
        .collect()
}

fn impostor_digest() -> String {
    let bytes =
        std::fs::read(ralph_runtime_fixtures::IMPOSTOR_BIDDER_PATH).expect("the impostor is built");
    ralph_runtime::sandbox::digest_of(&bytes)
}

#[test]
fn a_bidder_claiming_an_approved_plugins_name_gets_none_of_its_approvals() {
    let server = ChatServer::start(|_, _| Reply::status(200, "thanks for the token"));
    // Allow-lists take names, not IP addresses.
    let origin = server.base_url.replace("127.0.0.1", "localhost");
    // The user approved `hostile-bidder` (an older Ralph keyed approvals by
    // the name a plugin reports) and allow-listed the server for it.
    let config = json!({
        "num_bots": 2,
        "bidders": {
            "bidder_1": {"plugin": ralph_runtime_fixtures::IMPOSTOR_BIDDER_PATH,
                         "grants": ["repository"]},
            "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH},
        },
        "specialists": [],
        "checks": [],
        "integrations": {"http_get": {"allow": {"hostile-bidder": [origin]}}},
        // The remote below is never reached: the lease stays local.
        "team": {"leases": "local"},
    });
    let plain = json!([{"summary": "Add two", "patch": PATCH}]);
    let target = format!("Add two (see {origin}/collect)");
    let repository = Repository::for_loop(
        &[
            ("src/lib.rs", LIBRARY),
            ("ralph-script/b.json", &plain.to_string()),
        ],
        &config,
        &[&target],
    );
    let remote = format!("https://x-access-token:{TOKEN}@github.com/owner/repo.git");
    git(repository.path(), &["remote", "add", "origin", &remote]);
    let approvals = repository.path().join(".ralph/approvals.json");
    let legacy =
        json!({"version": 1, "approvals": {"hostile-bidder": ["http-get", "aws", "sentry"]}});
    std::fs::write(&approvals, legacy.to_string()).expect("approvals");

    let output = repository.ralph(&["marketplace", "loop", "1", "--json"]);
    let stdout = text(&output.stdout);

    assert!(
        server.requests().is_empty(),
        "the impostor reached the allow-listed server: {:?}",
        server.requests()
    );
    let summary = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|step| step["step"] == "proposal_received")
        .filter_map(|step| step["summary"].as_str().map(str::to_owned))
        .find(|summary| summary.starts_with("http:"))
        .unwrap_or_else(|| panic!("the impostor proposed nothing: {stdout}"));
    assert!(
        summary.contains("ralph permissions grant bidder_1 http-get"),
        "{summary}"
    );
    // Three calls (http-get, aws, sentry) in each round the impostor
    // proposed in, every one denied.
    let entries = audit(&repository);
    assert!(
        !entries.is_empty() && entries.len().is_multiple_of(3),
        "{entries:?}"
    );
    let digest = impostor_digest();
    for entry in &entries {
        assert_eq!(entry["plugin"], "bidder_1", "{entry}");
        assert_eq!(entry["sha256"], digest.as_str(), "{entry}");
        assert_eq!(entry["name"], "hostile-bidder", "{entry}");
        assert_eq!(entry["status"], "denied", "{entry}");
    }
    // The borrowed approval is neither used nor pinned to the impostor.
    assert_eq!(
        serde_json::from_str::<Value>(&std::fs::read_to_string(&approvals).expect("read"))
            .expect("json"),
        legacy
    );
    assert!(!stdout.contains(TOKEN));
}

#[test]
fn a_grant_names_a_configured_id_and_binds_its_component() {
    let config = json!({
        "specialists": [{"id": "status", "plugin": "bundled:infrastructure"}],
        "checks": [],
    });
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"]);
    let unknown = repository.ralph(&["permissions", "grant", "infrastructure", "aws"]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = text(&unknown.stderr);
    assert!(
        stderr.contains("no plugin with the id `infrastructure`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bidder_1, bidder_2, bidder_3, status"),
        "{stderr}"
    );

    let granted = repository.ralph(&["permissions", "grant", "status", "aws"]);
    assert!(granted.status.success(), "{}", text(&granted.stderr));
    let bundled = ralph_plugins_bundle_digest("infrastructure");
    let approvals: Value = serde_json::from_str(
        &std::fs::read_to_string(repository.path().join(".ralph/approvals.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(
        approvals,
        json!({"version": 2, "approvals": {"status": {"sha256": bundled, "capabilities": ["aws"]}}})
    );
}

/// The digest of the bundled plugin `name`: of the bytes the binary embeds.
fn ralph_plugins_bundle_digest(name: &str) -> String {
    let plugin = ralph_plugins_bundle::find(name).expect("bundled");
    ralph_runtime::sandbox::digest_of(plugin.bytes)
}
