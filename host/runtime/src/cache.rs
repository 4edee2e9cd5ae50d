//! The compiled-component cache.
//!
//! Entries live in a directory the caller chooses (Ralph uses a git-ignored
//! one), named by the SHA-256 of the component bytes together with the
//! engine's precompile compatibility hash, so a new wasmtime or a different
//! configuration never reads an old entry. Each entry starts with the SHA-256
//! of its payload: a corrupt or truncated entry is ignored and rebuilt.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const DIGEST_BYTES: usize = 32;

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
        if let Some(component) = read_entry(engine, &path) {
            return Ok((component, CacheOutcome::Hit));
        }
        let component = Component::new(engine, bytes)?;
        match component.serialize() {
            Ok(serialized) => {
                if let Err(error) = write_entry(&path, &serialized) {
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

fn read_entry(engine: &Engine, path: &Path) -> Option<Component> {
    let contents = fs::read(path).ok()?;
    if contents.len() < DIGEST_BYTES {
        tracing::warn!(path = %path.display(), "Ignoring a truncated cache entry");
        return None;
    }
    let (digest, payload) = contents.split_at(DIGEST_BYTES);
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
    // with the same compatibility hash (it is part of the entry's name) and
    // its SHA-256 matched the digest written with it, so it is not a corrupt
    // or truncated artifact. The cache directory is trusted like the binary:
    // whoever can write it could replace Ralph itself.
    unsafe { Component::deserialize(engine, payload) }
}

fn write_entry(path: &Path, serialized: &[u8]) -> std::io::Result<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(directory)?;
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    temporary.write_all(Sha256::digest(serialized).as_slice())?;
    temporary.write_all(serialized)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}
