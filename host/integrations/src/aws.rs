//! AWS: ECS `DescribeServices` and CloudWatch Logs `DescribeLogStreams` and
//! `GetLogEvents`, nothing else.
//!
//! Both services speak the JSON 1.1 protocol: `POST /` with the operation in
//! `X-Amz-Target`. [`Target`] is the only way to name an operation and has
//! exactly these three read-only values.

use chrono::Utc;
use ralph_runtime::integrations::{EcsService, EcsServices, IntegrationError, LogEvent, LogStream};
use reqwest::Client;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::AwsConfig;
use crate::environment::{
    AWS_ACCESS_KEY_ID, AWS_DEFAULT_REGION, AWS_REGION, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
    Environment,
};
use crate::sigv4::{self, Credentials, Scope};
use crate::transport::{check_limit, headers, json_answer, request_failed, typed};

/// The most services one `DescribeServices` call takes (ECS's own limit).
pub const MAX_SERVICES: usize = 10;
/// The most log streams one call returns (CloudWatch's own limit).
pub const MAX_STREAMS: u32 = 50;
/// The most log events one call returns (CloudWatch's own limit).
pub const MAX_EVENTS: u32 = 10_000;
/// How many of a service's events are kept.
const RECENT_EVENTS: usize = 10;

/// The operations Ralph can send to AWS: read-only, and no others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    EcsDescribeServices,
    LogsDescribeLogStreams,
    LogsGetLogEvents,
}

impl Target {
    /// Every target, for tests and documentation.
    pub const ALL: [Target; 3] = [
        Self::EcsDescribeServices,
        Self::LogsDescribeLogStreams,
        Self::LogsGetLogEvents,
    ];

    /// The service's signing name and endpoint prefix.
    pub fn service(self) -> &'static str {
        match self {
            Self::EcsDescribeServices => "ecs",
            Self::LogsDescribeLogStreams | Self::LogsGetLogEvents => "logs",
        }
    }

    /// The `X-Amz-Target` header.
    pub fn header(self) -> &'static str {
        match self {
            Self::EcsDescribeServices => "AmazonEC2ContainerServiceV20141113.DescribeServices",
            Self::LogsDescribeLogStreams => "Logs_20140328.DescribeLogStreams",
            Self::LogsGetLogEvents => "Logs_20140328.GetLogEvents",
        }
    }
}

/// Sends the three targets with credentials from the environment.
pub struct Aws {
    client: Client,
    region: Option<String>,
    endpoint: Option<url::Url>,
    credentials: Option<Credentials>,
}

impl Aws {
    pub fn new(client: Client, config: &AwsConfig, environment: &Environment) -> Self {
        let region = config
            .region
            .clone()
            .or_else(|| environment.get(AWS_REGION).map(str::to_owned))
            .or_else(|| environment.get(AWS_DEFAULT_REGION).map(str::to_owned));
        let credentials = match (
            environment.get(AWS_ACCESS_KEY_ID),
            environment.get(AWS_SECRET_ACCESS_KEY),
        ) {
            (Some(access_key_id), Some(secret_access_key)) => Some(Credentials {
                access_key_id: access_key_id.to_owned(),
                secret_access_key: secret_access_key.to_owned(),
                session_token: environment.get(AWS_SESSION_TOKEN).map(str::to_owned),
            }),
            _ => None,
        };
        Self {
            client,
            region,
            endpoint: config
                .endpoint
                .as_deref()
                .and_then(|endpoint| url::Url::parse(endpoint).ok()),
            credentials,
        }
    }

    /// ECS `DescribeServices`.
    pub async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> Result<EcsServices, IntegrationError> {
        if cluster.trim().is_empty() {
            return Err(IntegrationError::InvalidRequest(
                "`cluster` is empty".to_owned(),
            ));
        }
        if services.is_empty() || services.len() > MAX_SERVICES {
            return Err(IntegrationError::InvalidRequest(format!(
                "`services` must name 1 to {MAX_SERVICES} services, got {}",
                services.len()
            )));
        }
        let answer = self
            .send(
                Target::EcsDescribeServices,
                json!({"cluster": cluster, "services": services}),
            )
            .await?;
        let answer: DescribeServicesAnswer = typed("aws ecs", answer)?;
        Ok(EcsServices {
            services: answer.services.into_iter().map(EcsService::from).collect(),
            failures: answer
                .failures
                .into_iter()
                .map(|failure| {
                    format!(
                        "{}: {}",
                        failure.arn.unwrap_or_default(),
                        failure.reason.unwrap_or_default()
                    )
                })
                .collect(),
        })
    }

