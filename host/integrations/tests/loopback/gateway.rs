//! The gateway's checks, in order: requested, approved, rate-limited; and
//! every outcome audited.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{CALLER_DIGEST, Setup, caller};
use ralph_integrations::audit::AuditStatus;
use ralph_integrations::gateway::{GatewayError, Paths};
use ralph_integrations::prompt::Scripted;
use ralph_integrations::{Decision, Environment, Gateway, NonInteractive};
use ralph_marketplace::Layout;
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::Caller;
use ralph_runtime::integrations::{IntegrationCall, IntegrationError, IntegrationHost};
use serde_json::json;

/// A Sentry call: with no token configured it ends `not-configured` once it
/// passes every check, without any network.
fn sentry_call() -> IntegrationCall {
    IntegrationCall::SentryIssues {
        query: None,
        limit: 5,
    }
}

fn status_of(outcome: &Result<impl std::fmt::Debug, IntegrationError>) -> AuditStatus {
    match outcome {
        Ok(_) => AuditStatus::Ok,
        Err(error) => AuditStatus::of(error),
    }
}

#[tokio::test]
async fn a_capability_the_plugin_did_not_request_is_denied_and_audited() {
    let setup = Setup::new(json!({}), &[], Arc::new(NonInteractive));
    setup.approve("reader", &["sentry"]);
    let error = setup
        .gateway
        .perform(&caller("reader", &[Capability::Aws], 10), sentry_call())
        .await
        .expect_err("denied");
    let IntegrationError::Denied(message) = error else {
        panic!("not a denial: {error:?}");
    };
    assert!(
        message.contains("did not request the `sentry` capability"),
        "{message}"
    );
    assert!(message.contains("its author must add it"), "{message}");
    let audit = setup.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].status, AuditStatus::Denied);
    assert_eq!(audit[0].plugin, "reader");
    assert_eq!(audit[0].capability, Capability::Sentry);
    assert_eq!(audit[0].operation, "sentry:issues");
    assert_eq!(audit[0].parameters, json!({"query": null, "limit": 5}));
}

#[tokio::test]
async fn an_unapproved_call_is_denied_with_the_grant_command_and_audited() {
    let setup = Setup::new(json!({}), &[], Arc::new(NonInteractive));
    let error = setup
        .gateway
        .perform(&caller("reader", &[Capability::Sentry], 10), sentry_call())
        .await
        .expect_err("denied");
    assert_eq!(
        error,
        IntegrationError::Denied(
            "plugin `reader` is not approved to use `sentry`; \
             grant it with `ralph permissions grant reader sentry`"
                .to_owned()
        )
    );
    let audit = setup.audit();
    assert_eq!(audit[0].status, AuditStatus::Denied);
    assert!(
        audit[0]
            .error
            .as_deref()
            .is_some_and(|error| error.contains("ralph permissions grant reader sentry"))
    );
}

#[tokio::test]
async fn an_approved_call_passes_the_gate() {
    let setup = Setup::new(json!({}), &[], Arc::new(NonInteractive));
    setup.approve("reader", &["sentry"]);
    let outcome = setup
        .gateway
        .perform(&caller("reader", &[Capability::Sentry], 10), sentry_call())
        .await;
    assert_eq!(status_of(&outcome), AuditStatus::NotConfigured);
    assert_eq!(setup.audit()[0].status, AuditStatus::NotConfigured);
}

#[tokio::test]
async fn an_approval_for_another_plugin_or_capability_does_not_count() {
    let setup = Setup::new(json!({}), &[], Arc::new(NonInteractive));
    setup.approve("writer", &["sentry"]);
    let outcome = setup
        .gateway
        .perform(&caller("reader", &[Capability::Sentry], 10), sentry_call())
        .await;
    assert_eq!(status_of(&outcome), AuditStatus::Denied);
    setup.approve("reader", &["aws"]);
    let outcome = setup
        .gateway
        .perform(&caller("reader", &[Capability::Sentry], 10), sentry_call())
        .await;
    assert_eq!(status_of(&outcome), AuditStatus::Denied);
}

