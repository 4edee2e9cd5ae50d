//! The contract between the runtime and the read-only external integrations.
//!
//! Plugins call `aws`, `sentry`, `alpaca` and `http-get` through host imports;
//! the runtime turns each call into an [`IntegrationCall`] and hands it to the
//! [`IntegrationHost`] it was built with, together with who is calling
//! ([`Caller`]). The host (the `ralph-integrations` crate) owns everything
//! else: the user's approvals, rate limits, credentials, signing, redaction
//! and the audit log. Without a host every call is denied.
//!
//! These are the host's own copies of the WIT records; `bindings` converts at
//! the edge, as for every other contract type.

use std::collections::BTreeSet;
use std::time::Instant;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::capabilities::Capability;

/// Who makes an integration call: the config entry that loaded the plugin
/// and its component, never the name it reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The config entry that loaded the plugin (a bidder id, a
    /// specialist's id, a check's name): what approvals and allow-lists
    /// are keyed by. `None` for a component loaded without an entry
    /// (`ralph plugin inspect FILE`), which is denied every integration.
    pub id: Option<String>,
    /// The SHA-256 of the plugin's component, as hex: approvals are bound
    /// to it, so a changed component must be approved again.
    pub digest: String,
    /// The name the plugin's metadata reports: for display only.
    pub name: String,
    /// The capabilities the plugin requested in its metadata. A call to a
    /// capability not in this set is denied (and audited) by the host.
    pub requested: BTreeSet<Capability>,
    /// When the plugin's call ends; a call waiting on a rate limit gives up
    /// at this instant.
    pub deadline: Instant,
}

impl Caller {
    /// The id, or for a plugin without one its display name: what messages
    /// call it.
    pub fn who(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}

/// An order status filter for Alpaca's order list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderStatus {
    /// Orders not yet filled or cancelled.
    Open,
    /// Filled, cancelled, expired or rejected orders.
    Closed,
    /// Both.
    All,
}

/// One read-only operation a plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum IntegrationCall {
    /// ECS `DescribeServices`.
    EcsDescribeServices {
        /// The cluster name or ARN.
        cluster: String,
        /// Service names or ARNs, at most 10.
        services: Vec<String>,
    },
    /// CloudWatch Logs `DescribeLogStreams`, newest first.
    LogsDescribeLogStreams {
        /// The log group.
        log_group: String,
        /// Only streams whose name starts with this.
        prefix: Option<String>,
        /// The most streams to return.
        limit: u32,
    },
    /// CloudWatch Logs `GetLogEvents`.
    LogsGetLogEvents {
        /// The log group.
        log_group: String,
        /// The stream in the group.
        log_stream: String,
        /// Only events at or after this time, in milliseconds since the epoch.
        start_time_ms: Option<i64>,
        /// The most events to return.
        limit: u32,
    },
    /// Sentry: the configured project's issues matching a search query.
    SentryIssues {
        /// Sentry search syntax, for example `is:unresolved`.
        query: Option<String>,
        /// The most issues to return.
        limit: u32,
    },
    /// Sentry: an issue's latest events.
    SentryLatestEvents {
        /// The issue's identifier.
        issue_id: String,
        /// The most events to return.
        limit: u32,
    },
    /// Alpaca: the trading account.
    AlpacaAccount,
    /// Alpaca: open positions.
    AlpacaPositions,
    /// Alpaca: orders with a status.
    AlpacaOrders {
        /// Which orders.
        status: OrderStatus,
        /// The most orders to return.
        limit: u32,
    },
    /// A GET to a URL on a host allow-listed for the calling plugin.
    HttpGet {
        /// An absolute `https://` (or allow-listed `http://`) URL.
        url: String,
    },
}

impl IntegrationCall {
    /// The capability this call needs.
    pub fn capability(&self) -> Capability {
        match self {
            Self::EcsDescribeServices { .. }
            | Self::LogsDescribeLogStreams { .. }
            | Self::LogsGetLogEvents { .. } => Capability::Aws,
            Self::SentryIssues { .. } | Self::SentryLatestEvents { .. } => Capability::Sentry,
            Self::AlpacaAccount | Self::AlpacaPositions | Self::AlpacaOrders { .. } => {
                Capability::Alpaca
            }
            Self::HttpGet { .. } => Capability::HttpGet,
        }
    }

    /// The operation's name in the audit log, for example `ecs:DescribeServices`.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::EcsDescribeServices { .. } => "ecs:DescribeServices",
            Self::LogsDescribeLogStreams { .. } => "logs:DescribeLogStreams",
            Self::LogsGetLogEvents { .. } => "logs:GetLogEvents",
            Self::SentryIssues { .. } => "sentry:issues",
            Self::SentryLatestEvents { .. } => "sentry:latest-events",
            Self::AlpacaAccount => "alpaca:account",
            Self::AlpacaPositions => "alpaca:positions",
            Self::AlpacaOrders { .. } => "alpaca:orders",
            Self::HttpGet { .. } => "http:GET",
        }
    }
}

/// One ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsService {
    /// The service name.
    pub name: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// Tasks the service wants running.
    pub desired_count: u32,
    /// Tasks running.
    pub running_count: u32,
    /// Tasks starting.
    pub pending_count: u32,
    /// The task definition ARN.
    pub task_definition: String,
    /// The latest service events' messages, newest first.
    pub recent_events: Vec<String>,
}

/// ECS `DescribeServices`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsServices {
    /// The services found.
    pub services: Vec<EcsService>,
    /// Names or ARNs ECS reported as failures (for example `MISSING`), with the reason.
    pub failures: Vec<String>,
}

