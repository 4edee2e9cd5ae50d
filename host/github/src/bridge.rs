//! Running the async client for synchronous callers.
//!
//! [`ralph_issues::IssueSource`] is synchronous, the client async, and the
//! loop calls the source from inside a multi-threaded tokio runtime while
//! tests call it from plain threads and current-thread runtimes. A
//! [`Bridge`] owns one small runtime of its own (one worker thread) for the
//! client's whole life: each call is spawned there and the caller's thread
//! waits on a channel. This works in all three contexts (the caller's
//! runtime is never entered nor blocked by ours, and `block_on` is never
//! nested), and `reqwest`'s pooled connections stay on the one runtime
//! that made them — a runtime per call would leave the pool holding
//! connections whose runtime is gone.
//!
//! A caller on an async runtime's worker thread blocks that worker for the
//! call's length, as any synchronous call does; the loop should call from
//! `spawn_blocking` where that matters.

use std::future::Future;
use std::sync::mpsc;

use ralph_issues::RemoteError;

/// A runtime of its own for synchronous calls into async code.
#[derive(Debug)]
pub struct Bridge {
    runtime: Option<tokio::runtime::Runtime>,
}

/// The bridge could not start its runtime.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the GitHub client's runtime: {0}")]
pub struct BridgeError(#[from] std::io::Error);

impl Bridge {
    pub fn new() -> Result<Self, BridgeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ralph-github")
            .enable_all()
            .build()?;
        Ok(Bridge {
            runtime: Some(runtime),
        })
    }

    /// Runs `future` on the bridge's runtime and waits for its output.
    pub fn run<T, F>(&self, future: F) -> Result<T, RemoteError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        // Only a panic in the call (or a runtime already shut down) ends
        // it without an answer: not something a rerun would fix.
        let stopped = || RemoteError::Unexpected {
            method: "-".to_owned(),
            path: "-".to_owned(),
            message: "the GitHub client's task stopped before answering".to_owned(),
        };
        let runtime = self.runtime.as_ref().ok_or_else(stopped)?;
        let (sender, receiver) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            // The caller may have gone; nothing is left to tell then.
            let _ = sender.send(future.await);
        });
        receiver.recv().map_err(|_| stopped())
    }
}

impl Drop for Bridge {
    /// Shuts the runtime down without waiting, which is allowed inside
    /// another runtime (dropping it there would panic).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_gives_its_output() {
        let bridge = Bridge::new().expect("a bridge");
        assert_eq!(bridge.run(async { 6 * 7 }).expect("an answer"), 42);
    }

    #[test]
    fn a_call_that_panics_is_an_error_and_the_bridge_still_works() {
        let bridge = Bridge::new().expect("a bridge");
        let error = bridge.run(async { panic!("boom") }).expect_err("no answer");
        assert!(!error.is_resumable(), "{error}");
        assert_eq!(bridge.run(async { 1 }).expect("still works"), 1);
    }
}
