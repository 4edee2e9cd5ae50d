//! Which plugins a marketplace runs: the `bidders`, `specialists` and
//! `checks` sections of `.ralph/config.json`, typed and validated.
//!
//! ```json
//! "bidders": {
//!   "bidder_1": {"plugin": "bundled:smallest-change", "grants": ["repository", "complete"]},
//!   "bidder_2": {"plugin": ".ralph/plugins/my-bidder.wasm", "limits": {"deadline_ms": 30000},
//!                "max_tokens_per_round": 50000, "persona": "cautious",
//!                "personality": {"risk_tolerance": "conservative", "verbosity": "terse"}}
//! },
//! "specialists": [{"plugin": "bundled:rust-conventions", "grants": ["repository"]},
//!                 {"id": "status", "plugin": ".ralph/plugins/status-reader.wasm"}],
//! "checks": [
//!   {"name": "format", "argv": ["cargo", "fmt", "--check"], "category": "format"},
//!   {"name": "secrets", "plugin": "bundled:secrets"}
//! ]
//! ```
//!
//! A section left out takes the default lineup: the bundled bidders in turn
//! (`smallest-change`, `tests-first`, `persona-planner`, then again), the
//! bundled specialists that need no external integration and the three
//! bundled checks, each granted what it asks for. A section written out
//! grants exactly what it lists. Integration capabilities (`aws`, `sentry`,
//! `alpaca`, `http-get`) are never granted here: the user approves them with
//! `ralph permissions grant`, and a `grants` entry naming one is an error.
//!
//! Every plugin entry has an id, its identity for approvals, allow-lists,
//! metering, routing and the audit (never the name its metadata reports):
//! a bidder's is its bidder id, a specialist's its `id` (by default the
//! bundled name of `bundled:NAME` or the file's stem), a check plugin's its
//! `name`. Ids are lowercase letters, digits, `_` and `-`, and unique across
//! the lineup.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ralph_marketplace::{Config, ConfigError};
use ralph_models::LlmSettings;
use ralph_plugins_bundle::{BundledPlugin, Kind};
use ralph_runtime::{Capability, LimitsConfig, Personality, World};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::checks::CommandCheck;

/// The bundled bidders the default lineup takes in turn.
pub const DEFAULT_BIDDERS: [&str; 3] = ["smallest-change", "tests-first", "persona-planner"];

/// Where a plugin's component comes from.
#[derive(Clone, Debug)]
pub enum PluginSource {
    /// One of the plugins embedded in Ralph (`bundled:NAME`).
    Bundled(&'static BundledPlugin),
    /// A component file, relative to the repository unless absolute.
    File(PathBuf),
}

impl PartialEq for PluginSource {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PluginSource::Bundled(left), PluginSource::Bundled(right)) => left.name == right.name,
            (PluginSource::File(left), PluginSource::File(right)) => left == right,
            _ => false,
        }
    }
}

impl Eq for PluginSource {}

impl PluginSource {
    /// A label for messages: `bundled:NAME` or the file's path.
    pub fn label(&self) -> PathBuf {
        match self {
            PluginSource::Bundled(plugin) => PathBuf::from(format!("bundled:{}", plugin.name)),
            PluginSource::File(path) => path.clone(),
        }
    }

    /// The component's bytes; a file is read relative to `repository`.
    pub fn bytes(&self, repository: &Path) -> std::io::Result<Cow<'static, [u8]>> {
        match self {
            PluginSource::Bundled(plugin) => Ok(Cow::Borrowed(plugin.bytes)),
            PluginSource::File(path) => std::fs::read(repository.join(path)).map(Cow::Owned),
        }
    }
}

/// One configured plugin: where it is, what it may do, its limits, and
/// which model answers it when not the top-level `llm` section's.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginEntry {
    /// The entry's id: see the module documentation.
    pub id: String,
    pub source: PluginSource,
    pub grants: BTreeSet<Capability>,
    pub limits: LimitsConfig,
    pub llm: Option<LlmSettings>,
    /// A bidder's own token cap per round (`max_tokens_per_round`); `None`
    /// takes `metering.round_token_cap`. Always `None` for other worlds.
    pub max_tokens_per_round: Option<u64>,
    /// A bidder's persona, by name in `.claude/agents/` (`persona`); `None`
    /// for the default, `bidder`.
    pub persona: Option<String>,
    /// How the user tuned a bidder (`personality`).
    pub personality: Option<Personality>,
}

