//! `ralph plugin new --kind bidder|specialist|check NAME`: a plugin crate
//! that builds for `wasm32-wasip2` and passes `inspect` as generated.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::World;

/// Where the scaffolded crate gets the SDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkDependency {
    /// A path to the `plugins/sdk` directory (inside Ralph's repository).
    Path(PathBuf),
    /// A git repository holding Ralph's workspace.
    Git(String),
}

/// Why a scaffold could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not lower-case words joined by `-`.
    #[error("plugin name `{0}` must be lower-case letters, digits and `-`, starting with a letter")]
    InvalidName(String),
    /// The target directory exists already.
    #[error("{0} already exists; choose another name or directory")]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|character: char| character.is_ascii_lowercase())
        && name.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
        })
        && !name.ends_with('-')
}

fn manifest(world: World, name: &str, sdk: &SdkDependency) -> String {
    let source = match sdk {
        SdkDependency::Path(path) => format!("path = {:?}", path.display().to_string()),
        SdkDependency::Git(url) => format!("git = {url:?}"),
    };
    format!(
        r#"[package]
name = "{name}"
description = "A Ralph {world}"
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]

[dependencies]
ralph-plugin-sdk = {{ {source}, features = ["{world}"] }}

[profile.release]
opt-level = "s"
strip = true

# A plugin builds on its own, even inside another workspace.
[workspace]
"#
    )
}

fn source(world: World) -> &'static str {
    match world {
        World::Bidder => {
            r#"//! A Ralph bidder. Build: `cargo build --target wasm32-wasip2 --release`.

use ralph_plugin_sdk::{Bidder, IssueSpec, PluginError, Proposal, Requirement, RoundContext, proposal};

struct Plugin;

impl Bidder for Plugin {
    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        _context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        let mut plan = proposal(format!("Resolve \"{}\" directly", issue.title), &requirements);
        plan.pseudo_code = "implement each requirement, then test it".to_owned();
        plan.planned_tests = vec!["one test per requirement".to_owned()];
        Ok(plan)
    }
}

ralph_plugin_sdk::export_bidder!(Plugin);
"#
        }
        World::Specialist => {
            r#"//! A Ralph specialist. Build: `cargo build --target wasm32-wasip2 --release`.

use ralph_plugin_sdk::{PluginError, Specialist};

struct Plugin;

impl Specialist for Plugin {
    fn ask(question: String) -> Result<String, PluginError> {
        Ok(format!("I have no answer to \"{question}\" yet."))
    }
}

ralph_plugin_sdk::export_specialist!(Plugin);
"#
        }
        World::Check => {
            r#"//! A Ralph check. Build: `cargo build --target wasm32-wasip2 --release`.

use ralph_plugin_sdk::{Check, CheckInput, CheckReport, PluginError};

struct Plugin;

impl Check for Plugin {
    fn run(input: CheckInput) -> Result<CheckReport, PluginError> {
        let _ = input;
        Ok(CheckReport {
            passed: true,
            findings: Vec::new(),
            scores: None,
        })
    }
}

ralph_plugin_sdk::export_check!(Plugin);
"#
        }
    }
}

fn write(path: &Path, contents: &str) -> Result<(), ScaffoldError> {
    fs::write(path, contents).map_err(|source| ScaffoldError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Writes a new plugin crate named `name` in `parent/name` and returns its
/// directory.
pub fn scaffold(
    world: World,
    name: &str,
    parent: &Path,
    sdk: &SdkDependency,
) -> Result<PathBuf, ScaffoldError> {
    if !valid_name(name) {
        return Err(ScaffoldError::InvalidName(name.to_owned()));
    }
    let directory = parent.join(name);
    if directory.exists() {
        return Err(ScaffoldError::Exists(directory));
    }
    let sources = directory.join("src");
    fs::create_dir_all(&sources).map_err(|source| ScaffoldError::Write {
        path: sources.clone(),
        source,
    })?;
    write(&directory.join("Cargo.toml"), &manifest(world, name, sdk))?;
    write(&sources.join("lib.rs"), source(world))?;
    write(&directory.join(".gitignore"), "/target\n")?;
    tracing::info!(plugin = name, %world, directory = %directory.display(), "Scaffolded plugin");
    Ok(directory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_lower_case_words() {
        assert!(valid_name("my-bidder2"));
        for bad in ["", "My", "2fast", "a_b", "trailing-", "a b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn an_existing_directory_is_not_overwritten() -> Result<(), Box<dyn std::error::Error>> {
        let parent = tempfile::tempdir()?;
        fs::create_dir(parent.path().join("taken"))?;
        let result = scaffold(
            World::Check,
            "taken",
            parent.path(),
            &SdkDependency::Git("x".to_owned()),
        );
        assert!(matches!(result, Err(ScaffoldError::Exists(_))));
        Ok(())
    }

    #[test]
    fn the_manifest_enables_the_world_feature() {
        let text = manifest(
            World::Specialist,
            "helper",
            &SdkDependency::Path("/sdk".into()),
        );
        assert!(text.contains("features = [\"specialist\"]"));
        assert!(text.contains("path = \"/sdk\""));
        assert!(text.contains("crate-type = [\"cdylib\"]"));
    }
}
