//! A bidder built against `ralph:plugin@0.1.0` with wit-bindgen alone, not
//! the SDK (which follows the newest contract), so that it stays a 0.1.0
//! component: a newer host must keep loading and running it.
//!
//! Its metadata asks for `repository` and `consult` by name, as 0.1.0 does.
//! The first line of the issue body names a file to read through the
//! host's `read-file`, the second a specialist to consult; the summary
//! reports the round context it was given and what each call answered.

wit_bindgen::generate!({
    path: "../../../../../wit/0.1.0",
    world: "ralph:plugin/bidder@0.1.0",
});

// The world's own types (`IssueSpec`, `Proposal`, …) are generated at the root.
use ralph::plugin::types::DimensionScores;
use ralph::plugin::{consult, log, repository};

struct Bidder;

impl Guest for Bidder {
    fn metadata() -> Metadata {
        Metadata {
            name: "bidder-0-1-0".to_owned(),
            version: "0.1.0".to_owned(),
            description: "Reports what a 0.1.0 bidder is given".to_owned(),
            capabilities: vec!["repository".to_owned(), "consult".to_owned()],
        }
    }

    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        log::log(log::Level::Info, "Proposing as a 0.1.0 bidder", &[]);
        let mut lines = issue.body.lines();
        let read = match repository::read_file(lines.next().unwrap_or_default()) {
            Ok(text) => text.lines().next().unwrap_or_default().to_owned(),
            Err(error) => format!("{error:?}"),
        };
        let answer = match consult::consult(lines.next().unwrap_or_default(), "Anything?") {
            Ok(answer) => answer,
            Err(error) => format!("{error:?}"),
        };
        let summary = format!(
            "bidder-0-1-0 in round {}, attempt {}; persona: {:?}; failure: {:?}; read: {read}; \
             consulted: {answer}",
            context.round, context.attempt, context.persona, context.failure_report
        );
        Ok(Proposal {
            summary,
            pseudo_code: "report the context".to_owned(),
            requirements_covered: requirements
                .into_iter()
                .map(|requirement| requirement.id)
                .collect(),
            files: Vec::new(),
            planned_tests: Vec::new(),
            patch: None,
            self_estimate: DimensionScores {
                spec_alignment: 0.5,
                technical_quality: 0.5,
                innovation: 0.5,
                risk: 0.5,
                efficiency: 0.5,
            },
        })
    }
}

export!(Bidder);
