//! `ralph marketplace setup`: creates what a marketplace needs, never
//! overwriting anything that exists, so running it twice changes nothing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::layout::{IGNORED, Layout};

/// What setup did to one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Created(PathBuf),
    /// A line was added to an existing file.
    Updated(PathBuf),
    Kept(PathBuf),
}

/// A setup failure, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct SetupError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Creates `.ralph/config.json` (the defaults), `.ralph/events/`,
/// `.ralph/.gitignore` and the agent definitions in `.claude/agents/`
/// (`agents` holds file names and contents), and has the repository's
/// `.gitignore` ignore the loops' sessions (`/.ralph-sessions/`, SPEC §8).
/// Existing files are kept as they are, but for that one line.
pub fn setup(layout: &Layout, agents: &[(&str, &str)]) -> Result<Vec<Action>, SetupError> {
    let mut actions = vec![
        create_file(
            &layout.config_file(),
            Config::default().to_json().as_bytes(),
        )?,
        create_dir(&layout.events_dir())?,
        create_file(&layout.gitignore_file(), gitignore().as_bytes())?,
        ensure_line(&layout.repository().join(".gitignore"), SESSIONS_IGNORED)?,
    ];
    for (name, text) in agents {
        actions.push(create_file(
            &layout.agents_dir().join(name),
            text.as_bytes(),
        )?);
    }
    Ok(actions)
}

/// The line of the repository's `.gitignore` that keeps sessions out of git.
pub const SESSIONS_IGNORED: &str = "/.ralph-sessions/";

/// Adds `line` to the text file at `path` unless a line says it already
/// (the file is created when missing).
fn ensure_line(path: &Path, line: &str) -> Result<Action, SetupError> {
    let error = |source| SetupError {
        path: path.to_owned(),
        source,
    };
    let existing = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(missing) if missing.kind() == io::ErrorKind::NotFound => {
            return create_file(path, format!("{line}\n").as_bytes());
        }
        Err(other) => return Err(error(other)),
    };
    let bare = line.trim_matches('/');
    if existing
        .lines()
        .any(|present| present.trim().trim_matches('/') == bare)
    {
        return Ok(Action::Kept(path.to_owned()));
    }
    let separator = if existing.is_empty() || existing.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(error)?;
    io::Write::write_all(&mut file, format!("{separator}{line}\n").as_bytes()).map_err(error)?;
    Ok(Action::Updated(path.to_owned()))
}

fn gitignore() -> String {
    let mut text = String::from(
        "# Derived from the event log and rebuilt on demand (ralph marketplace status).\n",
    );
    for entry in IGNORED {
        text.push_str(entry);
        text.push('\n');
    }
    text
}

fn create_dir(path: &Path) -> Result<Action, SetupError> {
    if path.is_dir() {
        return Ok(Action::Kept(path.to_owned()));
    }
    fs::create_dir_all(path).map_err(|source| SetupError {
        path: path.to_owned(),
        source,
    })?;
    Ok(Action::Created(path.to_owned()))
}

/// The GitHub Actions workflow `setup --github-actions` writes (SPEC §15;
/// `docs/team.md`): on an issue labelled `ready` (or a manual run with an
/// issue number), the loop, then `sync`; least-privilege permissions, one
/// run per issue at a time, secrets only from the repository's. It passes
/// `actionlint` and `zizmor` (tested).
pub const GITHUB_WORKFLOW: &str = include_str!("workflows/ralph.yml");

/// Where it is written, relative to the repository.
pub const GITHUB_WORKFLOW_PATH: &str = ".github/workflows/ralph.yml";

/// Writes [`GITHUB_WORKFLOW`] to the repository's
/// `.github/workflows/ralph.yml`, keeping one that exists as it is.
pub fn github_workflow(layout: &Layout) -> Result<Action, SetupError> {
    create_file(
        &layout.repository().join(GITHUB_WORKFLOW_PATH),
        GITHUB_WORKFLOW.as_bytes(),
    )
}

fn create_file(path: &Path, contents: &[u8]) -> Result<Action, SetupError> {
    let error = |source| SetupError {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(error)?;
    }
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            io::Write::write_all(&mut file, contents).map_err(error)?;
            Ok(Action::Created(path.to_owned()))
        }
        Err(existing) if existing.kind() == io::ErrorKind::AlreadyExists => {
            Ok(Action::Kept(path.to_owned()))
        }
        Err(other) => Err(error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        let mut pending = vec![root.to_owned()];
        while let Some(directory) = pending.pop() {
            for entry in fs::read_dir(&directory).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path.clone());
                    files.push((path, Vec::new()));
                } else {
                    let bytes = fs::read(&path).expect("read");
                    files.push((path, bytes));
                }
            }
        }
        files.sort();
        files
    }

    #[test]
    fn setup_creates_the_config_events_gitignore_and_agents() {
        let directory = tempfile::tempdir().expect("temp dir");
        let layout = Layout::new(directory.path());
        let actions = setup(&layout, &[("broker.md", "# Broker\n")]).expect("setup");
        assert!(
            actions
                .iter()
                .all(|action| matches!(action, Action::Created(_)))
        );
        assert_eq!(
            Config::load(&layout.config_file()).expect("config"),
            Config::default()
        );
        assert!(layout.events_dir().is_dir());
        let ignore = fs::read_to_string(layout.gitignore_file()).expect("gitignore");
        assert!(ignore.lines().any(|line| line == "marketplace.json"));
        assert!(ignore.lines().any(|line| line == ".state_version"));
        assert!(ignore.lines().any(|line| line == "approvals.json"));
        assert!(ignore.lines().any(|line| line == "audit/"));
        assert!(ignore.lines().any(|line| line == "locks/"));
        assert_eq!(
            fs::read_to_string(layout.agents_dir().join("broker.md")).expect("agent"),
            "# Broker\n"
        );
    }

    #[test]
    fn running_setup_twice_changes_nothing() {
        let directory = tempfile::tempdir().expect("temp dir");
        let layout = Layout::new(directory.path());
        setup(&layout, &[("bidder.md", "one")]).expect("first");
        fs::write(layout.config_file(), r#"{"num_bots": 4}"#).expect("edit config");
        let before = snapshot(directory.path());
        let actions = setup(&layout, &[("bidder.md", "two")]).expect("second");
        assert!(
            actions
                .iter()
                .all(|action| matches!(action, Action::Kept(_)))
        );
        assert_eq!(snapshot(directory.path()), before);
    }
}
