//! Everything a loop reads from `.ralph/config.json`, typed and validated
//! in one place before the issue is touched: the marketplace keys, the
//! plugin lineup, the implementer, the protected paths, the sandbox, the
//! model providers, the metering, the issue source and the team settings. Any mistake is a config error naming
//! the file and the field (exit 2).

use ralph_marketplace::{ConfigError, Layout, Marketplace};

use crate::confinement::Sandbox;
use crate::implementer::Implementer;
use crate::issue_source::IssuesSettings;
use crate::llm::{LlmOptions, Models};
use crate::metering::Metering;
use crate::plugins::Lineup;
use crate::protected::ProtectedPaths;
use crate::sessions::LoopKind;
use crate::simple::SimpleSettings;
use crate::team::TeamSettings;
use crate::workbench::LoopError;

/// A repository's loop settings, read whole.
pub struct LoopConfig {
    pub marketplace: Marketplace,
    pub lineup: Lineup,
    pub implementer: Implementer,
    pub protected: ProtectedPaths,
    pub sandbox: Sandbox,
    pub models: Models,
    pub metering: Metering,
    pub issues: IssuesSettings,
    pub team: TeamSettings,
}

/// Types every section a loop reads, without building the model providers
/// (so no key is needed): what every command that reads the config checks
/// first, so a config the loop would refuse is refused by all of them,
/// naming the file and the field.
pub fn validate(marketplace: &Marketplace, path: &std::path::Path) -> Result<(), ConfigError> {
    let config = marketplace.config();
    Lineup::from_config(config, path)?;
    Implementer::from_config(config, path)?;
    ProtectedPaths::from_config(config, path)?;
    Sandbox::from_config(config, path)?;
    Metering::from_config(config, path)?;
    crate::simple::SimpleSettings::from_config(config, path)?;
    IssuesSettings::from_config(config, path)?;
    crate::judge::JudgeSettings::from_config(config, path)?;
    TeamSettings::from_config(config, path)?;
    if let Some(section) = &config.llm {
        ralph_models::LlmSettings::from_value(section, "llm").map_err(|error| {
            ConfigError::Invalid {
                path: path.to_owned(),
                field: error.field,
                message: error.message,
            }
        })?;
    }
    Ok(())
}

impl LoopConfig {
    /// Reads and types the config of `layout`'s repository, with `llm`'s
    /// command-line overrides; builds the model providers (so a provider
    /// without its key fails here).
    pub fn read(layout: &Layout, llm: &LlmOptions) -> Result<LoopConfig, LoopError> {
        LoopConfig::read_for(layout, llm, LoopKind::Marketplace)
    }

    /// [`LoopConfig::read`] for the loop `kind`: the simple loop's
    /// implementer is `simple.implementer`, else the top-level one (never
    /// `patch`).
    pub fn read_for(
        layout: &Layout,
        llm: &LlmOptions,
        kind: LoopKind,
    ) -> Result<LoopConfig, LoopError> {
        let marketplace = Marketplace::open(layout.clone())?;
        let path = layout.config_file();
        let config = marketplace.config();
        let lineup = Lineup::from_config(config, &path)?;
        let mut implementer = Implementer::from_config(config, &path)?;
        if kind == LoopKind::Simple {
            implementer =
                SimpleSettings::from_config(config, &path)?.implementer(implementer, &path)?;
        }
        let protected = ProtectedPaths::from_config(config, &path)?;
        let sandbox = Sandbox::from_config(config, &path)?;
        let models = Models::from_config(
            config,
            &path,
            layout.repository(),
            &lineup,
            &implementer,
            llm,
        )?;
        let metering = Metering::from_config(config, &path)?;
        let issues = IssuesSettings::from_config(config, &path)?;
        let team = TeamSettings::from_config(config, &path)?;
        Ok(LoopConfig {
            marketplace,
            lineup,
            implementer,
            protected,
            sandbox,
            models,
            metering,
            issues,
            team,
        })
    }
}
