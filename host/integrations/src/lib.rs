//! Read-only external integrations for plugins.
//!
//! Plugins never hold credentials and never reach the network. When a plugin
//! calls the `aws`, `sentry`, `alpaca` or `http-get` host imports, the runtime
//! hands the call to the [`Gateway`], which checks in order that the plugin
//! requested the capability, that the user approved it (`.ralph/approvals.json`
//! or a terminal prompt), and that the capability's rate limit allows it; then
//! performs the one read-only operation with credentials from the environment,
//! redacts every string of the reply, and appends an audit line to
//! `.ralph/audit/<date>.jsonl`. `docs/integrations.md` is the user's guide.

pub mod alpaca;
pub mod approvals;
pub mod audit;
pub mod aws;
pub mod config;
pub mod environment;
pub mod gateway;
pub mod http_get;
pub mod prompt;
pub mod ratelimit;
pub mod sentry;
pub mod sigv4;
mod transport;

pub use approvals::{Approvals, ApprovalsError, ApprovalsFile};
pub use audit::{AuditEntry, AuditLog, AuditStatus};
pub use config::{ConfigError, IntegrationsConfig};
pub use environment::Environment;
pub use gateway::Gateway;
pub use prompt::{Approver, Decision, NonInteractive, TerminalApprover, default_approver};
/// The host-wide redactor (`ralph-secrets`), which the gateway extends with
/// its own secrets.
pub use ralph_secrets::Redactor;
