//! The isolated git worktree a proposal is implemented in.
//!
//! Each issue gets a branch `ralph/<N>-<slug>` checked out in its own
//! worktree under `.ralph/worktrees/` (ignored), so the user's working tree
//! and current branch are never touched. Git is driven through its command
//! line, the one interface every git installation has.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A git failure: the command that ran and what git said.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git ({0}); is git installed and on PATH?")]
    Spawn(std::io::Error),
    #[error("`git {command}` failed in {}: {message}", directory.display())]
    Failed {
        command: String,
        directory: PathBuf,
        message: String,
    },
}

/// The branch name for issue `number` titled `title`: `ralph/<N>-<slug>`.
pub fn branch_name(number: u64, title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .split(|character: char| !character.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        if slug.len() + word.len() > 40 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        format!("ralph/{number}")
    } else {
        format!("ralph/{number}-{slug}")
    }
}

/// Runs `git ARGS` in `directory` with `input` on standard input.
pub(crate) fn git(
    directory: &Path,
    args: &[&str],
    input: Option<&[u8]>,
) -> Result<Output, GitError> {
    let output = git_output(directory, args, input)?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(GitError::Failed {
            command: args.join(" "),
            directory: directory.to_owned(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Runs `git ARGS` in `directory` with `input` on standard input; its
/// output, whether it succeeded or not (for commands such as `push
/// --porcelain` whose failures are read).
pub(crate) fn git_output(
    directory: &Path,
    args: &[&str],
    input: Option<&[u8]>,
) -> Result<Output, GitError> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(directory)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(GitError::Spawn)?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        // A git that exits early closes its input; its exit status says why.
        let _ = stdin.write_all(bytes);
    }
    child.wait_with_output().map_err(GitError::Spawn)
}

fn stdout_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The size of a change, from `git diff --numstat`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffStats {
    pub files: Vec<String>,
    pub lines_added: usize,
    pub lines_removed: usize,
}

impl DiffStats {
    pub fn lines_changed(&self) -> usize {
        self.lines_added + self.lines_removed
    }
}

/// The name Ralph commits under where the repository has no identity, and
/// co-authors under where it has one.
pub const RALPH_NAME: &str = "Ralph";
pub const RALPH_EMAIL: &str = "ralph@localhost";

/// `text` on one line, without control characters (for a trailer).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A worktree on a branch of its own.
#[derive(Clone, Debug)]
pub struct Worktree {
    repository: PathBuf,
    path: PathBuf,
    branch: String,
}

impl Worktree {
    /// Opens the worktree at `path` on `branch`, creating both from the
    /// repository's `HEAD` if needed; an existing one is reused (a resumed
    /// loop continues where it stopped).
    pub fn open_or_create(
        repository: &Path,
        path: &Path,
        branch: &str,
    ) -> Result<Worktree, GitError> {
        let worktree = Worktree {
            repository: repository.to_owned(),
            path: path.to_owned(),
            branch: branch.to_owned(),
        };
        if path.join(".git").exists() {
            return Ok(worktree);
        }
        let path_text = path.to_string_lossy().into_owned();
        let branch_exists = git(
            repository,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("refs/heads/{branch}"),
            ],
            None,
        )
        .is_ok();
        if branch_exists {
            git(repository, &["worktree", "add", &path_text, branch], None)?;
        } else {
            git(
                repository,
                &["worktree", "add", "-b", branch, &path_text, "HEAD"],
                None,
            )?;
        }
        Ok(worktree)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// Applies a unified diff to the worktree (files and index). Nothing is
    /// changed when it does not apply; the error says why.
    pub fn apply(&self, patch: &str) -> Result<(), GitError> {
        git(
            &self.path,
            &["apply", "--index", "--whitespace=nowarn", "--recount", "-"],
            Some(patch.as_bytes()),
        )?;
        Ok(())
    }

    /// Checks whether a unified diff would apply, changing nothing.
    pub fn check_patch(&self, patch: &str) -> Result<(), GitError> {
        git(
            &self.path,
            &["apply", "--check", "--recount", "-"],
            Some(patch.as_bytes()),
        )?;
        Ok(())
    }

    /// Stages everything (new files included) and returns the change
    /// against the last commit as a unified diff.
    pub fn diff(&self) -> Result<String, GitError> {
        git(&self.path, &["add", "--all"], None)?;
        Ok(stdout_text(&git(
            &self.path,
            &["diff", "--cached", "HEAD"],
            None,
        )?))
    }

    /// Stages everything and returns the id of the staged tree: the change
    /// as it would be committed.
    pub fn staged_tree(&self) -> Result<String, GitError> {
        git(&self.path, &["add", "--all"], None)?;
        let output = git(&self.path, &["write-tree"], None)?;
        Ok(stdout_text(&output).trim().to_owned())
    }

    /// Makes the index hold exactly `tree` (from [`Worktree::staged_tree`]),
    /// so the next commit is the change as it was checked.
    pub fn stage_tree(&self, tree: &str) -> Result<(), GitError> {
        git(&self.path, &["read-tree", tree], None)?;
        Ok(())
    }

    /// The files and lines the uncommitted change touches.
    pub fn stats(&self) -> Result<DiffStats, GitError> {
        git(&self.path, &["add", "--all"], None)?;
        let output = git(&self.path, &["diff", "--cached", "--numstat", "HEAD"], None)?;
        let mut stats = DiffStats::default();
        for line in stdout_text(&output).lines() {
            let mut fields = line.splitn(3, '\t');
            let added = fields.next().unwrap_or("0");
            let removed = fields.next().unwrap_or("0");
            let Some(file) = fields.next() else {
                continue;
            };
            // Binary files show `-`; count them as one line each way.
            stats.lines_added += added.parse().unwrap_or(1);
            stats.lines_removed += removed.parse().unwrap_or(1);
            stats.files.push(file.to_owned());
        }
        Ok(stats)
    }

    /// Commits what is staged (the change [`Worktree::stats`] measured),
    /// then throws away whatever appeared or changed since (artifacts of
    /// the checks), so the worktree is the commit; returns the commit id.
    pub fn commit(&self, message: &str, trailers: &[(&str, String)]) -> Result<String, GitError> {
        let mut arguments: Vec<String> = Vec::new();
        let mut trailers: Vec<String> = trailers
            .iter()
            .map(|(key, value)| format!("{key}: {}", one_line(value)))
            .collect();
        if self.has_identity() {
            trailers.push(format!("Co-authored-by: {RALPH_NAME} <{RALPH_EMAIL}>"));
        } else {
            // No identity configured: Ralph's own, for this commit alone
            // (the user's config is untouched).
            arguments.extend(
                [
                    "-c",
                    &format!("user.name={RALPH_NAME}"),
                    "-c",
                    &format!("user.email={RALPH_EMAIL}"),
                ]
                .map(str::to_owned),
            );
        }
        arguments.extend(
            [
                "commit",
                "--quiet",
                "--no-verify",
                "--cleanup=strip",
                "-F",
                "-",
            ]
            .map(str::to_owned),
        );
        for trailer in trailers {
            arguments.push("--trailer".to_owned());
            arguments.push(trailer);
        }
        let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
        git(&self.path, &arguments, Some(message.as_bytes()))?;
        let head = git(&self.path, &["rev-parse", "HEAD"], None)?;
        // What the checks left behind, changed or new, is not the change.
        self.discard_changes()?;
        Ok(stdout_text(&head).trim().to_owned())
    }

    /// Where the branch started: its merge base with the commit the
    /// repository has checked out.
    pub fn start_point(&self) -> Result<String, GitError> {
        let head = git(&self.repository, &["rev-parse", "HEAD"], None)?;
        let head = stdout_text(&head).trim().to_owned();
        let base = git(&self.path, &["merge-base", "HEAD", &head], None)?;
        Ok(stdout_text(&base).trim().to_owned())
    }

    /// What the branch's commits change since `start`, file by file: the
    /// path with the lines added and removed (none for a binary file).
    pub fn changes_since(&self, start: &str) -> Result<Vec<(String, u64, u64)>, GitError> {
        let range = format!("{start}..HEAD");
        let output = git(
            &self.path,
            &["diff", "--numstat", "-z", "--no-renames", &range],
            None,
        )?;
        let text = stdout_text(&output);
        Ok(text
            .split('\0')
            .filter_map(|entry| {
                let mut parts = entry.splitn(3, '\t');
                let added = parts.next()?.parse().unwrap_or(0);
                let removed = parts.next()?.parse().unwrap_or(0);
                let path = parts.next()?.to_owned();
                Some((path, added, removed))
            })
            .collect())
    }

    /// The subjects of the branch's commits since `start`, oldest first.
    pub fn subjects_since(&self, start: &str) -> Result<Vec<String>, GitError> {
        let range = format!("{start}..HEAD");
        let output = git(
            &self.path,
            &["log", "--reverse", "--format=%s", &range],
            None,
        )?;
        Ok(stdout_text(&output).lines().map(str::to_owned).collect())
    }

    /// Whether git knows who commits here (`user.name` and `user.email`,
    /// from the repository's config or the user's).
    fn has_identity(&self) -> bool {
        ["user.name", "user.email"].iter().all(|key| {
            git(&self.path, &["config", "--get", key], None)
                .is_ok_and(|output| !stdout_text(&output).trim().is_empty())
        })
    }

    /// Removes untracked files (not ignored ones, such as build output).
    pub fn clean_untracked(&self) -> Result<(), GitError> {
        git(&self.path, &["clean", "--quiet", "-fd"], None)?;
        Ok(())
    }

    /// Throws away uncommitted changes (after a failed attempt).
    pub fn discard_changes(&self) -> Result<(), GitError> {
        git(&self.path, &["reset", "--quiet", "--hard", "HEAD"], None)?;
        git(&self.path, &["clean", "--quiet", "-fd"], None)?;
        Ok(())
    }

    /// Removes the worktree (the branch and its commits stay).
    pub fn remove(self) -> Result<(), GitError> {
        let path_text = self.path.to_string_lossy().into_owned();
        git(
            &self.repository,
            &["worktree", "remove", "--force", &path_text],
            None,
        )?;
        Ok(())
    }
}

/// Test helpers shared by this crate's unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A repository with one commit holding `src/lib.rs`.
    pub(crate) fn repository() -> tempfile::TempDir {
        let directory = tempfile::tempdir().expect("temp dir");
        let root = directory.path();
        git(root, &["init", "--quiet", "--initial-branch=main"], None).expect("init");
        std::fs::create_dir(root.join("src")).expect("mkdir");
        std::fs::write(root.join("src/lib.rs"), "pub fn one() -> u32 {\n    1\n}\n")
            .expect("write");
        std::fs::write(root.join(".gitignore"), ".ralph/worktrees/\n").expect("write");
        git(root, &["add", "--all"], None).expect("add");
        git(root, &["commit", "--quiet", "-m", "start"], None).expect("commit");
        directory
    }

    /// A patch adding `two()` to that `src/lib.rs`.
    pub(crate) const PATCH: &str = "\
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,7 @@
 pub fn one() -> u32 {
     1
 }
+
+pub fn two() -> u32 {
+    2
+}
";
}

#[cfg(test)]
mod tests {
    use super::test_support::{PATCH, repository};
    use super::*;

    #[test]
    fn branch_names_are_ralph_slash_number_dash_slug() {
        assert_eq!(
            branch_name(12, "Add a --json flag to `status`!"),
            "ralph/12-add-a-json-flag-to-status"
        );
        assert_eq!(branch_name(3, "!!!"), "ralph/3");
        let long = branch_name(1, &"word ".repeat(40));
        assert!(long.len() <= "ralph/1-".len() + 40, "{long}");
    }

    #[test]
    fn a_patch_is_applied_measured_and_committed_on_the_branch_only() {
        let directory = repository();
        let root = directory.path();
        let path = root.join(".ralph/worktrees/7");
        let worktree = Worktree::open_or_create(root, &path, "ralph/7-two").expect("worktree");
        worktree.check_patch(PATCH).expect("applies");
        worktree.apply(PATCH).expect("apply");
        let stats = worktree.stats().expect("stats");
        assert_eq!(stats.files, ["src/lib.rs"]);
        assert_eq!(stats.lines_changed(), 4);
        assert!(worktree.diff().expect("diff").contains("+pub fn two()"));
        // A check's artifact after measuring is not part of the commit.
        std::fs::write(path.join("check-artifact.txt"), "x").expect("write");
        let commit = worktree.commit("Add two", &[]).expect("commit");
        assert_eq!(commit.len(), 40);
        let files = git(&path, &["show", "--name-only", "--format=", "HEAD"], None).expect("show");
        assert_eq!(stdout_text(&files).trim(), "src/lib.rs");
        assert!(!path.join("check-artifact.txt").exists());

        // The user's tree and branch are untouched.
        let user_file = std::fs::read_to_string(root.join("src/lib.rs")).expect("read");
        assert!(!user_file.contains("two"));
        let head = git(root, &["rev-parse", "--abbrev-ref", "HEAD"], None).expect("head");
        assert_eq!(stdout_text(&head).trim(), "main");
        let status = git(root, &["status", "--porcelain"], None).expect("status");
        assert_eq!(stdout_text(&status), "");
    }

    #[test]
    fn what_the_checks_do_to_the_worktree_and_index_is_not_committed() {
        let directory = repository();
        let root = directory.path();
        let path = root.join(".ralph/worktrees/6");
        let worktree = Worktree::open_or_create(root, &path, "ralph/6").expect("worktree");
        worktree.apply(PATCH).expect("apply");
        let checked = worktree.staged_tree().expect("tree");
        // A check running the change's code edits and stages more.
        std::fs::write(path.join("src/lib.rs"), "pub fn evil() {}\n").expect("write");
        std::fs::write(path.join("planted.txt"), "x").expect("write");
        git(&path, &["add", "--all"], None).expect("add");
        worktree.stage_tree(&checked).expect("restage");
        worktree.commit("Add two", &[]).expect("commit");
        let files = git(&path, &["show", "--name-only", "--format=", "HEAD"], None).expect("show");
        assert_eq!(stdout_text(&files).trim(), "src/lib.rs");
        let committed = git(&path, &["show", "HEAD:src/lib.rs"], None).expect("show");
        assert!(stdout_text(&committed).contains("pub fn two()"));
        assert_eq!(worktree.stats().expect("stats"), DiffStats::default());
        assert!(!path.join("planted.txt").exists());
    }

    #[test]
    fn a_patch_that_does_not_apply_changes_nothing_and_says_why() {
        let directory = repository();
        let root = directory.path();
        let worktree = Worktree::open_or_create(root, &root.join(".ralph/worktrees/8"), "ralph/8")
            .expect("worktree");
        let broken = PATCH.replace("     1\n", "     100\n");
        let error = worktree.apply(&broken).expect_err("does not apply");
        assert!(error.to_string().contains("git apply"), "{error}");
        assert_eq!(worktree.stats().expect("stats"), DiffStats::default());
    }

    #[test]
    fn a_failed_attempt_is_discarded_and_the_worktree_reused() {
        let directory = repository();
        let root = directory.path();
        let path = root.join(".ralph/worktrees/9");
        let worktree = Worktree::open_or_create(root, &path, "ralph/9").expect("worktree");
        worktree.apply(PATCH).expect("apply");
        std::fs::write(path.join("scratch.txt"), "left over").expect("write");
        worktree.discard_changes().expect("discard");
        assert_eq!(worktree.stats().expect("stats"), DiffStats::default());
        let again = Worktree::open_or_create(root, &path, "ralph/9").expect("reopen");
        assert_eq!(again.branch(), "ralph/9");
        again.remove().expect("remove");
        assert!(!path.exists());
        // The branch survives its worktree and can be checked out again.
        Worktree::open_or_create(root, &path, "ralph/9").expect("recreate on the branch");
    }
}
