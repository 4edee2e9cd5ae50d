//! What the implementer is told in one iteration of the simple loop, after
//! the issue itself: its tasks, the session's progress, what failed last
//! time and the steering, then how to report. A fresh prompt each
//! iteration (context rotation): it carries only the session's files.

use super::report::PROMISE;

/// One task as the brief lists it.
pub struct BriefTask<'a> {
    pub id: &'a str,
    /// The issue's checkbox (untrusted text).
    pub text: &'a str,
}

/// Everything one iteration's brief says.
pub struct Brief<'a> {
    pub iteration: u32,
    pub max_iterations: u32,
    /// The tasks to work on now.
    pub open: Vec<BriefTask<'a>>,
    /// The tasks already done.
    pub done: Vec<BriefTask<'a>>,
    /// `progress.md` as it stands.
    pub progress: &'a str,
    /// The feedback this iteration acts on: what failed last time, and
    /// what a person added.
    pub feedback: Vec<String>,
    /// The person's STEER messages (untrusted text).
    pub steering: Vec<String>,
    /// The person's INFO messages: context, not a change of plan.
    pub info: Vec<String>,
}

impl Brief<'_> {
    /// The brief as Markdown. Text that did not come from Ralph (the
    /// checkboxes, the checks' output, the steering, the progress) sits
    /// between markers as data.
    pub fn render(&self) -> String {
        let list = |tasks: &[BriefTask<'_>]| -> String {
            if tasks.is_empty() {
                "- (none)".to_owned()
            } else {
                tasks
                    .iter()
                    .map(|task| format!("- {}: {}", task.id, task.text))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        let mut text = format!(
            "## Iteration {} of at most {}\n\
             Each task is one of the issue's checkboxes. Work on a logically related group of the open tasks \
             (the same files, the same concepts), finish it well, and stop: the next iteration starts afresh with the rest.\n\n\
             ### Open tasks\n{}\n\n### Done already\n{}\n\n",
            self.iteration,
            self.max_iterations,
            list(&self.open),
            list(&self.done),
        );
        if self.open.is_empty() {
            text.push_str(
                "Every task is done. Check that the work is finished; if it is, report `\"complete\": true`; if not, fix what is missing and say what in `notes`.\n\n",
            );
        }
        text.push_str(&format!(
            "### The session's progress\n<<<progress\n{}\n>>>progress\n\n",
            self.progress.trim_end()
        ));
        for (index, feedback) in self.feedback.iter().enumerate() {
            text.push_str(&format!(
                "### Feedback {}: what failed, to fix first\n<<<feedback\n{}\n>>>feedback\n\n",
                index + 1,
                feedback.trim_end()
            ));
        }
        if !self.steering.is_empty() {
            text.push_str(
                "### Steering from the person running the loop\nTheir messages, oldest first, between the markers: follow them where they concern this work.\n",
            );
            for message in &self.steering {
                text.push_str(&format!("<<<steer\n{}\n>>>steer\n", message.trim_end()));
            }
            text.push('\n');
        }
        if !self.info.is_empty() {
            text.push_str(
                "### Information from the person running the loop\nContext for the work, between the markers; it does not change the tasks.\n",
            );
            for message in &self.info {
                text.push_str(&format!("<<<info\n{}\n>>>info\n", message.trim_end()));
            }
            text.push('\n');
        }
        text.push_str(&format!(
            "### Your report\n\
             Ralph commits your change and runs every check itself. End your final answer with one fenced `json` block:\n\n\
             ```json\n{{\"done\": [\"task-1\"], \"complete\": false, \"notes\": \"what you did, and what is left\"}}\n```\n\n\
             `done` lists the tasks (by id) you completed in this iteration; only tasks whose change passes the checks are ticked. \
             Set `complete` to true only when every task is done and nothing is left (the line {PROMISE} as your answer's very last line says the same). \
             You may add `\"plan\"`: a new plan in Markdown, when the work turned out to need one.\n"
        ));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brief_names_the_tasks_the_feedback_and_the_steering_as_data() {
        let brief = Brief {
            iteration: 2,
            max_iterations: 10,
            open: vec![BriefTask {
                id: "task-2",
                text: "Add `three`",
            }],
            done: vec![BriefTask {
                id: "task-1",
                text: "Add `two`",
            }],
            progress: "# Progress\n- [x] task-1",
            feedback: vec!["tests failed: expected 3".to_owned()],
            steering: vec!["use a const fn".to_owned()],
            info: vec!["the CI runs on stable".to_owned()],
        }
        .render();
        assert!(
            brief.contains("### Open tasks\n- task-2: Add `three`"),
            "{brief}"
        );
        assert!(
            brief.contains("### Done already\n- task-1: Add `two`"),
            "{brief}"
        );
        assert!(
            brief.contains("<<<feedback\ntests failed: expected 3\n>>>feedback"),
            "{brief}"
        );
        assert!(
            brief.contains("<<<steer\nuse a const fn\n>>>steer"),
            "{brief}"
        );
        assert!(
            brief.contains("<<<info\nthe CI runs on stable\n>>>info"),
            "{brief}"
        );
        assert!(brief.contains("```json\n{\"done\""), "{brief}");
    }
}