    /// CloudWatch Logs `DescribeLogStreams`, newest first.
    pub async fn describe_log_streams(
        &self,
        log_group: &str,
        prefix: Option<&str>,
        limit: u32,
    ) -> Result<Vec<LogStream>, IntegrationError> {
        let limit = check_limit(limit, MAX_STREAMS)?;
        check_name("log_group", log_group)?;
        // CloudWatch refuses a prefix together with ordering by time, so a
        // prefixed listing is ordered here.
        let request = match prefix.filter(|prefix| !prefix.is_empty()) {
            Some(prefix) => json!({
                "logGroupName": log_group,
                "logStreamNamePrefix": prefix,
                "orderBy": "LogStreamName",
                "limit": MAX_STREAMS,
            }),
            None => json!({
                "logGroupName": log_group,
                "orderBy": "LastEventTime",
                "descending": true,
                "limit": limit,
            }),
        };
        let answer = self.send(Target::LogsDescribeLogStreams, request).await?;
        let answer: DescribeLogStreamsAnswer = typed("aws logs", answer)?;
        let mut streams: Vec<LogStream> = answer
            .log_streams
            .into_iter()
            .map(|stream| LogStream {
                name: stream.log_stream_name,
                last_event_ms: stream.last_event_timestamp,
            })
            .collect();
        streams.sort_by_key(|stream| std::cmp::Reverse(stream.last_event_ms));
        streams.truncate(limit as usize);
        Ok(streams)
    }

    /// CloudWatch Logs `GetLogEvents`: the latest `limit` events, oldest first.
    pub async fn get_log_events(
        &self,
        log_group: &str,
        log_stream: &str,
        start_time_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LogEvent>, IntegrationError> {
        let limit = check_limit(limit, MAX_EVENTS)?;
        check_name("log_group", log_group)?;
        check_name("log_stream", log_stream)?;
        let mut request = json!({
            "logGroupName": log_group,
            "logStreamName": log_stream,
            "limit": limit,
            "startFromHead": false,
        });
        if let Some(start_time_ms) = start_time_ms {
            request["startTime"] = json!(start_time_ms);
        }
        let answer = self.send(Target::LogsGetLogEvents, request).await?;
        let answer: GetLogEventsAnswer = typed("aws logs", answer)?;
        let mut events: Vec<LogEvent> = answer
            .events
            .into_iter()
            .map(|event| LogEvent {
                timestamp_ms: event.timestamp,
                message: event.message,
            })
            .collect();
        events.sort_by_key(|event| event.timestamp_ms);
        Ok(events)
    }

    /// Signs and sends one request to `target`.
    async fn send(&self, target: Target, body: Value) -> Result<Value, IntegrationError> {
        let service = format!("aws {}", target.service());
        let region = self.region.as_deref().ok_or_else(|| {
            IntegrationError::NotConfigured(
                "aws: no region; set `integrations.aws.region` in .ralph/config.json or AWS_REGION"
                    .to_owned(),
            )
        })?;
        let credentials = self.credentials.as_ref().ok_or_else(|| {
            IntegrationError::NotConfigured(
                "aws: no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned(),
            )
        })?;
        let url = self.endpoint(target, region)?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => {
                return Err(IntegrationError::NotConfigured(format!(
                    "{service}: the endpoint has no host"
                )));
            }
        };
        let payload = serde_json::to_vec(&body)
            .map_err(|error| IntegrationError::Failed(format!("{service}: {error}")))?;
        let content = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.header()),
        ];
        let request = sigv4::Request {
            method: "POST",
            host: &host,
            path: url.path(),
            headers: &content,
            payload: &payload,
        };
        let scope = Scope {
            region,
            service: target.service(),
            time: Utc::now(),
        };
        let signed = sigv4::sign(&request, credentials, &scope);
        let all: Vec<(&str, &str)> = content
            .iter()
            .copied()
            .chain(
                signed
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
            )
            .collect();
        let response = self
            .client
            .post(url)
            .headers(headers(&all, &service)?)
            .body(payload)
            .send()
            .await
            .map_err(|error| request_failed(&service, error))?;
        json_answer(&service, response).await.map_err(aws_error)
    }

    fn endpoint(&self, target: Target, region: &str) -> Result<url::Url, IntegrationError> {
        if let Some(endpoint) = &self.endpoint {
            return Ok(endpoint.clone());
        }
        let text = format!("https://{}.{region}.amazonaws.com/", target.service());
        url::Url::parse(&text).map_err(|error| {
            IntegrationError::NotConfigured(format!("aws: `{text}` is not a URL: {error}"))
        })
    }
}

