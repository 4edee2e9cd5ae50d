//! Asks the model for a plan, in the persona from `.claude/agents/bidder.md`.

use ralph_plugin_sdk::{
    Bidder, Capability, IssueSpec, PluginError, Proposal, Requirement, RoundContext, host, proposal,
};

struct PersonaPlanner;

const PERSONA_PATH: &str = ".claude/agents/bidder.md";
const FALLBACK_PERSONA: &str = "You are a careful senior engineer bidding to implement an issue.";

fn prompt(issue: &IssueSpec, requirements: &[Requirement], context: &RoundContext) -> String {
    let mut prompt = format!(
        "Issue {}: {}\n\n{}\n\nRequirements:\n",
        issue.id, issue.title, issue.body
    );
    for requirement in requirements {
        prompt.push_str(&format!(
            "- {}: {}\n",
            requirement.id, requirement.description
        ));
    }
    if let Some(report) = &context.failure_report {
        prompt.push_str(&format!("\nThe previous attempt failed: {report}\n"));
    }
    if let Some(previous) = &context.previous_proposal {
        prompt.push_str(&format!("\nYour previous proposal: {}\n", previous.summary));
    }
    prompt.push_str("\nAnswer with a one-paragraph plan.");
    prompt
}

impl Bidder for PersonaPlanner {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository, Capability::Complete]
    }

    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        let persona = host::read_file(PERSONA_PATH).unwrap_or_else(|_| {
            host::warn("No persona file; using the default persona");
            FALLBACK_PERSONA.to_owned()
        });
        let completion = host::complete(
            Some(&persona),
            &prompt(&issue, &requirements, &context),
            800,
        )?;
        let text = completion.text.trim();
        let summary = if text.is_empty() {
            format!("Implement \"{}\" as the model suggests", issue.title)
        } else {
            text.to_owned()
        };
        let mut plan = proposal(summary, &requirements);
        plan.pseudo_code = format!(
            "follow the model's plan ({} output tokens)",
            completion.usage.output_tokens
        );
        plan.planned_tests = vec!["tests the model's plan names".to_owned()];
        plan.self_estimate.innovation = 0.7;
        plan.self_estimate.spec_alignment = 0.7;
        plan.self_estimate.risk = 0.5;
        Ok(plan)
    }
}

ralph_plugin_sdk::export_bidder!(PersonaPlanner);
