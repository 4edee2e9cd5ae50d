//! `ralph permissions`: the user's approvals of integration capabilities.
//!
//! Approvals are keyed by plugin id, the config entry that loads the plugin
//! (a bidder id, a specialist's id, a check's name), and bound to the
//! SHA-256 of the component that entry loads now: `grant` resolves the id
//! in `.ralph/config.json` to compute it.

use std::collections::BTreeMap;
use std::io::Write;

use ralph_broker::plugins::Lineup;
use ralph_integrations::IntegrationsConfig;
use ralph_integrations::approvals::{Approvals, ApprovalsError, ApprovalsFile};
use ralph_marketplace::layout::IGNORED;
use ralph_marketplace::{Config, Layout};
use ralph_runtime::capabilities::Capability;

use crate::cli::PermissionsCommand;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, Form, Stream, errln, outln};

/// The capabilities `grant` and `revoke` take, as the user types them.
const GRANTABLE: &str = "aws, sentry, alpaca, http-get";

pub fn run(layout: &Layout, command: PermissionsCommand) -> Outcome {
    let file = ApprovalsFile::new(layout.approvals_file());
    match command {
        PermissionsCommand::List(flag) => list(layout, &file, flag.json),
        PermissionsCommand::Grant {
            plugin,
            capability,
            json,
        } => {
            let capability = integration(&capability)?;
            check_plugin(&plugin)?;
            let digest = configured_digest(layout, &plugin)?;
            let added = file.grant(&plugin, &digest, capability).map_err(failure)?;
            keep_ignored(layout);
            let shown = layout.display(file.path());
            let short = ralph_integrations::prompt::short(&digest);
            if json.json {
                output::json_line(
                    &serde_json::json!({"plugin": plugin, "capability": capability.to_string(),
                                        "component_sha256": digest, "changed": added})
                    .to_string(),
                );
            } else if added {
                outln!(
                    "Approved `{capability}` for plugin `{plugin}` (component sha256 {short}) in {shown}"
                );
            } else {
                outln!("Plugin `{plugin}` already has `{capability}` ({shown})");
            }
            Ok(Exit::Success)
        }
        PermissionsCommand::Revoke {
            plugin,
            capability,
            json,
        } => {
            let capability = integration(&capability)?;
            let removed = file.revoke(&plugin, capability).map_err(failure)?;
            if json.json {
                output::json_line(
                    &serde_json::json!({"plugin": plugin, "capability": capability.to_string(),
                                        "changed": removed})
                    .to_string(),
                );
            } else if removed {
                outln!("Withdrew `{capability}` from plugin `{plugin}`");
            } else {
                outln!("Plugin `{plugin}` did not have `{capability}`; nothing changed");
            }
            Ok(Exit::Success)
        }
    }
}

/// The SHA-256 of the component the config entry `id` loads; an id the
/// config does not have is bad input listing the ids it has.
fn configured_digest(layout: &Layout, id: &str) -> Result<String, Failure> {
    let path = layout.config_file();
    let config = if path.exists() {
        Config::load(&path).map_err(Failure::bad_input)?
    } else {
        Config::default()
    };
    let lineup = Lineup::from_config(&config, &path).map_err(Failure::bad_input)?;
    let Some(entry) = lineup.entry(id) else {
        let ids: Vec<String> = lineup
            .entries()
            .into_iter()
            .map(|(_, entry)| entry.id.clone())
            .collect();
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "no plugin with the id `{id}` in {}; approvals are for configured plugins, by \
                 id (a bidder id, a specialist's `id`, a check's `name`): {}",
                layout.display(&path),
                ids.join(", ")
            ),
        ));
    };
    let bytes = entry.source.bytes(layout.repository()).map_err(|error| {
        Failure::message(
            Exit::BadInput,
            format!(
                "cannot read the component of `{id}` ({}): {error}; build it or fix its path",
                entry.source.label().display()
            ),
        )
    })?;
    Ok(ralph_runtime::sandbox::digest_of(&bytes))
}

fn list(layout: &Layout, file: &ApprovalsFile, json: bool) -> Outcome {
    let approvals = file.load().map_err(failure)?;
    let allowed = allow_lists(layout)?;
    let text = if json {
        let mut text = serde_json::to_string_pretty(&serde_json::json!({
            "file": layout.display(file.path()).to_string(),
            "approvals": approvals.approvals,
            "http_get_allow": allowed,
        }))
        .map_err(Failure::problem)?;
        text.push('\n');
        text
    } else {
        render(layout, file, &approvals, &allowed)
    };
    let form = if json { Form::Json } else { Form::Human };
    output::write(Stream::Stdout, form, &text);
    Ok(Exit::Success)
}

