//! The compiled-component cache.
//!
//! A cache entry is native code that Ralph loads without compiling, so the
//! cache must be written by Ralph alone: it lives outside every repository,
//! in the user's cache directory ([`user_directory`]), never in anything a
//! patch, a merge or a plugin can write. Entries are named by the SHA-256 of
//! the component bytes together with the engine's precompile compatibility
//! hash, so a new wasmtime or a different configuration never reads an old
//! entry. Each entry starts with the SHA-256 of the component it was
//! compiled from, which must equal the digest of the component being
//! loaded, and the SHA-256 of its payload: an entry for another component,
//! or a corrupt or truncated one, is ignored and rebuilt.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const DIGEST_BYTES: usize = 32;
/// An entry's header: the component's digest, then the payload's.
const HEADER_BYTES: usize = 2 * DIGEST_BYTES;

/// The variable that moves the cache directory (an absolute path).
pub const CACHE_DIRECTORY_VARIABLE: &str = "RALPH_CACHE_DIR";

/// Where Ralph caches compiled components for the user: `$RALPH_CACHE_DIR`,
/// else `$XDG_CACHE_HOME/ralph/plugins`, else `$HOME/.cache/ralph/plugins`.
/// `None` (compile every time, with a warning) when none is set, when the
/// directory would lie inside `repository` — anything there could be
/// written by a change Ralph commits — or when it cannot be made private to
/// the user.
pub fn user_directory(repository: &Path) -> Option<PathBuf> {
    directory_from(|name| std::env::var_os(name), repository)
}

/// [`user_directory`] with the environment read through `environment`.
fn directory_from(
    environment: impl Fn(&str) -> Option<std::ffi::OsString>,
    repository: &Path,
) -> Option<PathBuf> {
    let variable = |name: &str| {
        environment(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    let directory = variable(CACHE_DIRECTORY_VARIABLE)
        .or_else(|| variable("XDG_CACHE_HOME").map(|base| base.join("ralph").join("plugins")))
        .or_else(|| variable("HOME").map(|home| home.join(".cache/ralph/plugins")))?;
    match private_directory(&directory, repository) {
        Ok(()) => Some(directory),
        Err(reason) => {
            tracing::warn!(directory = %directory.display(), %reason, "Not caching compiled plugins");
            None
        }
    }
}

/// `path` with its deepest existing ancestor resolved (links followed), so
/// a directory that does not exist yet is judged by where it would be.
fn resolved(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    while let Some(parent) = existing.parent() {
        if let Ok(canonical) = existing.canonicalize() {
            return rest
                .iter()
                .rev()
                .fold(canonical, |path, name| path.join(name));
        }
        if let Some(name) = existing.file_name() {
            rest.push(name.to_owned());
        }
        existing = parent;
    }
    path.to_owned()
}

/// Creates `directory` if needed and checks that only the user can write
/// it and that it lies outside `repository`.
fn private_directory(directory: &Path, repository: &Path) -> Result<(), String> {
    if let Ok(repository) = repository.canonicalize()
        && resolved(directory).starts_with(&repository)
    {
        return Err(format!(
            "it is inside the repository {}, where a change could write it",
            repository.display()
        ));
    }
    fs::create_dir_all(directory).map_err(|error| format!("cannot create it: {error}"))?;
    let canonical = directory
        .canonicalize()
        .map_err(|error| format!("cannot resolve it: {error}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let metadata = fs::metadata(&canonical).map_err(|error| error.to_string())?;
        if metadata.uid() != nix::unistd::Uid::effective().as_raw() {
            return Err("it belongs to another user".to_owned());
        }
        if metadata.mode() & 0o022 != 0 {
            fs::set_permissions(&canonical, fs::Permissions::from_mode(0o700))
                .map_err(|error| format!("others may write it and it cannot be fixed: {error}"))?;
        }
    }
    Ok(())
}

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Read from the cache without compiling.
    Hit,
    /// Compiled, and written to the cache.
    Compiled,
    /// Compiled without a cache.
    Uncached,
}

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    directory: PathBuf,
}

/// Feeds `Hash` output into SHA-256, so the engine's compatibility hash can
/// be part of a stable file name.
struct DigestHasher(Sha256);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl ComponentCache {
    /// A cache in `directory`, created on first write.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: directory.into(),
        }
    }

    /// The cache directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The file an entry for `bytes` lives in.
    pub fn entry_path(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut hasher = DigestHasher(Sha256::new());
        hasher.write(bytes);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let digest = hasher.0.finalize();
        let name: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        self.directory.join(format!("{name}.cwasm"))
    }

    /// Loads the compiled component for `bytes`, compiling and storing it when
    /// there is no valid entry. Cache failures are logged, never fatal.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry_path(engine, bytes);
        let source = Sha256::digest(bytes);
        if let Some(component) = read_entry(engine, &path, &source) {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, bytes)?;
        match component.serialize() {
            Ok(serialized) => {
                if let Err(error) = write_entry(&path, &source, &serialized) {
                    tracing::warn!(path = %path.display(), %error, "Could not write a compiled component to the cache");
                }
            }
            Err(error) => {
                tracing::warn!(%error, "Could not serialize a compiled component");
            }
        }
        Ok((component, CacheOutcome::Compiled))
    }
}

