//! The implementer's report at the end of an iteration (SPEC §8): its final
//! answer may hold one fenced `json` block
//!
//! ```json
//! {"done": ["task-1"], "complete": false, "notes": "…", "plan": "…"}
//! ```
//!
//! and the completion signal is `"complete": true` there, or
//! `<promise>COMPLETE</promise>` as the answer's last line. Nothing else
//! counts: the promise quoted in the middle of the answer (an echoed
//! prompt, a tool's output, a sentence about it) is not a signal. The
//! answer is untrusted text: what it says is only ever data.

use serde::Deserialize;

/// The promise line of the seed's simple loop.
pub const PROMISE: &str = "<promise>COMPLETE</promise>";

/// What the implementer reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// The tasks it says it completed; `None` without a JSON report (then
    /// a change whose checks pass counts every task it was given).
    pub done: Option<Vec<String>>,
    /// Its completion signal: `"complete": true`, or the promise as the
    /// last line.
    pub complete: bool,
    pub notes: String,
    /// A new plan, when it gave one (Markdown).
    pub plan: Option<String>,
    /// Why a `json` block was there but not read, if it was.
    pub unreadable: Option<String>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(default)]
    done: Option<Vec<String>>,
    #[serde(default)]
    complete: bool,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    plan: Option<String>,
}

/// Reads the report in `answer` (the last fenced `json` block that holds an
/// object) and the completion signal.
pub fn read(answer: &str) -> Report {
    let promise = answer
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .is_some_and(|line| line.trim() == PROMISE);
    let mut report = Report {
        complete: promise,
        ..Report::default()
    };
    let Some(block) = last_json_block(answer) else {
        return report;
    };
    match serde_json::from_str::<Block>(block) {
        Ok(block) => {
            report.done = block.done;
            report.complete |= block.complete;
            report.notes = block.notes;
            report.plan = block.plan.filter(|plan| !plan.trim().is_empty());
        }
        Err(error) => report.unreadable = Some(error.to_string()),
    }
    report
}

/// The body of the last ```` ```json ```` fence of `text`.
fn last_json_block(text: &str) -> Option<&str> {
    let start = text.rfind("```json")?;
    let body = &text[start + "```json".len()..];
    let body = body
        .strip_prefix('\n')
        .or_else(|| body.strip_prefix("\r\n"))?;
    let end = body.find("```")?;
    Some(body[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_block_is_the_report() {
        let report = read(
            "I added `two`.\n\n```json\n{\"done\": [\"task-1\"], \"complete\": false, \"notes\": \"one left\"}\n```\n",
        );
        assert_eq!(report.done, Some(vec!["task-1".to_owned()]));
        assert!(!report.complete);
        assert_eq!(report.notes, "one left");
        assert_eq!(report.unreadable, None);
    }

    #[test]
    fn the_promise_counts_only_as_the_last_line() {
        assert!(read("All done.\n<promise>COMPLETE</promise>\n\n").complete);
        // Quoted from the prompt, then more text: not a signal.
        assert!(
            !read("You said: output <promise>COMPLETE</promise> when done.\nStill working.")
                .complete
        );
        assert!(!read("<promise>COMPLETE</promise>\nBut a test fails.").complete);
        assert!(!read("echo '<promise>COMPLETE</promise>'").complete);
    }

    #[test]
    fn an_unreadable_block_is_said_and_counts_as_no_report() {
        let report = read("```json\n{\"done\": \"task-1\"}\n```");
        assert_eq!(report.done, None);
        assert!(report.unreadable.is_some());
        assert_eq!(read("no report at all"), Report::default());
    }
}
