//! What a change may touch (SPEC §5a).
//!
//! A winning change is applied in the worktree and committed on a branch the
//! user will merge, so it must not carry Ralph's own state or anything that
//! steers the repository's tools. A change that adds, modifies or deletes a
//! protected path fails its attempt, naming the path:
//! - `.ralph/` (config, events, issues, approvals, caches) and every path
//!   with a `.git*` name (`.git/`, `.gitignore`, `.gitattributes`,
//!   `.gitmodules`, at any depth): always;
//! - `.claude/` and `.github/workflows/`: unless `allow_protected` frees them;
//! - the paths in `protected_paths`.
//!
//! The change is also refused when it stages a file git ignores (`git apply
//! --index` would otherwise stage one), a symbolic link whose target leaves
//! the repository, or a submodule: only tracked regular files and
//! in-repository links are committed.

use std::path::{Component, Path};

use ralph_marketplace::{Config, ConfigError};

use crate::worktree::{GitError, Worktree, git};

/// The paths that are always protected, as path prefixes.
const ALWAYS: &[&str] = &[".ralph/"];
/// The paths protected unless `allow_protected` names them.
const FREEABLE: &[&str] = &[".claude/", ".github/workflows/"];

/// The protected paths of one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedPaths {
    /// Path prefixes (ending in `/` for a directory) or exact paths.
    prefixes: Vec<String>,
}

impl Default for ProtectedPaths {
    fn default() -> Self {
        Self {
            prefixes: ALWAYS
                .iter()
                .chain(FREEABLE)
                .map(|p| (*p).to_owned())
                .collect(),
        }
    }
}

impl ProtectedPaths {
    /// The rules of `config` (`protected_paths`, `allow_protected`); errors
    /// name the file and field.
    pub fn from_config(config: &Config, path: &Path) -> Result<Self, ConfigError> {
        let invalid = |field: String, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field,
            message,
        };
        for (index, freed) in config.allow_protected.iter().enumerate() {
            let freed = directory_form(freed);
            if !FREEABLE.contains(&freed.as_str()) {
                return Err(invalid(
                    format!("allow_protected[{index}]"),
                    format!(
                        "`{freed}` cannot be freed; only {} can (`.ralph/` and `.git*` paths stay protected)",
                        FREEABLE.join(" and ")
                    ),
                ));
            }
        }
        let mut prefixes: Vec<String> = ALWAYS.iter().map(|p| (*p).to_owned()).collect();
        for freeable in FREEABLE {
            let freed = config
                .allow_protected
                .iter()
                .any(|freed| directory_form(freed) == *freeable);
            if !freed {
                prefixes.push((*freeable).to_owned());
            }
        }
        for (index, extra) in config.protected_paths.iter().enumerate() {
            let trimmed = extra.trim_start_matches("./");
            let plain = !trimmed.is_empty()
                && Path::new(trimmed)
                    .components()
                    .all(|component| matches!(component, Component::Normal(_)));
            if !plain {
                return Err(invalid(
                    format!("protected_paths[{index}]"),
                    format!(
                        "`{extra}` must be a path relative to the repository root, without `..`"
                    ),
                ));
            }
            prefixes.push(trimmed.to_owned());
        }
        Ok(Self { prefixes })
    }

    /// Why `path` (relative to the repository, `/`-separated) may not be
    /// changed, if it may not.
    pub fn rule_for(&self, path: &str) -> Option<String> {
        if is_git_path(path) {
            return Some("`.git*` paths are protected".to_owned());
        }
        self.prefixes
            .iter()
            .find(|prefix| {
                if prefix.ends_with('/') {
                    path.starts_with(prefix.as_str()) || format!("{path}/") == **prefix
                } else {
                    path == prefix.as_str() || path.starts_with(&format!("{prefix}/"))
                }
            })
            .map(|prefix| format!("`{prefix}` is protected"))
    }
}

/// A `.git*` file (`.gitignore`, `.gitattributes`, `.gitmodules`, ...) at
/// any depth, or anything inside a `.git` directory.
fn is_git_path(path: &str) -> bool {
    let names: Vec<String> = Path::new(path)
        .components()
        .map(|component| component.as_os_str().to_string_lossy().to_ascii_lowercase())
        .collect();
    let Some((file, directories)) = names.split_last() else {
        return false;
    };
    file.starts_with(".git") || directories.iter().any(|name| name == ".git")
}

fn directory_form(path: &str) -> String {
    let trimmed = path.trim_start_matches("./").trim_end_matches('/');
    format!("{trimmed}/")
}

