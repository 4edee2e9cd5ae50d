//! Many machines (SPEC §15): the `team` section of `.ralph/config.json`
//! and where a loop takes its lease.
//!
//! ```json
//! "team": {"remote": "origin", "leases": "remote", "lease_seconds": 7200, "sync": false}
//! ```
//!
//! Every key is optional. `remote` is the git remote leases live on and
//! `sync` pushes to: by default the `github` issue source's `remote`, else
//! `origin`. `leases` is `remote` (the default: a ref on the remote when
//! the repository has that remote, else the local lock) or `local` (always
//! the local lock). `lease_seconds` is how long a lease holds without
//! renewal (default two hours, at least 3; the loop renews it every third
//! of that). `sync` makes the loop sync the clone after it takes the lease
//! (before it reads the issue) and again before it lets the lease go, so
//! that local issues travel with the events (docs/team.md).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use ralph_marketplace::lock::{IssueLeases, LocalLocks};
use ralph_marketplace::{Config, ConfigError, Layout};
use serde::Deserialize;

use crate::issue_source::IssuesSettings;
use crate::lease::RemoteLeases;

/// The default lease: two hours.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(2 * 60 * 60);
/// The shortest lease: renewed every second.
const SHORTEST_LEASE_SECONDS: u64 = 3;

/// Where leases are taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeasePlace {
    /// On the remote when the repository has it, else the local lock.
    #[default]
    Remote,
    /// Always the local lock (one machine, or no right to push).
    Local,
}

/// The `team` section, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamSettings {
    /// The remote named in the config (`team.remote`), if any.
    pub configured_remote: Option<String>,
    /// The remote to use: the configured one, the `github` issue source's,
    /// else `origin`.
    pub remote: String,
    pub leases: LeasePlace,
    pub lease_duration: Duration,
    /// Sync around every loop (see the module's documentation).
    pub sync: bool,
}