/// One CloudWatch Logs stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogStream {
    /// The stream name.
    pub name: String,
    /// The last event's time, in milliseconds since the epoch.
    pub last_event_ms: Option<i64>,
}

/// One CloudWatch Logs event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    /// When it happened, in milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// The message, redacted.
    pub message: String,
}

/// One Sentry issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentryIssue {
    /// The issue's identifier.
    pub id: String,
    /// The short id shown in Sentry, for example `WEB-1A`.
    pub short_id: String,
    /// The title.
    pub title: String,
    /// Where it happened (the culprit).
    pub culprit: String,
    /// `error`, `warning` and so on.
    pub level: String,
    /// `unresolved`, `resolved` or `ignored`.
    pub status: String,
    /// How many events it has.
    pub count: u64,
    /// How many users it affected.
    pub user_count: u64,
    /// First seen, RFC 3339.
    pub first_seen: String,
    /// Last seen, RFC 3339.
    pub last_seen: String,
}

/// One Sentry event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentryEvent {
    /// The event's identifier.
    pub id: String,
    /// When it happened, RFC 3339.
    pub date: String,
    /// The message or title, redacted.
    pub message: String,
    /// The platform, for example `python`.
    pub platform: String,
}

/// The Alpaca trading account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlpacaAccount {
    /// `ACTIVE` and so on.
    pub status: String,
    /// The account currency.
    pub currency: String,
    /// Cash, as the decimal string Alpaca sends.
    pub cash: String,
    /// Portfolio value, decimal string.
    pub portfolio_value: String,
    /// Buying power, decimal string.
    pub buying_power: String,
    /// Whether trading is blocked.
    pub trading_blocked: bool,
    /// Whether this is the paper-trading endpoint.
    pub paper: bool,
}

/// One Alpaca position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlpacaPosition {
    /// The ticker.
    pub symbol: String,
    /// Quantity, decimal string.
    pub qty: String,
    /// `long` or `short`.
    pub side: String,
    /// Market value, decimal string.
    pub market_value: String,
    /// Unrealised profit or loss, decimal string.
    pub unrealized_pl: String,
}

/// One Alpaca order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlpacaOrder {
    /// The order's identifier.
    pub id: String,
    /// The ticker.
    pub symbol: String,
    /// Quantity, decimal string (empty for notional orders).
    pub qty: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `market`, `limit` and so on.
    pub order_type: String,
    /// `new`, `filled`, `canceled` and so on.
    pub status: String,
    /// When it was submitted, RFC 3339.
    pub submitted_at: String,
}

/// What an allow-listed GET returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body as text (lossy UTF-8), redacted and capped.
    pub body: String,
    /// Whether the body was cut at the size cap.
    pub truncated: bool,
}

/// The answer to one [`IntegrationCall`]; the variant matches the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum IntegrationReply {
    /// For [`IntegrationCall::EcsDescribeServices`].
    EcsServices(EcsServices),
    /// For [`IntegrationCall::LogsDescribeLogStreams`].
    LogStreams {
        /// The streams, newest first.
        streams: Vec<LogStream>,
    },
    /// For [`IntegrationCall::LogsGetLogEvents`].
    LogEvents {
        /// The events, oldest first.
        events: Vec<LogEvent>,
    },
    /// For [`IntegrationCall::SentryIssues`].
    SentryIssues {
        /// The issues.
        issues: Vec<SentryIssue>,
    },
    /// For [`IntegrationCall::SentryLatestEvents`].
    SentryEvents {
        /// The events, newest first.
        events: Vec<SentryEvent>,
    },
    /// For [`IntegrationCall::AlpacaAccount`].
    AlpacaAccount(AlpacaAccount),
    /// For [`IntegrationCall::AlpacaPositions`].
    AlpacaPositions {
        /// The positions.
        positions: Vec<AlpacaPosition>,
    },
    /// For [`IntegrationCall::AlpacaOrders`].
    AlpacaOrders {
        /// The orders.
        orders: Vec<AlpacaOrder>,
    },
    /// For [`IntegrationCall::HttpGet`].
    Http(HttpResponse),
}

/// Why an integration call failed; what the plugin sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "message", rename_all = "kebab-case")]
pub enum IntegrationError {
    /// Not requested, not approved, or not allowed (an allow-list miss); the
    /// text says how to grant it where that is possible.
    #[error("denied: {0}")]
    Denied(String),
    /// Over the capability's rate limit until the call's deadline.
    #[error("rate-limited: {0}")]
    RateLimited(String),
    /// The parameters are malformed (too many services, a bad URL).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The integration is not configured (no credentials, no project).
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// The service answered with an error or could not be reached; redacted.
    #[error("failed: {0}")]
    Failed(String),
}

/// Performs integration calls for plugins: approvals, rate limits,
/// credentials, redaction and audit all happen behind this trait.
pub trait IntegrationHost: Send + Sync + 'static {
    /// Performs `call` for `caller`. Every call, denied ones included, is
    /// audited by the implementation.
    fn call<'a>(
        &'a self,
        caller: &'a Caller,
        call: IntegrationCall,
    ) -> BoxFuture<'a, Result<IntegrationReply, IntegrationError>>;
}

/// The host used when none is configured: denies everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIntegrations;

impl IntegrationHost for NoIntegrations {
    fn call<'a>(
        &'a self,
        caller: &'a Caller,
        call: IntegrationCall,
    ) -> BoxFuture<'a, Result<IntegrationReply, IntegrationError>> {
        Box::pin(async move {
            Err(IntegrationError::Denied(format!(
                "`{}` asked for `{}` ({}), but no integrations are configured for this run",
                caller.who(),
                call.capability(),
                call.operation()
            )))
        })
    }
}
