//! The `sentry` import: the configured project's issues and events, read-only.

use super::bidder::ralph::plugin::sentry;
use super::bidder::ralph::plugin::types::IntegrationError;
use crate::integration_imports::{self, mismatched};
use crate::integrations::{IntegrationCall, IntegrationReply};
use crate::sandbox::SandboxState;

type Answer<T> = wasmtime::Result<Result<T, IntegrationError>>;

impl sentry::Host for SandboxState {
    async fn issues(
        &mut self,
        query: Option<String>,
        limit: u32,
    ) -> Answer<Vec<sentry::SentryIssue>> {
        let call = IntegrationCall::SentryIssues { query, limit };
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::SentryIssues { issues }) => Ok(issues
                .into_iter()
                .map(|issue| sentry::SentryIssue {
                    id: issue.id,
                    short_id: issue.short_id,
                    title: issue.title,
                    culprit: issue.culprit,
                    level: issue.level,
                    status: issue.status,
                    count: issue.count,
                    user_count: issue.user_count,
                    first_seen: issue.first_seen,
                    last_seen: issue.last_seen,
                })
                .collect()),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }

    async fn latest_events(
        &mut self,
        issue_id: String,
        limit: u32,
    ) -> Answer<Vec<sentry::SentryEvent>> {
        let call = IntegrationCall::SentryLatestEvents { issue_id, limit };
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::SentryEvents { events }) => Ok(events
                .into_iter()
                .map(|event| sentry::SentryEvent {
                    id: event.id,
                    date: event.date,
                    message: event.message,
                    platform: event.platform,
                })
                .collect()),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }
}
