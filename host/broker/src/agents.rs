//! Claude Code and Codex as implementers.
//!
//! Each agent runs in the worktree, confined (see [`crate::confinement`]:
//! its own provider's credential only, network kept), with the prompt on
//! standard input, and prints JSON lines on standard output: Claude Code's
//! `stream-json`
//! (`system`, `assistant`, `user`, then one `result`), Codex's
//! `exec --json` events (`thread.started`, `turn.started`, `item.*`, then
//! `turn.completed` or `turn.failed`, and `error`). Lines that are not
//! JSON objects with a `type`, and event types not listed here, are
//! skipped; the final event must have the shape it is documented to have.
//!
//! A run is stopped (with everything it started) when it prints nothing for
//! `idle_timeout_seconds` or runs past `timeout_seconds`. It counts as done
//! only when the agent exited 0, printed its final event and reported no
//! error; whether the change is any good is still for the checks to say.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use crate::checks;
use crate::confinement::{Confinement, Launch, Role};

/// How often a quiet agent is checked on.
const POLL: Duration = Duration::from_millis(50);

/// Which coding agent runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agent {
    /// `claude -p --output-format stream-json --verbose`.
    ClaudeCode,
    /// `codex exec --json`.
    Codex,
}

impl Agent {
    /// The agent's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "Claude Code",
            Agent::Codex => "Codex",
        }
    }

    /// The program run when the settings name none.
    pub fn default_program(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude",
            Agent::Codex => "codex",
        }
    }

    /// The arguments after the program: the preset's, then `extra`.
    pub fn arguments(self, extra: &[String]) -> Vec<String> {
        let preset: &[&str] = match self {
            // Non-interactive, one JSON object per line; file edits are
            // allowed without asking (the worktree is Ralph's own).
            Agent::ClaudeCode => &[
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--permission-mode",
                "acceptEdits",
            ],
            // JSON lines, writes allowed inside the worktree only.
            Agent::Codex => &["exec", "--json", "--sandbox", "workspace-write"],
        };
        let mut arguments: Vec<String> = preset.iter().map(|part| (*part).to_owned()).collect();
        arguments.extend(extra.iter().cloned());
        if self == Agent::Codex {
            // `-` makes Codex read the prompt from standard input.
            arguments.push("-".to_owned());
        }
        arguments
    }

    /// The event that ends a run.
    fn final_event(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "`result`",
            Agent::Codex => "`turn.completed` or `turn.failed`",
        }
    }
}

/// The optional settings of the `claude_code` and `codex` implementers.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// The program to run instead of `claude` or `codex`.
    #[serde(default)]
    pub program: Option<String>,
    /// Arguments added after the preset's.
    #[serde(default)]
    pub extra_args: Vec<String>,
    /// Stopped after printing nothing for this long.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_seconds: u64,
    /// Stopped after running this long in all.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            program: None,
            extra_args: Vec::new(),
            idle_timeout_seconds: default_idle_timeout(),
            timeout_seconds: default_timeout(),
        }
    }
}

fn default_idle_timeout() -> u64 {
    600
}

fn default_timeout() -> u64 {
    1800
}

/// Tokens an agent reports; `input_tokens` counts every input token,
/// `cached_input_tokens` the part read from a cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
}

/// What an agent said about its run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentReport {
    /// The final answer (Claude Code's `result`, Codex's last message).
    pub result: Option<String>,
    /// The cost in US dollars, when the agent reports it (Claude Code).
    pub cost_usd: Option<f64>,
    pub usage: TokenUsage,
    pub turns: Option<u64>,
    /// The error the agent reported, if any.
    pub error: Option<String>,
    /// Whether the final event was seen.
    pub finished: bool,
    /// Lines skipped: not JSON, no `type`, or an unknown event.
    pub skipped_lines: usize,
    /// When the agent's usage limit resets, if it said it refused work
    /// for that (Claude Code's `rate_limit_event` with status `rejected`),
    /// in seconds since the Unix epoch.
    pub limited_until: Option<u64>,
}

impl AgentReport {
    /// Takes in one line of the agent's standard output.
    pub fn observe(&mut self, agent: Agent, line: &str) {
        let event = serde_json::from_str::<Value>(line).ok();
        let kind = event
            .as_ref()
            .and_then(|event| event.get("type"))
            .and_then(Value::as_str);
        let (Some(event), Some(kind)) = (event.as_ref(), kind) else {
            if !line.trim().is_empty() {
                self.skipped_lines += 1;
            }
            return;
        };
        let known = match agent {
            Agent::ClaudeCode => self.observe_claude(kind, event),
            Agent::Codex => self.observe_codex(kind, event),
        };
        if !known {
            self.skipped_lines += 1;
        }
    }

