//! A bidder whose proposal the model writes: one `complete` call asking
//! for a plan **and** a patch in the bidder's own strategy, turned into a
//! proposal with [`Reply`]. The bundled `smallest-change`, `tests-first`
//! and `persona-planner` bidders are built on it.
//!
//! ```text
//! use ralph_plugin_sdk::model_bidder::ModelBid;
//!
//! ModelBid {
//!     system: "You are a careful engineer.",
//!     strategy: "Change as few lines as you can.",
//!     notes: Vec::new(),
//!     max_tokens: 2048,
//! }
//! .propose(&issue, &requirements, &context)
//! ```
//!
//! The prompt holds the issue, its requirements, the files the issue names
//! (with the `repository` capability, as much of them as fits in
//! [`FILE_BUDGET_BYTES`]), the failure report and the previous proposal of
//! a replan, the user's steering messages (marked as theirs: see
//! [`steering`]), the strategy, and the answer's format. Every number in the
//! proposal comes from the reply: the files and lines from its diff, the
//! tests from the test functions the diff adds, the requirements from its
//! `Covers:` line (every requirement when it has none). A reply without a
//! diff is a plan-only proposal, for the `model` or an agent implementer to
//! write: it names the files the plan mentions (else the issue's), with no
//! line estimate, so the implementer is shown them.

use crate::reply::Reply;
use crate::{
    FileChange, IssueSpec, PluginError, Proposal, Requirement, RoundContext, host, neutral_scores,
};

/// How much of the named files' text goes into the prompt, in all.
pub const FILE_BUDGET_BYTES: usize = 24 * 1024;

/// What a model-backed bidder asks.
#[derive(Debug, Clone)]
pub struct ModelBid<'a> {
    /// The system prompt: who the model is.
    pub system: &'a str,
    /// The strategy: what kind of change to propose, in a few sentences.
    pub strategy: &'a str,
    /// More context for the prompt (a specialist's advice), one item each.
    pub notes: Vec<String>,
    /// The most tokens the answer may use.
    pub max_tokens: u32,
}

impl ModelBid<'_> {
    /// Asks the model and turns its reply into a proposal.
    pub fn propose(
        &self,
        issue: &IssueSpec,
        requirements: &[Requirement],
        context: &RoundContext,
    ) -> Result<Proposal, PluginError> {
        let files = named_files(issue);
        let prompt = prompt(issue, requirements, context, self, &files);
        let completion = host::complete(Some(self.system), &prompt, self.max_tokens)?;
        let reply = Reply::parse(&completion.text);
        host::debug(
            "The model answered",
            &[
                ("patch", if reply.patch.is_some() { "yes" } else { "no" }),
                ("lines", &reply.lines_changed().to_string()),
            ],
        );
        let plan_files = if reply.patch.is_some() {
            Vec::new()
        } else {
            plan_files(&reply.plan, &files)
        };
        Ok(proposal_of(&reply, issue, requirements, &plan_files))
    }
}

/// The files a plan without a diff will touch: those it names that can be
/// read, else those of the issue that could be read.
fn plan_files(plan: &str, issue_files: &[(String, Option<String>)]) -> Vec<String> {
    let named: Vec<String> = mentioned_paths(plan)
        .into_iter()
        .filter(|path| host::read_file(path).is_ok())
        .collect();
    if named.is_empty() {
        issue_files.iter().map(|(path, _)| path.clone()).collect()
    } else {
        named
    }
}

/// The paths the issue's text names that can be read, with their text, as
/// much as fits in [`FILE_BUDGET_BYTES`]. Without the `repository`
/// capability there are none.
pub fn named_files(issue: &IssueSpec) -> Vec<(String, Option<String>)> {
    let mut budget = FILE_BUDGET_BYTES;
    let mut files = Vec::new();
    for path in mentioned_paths(&issue.body) {
        let Ok(text) = host::read_file(&path) else {
            continue;
        };
        if text.len() <= budget {
            budget -= text.len();
            files.push((path, Some(text)));
        } else {
            files.push((path, None));
        }
    }
    files
}

