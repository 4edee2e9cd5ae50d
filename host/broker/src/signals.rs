//! Live signals (SPEC §9): a person steers, pauses, resumes, stops or
//! informs a running loop by dropping a file into its session's mailbox,
//! `signals/inputs/` (`ralph signal …` writes it whole, atomically). The
//! loop looks between steps and, while a long step runs (an implementer, a
//! check), at every progress tick; it claims a signal by renaming it into
//! `signals/processed/`, so each is acted on exactly once even with two
//! readers: the one whose rename succeeds owns it.
//!
//! - STEER: its text goes into the implementer's next prompt (and, in the
//!   marketplace, every bidder's round context);
//! - INFO: added to the session's context without changing the plan;
//! - PAUSE: the loop finishes the step in hand and waits (time paused
//!   counts toward no limit) until RESUME or STOP;
//! - STOP: like SIGTERM: what runs is ended at once, the loop exits 130,
//!   resumably.
//!
//! A signal's text is the person's, but it is still only data: it reaches
//! prompts between markers, never as Ralph's own instructions.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ralph_issues::atomic;
use serde::{Deserialize, Serialize};

use crate::progress::{Activity, Progress, Step};

/// What a signal asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalKind {
    Steer,
    Pause,
    Resume,
    Stop,
    Info,
}

impl SignalKind {
    /// The name shown: `STEER`, `PAUSE`, …
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::Steer => "STEER",
            SignalKind::Pause => "PAUSE",
            SignalKind::Resume => "RESUME",
            SignalKind::Stop => "STOP",
            SignalKind::Info => "INFO",
        }
    }

    fn file_word(self) -> &'static str {
        match self {
            SignalKind::Steer => "steer",
            SignalKind::Pause => "pause",
            SignalKind::Resume => "resume",
            SignalKind::Stop => "stop",
            SignalKind::Info => "info",
        }
    }
}

/// One signal file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    pub kind: SignalKind,
    #[serde(default)]
    pub message: String,
    /// When it was sent (RFC 3339, UTC).
    pub sent_at: String,
}

/// The largest signal file read; a bigger one is set aside unread.
const MAX_SIGNAL_BYTES: u64 = 64 * 1024;

/// A session's mailbox.
#[derive(Clone, Debug)]
pub struct Mailbox {
    root: PathBuf,
}

impl Mailbox {
    /// The mailbox of the session in `session_root`.
    pub fn of(session_root: &Path) -> Mailbox {
        Mailbox {
            root: session_root.join("signals"),
        }
    }

    pub fn inputs(&self) -> PathBuf {
        self.root.join("inputs")
    }

    pub fn processed(&self) -> PathBuf {
        self.root.join("processed")
    }

    /// Writes `signal` into the inbox whole (a reader sees all of it or
    /// nothing); the file's path.
    pub fn send(&self, signal: &Signal) -> std::io::Result<PathBuf> {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let inputs = self.inputs();
        std::fs::create_dir_all(&inputs)?;
        let text = serde_json::to_string(signal).map_err(std::io::Error::other)?;
        loop {
            let name = format!(
                "{}-{}-{}-{}.json",
                chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                signal.kind.file_word()
            );
            let path = inputs.join(name);
            match atomic::create_new(&self.root.join(".tmp"), &path, &text) {
                Ok(true) => return Ok(path),
                Ok(false) => continue,
                Err(error) => return Err(error.source),
            }
        }
    }

