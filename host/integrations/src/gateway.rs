//! The one chokepoint every integration call goes through.
//!
//! For each call, in order: the plugin must have been loaded from a config
//! entry and have requested the capability; the user must have approved it
//! for that entry's id and component (the approvals file, else the
//! [`Approver`]); the capability's rate limit must allow it; then the call is
//! performed, its reply redacted, and the call audited. Every path is
//! audited, denials included, under the caller's id and digest.
//!
//! Who the caller is comes from the runtime ([`Caller`]): the config entry
//! that loaded the plugin and the SHA-256 of its component. The name a
//! plugin's metadata reports is only shown, never looked up.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use futures::future::BoxFuture;
use ralph_marketplace::Layout;
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::{
    Caller, IntegrationCall, IntegrationError, IntegrationHost, IntegrationReply,
};

use crate::alpaca::Alpaca;
use crate::approvals::{Allowance, ApprovalsFile};
use crate::audit::{AuditEntry, AuditLog, AuditStatus};
use crate::aws::Aws;
use crate::config::{ConfigError, IntegrationsConfig};
use crate::environment::Environment;
use crate::http_get::HttpGet;
use crate::prompt::{Approver, Decision, Request};
use crate::ratelimit::RateLimiters;
use crate::sentry::Sentry;
use ralph_secrets::Redactor;

/// Why a gateway cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{}: {source}", path.display())]
    Config { path: PathBuf, source: ConfigError },
    #[error("{0}")]
    Client(String),
}

/// Where the gateway keeps the user's approvals and the audit log.
#[derive(Debug, Clone)]
pub struct Paths {
    pub approvals_file: PathBuf,
    pub audit_dir: PathBuf,
}

impl Paths {
    /// The repository's `.ralph/approvals.json` and `.ralph/audit/`.
    pub fn of(layout: &Layout) -> Self {
        Self {
            approvals_file: layout.approvals_file(),
            audit_dir: layout.audit_dir(),
        }
    }
}

/// Performs integration calls for plugins. See the module documentation.
pub struct Gateway {
    config: IntegrationsConfig,
    approvals: ApprovalsFile,
    approver: Arc<dyn Approver>,
    /// Answers given at the prompt for this run, by plugin id, component
    /// digest and capability.
    decided: Mutex<BTreeMap<(String, String, Capability), Decision>>,
    /// One prompt at a time.
    prompting: tokio::sync::Mutex<()>,
    limits: RateLimiters,
    redactor: Redactor,
    audit: AuditLog,
    aws: Aws,
    sentry: Sentry,
    alpaca: Alpaca,
    http_get: HttpGet,
}

impl Gateway {
    /// A gateway for the repository at `layout`, configured by the
    /// `integrations` section of its config (`None`: the defaults).
    pub fn from_config(
        layout: &Layout,
        section: Option<&serde_json::Value>,
        environment: &Environment,
        approver: Arc<dyn Approver>,
    ) -> Result<Self, GatewayError> {
        let config =
            IntegrationsConfig::from_value(section).map_err(|source| GatewayError::Config {
                path: layout.config_file(),
                source,
            })?;
        Self::new(config, environment, Paths::of(layout), approver)
    }

    /// A gateway from a typed config.
    pub fn new(
        config: IntegrationsConfig,
        environment: &Environment,
        paths: Paths,
        approver: Arc<dyn Approver>,
    ) -> Result<Self, GatewayError> {
        let client = crate::transport::client(config.timeout()).map_err(GatewayError::Client)?;
        let literals = environment
            .secrets()
            .into_iter()
            .chain(config.redact.account_numbers.iter().cloned());
        Ok(Self {
            approvals: ApprovalsFile::new(paths.approvals_file),
            approver,
            decided: Mutex::new(BTreeMap::new()),
            prompting: tokio::sync::Mutex::new(()),
            limits: RateLimiters::new(&config.rate_limits),
            redactor: ralph_secrets::host().extended(literals),
            audit: AuditLog::new(paths.audit_dir),
            aws: Aws::new(client.clone(), &config.aws, environment),
            sentry: Sentry::new(client.clone(), &config.sentry, environment),
            alpaca: Alpaca::new(client.clone(), &config.alpaca, environment),
            http_get: HttpGet::new(client, config.http_get.max_bytes),
            config,
        })
    }