/// Words of `text` that look like relative file paths, sorted, once each.
pub fn mentioned_paths(text: &str) -> Vec<String> {
    let mut paths: Vec<String> = text
        .split(|character: char| character.is_whitespace() || "`'\"(),".contains(character))
        .map(|word| word.trim_end_matches(['.', ':', ';']))
        .filter(|word| {
            word.contains('.')
                && !word.starts_with('/')
                && !word.starts_with('.')
                && !word.contains("..")
                && !word.contains("://")
                && word
                    .rsplit('.')
                    .next()
                    .is_some_and(|extension| !extension.is_empty())
        })
        .map(str::to_owned)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The prompt: the issue, the files, a replan's failure, the strategy and
/// the answer's format. `files` holds each named path with its text, or
/// `None` when it did not fit.
pub fn prompt(
    issue: &IssueSpec,
    requirements: &[Requirement],
    context: &RoundContext,
    bid: &ModelBid<'_>,
    files: &[(String, Option<String>)],
) -> String {
    let mut prompt = format!(
        "Issue {}: {}\n\n{}\n\n## Requirements\n",
        issue.id,
        issue.title,
        issue.body.trim()
    );
    for requirement in requirements {
        prompt.push_str(&format!(
            "- {}: {}\n",
            requirement.id, requirement.description
        ));
    }
    if !files.is_empty() {
        prompt.push_str("\n## Files the issue names\n");
        for (path, text) in files {
            match text {
                Some(text) => prompt.push_str(&format!("### {path}\n```\n{text}```\n")),
                None => prompt.push_str(&format!("### {path}\n(too large to show)\n")),
            }
        }
    }
    if let Some(report) = &context.failure_report {
        prompt.push_str(&format!(
            "\n## The previous attempt failed\n{}\n",
            report.trim()
        ));
    }
    if let Some(previous) = &context.previous_proposal {
        prompt.push_str(&format!(
            "\n## Your previous proposal\n{}\nPropose a change that is not the same.\n",
            previous.summary
        ));
    }
    if let Some(section) = steering(context) {
        prompt.push_str(&section);
    }
    for note in &bid.notes {
        prompt.push_str(&format!("\n## Note\n{}\n", note.trim()));
    }
    prompt.push_str(&format!(
        "\n## Strategy\n{}\n\n## Answer\nA one-paragraph plan; then a line `Covers: ` with the ids of the \
         requirements your change meets; then the change as one unified diff against the \
         repository (paths a/ and b/ relative to its root) in a ```diff block. If you cannot \
         write the change, answer with the plan alone.\n",
        bid.strategy.trim()
    ));
    prompt
}

/// The round's steering as a prompt section, or `None` when the user sent
/// none: each message the user running the loop sent with `ralph signal
/// steer`, oldest first, quoted and headed as the user's words, so a model
/// weighs them as guidance rather than reading them as the issue or as
/// instructions about the answer's form.
pub fn steering(context: &RoundContext) -> Option<String> {
    let messages: Vec<&str> = context
        .steering
        .iter()
        .map(|message| message.trim())
        .filter(|message| !message.is_empty())
        .collect();
    if messages.is_empty() {
        return None;
    }
    let mut section = String::from(
        "\n## Steering from the user running this loop\nThe user sent these messages while \
         the loop ran, oldest first. They are the user's words, not part of the issue: \
         follow them where they bear on this change; they do not change the answer's \
         format.\n",
    );
    for message in messages {
        section.push('\n');
        for line in message.lines() {
            section.push_str(&format!("> {line}\n"));
        }
    }
    Some(section)
}

/// The proposal a reply makes: its plan, its patch and what the patch
/// touches; the requirements its `Covers:` line names that exist (every
/// one when it names none); neutral self-estimates, since the scores are
/// the broker's to compute. Without a patch, the proposal names
/// `plan_files` (the files the plan will touch, so an implementer sees
/// them) with no line estimate (0): a plan gives no size.
pub fn proposal_of(
    reply: &Reply,
    issue: &IssueSpec,
    requirements: &[Requirement],
    plan_files: &[String],
) -> Proposal {
    let named: Vec<String> = reply
        .covers
        .iter()
        .filter(|id| {
            requirements
                .iter()
                .any(|requirement| &requirement.id == *id)
        })
        .cloned()
        .collect();
    let requirements_covered = if named.is_empty() {
        requirements
            .iter()
            .map(|requirement| requirement.id.clone())
            .collect()
    } else {
        named
    };
    let summary = reply
        .summary()
        .unwrap_or_else(|| format!("Implement \"{}\" as the model suggests", issue.title));
    Proposal {
        summary,
        pseudo_code: reply.plan.clone(),
        requirements_covered,
        files: if reply.patch.is_some() {
            reply
                .files
                .iter()
                .map(|file| FileChange {
                    path: file.path.clone(),
                    estimated_lines: file.lines(),
                })
                .collect()
        } else {
            plan_files
                .iter()
                .map(|path| FileChange {
                    path: path.clone(),
                    estimated_lines: 0,
                })
                .collect()
        },
        planned_tests: reply.tests.clone(),
        patch: reply.patch.clone(),
        self_estimate: neutral_scores(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Complexity;

    fn issue() -> IssueSpec {
        IssueSpec {
            id: "4".into(),
            title: "Add two".into(),
            body: "Add `two` to `src/lib.rs` (see https://example.com/a.html).".into(),
        }
    }

    fn requirements() -> Vec<Requirement> {
        ["Add two", "Test two"]
            .iter()
            .enumerate()
            .map(|(index, description)| Requirement {
                id: format!("R{}", index + 1),
                description: (*description).into(),
                complexity: Complexity::Small,
            })
            .collect()
    }

    fn context(failure: Option<&str>) -> RoundContext {
        RoundContext {
            round: 1,
            attempt: 1,
            failure_report: failure.map(str::to_owned),
            previous_proposal: None,
            persona: None,
            personality: None,
            steering: Vec::new(),
        }
    }

    fn bid() -> ModelBid<'static> {
        ModelBid {
            system: "system",
            strategy: "Touch the fewest lines.",
            notes: vec!["Tests live in tests/.".into()],
            max_tokens: 100,
        }
    }

    #[test]
    fn mentioned_paths_are_relative_file_names() {
        assert_eq!(mentioned_paths(&issue().body), ["src/lib.rs"]);
        assert!(mentioned_paths("see ../secret.txt and /etc/passwd.d and .env.local").is_empty());
    }

    #[test]
    fn the_prompt_holds_the_issue_the_files_the_failure_and_the_strategy() {
        let files = vec![
            (
                "src/lib.rs".to_owned(),
                Some("pub fn one() {}\n".to_owned()),
            ),
            ("big.rs".to_owned(), None),
        ];
        let prompt = prompt(
            &issue(),
            &requirements(),
            &context(Some("tests failed: water froze at 23")),
            &bid(),
            &files,
        );
        for part in [
            "Issue 4: Add two",
            "- R1: Add two",
            "- R2: Test two",
            "### src/lib.rs\n```\npub fn one() {}\n```",
            "### big.rs\n(too large to show)",
            "## The previous attempt failed\ntests failed: water froze at 23",
            "Tests live in tests/.",
            "## Strategy\nTouch the fewest lines.",
            "```diff block",
        ] {
            assert!(prompt.contains(part), "{part:?} is missing from:\n{prompt}");
        }
        let first = super::prompt(&issue(), &requirements(), &context(None), &bid(), &[]);
        assert!(!first.contains("failed"), "{first}");
    }

    #[test]
    fn the_users_steering_is_in_the_prompt_quoted_and_marked_as_theirs() {
        let mut steered = context(None);
        steered.steering = vec![
            "Prefer a flag over an environment variable.".into(),
            "  ".into(),
            "Keep it in src/cli.rs.\nNo new dependency.".into(),
        ];
        let prompt = prompt(&issue(), &requirements(), &steered, &bid(), &[]);
        let section = "\n## Steering from the user running this loop\n";
        let at = prompt.find(section).unwrap_or_else(|| panic!("{prompt}"));
        let quoted = "> Prefer a flag over an environment variable.\n\n\
                      > Keep it in src/cli.rs.\n> No new dependency.\n";
        assert!(prompt[at..].contains(quoted), "{prompt}");
        assert!(
            at < prompt.find("## Strategy").unwrap_or(0),
            "the steering comes before the strategy:\n{prompt}"
        );
        assert!(!prompt.contains(">   \n"), "{prompt}");
    }

    #[test]
    fn without_steering_the_prompt_has_no_steering_section() {
        let mut blank = context(None);
        blank.steering = vec![" \n".into()];
        assert_eq!(steering(&blank), None);
        let prompt = prompt(&issue(), &requirements(), &blank, &bid(), &[]);
        assert!(!prompt.contains("Steering"), "{prompt}");
    }

    #[test]
    fn a_reply_with_a_patch_is_a_proposal_whose_numbers_are_the_patchs() {
        let reply = Reply::parse(
            "Add `two`.\n\nCovers: R1\n\n```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1,2 @@\n one\n+two\n```\n",
        );
        let proposal = proposal_of(&reply, &issue(), &requirements(), &["ignored.rs".into()]);
        assert_eq!(proposal.summary, "Add `two`.");
        assert_eq!(proposal.requirements_covered, ["R1"]);
        assert_eq!(proposal.files.len(), 1);
        assert_eq!(proposal.files[0].path, "src/lib.rs");
        assert_eq!(proposal.files[0].estimated_lines, 1);
        assert!(proposal.patch.is_some());
        assert!(proposal.planned_tests.is_empty());
    }

    #[test]
    fn a_reply_without_a_patch_is_a_plan_only_proposal_covering_everything() {
        let reply = Reply::parse("Covers: R9\n");
        let proposal = proposal_of(&reply, &issue(), &requirements(), &[]);
        assert_eq!(
            proposal.summary,
            "Implement \"Add two\" as the model suggests"
        );
        assert_eq!(proposal.requirements_covered, ["R1", "R2"]);
        assert!(proposal.files.is_empty());
        assert_eq!(proposal.patch, None);
    }

    #[test]
    fn a_plan_only_proposal_names_the_files_it_will_touch_without_a_size() {
        let reply = Reply::parse("Edit `src/lib.rs`.");
        let proposal = proposal_of(&reply, &issue(), &requirements(), &["src/lib.rs".into()]);
        assert_eq!(proposal.files.len(), 1);
        assert_eq!(proposal.files[0].path, "src/lib.rs");
        assert_eq!(proposal.files[0].estimated_lines, 0);
        assert_eq!(proposal.patch, None);
    }
}
