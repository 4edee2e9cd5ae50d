//! Smallest change first: asks the model for the change that meets the
//! requirements while touching the fewest files and lines, as a plan and a
//! patch (a plan alone when the model writes no diff).

use ralph_plugin_sdk::model_bidder::ModelBid;
use ralph_plugin_sdk::{
    Bidder, Capability, IssueSpec, PluginError, Proposal, Requirement, RoundContext,
};

struct SmallestChange;

const SYSTEM: &str = "You are a careful senior engineer who makes the smallest correct change \
                      and answers with exact unified diffs.";

const STRATEGY: &str = "Smallest change: meet every requirement while touching the fewest files \
                        and lines you can. Edit existing code rather than adding modules, add no \
                        abstraction the requirements do not need, and extend the nearest existing \
                        test rather than writing new test files. On a replan, fix what the failure \
                        report names and change nothing else.";

impl Bidder for SmallestChange {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository, Capability::Complete]
    }

    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        ModelBid {
            system: SYSTEM,
            strategy: STRATEGY,
            notes: Vec::new(),
            max_tokens: 2048,
        }
        .propose(&issue, &requirements, &context)
    }
}

ralph_plugin_sdk::export_bidder!(SmallestChange);
