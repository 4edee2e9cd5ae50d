//! `ralph plugin list`: every configured plugin, loaded to read its metadata.

use std::collections::BTreeSet;
use std::path::Path;

use ralph_broker::checks::{Category, CommandCheck};
use ralph_broker::plugins::{CheckEntry, Lineup, PluginEntry};
use ralph_marketplace::{Layout, Marketplace};
use ralph_runtime::{Capability, CapabilitySet, Limits, Metadata, Runtime, World};
use serde::Serialize;

use super::{block_on, cache_of, runtime, table};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, out};

/// Whether a listed entry is a component or a command check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Plugin,
    Command,
}

/// One configured bidder, specialist or check. Every entry has every key;
/// a key that does not apply, or could not be read, is `null`.
#[derive(Debug, Serialize)]
pub struct Listed {
    /// `bidder_1`…, `specialist` or `check`.
    pub role: String,
    pub kind: EntryKind,
    /// The check's name in the config (checks only).
    pub check: Option<String>,
    pub world: Option<World>,
    /// From the plugin's metadata (plugins that loaded) or the config
    /// (command checks).
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    /// `bundled:NAME` or the component's path (plugins only).
    pub source: Option<String>,
    /// The program and its arguments (command checks only).
    pub argv: Option<Vec<String>>,
    pub category: Option<Category>,
    pub timeout_seconds: Option<u64>,
    pub capabilities: Option<Capabilities>,
    pub limits: Option<LimitsReport>,
    /// Why the plugin could not be loaded.
    pub error: Option<String>,
}

/// What a plugin asks for, what the config grants and what it may use.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    /// `null` when the plugin could not be loaded.
    pub requested: Option<Vec<Capability>>,
    pub granted: Vec<Capability>,
    /// Requested and granted: what calls may use.
    pub effective: Option<Vec<Capability>>,
    /// Requested but not granted: calls to these are denied. Integrations
    /// (`aws`, `sentry`, `alpaca`, `http-get`) are never listed here: the
    /// user's approvals (`ralph permissions`) grant them, not the config.
    pub not_granted: Option<Vec<Capability>>,
}

/// A plugin's sandbox limits, defaults filled in, in the config's units.
#[derive(Debug, Serialize)]
pub struct LimitsReport {
    pub memory_mib: u64,
    pub deadline_ms: u64,
    pub output_kib: u64,
}

const MEBIBYTE: u64 = 1024 * 1024;
const KIBIBYTE: u64 = 1024;

impl From<Limits> for LimitsReport {
    fn from(limits: Limits) -> Self {
        LimitsReport {
            memory_mib: limits.memory_bytes as u64 / MEBIBYTE,
            deadline_ms: u64::try_from(limits.deadline.as_millis()).unwrap_or(u64::MAX),
            output_kib: limits.output_bytes as u64 / KIBIBYTE,
        }
    }
}

pub fn run(layout: &Layout, json: bool) -> Outcome {
    let config_file = layout.config_file();
    if !config_file.exists() {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "{}: no marketplace config here; run `ralph marketplace setup` first",
                config_file.display()
            ),
        ));
    }
    let marketplace = Marketplace::open(layout.clone()).map_err(Failure::bad_input)?;
    let lineup =
        Lineup::from_config(marketplace.config(), &config_file).map_err(Failure::bad_input)?;
    let runtime = runtime(cache_of(Some(layout.repository())))?;
    let listed = block_on(load_lineup(&runtime, layout.repository(), &lineup))?;
    if json {
        let text = serde_json::to_string_pretty(&listed).map_err(Failure::problem)?;
        output::json_line(&text);
    } else {
        out!(
            "{}",
            table::render(&listed, &layout.display(&config_file).to_string())
        );
    }
    Ok(if listed.iter().any(|entry| entry.error.is_some()) {
        Exit::Problems
    } else {
        Exit::Success
    })
}