/// The entry at `path`, if it was compiled from the component whose
/// SHA-256 is `source` and is intact.
fn read_entry(engine: &Engine, path: &Path, source: &[u8]) -> Option<Component> {
    let metadata = fs::symlink_metadata(path).ok()?;
    if !metadata.is_file() {
        tracing::warn!(path = %path.display(), "Ignoring a cache entry that is not a regular file");
        return None;
    }
    let contents = fs::read(path).ok()?;
    if contents.len() < HEADER_BYTES {
        tracing::warn!(path = %path.display(), "Ignoring a truncated cache entry");
        return None;
    }
    let (header, payload) = contents.split_at(HEADER_BYTES);
    let (compiled_from, digest) = header.split_at(DIGEST_BYTES);
    if compiled_from != source {
        tracing::warn!(path = %path.display(), "Ignoring a cache entry compiled from another component");
        return None;
    }
    if Sha256::digest(payload).as_slice() != digest {
        tracing::warn!(path = %path.display(), "Ignoring a corrupt cache entry");
        return None;
    }
    match deserialize(engine, payload) {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "Ignoring an unusable cache entry");
            None
        }
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, payload: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `payload` was produced by `Component::serialize` for an engine
    // with the same compatibility hash (it is part of the entry's name),
    // from the component being loaded (its digest is in the header), and its
    // SHA-256 matched the digest written with it, so it is not a corrupt or
    // truncated artifact. The cache directory is outside every repository
    // and private to the user (`user_directory`): only Ralph writes it, and
    // whoever else could write it could replace Ralph itself.
    unsafe { Component::deserialize(engine, payload) }
}

fn write_entry(path: &Path, source: &[u8], serialized: &[u8]) -> std::io::Result<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(directory)?;
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(source)?;
    temporary.write_all(Sha256::digest(serialized).as_slice())?;
    temporary.write_all(serialized)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(name: &'static str, value: PathBuf) -> impl Fn(&str) -> Option<std::ffi::OsString> {
        move |asked| (asked == name).then(|| value.clone().into_os_string())
    }

    #[test]
    fn the_cache_lives_in_the_users_cache_directory() -> std::io::Result<()> {
        let home = tempfile::tempdir()?;
        let repository = tempfile::tempdir()?;
        let directory = directory_from(only("HOME", home.path().to_owned()), repository.path());
        assert_eq!(directory, Some(home.path().join(".cache/ralph/plugins")));
        Ok(())
    }

    #[test]
    fn a_cache_directory_inside_the_repository_is_refused() -> std::io::Result<()> {
        let repository = tempfile::tempdir()?;
        let inside = repository.path().join(".ralph/cache/plugins");
        let directory = directory_from(
            only(CACHE_DIRECTORY_VARIABLE, inside.clone()),
            repository.path(),
        );
        assert_eq!(directory, None);
        Ok(())
    }

    #[test]
    fn a_relative_cache_directory_is_ignored() -> std::io::Result<()> {
        let repository = tempfile::tempdir()?;
        let directory = directory_from(
            only(CACHE_DIRECTORY_VARIABLE, PathBuf::from("relative/cache")),
            repository.path(),
        );
        assert_eq!(directory, None);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_directory_others_may_write_is_made_private() -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let repository = tempfile::tempdir()?;
        let cache = tempfile::tempdir()?;
        fs::set_permissions(cache.path(), fs::Permissions::from_mode(0o777))?;
        let directory = directory_from(
            only(CACHE_DIRECTORY_VARIABLE, cache.path().to_owned()),
            repository.path(),
        );
        assert_eq!(directory.as_deref(), Some(cache.path()));
        let mode = fs::metadata(cache.path())?.permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        Ok(())
    }
}
