//! Tests first: asks the model for the failing tests that state each
//! requirement, then the code that makes them pass, as a plan and a patch
//! (a plan alone when the model writes no diff). Asks the
//! `rust-conventions` specialist where tests belong, when it may.

use ralph_plugin_sdk::model_bidder::ModelBid;
use ralph_plugin_sdk::{
    Bidder, Capability, IssueSpec, PluginError, Proposal, Requirement, RoundContext, host,
};

struct TestsFirst;

const SYSTEM: &str = "You are a careful senior engineer who works test first and answers with \
                      exact unified diffs.";

const STRATEGY: &str = "Tests first: for each requirement, write the test that fails without the \
                        change and passes with it, naming it after the rule it states; then write \
                        the code that makes every test pass. Put the tests in the diff before the \
                        code. On a replan, first add a test that reproduces the failure the report \
                        names.";

impl Bidder for TestsFirst {
    fn capabilities() -> &'static [Capability] {
        &[
            Capability::Repository,
            Capability::Consult,
            Capability::Complete,
        ]
    }

    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        let notes = match host::consult("rust-conventions", "Where do tests live?") {
            Ok(advice) => vec![format!("Where tests live in this repository: {advice}")],
            Err(_) => Vec::new(),
        };
        ModelBid {
            system: SYSTEM,
            strategy: STRATEGY,
            notes,
            max_tokens: 2048,
        }
        .propose(&issue, &requirements, &context)
    }
}

ralph_plugin_sdk::export_bidder!(TestsFirst);