    /// Claims every signal waiting, oldest first: each is renamed into
    /// `processed/` and returned only when this reader's rename succeeded.
    /// A file that is not a signal is set aside (renamed with `.invalid`)
    /// and reported as an error text.
    pub fn claim(&self) -> Vec<Result<Signal, String>> {
        let Ok(entries) = std::fs::read_dir(self.inputs()) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json"))
            .collect();
        names.sort();
        if names.is_empty() {
            return Vec::new();
        }
        let processed = self.processed();
        if std::fs::create_dir_all(&processed).is_err() {
            return Vec::new();
        }
        let mut claimed = Vec::new();
        for name in names {
            let target = processed.join(&name);
            // Another reader may have taken it first: then it is theirs.
            if std::fs::rename(self.inputs().join(&name), &target).is_err() {
                continue;
            }
            match read_signal(&target) {
                Ok(signal) => claimed.push(Ok(signal)),
                Err(error) => {
                    let _ = std::fs::rename(&target, processed.join(format!("{name}.invalid")));
                    claimed.push(Err(format!("{}: {error}", target.display())));
                }
            }
        }
        claimed
    }
}

fn read_signal(path: &Path) -> Result<Signal, String> {
    let metadata = std::fs::metadata(path).map_err(|error| error.to_string())?;
    if metadata.len() > MAX_SIGNAL_BYTES {
        return Err(format!("over {MAX_SIGNAL_BYTES} bytes; not read"));
    }
    let bytes = std::fs::read(path).map_err(|error| error.to_string())?;
    serde_json::from_slice(&bytes).map_err(|error| format!("not a signal: {error}"))
}

/// What the signals claimed so far ask of the loop.
#[derive(Debug, Default)]
pub struct Inbox {
    /// STEER texts, oldest first: every prompt from now on carries them.
    pub steering: Vec<String>,
    /// INFO texts, oldest first.
    pub info: Vec<String>,
    /// A PAUSE not yet followed by RESUME.
    pub paused: bool,
    /// Signals acted on but not shown yet.
    pub unshown: Vec<Signal>,
}

/// A loop's signals: its mailbox, what was claimed, and the stop a STOP
/// sets.
#[derive(Clone)]
pub struct Signals {
    mailbox: Mailbox,
    inbox: Arc<Mutex<Inbox>>,
    stop: Arc<AtomicBool>,
}

impl Signals {
    /// The signals of `mailbox`, with the STEER and INFO texts an earlier
    /// run of the session claimed.
    pub fn new(
        mailbox: Mailbox,
        stop: Arc<AtomicBool>,
        steering: Vec<String>,
        info: Vec<String>,
    ) -> Signals {
        Signals {
            mailbox,
            inbox: Arc::new(Mutex::new(Inbox {
                steering,
                info,
                paused: false,
                unshown: Vec::new(),
            })),
            stop,
        }
    }

    /// Claims what waits, acts on it and shows it on `progress`.
    pub fn check(&self, progress: &mut dyn Progress) {
        self.act();
        let unshown = std::mem::take(
            &mut self
                .inbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unshown,
        );
        for signal in unshown {
            progress.step(Step::Signal {
                kind: signal.kind,
                message: signal.message,
            });
        }
    }

