//! The integration imports (`aws`, `sentry`, `alpaca`, `http-get`) through a
//! fake `IntegrationHost`: what reaches the host, what the plugin gets back,
//! and what never reaches the host.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::{TestResult, hostile, repository, request, runtime_with};
use futures::future::BoxFuture;
use ralph_runtime::integrations::{
    AlpacaAccount, AlpacaOrder, AlpacaPosition, Caller, EcsService, EcsServices, HttpResponse,
    IntegrationCall, IntegrationError, IntegrationHost, IntegrationReply, LogEvent, LogStream,
    OrderStatus, SentryEvent, SentryIssue,
};
use ralph_runtime::{
    Capability, FileChange, Finding, Limits, PluginError, Proposal, Runtime, Severity,
    SpecialistPlugin,
};

type Answer = Result<IntegrationReply, IntegrationError>;

/// One call as the host saw it, with when it arrived.
#[derive(Debug, Clone)]
struct Seen {
    caller: Caller,
    call: IntegrationCall,
    at: Instant,
}

/// Records every call and answers with `answer`; like the real host, it
/// denies a capability the caller did not request.
struct FakeHost {
    seen: Mutex<Vec<Seen>>,
    answer: Box<dyn Fn(&IntegrationCall) -> Answer + Send + Sync>,
}

impl FakeHost {
    fn new(answer: impl Fn(&IntegrationCall) -> Answer + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        })
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn calls(&self) -> Vec<IntegrationCall> {
        self.seen().into_iter().map(|seen| seen.call).collect()
    }
}

impl IntegrationHost for FakeHost {
    fn call<'a>(&'a self, caller: &'a Caller, call: IntegrationCall) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Seen {
                    caller: caller.clone(),
                    call: call.clone(),
                    at: Instant::now(),
                });
            if !caller.requested.contains(&call.capability()) {
                return Err(IntegrationError::Denied(format!(
                    "{} did not request {}",
                    caller.who(),
                    call.capability()
                )));
            }
            (self.answer)(&call)
        })
    }
}

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(5),
        ..Limits::default()
    }
}

fn runtime(repository: &Path, host: Arc<dyn IntegrationHost>) -> Result<Runtime, PluginError> {
    runtime_with(repository, |options| options.with_integrations(host))
}

async fn specialist(
    runtime: &Runtime,
    name: &str,
) -> Result<Arc<SpecialistPlugin>, Box<dyn std::error::Error>> {
    let plugin = ralph_plugins_bundle::find(name).ok_or("not bundled")?;
    let grants = plugin
        .capabilities
        .iter()
        .filter_map(|name| name.parse::<Capability>().ok())
        .filter(|capability| !capability.is_integration());
    Ok(runtime
        .load_specialist(name, Path::new(name), plugin.bytes, grants, limits())
        .await?)
}

fn proposal_touching(paths: &[&str]) -> Proposal {
    Proposal {
        summary: "Change the deployment".to_owned(),
        pseudo_code: String::new(),
        requirements_covered: vec![],
        files: paths
            .iter()
            .map(|path| FileChange {
                path: (*path).to_owned(),
                estimated_lines: 10,
            })
            .collect(),
        planned_tests: vec![],
        patch: None,
        self_estimate: ralph_runtime::DimensionScores {
            spec_alignment: 0.5,
            technical_quality: 0.5,
            innovation: 0.5,
            risk: 0.5,
            efficiency: 0.5,
        },
    }
}

fn service(name: &str, desired: u32, running: u32, events: &[&str]) -> EcsService {
    EcsService {
        name: name.to_owned(),
        status: "ACTIVE".to_owned(),
        desired_count: desired,
        running_count: running,
        pending_count: desired - running,
        task_definition: format!("arn:aws:ecs:eu-west-1:1:task-definition/{name}:7"),
        recent_events: events.iter().map(|event| (*event).to_owned()).collect(),
    }
}