/// Why a change may not be committed: the path and the rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the change touches `{path}`: {rule}")]
pub struct Violation {
    pub path: String,
    pub rule: String,
}

/// One staged change, from `git diff --cached --raw`.
#[derive(Debug, PartialEq, Eq)]
struct Staged {
    new_mode: String,
    new_object: String,
    status: char,
    path: String,
}

/// Checks the worktree's staged change (everything, after `git add --all`)
/// against `rules`; the first violation, if any.
pub fn check_change(
    worktree: &Worktree,
    rules: &ProtectedPaths,
) -> Result<Option<Violation>, GitError> {
    let directory = worktree.path();
    git(directory, &["add", "--all"], None)?;
    let output = git(
        directory,
        &[
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "HEAD",
        ],
        None,
    )?;
    let staged = parse_raw(&output.stdout);
    for change in &staged {
        if let Some(rule) = rules.rule_for(&change.path) {
            return Ok(Some(Violation {
                path: change.path.clone(),
                rule,
            }));
        }
    }
    for change in staged.iter().filter(|change| change.status != 'D') {
        if let Some(rule) = kind_rule(directory, change)? {
            return Ok(Some(Violation {
                path: change.path.clone(),
                rule,
            }));
        }
    }
    let added: Vec<&str> = staged
        .iter()
        .filter(|change| change.status == 'A')
        .map(|change| change.path.as_str())
        .collect();
    if let Some(path) = first_ignored(directory, &added)? {
        return Ok(Some(Violation {
            path,
            rule: "git ignores it, and ignored files are never committed".to_owned(),
        }));
    }
    Ok(None)
}

/// Why a staged entry's kind may not be committed: a link leading outside,
/// a submodule.
fn kind_rule(directory: &Path, change: &Staged) -> Result<Option<String>, GitError> {
    match change.new_mode.as_str() {
        "120000" => {
            let target = git(directory, &["cat-file", "blob", &change.new_object], None)?;
            let target = String::from_utf8_lossy(&target.stdout).into_owned();
            let inside = !Path::new(&target).is_absolute() && {
                let mut depth = Path::new(&change.path)
                    .components()
                    .count()
                    .saturating_sub(1);
                Path::new(&target)
                    .components()
                    .all(|component| match component {
                        Component::Normal(_) => {
                            depth += 1;
                            true
                        }
                        Component::CurDir => true,
                        Component::ParentDir => {
                            depth.checked_sub(1).map(|less| depth = less).is_some()
                        }
                        _ => false,
                    })
            };
            Ok((!inside).then(|| format!("a symbolic link to `{target}`, outside the repository")))
        }
        "160000" => Ok(Some("a submodule; only files are committed".to_owned())),
        _ => Ok(None),
    }
}

