//! Ralph's plugin runtime.
//!
//! Bidders, specialists and checks are WebAssembly components implementing
//! the `ralph:plugin` WIT contract (`wit/`), built against any version in
//! [`ContractVersion::SUPPORTED`]. This crate loads them, reads which version
//! each was built against, checks they implement the world their
//! configuration names, and calls them in a
//! sandbox: a fresh store per call with a memory cap, a deadline, no
//! environment, no network, no inherited stdio, the repository read-only, and
//! every capability checked in one place ([`capabilities::authorize`]);
//! external integrations (`aws`, `sentry`, `alpaca`, `http-get`) are instead
//! approved, performed and audited by the
//! [`IntegrationHost`](integrations::IntegrationHost) the runtime is given. Any
//! fault becomes a [`PluginError`]; the host carries on.
//!
//! Start with [`Runtime::new`] and [`RuntimeOptions`].

mod bindings;
pub mod cache;
pub mod capabilities;
pub mod config;
mod console;
mod consult;
pub mod contract;
pub mod engine;
pub mod error;
pub mod inspect;
mod integration_imports;
pub mod integrations;
pub mod loader;
mod logging;
mod model;
pub mod provider;
pub mod replay;
pub mod repository;
pub mod runtime;
pub mod sandbox;
pub mod scaffold;
pub mod types;
pub mod validate;
mod world;

pub use cache::{CacheOutcome, ComponentCache};
pub use capabilities::{Capability, CapabilitySet};
pub use config::{Limits, LimitsConfig, PluginConfig, World};
pub use contract::ContractVersion;
pub use error::PluginError;
pub use inspect::Inspection;
pub use provider::{DeterministicProvider, ModelCaller, ModelProvider, ProviderError};
pub use replay::{Recording, RecordingProvider, ReplayProvider};
pub use runtime::{
    BidderPlugin, CheckPlugin, LoadedPlugin, Metered, Outcome, Plugin, ProposalRequest, Runtime,
    RuntimeOptions, SpecialistPlugin,
};
pub use sandbox::PluginIdentity;
pub use types::*;
