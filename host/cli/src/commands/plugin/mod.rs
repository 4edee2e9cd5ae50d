//! `ralph plugin …`: list, inspect, new.

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ralph_marketplace::Layout;
use ralph_marketplace::layout::find_repository_root;
use ralph_runtime::{PluginError, Runtime, RuntimeOptions};

use super::repository;
use crate::cli::PluginCommand;
use crate::exit::{Failure, Outcome};

mod inspect;
mod list;
mod new;
mod table;

pub fn run(explicit_repository: Option<PathBuf>, command: PluginCommand) -> Outcome {
    match command {
        PluginCommand::List(flag) => {
            list::run(&Layout::new(repository(explicit_repository)?), flag.json)
        }
        PluginCommand::Inspect { file, json } => {
            let repository = optional_repository(explicit_repository)?;
            inspect::run(&file, cache_of(repository.as_deref()), json.json)
        }
        PluginCommand::New {
            kind,
            name,
            dir,
            sdk,
            json,
        } => new::run(kind, &name, dir, sdk, json.json),
    }
}

/// Where compiled components are cached: the user's cache directory,
/// outside `repository` (or the current directory) and every repository.
fn cache_of(repository: Option<&Path>) -> Option<PathBuf> {
    let current = std::env::current_dir().ok();
    let outside = repository.or(current.as_deref())?;
    ralph_runtime::cache::user_directory(outside)
}

/// `--repo` if given (it must be a directory), else the git root above the
/// current directory if there is one.
fn optional_repository(explicit: Option<PathBuf>) -> Result<Option<PathBuf>, Failure> {
    if explicit.is_some() {
        return repository(explicit).map(Some);
    }
    Ok(std::env::current_dir()
        .ok()
        .and_then(|current| find_repository_root(&current)))
}

/// A plugin runtime whose plugins see no files: listing and inspecting run
/// only their `metadata`.
fn runtime(cache: Option<PathBuf>) -> Result<Runtime, Failure> {
    let mut options = RuntimeOptions::without_view();
    if let Some(cache) = cache {
        options = options.with_cache(cache);
    }
    Runtime::new(options).map_err(Failure::problem)
}

/// Runs `future` to completion on a single-threaded tokio runtime.
fn block_on<T>(future: impl Future<Output = T>) -> Result<T, Failure> {
    let executor = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::problem)?;
    Ok(executor.block_on(future))
}

/// Whether a plugin error is the component's fault (bad input) or the
/// host's (the engine or the sandbox could not be set up).
fn is_host_failure(error: &PluginError) -> bool {
    matches!(error, PluginError::Engine(_) | PluginError::Sandbox { .. })
}

/// The exit a plugin error ends `inspect` with.
fn plugin_failure(error: PluginError) -> Failure {
    if is_host_failure(&error) {
        Failure::problem(error)
    } else {
        Failure::bad_input(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    #[test]
    fn a_broken_component_is_bad_input_and_a_broken_host_a_problem() {
        let load = PluginError::Load {
            path: "p.wasm".into(),
            reason: "not a valid WebAssembly component".to_owned(),
        };
        assert_eq!(plugin_failure(load).exit, Exit::BadInput);
        let trap = PluginError::Trap {
            plugin: "p".to_owned(),
            message: "unreachable".to_owned(),
        };
        assert_eq!(plugin_failure(trap).exit, Exit::BadInput);
        let engine = PluginError::Engine("no memory".to_owned());
        assert_eq!(plugin_failure(engine).exit, Exit::Problems);
    }

    #[test]
    fn the_cache_is_never_inside_the_repository() {
        let repository = tempfile::tempdir().expect("temp dir");
        if let Some(cache) = cache_of(Some(repository.path())) {
            assert!(!cache.starts_with(repository.path()), "{}", cache.display());
        }
    }
}
