//! `ralph simple …`: the simple loop, and the issue commands it shares with
//! the marketplace.

use ralph_broker::llm::LlmOptions;
use ralph_broker::simple::{self, SimpleOptions};
use ralph_marketplace::Layout;

use super::{issues, marketplace, run_loop};
use crate::cli::SimpleCommand;
use crate::exit::Outcome;

pub fn run(layout: &Layout, command: SimpleCommand) -> Outcome {
    match command {
        SimpleCommand::Setup(flag) => marketplace::run_setup(layout, flag.json, false),
        SimpleCommand::Spec(spec) => {
            issues::spec(layout, spec.number, spec.file.as_deref(), spec.json.json)
        }
        SimpleCommand::Ready(ready) => issues::ready(layout, ready.number, ready.json.json),
        SimpleCommand::Backlog(flag) => issues::backlog(layout, flag.json),
        SimpleCommand::PullRequest(pull) => super::review::pull_request(
            layout,
            pull.number,
            pull.json.json,
            ralph_broker::sessions::LoopKind::Simple,
        ),
        SimpleCommand::Loop {
            issue,
            max_cost,
            max_runtime,
            new,
            json,
            llm,
        } => {
            let llm = LlmOptions {
                overrides: run_loop::overrides(&llm)?,
                ..LlmOptions::default()
            };
            let finished = run_loop::drive(json.json, async |stop, progress| {
                let options = SimpleOptions {
                    issue,
                    stop,
                    llm,
                    max_cost_usd: max_cost,
                    max_runtime,
                    new_session: new,
                };
                simple::run(layout.clone(), options, progress).await
            })?;
            Ok(run_loop::exit_of(finished.status))
        }
    }
}
