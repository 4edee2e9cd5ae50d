//! The sandbox: the one constructor for every plugin `Store`.
//!
//! Every store gets a memory cap, a wall-clock deadline enforced by epoch
//! interruption, and a WASI context with no environment, no network and no
//! inherited stdio. Only a plugin that requested the `repository`
//! capability and was granted it gets a directory preopened, read-only, as
//! `/`: the call's view (a clean checkout of the round's commit, see
//! [`crate::Runtime::viewing`]); every other plugin sees no file at all.
//! Calls run under `tokio::time::timeout` as well, because epochs do not
//! interrupt a guest that waits inside a host call.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::capabilities::CapabilitySet;
use crate::config::{Limits, World};
use crate::console::Console;
use crate::error::PluginError;
use crate::runtime::{Metered, Outcome, Services};
use crate::types::ModelUsage;

/// Extra time the async timeout allows beyond the deadline, so that the epoch
/// trap (which reports more precisely) normally fires first.
const TIMEOUT_GRACE: Duration = Duration::from_millis(50);

/// Who is being called: fixed when the plugin is loaded.
///
/// A plugin's identity is the config entry that loaded it ([`id`]) and the
/// component it loaded ([`digest`]); approvals, allow-lists, grants,
/// metering and the audit use those. The [`name`] its metadata reports is
/// for display only: a plugin can report any name.
///
/// [`id`]: PluginIdentity::id
/// [`digest`]: PluginIdentity::digest
/// [`name`]: PluginIdentity::name
#[derive(Debug, Clone)]
pub struct PluginIdentity {
    /// The config entry that loaded it: a bidder id (`bidder_2`), a
    /// specialist's `id`, a check's `name`. `None` for a component loaded
    /// without an entry (`ralph plugin inspect FILE`), which can never be
    /// granted an integration.
    pub id: Option<String>,
    /// The SHA-256 of the component's bytes, as lowercase hex.
    pub digest: String,
    /// The name its metadata reports: for display, never for authorizing.
    pub name: String,
    /// The world it implements.
    pub world: World,
    /// What it requested and what the user granted.
    pub capabilities: CapabilitySet,
    /// Its sandbox limits.
    pub limits: Limits,
    /// Where it was loaded from.
    pub source: PathBuf,
}