    /// Claims what waits and acts on it; shown at the next [`check`].
    ///
    /// [`check`]: Signals::check
    pub fn act(&self) {
        for claimed in self.mailbox.claim() {
            let signal = match claimed {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "Set aside a file in the signal inbox that is not a signal");
                    continue;
                }
            };
            {
                let mut inbox = self
                    .inbox
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match signal.kind {
                    SignalKind::Steer => inbox.steering.push(signal.message.clone()),
                    SignalKind::Info => inbox.info.push(signal.message.clone()),
                    SignalKind::Pause => inbox.paused = true,
                    SignalKind::Resume => inbox.paused = false,
                    SignalKind::Stop => {
                        inbox.paused = false;
                        self.stop.store(true, Ordering::SeqCst);
                    }
                }
                inbox.unshown.push(signal);
            }
        }
    }

    /// Keeps claiming signals, four times a second, while the guard lives:
    /// a step that blocks its thread (an agent, a check) still hears a STOP
    /// at once and takes in a STEER. Must be called within a Tokio runtime.
    pub fn watch(&self) -> Watching {
        let signals = self.clone();
        Watching(tokio::spawn(async move {
            loop {
                signals.act();
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }))
    }

    /// The STEER texts so far.
    pub fn steering(&self) -> Vec<String> {
        self.read(|inbox| inbox.steering.clone())
    }

    /// The INFO texts so far.
    pub fn info(&self) -> Vec<String> {
        self.read(|inbox| inbox.info.clone())
    }

    /// True while a PAUSE waits for RESUME or STOP.
    pub fn paused(&self) -> bool {
        self.read(|inbox| inbox.paused)
    }

    fn read<T>(&self, read: impl FnOnce(&Inbox) -> T) -> T {
        read(
            &self
                .inbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Between steps: claims what waits, and while a PAUSE holds, waits for
    /// RESUME or STOP (polling the mailbox); how long it waited.
    pub async fn hold_while_paused(&self, progress: &mut dyn Progress) -> std::time::Duration {
        self.check(progress);
        let started = std::time::Instant::now();
        while self.paused() && !self.stop.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            self.check(progress);
        }
        started.elapsed()
    }
}

/// Ends the watch of [`Signals::watch`] when dropped.
pub struct Watching(tokio::task::JoinHandle<()>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Progress that also claims signals at every step and every tick of a
/// long step, so a STOP ends what runs at once and a STEER is taken in
/// while the implementer works.
pub struct Listening<'a> {
    pub inner: &'a mut dyn Progress,
    pub signals: Signals,
}

impl Progress for Listening<'_> {
    fn step(&mut self, step: Step) {
        self.inner.step(step);
        self.signals.check(self.inner);
    }

    fn activity(&mut self, activity: &Activity) {
        self.inner.activity(activity);
        self.signals.check(self.inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(kind: SignalKind, message: &str) -> Signal {
        Signal {
            kind,
            message: message.to_owned(),
            sent_at: "2026-12-03T10:00:00Z".to_owned(),
        }
    }

    #[test]
    fn two_readers_racing_act_on_each_signal_once() {
        let session = tempfile::tempdir().expect("temp dir");
        let mailbox = Mailbox::of(session.path());
        for index in 0..200 {
            mailbox
                .send(&signal(SignalKind::Steer, &format!("steer {index}")))
                .expect("send");
        }
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mailbox = mailbox.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    for _ in 0..50 {
                        got.extend(
                            mailbox
                                .claim()
                                .into_iter()
                                .map(|claimed| claimed.expect("a signal").message),
                        );
                    }
                    got
                })
            })
            .collect();
        let mut all: Vec<String> = readers
            .into_iter()
            .flat_map(|reader| reader.join().expect("reader"))
            .collect();
        assert_eq!(all.len(), 200);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 200, "a signal was acted on twice");
        assert_eq!(
            std::fs::read_dir(mailbox.inputs()).expect("inputs").count(),
            0
        );
        assert_eq!(
            std::fs::read_dir(mailbox.processed())
                .expect("processed")
                .count(),
            200
        );
    }

    #[test]
    fn signals_act_in_order_and_a_stranger_file_is_set_aside() {
        let session = tempfile::tempdir().expect("temp dir");
        let mailbox = Mailbox::of(session.path());
        let stop = Arc::new(AtomicBool::new(false));
        let signals = Signals::new(mailbox.clone(), stop.clone(), Vec::new(), Vec::new());
        mailbox
            .send(&signal(SignalKind::Steer, "use a const fn"))
            .expect("send");
        mailbox.send(&signal(SignalKind::Pause, "")).expect("send");
        std::fs::write(mailbox.inputs().join("zzz.json"), "not json").expect("write");
        let mut shown = crate::progress::Recorded::default();
        signals.check(&mut shown);
        assert_eq!(signals.steering(), vec!["use a const fn".to_owned()]);
        assert!(signals.paused());
        assert_eq!(shown.0.len(), 2);
        assert!(mailbox.processed().join("zzz.json.invalid").exists());
        mailbox.send(&signal(SignalKind::Stop, "")).expect("send");
        signals.check(&mut shown);
        assert!(stop.load(Ordering::SeqCst));
        assert!(!signals.paused());
    }
}
