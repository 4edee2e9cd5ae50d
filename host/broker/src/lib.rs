//! Ralph's broker: the native side of both loops.
//!
//! The marketplace ([`round`], [`session`]) scores proposals blind
//! ([`scoring`], and a model [`judge`] when configured) and implements only
//! the winner; the simple loop ([`simple`]) has one implementer work
//! through the issue. Both make each change the same way ([`attempt`], on
//! a [`workbench`]): in an isolated git [`worktree`], verified by
//! [`checks`] run one by one against a baseline, and keep their working
//! state in [`sessions`].

pub mod agents;
pub mod attempt;
pub mod checks;
pub mod clean;
pub mod confinement;
pub mod delayed_signals;
pub mod facts;
pub mod feedback;
pub mod github;
pub mod human_review;
pub mod implementer;
pub mod issue_source;
mod journal;
pub mod judge;
pub mod lease;
pub mod llm;
pub mod loop_config;
pub mod metering;
pub mod personas;
pub mod plugins;
pub mod progress;
pub mod protected;
pub mod recording;
pub mod review_feedback;
pub mod round;
pub mod scoring;
pub mod session;
pub mod sessions;
pub mod signals;
pub mod simple;
pub mod simulate;
pub mod snapshot;
pub mod sync;
pub mod team;
pub mod workbench;
pub mod worktree;