/// Loads every plugin of the lineup, in order: bidders, specialists, checks.
async fn load_lineup(runtime: &Runtime, repository: &Path, lineup: &Lineup) -> Vec<Listed> {
    let mut listed = Vec::new();
    for (bot_id, entry) in &lineup.bidders {
        let loaded = load(runtime, repository, World::Bidder, entry).await;
        listed.push(plugin(bot_id.clone(), None, World::Bidder, entry, loaded));
    }
    for entry in &lineup.specialists {
        let loaded = load(runtime, repository, World::Specialist, entry).await;
        listed.push(plugin(
            "specialist".to_owned(),
            None,
            World::Specialist,
            entry,
            loaded,
        ));
    }
    for check in &lineup.checks {
        match check {
            CheckEntry::Command(command) => listed.push(command_check(command)),
            CheckEntry::Plugin { name, entry } => {
                let loaded = load(runtime, repository, World::Check, entry).await;
                listed.push(plugin(
                    "check".to_owned(),
                    Some(name.clone()),
                    World::Check,
                    entry,
                    loaded,
                ));
            }
        }
    }
    listed
}

/// What loading a plugin tells: its metadata and its capability set.
type Loaded = Result<(Metadata, CapabilitySet), String>;

/// Loads one plugin as its role's world; the error names the file.
async fn load(runtime: &Runtime, repository: &Path, world: World, entry: &PluginEntry) -> Loaded {
    let label = entry.source.label();
    let bytes = entry.source.bytes(repository).map_err(|error| {
        format!(
            "cannot read plugin {}: {error}; build it or fix its path in .ralph/config.json \
             (relative paths start at the repository)",
            label.display()
        )
    })?;
    let grants = entry.grants.iter().copied();
    let limits = entry.limits.resolve();
    let loaded = match world {
        World::Bidder => runtime
            .load_bidder(&entry.id, &label, &bytes, grants, limits)
            .await
            .map(|plugin| {
                (
                    plugin.metadata().clone(),
                    plugin.identity().capabilities.clone(),
                )
            }),
        World::Specialist => runtime
            .load_specialist(&entry.id, &label, &bytes, grants, limits)
            .await
            .map(|plugin| {
                (
                    plugin.metadata().clone(),
                    plugin.identity().capabilities.clone(),
                )
            }),
        World::Check => runtime
            .load_check(&entry.id, &label, &bytes, grants, limits)
            .await
            .map(|plugin| {
                (
                    plugin.metadata().clone(),
                    plugin.identity().capabilities.clone(),
                )
            }),
    };
    loaded.map_err(|error| error.to_string())
}

fn sorted(set: &BTreeSet<Capability>) -> Vec<Capability> {
    set.iter().copied().collect()
}

fn plugin(
    role: String,
    check: Option<String>,
    world: World,
    entry: &PluginEntry,
    loaded: Loaded,
) -> Listed {
    let granted = sorted(&entry.grants);
    let (metadata, capabilities, error) = match loaded {
        Ok((metadata, set)) => {
            let not_granted = set
                .requested()
                .difference(set.granted())
                .copied()
                .filter(|capability| !capability.is_integration())
                .collect();
            let capabilities = Capabilities {
                requested: Some(sorted(set.requested())),
                granted,
                effective: Some(sorted(&set.effective())),
                not_granted: Some(not_granted),
            };
            (Some(metadata), capabilities, None)
        }
        Err(error) => {
            let capabilities = Capabilities {
                requested: None,
                granted,
                effective: None,
                not_granted: None,
            };
            (None, capabilities, Some(error))
        }
    };
    Listed {
        role,
        kind: EntryKind::Plugin,
        check,
        world: Some(world),
        name: metadata.as_ref().map(|metadata| metadata.name.clone()),
        version: metadata.as_ref().map(|metadata| metadata.version.clone()),
        description: metadata.map(|metadata| metadata.description),
        source: Some(entry.source.label().display().to_string()),
        argv: None,
        category: None,
        timeout_seconds: None,
        capabilities: Some(capabilities),
        limits: Some(entry.limits.resolve().into()),
        error,
    }
}

fn command_check(command: &CommandCheck) -> Listed {
    Listed {
        role: "check".to_owned(),
        kind: EntryKind::Command,
        check: Some(command.name.clone()),
        world: None,
        name: Some(command.name.clone()),
        version: None,
        description: None,
        source: None,
        argv: Some(command.argv.clone()),
        category: Some(command.category),
        timeout_seconds: Some(command.timeout_seconds),
        capabilities: None,
        limits: None,
        error: None,
    }
}
