//! Clean checkouts: what plugins see of the repository (SPEC §5).
//!
//! A plugin granted `repository` never sees the user's working directory.
//! It reads a [`Snapshot`]: the tracked tree of the commit a round works on
//! (or, for check plugins, of the change being checked), written by Ralph
//! into a new temporary directory outside the repository. A snapshot holds
//! only what git tracks: regular files, and symbolic links whose target
//! stays inside it. So there is no `.git/`, no git-ignored or per-user file
//! (approvals, the audit log, caches, worktrees), no FIFO or device, and no
//! path leading outside.

use std::io::{BufRead, BufReader, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::worktree::{GitError, git};

/// A tracked tree written out for plugins to read; removed when dropped.
#[derive(Debug)]
pub struct Snapshot {
    directory: tempfile::TempDir,
    tree: String,
}

impl Snapshot {
    /// Writes out the tree of `revision` (a commit, or a tree id) of the
    /// repository or worktree at `repository`.
    pub fn of(repository: &Path, revision: &str) -> Result<Snapshot, GitError> {
        let tree = tree_of(repository, revision)?;
        let directory = tempfile::Builder::new()
            .prefix("ralph-view-")
            .tempdir()
            .map_err(|error| failed(repository, "cannot create a directory for it", &error))?;
        let entries = entries(repository, &tree)?;
        write_entries(repository, directory.path(), &entries)?;
        Ok(Snapshot { directory, tree })
    }

    /// The directory plugins see as `/`.
    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    /// The id of the tree it holds.
    pub fn tree(&self) -> &str {
        &self.tree
    }
}

/// The tree id of `revision`.
pub fn tree_of(repository: &Path, revision: &str) -> Result<String, GitError> {
    let output = git(
        repository,
        &["rev-parse", "--verify", &format!("{revision}^{{tree}}")],
        None,
    )?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// One entry of a tree: what git stores at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: EntryKind,
    object: String,
    path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File { executable: bool },
    Symlink,
}

/// Every file and symbolic link in `tree`, recursively; submodules and
/// paths that could leave the snapshot are left out.
fn entries(repository: &Path, tree: &str) -> Result<Vec<Entry>, GitError> {
    let output = git(
        repository,
        &["ls-tree", "-r", "-z", "--full-tree", tree],
        None,
    )?;
    let mut entries = Vec::new();
    for record in output.stdout.split(|byte| *byte == 0) {
        let Some(entry) = parse_entry(record) else {
            continue;
        };
        entries.push(entry);
    }
    Ok(entries)
}

/// `<mode> <type> <object>\t<path>`, as `git ls-tree -z` writes it.
fn parse_entry(record: &[u8]) -> Option<Entry> {
    let text = std::str::from_utf8(record).ok()?;
    let (meta, path) = text.split_once('\t')?;
    let mut fields = meta.split(' ');
    let mode = fields.next()?;
    let _kind = fields.next()?;
    let object = fields.next()?.to_owned();
    let kind = match mode {
        "100644" => EntryKind::File { executable: false },
        "100755" => EntryKind::File { executable: true },
        "120000" => EntryKind::Symlink,
        // Submodules (160000) and anything else are not files to read.
        _ => return None,
    };
    let path = PathBuf::from(path);
    safe_relative(&path).then_some(Entry { kind, object, path })
}

/// A relative path of plain names, none of them `.git`.
fn safe_relative(path: &Path) -> bool {
    path.components().all(|component| match component {
        Component::Normal(name) => !name.eq_ignore_ascii_case(".git"),
        _ => false,
    }) && path.components().next().is_some()
}

/// Whether a symbolic link at `link` (relative to the snapshot) pointing at
/// `target` stays inside the snapshot, judged on the names alone.
fn stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: usize = link.components().count().saturating_sub(1);
    for component in target.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(less) => depth = less,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Writes every entry's content under `root`, reading the objects with one
/// `git cat-file --batch`.
fn write_entries(repository: &Path, root: &Path, entries: &[Entry]) -> Result<(), GitError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repository)
        .args(["cat-file", "--batch"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(GitError::Spawn)?;
    let mut stdin = child.stdin.take().ok_or_else(|| {
        failed(
            repository,
            "no input to git cat-file",
            &std::io::Error::other("closed"),
        )
    })?;
    let requests: Vec<u8> = entries
        .iter()
        .flat_map(|entry| format!("{}\n", entry.object).into_bytes())
        .collect();
    // Written from another thread, so neither side waits for the other.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&requests);
    });
    let stdout = child.stdout.take().ok_or_else(|| {
        failed(
            repository,
            "no output from git cat-file",
            &std::io::Error::other("closed"),
        )
    })?;
    let mut reader = BufReader::new(stdout);
    let result = entries
        .iter()
        .try_for_each(|entry| write_entry(&mut reader, root, entry))
        .map_err(|error| failed(repository, "cannot write the snapshot", &error));
    drop(reader);
    let _ = writer.join();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Reads one object from the batch and writes it as `entry`.
