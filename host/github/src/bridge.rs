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
//! A caller on a multi-threaded runtime's worker (the loop) waits inside
//! `block_in_place`, so that runtime's other tasks go on while a call
//! waits out a rate limit; elsewhere the caller's thread just blocks.

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
        // On a worker of a multi-threaded runtime (the loop's), tell it
        // this thread blocks, so its other tasks (the signal watcher, the
        // progress ticks) move on to another worker meanwhile.
        let wait = || receiver.recv();
        let answer = match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        };
        answer.map_err(|_| stopped())
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

    #[test]
    fn a_waiting_call_on_a_runtime_worker_lets_the_runtimes_other_tasks_run() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};
        // One worker: without handing it off, the ticker could not run
        // until the call is answered.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let bridge = Arc::new(Bridge::new().expect("a bridge"));
        let ticks = Arc::new(AtomicU32::new(0));
        let seen = runtime.block_on({
            let (bridge, ticks) = (bridge.clone(), ticks.clone());
            async move {
                tokio::spawn(async move {
                    let counter = ticks.clone();
                    let ticker = tokio::spawn(async move {
                        loop {
                            counter.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        }
                    });
                    tokio::task::yield_now().await;
                    let before = ticks.load(Ordering::SeqCst);
                    bridge
                        .run(async {
                            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                        })
                        .expect("an answer");
                    let during = ticks.load(Ordering::SeqCst) - before;
                    ticker.abort();
                    during
                })
                .await
                .expect("the task")
            }
        });
        assert!(seen >= 5, "the ticker ran {seen} times during the call");
    }
}
