//! bubblewrap's command line for one untrusted process.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// What bubblewrap mounts, decided on the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mounts {
    pub network: bool,
    /// Directories replaced by empty ones (`/run`).
    pub hidden: Vec<PathBuf>,
    /// Parts of hidden directories shown again, read-only.
    pub restored: Vec<PathBuf>,
    /// The repository, shown read-only again (it may be under `/tmp`).
    pub repository: Option<PathBuf>,
    pub masked_directories: Vec<PathBuf>,
    pub masked_files: Vec<PathBuf>,
    /// Where the process runs: writable.
    pub directory: PathBuf,
    /// The worktree's `.git` file, kept read-only.
    pub git_file: Option<PathBuf>,
    pub writable: Vec<PathBuf>,
    pub read_only: Vec<PathBuf>,
}

/// bubblewrap's arguments for `mounts`, then `program` and `arguments`.
/// Later mounts cover earlier ones, so the order is: everything read-only,
/// private `/tmp` and `/run`, the repository read-only, credentials hidden,
/// the worktree writable with its `.git` read-only, the caches writable.
pub fn bubblewrap_arguments(
    mounts: &Mounts,
    program: &OsStr,
    arguments: &[String],
) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    let mut push = |parts: &[&OsStr]| out.extend(parts.iter().map(|part| part.to_os_string()));
    push(&[
        "--die-with-parent".as_ref(),
        "--new-session".as_ref(),
        "--unshare-all".as_ref(),
    ]);
    if mounts.network {
        push(&["--share-net".as_ref()]);
    }
    push(&[
        "--ro-bind".as_ref(),
        "/".as_ref(),
        "/".as_ref(),
        "--dev".as_ref(),
        "/dev".as_ref(),
        "--proc".as_ref(),
        "/proc".as_ref(),
        "--tmpfs".as_ref(),
        "/tmp".as_ref(),
    ]);
    let pair =
        |flag: &str, path: &Path| -> [OsString; 3] { [flag.into(), path.into(), path.into()] };
    let mut tail: Vec<OsString> = Vec::new();
    for hidden in &mounts.hidden {
        tail.extend(["--tmpfs".into(), hidden.into()]);
    }
    for restored in &mounts.restored {
        tail.extend(pair("--ro-bind", restored));
    }
    if let Some(repository) = &mounts.repository {
        tail.extend(pair("--ro-bind", repository));
    }
    for directory in &mounts.masked_directories {
        tail.extend(["--tmpfs".into(), directory.into()]);
    }
    for file in &mounts.masked_files {
        tail.extend(["--ro-bind".into(), "/dev/null".into(), file.into()]);
    }
    tail.extend(pair("--bind", &mounts.directory));
    if let Some(git_file) = &mounts.git_file {
        tail.extend(pair("--ro-bind", git_file));
    }
    for path in &mounts.writable {
        tail.extend(pair("--bind", path));
    }
    for path in &mounts.read_only {
        tail.extend(pair("--ro-bind", path));
    }
    tail.extend(["--chdir".into(), mounts.directory.clone().into()]);
    tail.push("--".into());
    tail.push(program.to_os_string());
    tail.extend(arguments.iter().map(OsString::from));
    out.extend(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(network: bool) -> Mounts {
        Mounts {
            network,
            hidden: vec!["/run".into()],
            restored: vec![],
            repository: Some("/work/repo".into()),
            masked_directories: vec!["/home/user/.ssh".into()],
            masked_files: vec!["/home/user/.netrc".into()],
            directory: "/work/repo/.ralph/worktrees/1".into(),
            git_file: Some("/work/repo/.ralph/worktrees/1/.git".into()),
            writable: vec!["/home/user/.cargo/registry".into()],
            read_only: vec!["/tmp/ralph-prompt-x.md".into()],
        }
    }

    fn joined(arguments: &[OsString]) -> String {
        arguments
            .iter()
            .map(|part| part.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn bubblewrap_runs_a_check_read_only_without_network_in_the_worktree() {
        let arguments = joined(&bubblewrap_arguments(
            &mounts(false),
            OsStr::new("/bin/sh"),
            &["check.sh".to_owned()],
        ));
        assert_eq!(
            arguments,
            "--die-with-parent --new-session --unshare-all \
             --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --tmpfs /run \
             --ro-bind /work/repo /work/repo \
             --tmpfs /home/user/.ssh --ro-bind /dev/null /home/user/.netrc \
             --bind /work/repo/.ralph/worktrees/1 /work/repo/.ralph/worktrees/1 \
             --ro-bind /work/repo/.ralph/worktrees/1/.git /work/repo/.ralph/worktrees/1/.git \
             --bind /home/user/.cargo/registry /home/user/.cargo/registry \
             --ro-bind /tmp/ralph-prompt-x.md /tmp/ralph-prompt-x.md \
             --chdir /work/repo/.ralph/worktrees/1 -- /bin/sh check.sh"
        );
    }

    #[test]
    fn bubblewrap_keeps_the_network_only_for_agents() {
        let arguments = bubblewrap_arguments(&mounts(true), OsStr::new("claude"), &[]);
        assert!(
            joined(&arguments)
                .starts_with("--die-with-parent --new-session --unshare-all --share-net ")
        );
    }
}
