//! `ralph signal steer|pause|resume|stop|info`: a message to a running
//! loop, through its session's mailbox (SPEC §9, `docs/simple.md`).

use ralph_broker::sessions::{SessionDir, State};
use ralph_broker::signals::{Mailbox, Signal, SignalKind};
use ralph_marketplace::Layout;
use ralph_marketplace::lock::LocalLocks;

use crate::cli::SignalArg;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, outln};

/// What to send, and to which loop.
pub struct Request {
    pub kind: SignalArg,
    pub issue: Option<u64>,
    pub session: Option<String>,
    pub message: Vec<String>,
    pub json: bool,
}

pub fn run(layout: &Layout, request: Request) -> Outcome {
    let kind = match request.kind {
        SignalArg::Steer => SignalKind::Steer,
        SignalArg::Pause => SignalKind::Pause,
        SignalArg::Resume => SignalKind::Resume,
        SignalArg::Stop => SignalKind::Stop,
        SignalArg::Info => SignalKind::Info,
    };
    let message = request.message.join(" ");
    if matches!(kind, SignalKind::Steer | SignalKind::Info) && message.trim().is_empty() {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "{} needs a MESSAGE: what the loop should hear, e.g. `ralph signal {} --issue 4 \"keep the public API\"`",
                kind.name(),
                kind.name().to_lowercase()
            ),
        ));
    }
    let session = running_session(layout, request.issue, request.session.as_deref())?;
    let signal = Signal {
        kind,
        message,
        sent_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let path = Mailbox::of(session.root()).send(&signal).map_err(|error| {
        Failure::problem(anyhow::anyhow!(
            "{}: {error}",
            layout.display(session.root())
        ))
    })?;
    let shown = layout.display(&path).to_string();
    if request.json {
        output::json_line(
            &serde_json::json!({
                "signal": kind,
                "session": session.id(),
                "issue": session.metadata.issue,
                "file": shown,
            })
            .to_string(),
        );
    } else {
        outln!(
            "sent {} to session {} (issue #{}): {shown}",
            kind.name(),
            session.id(),
            session.metadata.issue
        );
    }
    Ok(Exit::Success)
}

/// The session a loop is running now: `--session ID`, else the newest
/// unfinished session of `--issue N`, else the only one running. A loop
/// runs while it holds its issue's lock.
fn running_session(
    layout: &Layout,
    issue: Option<u64>,
    id: Option<&str>,
) -> Result<SessionDir, Failure> {
    let bad = |message: String| Failure::message(Exit::BadInput, message);
    let sessions = SessionDir::list(layout.repository()).map_err(Failure::bad_input)?;
    let locks = LocalLocks::new(layout);
    let running = |session: &SessionDir| {
        session.metadata.state != State::Complete && locks.holder(session.metadata.issue).is_some()
    };
    let chosen = match (id, issue) {
        (Some(id), _) => sessions
            .into_iter()
            .find(|session| session.id() == id)
            .ok_or_else(|| {
                bad(format!(
                    "no session `{id}` in {}",
                    layout.display(&SessionDir::all_in(layout.repository()))
                ))
            })?,
        (None, Some(number)) => sessions
            .into_iter()
            .rev()
            .find(|session| {
                session.metadata.issue == number && session.metadata.state != State::Complete
            })
            .ok_or_else(|| {
                bad(format!(
                    "no loop is running on issue #{number}: it has no unfinished session"
                ))
            })?,
        (None, None) => {
            let mut live: Vec<SessionDir> = sessions
                .into_iter()
                .filter(|session| running(session))
                .collect();
            match live.len() {
                1 => live.remove(0),
                0 => {
                    return Err(bad(
                        "no loop is running; name the issue with --issue N".to_owned()
                    ));
                }
                _ => {
                    let issues: Vec<String> = live
                        .iter()
                        .map(|session| format!("#{}", session.metadata.issue))
                        .collect();
                    return Err(bad(format!(
                        "loops are running on issues {}; say which with --issue N",
                        issues.join(", ")
                    )));
                }
            }
        }
    };
    if !running(&chosen) {
        return Err(bad(format!(
            "no loop is running on issue #{} (session {} is {}); a signal waits for no one: run the loop again to resume the session",
            chosen.metadata.issue,
            chosen.id(),
            chosen.metadata.state.name()
        )));
    }
    Ok(chosen)
}