    /// The redactor every reply, error and audit line goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Performs one call: checks, the operation, redaction and the audit line.
    pub async fn perform(
        &self,
        caller: &Caller,
        call: IntegrationCall,
    ) -> Result<IntegrationReply, IntegrationError> {
        let started = Instant::now();
        let capability = call.capability();
        let operation = call.operation();
        let parameters = self.parameters(&call);
        let outcome = self
            .checked(caller, call)
            .await
            .and_then(|reply| {
                self.redactor.redact_fields(&reply).map_err(|error| {
                    IntegrationError::Failed(format!("cannot redact the reply: {error}"))
                })
            })
            .map_err(|error| self.redact_error(error));
        let (status, bytes, error) = match &outcome {
            Ok(reply) => (
                AuditStatus::Ok,
                serde_json::to_vec(reply).map_or(0, |json| json.len() as u64),
                None,
            ),
            Err(error) => (AuditStatus::of(error), 0, Some(error.to_string())),
        };
        let entry = AuditEntry {
            time: Utc::now(),
            plugin: caller.id.clone().unwrap_or_else(|| NO_ENTRY.to_owned()),
            sha256: Some(caller.digest.clone()),
            name: Some(caller.name.clone()),
            capability,
            operation: operation.to_owned(),
            parameters,
            status,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            bytes,
            error,
        };
        match (self.audit.append(&entry), outcome) {
            (Ok(()), outcome) => outcome,
            // No reply leaves without its audit line.
            (Err(problem), Ok(_)) => Err(IntegrationError::Failed(
                self.redactor.redact(&problem.to_string()),
            )),
            (Err(problem), Err(error)) => {
                tracing::warn!("Cannot audit a failed call: {problem}");
                Err(error)
            }
        }
    }

    /// The checks and the operation, without redaction or audit.
    async fn checked(
        &self,
        caller: &Caller,
        call: IntegrationCall,
    ) -> Result<IntegrationReply, IntegrationError> {
        let capability = call.capability();
        let Some(id) = caller.id.as_deref() else {
            return Err(IntegrationError::Denied(format!(
                "plugin `{}` was loaded without a config entry, so it cannot be approved for \
                 `{capability}`; configure it in .ralph/config.json",
                caller.name
            )));
        };
        if !capability.is_integration() || !caller.requested.contains(&capability) {
            return Err(IntegrationError::Denied(format!(
                "plugin `{id}` did not request the `{capability}` capability in its metadata, \
                 so it cannot use it; its author must add it to the plugin's requested capabilities"
            )));
        }
        self.approve(id, caller, capability, call.operation())
            .await?;
        let deadline = tokio::time::Instant::from_std(caller.deadline);
        self.limits
            .acquire(capability, deadline)
            .await
            .map_err(|throttled| {
                IntegrationError::RateLimited(format!(
                    "`{capability}` allows {} calls per second (burst {}); the next slot is {} ms \
                     away, past this call's deadline",
                    throttled.limit.per_second,
                    throttled.limit.burst,
                    throttled.wait.as_millis()
                ))
            })?;
        let operation = call.operation();
        tokio::time::timeout_at(deadline, self.dispatch(id, call))
            .await
            .unwrap_or_else(|_| {
                Err(IntegrationError::Failed(format!(
                    "{operation}: the call's deadline passed"
                )))
            })
    }

    /// Whether the user approves the plugin `id` (with `caller`'s
    /// component): the approvals file, this run's answers, or the prompt.
    async fn approve(
        &self,
        id: &str,
        caller: &Caller,
        capability: Capability,
        operation: &str,
    ) -> Result<(), IntegrationError> {
        let digest = caller.digest.as_str();
        let key = (id.to_owned(), digest.to_owned(), capability);
        let mut allowance = self.file_allows(id, digest, capability)?;
        if allowance == Allowance::Allowed {
            return Ok(());
        }
        if let Some(decision) = self.remembered(&key) {
            return settle(decision);
        }
        let _prompt = self.prompting.lock().await;
        // Another call may have asked (or pinned) while this one waited.
        allowance = self.file_allows(id, digest, capability)?;
        match &allowance {
            Allowance::Allowed => return Ok(()),
            Allowance::AllowedUnpinned => return self.pin(id, digest),
            Allowance::OtherComponent(_) | Allowance::No => {}
        }
        if let Some(decision) = self.remembered(&key) {
            return settle(decision);
        }
        let approved_digest = match allowance {
            Allowance::OtherComponent(approved) => Some(approved),
            _ => None,
        };
        let approver = Arc::clone(&self.approver);
        let (request_id, request_name, request_digest) =
            (id.to_owned(), caller.name.clone(), digest.to_owned());
        let request_operation = operation.to_owned();
        let decision = tokio::task::spawn_blocking(move || {
            approver.decide(Request {
                plugin: &request_id,
                name: &request_name,
                digest: &request_digest,
                approved_digest: approved_digest.as_deref(),
                capability,
                operation: &request_operation,
            })
        })
        .await
        .unwrap_or_else(|_| Decision::Deny("the approval prompt failed".to_owned()));
        if decision == Decision::AllowAlways
            && let Err(problem) = self.approvals.grant(id, digest, capability)
        {
            tracing::warn!("Cannot remember the approval: {problem}");
        }
        if let Ok(mut decided) = self.decided.lock() {
            decided.insert(key, decision.clone());
        }
        settle(decision)
    }

