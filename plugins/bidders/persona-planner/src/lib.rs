//! Asks the model for a plan, in the persona the host passes in the round
//! context (else `.claude/agents/bidder.md`), tuned by the personality the
//! user configured.

use ralph_plugin_sdk::{
    Bidder, Capability, FileChange, InnovationPreference, IssueSpec, Personality, PluginError,
    Proposal, Requirement, RiskTolerance, RoundContext, Verbosity, host, proposal,
};

struct PersonaPlanner;

const PERSONA_PATH: &str = ".claude/agents/bidder.md";
const FALLBACK_PERSONA: &str = "You are a careful senior engineer bidding to implement an issue.";

/// The persona: the host's, else the repository's default file, else a
/// sentence of our own.
fn persona(context: &RoundContext) -> String {
    if let Some(persona) = &context.persona {
        return persona.clone();
    }
    host::read_file(PERSONA_PATH).unwrap_or_else(|_| {
        host::warn("No persona file; using the default persona");
        FALLBACK_PERSONA.to_owned()
    })
}

/// The personality as instructions, to follow the persona.
fn personality_text(personality: &Personality) -> String {
    let risk = match personality.risk_tolerance {
        RiskTolerance::Conservative => "conservative — prefer the smallest safe change",
        RiskTolerance::Moderate => "moderate — weigh safety against what the change achieves",
        RiskTolerance::Aggressive => "aggressive — accept a larger change for a bigger gain",
    };
    let innovation = match personality.innovation_preference {
        InnovationPreference::Low => "low — follow the patterns the code already uses",
        InnovationPreference::Medium => "medium — improve on the obvious approach where it pays",
        InnovationPreference::High => "high — look for a better approach than the obvious one",
    };
    let verbosity = match personality.verbosity {
        Verbosity::Terse => "terse — keep the plan to two or three sentences",
        Verbosity::Normal => "normal — one paragraph",
        Verbosity::Detailed => "detailed — explain the reasoning behind each step",
    };
    format!(
        "\n\n## Personality\n- Risk tolerance: {risk}\n- Innovation preference: {innovation}\n- Verbosity: {verbosity}\n"
    )
}

/// The most tokens an answer may use: fewer for a terse bidder, more for
/// a detailed one.
fn max_tokens(personality: Option<&Personality>) -> u32 {
    match personality.map(|personality| personality.verbosity) {
        Some(Verbosity::Terse) => 400,
        Some(Verbosity::Detailed) => 1600,
        Some(Verbosity::Normal) | None => 800,
    }
}

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
    prompt.push_str(
        "\nAnswer with a one-paragraph plan, then the change as a unified diff \
         against the repository in a ```diff block.",
    );
    prompt
}

/// Splits a reply into its plan and the unified diff in its ```diff block.
fn split_reply(text: &str) -> (String, Option<String>) {
    let Some(start) = text.find("```diff\n") else {
        return (text.trim().to_owned(), None);
    };
    let body = &text[start + "```diff\n".len()..];
    let end = body.find("\n```").map_or(body.len(), |end| end + 1);
    let patch = body[..end].to_owned();
    (
        text[..start].trim().to_owned(),
        (!patch.trim().is_empty()).then_some(patch),
    )
}

/// The files a unified diff touches, with the lines it adds and removes.
fn files_of(patch: &str) -> Vec<FileChange> {
    let mut files: Vec<FileChange> = Vec::new();
    for line in patch.lines() {
        if let Some(path) = line.strip_prefix("+++ b/") {
            files.push(FileChange {
                path: path.trim().to_owned(),
                estimated_lines: 0,
            });
        } else if (line.starts_with('+') && !line.starts_with("+++"))
            || (line.starts_with('-') && !line.starts_with("---"))
        {
            if let Some(file) = files.last_mut() {
                file.estimated_lines += 1;
            }
        }
    }
    files
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
        let mut system = persona(&context);
        if let Some(personality) = &context.personality {
            system.push_str(&personality_text(personality));
        }
        let completion = host::complete(
            Some(&system),
            &prompt(&issue, &requirements, &context),
            max_tokens(context.personality.as_ref()),
        )?;
        let (text, patch) = split_reply(&completion.text);
        let summary = if text.is_empty() {
            format!("Implement \"{}\" as the model suggests", issue.title)
        } else {
            text
        };
        let mut plan = proposal(summary, &requirements);
        if let Some(patch) = patch {
            plan.files = files_of(&patch);
            plan.patch = Some(patch);
        }
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
