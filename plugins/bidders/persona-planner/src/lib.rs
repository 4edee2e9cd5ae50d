//! Asks the model for a plan and a patch in the persona the host passes in
//! the round context (else `.claude/agents/bidder.md`), tuned by the
//! personality the user configured.

use ralph_plugin_sdk::model_bidder::ModelBid;
use ralph_plugin_sdk::{
    Bidder, Capability, InnovationPreference, IssueSpec, Personality, PluginError, Proposal,
    Requirement, RiskTolerance, RoundContext, Verbosity, host,
};

struct PersonaPlanner;

const PERSONA_PATH: &str = ".claude/agents/bidder.md";
const FALLBACK_PERSONA: &str = "You are a careful senior engineer bidding to implement an issue.";

const STRATEGY: &str = "Plan the change as your persona would, then write it. On a replan, \
                        explain what went wrong and how the new change avoids it.";

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

/// The most tokens an answer (a plan and its diff) may use: fewer for a
/// terse bidder, more for a detailed one.
fn max_tokens(personality: Option<&Personality>) -> u32 {
    match personality.map(|personality| personality.verbosity) {
        Some(Verbosity::Terse) => 1024,
        Some(Verbosity::Detailed) => 3072,
        Some(Verbosity::Normal) | None => 2048,
    }
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
        ModelBid {
            system: &system,
            strategy: STRATEGY,
            notes: Vec::new(),
            max_tokens: max_tokens(context.personality.as_ref()),
        }
        .propose(&issue, &requirements, &context)
    }
}

ralph_plugin_sdk::export_bidder!(PersonaPlanner);
