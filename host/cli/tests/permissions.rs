//! `ralph permissions list|grant|revoke` on the real binary.

mod common;

use common::{Repository, text};

/// An empty repository whose config has plugins with the ids `reader` and
/// `status-reader`.
fn configured() -> Repository {
    let repository = Repository::empty();
    std::fs::create_dir_all(repository.path().join(".ralph")).expect("mkdir");
    let config = serde_json::json!({"specialists": [
        {"id": "status-reader", "plugin": "bundled:infrastructure"},
        {"id": "reader", "plugin": "bundled:trading"}]});
    std::fs::write(
        repository.path().join(".ralph/config.json"),
        config.to_string(),
    )
    .expect("config");
    repository
}

/// The SHA-256 of the bundled plugin `name`.
fn digest(name: &str) -> String {
    let plugin = ralph_plugins_bundle::find(name).expect("bundled");
    ralph_runtime::sandbox::digest_of(plugin.bytes)
}

fn approvals(repository: &Repository) -> serde_json::Value {
    let path = repository.path().join(".ralph/approvals.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("approvals file")).expect("json")
}

#[test]
fn grant_writes_the_approval_and_list_shows_it() {
    let repository = configured();
    let output = repository.ralph(&["permissions", "grant", "status-reader", "aws"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "Approved `aws` for plugin `status-reader` (component sha256 {}) in .ralph/approvals.json\n",
            &digest("infrastructure")[..12]
        )
    );
    repository.ralph(&["permissions", "grant", "status-reader", "http-get"]);
    assert_eq!(
        approvals(&repository),
        serde_json::json!({"version": 2, "approvals": {"status-reader": {
            "sha256": digest("infrastructure"), "capabilities": ["aws", "http-get"]}}})
    );
    let listed = text(&repository.ralph(&["permissions", "list"]).stdout);
    let row = format!(
        "status-reader  {}  aws, http-get",
        &digest("infrastructure")[..12]
    );
    assert!(listed.contains(&row), "{listed}");
    let json: serde_json::Value = serde_json::from_str(&text(
        &repository.ralph(&["permissions", "list", "--json"]).stdout,
    ))
    .expect("json");
    assert_eq!(
        json["approvals"]["status-reader"]["capabilities"],
        serde_json::json!(["aws", "http-get"])
    );
}

#[test]
fn granting_twice_changes_nothing() {
    let repository = configured();
    repository.ralph(&["permissions", "grant", "reader", "sentry"]);
    let before = approvals(&repository);
    let output = repository.ralph(&["permissions", "grant", "reader", "sentry"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("already has `sentry`"));
    assert_eq!(approvals(&repository), before);
}

#[test]
fn revoke_withdraws_the_approval() {
    let repository = configured();
    repository.ralph(&["permissions", "grant", "reader", "alpaca"]);
    let output = repository.ralph(&["permissions", "revoke", "reader", "alpaca"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "Withdrew `alpaca` from plugin `reader`\n"
    );
    assert_eq!(
        approvals(&repository),
        serde_json::json!({"version": 2, "approvals": {}})
    );
    let again = repository.ralph(&["permissions", "revoke", "reader", "alpaca"]);
    assert!(again.status.success());
    assert!(text(&again.stdout).contains("nothing changed"));
}

#[test]
fn an_unknown_capability_is_bad_input_listing_the_known_ones() {
    let repository = Repository::empty();
    let output = repository.ralph(&["permissions", "grant", "reader", "telnet"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: unknown capability `telnet`; known integration capabilities: aws, sentry, alpaca, http-get\n"
    );
    assert!(!repository.path().join(".ralph/approvals.json").exists());
}

#[test]
fn a_capability_that_is_not_an_integration_is_refused() {
    let repository = Repository::empty();
    let output = repository.ralph(&["permissions", "revoke", "reader", "repository"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("granted in .ralph/config.json, not here"));
}

#[test]
fn a_grant_for_an_id_the_config_does_not_have_is_refused_listing_the_ids() {
    let repository = configured();
    let output = repository.ralph(&["permissions", "grant", "trading", "alpaca"]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(
        message.contains("no plugin with the id `trading`"),
        "{message}"
    );
    assert!(message.contains("status-reader, reader"), "{message}");
    assert!(!repository.path().join(".ralph/approvals.json").exists());
}

#[test]
fn a_plugin_name_with_spaces_is_refused() {
    let repository = Repository::empty();
    let output = repository.ralph(&["permissions", "grant", "my reader", "aws"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("is not a plugin name"));
}

#[test]
fn a_malformed_approvals_file_is_named_and_kept() {
    let repository = configured();
    let path = repository.path().join(".ralph/approvals.json");
    std::fs::write(&path, "{\"version\": 1, \"approvals\": [").expect("write");
    for args in [
        &["permissions", "grant", "reader", "aws"][..],
        &["permissions", "list"][..],
    ] {
        let output = repository.ralph(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = text(&output.stderr);
        assert!(
            message.contains("approvals.json: malformed approvals"),
            "{message}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&path).expect("kept"),
        "{\"version\": 1, \"approvals\": ["
    );
}

#[test]
fn setup_ignores_approvals_and_an_older_gitignore_learns_to() {
    let repository = Repository::set_up();
    let ignore =
        std::fs::read_to_string(repository.path().join(".ralph/.gitignore")).expect("read");
    assert!(
        ignore.lines().any(|line| line == "approvals.json"),
        "{ignore}"
    );
    assert!(ignore.lines().any(|line| line == "audit/"), "{ignore}");

    let older = Repository::empty();
    std::fs::create_dir_all(older.path().join(".ralph")).expect("mkdir");
    std::fs::write(older.path().join(".ralph/.gitignore"), "marketplace.json").expect("write");
    // Without a config, the default lineup's ids are the ones to approve.
    let granted = older.ralph(&["permissions", "grant", "rust-conventions", "aws"]);
    assert!(granted.status.success(), "{}", text(&granted.stderr));
    assert_eq!(
        std::fs::read_to_string(older.path().join(".ralph/.gitignore")).expect("read"),
        "marketplace.json\napprovals.json\naudit/\n"
    );
}

#[test]
fn an_empty_list_says_how_to_approve() {
    let repository = Repository::empty();
    let output = repository.ralph(&["permissions", "list"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("ralph permissions grant PLUGIN CAPABILITY"));
}

#[test]
fn list_shows_the_allow_lists_and_checks_the_integrations_config() {
    let repository = Repository::set_up();
    let config = repository.path().join(".ralph/config.json");
    std::fs::write(
        &config,
        r#"{"integrations": {"http_get": {"allow": {"status-reader": ["https://status.example.com"]}}}}"#,
    )
    .expect("write config");
    let output = repository.ralph(&["permissions", "list"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("  status-reader: https://status.example.com:443\n"),
        "{}",
        text(&output.stdout)
    );
    let json: serde_json::Value = serde_json::from_str(&text(
        &repository.ralph(&["permissions", "list", "--json"]).stdout,
    ))
    .expect("json");
    assert_eq!(
        json["http_get_allow"]["status-reader"],
        serde_json::json!(["https://status.example.com:443"])
    );

    std::fs::write(&config, r#"{"integrations": {"http_get": {"alow": {}}}}"#).expect("write");
    let output = repository.ralph(&["permissions", "list"]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(message.contains(".ralph/config.json"), "{message}");
    assert!(message.contains("integrations.http_get.alow"), "{message}");
}
