//! Ralph's broker: the native side of a marketplace round.
//!
//! It scores proposals blind ([`scoring`]), implements only the winner in an
//! isolated git [`worktree`], and verifies it with command [`checks`] run one
//! by one against a baseline.

pub mod agents;
pub mod attempt;
pub mod checks;
pub mod clean;
pub mod confinement;
pub mod facts;
pub mod feedback;
pub mod implementer;
pub mod llm;
pub mod loop_config;
pub mod metering;
pub mod personas;
pub mod plugins;
pub mod progress;
pub mod protected;
pub mod recording;
pub mod round;
pub mod scoring;
pub mod session;
pub mod snapshot;
pub mod workbench;
pub mod worktree;
