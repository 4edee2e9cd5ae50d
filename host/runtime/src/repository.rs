//! The `repository` host import: read-only file access confined to the
//! call's view, a clean checkout of the round's commit. Needs the
//! `repository` capability.
//!
//! Paths are relative, may not contain `..`, and after resolving symbolic
//! links must still lie inside the root. Only regular files are read and
//! only directories listed: a FIFO or a device is refused unopened.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::capabilities::{self, Capability};
use crate::sandbox::CallContext;
use crate::types::GuestError;

/// The largest file `read-file` returns.
pub const READ_LIMIT_BYTES: u64 = 4 * 1024 * 1024;
/// The most entries `list-files` returns.
pub const LIST_LIMIT: usize = 10_000;

/// `read-file` for a plugin call, after the capability check.
pub(crate) fn read_file_for(call: &CallContext, relative: &str) -> Result<String, GuestError> {
    read_file(view_of(call)?, relative)
}

/// `list-files` for a plugin call, after the capability check.
pub(crate) fn list_files_for(
    call: &CallContext,
    relative: &str,
) -> Result<Vec<String>, GuestError> {
    list_files(view_of(call)?, relative)
}

/// The call's view after the capability check; a call without one (loading
/// a plugin, `plugin inspect`) reads nothing.
fn view_of(call: &CallContext) -> Result<&Path, GuestError> {
    capabilities::authorize(
        call.plugin.who(),
        &call.plugin.capabilities,
        Capability::Repository,
    )
    .map_err(|denied| GuestError::Denied(denied.0.name().to_owned()))?;
    call.root.as_deref().ok_or_else(|| {
        GuestError::Denied("this call has no repository view (only rounds do)".to_owned())
    })
}

/// Resolves a plugin-supplied relative path inside `root`.
pub fn resolve(root: &Path, relative: &str) -> Result<PathBuf, GuestError> {
    let candidate = Path::new(relative);
    for component in candidate.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(GuestError::InvalidRequest(format!(
                    "`{relative}` must be relative to the repository root without `..`"
                )));
            }
        }
    }
    let canonical_root = root
        .canonicalize()
        .map_err(|error| GuestError::Failed(format!("the repository is unavailable: {error}")))?;
    let resolved = canonical_root
        .join(candidate)
        .canonicalize()
        .map_err(|_| GuestError::NotFound(relative.to_owned()))?;
    if !resolved.starts_with(&canonical_root) {
        return Err(GuestError::Denied(format!(
            "`{relative}` resolves outside the repository"
        )));
    }
    Ok(resolved)
}

/// Reads a UTF-8 text file below `root`.
pub fn read_file(root: &Path, relative: &str) -> Result<String, GuestError> {
    let path = resolve(root, relative)?;
    let metadata = fs::metadata(&path).map_err(|error| GuestError::Failed(error.to_string()))?;
    if !metadata.is_file() {
        return Err(GuestError::InvalidRequest(format!(
            "`{relative}` is not a file"
        )));
    }
    if metadata.len() > READ_LIMIT_BYTES {
        return Err(GuestError::LimitExceeded(format!(
            "`{relative}` is larger than {READ_LIMIT_BYTES} bytes"
        )));
    }
    // Opened without blocking, so a FIFO swapped in after the check cannot
    // hang the host, and checked again on the open file.
    let mut file = open_regular(&path).map_err(|error| GuestError::Failed(error.to_string()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut file, READ_LIMIT_BYTES + 1),
        &mut bytes,
    )
    .map_err(|error| GuestError::Failed(error.to_string()))?;
    if bytes.len() as u64 > READ_LIMIT_BYTES {
        return Err(GuestError::LimitExceeded(format!(
            "`{relative}` is larger than {READ_LIMIT_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| GuestError::InvalidRequest(format!("`{relative}` is not UTF-8 text")))
}

/// Opens `path` for reading without following a final symbolic link and
/// without blocking, and only if the open file is a regular file.
fn open_regular(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK,
    );
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// Lists a directory below `root`, sorted, directories ending in `/`.
pub fn list_files(root: &Path, relative: &str) -> Result<Vec<String>, GuestError> {
    let path = resolve(root, relative)?;
    let entries = fs::read_dir(&path).map_err(|error| GuestError::Failed(error.to_string()))?;
    let mut names = Vec::new();
    for entry in entries.take(LIST_LIMIT) {
        let entry = entry.map_err(|error| GuestError::Failed(error.to_string()))?;
        let mut name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            name.push('/');
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> std::io::Result<tempfile::TempDir> {
        let directory = tempfile::tempdir()?;
        fs::create_dir(directory.path().join("src"))?;
        fs::write(directory.path().join("src/lib.rs"), "pub fn f() {}\n")?;
        fs::write(directory.path().join("README.md"), "# Hello\n")?;
        Ok(directory)
    }

    #[test]
    fn files_inside_the_repository_are_readable() -> std::io::Result<()> {
        let root = repository()?;
        assert_eq!(
            read_file(root.path(), "src/lib.rs"),
            Ok("pub fn f() {}\n".to_owned())
        );
        assert_eq!(
            list_files(root.path(), ""),
            Ok(vec!["README.md".to_owned(), "src/".to_owned()])
        );
        Ok(())
    }

    #[test]
    fn parent_and_absolute_paths_are_refused() -> std::io::Result<()> {
        let root = repository()?;
        assert!(matches!(
            read_file(root.path(), "../etc/passwd"),
            Err(GuestError::InvalidRequest(_))
        ));
        assert!(matches!(
            read_file(root.path(), "/etc/passwd"),
            Err(GuestError::InvalidRequest(_))
        ));
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_pointing_outside_is_refused() -> std::io::Result<()> {
        let root = repository()?;
        let outside = tempfile::tempdir()?;
        fs::write(outside.path().join("secret"), "secret")?;
        std::os::unix::fs::symlink(outside.path(), root.path().join("escape"))?;
        assert!(matches!(
            read_file(root.path(), "escape/secret"),
            Err(GuestError::Denied(_))
        ));
        Ok(())
    }

    #[test]
    fn a_missing_file_is_not_found() -> std::io::Result<()> {
        let root = repository()?;
        assert_eq!(
            read_file(root.path(), "missing.txt"),
            Err(GuestError::NotFound("missing.txt".to_owned()))
        );
        Ok(())
    }
}