    fn observe_claude(&mut self, kind: &str, event: &Value) -> bool {
        match kind {
            "system" | "user" => true,
            "rate_limit_event" => {
                let info = event.get("rate_limit_info");
                let rejected = info
                    .and_then(|info| info.get("status"))
                    .and_then(Value::as_str)
                    == Some("rejected");
                if rejected {
                    self.limited_until = info
                        .and_then(|info| info.get("resetsAt"))
                        .and_then(Value::as_u64)
                        .or(Some(0));
                }
                true
            }
            "assistant" => {
                if let Some(text) = assistant_text(event) {
                    self.result = Some(text);
                }
                true
            }
            "result" => {
                self.finished = true;
                match ClaudeResult::deserialize(event) {
                    Ok(result) => self.take_claude_result(result),
                    Err(error) => self.error = Some(format!("malformed `result` event: {error}")),
                }
                true
            }
            _ => false,
        }
    }

    fn take_claude_result(&mut self, result: ClaudeResult) {
        self.cost_usd = result.total_cost_usd;
        self.turns = result.num_turns;
        if let Some(usage) = result.usage {
            self.usage = TokenUsage {
                input_tokens: usage.input_tokens
                    + usage.cache_creation_input_tokens
                    + usage.cache_read_input_tokens,
                cached_input_tokens: usage.cache_read_input_tokens,
                output_tokens: usage.output_tokens,
            };
        }
        if result.result.is_some() {
            self.result = result.result;
        }
        if result.is_error || result.subtype != "success" {
            let text = self.result.clone().filter(|text| !text.trim().is_empty());
            self.error = Some(match text {
                Some(text) => format!("{} ({})", text.trim(), result.subtype),
                None => result.subtype,
            });
        }
    }

    fn observe_codex(&mut self, kind: &str, event: &Value) -> bool {
        match kind {
            "thread.started" | "turn.started" | "item.started" | "item.updated" => true,
            "item.completed" => {
                let item = event.get("item");
                let is_message = item
                    .and_then(|item| item.get("type"))
                    .and_then(Value::as_str)
                    == Some("agent_message");
                if let Some(text) = item
                    .and_then(|item| item.get("text"))
                    .and_then(Value::as_str)
                    .filter(|_| is_message)
                {
                    self.result = Some(text.to_owned());
                }
                true
            }
            "turn.completed" => {
                self.finished = true;
                match event.get("usage").map(CodexUsage::deserialize) {
                    Some(Ok(usage)) => self.add_codex_usage(&usage),
                    Some(Err(error)) => {
                        self.error = Some(format!("malformed `turn.completed` usage: {error}"));
                    }
                    None => {}
                }
                true
            }
            "turn.failed" => {
                self.finished = true;
                let message = event.get("error").and_then(|error| error.get("message"));
                self.error = Some(message_or(message, "the turn failed"));
                true
            }
            "error" => {
                self.error = Some(message_or(event.get("message"), "an error event"));
                true
            }
            _ => false,
        }
    }

    fn add_codex_usage(&mut self, usage: &CodexUsage) {
        self.usage.input_tokens += usage.input_tokens;
        self.usage.cached_input_tokens += usage.cached_input_tokens;
        self.usage.output_tokens += usage.output_tokens;
        self.turns = Some(self.turns.unwrap_or(0) + 1);
    }
}

/// The text of an `assistant` event's text blocks, if any.
fn assistant_text(event: &Value) -> Option<String> {
    let blocks = event.get("message")?.get("content")?.as_array()?;
    let texts: Vec<&str> = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

fn message_or(message: Option<&Value>, fallback: &str) -> String {
    message
        .and_then(Value::as_str)
        .map_or_else(|| fallback.to_owned(), str::to_owned)
}

/// Claude Code's final `result` event (the fields read).
#[derive(Deserialize)]
struct ClaudeResult {
    subtype: String,
    is_error: bool,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    total_cost_usd: Option<f64>,
    #[serde(default)]
    num_turns: Option<u64>,
    #[serde(default)]
    usage: Option<ClaudeUsage>,
}

#[derive(Deserialize)]
struct ClaudeUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

/// Codex's `turn.completed` usage.
#[derive(Deserialize)]
struct CodexUsage {
    input_tokens: u64,
    #[serde(default)]
    cached_input_tokens: u64,
    output_tokens: u64,
}

/// How the agent's process ended.
enum Ending {
    Exited(ExitStatus),
    IdleTimeout,
    TotalTimeout,
    /// The user asked the loop to stop.
    Stopped,
    Lost(String),
}

/// Runs `agent` in `worktree` with `prompt` on its standard input; the
/// report when it finished cleanly, otherwise why the attempt failed.
pub fn run(
    agent: Agent,
    settings: &AgentSettings,
    worktree: &Path,
    prompt: &str,
    confinement: &Confinement,
) -> Result<AgentReport, String> {
    let (outcome, report) = run_reporting(agent, settings, worktree, prompt, confinement);
    outcome.map(|()| report)
}

/// [`run`], with what the agent reported (its cost and tokens) also when
/// the attempt failed.
pub fn run_reporting(
    agent: Agent,
    settings: &AgentSettings,
    worktree: &Path,
    prompt: &str,
    confinement: &Confinement,
) -> (Result<(), String>, AgentReport) {
    let program = settings
        .program
        .clone()
        .unwrap_or_else(|| agent.default_program().to_owned());
    let launch = Launch {
        role: Role::Agent(agent),
        directory: worktree,
        read_only: &[],
    };
    let spawned = confinement
        .command(&program, &agent.arguments(&settings.extra_args), &launch)
        .and_then(|mut command| command.stdin(Stdio::piped()).spawn());
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            let message = format!(
                "{} (`{program}`) could not be started: {error}",
                agent.name()
            );
            return (Err(message), AgentReport::default());
        }
    };
    let feeder = feed(&mut child, prompt.to_owned());
    let stderr = child
        .stderr
        .take()
        .map(|stream| std::thread::spawn(move || checks::read_tail(stream, checks::OUTPUT_LIMIT)));
    let lines = read_lines(child.stdout.take());
    let mut report = AgentReport::default();
    let ending = watch(
        agent,
        settings,
        confinement,
        &mut child,
        &lines,
        &mut report,
    );
    // Stray processes it started may hold the pipes open: end them all.
    checks::kill_group(&mut child);
    drain(agent, &lines, &mut report);
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    let stderr = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    (judge(agent, settings, ending, &report, &stderr), report)
}

