//! The `aws` import: ECS services and CloudWatch Logs, read-only.

use super::bidder::ralph::plugin::aws;
use super::bidder::ralph::plugin::types::IntegrationError;
use crate::integration_imports::{self, mismatched};
use crate::integrations::{self as host, IntegrationCall, IntegrationReply};
use crate::sandbox::SandboxState;

type Answer<T> = wasmtime::Result<Result<T, IntegrationError>>;

impl aws::Host for SandboxState {
    async fn describe_services(
        &mut self,
        cluster: String,
        services: Vec<String>,
    ) -> Answer<aws::EcsServices> {
        let call = IntegrationCall::EcsDescribeServices { cluster, services };
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::EcsServices(found)) => Ok(services_of(found)),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }

    async fn describe_log_streams(
        &mut self,
        log_group: String,
        prefix: Option<String>,
        limit: u32,
    ) -> Answer<Vec<aws::LogStream>> {
        let call = IntegrationCall::LogsDescribeLogStreams {
            log_group,
            prefix,
            limit,
        };
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::LogStreams { streams }) => Ok(streams
                .into_iter()
                .map(|stream| aws::LogStream {
                    name: stream.name,
                    last_event_ms: stream.last_event_ms,
                })
                .collect()),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }

    async fn get_log_events(
        &mut self,
        log_group: String,
        log_stream: String,
        start_time_ms: Option<i64>,
        limit: u32,
    ) -> Answer<Vec<aws::LogEvent>> {
        let call = IntegrationCall::LogsGetLogEvents {
            log_group,
            log_stream,
            start_time_ms,
            limit,
        };
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::LogEvents { events }) => Ok(events
                .into_iter()
                .map(|event| aws::LogEvent {
                    timestamp_ms: event.timestamp_ms,
                    message: event.message,
                })
                .collect()),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }
}

fn services_of(found: host::EcsServices) -> aws::EcsServices {
    aws::EcsServices {
        services: found
            .services
            .into_iter()
            .map(|service| aws::EcsService {
                name: service.name,
                status: service.status,
                desired_count: service.desired_count,
                running_count: service.running_count,
                pending_count: service.pending_count,
                task_definition: service.task_definition,
                recent_events: service.recent_events,
            })
            .collect(),
        failures: found.failures,
    }
}
