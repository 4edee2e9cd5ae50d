//! A bidder built with the SDK, so against the newest contract
//! (`ralph:plugin@0.2.0`): its summary echoes the round context's steering
//! messages in order, to prove the host hands them over, and what the
//! host's `read-file` answered for the file the issue body's first line
//! names.

use ralph_plugin_sdk::{
    Bidder, Capability, IssueSpec, PluginError, Proposal, Requirement, RoundContext, host, proposal,
};

struct Steered;

impl Bidder for Steered {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository]
    }

    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        let path = issue.body.lines().next().unwrap_or_default();
        let read = match host::read_file(path) {
            Ok(text) => text.lines().next().unwrap_or_default().to_owned(),
            Err(error) => format!("{error:?}"),
        };
        let summary = format!(
            "bidder-0-2-0 in round {}, attempt {}; steering: [{}]; read: {read}",
            context.round,
            context.attempt,
            context.steering.join(" | ")
        );
        Ok(proposal(summary, &requirements))
    }
}

ralph_plugin_sdk::export_bidder!(Steered);