/// An AWS account where `worker` is degraded and the api logs an error.
fn aws_answers(call: &IntegrationCall) -> Answer {
    match call {
        IntegrationCall::EcsDescribeServices { .. } => {
            Ok(IntegrationReply::EcsServices(EcsServices {
                services: vec![
                    service("api", 3, 3, &["(service api) has reached a steady state."]),
                    service(
                        "worker",
                        3,
                        1,
                        &["(service worker) is unable to place a task."],
                    ),
                ],
                failures: vec!["arn:aws:ecs:eu-west-1:1:service/prod/gone MISSING".to_owned()],
            }))
        }
        IntegrationCall::LogsDescribeLogStreams { .. } => Ok(IntegrationReply::LogStreams {
            streams: vec![LogStream {
                name: "api/web/1f2e".to_owned(),
                last_event_ms: Some(1_700_000_000_000),
            }],
        }),
        IntegrationCall::LogsGetLogEvents { .. } => Ok(IntegrationReply::LogEvents {
            events: vec![
                LogEvent {
                    timestamp_ms: 1_700_000_000_000,
                    message: "GET /health 200".to_owned(),
                },
                LogEvent {
                    timestamp_ms: 1_700_000_000_500,
                    message: "ERROR database timeout after 30s".to_owned(),
                },
            ],
        }),
        other => Err(IntegrationError::Failed(format!("unexpected {other:?}"))),
    }
}

fn sentry_issue(short_id: &str, count: u64, culprit: &str) -> SentryIssue {
    SentryIssue {
        id: format!("id-{short_id}"),
        short_id: short_id.to_owned(),
        title: format!("KeyError in {short_id}"),
        culprit: culprit.to_owned(),
        level: "error".to_owned(),
        status: "unresolved".to_owned(),
        count,
        user_count: count / 10,
        first_seen: "2026-11-01T10:00:00Z".to_owned(),
        last_seen: "2026-11-21T10:00:00Z".to_owned(),
    }
}

fn sentry_answers(call: &IntegrationCall) -> Answer {
    match call {
        IntegrationCall::SentryIssues { .. } => Ok(IntegrationReply::SentryIssues {
            issues: vec![
                sentry_issue("WEB-1", 12, "app.views.profile in show"),
                sentry_issue("WEB-2", 340, "app.checkout.cart in total"),
            ],
        }),
        IntegrationCall::SentryLatestEvents { issue_id, .. } => {
            Ok(IntegrationReply::SentryEvents {
                events: vec![SentryEvent {
                    id: "e1".to_owned(),
                    date: "2026-11-21T10:00:00Z".to_owned(),
                    message: format!("KeyError: 'price' ({issue_id})"),
                    platform: "python".to_owned(),
                }],
            })
        }
        other => Err(IntegrationError::Failed(format!("unexpected {other:?}"))),
    }
}

fn alpaca_answers(blocked: bool) -> impl Fn(&IntegrationCall) -> Answer {
    move |call| match call {
        IntegrationCall::AlpacaAccount => Ok(IntegrationReply::AlpacaAccount(AlpacaAccount {
            status: "ACTIVE".to_owned(),
            currency: "USD".to_owned(),
            cash: "1000.50".to_owned(),
            portfolio_value: "5400.00".to_owned(),
            buying_power: "2000.00".to_owned(),
            trading_blocked: blocked,
            paper: true,
        })),
        IntegrationCall::AlpacaPositions => Ok(IntegrationReply::AlpacaPositions {
            positions: vec![AlpacaPosition {
                symbol: "AAPL".to_owned(),
                qty: "10".to_owned(),
                side: "long".to_owned(),
                market_value: "1900.00".to_owned(),
                unrealized_pl: "12.50".to_owned(),
            }],
        }),
        IntegrationCall::AlpacaOrders { .. } => Ok(IntegrationReply::AlpacaOrders {
            orders: vec![AlpacaOrder {
                id: "o1".to_owned(),
                symbol: "MSFT".to_owned(),
                qty: "5".to_owned(),
                side: "buy".to_owned(),
                order_type: "limit".to_owned(),
                status: "new".to_owned(),
                submitted_at: "2026-11-21T09:30:00Z".to_owned(),
            }],
        }),
        other => Err(IntegrationError::Failed(format!("unexpected {other:?}"))),
    }
}

fn warnings_on<'a>(findings: &'a [Finding], file: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|finding| finding.severity == Severity::Warning)
        .filter(|finding| finding.file.as_deref() == Some(file))
        .collect()
}

