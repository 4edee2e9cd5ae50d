//! Where the repository's issues live (SPEC §7): the `issues` section of
//! `.ralph/config.json`, and the one factory every command that reads
//! issues goes through (`spec`, `ready`, `backlog`, `pull-request`, both
//! loops, `clean`). Nothing else knows where issues are kept.
//!
//! ```json
//! "issues": {"source": "local"}
//! "issues": {"source": "github", "repository": "OWNER/NAME",
//!            "api_url": "https://api.github.com", "remote": "origin"}
//! ```

use std::path::Path;

use ralph_issues::{IssueSource, LocalIssues, PullRequestPublisher, PullRequests};
use ralph_marketplace::{Config, ConfigError, Layout};
use serde::Deserialize;

/// GitHub's public API, the default `api_url`.
pub const GITHUB_API: &str = "https://api.github.com";

/// Where issues come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IssuesSettings {
    /// `.ralph/issues/<N>.md` (the default).
    #[default]
    Local,
    Github(GithubSettings),
}

/// The `github` source's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GithubSettings {
    /// `OWNER/NAME`.
    pub repository: String,
    /// The REST API's root: GitHub's, or a GitHub Enterprise server's.
    pub api_url: String,
    /// The git remote the loop pushes its branch to.
    pub remote: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    source: SourceKind,
    repository: Option<String>,
    api_url: Option<String>,
    remote: Option<String>,
}

#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum SourceKind {
    Local,
    Github,
}

