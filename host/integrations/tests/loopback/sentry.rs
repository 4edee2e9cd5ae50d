//! Sentry through the gateway, against a loopback stand-in.

use std::sync::Arc;

use crate::common::{Answer, Server, Setup, caller};
use ralph_integrations::NonInteractive;
use ralph_integrations::audit::AuditStatus;
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::{IntegrationCall, IntegrationError, IntegrationReply};
use serde_json::json;

const TOKEN: &str = "sntrys_planted_token_value_0123456789";

fn issues() -> serde_json::Value {
    json!([
        {
            "id": "4501", "shortId": "WEB-1A", "title": "KeyError: user_id",
            "culprit": "app.views in profile", "level": "error", "status": "unresolved",
            "count": "12", "userCount": 3,
            "firstSeen": "2026-11-20T10:00:00Z", "lastSeen": "2026-11-21T09:00:00Z",
            "permalink": "https://sentry.example/acme/web/issues/4501/"
        },
        {
            "id": "4502", "shortId": "WEB-1B",
            "title": format!("Auth failed with Bearer {TOKEN} for AKIAIOSFODNN7EXAMPLE"),
            "culprit": null, "level": "warning", "status": "unresolved",
            "count": 1, "userCount": 0, "firstSeen": "2026-11-21T08:00:00Z", "lastSeen": null
        }
    ])
}

fn events() -> serde_json::Value {
    json!([
        {"eventID": "e3", "dateCreated": "2026-11-21T09:00:00Z", "message": "", "title": "KeyError: user_id", "platform": "python"},
        {"eventID": "e2", "dateCreated": "2026-11-21T08:00:00Z", "message": "api_key=abc123secret leaked", "platform": "python"},
        {"eventID": "e1", "dateCreated": "2026-11-20T10:00:00Z", "message": "first", "platform": "python"}
    ])
}

async fn server() -> Server {
    Server::start(|request| {
        if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return Answer::text(401, r#"{"detail": "Invalid token"}"#);
        }
        if request
            .target
            .starts_with("/api/0/projects/acme/web/issues/?")
        {
            Answer::json(issues())
        } else if request.target == "/api/0/issues/4501/events/?full=false" {
            Answer::json(events())
        } else {
            Answer::text(
                404,
                r#"{"detail": "The requested resource does not exist"}"#,
            )
        }
    })
    .await
}

fn setup(server: &Server, token: &str) -> Setup {
    let setup = Setup::new(
        json!({"sentry": {"base_url": server.origin(), "organization": "acme", "project": "web"}}),
        &[("SENTRY_AUTH_TOKEN", token)],
        Arc::new(NonInteractive),
    );
    setup.approve("triage", &["sentry"]);
    setup
}

#[tokio::test]
async fn issues_are_read_with_the_bearer_token_and_mapped() {
    let server = server().await;
    let setup = setup(&server, TOKEN);
    let reply = setup
        .gateway
        .perform(
            &caller("triage", &[Capability::Sentry], 10),
            IntegrationCall::SentryIssues {
                query: Some("is:unresolved level:error".to_owned()),
                limit: 25,
            },
        )
        .await
        .expect("issues");
    let IntegrationReply::SentryIssues { issues } = reply else {
        panic!("wrong reply: {reply:?}");
    };
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].short_id, "WEB-1A");
    assert_eq!(issues[0].count, 12);
    assert_eq!(issues[0].user_count, 3);
    assert_eq!(issues[0].culprit, "app.views in profile");
    assert_eq!(issues[1].culprit, "");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].target,
        "/api/0/projects/acme/web/issues/?query=is%3Aunresolved+level%3Aerror&limit=25"
    );
}

#[tokio::test]
async fn planted_secrets_never_reach_the_reply_or_the_audit_log() {
    let server = server().await;
    let setup = setup(&server, TOKEN);
    let caller = caller("triage", &[Capability::Sentry], 10);
    let reply = setup
        .gateway
        .perform(
            &caller,
            IntegrationCall::SentryIssues {
                query: None,
                limit: 5,
            },
        )
        .await
        .expect("issues");
    let shown = serde_json::to_string(&reply).expect("json");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "{shown}");
    assert!(
        shown.contains("Auth failed with Bearer [REDACTED] for AKIA[REDACTED]"),
        "{shown}"
    );
    // A parameter holding the token is redacted in the audit log too.
    setup
        .gateway
        .perform(
            &caller,
            IntegrationCall::SentryIssues {
                query: Some(format!("message:{TOKEN}")),
                limit: 5,
            },
        )
        .await
        .expect("issues");
    let audit = setup.audit_text();
    assert!(!audit.contains(TOKEN), "{audit}");
    assert!(audit.contains("message:[REDACTED]"), "{audit}");
}

#[tokio::test]
async fn an_issues_latest_events_are_newest_first_and_limited() {
    let server = server().await;
    let setup = setup(&server, TOKEN);
    let reply = setup
        .gateway
        .perform(
            &caller("triage", &[Capability::Sentry], 10),
            IntegrationCall::SentryLatestEvents {
                issue_id: "4501".to_owned(),
                limit: 2,
            },
        )
        .await
        .expect("events");
    let IntegrationReply::SentryEvents { events } = reply else {
        panic!("wrong reply: {reply:?}");
    };
    let ids: Vec<_> = events.iter().map(|event| event.id.as_str()).collect();
    assert_eq!(ids, ["e3", "e2"]);
    assert_eq!(events[0].message, "KeyError: user_id");
    assert_eq!(events[1].message, "api_key=[REDACTED] leaked");
    let audit = setup.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].operation, "sentry:latest-events");
    assert_eq!(audit[0].parameters, json!({"issue_id": "4501", "limit": 2}));
    assert_eq!(audit[0].status, AuditStatus::Ok);
    assert!(audit[0].bytes > 0);
}

#[tokio::test]
async fn a_refused_token_fails_with_sentrys_answer_and_is_audited() {
    let server = server().await;
    let setup = setup(&server, "sntrys_wrong_token_value_987654");
    let error = setup
        .gateway
        .perform(
            &caller("triage", &[Capability::Sentry], 10),
            IntegrationCall::SentryIssues {
                query: None,
                limit: 5,
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(
        error,
        IntegrationError::Failed(r#"sentry answered 401: {"detail": "Invalid token"}"#.to_owned())
    );
    let audit = setup.audit();
    assert_eq!(audit[0].status, AuditStatus::Failed);
    assert_eq!(audit[0].bytes, 0);
    assert!(
        audit[0]
            .error
            .as_deref()
            .is_some_and(|error| error.contains("401"))
    );
}