#[tokio::test]
async fn allow_always_is_written_to_the_approvals_file() {
    let approver = Arc::new(Scripted::new([Decision::AllowAlways]));
    let setup = Setup::new(json!({}), &[], approver.clone());
    let caller = caller("reader", &[Capability::Sentry], 10);
    for _ in 0..2 {
        let outcome = setup.gateway.perform(&caller, sentry_call()).await;
        assert_eq!(status_of(&outcome), AuditStatus::NotConfigured);
    }
    assert_eq!(approver.asked(), ["reader sentry sentry:issues"]);
    let approvals: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(setup.approvals_file()).expect("written"))
            .expect("json");
    assert_eq!(
        approvals,
        json!({"version": 2, "approvals": {"reader": {"sha256": CALLER_DIGEST, "capabilities": ["sentry"]}}})
    );
}

#[tokio::test]
async fn allow_for_the_run_is_remembered_but_not_written() {
    let approver = Arc::new(Scripted::new([Decision::AllowForRun]));
    let setup = Setup::new(json!({}), &[], approver.clone());
    let caller = caller("reader", &[Capability::Sentry], 10);
    for _ in 0..3 {
        let outcome = setup.gateway.perform(&caller, sentry_call()).await;
        assert_eq!(status_of(&outcome), AuditStatus::NotConfigured);
    }
    assert_eq!(approver.asked().len(), 1);
    assert!(!setup.approvals_file().exists());
}

