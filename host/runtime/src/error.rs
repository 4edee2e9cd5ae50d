//! Every way a plugin call can fail, as one typed error.
//!
//! The loop records any of these as an `error` event for the plugin's turn;
//! none of them stops the host.

use std::path::PathBuf;
use std::time::Duration;

use crate::capabilities::Capability;
use crate::contract::ContractError;
use crate::types::GuestError;

/// A failure while loading or calling a plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The component could not be read, compiled, or linked.
    #[error("cannot load plugin {path}: {reason}")]
    Load {
        /// The component file (or the label of embedded bytes).
        path: PathBuf,
        /// What went wrong, and what to do about it when known.
        reason: String,
    },
    /// The component was built against a contract version this host does
    /// not run.
    #[error("cannot load plugin {path}: {error}")]
    Contract {
        /// The component file (or the label of embedded bytes).
        path: PathBuf,
        /// Which version it names, and which ones this host runs.
        #[source]
        error: ContractError,
    },
    /// The component does not implement the world its configuration names.
    #[error("plugin {path} does not implement the `{world}` world: missing {missing}")]
    WorldMismatch {
        /// The component file.
        path: PathBuf,
        /// The world the configuration expects.
        world: String,
        /// What is missing or has the wrong type.
        missing: String,
    },
    /// The plugin executed an invalid operation and was stopped.
    #[error("plugin {plugin} trapped: {message}")]
    Trap {
        /// The plugin's name.
        plugin: String,
        /// The trap, as wasmtime reports it.
        message: String,
    },
    /// The plugin's Rust code panicked.
    #[error("plugin {plugin} panicked: {message}")]
    Panic {
        /// The plugin's name.
        plugin: String,
        /// The panic message from the plugin's standard error.
        message: String,
    },
    /// The call ran past its deadline.
    #[error("plugin {plugin} ran past its deadline of {deadline:?}")]
    Timeout {
        /// The plugin's name.
        plugin: String,
        /// The configured deadline.
        deadline: Duration,
    },
    /// The plugin tried to use more memory than it is allowed.
    #[error("plugin {plugin} exceeded its memory limit of {limit_bytes} bytes")]
    MemoryExceeded {
        /// The plugin's name.
        plugin: String,
        /// The configured memory cap.
        limit_bytes: usize,
    },
    /// The plugin needed a capability that was not both requested and granted.
    #[error("plugin {plugin} was denied the `{capability}` capability")]
    Denied {
        /// The plugin's name.
        plugin: String,
        /// The capability it was denied.
        capability: Capability,
    },
    /// The plugin returned something that breaks the contract.
    #[error("plugin {plugin} returned invalid output: {reason}")]
    InvalidOutput {
        /// The plugin's name.
        plugin: String,
        /// Which rule the output broke.
        reason: String,
    },
    /// The plugin returned more data than it is allowed to.
    #[error("plugin {plugin} returned {size_bytes} bytes, more than its limit of {limit_bytes}")]
    OutputTooLarge {
        /// The plugin's name.
        plugin: String,
        /// The size of the output.
        size_bytes: usize,
        /// The configured output cap.
        limit_bytes: usize,
    },
    /// The plugin reported a failure of its own.
    #[error("plugin {plugin} failed: {error}")]
    Failed {
        /// The plugin's name.
        plugin: String,
        /// The error it returned.
        error: GuestError,
    },
    /// No plugin with that name is loaded for that world.
    #[error("no {world} named `{name}` is loaded")]
    NotLoaded {
        /// The world searched.
        world: String,
        /// The name asked for.
        name: String,
    },
    /// The sandbox for a call could not be set up.
    #[error("cannot set up the sandbox for plugin {plugin}: {reason}")]
    Sandbox {
        /// The plugin's name.
        plugin: String,
        /// What went wrong.
        reason: String,
    },
    /// The wasmtime engine could not be set up.
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
}

impl PluginError {
    /// The name of the plugin the error concerns, when a call was made.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            Self::Trap { plugin, .. }
            | Self::Panic { plugin, .. }
            | Self::Timeout { plugin, .. }
            | Self::MemoryExceeded { plugin, .. }
            | Self::Denied { plugin, .. }
            | Self::InvalidOutput { plugin, .. }
            | Self::OutputTooLarge { plugin, .. }
            | Self::Failed { plugin, .. }
            | Self::Sandbox { plugin, .. } => Some(plugin),
            Self::Load { .. }
            | Self::Contract { .. }
            | Self::WorldMismatch { .. }
            | Self::NotLoaded { .. }
            | Self::Engine(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_errors_name_their_plugin_and_load_errors_do_not() {
        let timeout = PluginError::Timeout {
            plugin: "slow".to_owned(),
            deadline: Duration::from_millis(100),
        };
        assert_eq!(timeout.plugin(), Some("slow"));
        assert!(timeout.to_string().contains("100ms"));
        let load = PluginError::Load {
            path: "p.wasm".into(),
            reason: "missing".to_owned(),
        };
        assert_eq!(load.plugin(), None);
        let denied = PluginError::Denied {
            plugin: "p".to_owned(),
            capability: Capability::Complete,
        };
        assert_eq!(
            denied.to_string(),
            "plugin p was denied the `complete` capability"
        );
        let failed = PluginError::Failed {
            plugin: "p".to_owned(),
            error: GuestError::NotFound("x".to_owned()),
        };
        assert_eq!(failed.to_string(), "plugin p failed: not found: x");
    }
}