fn write_entry(reader: &mut impl BufRead, root: &Path, entry: &Entry) -> std::io::Result<()> {
    let mut header = String::new();
    reader.read_line(&mut header)?;
    let size: usize = header
        .split(' ')
        .nth(2)
        .and_then(|size| size.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("unexpected object header `{header}`")))?;
    let mut content = vec![0; size];
    reader.read_exact(&mut content)?;
    let mut newline = [0; 1];
    reader.read_exact(&mut newline)?;
    let path = root.join(&entry.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match entry.kind {
        EntryKind::File { executable } => {
            std::fs::write(&path, &content)?;
            #[cfg(unix)]
            if executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
            #[cfg(not(unix))]
            let _ = executable;
        }
        EntryKind::Symlink => {
            let target = PathBuf::from(String::from_utf8_lossy(&content).into_owned());
            if stays_inside(&entry.path, &target) {
                #[cfg(unix)]
                std::os::unix::fs::symlink(&target, &path)?;
            }
        }
    }
    Ok(())
}

fn failed(directory: &Path, what: &str, error: &std::io::Error) -> GitError {
    GitError::Failed {
        command: "cat-file --batch".to_owned(),
        directory: directory.to_owned(),
        message: format!("{what}: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worktree::test_support::repository;

    fn commit_all(root: &Path) {
        git(root, &["add", "--all"], None).expect("add");
        git(root, &["commit", "--quiet", "-m", "more"], None).expect("commit");
    }

    #[test]
    fn a_snapshot_holds_the_tracked_files_and_nothing_else() {
        let directory = repository();
        let root = directory.path();
        std::fs::create_dir_all(root.join(".ralph")).expect("mkdir");
        std::fs::write(root.join(".ralph/.gitignore"), "approvals.json\n").expect("write");
        std::fs::write(root.join(".ralph/approvals.json"), "{}").expect("write");
        std::fs::write(root.join("untracked.txt"), "not committed").expect("write");
        commit_all(root);
        std::fs::write(root.join("src/lib.rs"), "changed but not committed").expect("write");
        let snapshot = Snapshot::of(root, "HEAD").expect("snapshot");
        let view = snapshot.path();
        assert!(!view.starts_with(root));
        assert_eq!(
            std::fs::read_to_string(view.join("src/lib.rs")).expect("read"),
            "pub fn one() -> u32 {\n    1\n}\n"
        );
        assert!(view.join(".gitignore").is_file());
        assert!(view.join("untracked.txt").is_file(), "committed above");
        assert!(!view.join(".git").exists());
        assert!(!view.join(".ralph/approvals.json").exists());
        assert_eq!(snapshot.tree(), tree_of(root, "HEAD").expect("tree"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_and_a_link_leading_outside_are_not_in_the_snapshot() {
        let directory = repository();
        let root = directory.path();
        std::os::unix::fs::symlink("/etc/passwd", root.join("absolute")).expect("link");
        std::os::unix::fs::symlink("../../outside", root.join("src/escape")).expect("link");
        std::os::unix::fs::symlink("lib.rs", root.join("src/inside")).expect("link");
        commit_all(root);
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::S_IRWXU).expect("fifo");
        let snapshot = Snapshot::of(root, "HEAD").expect("snapshot");
        let view = snapshot.path();
        assert!(view.join("absolute").symlink_metadata().is_err());
        assert!(view.join("src/escape").symlink_metadata().is_err());
        assert!(view.join("fifo").symlink_metadata().is_err());
        assert_eq!(
            std::fs::read_to_string(view.join("src/inside")).expect("read"),
            "pub fn one() -> u32 {\n    1\n}\n"
        );
    }

    #[test]
    fn links_are_judged_by_where_their_names_lead() {
        assert!(stays_inside(Path::new("a/link"), Path::new("../b")));
        assert!(stays_inside(Path::new("link"), Path::new("./b/c")));
        assert!(!stays_inside(Path::new("link"), Path::new("../b")));
        assert!(!stays_inside(Path::new("a/link"), Path::new("../../b")));
        assert!(!stays_inside(Path::new("link"), Path::new("/etc/passwd")));
        assert!(!safe_relative(Path::new(".git/config")));
        assert!(!safe_relative(Path::new("sub/.GIT/config")));
        assert!(safe_relative(Path::new("sub/.github/x")));
    }

    #[test]
    fn a_submodule_entry_is_left_out() {
        let record = b"160000 commit 0123456789012345678901234567890123456789\tvendor/lib";
        assert_eq!(parse_entry(record), None);
        let record = b"100755 blob 0123456789012345678901234567890123456789\tbin/run";
        assert_eq!(
            parse_entry(record).map(|entry| entry.kind),
            Some(EntryKind::File { executable: true })
        );
    }
}