#[tokio::test]
async fn a_refusal_at_the_prompt_is_remembered_for_the_run() {
    let approver = Arc::new(Scripted::new([Decision::Deny("declined".to_owned())]));
    let setup = Setup::new(json!({}), &[], approver.clone());
    let caller = caller("reader", &[Capability::Sentry], 10);
    for _ in 0..2 {
        let outcome = setup.gateway.perform(&caller, sentry_call()).await;
        assert!(
            matches!(outcome, Err(IntegrationError::Denied(ref reason)) if reason == "declined")
        );
    }
    assert_eq!(approver.asked().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_ask_once() {
    let approver = Arc::new(Scripted::new([Decision::AllowForRun]));
    let setup = Arc::new(Setup::new(json!({}), &[], approver.clone()));
    let calls = (0..6).map(|_| {
        let setup = Arc::clone(&setup);
        tokio::spawn(async move {
            setup
                .gateway
                .perform(&caller("reader", &[Capability::Sentry], 10), sentry_call())
                .await
        })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(
            status_of(&call.expect("joined")),
            AuditStatus::NotConfigured
        );
    }
    assert_eq!(approver.asked().len(), 1);
    assert_eq!(setup.audit().len(), 6);
}

#[tokio::test]
async fn a_malformed_approvals_file_denies_naming_the_file_and_is_kept() {
    let setup = Setup::new(json!({}), &[], Arc::new(NonInteractive));
    std::fs::create_dir_all(setup.approvals_file().parent().expect("parent")).expect("mkdir");
    std::fs::write(setup.approvals_file(), "{broken").expect("write");
    let error = setup
        .gateway
        .perform(&caller("reader", &[Capability::Sentry], 10), sentry_call())
        .await
        .expect_err("denied");
    assert!(
        matches!(error, IntegrationError::Denied(ref message) if message.contains("approvals.json: malformed")),
        "{error:?}"
    );
    assert_eq!(
        std::fs::read_to_string(setup.approvals_file()).expect("kept"),
        "{broken"
    );
}

#[tokio::test(start_paused = true)]
async fn a_burst_beyond_the_limit_waits_then_fails_past_the_deadline() {
    let setup = Setup::new(
        json!({"rate_limits": {"sentry": {"per_second": 2, "burst": 2}}}),
        &[],
        Arc::new(NonInteractive),
    );
    setup.approve("reader", &["sentry"]);
    let patient = caller("reader", &[Capability::Sentry], 60);
    let start = tokio::time::Instant::now();
    for _ in 0..2 {
        let outcome = setup.gateway.perform(&patient, sentry_call()).await;
        assert_eq!(status_of(&outcome), AuditStatus::NotConfigured);
    }
    assert_eq!(start.elapsed(), Duration::ZERO, "the burst passes at once");
    let outcome = setup.gateway.perform(&patient, sentry_call()).await;
    assert_eq!(status_of(&outcome), AuditStatus::NotConfigured);
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "the third call waited for its token: {:?}",
        start.elapsed()
    );
    let hurried = caller("reader", &[Capability::Sentry], 0);
    let error = setup
        .gateway
        .perform(&hurried, sentry_call())
        .await
        .expect_err("throttled");
    assert!(
        matches!(error, IntegrationError::RateLimited(ref message) if message.contains("2 calls per second")),
        "{error:?}"
    );
    let statuses: Vec<_> = setup.audit().iter().map(|entry| entry.status).collect();
    assert_eq!(statuses.last(), Some(&AuditStatus::RateLimited));
    assert_eq!(statuses.len(), 4);
}

#[tokio::test]
async fn capabilities_are_limited_separately() {
    let setup = Setup::new(
        json!({"rate_limits": {"sentry": {"per_second": 0.001, "burst": 1}}}),
        &[],
        Arc::new(NonInteractive),
    );
    setup.approve("reader", &["sentry", "alpaca"]);
    let caller = caller("reader", &[Capability::Sentry, Capability::Alpaca], 1);
    let first = setup.gateway.perform(&caller, sentry_call()).await;
    assert_eq!(status_of(&first), AuditStatus::NotConfigured);
    let second = setup.gateway.perform(&caller, sentry_call()).await;
    assert_eq!(status_of(&second), AuditStatus::RateLimited);
    let alpaca = setup
        .gateway
        .perform(&caller, IntegrationCall::AlpacaAccount)
        .await;
    assert_eq!(status_of(&alpaca), AuditStatus::NotConfigured);
}

#[tokio::test]
async fn the_gateway_is_the_runtimes_integration_host() {
    let setup = Setup::new(json!({}), &[], Arc::new(NonInteractive));
    let host: &dyn IntegrationHost = setup.gateway.as_ref();
    let outcome = host
        .call(&caller("reader", &[Capability::Sentry], 10), sentry_call())
        .await;
    assert_eq!(status_of(&outcome), AuditStatus::Denied);
    assert_eq!(setup.audit().len(), 1);
}

#[tokio::test]
async fn no_reply_leaves_without_its_audit_line() {
    let server = crate::common::Server::start(|_| crate::common::Answer::text(200, "fine")).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let blocker = directory.path().join("audit");
    std::fs::write(&blocker, "a file where the audit directory should be").expect("write");
    let approvals = directory.path().join("approvals.json");
    std::fs::write(
        &approvals,
        r#"{"version": 1, "approvals": {"reader": ["alpaca", "http-get"]}}"#,
    )
    .expect("write");
    let config = json!({"http_get": {"allow": {"reader": [server.origin()]}}});
    let gateway = Gateway::new(
        ralph_integrations::IntegrationsConfig::from_value(Some(&config)).expect("valid"),
        &Environment::default(),
        Paths {
            approvals_file: approvals,
            audit_dir: blocker,
        },
        Arc::new(NonInteractive),
    )
    .expect("gateway");
    let caller = caller("reader", &[Capability::Alpaca, Capability::HttpGet], 10);
    let error = gateway
        .perform(
            &caller,
            IntegrationCall::HttpGet {
                url: server.origin(),
            },
        )
        .await
        .expect_err("not delivered");
    assert!(
        matches!(error, IntegrationError::Failed(ref message) if message.contains("cannot write the audit log")),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
    // A failed call keeps its own error when the audit cannot be written.
    let outcome = gateway
        .perform(&caller, IntegrationCall::AlpacaAccount)
        .await;
    assert_eq!(status_of(&outcome), AuditStatus::NotConfigured);
}

#[test]
fn a_bad_config_names_the_file_and_the_field() {
    let directory = tempfile::tempdir().expect("temp dir");
    let layout = Layout::new(directory.path());
    let section = json!({"aws": {"endpoint": "https://localhost:4566", "regin": "x"}});
    let error = Gateway::from_config(
        &layout,
        Some(&section),
        &Environment::default(),
        Arc::new(NonInteractive),
    )
    .err()
    .expect("refused");
    assert!(matches!(error, GatewayError::Config { .. }));
    let message = error.to_string();
    assert!(message.contains(".ralph/config.json"), "{message}");
    assert!(
        message.contains("field `integrations.aws.regin`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_gateway_from_the_repository_layout_audits_under_dot_ralph() {
    let directory = tempfile::tempdir().expect("temp dir");
    let layout = Layout::new(directory.path());
    let gateway = Gateway::from_config(
        &layout,
        None,
        &Environment::default(),
        Arc::new(NonInteractive),
    )
    .expect("gateway");
    let started = Instant::now();
    let _ = gateway
        .perform(&caller("reader", &[Capability::Aws], 10), sentry_call())
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(layout.audit_dir().is_dir());
}

/// A second gateway on `setup`'s files, as the next run of Ralph makes.
fn restarted(setup: &Setup) -> Gateway {
    Gateway::new(
        ralph_integrations::IntegrationsConfig::from_value(None).expect("defaults"),
        &Environment::from_pairs(std::iter::empty::<(&str, &str)>()),
        Paths {
            approvals_file: setup.approvals_file(),
            audit_dir: setup.directory.path().join(".ralph/audit"),
        },
        Arc::new(NonInteractive),
    )
    .expect("gateway")
}

fn with_digest(caller: Caller, digest: &str) -> Caller {
    Caller {
        digest: digest.to_owned(),
        ..caller
    }
}

#[tokio::test]
async fn an_approval_survives_a_restart_for_the_same_component_and_lapses_for_a_changed_one() {
    let setup = Setup::new(
        json!({}),
        &[],
        Arc::new(Scripted::new([Decision::AllowAlways])),
    );
    let reader = caller("reader", &[Capability::Sentry], 10);
    let outcome = setup.gateway.perform(&reader, sentry_call()).await;
    assert_eq!(status_of(&outcome), AuditStatus::NotConfigured, "approved");

    let next_run = restarted(&setup);
    let outcome = next_run.perform(&reader, sentry_call()).await;
    assert_eq!(
        status_of(&outcome),
        AuditStatus::NotConfigured,
        "still approved"
    );

    let changed_digest = "d".repeat(64);
    let changed = with_digest(reader.clone(), &changed_digest);
    let error = next_run
        .perform(&changed, sentry_call())
        .await
        .expect_err("a changed component is not approved");
    let IntegrationError::Denied(message) = error else {
        panic!("not a denial: {error:?}");
    };
    assert!(message.contains("must be approved again"), "{message}");
    assert!(
        message.contains("ralph permissions grant reader sentry"),
        "{message}"
    );
    let audit = setup.audit();
    let last = audit.last().expect("audited");
    assert_eq!(last.status, AuditStatus::Denied);
    assert_eq!(last.plugin, "reader");
    assert_eq!(last.sha256.as_deref(), Some(changed_digest.as_str()));
}

#[tokio::test]
async fn an_old_approvals_file_carries_over_to_the_entry_with_that_id_pinned_at_first_use() {
    let setup = Setup::new(json!({}), &[], Arc::new(NonInteractive));
    setup.approve("reader", &["sentry"]);
    let reader = caller("reader", &[Capability::Sentry], 10);
    let outcome = setup.gateway.perform(&reader, sentry_call()).await;
    assert_eq!(
        status_of(&outcome),
        AuditStatus::NotConfigured,
        "carried over"
    );
    let approvals: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(setup.approvals_file()).expect("read"))
            .expect("json");
    assert_eq!(
        approvals,
        json!({"version": 2, "approvals": {"reader": {"sha256": CALLER_DIGEST, "capabilities": ["sentry"]}}}),
        "pinned to the component that first used it"
    );
    let other = with_digest(reader, &"e".repeat(64));
    let outcome = setup.gateway.perform(&other, sentry_call()).await;
    assert_eq!(status_of(&outcome), AuditStatus::Denied, "pinned once");
}

#[tokio::test]
async fn a_plugin_claiming_an_approved_name_is_denied_under_its_own_id() {
    let setup = Setup::new(
        json!({"http_get": {"allow": {"status-reader": ["http://localhost:9"]}}}),
        &[],
        Arc::new(NonInteractive),
    );
    setup.approve("status-reader", &["http-get", "sentry"]);
    let impostor = Caller {
        name: "status-reader".to_owned(),
        ..caller("bidder_2", &[Capability::HttpGet, Capability::Sentry], 10)
    };
    for call in [
        IntegrationCall::HttpGet {
            url: "http://localhost:9/collect".to_owned(),
        },
        sentry_call(),
    ] {
        let outcome = setup.gateway.perform(&impostor, call).await;
        assert_eq!(status_of(&outcome), AuditStatus::Denied);
    }
    for entry in setup.audit() {
        assert_eq!(entry.plugin, "bidder_2");
        assert_eq!(entry.name.as_deref(), Some("status-reader"));
        assert_eq!(entry.sha256.as_deref(), Some(CALLER_DIGEST));
    }
    let unloaded = Caller {
        id: None,
        ..caller("status-reader", &[Capability::Sentry], 10)
    };
    let outcome = setup.gateway.perform(&unloaded, sentry_call()).await;
    assert_eq!(
        status_of(&outcome),
        AuditStatus::Denied,
        "no entry, no approval"
    );
    assert_eq!(
        setup.audit().last().map(|entry| entry.plugin.clone()),
        Some("-".to_owned())
    );
}