#[tokio::test]
async fn infrastructure_answers_from_service_counts_events_and_error_logs() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(aws_answers);
    let runtime = runtime(repository.path(), host.clone())?;
    specialist(&runtime, "infrastructure").await?;
    let question = "Is the api healthy? cluster=prod services=api,worker log-group=/ecs/api";
    let answer = runtime.ask("infrastructure", question).await?.value;
    assert!(
        answer.contains("api is healthy: 3/3 tasks running"),
        "{answer}"
    );
    assert!(answer.contains("worker is degraded: 1/3"), "{answer}");
    assert!(answer.contains("unable to place a task"), "{answer}");
    assert!(answer.contains("not found: arn:aws:ecs"), "{answer}");
    assert!(answer.contains("ERROR database timeout"), "{answer}");
    assert!(!answer.contains("GET /health"), "{answer}");
    assert_eq!(
        host.calls(),
        [
            IntegrationCall::EcsDescribeServices {
                cluster: "prod".to_owned(),
                services: vec!["api".to_owned(), "worker".to_owned()],
            },
            IntegrationCall::LogsDescribeLogStreams {
                log_group: "/ecs/api".to_owned(),
                prefix: None,
                limit: 1,
            },
            IntegrationCall::LogsGetLogEvents {
                log_group: "/ecs/api".to_owned(),
                log_stream: "api/web/1f2e".to_owned(),
                start_time_ms: None,
                limit: 200,
            },
        ]
    );
    Ok(())
}

#[tokio::test]
async fn the_caller_is_the_plugin_with_its_requested_capabilities_and_call_deadline() -> TestResult
{
    let repository = repository()?;
    let host = FakeHost::new(aws_answers);
    let runtime = runtime(repository.path(), host.clone())?;
    specialist(&runtime, "infrastructure").await?;
    let asked = Instant::now();
    runtime
        .ask("infrastructure", "cluster=prod services=api")
        .await?;
    let seen = host.seen();
    let [first] = seen.as_slice() else {
        return Err(format!("expected one call, saw {seen:?}").into());
    };
    assert_eq!(first.caller.id.as_deref(), Some("infrastructure"));
    assert_eq!(first.caller.name, "infrastructure");
    let bundled = ralph_plugins_bundle::find("infrastructure").ok_or("bundled")?;
    assert_eq!(
        first.caller.digest,
        ralph_runtime::sandbox::digest_of(bundled.bytes)
    );
    assert_eq!(
        first.caller.requested,
        BTreeSet::from([Capability::Aws, Capability::Repository])
    );
    assert!(first.caller.deadline > first.at);
    assert!(first.caller.deadline >= asked + limits().deadline);
    assert!(first.caller.deadline <= first.at + limits().deadline);
    Ok(())
}

#[tokio::test]
async fn infrastructure_warns_on_deploy_changes_while_a_service_is_degraded() -> TestResult {
    let repository = repository()?;
    let settings = repository.path().join(".ralph/integrations");
    std::fs::create_dir_all(&settings)?;
    std::fs::write(
        settings.join("infrastructure.conf"),
        "# the production services\ncluster=prod\nservices=api,worker\n",
    )?;
    let host = FakeHost::new(aws_answers);
    let runtime = runtime(repository.path(), host.clone())?;
    let infrastructure = specialist(&runtime, "infrastructure").await?;
    let proposal = proposal_touching(&["deploy/api.tf", "src/lib.rs"]);
    let findings = runtime.review(&infrastructure, &proposal).await?.value;
    let warnings = warnings_on(&findings, "deploy/api.tf");
    assert_eq!(warnings.len(), 1, "{findings:?}");
    assert!(
        warnings[0]
            .message
            .contains("worker is degraded (1/3 running)")
    );
    assert!(warnings_on(&findings, "src/lib.rs").is_empty());

    let untouched = proposal_touching(&["src/lib.rs"]);
    let calls_before = host.calls().len();
    let findings = runtime.review(&infrastructure, &untouched).await?.value;
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(
        host.calls().len(),
        calls_before,
        "no deploy files, no calls"
    );
    Ok(())
}

#[tokio::test]
async fn risk_lists_issues_by_event_count_and_reads_an_issues_latest_events() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(sentry_answers);
    let runtime = runtime(repository.path(), host.clone())?;
    specialist(&runtime, "risk").await?;
    let answer = runtime.ask("risk", "What is broken?").await?.value;
    let busiest = answer.find("WEB-2").ok_or(answer.clone())?;
    let quieter = answer.find("WEB-1 ").ok_or(answer.clone())?;
    assert!(busiest < quieter, "most events first: {answer}");
    assert!(answer.contains("340 events"), "{answer}");
    assert_eq!(
        host.calls(),
        [IntegrationCall::SentryIssues {
            query: Some("is:unresolved".to_owned()),
            limit: 10,
        }]
    );

    let answer = runtime
        .ask("risk", "What happens in issue=WEB-2?")
        .await?
        .value;
    assert!(answer.contains("KeyError: 'price' (id-WEB-2)"), "{answer}");
    assert!(host.calls().contains(&IntegrationCall::SentryLatestEvents {
        issue_id: "id-WEB-2".to_owned(),
        limit: 5,
    }));
    Ok(())
}