impl Default for TeamSettings {
    fn default() -> Self {
        TeamSettings {
            configured_remote: None,
            remote: "origin".to_owned(),
            leases: LeasePlace::Remote,
            lease_duration: DEFAULT_LEASE,
            sync: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    remote: Option<String>,
    #[serde(default)]
    leases: LeasePlace,
    lease_seconds: Option<u64>,
    #[serde(default)]
    sync: bool,
}

impl TeamSettings {
    /// The `team` section of `config` (read from `path`).
    pub fn from_config(config: &Config, path: &Path) -> Result<TeamSettings, ConfigError> {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        let issues_remote = match IssuesSettings::from_config(config, path)? {
            IssuesSettings::Github(github) => Some(github.remote),
            IssuesSettings::Local => None,
        };
        let Some(value) = &config.team else {
            return Ok(TeamSettings {
                remote: issues_remote.unwrap_or_else(|| "origin".to_owned()),
                ..TeamSettings::default()
            });
        };
        let section: Section = serde_path_to_error::deserialize(value).map_err(|error| {
            let field = error.path().to_string();
            let field = if field == "." {
                "team".to_owned()
            } else {
                format!("team.{field}")
            };
            invalid(&field, error.into_inner().to_string())
        })?;
        if let Some(remote) = &section.remote
            && !is_remote_name(remote)
        {
            return Err(invalid(
                "team.remote",
                format!("`{remote}` is not a git remote's name"),
            ));
        }
        let seconds = section.lease_seconds.unwrap_or(DEFAULT_LEASE.as_secs());
        if seconds < SHORTEST_LEASE_SECONDS {
            return Err(invalid(
                "team.lease_seconds",
                format!(
                    "{seconds} is too short: a lease is renewed every third of it, so it must be at least {SHORTEST_LEASE_SECONDS}"
                ),
            ));
        }
        Ok(TeamSettings {
            remote: section
                .remote
                .clone()
                .or(issues_remote)
                .unwrap_or_else(|| "origin".to_owned()),
            configured_remote: section.remote,
            leases: section.leases,
            lease_duration: Duration::from_secs(seconds),
            sync: section.sync,
        })
    }

    /// The settings of `layout`'s repository; the defaults when it has no
    /// config yet.
    pub fn of(layout: &Layout) -> Result<TeamSettings, ConfigError> {
        let path = layout.config_file();
        if !path.exists() {
            return Ok(TeamSettings::default());
        }
        TeamSettings::from_config(&Config::load(&path)?, &path)
    }

    /// The remote leases are taken on: `None` for the local lock (leases
    /// set to `local`, or a repository without the remote). A remote named
    /// in the config that the repository lacks is an error naming it.
    pub fn lease_remote(&self, layout: &Layout) -> Result<Option<String>, String> {
        if self.leases == LeasePlace::Local {
            return Ok(None);
        }
        if has_remote(layout.repository(), &self.remote) {
            return Ok(Some(self.remote.clone()));
        }
        match &self.configured_remote {
            Some(remote) => Err(format!(
                "{}: field `team.remote`: this repository has no git remote `{remote}` (`git remote -v` lists them); add it, or remove `team.remote` to use the local lock",
                layout.display(&layout.config_file())
            )),
            None => Ok(None),
        }
    }

    /// Where a loop takes its lease: on the remote, renewed while the loop
    /// runs (losing it sets `stop`), or the local lock.
    pub fn leases(
        &self,
        layout: &Layout,
        stop: Option<Arc<AtomicBool>>,
    ) -> Result<Box<dyn IssueLeases>, String> {
        Ok(match self.lease_remote(layout)? {
            Some(remote) => Box::new(
                RemoteLeases::new(layout, &remote, self.lease_duration, stop).syncing(self.sync),
            ),
            None => Box::new(LocalLocks::new(layout)),
        })
    }
}

/// A name `git remote` could have made, and no option.
fn is_remote_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.contains(|character: char| character.is_whitespace() || character.is_control())
}

/// True when the repository at `repository` has the remote `name`.
pub fn has_remote(repository: &Path, name: &str) -> bool {
    crate::worktree::git(repository, &["remote", "get-url", name], None).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(config: serde_json::Value) -> Result<TeamSettings, ConfigError> {
        let config: Config = serde_json::from_value(config).expect("config");
        TeamSettings::from_config(&config, Path::new(".ralph/config.json"))
    }

    #[test]
    fn without_a_team_section_leases_go_to_origin_for_two_hours() {
        let team = settings(serde_json::json!({})).expect("valid");
        assert_eq!(team, TeamSettings::default());
        assert_eq!(team.remote, "origin");
        assert_eq!(team.lease_duration, Duration::from_secs(7200));
    }

    #[test]
    fn the_github_sources_remote_is_the_default_and_team_remote_wins() {
        let github =
            serde_json::json!({"source": "github", "repository": "o/n", "remote": "upstream"});
        let team = settings(serde_json::json!({"issues": github})).expect("valid");
        assert_eq!(team.remote, "upstream");
        assert_eq!(team.configured_remote, None);
        let team = settings(serde_json::json!({"issues": github, "team": {"remote": "mine"}}))
            .expect("valid");
        assert_eq!(team.remote, "mine");
    }

    #[test]
    fn every_key_is_read() {
        let team = settings(serde_json::json!({"team": {
            "remote": "shared", "leases": "local", "lease_seconds": 60, "sync": true}}))
        .expect("valid");
        assert_eq!(
            team,
            TeamSettings {
                configured_remote: Some("shared".to_owned()),
                remote: "shared".to_owned(),
                leases: LeasePlace::Local,
                lease_duration: Duration::from_secs(60),
                sync: true,
            }
        );
    }

    #[test]
    fn mistakes_name_the_field() {
        for (team, field) in [
            (
                serde_json::json!({"lease_seconds": 2}),
                "team.lease_seconds",
            ),
            (serde_json::json!({"remote": "-x"}), "team.remote"),
            (serde_json::json!({"remote": ""}), "team.remote"),
            (serde_json::json!({"leases": "sometimes"}), "team.leases"),
            (serde_json::json!({"lease": 60}), "team.lease"),
        ] {
            let error = settings(serde_json::json!({"team": team})).expect_err("invalid");
            assert_eq!(error.field(), Some(field), "{error}");
        }
    }

    #[test]
    fn a_repository_without_the_remote_uses_the_local_lock_unless_it_was_named() {
        let directory = tempfile::tempdir().expect("temp dir");
        crate::worktree::git(directory.path(), &["init", "--quiet"], None).expect("init");
        let layout = Layout::new(directory.path());
        assert_eq!(TeamSettings::default().lease_remote(&layout), Ok(None));
        let named = TeamSettings {
            configured_remote: Some("shared".to_owned()),
            remote: "shared".to_owned(),
            ..TeamSettings::default()
        };
        let error = named.lease_remote(&layout).expect_err("missing");
        assert!(
            error.contains("team.remote") && error.contains("shared"),
            "{error}"
        );
        crate::worktree::git(
            directory.path(),
            &["remote", "add", "shared", "../elsewhere.git"],
            None,
        )
        .expect("remote");
        assert_eq!(named.lease_remote(&layout), Ok(Some("shared".to_owned())));
        let local = TeamSettings {
            leases: LeasePlace::Local,
            ..named
        };
        assert_eq!(local.lease_remote(&layout), Ok(None));
    }
}