/// A check: a command or a check plugin.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckEntry {
    Command(CommandCheck),
    Plugin {
        name: String,
        entry: Box<PluginEntry>,
    },
}

/// Every plugin and check a marketplace runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Lineup {
    /// One bidder plugin per bot id, in the config's bot order.
    pub bidders: Vec<(String, PluginEntry)>,
    pub specialists: Vec<PluginEntry>,
    pub checks: Vec<CheckEntry>,
}

impl Lineup {
    /// Every plugin entry with the config field it is written at
    /// (`bidders.bidder_1`, `specialists[0]`, `checks[2]`), in config order.
    pub fn entries(&self) -> Vec<(String, &PluginEntry)> {
        let bidders = self
            .bidders
            .iter()
            .map(|(id, entry)| (format!("bidders.{id}"), entry));
        let specialists = self
            .specialists
            .iter()
            .enumerate()
            .map(|(index, entry)| (format!("specialists[{index}]"), entry));
        let checks = self
            .checks
            .iter()
            .enumerate()
            .filter_map(|(index, check)| match check {
                CheckEntry::Plugin { entry, .. } => Some((format!("checks[{index}]"), &**entry)),
                CheckEntry::Command(_) => None,
            });
        bidders.chain(specialists).chain(checks).collect()
    }

    /// The plugin entry whose id is `id`.
    pub fn entry(&self, id: &str) -> Option<&PluginEntry> {
        self.entries()
            .into_iter()
            .map(|(_, entry)| entry)
            .find(|entry| entry.id == id)
    }