/// The `http-get` allow-list of each plugin, from the config's
/// `integrations` section (checked, so a mistake there shows up here).
fn allow_lists(layout: &Layout) -> Result<BTreeMap<String, Vec<String>>, Failure> {
    let path = layout.config_file();
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let config = Config::load(&path).map_err(Failure::bad_input)?;
    let integrations =
        IntegrationsConfig::from_value(config.integrations.as_ref()).map_err(|error| {
            Failure::bad_input(anyhow::anyhow!("{}: {error}", layout.display(&path)))
        })?;
    Ok(integrations
        .http_get
        .allow
        .iter()
        .map(|(plugin, rules)| {
            (
                plugin.clone(),
                rules.iter().map(ToString::to_string).collect(),
            )
        })
        .collect())
}

fn render(
    layout: &Layout,
    file: &ApprovalsFile,
    approvals: &Approvals,
    allowed: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut text = if approvals.approvals.is_empty() {
        format!(
            "No integration is approved ({}).\nApprove one with `ralph permissions grant PLUGIN CAPABILITY` ({GRANTABLE}).\n",
            layout.display(file.path())
        )
    } else {
        approved(layout, file, approvals)
    };
    if !allowed.is_empty() {
        text.push_str(
            "\nhttp-get allow-lists (integrations.http_get.allow in .ralph/config.json)\n",
        );
        for (plugin, rules) in allowed {
            text.push_str(&format!("  {plugin}: {}\n", rules.join(", ")));
        }
    }
    text
}

fn approved(layout: &Layout, file: &ApprovalsFile, approvals: &Approvals) -> String {
    let width = approvals
        .approvals
        .keys()
        .map(|plugin| plugin.chars().count())
        .max()
        .unwrap_or(0)
        .max("plugin".len());
    let mut text = format!("Approvals in {}\n\n", layout.display(file.path()));
    text.push_str(&format!(
        "{:<width$}  {:<12}  capabilities\n",
        "plugin", "sha256"
    ));
    for (plugin, approval) in &approvals.approvals {
        let names: Vec<_> = approval
            .capabilities
            .iter()
            .map(|capability| capability.name())
            .collect();
        let digest = approval
            .sha256
            .as_deref()
            .map_or("(first use)", ralph_integrations::prompt::short);
        text.push_str(&format!(
            "{plugin:<width$}  {digest:<12}  {}\n",
            names.join(", ")
        ));
    }
    text
}

/// The capability the user named, if it is an integration capability.
fn integration(name: &str) -> Result<Capability, Failure> {
    match name.parse::<Capability>() {
        Ok(capability) if capability.is_integration() => Ok(capability),
        Ok(capability) => Err(Failure::message(
            Exit::BadInput,
            format!(
                "`{capability}` is granted in .ralph/config.json, not here; \
                 `ralph permissions` approves integrations: {GRANTABLE}"
            ),
        )),
        Err(_) => Err(Failure::message(
            Exit::BadInput,
            format!("unknown capability `{name}`; known integration capabilities: {GRANTABLE}"),
        )),
    }
}

fn check_plugin(plugin: &str) -> Result<(), Failure> {
    if plugin.is_empty()
        || plugin
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
    {
        return Err(Failure::message(
            Exit::BadInput,
            format!("`{plugin}` is not a plugin name: it must be non-empty, without spaces"),
        ));
    }
    Ok(())
}

fn failure(error: ApprovalsError) -> Failure {
    match error {
        ApprovalsError::Malformed { .. } | ApprovalsError::NotIntegration(_) => {
            Failure::bad_input(error)
        }
        ApprovalsError::Read { .. } | ApprovalsError::Write { .. } => Failure::problem(error),
    }
}

/// Adds Ralph's per-user files to an existing `.ralph/.gitignore` written
/// before they existed, so approvals and audit logs are never committed.
fn keep_ignored(layout: &Layout) {
    let path = layout.gitignore_file();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let missing: Vec<&str> = ["approvals.json", "audit/"]
        .into_iter()
        .filter(|entry| IGNORED.contains(entry) && !text.lines().any(|line| line.trim() == *entry))
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut addition = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        addition.push('\n');
    }
    for entry in missing {
        addition.push_str(entry);
        addition.push('\n');
    }
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(addition.as_bytes()));
    if let Err(error) = appended {
        errln!(
            "warning: {}: cannot add the approvals to it: {error}",
            layout.display(&path)
        );
    }
}