/// Writes the prompt to the agent's standard input and closes it, in a
/// thread so a large prompt cannot block the watch.
fn feed(child: &mut Child, prompt: String) -> Option<JoinHandle<()>> {
    let mut stdin = child.stdin.take()?;
    Some(std::thread::spawn(move || {
        // An agent that exits without reading its prompt closes the pipe;
        // its exit tells what happened.
        let _ = stdin.write_all(prompt.as_bytes());
    }))
}

/// The agent's standard output, line by line, from a thread.
fn read_lines(stdout: Option<impl Read + Send + 'static>) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    if let Some(stdout) = stdout {
        std::thread::spawn(move || {
            // Lines that are not UTF-8 are read lossily (and then skipped
            // as not JSON) rather than ending the stream.
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            while matches!(reader.read_until(b'\n', &mut line), Ok(read) if read > 0) {
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\n', '\r'])
                    .to_owned();
                line.clear();
                if sender.send(text).is_err() {
                    break;
                }
            }
        });
    }
    receiver
}

/// Takes in the lines still on their way after the agent ended; gives up
/// after a quiet second (a process outside the group may hold the pipe).
fn drain(agent: Agent, lines: &Receiver<String>, report: &mut AgentReport) {
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(1)) {
        report.observe(agent, &line);
    }
}

/// Reads the agent's lines until it exits or a timeout stops it.
fn watch(
    agent: Agent,
    settings: &AgentSettings,
    confinement: &Confinement,
    child: &mut Child,
    lines: &Receiver<String>,
    report: &mut AgentReport,
) -> Ending {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(settings.timeout_seconds);
    let idle = Duration::from_secs(settings.idle_timeout_seconds);
    let mut last_output = started;
    let mut open = true;
    loop {
        let now = Instant::now();
        if confinement.stop_requested() {
            return Ending::Stopped;
        }
        if now >= deadline {
            return Ending::TotalTimeout;
        }
        if now >= last_output + idle {
            return Ending::IdleTimeout;
        }
        if open {
            match lines.recv_timeout(POLL) {
                Ok(line) => {
                    last_output = Instant::now();
                    report.observe(agent, &line);
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
        } else {
            std::thread::sleep(POLL);
        }
        match child.try_wait() {
            Ok(Some(status)) => return Ending::Exited(status),
            Ok(None) => {}
            Err(error) => return Ending::Lost(error.to_string()),
        }
    }
}

/// The attempt's outcome from how the agent ended and what it said.
fn judge(
    agent: Agent,
    settings: &AgentSettings,
    ending: Ending,
    report: &AgentReport,
    stderr: &str,
) -> Result<(), String> {
    let name = agent.name();
    let last_stderr = stderr
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map(str::trim);
    match ending {
        Ending::IdleTimeout => Err(format!(
            "{name} printed nothing for {} s and was stopped",
            settings.idle_timeout_seconds
        )),
        Ending::TotalTimeout => Err(format!(
            "{name} ran past its {} s limit and was stopped",
            settings.timeout_seconds
        )),
        Ending::Stopped => Err(format!("{name} was stopped on request")),
        Ending::Lost(error) => Err(format!("lost track of {name}: {error}")),
        Ending::Exited(status) if !status.success() => {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_owned(), |code| code.to_string());
            let detail = report
                .error
                .as_deref()
                .or(last_stderr)
                .unwrap_or("no error message");
            Err(format!("{name} exited with {code}: {detail}"))
        }
        Ending::Exited(_) => {
            if let Some(error) = &report.error {
                Err(format!("{name} reported an error: {error}"))
            } else if !report.finished {
                Err(format!(
                    "{name} exited without its final {} event: {}",
                    agent.final_event(),
                    last_stderr.unwrap_or("no error message")
                ))
            } else {
                Ok(())
            }
        }
    }
}