    /// Refuses an invalid id and an id two entries share, naming the field.
    fn check_ids(&self) -> Result<(), (String, String)> {
        let mut seen: Vec<(&str, String)> = Vec::new();
        for (field, entry) in self.entries() {
            let id_field = if field.starts_with("bidders.") {
                field.clone()
            } else if field.starts_with("checks[") {
                format!("{field}.name")
            } else {
                format!("{field}.id")
            };
            ralph_runtime::sandbox::check_id(&entry.id)
                .map_err(|message| (id_field.clone(), message))?;
            if let Some((_, earlier)) = seen.iter().find(|(id, _)| *id == entry.id) {
                return Err((
                    id_field,
                    format!(
                        "the plugin id `{}` is taken by {earlier}; every plugin needs its own id \
                         (it is what approvals, allow-lists and the audit are keyed by)",
                        entry.id
                    ),
                ));
            }
            seen.push((&entry.id, field));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    /// A specialist's id; bidders and checks have theirs elsewhere.
    #[serde(default)]
    id: Option<String>,
    plugin: String,
    #[serde(default)]
    grants: BTreeSet<Capability>,
    #[serde(default)]
    limits: LimitsConfig,
    #[serde(default)]
    llm: Option<LlmSettings>,
}

/// A bidder's entry: a plugin entry with the bidder-only settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBidder {
    plugin: String,
    #[serde(default)]
    grants: BTreeSet<Capability>,
    #[serde(default)]
    limits: LimitsConfig,
    #[serde(default)]
    max_tokens_per_round: Option<u64>,
    #[serde(default)]
    persona: Option<String>,
    #[serde(default)]
    personality: Option<Personality>,
    #[serde(default)]
    llm: Option<LlmSettings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckPlugin {
    name: Option<String>,
    plugin: String,
    #[serde(default)]
    grants: BTreeSet<Capability>,
    #[serde(default)]
    limits: LimitsConfig,
}

impl Lineup {
    /// Types the plugin sections of `config`, read from `path` (for
    /// messages); errors name the file and the field.
    pub fn from_config(config: &Config, path: &Path) -> Result<Lineup, ConfigError> {
        let invalid = |field: String, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field,
            message,
        };
        let bot_ids = config.bot_ids();
        let bidders = match &config.bidders {
            None => bot_ids
                .iter()
                .enumerate()
                .map(|(index, id)| {
                    let name = DEFAULT_BIDDERS[index % DEFAULT_BIDDERS.len()];
                    Ok((id.clone(), default_entry(name, id)))
                })
                .collect::<Result<_, ConfigError>>()?,
            Some(section) => {
                let raw: std::collections::BTreeMap<String, RawBidder> =
                    typed(section, "bidders").map_err(|(f, m)| invalid(f, m))?;
                for id in raw.keys() {
                    if config.bot_index(id).is_none() {
                        return Err(invalid(
                            format!("bidders.{id}"),
                            format!("no such bidder: num_bots is {}", config.num_bots),
                        ));
                    }
                }
                let mut bidders = Vec::new();
                for id in &bot_ids {
                    let entry = raw
                        .get(id)
                        .ok_or_else(|| invalid("bidders".into(), format!("no plugin for {id}")))?;
                    let prefix = format!("bidders.{id}");
                    let plugin = RawEntry {
                        id: Some(id.clone()),
                        plugin: entry.plugin.clone(),
                        grants: entry.grants.clone(),
                        limits: entry.limits,
                        llm: entry.llm.clone(),
                    };
                    let mut typed_entry =
                        entry_of(&plugin, Kind::Bidder, &prefix).map_err(|(f, m)| invalid(f, m))?;
                    typed_entry.max_tokens_per_round = entry.max_tokens_per_round;
                    if let Some(name) = &entry.persona
                        && !crate::personas::is_valid_name(name)
                    {
                        return Err(invalid(
                            format!("bidders.{id}.persona"),
                            format!(
                                "{name:?} is not a persona name: lower-case letters, digits, `-` and `_`, naming .claude/agents/NAME.md"
                            ),
                        ));
                    }
                    typed_entry.persona = entry.persona.clone();
                    typed_entry.personality = entry.personality;
                    bidders.push((id.clone(), typed_entry));
                }
                bidders
            }
        };
        let specialists = match &config.specialists {
            None => bundled_of(Kind::Specialist)
                .filter(|plugin| !needs_integrations(plugin))
                .map(|plugin| default_entry(plugin.name, plugin.name))
                .collect(),
            Some(section) => {
                let raw: Vec<RawEntry> =
                    typed(section, "specialists").map_err(|(f, m)| invalid(f, m))?;
                raw.iter()
                    .enumerate()
                    .map(|(index, entry)| {
                        let prefix = format!("specialists[{index}]");
                        entry_of(entry, Kind::Specialist, &prefix).map_err(|(f, m)| invalid(f, m))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        let checks = match &config.checks {
            None => bundled_of(Kind::Check)
                .map(|plugin| CheckEntry::Plugin {
                    name: plugin.name.to_owned(),
                    entry: Box::new(default_entry(plugin.name, plugin.name)),
                })
                .collect(),
            Some(section) => checks_of(section).map_err(|(f, m)| invalid(f, m))?,
        };
        let lineup = Lineup {
            bidders,
            specialists,
            checks,
        };
        lineup.check_ids().map_err(|(f, m)| invalid(f, m))?;
        Ok(lineup)
    }
}

/// Deserializes `value` as `T`, naming the field at fault under `prefix`.
fn typed<T: DeserializeOwned>(
    value: &serde_json::Value,
    prefix: &str,
) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." || path == "?" {
            prefix.to_owned()
        } else if path.starts_with('[') {
            format!("{prefix}{path}")
        } else {
            format!("{prefix}.{path}")
        };
        (field, error.into_inner().to_string())
    })
}

fn checks_of(section: &serde_json::Value) -> Result<Vec<CheckEntry>, (String, String)> {
    let items = section
        .as_array()
        .ok_or_else(|| ("checks".to_owned(), "must be a list of checks".to_owned()))?;
    let mut checks = Vec::new();
    let mut names = BTreeSet::new();
    for (index, item) in items.iter().enumerate() {
        let prefix = format!("checks[{index}]");
        let check = if item.get("plugin").is_some() {
            let raw: RawCheckPlugin = typed(item, &prefix)?;
            let mut entry = entry_of(
                &RawEntry {
                    id: None,
                    plugin: raw.plugin,
                    grants: raw.grants,
                    limits: raw.limits,
                    llm: None,
                },
                Kind::Check,
                &prefix,
            )?;
            let name = raw.name.unwrap_or_else(|| default_name(&entry.source));
            entry.id = name.clone();
            CheckEntry::Plugin {
                name,
                entry: Box::new(entry),
            }
        } else {
            let command: CommandCheck = typed(item, &prefix)?;
            if command.argv.is_empty() {
                return Err((
                    format!("{prefix}.argv"),
                    "must name a program to run".into(),
                ));
            }
            CheckEntry::Command(command)
        };
        let name = match &check {
            CheckEntry::Command(command) => command.name.clone(),
            CheckEntry::Plugin { name, .. } => name.clone(),
        };
        if !names.insert(name.clone()) {
            return Err((
                format!("{prefix}.name"),
                format!("a second check named {name:?}"),
            ));
        }
        checks.push(check);
    }
    Ok(checks)
}

fn default_name(source: &PluginSource) -> String {
    match source {
        PluginSource::Bundled(plugin) => plugin.name.to_owned(),
        PluginSource::File(path) => path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string()),
    }
}

