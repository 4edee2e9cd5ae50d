//! `ralph marketplace|simple pull-request N` on GitHub: the pull request's
//! unresolved review feedback becomes a follow-up round of the loop on the
//! same branch, and each piece is answered with the commit that addressed
//! it (`ralph_broker::review_feedback`). With local issues, or with no
//! feedback left, it shows the record as before.

use ralph_broker::issue_source::{self, IssuesSettings};
use ralph_broker::llm::LlmOptions;
use ralph_broker::progress::FinishStatus;
use ralph_broker::review_feedback::{self, ItemKind};
use ralph_broker::round;
use ralph_broker::session::LoopOptions;
use ralph_broker::sessions::LoopKind;
use ralph_broker::simple::{self, SimpleOptions};
use ralph_issues::PullRequests;
use ralph_marketplace::Layout;

use super::issues;
use super::run_loop;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, errln, outln};

/// `pull-request [N]` for the loop `kind`.
pub fn pull_request(layout: &Layout, number: Option<u64>, json: bool, kind: LoopKind) -> Outcome {
    let Some(number) = number else {
        return issues::pull_request(layout, None, json);
    };
    let settings = IssuesSettings::of(layout).map_err(Failure::bad_input)?;
    if settings == IssuesSettings::Local {
        return issues::pull_request(layout, Some(number), json);
    }
    let tracker = issue_source::open(layout, &settings)
        .map_err(|message| Failure::bad_input(anyhow::anyhow!(message)))?;
    let Some(github) = tracker.github.clone() else {
        return issues::pull_request(layout, Some(number), json);
    };
    let record = PullRequests::new(layout)
        .read(number)
        .map_err(Failure::bad_input)?;
    let follow_up =
        review_feedback::follow_up(&github, tracker.issues.as_ref(), number, &record.branch)
            .map_err(|error| {
                if error.is_bad_input() {
                    Failure::bad_input(error)
                } else {
                    Failure::problem(error)
                }
            })?;
    let Some(follow_up) = follow_up else {
        errln!("no unresolved review feedback on the pull request of issue #{number}");
        return issues::pull_request(layout, Some(number), json);
    };
    errln!(
        "{} piece(s) of review feedback on {} become a follow-up round of issue #{number}",
        follow_up.items.len(),
        follow_up.url
    );
    let finished = run_loop::drive(json, async |stop, progress| match kind {
        LoopKind::Marketplace => {
            let options = LoopOptions {
                issue: number,
                stop,
                llm: LlmOptions::default(),
                reviewer: None,
            };
            round::run(layout.clone(), options, progress).await
        }
        LoopKind::Simple => {
            let options = SimpleOptions {
                issue: number,
                stop,
                llm: LlmOptions::default(),
                max_cost_usd: None,
                max_runtime: None,
                new_session: false,
            };
            simple::run(layout.clone(), options, progress).await
        }
    })?;
    if finished.status != FinishStatus::Complete {
        return Ok(run_loop::exit_of(finished.status));
    }
    let issue = tracker
        .issues
        .get(number)
        .map_err(|error| Failure::problem(anyhow::anyhow!(error)))?;
    let answered = review_feedback::answer(
        &github,
        layout.repository(),
        &record.branch,
        &issue,
        &follow_up,
    )
    .map_err(|error| Failure::problem(anyhow::anyhow!(error)))?;
    for answer in &answered {
        let (what, id) = match answer.kind {
            ItemKind::Comment { id } => ("review comment", id),
            ItemKind::Review { id } => ("review", id),
        };
        if json {
            output::json_line(
                &serde_json::json!({"step": "answered", "kind": what, "id": id, "commit": answer.commit})
                    .to_string(),
            );
        } else {
            outln!("answered {what} {id}: addressed in {}", answer.commit);
        }
    }
    Ok(Exit::Success)
}