impl PluginIdentity {
    /// The id when the plugin has one, else its display name: what logs
    /// and messages call it.
    pub fn who(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}

/// The SHA-256 of `bytes` as lowercase hex: a component's digest.
pub fn digest_of(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether `id` is a valid plugin id: 1 to 64 lowercase ASCII letters,
/// digits, `_` and `-`. The error says what is wrong.
pub fn check_id(id: &str) -> Result<(), String> {
    let valid = |character: char| {
        character.is_ascii_lowercase()
            || character.is_ascii_digit()
            || matches!(character, '_' | '-')
    };
    if id.is_empty() || id.len() > 64 || !id.chars().all(valid) {
        return Err(format!(
            "{id:?} is not a plugin id: 1 to 64 lowercase letters, digits, `_` and `-`"
        ));
    }
    Ok(())
}

/// Everything one call needs besides the guest itself.
pub(crate) struct CallContext {
    pub plugin: Arc<PluginIdentity>,
    pub services: Arc<Services>,
    /// The directory the plugin may read (a clean checkout), or `None` when
    /// the call has no view; seen only with the `repository` capability.
    pub root: Option<PathBuf>,
    /// Ids of the plugins on the consult path to this call, outermost first,
    /// this plugin last.
    pub chain: Vec<String>,
    /// Model usage charged to this call, nested consultations included.
    pub usage: ModelUsage,
    /// The most tokens this call may use, nested consultations included;
    /// `None` for no cap.
    pub token_allowance: Option<u64>,
    /// Log messages the plugin wrote during this call.
    pub log_messages: usize,
}

impl CallContext {
    /// The directory this call may read: its view, only when the plugin
    /// requested the `repository` capability and was granted it.
    pub fn readable_root(&self) -> Option<&std::path::Path> {
        let allowed = self
            .plugin
            .capabilities
            .effective()
            .contains(&crate::capabilities::Capability::Repository);
        self.root.as_deref().filter(|_| allowed)
    }
}

/// Caps the total linear memory of one store and remembers a refusal.
struct MemoryLimiter {
    limit_bytes: usize,
    used_bytes: usize,
    exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.used_bytes.saturating_add(growth);
        if total > self.limit_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        self.used_bytes = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// The data of every plugin store.
pub struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    pub(crate) call: CallContext,
    /// When this call's deadline passes; host calls that wait (integrations)
    /// give up at this instant.
    pub(crate) deadline: Instant,
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One call's store with its captured console.
pub(crate) struct Sandbox {
    pub store: Store<SandboxState>,
    stdout: Console,
    stderr: Console,
    started: Instant,
}

impl Sandbox {
    /// The one way to make a plugin store.
    pub fn new(engine: &Engine, call: CallContext) -> Result<Self, PluginError> {
        let limits = call.plugin.limits;
        let stdout = Console::new(limits.console_bytes);
        let stderr = Console::new(limits.console_bytes);
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        if let Some(root) = call.readable_root() {
            builder
                .preopened_dir(root, "/", FsPerms::ReadOnly)
                .map_err(|error| PluginError::Sandbox {
                    plugin: call.plugin.who().to_owned(),
                    reason: format!("cannot open {} read-only: {error}", root.display()),
                })?;
        }
        let started = Instant::now();
        let deadline = started + limits.deadline;
        let state = SandboxState {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                limit_bytes: limits.memory_bytes,
                used_bytes: 0,
                exceeded: false,
            },
            call,
            deadline,
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        Ok(Self {
            store,
            stdout,
            stderr,
            started,
        })
    }

    fn plugin(&self) -> &PluginIdentity {
        &self.store.data().call.plugin
    }

    /// How long the async timeout around a call waits: the deadline plus a
    /// little grace so that the epoch trap normally reports first.
    pub fn timeout(&self) -> Duration {
        self.plugin().limits.deadline + TIMEOUT_GRACE
    }

    /// Turns the outcome of a guest call made under [`Self::timeout`] into
    /// a typed result, and logs the plugin's console.
    pub fn finish<T>(
        &self,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, PluginError> {
        let stderr = self.log_console();
        match outcome {
            Err(_elapsed) => Err(PluginError::Timeout {
                plugin: self.plugin().who().to_owned(),
                deadline: self.plugin().limits.deadline,
            }),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.classify(&error, &stderr)),
        }
    }

    /// Model usage charged to this call so far.
    pub fn usage(&self) -> ModelUsage {
        self.store.data().call.usage
    }

    /// Wall-clock time since the store was made.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// A call's `result` with the usage charged to this sandbox, which a
    /// failed call has too.
    pub(crate) fn metered<T>(&self, result: Result<T, PluginError>) -> Metered<T> {
        Metered {
            usage: self.usage(),
            result: result.map(|value| Outcome {
                value,
                usage: self.usage(),
                elapsed: self.elapsed(),
            }),
        }
    }

    fn log_console(&self) -> String {
        let plugin = self.plugin().who();
        let (stdout, stdout_dropped) = self.stdout.contents();
        let (stderr, stderr_dropped) = self.stderr.contents();
        if !stdout.is_empty() {
            tracing::info!(plugin, output = %stdout.trim_end(), dropped_bytes = stdout_dropped, "Plugin wrote to standard output");
        }
        if !stderr.is_empty() {
            tracing::warn!(plugin, output = %stderr.trim_end(), dropped_bytes = stderr_dropped, "Plugin wrote to standard error");
        }
        stderr
    }

    fn classify(&self, error: &wasmtime::Error, stderr: &str) -> PluginError {
        let state = self.store.data();
        let plugin = state.call.plugin.who().to_owned();
        if state.limiter.exceeded {
            return PluginError::MemoryExceeded {
                plugin,
                limit_bytes: state.limiter.limit_bytes,
            };
        }
        let trap = error.downcast_ref::<Trap>();
        if trap == Some(&Trap::Interrupt) {
            return PluginError::Timeout {
                plugin,
                deadline: state.call.plugin.limits.deadline,
            };
        }
        if let Some(message) = panic_message(stderr) {
            return PluginError::Panic { plugin, message };
        }
        let message = match trap {
            Some(trap) => trap.to_string(),
            None => format!("{error:?}"),
        };
        PluginError::Trap { plugin, message }
    }
}

/// The panic message a Rust guest printed to standard error, if any.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at")?;
    let message: String = stderr[start..]
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    Some(message.chars().take(1000).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_message_is_found_in_standard_error() {
        let stderr =
            "noise\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("panicked at src/lib.rs:3:5: boom note: run with")
        );
        assert_eq!(panic_message("just a trap"), None);
    }

    #[test]
    fn plugin_ids_are_lowercase_letters_digits_underscores_and_hyphens() {
        for id in ["bidder_2", "rust-conventions", "a", "x9"] {
            assert_eq!(check_id(id), Ok(()), "{id}");
        }
        for id in ["", "Bidder", "a b", "../x", "a.b", "é", &"x".repeat(65)] {
            assert!(check_id(id).is_err(), "{id:?}");
        }
    }

    #[test]
    fn a_digest_is_the_hex_sha256_of_the_bytes() {
        assert_eq!(
            digest_of(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn memory_beyond_the_cap_is_refused_and_remembered() -> wasmtime::Result<()> {
        let mut limiter = MemoryLimiter {
            limit_bytes: 100,
            used_bytes: 0,
            exceeded: false,
        };
        assert!(limiter.memory_growing(0, 60, None)?);
        assert!(!limiter.memory_growing(0, 60, None)?);
        assert!(limiter.exceeded);
        Ok(())
    }
}
