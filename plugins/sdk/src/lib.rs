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

#[cfg(any(
    all(feature = "bidder", feature = "specialist"),
    all(feature = "bidder", feature = "check"),
    all(feature = "specialist", feature = "check"),
))]
compile_error!("enable exactly one of the `bidder`, `specialist` and `check` features");

// Lets the generated code name this crate the same way inside and outside it.
extern crate self as ralph_plugin_sdk;

#[doc(hidden)]
pub use wit_bindgen;

/// The generated bindings for the enabled world. Plugins should not need them.
#[cfg(feature = "bidder")]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/0.1.0",
        world: "ralph:plugin/bidder@0.1.0",
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
        path: "../../wit/0.1.0",
        world: "ralph:plugin/specialist@0.1.0",
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
        path: "../../wit/0.1.0",
        world: "ralph:plugin/check@0.1.0",
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

/// Something a plugin may do beyond computing on its inputs. Ask for it in
/// the plugin's trait; the user must grant it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Read files and list directories through [`host::read_file`] and
    /// [`host::list_files`].
    Repository,
    /// Ask specialists through `host::consult` (bidders and specialists).
    Consult,
    /// Call a language model through [`host::complete`].
    Complete,
    /// Read ECS services and CloudWatch Logs through `aws` (bidders and
    /// specialists; the user approves it with `ralph permissions`).
    Aws,
    /// Read a Sentry project's issues and events through `sentry`.
    Sentry,
    /// Read an Alpaca account, positions and orders through `alpaca`.
    Alpaca,
    /// GET allow-listed URLs through `http::get`.
    HttpGet,
}

impl Capability {
    /// The capability's name in the contract.
    pub fn name(self) -> &'static str {
        match self {
            Self::Repository => "repository",
            Self::Consult => "consult",
            Self::Complete => "complete",
            Self::Aws => "aws",
            Self::Sentry => "sentry",
            Self::Alpaca => "alpaca",
            Self::HttpGet => "http-get",
        }
    }
}