fn bundled_of(kind: Kind) -> impl Iterator<Item = &'static BundledPlugin> {
    ralph_plugins_bundle::ALL
        .iter()
        .filter(move |plugin| plugin.kind == kind)
}

/// Whether a bundled plugin asks for an external integration; such plugins
/// are left out of the default lineup and run only when configured.
fn needs_integrations(plugin: &BundledPlugin) -> bool {
    plugin.capabilities.iter().any(|name| {
        name.parse::<Capability>()
            .is_ok_and(Capability::is_integration)
    })
}

/// A bundled plugin granted what it asks for (the default lineup), except
/// integrations, which only the user's approvals grant; `id` is its entry's.
fn default_entry(name: &str, id: &str) -> PluginEntry {
    let plugin = ralph_plugins_bundle::ALL
        .iter()
        .find(|plugin| plugin.name == name)
        .unwrap_or(&ralph_plugins_bundle::ALL[0]);
    PluginEntry {
        id: id.to_owned(),
        source: PluginSource::Bundled(plugin),
        grants: plugin
            .capabilities
            .iter()
            .filter_map(|name| name.parse().ok())
            .filter(|capability: &Capability| !capability.is_integration())
            .collect(),
        limits: LimitsConfig::default(),
        llm: None,
        max_tokens_per_round: None,
        persona: None,
        personality: None,
    }
}

/// Refuses config grants of integration capabilities: those are approved
/// per plugin with `ralph permissions grant`, never in the config.
fn check_grants(grants: &BTreeSet<Capability>, prefix: &str) -> Result<(), (String, String)> {
    match grants.iter().find(|capability| capability.is_integration()) {
        None => Ok(()),
        Some(capability) => Err((
            format!("{prefix}.grants"),
            format!(
                "`{capability}` cannot be granted in the config; remove it here and approve it \
                 for this plugin with `ralph permissions grant`"
            ),
        )),
    }
}

/// Types one plugin entry; `prefix` names it in errors (`bidders.bidder_1`).
fn entry_of(raw: &RawEntry, kind: Kind, prefix: &str) -> Result<PluginEntry, (String, String)> {
    let field = format!("{prefix}.plugin");
    let source = entry_source(raw, kind, &field).map_err(|message| (field, message))?;
    check_grants(&raw.grants, prefix)?;
    Ok(PluginEntry {
        id: raw.id.clone().unwrap_or_else(|| default_name(&source)),
        source,
        grants: raw.grants.clone(),
        limits: raw.limits,
        llm: raw.llm.clone(),
        max_tokens_per_round: None,
        persona: None,
        personality: None,
    })
}

fn entry_source(raw: &RawEntry, kind: Kind, field: &str) -> Result<PluginSource, String> {
    let source = match raw.plugin.strip_prefix("bundled:") {
        Some(name) => {
            let plugin = ralph_plugins_bundle::ALL
                .iter()
                .find(|plugin| plugin.name == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = bundled_of(kind).map(|plugin| plugin.name).collect();
                    format!(
                        "no bundled plugin {name:?} (bundled {}s: {})",
                        world_of(kind),
                        known.join(", ")
                    )
                })?;
            if plugin.kind != kind {
                return Err(format!(
                    "bundled:{name} is a {}, not a {}",
                    world_of(plugin.kind),
                    world_of(kind)
                ));
            }
            PluginSource::Bundled(plugin)
        }
        None if raw.plugin.trim().is_empty() => {
            return Err(format!("{field}: empty; give a .wasm path or bundled:NAME"));
        }
        None => PluginSource::File(PathBuf::from(&raw.plugin)),
    };
    Ok(source)
}

