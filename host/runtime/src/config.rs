//! How a plugin is configured: where it is, which world it implements, what
//! the user grants it, and its limits.
//!
//! [`PluginConfig`] is the runtime's own description of a plugin to load.
//! Users write plugins in `.ralph/config.json`'s `bidders`, `specialists` and
//! `checks` sections, which the broker reads (`host/broker/src/plugins.rs`)
//! into grants and [`LimitsConfig`] for the runtime.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::capabilities::Capability;

/// One of the three plugin worlds of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// Proposes plans for issues.
    Bidder,
    /// Answers questions and reviews proposals.
    Specialist,
    /// Verifies implemented changes.
    Check,
}

impl World {
    /// Every world, in a stable order.
    pub const ALL: [World; 3] = [Self::Bidder, Self::Specialist, Self::Check];

    /// The world's name in the WIT package.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bidder => "bidder",
            Self::Specialist => "specialist",
            Self::Check => "check",
        }
    }

    /// The functions a component must export to implement this world.
    pub fn required_exports(self) -> &'static [&'static str] {
        match self {
            Self::Bidder => &["metadata", "propose"],
            Self::Specialist => &["metadata", "ask", "review"],
            Self::Check => &["metadata", "run"],
        }
    }
}

impl fmt::Display for World {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for World {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|world| world.name() == name)
            .ok_or_else(|| format!("unknown world `{name}` (expected bidder, specialist or check)"))
    }
}

/// The sandbox limits applied to every call of one plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most linear memory the plugin may use, summed over its memories.
    pub memory_bytes: usize,
    /// Wall-clock time one call may take.
    pub deadline: Duration,
    /// The largest result a call may return, counting text bytes.
    pub output_bytes: usize,
    /// The most standard output and standard error kept per call.
    pub console_bytes: usize,
}

impl Limits {
    /// The default memory cap: 256 MiB.
    pub const DEFAULT_MEMORY_BYTES: usize = 256 * 1024 * 1024;
    /// The default deadline: 60 s.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
    /// The default output cap: 1 MiB.
    pub const DEFAULT_OUTPUT_BYTES: usize = 1024 * 1024;
    /// The default console cap: 64 KiB per stream.
    pub const DEFAULT_CONSOLE_BYTES: usize = 64 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: Self::DEFAULT_MEMORY_BYTES,
            deadline: Self::DEFAULT_DEADLINE,
            output_bytes: Self::DEFAULT_OUTPUT_BYTES,
            console_bytes: Self::DEFAULT_CONSOLE_BYTES,
        }
    }
}

/// Limits as written in configuration; anything left out takes its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct LimitsConfig {
    /// Memory cap in MiB.
    pub memory_mib: Option<u64>,
    /// Deadline per call in milliseconds.
    pub deadline_ms: Option<u64>,
    /// Output cap in KiB.
    pub output_kib: Option<u64>,
}

impl LimitsConfig {
    /// The limits with defaults filled in.
    pub fn resolve(&self) -> Limits {
        let defaults = Limits::default();
        let mebibytes = |value: u64| usize::try_from(value.saturating_mul(1024 * 1024));
        let kibibytes = |value: u64| usize::try_from(value.saturating_mul(1024));
        Limits {
            memory_bytes: self
                .memory_mib
                .and_then(|value| mebibytes(value).ok())
                .unwrap_or(defaults.memory_bytes),
            deadline: self
                .deadline_ms
                .map(Duration::from_millis)
                .unwrap_or(defaults.deadline),
            output_bytes: self
                .output_kib
                .and_then(|value| kibibytes(value).ok())
                .unwrap_or(defaults.output_bytes),
            console_bytes: defaults.console_bytes,
        }
    }
}

/// One configured plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct PluginConfig {
    /// Its id, its identity for approvals, allow-lists and the audit; by
    /// default the file's stem.
    #[serde(default)]
    pub id: Option<String>,
    /// The component file.
    pub path: PathBuf,
    /// The world it must implement.
    pub world: World,
    /// Capabilities the user grants it.
    #[serde(default)]
    pub grants: BTreeSet<Capability>,
    /// Its sandbox limits.
    #[serde(default)]
    pub limits: LimitsConfig,
}

impl PluginConfig {
    /// The plugin's id: the configured one, else the file's stem.
    pub fn id(&self) -> String {
        self.id.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_to_256_mebibytes_and_60_seconds() {
        let limits = LimitsConfig::default().resolve();
        assert_eq!(limits.memory_bytes, 256 * 1024 * 1024);
        assert_eq!(limits.deadline, Duration::from_secs(60));
    }

    #[test]
    fn configured_limits_override_defaults() {
        let limits = LimitsConfig {
            memory_mib: Some(16),
            deadline_ms: Some(250),
            output_kib: Some(8),
        }
        .resolve();
        assert_eq!(limits.memory_bytes, 16 * 1024 * 1024);
        assert_eq!(limits.deadline, Duration::from_millis(250));
        assert_eq!(limits.output_bytes, 8 * 1024);
    }

    #[test]
    fn plugin_config_reads_from_json() -> Result<(), serde_json::Error> {
        let config: PluginConfig = serde_json::from_str(
            r#"{"path": "p.wasm", "world": "bidder", "grants": ["consult"],
                "limits": {"deadline_ms": 500}}"#,
        )?;
        assert_eq!(config.world, World::Bidder);
        assert!(config.grants.contains(&Capability::Consult));
        assert_eq!(config.limits.deadline_ms, Some(500));
        Ok(())
    }

    #[test]
    fn an_unknown_grant_is_rejected() {
        let parsed: Result<PluginConfig, _> =
            serde_json::from_str(r#"{"path": "p.wasm", "world": "check", "grants": ["network"]}"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn worlds_parse_by_name() {
        assert_eq!("specialist".parse(), Ok(World::Specialist));
        assert!("broker".parse::<World>().is_err());
    }
}