#[tokio::test]
async fn risk_flags_files_named_in_open_issues_culprits() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(sentry_answers);
    let runtime = runtime(repository.path(), host)?;
    let risk = specialist(&runtime, "risk").await?;
    let proposal = proposal_touching(&["app/checkout/cart.py", "app/billing/invoice.py"]);
    let findings = runtime.review(&risk, &proposal).await?.value;
    let warnings = warnings_on(&findings, "app/checkout/cart.py");
    assert_eq!(warnings.len(), 1, "{findings:?}");
    assert!(warnings[0].message.contains("WEB-2"));
    assert!(warnings_on(&findings, "app/billing/invoice.py").is_empty());
    Ok(())
}

#[tokio::test]
async fn trading_answers_with_the_account_positions_and_open_orders() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(alpaca_answers(false));
    let runtime = runtime(repository.path(), host.clone())?;
    specialist(&runtime, "trading").await?;
    let answer = runtime.ask("trading", "How is the account?").await?.value;
    assert!(answer.contains("Account ACTIVE (paper), USD"), "{answer}");
    assert!(answer.contains("trading is allowed"), "{answer}");
    assert!(answer.contains("AAPL long 10"), "{answer}");
    assert!(answer.contains("buy 5 MSFT limit"), "{answer}");
    assert!(host.calls().contains(&IntegrationCall::AlpacaOrders {
        status: OrderStatus::Open,
        limit: 50,
    }));
    Ok(())
}

#[tokio::test]
async fn trading_warns_when_trading_code_changes_while_orders_are_open_or_trading_is_blocked()
-> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path(), FakeHost::new(alpaca_answers(true)))?;
    let trading = specialist(&runtime, "trading").await?;
    let proposal = proposal_touching(&["src/strategy/momentum.rs", "README.md"]);
    let findings = runtime.review(&trading, &proposal).await?.value;
    let warnings = warnings_on(&findings, "src/strategy/momentum.rs");
    assert_eq!(warnings.len(), 1, "{findings:?}");
    assert!(warnings[0].message.contains("trading is blocked"));
    assert!(warnings[0].message.contains("1 order(s) are open (MSFT)"));
    assert!(warnings_on(&findings, "README.md").is_empty());
    Ok(())
}

#[tokio::test]
async fn without_an_integration_host_every_call_is_denied_and_answered_plainly() -> TestResult {
    let repository = repository()?;
    let runtime = common::runtime(repository.path())?;
    for (name, question) in [
        ("infrastructure", "cluster=prod services=api"),
        ("risk", "what is open?"),
        ("trading", "account?"),
    ] {
        specialist(&runtime, name).await?;
        let answer = runtime.ask(name, question).await?.value;
        assert!(answer.contains("(denied)"), "{name}: {answer}");
        assert!(
            answer.contains("no integrations are configured"),
            "{name}: {answer}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn not_configured_and_rate_limited_become_answers_not_failures() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(|call| match call {
        IntegrationCall::AlpacaAccount => Err(IntegrationError::NotConfigured(
            "no Alpaca keys; set them with ralph integrations".to_owned(),
        )),
        _ => Err(IntegrationError::RateLimited(
            "alpaca allows 10 calls a minute".to_owned(),
        )),
    });
    let runtime = runtime(repository.path(), host)?;
    let trading = specialist(&runtime, "trading").await?;
    let answer = runtime.ask("trading", "account?").await?.value;
    assert!(
        answer.contains("(not configured): no Alpaca keys"),
        "{answer}"
    );
    assert!(answer.contains("(rate-limited): alpaca allows"), "{answer}");
    let proposal = proposal_touching(&["src/orders.rs"]);
    let findings = runtime.review(&trading, &proposal).await?.value;
    assert!(
        findings
            .iter()
            .all(|finding| finding.severity == Severity::Info),
        "{findings:?}"
    );
    assert!(
        findings[0].message.contains("not configured"),
        "{findings:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_plugin_that_did_not_request_aws_reaches_the_host_and_is_denied() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(aws_answers);
    let runtime = runtime(repository.path(), host.clone())?;
    let bidder = hostile(&runtime, &[Capability::Repository], limits()).await?;
    let outcome = runtime
        .propose(&bidder, &request("integration-unrequested", ""))
        .await?;
    assert!(
        outcome
            .value
            .summary
            .contains("Err(IntegrationError::Denied(\"hostile-bidder did not request aws\"))"),
        "{}",
        outcome.value.summary
    );
    let seen = host.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].caller.id.as_deref(), Some("hostile-bidder"));
    assert!(!seen[0].caller.requested.contains(&Capability::Aws));
    assert!(seen[0].caller.requested.contains(&Capability::Consult));
    Ok(())
}

