//! The one process-wide wasmtime engine.
//!
//! Component model on, epoch interruption on, and a ticker thread that
//! advances the epoch every [`EPOCH_TICK`] so that deadlines are enforced
//! inside guest code.

use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::{Config, Engine};

use crate::error::PluginError;

/// How often the ticker advances the engine's epoch.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

static SHARED: OnceLock<Result<Engine, String>> = OnceLock::new();

/// The process-wide engine, created with its ticker on first use.
pub fn shared() -> Result<Engine, PluginError> {
    SHARED
        .get_or_init(create)
        .clone()
        .map_err(PluginError::Engine)
}

/// The configuration every Ralph engine uses.
pub fn config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config
}

fn create() -> Result<Engine, String> {
    let engine = Engine::new(&config()).map_err(|error| error.to_string())?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("ralph-epoch-ticker".to_owned())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map_err(|error| format!("cannot start the epoch ticker thread: {error}"))?;
    tracing::debug!("Started the WebAssembly engine");
    Ok(engine)
}

/// Epoch ticks that cover `deadline`, rounded up, plus one for the partial
/// tick already under way.
pub fn ticks_for(deadline: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    let ticks = deadline.as_nanos().div_ceil(tick);
    u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_engine_is_created_once() -> Result<(), PluginError> {
        let first = shared()?;
        let second = shared()?;
        assert!(Engine::same(&first, &second));
        Ok(())
    }

    #[test]
    fn deadlines_round_up_to_whole_ticks() {
        assert_eq!(ticks_for(Duration::from_millis(100)), 11);
        assert_eq!(ticks_for(Duration::from_millis(101)), 12);
        assert_eq!(ticks_for(Duration::ZERO), 1);
    }
}
