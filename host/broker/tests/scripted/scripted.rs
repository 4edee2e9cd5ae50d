// A test bidder that proposes what a script in the repository says.
//
// Included by the `scripted-a`, `scripted-b` and `scripted-c` crates, each
// defining `LETTER` first. It reads `ralph-script/<LETTER>.json` from the
// repository (read-only, so it needs the `repository` grant, and the script
// must be committed: plugins see a clean checkout of the round's commit): a
// list of proposals, one per round (the last one repeats). An entry with
// `"trap": true` aborts instead. An entry with
// `"completions": N` asks the model `N` times first (it needs the
// `complete` grant), stopping at the first refusal, which it reports after
// its summary as ` [refused: …]`. An entry with `"echo_context": true`
// adds the persona and personality it was given to its summary, and one
// with `"echo_failure_report": true` the failure report of its round
// (` [failure report: …]`, its lines joined by ` / `); one with
// `"echo_steering": true` adds the steering it was given
// (` [steering: …]`, the messages' lines joined by ` / `). An entry
// with `"consult": [SPECIALIST, QUESTION]` asks that specialist (it needs the
// `consult` grant) and adds ` [SPECIALIST: ANSWER]` to its summary, the
// answer's lines joined by ` / `. An entry with `"echo_completion": true`
// adds ` [completion: TEXT]`, the last answer the model gave it; one with
// `"fail": true` returns an error after its completions (so a failed call
// has usage); with
// `"reversed": true` that text and the failure report are written backwards, so that the host's
// redaction of the summary itself cannot hide what the bidder was given.

use ralph_plugin_sdk::{
    Bidder, Capability, FileChange, IssueSpec, PluginError, Proposal, Requirement, RoundContext,
    host, proposal,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Entry {
    summary: String,
    #[serde(default)]
    pseudo_code: String,
    #[serde(default)]
    patch: Option<String>,
    #[serde(default)]
    files: Vec<(String, u32)>,
    #[serde(default)]
    tests: Vec<String>,
    /// How many of the requirements (in order) it claims; all by default.
    #[serde(default)]
    covers: Option<usize>,
    #[serde(default)]
    trap: bool,
    #[serde(default)]
    completions: u32,
    #[serde(default)]
    echo_context: bool,
    #[serde(default)]
    echo_failure_report: bool,
    #[serde(default)]
    echo_steering: bool,
    #[serde(default)]
    consult: Option<(String, String)>,
    #[serde(default)]
    echo_completion: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    fail: bool,
}

/// The persona and personality in `context`, as the summary reports them.
fn echo(context: &RoundContext) -> String {
    let persona = context
        .persona
        .as_deref()
        .map_or("none", |text| text.lines().next().unwrap_or(""));
    let personality = context.personality.map_or("none".to_owned(), |p| {
        format!(
            "{:?}/{:?}/{:?}",
            p.risk_tolerance, p.innovation_preference, p.verbosity
        )
    });
    format!(" [persona: {persona}] [personality: {personality}]")
}

/// Asks the model `count` times: the refusal that stopped it, if any, and
/// the last answer.
fn complete(count: u32) -> (Option<String>, Option<String>) {
    let mut last = None;
    for _ in 0..count {
        match host::complete(Some("You plan changes."), "plan the change", 20) {
            Ok(completion) => last = Some(completion.text),
            Err(error) => return (Some(format!("{error:?}")), last),
        }
    }
    (None, last)
}

struct Scripted;

impl Bidder for Scripted {
    fn capabilities() -> &'static [Capability] {
        &[
            Capability::Repository,
            Capability::Complete,
            Capability::Consult,
        ]
    }

    fn propose(
        _issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        let path = format!("ralph-script/{LETTER}.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|error| PluginError::NotFound(format!("{path}: {error}")))?;
        let entries: Vec<Entry> = serde_json::from_str(&text)
            .map_err(|error| PluginError::InvalidRequest(format!("{path}: {error}")))?;
        let index = usize::try_from(context.round.saturating_sub(1)).unwrap_or(0);
        let entry = entries
            .get(index.min(entries.len().saturating_sub(1)))
            .ok_or_else(|| PluginError::NotFound(format!("{path}: no entries")))?;
        if entry.trap {
            std::process::abort();
        }
        let claimed = &requirements[..entry.covers.unwrap_or(requirements.len()).min(requirements.len())];
        let (refusal, answer) = complete(entry.completions);
        if entry.fail {
            return Err(PluginError::Failed("failed as scripted".into()));
        }
        let mut summary = match refusal {
            Some(refusal) => format!("{} [refused: {refusal}]", entry.summary),
            None => entry.summary.clone(),
        };
        let shown = |text: String| {
            if entry.reversed {
                text.chars().rev().collect()
            } else {
                text
            }
        };
        if entry.echo_completion {
            let answer = shown(answer.unwrap_or_default());
            summary.push_str(&format!(" [completion: {answer}]"));
        }
        if entry.echo_context {
            summary.push_str(&echo(&context));
        }
        if entry.echo_failure_report {
            let report = context.failure_report.as_deref().unwrap_or("none");
            let lines: Vec<&str> = report.lines().collect();
            let report = shown(lines.join(" / "));
            summary.push_str(&format!(" [failure report: {report}]"));
        }
        if entry.echo_steering {
            let lines: Vec<&str> = context
                .steering
                .iter()
                .flat_map(|message| message.lines())
                .collect();
            summary.push_str(&format!(" [steering: {}]", lines.join(" / ")));
        }
        if let Some((specialist, question)) = &entry.consult {
            let answer = host::consult(specialist, question)
                .unwrap_or_else(|error| format!("consult failed: {error:?}"));
            let lines: Vec<&str> = answer.lines().collect();
            summary.push_str(&format!(" [{specialist}: {}]", lines.join(" / ")));
        }
        let mut plan = proposal(summary, claimed);
        plan.pseudo_code = entry.pseudo_code.clone();
        plan.patch = entry.patch.clone();
        plan.files = entry
            .files
            .iter()
            .map(|(path, lines)| FileChange {
                path: path.clone(),
                estimated_lines: *lines,
            })
            .collect();
        plan.planned_tests = entry.tests.clone();
        Ok(plan)
    }
}

ralph_plugin_sdk::export_bidder!(Scripted);
