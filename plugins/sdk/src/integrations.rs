//! Read-only external integrations for bidders and specialists: `aws`,
//! `sentry`, `alpaca` and `http`. Each needs its capability in the plugin's
//! `capabilities()` and the user's approval (`ralph permissions grant`);
//! otherwise every call returns [`IntegrationError::Denied`] with a message
//! saying so. Handle the errors: a denied or unconfigured integration is an
//! answer to give the user, not a reason to fail.

pub use crate::bindings::ralph::plugin::types::IntegrationError;

impl IntegrationError {
    /// The host's explanation, whatever the kind of error.
    pub fn message(&self) -> &str {
        match self {
            Self::Denied(text)
            | Self::RateLimited(text)
            | Self::InvalidRequest(text)
            | Self::NotConfigured(text)
            | Self::Failed(text) => text,
        }
    }

    /// The kind of error in a few words, for a sentence: `denied`,
    /// `rate-limited`, `an invalid request`, `not configured`, `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Denied(_) => "denied",
            Self::RateLimited(_) => "rate-limited",
            Self::InvalidRequest(_) => "an invalid request",
            Self::NotConfigured(_) => "not configured",
            Self::Failed(_) => "failed",
        }
    }
}

/// Amazon ECS services and CloudWatch Logs (`aws`).
pub mod aws {
    use crate::bindings::ralph::plugin::aws as wit;
    pub use crate::bindings::ralph::plugin::aws::{EcsService, EcsServices, LogEvent, LogStream};

    use super::IntegrationError;

    /// ECS `DescribeServices` for at most 10 services of `cluster`.
    pub fn describe_services(
        cluster: &str,
        services: &[&str],
    ) -> Result<EcsServices, IntegrationError> {
        let services: Vec<String> = services.iter().map(|name| (*name).to_owned()).collect();
        wit::describe_services(cluster, &services)
    }

    /// The streams of `log_group`, newest first, at most `limit`; only
    /// those whose names start with `prefix` when given.
    pub fn log_streams(
        log_group: &str,
        prefix: Option<&str>,
        limit: u32,
    ) -> Result<Vec<LogStream>, IntegrationError> {
        wit::describe_log_streams(log_group, prefix, limit)
    }

    /// At most `limit` events of one stream, oldest first; only those at or
    /// after `start_time_ms` (milliseconds since the epoch) when given.
    pub fn log_events(
        log_group: &str,
        log_stream: &str,
        start_time_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LogEvent>, IntegrationError> {
        wit::get_log_events(log_group, log_stream, start_time_ms, limit)
    }
}

/// The configured Sentry project (`sentry`).
pub mod sentry {
    use crate::bindings::ralph::plugin::sentry as wit;
    pub use crate::bindings::ralph::plugin::sentry::{SentryEvent, SentryIssue};

    use super::IntegrationError;

    /// At most `limit` issues matching `query` (Sentry's search syntax, for
    /// example `is:unresolved`; Sentry's default when `None`).
    pub fn issues(query: Option<&str>, limit: u32) -> Result<Vec<SentryIssue>, IntegrationError> {
        wit::issues(query, limit)
    }

    /// The latest events of the issue with identifier `issue_id`, newest
    /// first, at most `limit`.
    pub fn latest_events(issue_id: &str, limit: u32) -> Result<Vec<SentryEvent>, IntegrationError> {
        wit::latest_events(issue_id, limit)
    }
}

/// The Alpaca trading account (`alpaca`), read-only.
pub mod alpaca {
    use crate::bindings::ralph::plugin::alpaca as wit;
    pub use crate::bindings::ralph::plugin::alpaca::{
        AlpacaAccount, AlpacaOrder, AlpacaPosition, OrderStatus,
    };

    use super::IntegrationError;

    /// The account: status, cash, buying power, whether trading is blocked.
    pub fn account() -> Result<AlpacaAccount, IntegrationError> {
        wit::account()
    }

    /// The open positions.
    pub fn positions() -> Result<Vec<AlpacaPosition>, IntegrationError> {
        wit::positions()
    }

    /// At most `limit` orders with `status`, newest first.
    pub fn orders(status: OrderStatus, limit: u32) -> Result<Vec<AlpacaOrder>, IntegrationError> {
        wit::orders(status, limit)
    }
}

/// GET requests to hosts the user allow-listed for this plugin (`http-get`).
pub mod http {
    use crate::bindings::ralph::plugin::http_get as wit;
    pub use crate::bindings::ralph::plugin::http_get::HttpResponse;

    use super::IntegrationError;

    /// GETs `url`, an absolute `https://` URL on an allow-listed host.
    pub fn get(url: &str) -> Result<HttpResponse, IntegrationError> {
        wit::get(url)
    }
}