    /// Binds an approval carried over from a version 1 approvals file to
    /// the component of the entry that first uses it, and says so once.
    fn pin(&self, id: &str, digest: &str) -> Result<(), IntegrationError> {
        match self.approvals.pin(id, digest) {
            Ok(true) => {
                let message = format!(
                    "The approvals of `{id}` in {} had no component digest (an older Ralph wrote \
                     them); they are now bound to its current component, sha256 {digest}. A \
                     changed component must be approved again.",
                    self.approvals.path().display()
                );
                tracing::warn!(plugin = id, sha256 = digest, "{message}");
                eprintln!("note: {message}");
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(problem) => Err(IntegrationError::Denied(problem.to_string())),
        }
    }

    fn file_allows(
        &self,
        id: &str,
        digest: &str,
        capability: Capability,
    ) -> Result<Allowance, IntegrationError> {
        self.approvals
            .load()
            .map(|approvals| approvals.allows(id, digest, capability))
            .map_err(|problem| IntegrationError::Denied(problem.to_string()))
    }

    fn remembered(&self, key: &(String, String, Capability)) -> Option<Decision> {
        self.decided.lock().ok()?.get(key).cloned()
    }

    /// Performs `call` for the plugin `id`, whose allow-list an `http-get` uses.
    async fn dispatch(
        &self,
        id: &str,
        call: IntegrationCall,
    ) -> Result<IntegrationReply, IntegrationError> {
        match call {
            IntegrationCall::EcsDescribeServices { cluster, services } => self
                .aws
                .describe_services(&cluster, &services)
                .await
                .map(IntegrationReply::EcsServices),
            IntegrationCall::LogsDescribeLogStreams {
                log_group,
                prefix,
                limit,
            } => self
                .aws
                .describe_log_streams(&log_group, prefix.as_deref(), limit)
                .await
                .map(|streams| IntegrationReply::LogStreams { streams }),
            IntegrationCall::LogsGetLogEvents {
                log_group,
                log_stream,
                start_time_ms,
                limit,
            } => self
                .aws
                .get_log_events(&log_group, &log_stream, start_time_ms, limit)
                .await
                .map(|events| IntegrationReply::LogEvents { events }),
            IntegrationCall::SentryIssues { query, limit } => self
                .sentry
                .issues(query.as_deref(), limit)
                .await
                .map(|issues| IntegrationReply::SentryIssues { issues }),
            IntegrationCall::SentryLatestEvents { issue_id, limit } => self
                .sentry
                .latest_events(&issue_id, limit)
                .await
                .map(|events| IntegrationReply::SentryEvents { events }),
            IntegrationCall::AlpacaAccount => self
                .alpaca
                .account()
                .await
                .map(IntegrationReply::AlpacaAccount),
            IntegrationCall::AlpacaPositions => self
                .alpaca
                .positions()
                .await
                .map(|positions| IntegrationReply::AlpacaPositions { positions }),
            IntegrationCall::AlpacaOrders { status, limit } => self
                .alpaca
                .orders(status, limit)
                .await
                .map(|orders| IntegrationReply::AlpacaOrders { orders }),
            IntegrationCall::HttpGet { url } => {
                let rules = self
                    .config
                    .http_get
                    .allow
                    .get(id)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                self.http_get
                    .get(id, rules, &url)
                    .await
                    .map(IntegrationReply::Http)
            }
        }
    }

    /// The call's fields, redacted, for the audit log.
    fn parameters(&self, call: &IntegrationCall) -> serde_json::Value {
        let mut value = serde_json::to_value(call).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            fields.remove("operation");
        }
        self.redactor.redact_json(value)
    }

    fn redact_error(&self, error: IntegrationError) -> IntegrationError {
        let redact = |text: String| self.redactor.redact(&text);
        match error {
            IntegrationError::Denied(text) => IntegrationError::Denied(redact(text)),
            IntegrationError::RateLimited(text) => IntegrationError::RateLimited(redact(text)),
            IntegrationError::InvalidRequest(text) => {
                IntegrationError::InvalidRequest(redact(text))
            }
            IntegrationError::NotConfigured(text) => IntegrationError::NotConfigured(redact(text)),
            IntegrationError::Failed(text) => IntegrationError::Failed(redact(text)),
        }
    }
}

/// What the audit log's `plugin` says for a caller loaded without a config
/// entry.
pub const NO_ENTRY: &str = "-";

fn settle(decision: Decision) -> Result<(), IntegrationError> {
    match decision {
        Decision::AllowForRun | Decision::AllowAlways => Ok(()),
        Decision::Deny(reason) => Err(IntegrationError::Denied(reason)),
    }
}

impl IntegrationHost for Gateway {
    fn call<'a>(
        &'a self,
        caller: &'a Caller,
        call: IntegrationCall,
    ) -> BoxFuture<'a, Result<IntegrationReply, IntegrationError>> {
        Box::pin(self.perform(caller, call))
    }
}