/// Shortens AWS's JSON error bodies to `Type: message`.
fn aws_error(error: IntegrationError) -> IntegrationError {
    let IntegrationError::Failed(message) = error else {
        return error;
    };
    let Some((head, body)) = message.split_once(": ") else {
        return IntegrationError::Failed(message);
    };
    match serde_json::from_str::<AwsErrorBody>(body) {
        Ok(parsed) => {
            let kind = parsed
                .kind
                .rsplit('#')
                .next()
                .unwrap_or_default()
                .to_owned();
            let text = parsed
                .message
                .or(parsed.capital_message)
                .unwrap_or_default();
            IntegrationError::Failed(format!("{head}: {kind}: {text}"))
        }
        Err(_) => IntegrationError::Failed(message),
    }
}

fn check_name(field: &str, value: &str) -> Result<(), IntegrationError> {
    if value.trim().is_empty() {
        return Err(IntegrationError::InvalidRequest(format!(
            "`{field}` is empty"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
struct AwsErrorBody {
    #[serde(rename = "__type")]
    kind: String,
    message: Option<String>,
    #[serde(rename = "Message")]
    capital_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeServicesAnswer {
    #[serde(default)]
    services: Vec<ServiceAnswer>,
    #[serde(default)]
    failures: Vec<FailureAnswer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceAnswer {
    service_name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    desired_count: u32,
    #[serde(default)]
    running_count: u32,
    #[serde(default)]
    pending_count: u32,
    #[serde(default)]
    task_definition: String,
    #[serde(default)]
    events: Vec<ServiceEventAnswer>,
}

#[derive(Deserialize)]
struct ServiceEventAnswer {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct FailureAnswer {
    arn: Option<String>,
    reason: Option<String>,
}

impl From<ServiceAnswer> for EcsService {
    fn from(service: ServiceAnswer) -> Self {
        EcsService {
            name: service.service_name,
            status: service.status,
            desired_count: service.desired_count,
            running_count: service.running_count,
            pending_count: service.pending_count,
            task_definition: service.task_definition,
            recent_events: service
                .events
                .into_iter()
                .take(RECENT_EVENTS)
                .map(|event| event.message)
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeLogStreamsAnswer {
    #[serde(default)]
    log_streams: Vec<LogStreamAnswer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogStreamAnswer {
    log_stream_name: String,
    last_event_timestamp: Option<i64>,
}

#[derive(Deserialize)]
struct GetLogEventsAnswer {
    #[serde(default)]
    events: Vec<LogEventAnswer>,
}

#[derive(Deserialize)]
struct LogEventAnswer {
    timestamp: i64,
    #[serde(default)]
    message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(environment: &[(&str, &str)], config: AwsConfig) -> Aws {
        let client = crate::transport::client(std::time::Duration::from_secs(1)).expect("client");
        Aws::new(
            client,
            &config,
            &Environment::from_pairs(environment.iter().copied()),
        )
    }

    #[test]
    fn only_the_three_read_targets_exist() {
        let headers: Vec<_> = Target::ALL.iter().map(|target| target.header()).collect();
        assert_eq!(
            headers,
            [
                "AmazonEC2ContainerServiceV20141113.DescribeServices",
                "Logs_20140328.DescribeLogStreams",
                "Logs_20140328.GetLogEvents",
            ]
        );
        assert!(
            headers
                .iter()
                .all(|header| header.contains(".Describe") || header.contains(".Get"))
        );
    }

    #[test]
    fn the_region_comes_from_config_then_the_environment() {
        let configured = AwsConfig {
            region: Some("eu-west-1".to_owned()),
            endpoint: None,
        };
        assert_eq!(
            aws(&[(AWS_REGION, "us-west-2")], configured)
                .region
                .as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            aws(
                &[
                    (AWS_REGION, "us-west-2"),
                    (AWS_DEFAULT_REGION, "ap-south-1")
                ],
                AwsConfig::default()
            )
            .region
            .as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            aws(&[(AWS_DEFAULT_REGION, "ap-south-1")], AwsConfig::default())
                .region
                .as_deref(),
            Some("ap-south-1")
        );
    }

    #[test]
    fn the_default_endpoint_is_the_services_regional_one() {
        let aws = aws(&[], AwsConfig::default());
        assert_eq!(
            aws.endpoint(Target::LogsGetLogEvents, "eu-west-1")
                .expect("url")
                .as_str(),
            "https://logs.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            aws.endpoint(Target::EcsDescribeServices, "us-east-1")
                .expect("url")
                .as_str(),
            "https://ecs.us-east-1.amazonaws.com/"
        );
    }

    #[tokio::test]
    async fn missing_region_or_credentials_is_not_configured() {
        let no_region = aws(
            &[(AWS_ACCESS_KEY_ID, "AKID"), (AWS_SECRET_ACCESS_KEY, "s")],
            AwsConfig::default(),
        );
        let error = no_region
            .describe_services("c", &["s".to_owned()])
            .await
            .expect_err("no region");
        assert!(
            matches!(error, IntegrationError::NotConfigured(ref text) if text.contains("AWS_REGION"))
        );
        let no_keys = aws(&[(AWS_REGION, "us-east-1")], AwsConfig::default());
        let error = no_keys
            .get_log_events("g", "s", None, 10)
            .await
            .expect_err("no keys");
        assert!(
            matches!(error, IntegrationError::NotConfigured(ref text) if text.contains("AWS_SECRET_ACCESS_KEY"))
        );
    }

    #[tokio::test]
    async fn malformed_parameters_are_refused_before_sending() {
        let aws = aws(&[], AwsConfig::default());
        let eleven: Vec<String> = (0..11).map(|index| format!("s{index}")).collect();
        for error in [
            aws.describe_services("c", &eleven)
                .await
                .expect_err("too many"),
            aws.describe_services("c", &[]).await.expect_err("none"),
            aws.describe_services(" ", &["s".to_owned()])
                .await
                .expect_err("no cluster"),
            aws.describe_log_streams("g", None, 0)
                .await
                .expect_err("zero"),
            aws.describe_log_streams("", None, 5)
                .await
                .expect_err("no group"),
            aws.get_log_events("g", "", None, 5)
                .await
                .expect_err("no stream"),
        ] {
            assert!(
                matches!(error, IntegrationError::InvalidRequest(_)),
                "{error}"
            );
        }
    }

    #[test]
    fn aws_error_bodies_are_shortened_to_type_and_message() {
        let error = aws_error(IntegrationError::Failed(
            r#"aws ecs answered 400: {"__type":"com.amazonaws#ClusterNotFoundException","message":"Cluster not found."}"#
                .to_owned(),
        ));
        assert_eq!(
            error,
            IntegrationError::Failed(
                "aws ecs answered 400: ClusterNotFoundException: Cluster not found.".to_owned()
            )
        );
        let plain = IntegrationError::Failed("aws ecs answered 500: oops".to_owned());
        assert_eq!(aws_error(plain.clone()), plain);
    }
}