impl IssuesSettings {
    /// The `issues` section of `config` (read from `path`), typed; a
    /// missing section is the local source.
    pub fn from_config(config: &Config, path: &Path) -> Result<IssuesSettings, ConfigError> {
        let Some(value) = &config.issues else {
            return Ok(IssuesSettings::Local);
        };
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        let section: Section = serde_path_to_error::deserialize(value).map_err(|error| {
            let field = error.path().to_string();
            let field = if field == "." {
                "issues".to_owned()
            } else {
                format!("issues.{field}")
            };
            invalid(&field, error.into_inner().to_string())
        })?;
        if section.source == SourceKind::Local {
            for (field, value) in [
                ("repository", &section.repository),
                ("api_url", &section.api_url),
                ("remote", &section.remote),
            ] {
                if value.is_some() {
                    return Err(invalid(
                        &format!("issues.{field}"),
                        "only the `github` source takes it".to_owned(),
                    ));
                }
            }
            return Ok(IssuesSettings::Local);
        }
        let repository = section.repository.ok_or_else(|| {
            invalid(
                "issues.repository",
                "the `github` source needs the repository, as `OWNER/NAME`".to_owned(),
            )
        })?;
        if !is_repository_name(&repository) {
            return Err(invalid(
                "issues.repository",
                format!("`{repository}` is not `OWNER/NAME`"),
            ));
        }
        let api_url = section
            .api_url
            .unwrap_or_else(|| GITHUB_API.to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !(api_url.starts_with("https://") || is_loopback_http(&api_url)) {
            return Err(invalid(
                "issues.api_url",
                format!(
                    "`{api_url}` is not an https URL; the token goes in every request, so plain http is only for a server on this machine (127.0.0.1, localhost, [::1])"
                ),
            ));
        }
        let remote = section.remote.unwrap_or_else(|| "origin".to_owned());
        if remote.is_empty() || remote.starts_with('-') || remote.contains(char::is_whitespace) {
            return Err(invalid(
                "issues.remote",
                format!("`{remote}` is not a git remote's name"),
            ));
        }
        Ok(IssuesSettings::Github(GithubSettings {
            repository,
            api_url,
            remote,
        }))
    }

    /// The settings of `layout`'s repository; the local source when it has
    /// no config yet.
    pub fn of(layout: &Layout) -> Result<IssuesSettings, ConfigError> {
        let path = layout.config_file();
        if !path.exists() {
            return Ok(IssuesSettings::Local);
        }
        IssuesSettings::from_config(&Config::load(&path)?, &path)
    }
}

/// An `http://` address of this machine (a test server, a local proxy).
fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    !authority.contains('@') && matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// `OWNER/NAME` with GitHub's characters: letters, digits, `-`, `_`, `.`.
fn is_repository_name(text: &str) -> bool {
    let valid = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    matches!(text.split_once('/'), Some((owner, name)) if valid(owner) && valid(name))
}

/// An issue source and where its finished issues' pull requests go.
pub struct Tracker {
    pub issues: Box<dyn IssueSource>,
    pub publisher: Box<dyn PullRequestPublisher>,
    /// The GitHub source itself, for what only GitHub has (labels to set
    /// up, review feedback); `None` for local issues.
    pub github: Option<std::sync::Arc<ralph_github::GithubIssues>>,
}

/// The tracker `settings` name, for `layout`'s repository. A GitHub source
/// needs a token (`GITHUB_TOKEN`, `GH_TOKEN` or `gh auth token`); its
/// absence is the error.
pub fn open(layout: &Layout, settings: &IssuesSettings) -> Result<Tracker, String> {
    match settings {
        IssuesSettings::Local => Ok(Tracker {
            issues: Box::new(LocalIssues::new(layout)),
            publisher: Box::new(PullRequests::new(layout)),
            github: None,
        }),
        IssuesSettings::Github(github) => {
            let issues = crate::github::open(github)?;
            Ok(Tracker {
                issues: Box::new(issues.clone()),
                publisher: Box::new(crate::github::GithubPublisher {
                    issues: issues.clone(),
                    records: PullRequests::new(layout),
                    repository: layout.repository().to_owned(),
                    remote: github.remote.clone(),
                }),
                github: Some(issues),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(section: serde_json::Value) -> Result<IssuesSettings, ConfigError> {
        let config = Config {
            issues: Some(section),
            ..Config::default()
        };
        IssuesSettings::from_config(&config, Path::new(".ralph/config.json"))
    }

    fn field_of(section: serde_json::Value) -> String {
        settings(section)
            .err()
            .and_then(|error| error.field().map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn no_section_is_the_local_source() {
        let config = Config::default();
        assert_eq!(
            IssuesSettings::from_config(&config, Path::new("c")).ok(),
            Some(IssuesSettings::Local)
        );
    }

    #[test]
    fn the_github_source_takes_defaults_for_the_api_and_the_remote() {
        assert_eq!(
            settings(json!({"source": "github", "repository": "octo/hello"})).ok(),
            Some(IssuesSettings::Github(GithubSettings {
                repository: "octo/hello".to_owned(),
                api_url: GITHUB_API.to_owned(),
                remote: "origin".to_owned(),
            }))
        );
    }

    #[test]
    fn each_mistake_names_its_field() {
        assert_eq!(field_of(json!({"source": "gitlab"})), "issues.source");
        assert_eq!(field_of(json!({"source": "github"})), "issues.repository");
        assert_eq!(
            field_of(json!({"source": "github", "repository": "no-slash"})),
            "issues.repository"
        );
        assert_eq!(
            field_of(json!({"source": "github", "repository": "a/b", "api_url": "ftp://x"})),
            "issues.api_url"
        );
        // The token would cross the network in the clear.
        for url in [
            "http://github.example.com/api/v3",
            "http://127.0.0.1.evil.example",
            "http://user@127.0.0.1:8080",
        ] {
            assert_eq!(
                field_of(json!({"source": "github", "repository": "a/b", "api_url": url})),
                "issues.api_url",
                "{url}"
            );
        }
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost/api",
            "http://[::1]:9000",
        ] {
            assert!(
                settings(json!({"source": "github", "repository": "a/b", "api_url": url})).is_ok(),
                "{url}"
            );
        }
        assert_eq!(
            field_of(json!({"source": "github", "repository": "a/b", "remote": "--upload-pack=x"})),
            "issues.remote"
        );
        assert_eq!(
            field_of(json!({"source": "local", "repository": "a/b"})),
            "issues.repository"
        );
        assert_eq!(
            field_of(json!({"source": "local", "colour": "red"})),
            "issues.colour"
        );
    }
}
