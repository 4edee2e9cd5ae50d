//! Ralph's marketplace core.
//!
//! The pure parts — [`config`] validation, [`event`] parsing, the
//! [`projection`] onto the capped simplex, [`efficiency`], the budget
//! [`allocation`], the weight [`deltas`] table and the [`fold`] — do no I/O.
//! The [`store`] reads and appends event files, the [`cache`] keeps the folded
//! state fresh, [`lock`] keeps one loop per issue, and [`layout`] owns every
//! path under `.ralph/`. The model [`usage`] recorded in events is added up
//! apart from the state. The [`report`] shows it all on one HTML page.

pub mod allocation;
pub mod analysis;
pub mod cache;
pub mod config;
pub mod deltas;
pub mod efficiency;
pub mod event;
pub mod fold;
pub mod layout;
pub mod lock;
pub mod marketplace;
pub mod projection;
pub mod report;
pub mod setup;
pub mod specialization;
pub mod state;
pub mod statistics;
pub mod store;
pub mod summary;
pub mod usage;
pub mod verify;

pub use config::{Config, ConfigError};
pub use event::{Event, Outcome};
pub use fold::{EventFile, fold};
pub use layout::Layout;
pub use marketplace::Marketplace;
pub use state::State;
