//! `ralph marketplace loop <issue>`, the marketplace's main job, and what
//! every loop's command shares: its runtime, its stop, its progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ralph_broker::human_review::Reviewer;
use ralph_broker::llm::LlmOptions;
use ralph_broker::progress::{Activity, FinishStatus, JsonLines, Lines, Progress, Step};
use ralph_broker::round;
use ralph_broker::session::{Finished, LoopError, LoopOptions};
use ralph_marketplace::{Layout, Marketplace};
use ralph_models::LlmSettings;

use crate::cli::LlmFlags;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, Form, Stream, Writer, errln, out, outln};
use crate::ranking_review::{self, Screen};
use crate::render;

pub fn run(layout: &Layout, issue: u64, json: bool, review: bool, flags: &LlmFlags) -> Outcome {
    // A review needs a person at a terminal: said before anything runs.
    if review {
        ranking_review::require_terminal()?;
    }
    let llm = LlmOptions {
        overrides: overrides(flags)?,
        ..LlmOptions::default()
    };
    let screen = review.then(Screen::default);
    run_on(layout, issue, json, llm, screen)
}

/// The `--llm-*` flags as an override of the `llm` section. A recording
/// path is taken relative to the current directory, as paths on a command
/// line are.
pub fn overrides(flags: &LlmFlags) -> Result<LlmSettings, Failure> {
    let record_file = flags
        .llm_record
        .as_ref()
        .map(std::path::absolute)
        .transpose()
        .map_err(|error| Failure::bad_input(anyhow::anyhow!("--llm-record: {error}")))?;
    let settings = LlmSettings {
        provider: flags.llm_provider,
        model: flags.llm_model.clone(),
        base_url: flags.llm_base_url.clone(),
        record_file,
        ..LlmSettings::default()
    };
    settings
        .validate("llm")
        .map_err(|error| Failure::message(Exit::BadInput, format!("--llm flags: {error}")))?;
    Ok(settings)
}

/// How long the loop's threads get to finish once the loop has ended.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs the loop, with `llm` saying which models answer.
pub fn run_with(layout: &Layout, issue: u64, json: bool, llm: LlmOptions) -> Outcome {
    run_on(layout, issue, json, llm, None)
}

/// Runs the loop; with a `screen`, the person at the terminal reviews each
/// ranking (`--review`), the live view paused while they are asked.
fn run_on(
    layout: &Layout,
    issue: u64,
    json: bool,
    llm: LlmOptions,
    screen: Option<Screen>,
) -> Outcome {
    let reviewer = screen
        .clone()
        .map(|screen| Arc::new(ranking_review::TerminalReviewer { screen }) as Arc<dyn Reviewer>);
    let finished = drive_on(json, screen.as_ref(), async |stop, progress| {
        let options = LoopOptions {
            issue,
            stop,
            llm,
            reviewer,
        };
        round::run(layout.clone(), options, progress).await
    })?;
    if json {
        // The state the loop's events fold to, as `status --json` shows it.
        if let Ok(marketplace) = Marketplace::open(layout.clone())
            && let Ok(loaded) = marketplace.state()
            && let Ok(state) = serde_json::from_str::<serde_json::Value>(&loaded.json)
        {
            output::json_line(&serde_json::json!({"step": "status", "state": state}).to_string());
        }
    } else {
        if let Ok(marketplace) = Marketplace::open(layout.clone())
            && let Ok(loaded) = marketplace.state()
        {
            outln!();
            out!("{}", render::status_with_usage(&marketplace, &loaded.state));
        }
    }
    Ok(exit_of(finished.status))
}

/// The exit code of a loop that ended `status`.
pub fn exit_of(status: FinishStatus) -> Exit {
    match status {
        FinishStatus::Complete => Exit::Success,
        FinishStatus::AttentionNeeded | FinishStatus::LimitReached => Exit::AttentionNeeded,
        FinishStatus::Interrupted => Exit::Interrupted,
        FinishStatus::ProviderUnavailable => Exit::Problems,
    }
}

/// Runs a loop (`start`, given the stop that Ctrl-C and SIGTERM set and
/// where its steps go) on a runtime of its own, showing its steps as JSON
/// lines, a live view on a terminal, or lines of text.
pub fn drive(
    json: bool,
    start: impl AsyncFnOnce(Arc<AtomicBool>, &mut dyn Progress) -> Result<Finished, LoopError>,
) -> Result<Finished, Failure> {
    drive_on(json, None, start)
}

/// [`drive`], telling `screen` which live view to pause for a question.
fn drive_on(
    json: bool,
    screen: Option<&Screen>,
    start: impl AsyncFnOnce(Arc<AtomicBool>, &mut dyn Progress) -> Result<Finished, LoopError>,
) -> Result<Finished, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::problem)?;
    let stop = Arc::new(AtomicBool::new(false));
    runtime.spawn(stop_on_signal(stop.clone()));
    let inner: Box<dyn Progress> = if json {
        Box::new(JsonLines(Writer::new(Stream::Stdout, Form::Json)))
    } else if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        let live = crate::live::Live::on_stdout();
        if let Some(screen) = screen {
            screen.show_on(live.screen());
        }
        Box::new(live)
    } else {
        Box::new(Lines(Writer::new(Stream::Stdout, Form::Human)))
    };
    let mut progress: Box<dyn Progress> = Box::new(StopWhenClosed {
        inner,
        stop: stop.clone(),
    });
    let finished = runtime.block_on(start(stop, progress.as_mut()));
    // A host call a plugin left blocked (its deadline passed while the host
    // waited on the file system) must not keep the process alive, deaf to
    // signals: the loop is over, so its threads get a moment, then are left.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    finished.map_err(|error| match error {
        LoopError::Config(_) | LoopError::BadInput(_) => Failure::bad_input(error),
        LoopError::Failed(_) => Failure::problem(error),
    })
}

/// Progress that asks the loop to stop after the current step once nobody
/// reads standard output any more (`ralph marketplace loop 7 | head`), as
/// Ctrl-C does: the step in hand finishes and is recorded.
struct StopWhenClosed {
    inner: Box<dyn Progress>,
    stop: Arc<AtomicBool>,
}

impl Progress for StopWhenClosed {
    fn step(&mut self, step: Step) {
        self.inner.step(step);
        if output::stdout_closed() && !self.stop.swap(true, Ordering::SeqCst) {
            errln!("warning: standard output is closed; stopping after the current step");
        }
    }

    fn activity(&mut self, activity: &Activity) {
        self.inner.activity(activity);
    }
}

/// Sets `stop` on Ctrl-C or SIGTERM; the loop stops between steps.
async fn stop_on_signal(stop: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    errln!("Stopping after the current step (press Ctrl-C again to abort at once)");
    stop.store(true, Ordering::SeqCst);
    if tokio::signal::ctrl_c().await.is_ok() {
        errln!("Aborted; the worktree is left for inspection");
        std::process::exit(Exit::Interrupted as i32);
    }
}