#[tokio::test]
async fn a_reply_that_does_not_answer_the_call_fails_the_call_not_the_plugin() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(|_| Ok(IntegrationReply::AlpacaPositions { positions: vec![] }));
    let runtime = runtime(repository.path(), host)?;
    specialist(&runtime, "infrastructure").await?;
    let answer = runtime
        .ask("infrastructure", "cluster=prod services=api")
        .await?
        .value;
    assert!(answer.contains("(failed)"), "{answer}");
    assert!(
        answer.contains("answered ecs:DescribeServices with an unexpected `alpaca-positions`"),
        "{answer}"
    );
    Ok(())
}

#[tokio::test]
async fn http_get_hands_the_url_to_the_host_and_returns_its_response() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(|call| match call {
        IntegrationCall::HttpGet { url } => Ok(IntegrationReply::Http(HttpResponse {
            status: 200,
            content_type: Some("application/json".to_owned()),
            body: format!("{{\"page\": \"{url}\"}}"),
            truncated: true,
        })),
        other => Err(IntegrationError::Failed(format!("unexpected {other:?}"))),
    });
    let runtime = runtime(repository.path(), host.clone())?;
    let bidder = hostile(&runtime, &[], limits()).await?;
    let url = "https://status.example.com/api/v2/status.json";
    let outcome = runtime
        .propose(&bidder, &request("integration-http", url))
        .await?;
    let summary = &outcome.value.summary;
    assert!(summary.contains("status: 200"), "{summary}");
    assert!(
        summary.contains("content-type: Some(\"application/json\")"),
        "{summary}"
    );
    assert!(summary.contains("truncated: true"), "{summary}");
    assert!(summary.contains(url), "{summary}");
    assert_eq!(
        host.calls(),
        [IntegrationCall::HttpGet {
            url: url.to_owned()
        }]
    );
    Ok(())
}

#[tokio::test]
async fn oversized_requests_are_refused_before_the_host() -> TestResult {
    let repository = repository()?;
    let host = FakeHost::new(aws_answers);
    let runtime = runtime(repository.path(), host.clone())?;
    let bidder = hostile(&runtime, &[], limits()).await?;
    let outcome = runtime
        .propose(&bidder, &request("integration-oversize", ""))
        .await?;
    let summary = &outcome.value.summary;
    assert!(
        summary.contains("too many: Err(IntegrationError::InvalidRequest(\"11 services named"),
        "{summary}"
    );
    assert!(
        summary.contains("too long: Err(IntegrationError::InvalidRequest(\"the url is"),
        "{summary}"
    );
    assert!(host.calls().is_empty(), "{:?}", host.calls());
    Ok(())
}

#[tokio::test]
async fn a_component_importing_an_aws_write_operation_does_not_load() -> TestResult {
    let repository = repository()?;
    let runtime = common::runtime(repository.path())?;
    let path = Path::new(ralph_runtime_fixtures::AWS_WRITER_PATH);
    let bytes = std::fs::read(path)?;
    let error = match runtime
        .load_specialist("aws-writer", path, &bytes, [], limits())
        .await
    {
        Ok(_) => return Err("a component importing aws update-service loaded".into()),
        Err(error) => error,
    };
    let message = error.to_string();
    assert!(
        matches!(error, PluginError::WorldMismatch { .. }),
        "{message}"
    );
    assert!(message.contains("ralph:plugin/aws@0.1.0"), "{message}");
    assert!(message.contains("update-service"), "{message}");
    Ok(())
}
