//! AWS through the gateway against moto, a local stand-in for AWS: the
//! test seeds a cluster, a service and log streams with its own signed
//! write calls, then reads them back through the gateway, which has no way
//! to write. Needs `moto[server]` (`scripts/test` installs it); run with
//! `cargo test -p ralph-integrations --features moto --test aws`.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{Setup, caller};
use ralph_integrations::NonInteractive;
use ralph_integrations::audit::AuditStatus;
use ralph_integrations::aws::Target;
use ralph_integrations::sigv4::{self, Credentials, Scope};
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::{IntegrationCall, IntegrationError, IntegrationReply};
use ralph_runtime::{Limits, Runtime, RuntimeOptions};
use serde_json::{Value, json};

const ACCESS_KEY_ID: &str = "AKIAMOTOTESTKEY00001";
const SECRET_ACCESS_KEY: &str = "moto/planted+secret/access/key/0123456789";
const REGION: &str = "us-east-1";

/// A moto server on a free loopback port, killed on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto (python3 -m pip install 'moto[server]')");
        let moto = Self { child, port };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let answer = client
                .get(format!("{}/moto-api/", moto.endpoint()))
                .send()
                .await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                return moto;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not answer on port {port} within a minute"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A signed JSON 1.1 call the test makes itself (the gateway cannot
    /// send these targets).
    async fn seed(&self, service: &str, target: &str, body: Value) -> Value {
        let payload = body.to_string().into_bytes();
        let host = format!("127.0.0.1:{}", self.port);
        let content = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target),
        ];
        let signed = sigv4::sign(
            &sigv4::Request {
                method: "POST",
                host: &host,
                path: "/",
                headers: &content,
                payload: &payload,
            },
            &Credentials {
                access_key_id: ACCESS_KEY_ID.to_owned(),
                secret_access_key: SECRET_ACCESS_KEY.to_owned(),
                session_token: None,
            },
            &Scope {
                region: REGION,
                service,
                time: Utc::now(),
            },
        );
        let mut request = reqwest::Client::new()
            .post(format!("{}/", self.endpoint()))
            .body(payload);
        for (name, value) in content
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .chain(signed)
        {
            request = request.header(name, value);
        }
        let answer = request.send().await.expect("seed call");
        let status = answer.status();
        let text = answer.text().await.expect("seed answer");
        assert!(status.is_success(), "{target} answered {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ECS: &str = "AmazonEC2ContainerServiceV20141113";
const LOGS: &str = "Logs_20140328";

async fn seed(moto: &Moto, now_ms: i64) {
    moto.seed(
        "ecs",
        &format!("{ECS}.CreateCluster"),
        json!({"clusterName": "prod"}),
    )
    .await;
    moto.seed(
        "ecs",
        &format!("{ECS}.RegisterTaskDefinition"),
        json!({"family": "web", "containerDefinitions": [
            {"name": "web", "image": "nginx", "memory": 128}
        ]}),
    )
    .await;
    moto.seed(
        "ecs",
        &format!("{ECS}.CreateService"),
        json!({"cluster": "prod", "serviceName": "web", "taskDefinition": "web", "desiredCount": 2}),
    )
    .await;
    moto.seed(
        "logs",
        &format!("{LOGS}.CreateLogGroup"),
        json!({"logGroupName": "/ecs/web"}),
    )
    .await;
    for (stream, age_ms) in [("web/older", 60_000), ("web/newer", 1_000)] {
        moto.seed(
            "logs",
            &format!("{LOGS}.CreateLogStream"),
            json!({"logGroupName": "/ecs/web", "logStreamName": stream}),
        )
        .await;
        moto.seed(
            "logs",
            &format!("{LOGS}.PutLogEvents"),
            json!({"logGroupName": "/ecs/web", "logStreamName": stream, "logEvents": [
                {"timestamp": now_ms - age_ms - 500, "message": format!("{stream} started")},
                {"timestamp": now_ms - age_ms,
                 "message": format!("{stream} read key {SECRET_ACCESS_KEY} as AKIAIOSFODNN7EXAMPLE")}
            ]}),
        )
        .await;
    }
}

fn setup(moto: &Moto) -> Setup {
    let setup = Setup::new(
        json!({"aws": {"region": REGION, "endpoint": moto.endpoint()}}),
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
        ],
        Arc::new(NonInteractive),
    );
    setup.approve("ops", &["aws"]);
    setup
}

