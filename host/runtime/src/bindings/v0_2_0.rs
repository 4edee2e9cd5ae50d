//! Bindings for `ralph:plugin@0.2.0` and their conversions to host types.
//!
//! 0.2.0 changed only `types`: the round context's `steering` and the
//! `capability` enum. Every host import is 0.1.0's generated interface,
//! reused through `with`, so it keeps its one implementation.

use crate::capabilities::{Capability, UnknownCapability};
use crate::types as host;

/// Generates the 0.2.0 world `$world`, reusing 0.1.0's generated module
/// for each host import it names (`bidder_imports` or `check_imports`) and
/// the `with` entries given after them.
macro_rules! world_on_0_1_0_imports {
    ($world:literal, bidder_imports $(, $key:literal: $path:path)*) => {
        world_on_0_1_0_imports!(@ $world, [
            "ralph:plugin/log": log,
            "ralph:plugin/repository": repository,
            "ralph:plugin/consult": consult,
            "ralph:plugin/model": model,
            "ralph:plugin/aws": aws,
            "ralph:plugin/sentry": sentry,
            "ralph:plugin/alpaca": alpaca,
            "ralph:plugin/http-get": http_get
        ] $(, $key: $path)*);
    };
    ($world:literal, check_imports $(, $key:literal: $path:path)*) => {
        world_on_0_1_0_imports!(@ $world, [
            "ralph:plugin/log": log,
            "ralph:plugin/repository": repository,
            "ralph:plugin/model": model
        ] $(, $key: $path)*);
    };
    (@ $world:literal, [$($import:literal: $module:ident),*] $(, $key:literal: $path:path)*) => {
        wasmtime::component::bindgen!({
            path: "../../wit/0.2.0",
            world: $world,
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                $($import: crate::bindings::v0_1_0::bidder::ralph::plugin::$module,)*
                $($key: $path,)*
            },
        });
    };
}

/// The `bidder` world; owns the 0.2.0 `types`.
pub mod bidder {
    world_on_0_1_0_imports!("ralph:plugin/bidder@0.2.0", bidder_imports);
}

/// The `specialist` world, sharing the bidder world's `types`.
pub mod specialist {
    world_on_0_1_0_imports!(
        "ralph:plugin/specialist@0.2.0",
        bidder_imports,
        "ralph:plugin/types": super::bidder::ralph::plugin::types
    );
}

/// The `check` world, sharing the bidder world's `types`.
pub mod check {
    world_on_0_1_0_imports!(
        "ralph:plugin/check@0.2.0",
        check_imports,
        "ralph:plugin/types": super::bidder::ralph::plugin::types
    );
}

pub use bidder::ralph::plugin::types as wit;

convert_unchanged_types!(wit, round_context_added: [steering]);

/// The plugin's metadata: 0.2.0 names capabilities with the `capability`
/// enum, so every one is known.
pub(crate) fn metadata(metadata: wit::Metadata) -> Result<host::Metadata, UnknownCapability> {
    Ok(host::Metadata {
        capabilities: metadata
            .capabilities
            .into_iter()
            .map(Capability::from)
            .collect(),
        name: metadata.name,
        version: metadata.version,
        description: metadata.description,
    })
}

impl From<wit::Capability> for Capability {
    fn from(capability: wit::Capability) -> Self {
        match capability {
            wit::Capability::Repository => Self::Repository,
            wit::Capability::Consult => Self::Consult,
            wit::Capability::Complete => Self::Complete,
            wit::Capability::Aws => Self::Aws,
            wit::Capability::Sentry => Self::Sentry,
            wit::Capability::Alpaca => Self::Alpaca,
            wit::Capability::HttpGet => Self::HttpGet,
        }
    }
}