/// The first of `paths` that git ignores.
fn first_ignored(directory: &Path, paths: &[&str]) -> Result<Option<String>, GitError> {
    if paths.is_empty() {
        return Ok(None);
    }
    let input: Vec<u8> = paths
        .iter()
        .flat_map(|path| format!("{path}\0").into_bytes())
        .collect();
    // Exit 1 means none is ignored.
    match git(
        directory,
        &["check-ignore", "--no-index", "--stdin", "-z"],
        Some(&input),
    ) {
        Ok(output) => Ok(output
            .stdout
            .split(|byte| *byte == 0)
            .find(|path| !path.is_empty())
            .map(|path| String::from_utf8_lossy(path).into_owned())),
        Err(GitError::Failed { message, .. }) if message.is_empty() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Parses `git diff --raw -z --no-renames`:
/// `:<old mode> <new mode> <old object> <new object> <status>\0<path>\0`.
fn parse_raw(bytes: &[u8]) -> Vec<Staged> {
    let mut fields = bytes.split(|byte| *byte == 0);
    let mut staged = Vec::new();
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let meta = String::from_utf8_lossy(meta);
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [_, new_mode, _, new_object, status] = parts.as_slice() else {
            continue;
        };
        staged.push(Staged {
            new_mode: (*new_mode).to_owned(),
            new_object: (*new_object).to_owned(),
            status: status.chars().next().unwrap_or('M'),
            path: String::from_utf8_lossy(path).into_owned(),
        });
    }
    staged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worktree::test_support::repository;

    fn config(json: serde_json::Value) -> Config {
        serde_json::from_value(json).expect("config")
    }

    #[test]
    fn ralph_state_and_git_files_are_always_protected() {
        let rules = ProtectedPaths::default();
        for path in [
            ".ralph/events/x.json",
            ".ralph/config.json",
            ".gitignore",
            "sub/.gitattributes",
            ".gitmodules",
            ".claude/agents/bidder.md",
            ".github/workflows/ci.yml",
        ] {
            assert!(rules.rule_for(path).is_some(), "{path}");
        }
        for path in [
            "src/lib.rs",
            ".github/CODEOWNERS",
            "ralph/notes.md",
            "docs/.ralphrc",
        ] {
            assert_eq!(rules.rule_for(path), None, "{path}");
        }
    }

    #[test]
    fn allow_protected_frees_only_claude_and_workflows() {
        let freed =
            config(serde_json::json!({"allow_protected": [".claude", ".github/workflows/"]}));
        let rules = ProtectedPaths::from_config(&freed, Path::new("c.json")).expect("rules");
        assert_eq!(rules.rule_for(".claude/agents/x.md"), None);
        assert_eq!(rules.rule_for(".github/workflows/ci.yml"), None);
        assert!(rules.rule_for(".ralph/config.json").is_some());
        let refused = config(serde_json::json!({"allow_protected": [".ralph/"]}));
        let error =
            ProtectedPaths::from_config(&refused, Path::new("c.json")).expect_err("refused");
        assert!(error.to_string().contains("allow_protected[0]"), "{error}");
    }

    #[test]
    fn protected_paths_add_to_the_rules() {
        let extra = config(serde_json::json!({"protected_paths": ["Cargo.lock", "deploy/"]}));
        let rules = ProtectedPaths::from_config(&extra, Path::new("c.json")).expect("rules");
        assert!(rules.rule_for("Cargo.lock").is_some());
        assert!(rules.rule_for("deploy/prod.yml").is_some());
        assert_eq!(rules.rule_for("Cargo.toml"), None);
        let bad = config(serde_json::json!({"protected_paths": ["../outside"]}));
        let error = ProtectedPaths::from_config(&bad, Path::new("c.json")).expect_err("bad");
        assert!(error.to_string().contains("protected_paths[0]"), "{error}");
    }

    fn worktree_of(root: &Path) -> Worktree {
        Worktree::open_or_create(root, &root.join(".ralph/worktrees/1"), "ralph/1")
            .expect("worktree")
    }

    #[test]
    fn a_change_under_ralph_fails_naming_the_path() {
        let directory = repository();
        let worktree = worktree_of(directory.path());
        let path = worktree.path().join(".ralph/events");
        std::fs::create_dir_all(&path).expect("mkdir");
        std::fs::write(path.join("forged.json"), "{}").expect("write");
        let violation = check_change(&worktree, &ProtectedPaths::default())
            .expect("git")
            .expect("a violation");
        assert_eq!(violation.path, ".ralph/events/forged.json");
    }

    #[test]
    fn an_ignored_file_forced_into_the_index_fails() {
        let directory = repository();
        let worktree = worktree_of(directory.path());
        std::fs::write(
            worktree.path().join(".gitignore"),
            ".ralph/worktrees/\n*.cwasm\n",
        )
        .expect("write");
        git(
            worktree.path(),
            &["commit", "--quiet", "-am", "ignore"],
            None,
        )
        .expect("commit");
        std::fs::write(worktree.path().join("plugin.cwasm"), "native code").expect("write");
        git(worktree.path(), &["add", "--force", "plugin.cwasm"], None).expect("add");
        let violation = check_change(&worktree, &ProtectedPaths::default())
            .expect("git")
            .expect("a violation");
        assert_eq!(violation.path, "plugin.cwasm");
        assert!(violation.rule.contains("ignores"), "{}", violation.rule);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_leading_outside_fails_and_one_inside_passes() {
        let directory = repository();
        let worktree = worktree_of(directory.path());
        std::os::unix::fs::symlink("lib.rs", worktree.path().join("src/alias.rs")).expect("link");
        assert_eq!(
            check_change(&worktree, &ProtectedPaths::default()).expect("git"),
            None
        );
        std::os::unix::fs::symlink("../../../etc/passwd", worktree.path().join("src/passwd"))
            .expect("link");
        let violation = check_change(&worktree, &ProtectedPaths::default())
            .expect("git")
            .expect("a violation");
        assert_eq!(violation.path, "src/passwd");
    }

    #[test]
    fn an_ordinary_change_passes() {
        let directory = repository();
        let worktree = worktree_of(directory.path());
        worktree
            .apply(crate::worktree::test_support::PATCH)
            .expect("apply");
        assert_eq!(
            check_change(&worktree, &ProtectedPaths::default()).expect("git"),
            None
        );
    }
}
