//! Write Ralph plugins in Rust.
//!
//! A plugin is a `cdylib` crate built for `wasm32-wasip2` that depends on this
//! crate with exactly one world feature (`bidder`, `specialist` or `check`),
//! implements the matching trait and exports it with the matching macro:
//!
//! ```text
//! use ralph_plugin_sdk::{Bidder, IssueSpec, PluginError, Proposal, Requirement, RoundContext};
//!
//! struct Minimal;
//!
//! impl Bidder for Minimal {
//!     fn propose(
//!         issue: IssueSpec,
//!         requirements: Vec<Requirement>,
//!         _context: RoundContext,
//!     ) -> Result<Proposal, PluginError> {
//!         Ok(ralph_plugin_sdk::proposal(format!("Do {}", issue.title), &requirements))
//!     }
//! }
//!
//! ralph_plugin_sdk::export_bidder!(Minimal);
//! ```
//!
//! The name, version and description in the plugin's metadata come from its
//! `Cargo.toml`. The generated bindings stay hidden in [`bindings`].
//!
//! The SDK builds plugins against `ralph:plugin@0.2.0` ([`CONTRACT_VERSION`]):
//! a bidder's `RoundContext` carries the user's `steering` messages, and
//! capabilities are the contract's `Capability` enum. Ralph keeps running
//! plugins built against older versions.

#[cfg(any(
    all(feature = "bidder", feature = "specialist"),
    all(feature = "bidder", feature = "check"),
    all(feature = "specialist", feature = "check"),
))]
compile_error!("enable exactly one of the `bidder`, `specialist` and `check` features");

/// The version of the `ralph:plugin` contract this SDK builds plugins against.
pub const CONTRACT_VERSION: &str = "0.2.0";

// Lets the generated code name this crate the same way inside and outside it.
extern crate self as ralph_plugin_sdk;

#[doc(hidden)]
pub use wit_bindgen;

/// The generated bindings for the enabled world. Plugins should not need them.
#[cfg(feature = "bidder")]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.2.0",
        world: "ralph:plugin/bidder@0.2.0",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "ralph_plugin_sdk::bindings",
        runtime_path: "ralph_plugin_sdk::wit_bindgen::rt",
    });
}

/// The generated bindings for the enabled world. Plugins should not need them.
#[cfg(feature = "specialist")]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.2.0",
        world: "ralph:plugin/specialist@0.2.0",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "ralph_plugin_sdk::bindings",
        runtime_path: "ralph_plugin_sdk::wit_bindgen::rt",
    });
}

/// The generated bindings for the enabled world. Plugins should not need them.
#[cfg(feature = "check")]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.2.0",
        world: "ralph:plugin/check@0.2.0",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "ralph_plugin_sdk::bindings",
        runtime_path: "ralph_plugin_sdk::wit_bindgen::rt",
    });
}

pub mod diff;
#[cfg(any(feature = "bidder", feature = "specialist"))]
mod integrations;
#[cfg(any(feature = "bidder", feature = "specialist"))]
pub use integrations::{IntegrationError, alpaca, aws, http, sentry};
#[cfg(feature = "bidder")]
pub mod model_bidder;
#[cfg(any(feature = "bidder", feature = "specialist", feature = "check"))]
mod plugin;
pub mod reply;
pub mod settings;
#[cfg(any(feature = "bidder", feature = "specialist", feature = "check"))]
pub use plugin::*;
