//! Loading a component: compile (or read from the cache), read the contract
//! version it was built against, check it implements the expected world,
//! link it, pre-instantiate it once.

use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

use crate::bindings;
use crate::cache::{CacheOutcome, ComponentCache};
use crate::config::World;
use crate::contract::{self, ContractVersion, Interface};
use crate::error::PluginError;
use crate::sandbox::SandboxState;

/// One linker per world, built once per runtime, offering the world's
/// imports under the names of every supported contract version.
pub(crate) struct Linkers {
    bidder: Linker<SandboxState>,
    specialist: Linker<SandboxState>,
    check: Linker<SandboxState>,
}

impl Linkers {
    pub fn new(engine: &Engine) -> Result<Self, PluginError> {
        let build = |world| {
            linker_for(engine, world).map_err(|error| PluginError::Engine(error.to_string()))
        };
        Ok(Self {
            bidder: build(World::Bidder)?,
            specialist: build(World::Specialist)?,
            check: build(World::Check)?,
        })
    }

    pub fn get(&self, world: World) -> &Linker<SandboxState> {
        match world {
            World::Bidder => &self.bidder,
            World::Specialist => &self.specialist,
            World::Check => &self.check,
        }
    }
}

fn linker_for(engine: &Engine, world: World) -> wasmtime::Result<Linker<SandboxState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    for version in ContractVersion::SUPPORTED {
        bindings::add_imports(&mut linker, world, version)?;
    }
    Ok(linker)
}

/// The host interfaces a world may import, besides WASI, in every version.
pub fn world_imports(world: World) -> &'static [Interface] {
    match world {
        World::Bidder | World::Specialist => &[
            Interface::Types,
            Interface::Log,
            Interface::Repository,
            Interface::Consult,
            Interface::Model,
            Interface::Aws,
            Interface::Sentry,
            Interface::Alpaca,
            Interface::HttpGet,
        ],
        World::Check => &[
            Interface::Types,
            Interface::Log,
            Interface::Repository,
            Interface::Model,
        ],
    }
}

/// Compiles `bytes`, through the cache when there is one.
pub(crate) fn compile(
    engine: &Engine,
    cache: Option<&ComponentCache>,
    path: &Path,
    bytes: &[u8],
) -> Result<(Component, CacheOutcome), PluginError> {
    let compiled = match cache {
        Some(cache) => cache.load_or_compile(engine, bytes),
        None => Component::new(engine, bytes).map(|component| (component, CacheOutcome::Uncached)),
    };
    compiled.map_err(|error| PluginError::Load {
        path: path.to_owned(),
        reason: format!("not a valid WebAssembly component: {error}"),
    })
}

/// Names of the component's exports and imports.
pub fn exports_and_imports(engine: &Engine, component: &Component) -> (Vec<String>, Vec<String>) {
    let component_type = component.component_type();
    let exports = component_type
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let imports = component_type
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    (exports, imports)
}

/// Whether an import name is something `world` provides in `version`.
pub fn import_allowed(world: World, version: ContractVersion, import: &str) -> bool {
    if import.starts_with("wasi:") {
        return true;
    }
    world_imports(world)
        .iter()
        .any(|interface| import == version.interface(*interface))
}

/// Checks the component's exports and imports against `world` and returns
/// the contract version it was built against, naming the file and
/// everything missing or unexpected. A component that lacks the world's
/// exports is refused for that, whatever version its imports name.
pub(crate) fn check_world(
    engine: &Engine,
    component: &Component,
    world: World,
    path: &Path,
) -> Result<ContractVersion, PluginError> {
    let (exports, imports) = exports_and_imports(engine, component);
    let mut problems: Vec<String> = world
        .required_exports()
        .iter()
        .filter(|required| !exports.iter().any(|export| export == *required))
        .map(|missing| format!("export `{missing}`"))
        .collect();
    let version = contract::detect(&imports);
    if let Ok(version) = version {
        problems.extend(
            imports
                .iter()
                .filter(|import| !import_allowed(world, version, import))
                .map(|import| format!("host support for its import `{import}`")),
        );
    }
    if !problems.is_empty() {
        return Err(PluginError::WorldMismatch {
            path: path.to_owned(),
            world: world.name().to_owned(),
            missing: problems.join(", "),
        });
    }
    version.map_err(|error| PluginError::Contract {
        path: path.to_owned(),
        error,
    })
}

/// Links the component and pre-instantiates it.
pub(crate) fn pre_instantiate(
    linkers: &Linkers,
    component: &Component,
    world: World,
    path: &Path,
) -> Result<InstancePre<SandboxState>, PluginError> {
    linkers
        .get(world)
        .instantiate_pre(component)
        .map_err(|error| PluginError::WorldMismatch {
            path: path.to_owned(),
            world: world.name().to_owned(),
            missing: format!("a matching import: {error:#}"),
        })
}