/// The runtime's world for a bundle kind.
pub fn world_of(kind: Kind) -> World {
    match kind {
        Kind::Bidder => World::Bidder,
        Kind::Specialist => World::Specialist,
        Kind::Check => World::Check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lineup(json: &str) -> Result<Lineup, ConfigError> {
        let config = Config::from_slice(json.as_bytes()).expect("marketplace config");
        Lineup::from_config(&config, Path::new(".ralph/config.json"))
    }

    fn field_of(json: &str) -> String {
        match lineup(json) {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn without_sections_the_bundled_plugins_run_with_what_they_ask_for() {
        let lineup = lineup(r#"{"num_bots": 4}"#).expect("valid");
        let names: Vec<String> = lineup
            .bidders
            .iter()
            .map(|(id, entry)| format!("{id}={}", entry.source.label().display()))
            .collect();
        assert_eq!(
            names,
            [
                "bidder_1=bundled:smallest-change",
                "bidder_2=bundled:tests-first",
                "bidder_3=bundled:persona-planner",
                "bidder_4=bundled:smallest-change"
            ]
        );
        assert!(lineup.bidders[2].1.grants.contains(&Capability::Complete));
        assert_eq!(lineup.specialists.len(), 2);
        assert_eq!(lineup.checks.len(), 3);
    }

    #[test]
    fn written_sections_grant_exactly_what_they_list() {
        let lineup = lineup(
            r#"{"num_bots": 2, "bidders": {
                "bidder_1": {"plugin": "bundled:persona-planner"},
                "bidder_2": {"plugin": "plugins/mine.wasm", "grants": ["consult"],
                             "limits": {"deadline_ms": 500}}},
               "specialists": [],
               "checks": [{"name": "fmt", "argv": ["cargo", "fmt", "--check"], "category": "format"},
                          {"plugin": "bundled:secrets"}]}"#,
        )
        .expect("valid");
        assert!(lineup.bidders[0].1.grants.is_empty());
        assert_eq!(
            lineup.bidders[1].1.source,
            PluginSource::File(PathBuf::from("plugins/mine.wasm"))
        );
        assert_eq!(lineup.bidders[1].1.limits.deadline_ms, Some(500));
        assert_eq!(lineup.bidders[0].1.max_tokens_per_round, None);
        assert!(lineup.specialists.is_empty());
        assert!(matches!(&lineup.checks[1], CheckEntry::Plugin { name, .. } if name == "secrets"));
    }

    #[test]
    fn a_bidder_may_cap_its_tokens_per_round() {
        let lineup = lineup(
            r#"{"num_bots": 2, "bidders": {
                "bidder_1": {"plugin": "bundled:persona-planner", "max_tokens_per_round": 900},
                "bidder_2": {"plugin": "bundled:tests-first"}}}"#,
        )
        .expect("valid");
        assert_eq!(lineup.bidders[0].1.max_tokens_per_round, Some(900));
        assert_eq!(lineup.bidders[1].1.max_tokens_per_round, None);
        assert_eq!(
            field_of(
                r#"{"num_bots": 2, "bidders": {"bidder_2": {"plugin": "bundled:tests-first"},
                    "bidder_1": {"plugin": "bundled:tests-first", "max_tokens_per_round": "lots"}}}"#
            ),
            "bidders.bidder_1.max_tokens_per_round"
        );
    }

    #[test]
    fn a_bidder_may_have_a_persona_and_a_personality() {
        let lineup = lineup(
            r#"{"num_bots": 2, "bidders": {
                "bidder_1": {"plugin": "bundled:persona-planner", "persona": "cautious",
                             "personality": {"risk_tolerance": "conservative",
                                             "innovation_preference": "high",
                                             "verbosity": "terse"}},
                "bidder_2": {"plugin": "bundled:persona-planner",
                             "personality": {"verbosity": "detailed"}}}}"#,
        )
        .expect("valid");
        let first = &lineup.bidders[0].1;
        assert_eq!(first.persona.as_deref(), Some("cautious"));
        assert_eq!(
            first.personality,
            Some(Personality {
                risk_tolerance: ralph_runtime::RiskTolerance::Conservative,
                innovation_preference: ralph_runtime::InnovationPreference::High,
                verbosity: ralph_runtime::Verbosity::Terse,
            })
        );
        let second = &lineup.bidders[1].1;
        assert_eq!(second.persona, None);
        assert_eq!(
            second
                .personality
                .map(|personality| personality.risk_tolerance),
            Some(ralph_runtime::RiskTolerance::Moderate),
            "a setting left out takes the middle value"
        );
    }

    #[test]
    fn bad_personas_and_personalities_name_the_field() {
        let with = |entry: &str| {
            field_of(&format!(
                r#"{{"num_bots": 2, "bidders": {{"bidder_2": {{"plugin": "bundled:tests-first"}},
                    "bidder_1": {{"plugin": "bundled:persona-planner", {entry}}}}}}}"#
            ))
        };
        assert_eq!(
            with(r#""persona": "../secrets""#),
            "bidders.bidder_1.persona"
        );
        assert_eq!(
            with(r#""personality": {"risk_tolerance": "reckless"}"#),
            "bidders.bidder_1.personality.risk_tolerance"
        );
        assert_eq!(
            with(r#""personality": {"humour": "dry"}"#),
            "bidders.bidder_1.personality.humour"
        );
    }

    #[test]
    fn every_bot_needs_a_bidder_and_every_bidder_a_bot() {
        assert_eq!(
            field_of(
                r#"{"num_bots": 2, "bidders": {"bidder_1": {"plugin": "bundled:tests-first"}}}"#
            ),
            "bidders"
        );
        assert_eq!(
            field_of(
                r#"{"num_bots": 2, "bidders": {"bidder_1": {"plugin": "bundled:tests-first"},
                    "bidder_2": {"plugin": "bundled:tests-first"},
                    "bidder_3": {"plugin": "bundled:tests-first"}}}"#
            ),
            "bidders.bidder_3"
        );
    }

    #[test]
    fn bad_entries_name_the_field() {
        assert_eq!(
            field_of(r#"{"num_bots": 2, "bidders": {"bidder_1": {"plugin": "bundled:nope"}}}"#),
            "bidders.bidder_1.plugin"
        );
        assert_eq!(
            field_of(r#"{"num_bots": 2, "bidders": {"bidder_1": {"plugin": "bundled:secrets"}}}"#),
            "bidders.bidder_1.plugin"
        );
        assert_eq!(
            field_of(
                r#"{"num_bots": 2, "bidders": {"bidder_1": {"plugin": "x.wasm", "grants": ["root"]}}}"#
            ),
            "bidders.bidder_1.grants[0]"
        );
        assert_eq!(
            field_of(r#"{"specialists": [{"plugin": "bundled:change-risk", "colour": "red"}]}"#),
            "specialists[0].colour"
        );
        assert_eq!(
            field_of(r#"{"checks": [{"name": "t", "argv": ["true"], "category": "vibes"}]}"#),
            "checks[0].category"
        );
        assert_eq!(
            field_of(r#"{"checks": [{"name": "t", "argv": [], "category": "test"}]}"#),
            "checks[0].argv"
        );
        assert_eq!(
            field_of(
                r#"{"checks": [{"name": "t", "argv": ["a"], "category": "test"},
                                    {"name": "t", "argv": ["b"], "category": "lint"}]}"#
            ),
            "checks[1].name"
        );
        assert_eq!(field_of(r#"{"checks": {"name": "t"}}"#), "checks");
    }

    #[test]
    fn integration_capabilities_cannot_be_granted_in_the_config() {
        let json = r#"{"specialists": [{"plugin": "bundled:change-risk",
                                        "grants": ["repository", "aws"]}]}"#;
        match lineup(json) {
            Err(ConfigError::Invalid { field, message, .. }) => {
                assert_eq!(field, "specialists[0].grants");
                assert!(message.contains("`aws`"), "{message}");
                assert!(message.contains("ralph permissions grant"), "{message}");
            }
            other => panic!("expected a field error, got {other:?}"),
        }
        for capability in ["sentry", "alpaca", "http-get"] {
            let json = format!(
                r#"{{"num_bots": 2, "bidders": {{"bidder_1":
                    {{"plugin": "x.wasm", "grants": ["{capability}"]}}}}}}"#
            );
            assert_eq!(field_of(&json), "bidders.bidder_1.grants", "{capability}");
        }
        assert_eq!(
            field_of(r#"{"checks": [{"plugin": "bundled:secrets", "grants": ["http-get"]}]}"#),
            "checks[0].grants"
        );
    }

    #[test]
    fn integration_specialists_run_only_when_configured() {
        let default = lineup(r#"{"num_bots": 2}"#).expect("valid");
        for entry in &default.specialists {
            assert!(
                entry
                    .grants
                    .iter()
                    .all(|capability| !capability.is_integration())
            );
            let label = entry.source.label().display().to_string();
            assert!(!label.ends_with("infrastructure"), "{label}");
        }
        let configured = lineup(
            r#"{"specialists": [{"plugin": "bundled:infrastructure", "grants": ["repository"]}]}"#,
        )
        .expect("valid");
        assert_eq!(
            configured.specialists[0].grants,
            [Capability::Repository].into_iter().collect()
        );
    }

    #[test]
    fn every_plugin_entry_has_an_id_from_its_config_entry() {
        let lineup = lineup(
            r#"{"num_bots": 2, "bidders": {
                "bidder_1": {"plugin": "bundled:persona-planner"},
                "bidder_2": {"plugin": "plugins/mine.wasm"}},
               "specialists": [{"plugin": "bundled:rust-conventions"},
                               {"plugin": "plugins/style-guide.wasm"},
                               {"id": "house", "plugin": "bundled:change-risk"}],
               "checks": [{"plugin": "bundled:secrets"},
                          {"name": "size", "plugin": "bundled:diff-size"}]}"#,
        )
        .expect("valid");
        let ids: Vec<&str> = lineup
            .entries()
            .into_iter()
            .map(|(_, entry)| entry.id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "bidder_1",
                "bidder_2",
                "rust-conventions",
                "style-guide",
                "house",
                "secrets",
                "size"
            ]
        );
        assert_eq!(
            lineup.entry("house").map(|entry| entry.source.label()),
            Some(PathBuf::from("bundled:change-risk"))
        );
    }

    #[test]
    fn plugin_ids_are_unique_across_the_lineup() {
        assert_eq!(
            field_of(
                r#"{"specialists": [{"plugin": "bundled:rust-conventions"},
                                    {"plugin": "bundled:rust-conventions"}]}"#
            ),
            "specialists[1].id"
        );
        assert_eq!(
            field_of(r#"{"specialists": [{"id": "bidder_2", "plugin": "bundled:risk"}]}"#),
            "specialists[0].id"
        );
        assert_eq!(
            field_of(
                r#"{"specialists": [{"plugin": "bundled:risk"}],
                    "checks": [{"name": "risk", "plugin": "bundled:secrets"}]}"#
            ),
            "checks[0].name"
        );
    }

    #[test]
    fn a_plugin_id_is_lowercase_letters_digits_underscores_and_hyphens() {
        assert_eq!(
            field_of(r#"{"specialists": [{"id": "Status Reader", "plugin": "bundled:risk"}]}"#),
            "specialists[0].id"
        );
        assert_eq!(
            field_of(r#"{"checks": [{"name": "My Check", "plugin": "bundled:secrets"}]}"#),
            "checks[0].name"
        );
    }

    #[test]
    fn a_file_source_reads_relative_to_the_repository() {
        let directory = tempfile::tempdir().expect("temp dir");
        std::fs::write(directory.path().join("p.wasm"), b"bytes").expect("write");
        let source = PluginSource::File(PathBuf::from("p.wasm"));
        assert_eq!(&*source.bytes(directory.path()).expect("read"), b"bytes");
        assert!(
            PluginSource::File(PathBuf::from("absent.wasm"))
                .bytes(directory.path())
                .is_err()
        );
    }
}