#[tokio::test]
async fn services_streams_and_events_are_read_through_the_gateway_and_nothing_is_written() {
    let moto = Moto::start().await;
    let now_ms = Utc::now().timestamp_millis();
    seed(&moto, now_ms).await;
    let setup = setup(&moto);
    let caller = caller("ops", &[Capability::Aws], 30);

    let reply = setup
        .gateway
        .perform(
            &caller,
            IntegrationCall::EcsDescribeServices {
                cluster: "prod".to_owned(),
                services: vec!["web".to_owned(), "missing".to_owned()],
            },
        )
        .await
        .expect("describe services");
    let IntegrationReply::EcsServices(services) = reply else {
        panic!("wrong reply: {reply:?}");
    };
    assert_eq!(services.services.len(), 1);
    let web = &services.services[0];
    assert_eq!(web.name, "web");
    assert_eq!(web.status, "ACTIVE");
    assert_eq!(web.desired_count, 2);
    assert!(
        web.task_definition.contains("task-definition/web"),
        "{web:?}"
    );
    assert_eq!(services.failures.len(), 1);
    assert!(
        services.failures[0].contains("MISSING"),
        "{:?}",
        services.failures
    );

    let reply = setup
        .gateway
        .perform(
            &caller,
            IntegrationCall::LogsDescribeLogStreams {
                log_group: "/ecs/web".to_owned(),
                prefix: Some("web/".to_owned()),
                limit: 5,
            },
        )
        .await
        .expect("describe streams");
    let IntegrationReply::LogStreams { streams } = reply else {
        panic!("wrong reply: {reply:?}");
    };
    let names: Vec<_> = streams.iter().map(|stream| stream.name.as_str()).collect();
    assert_eq!(names, ["web/newer", "web/older"], "newest first");

    let reply = setup
        .gateway
        .perform(
            &caller,
            IntegrationCall::LogsGetLogEvents {
                log_group: "/ecs/web".to_owned(),
                log_stream: streams[0].name.clone(),
                start_time_ms: None,
                limit: 10,
            },
        )
        .await
        .expect("get events");
    let IntegrationReply::LogEvents { events } = reply else {
        panic!("wrong reply: {reply:?}");
    };
    let messages: Vec<_> = events.iter().map(|event| event.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "web/newer started",
            "web/newer read key [REDACTED] as AKIA[REDACTED]"
        ]
    );
    assert_eq!(events[1].timestamp_ms, now_ms - 1_000);

    // The service is exactly as seeded: nothing the gateway sent changed it.
    let after = moto
        .seed(
            "ecs",
            &format!("{ECS}.DescribeServices"),
            json!({"cluster": "prod", "services": ["web"]}),
        )
        .await;
    assert_eq!(after["services"][0]["desiredCount"], 2);
    assert_eq!(
        Target::ALL.map(Target::header),
        [
            "AmazonEC2ContainerServiceV20141113.DescribeServices",
            "Logs_20140328.DescribeLogStreams",
            "Logs_20140328.GetLogEvents",
        ]
    );

    let audit = setup.audit();
    let operations: Vec<_> = audit.iter().map(|entry| entry.operation.as_str()).collect();
    assert_eq!(
        operations,
        [
            "ecs:DescribeServices",
            "logs:DescribeLogStreams",
            "logs:GetLogEvents"
        ]
    );
    assert!(audit.iter().all(|entry| entry.status == AuditStatus::Ok));
    let text = setup.audit_text();
    assert!(
        !text.contains(SECRET_ACCESS_KEY) && !text.contains(ACCESS_KEY_ID),
        "{text}"
    );
}

/// The whole path: a bundled plugin asks, the runtime hands the
/// call to the gateway, the gateway signs it, moto answers, and the plugin
/// reads the redacted, typed records.
#[tokio::test]
async fn the_infrastructure_specialist_reads_services_and_logs_from_moto() {
    let moto = Moto::start().await;
    let now_ms = Utc::now().timestamp_millis();
    seed(&moto, now_ms).await;
    let setup = setup(&moto);
    setup.approve("infrastructure", &["aws"]);
    let runtime = Runtime::new(
        RuntimeOptions::new(setup.directory.path()).with_integrations(setup.gateway.clone()),
    )
    .expect("runtime");
    let plugin = ralph_plugins_bundle::find("infrastructure").expect("bundled");
    runtime
        .load_specialist(
            "infrastructure",
            Path::new("infrastructure"),
            plugin.bytes,
            [Capability::Repository],
            Limits {
                deadline: Duration::from_secs(30),
                ..Limits::default()
            },
        )
        .await
        .expect("load the infrastructure specialist");

    let answer = runtime
        .ask(
            "infrastructure",
            "Is web healthy? cluster=prod services=web,gone log-group=/ecs/web",
        )
        .await
        .expect("an answer")
        .value;
    assert!(
        answer.contains("web is down: 0/2 tasks running, 2 pending"),
        "{answer}"
    );
    assert!(answer.contains("service/gone: MISSING"), "{answer}");
    assert!(answer.contains("last 2 events of web/newer"), "{answer}");
    assert!(!answer.contains(SECRET_ACCESS_KEY), "{answer}");

    let audit = setup.audit();
    let calls: Vec<_> = audit
        .iter()
        .map(|entry| (entry.plugin.as_str(), entry.operation.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("infrastructure", "ecs:DescribeServices"),
            ("infrastructure", "logs:DescribeLogStreams"),
            ("infrastructure", "logs:GetLogEvents"),
        ]
    );
    assert!(audit.iter().all(|entry| entry.status == AuditStatus::Ok));
    let text = setup.audit_text();
    assert!(!text.contains(SECRET_ACCESS_KEY), "{text}");
}

#[tokio::test]
async fn an_aws_error_names_its_type_and_is_audited() {
    let moto = Moto::start().await;
    let setup = setup(&moto);
    let error = setup
        .gateway
        .perform(
            &caller("ops", &[Capability::Aws], 30),
            IntegrationCall::LogsGetLogEvents {
                log_group: "/no/such/group".to_owned(),
                log_stream: "none".to_owned(),
                start_time_ms: None,
                limit: 10,
            },
        )
        .await
        .expect_err("no such group");
    let IntegrationError::Failed(message) = error else {
        panic!("not a failure: {error:?}");
    };
    assert!(
        message.starts_with("aws logs answered 400: ResourceNotFoundException"),
        "{message}"
    );
    assert_eq!(setup.audit()[0].status, AuditStatus::Failed);
}
