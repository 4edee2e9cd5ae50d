//! The host's own copies of the plugin contract's types, in the shape of
//! the newest contract version.
//!
//! The WIT package is the source of truth; `bindings` converts each
//! version's generated types into these at the edge, so the rest of Ralph
//! never depends on one version of the generated code.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::capabilities::Capability;

/// How much work a requirement is expected to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Complexity {
    /// A one-line or configuration-only change.
    Trivial,
    /// A change inside one function or file.
    Small,
    /// A change across a few files.
    Medium,
    /// A change across modules.
    Large,
    /// A redesign of a part of the system.
    VeryLarge,
}

/// One requirement extracted from an issue spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// Stable identifier, for example `R1`.
    pub id: String,
    /// What must be true when the requirement is met.
    pub description: String,
    /// Estimated complexity.
    pub complexity: Complexity,
}

/// The issue a round works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueSpec {
    /// The issue identifier.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// The full issue text in Markdown.
    pub body: String,
}

/// A file a proposal expects to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Path relative to the repository root.
    pub path: String,
    /// Estimated lines added plus removed.
    pub estimated_lines: u32,
}

/// The five scoring dimensions, each between 0.0 and 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DimensionScores {
    /// How closely the proposal follows the issue spec.
    pub spec_alignment: f32,
    /// How sound the technical approach is.
    pub technical_quality: f32,
    /// How much it improves on the obvious approach.
    pub innovation: f32,
    /// How risky the change is: 1.0 is the safest.
    pub risk: f32,
    /// How little work it needs for what it delivers.
    pub efficiency: f32,
}

impl DimensionScores {
    /// The scores with their names, in contract order.
    pub fn named(&self) -> [(&'static str, f32); 5] {
        [
            ("spec-alignment", self.spec_alignment),
            ("technical-quality", self.technical_quality),
            ("innovation", self.innovation),
            ("risk", self.risk),
            ("efficiency", self.efficiency),
        ]
    }
}

/// A bidder's plan for an issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// One paragraph describing the approach.
    pub summary: String,
    /// The approach in pseudo-code.
    pub pseudo_code: String,
    /// Identifiers of the requirements covered.
    pub requirements_covered: Vec<String>,
    /// Files it will touch.
    pub files: Vec<FileChange>,
    /// Tests it plans.
    pub planned_tests: Vec<String>,
    /// An optional unified diff.
    pub patch: Option<String>,
    /// The bidder's own estimate of the five scores.
    pub self_estimate: DimensionScores,
}

/// What a bidder knows about its round.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoundContext {
    /// The round number, starting at 1.
    pub round: u32,
    /// The attempt within the round, starting at 1.
    pub attempt: u32,
    /// Why the previous attempt failed, on a replan.
    pub failure_report: Option<String>,
    /// This bidder's proposal in the previous attempt.
    pub previous_proposal: Option<Proposal>,
    /// The bidder's persona: the text of `.claude/agents/<name>.md`.
    pub persona: Option<String>,
    /// How the user tuned this bidder.
    pub personality: Option<Personality>,
    /// The person's STEER messages for this loop, oldest first: untrusted
    /// text from the user running the loop. Plugins built against
    /// `ralph:plugin@0.1.0` never see it.
    #[serde(default)]
    pub steering: Vec<String>,
}

/// How much risk a bidder is asked to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskTolerance {
    /// Prefer the smallest safe change.
    Conservative,
    /// Weigh safety and reach evenly.
    #[default]
    Moderate,
    /// Accept larger changes for a bigger gain.
    Aggressive,
}

/// How much a bidder is asked to look beyond the obvious approach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InnovationPreference {
    /// Stick to established patterns.
    Low,
    /// Improve on the obvious approach where it pays.
    #[default]
    Medium,
    /// Look for a new, better approach.
    High,
}

/// How much a bidder is asked to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// As short as possible.
    Terse,
    /// The usual detail.
    #[default]
    Normal,
    /// Explain the reasoning in full.
    Detailed,
}

/// How the user tuned a bidder; a setting left out of the config takes the
/// middle value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Personality {
    pub risk_tolerance: RiskTolerance,
    pub innovation_preference: InnovationPreference,
    pub verbosity: Verbosity,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Should be fixed.
    Warning,
    /// Must be fixed.
    Error,
}

/// One observation about a proposal or a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// The file it concerns.
    pub file: Option<String>,
    /// The 1-based line.
    pub line: Option<u32>,
    /// A sentence a developer can act on.
    pub message: String,
}

/// What a check verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInput {
    /// The change as a unified diff.
    pub diff: String,
    /// Paths of the changed files.
    pub changed_files: Vec<String>,
    /// The requirements the change is meant to meet.
    pub requirements: Vec<Requirement>,
}

/// A check's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Whether the change passes.
    pub passed: bool,
    /// What the check found.
    pub findings: Vec<Finding>,
    /// Optional scores for the change.
    pub scores: Option<DimensionScores>,
}

/// Who a plugin is and what it asks for, as the plugin reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Unique name.
    pub name: String,
    /// Semantic version.
    pub version: String,
    /// One sentence on what it does.
    pub description: String,
    /// The capabilities it wants, in the order it declared them.
    pub capabilities: Vec<Capability>,
}

/// An error a plugin returned, or that the host returned to a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "message")]
pub enum GuestError {
    /// The named capability was not both requested and granted.
    Denied(String),
    /// The thing asked for does not exist.
    NotFound(String),
    /// The request was malformed.
    InvalidRequest(String),
    /// A limit was reached.
    LimitExceeded(String),
    /// Anything else.
    Failed(String),
}

impl fmt::Display for GuestError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Denied(capability) => write!(formatter, "denied the `{capability}` capability"),
            Self::NotFound(what) => write!(formatter, "not found: {what}"),
            Self::InvalidRequest(why) => write!(formatter, "invalid request: {why}"),
            Self::LimitExceeded(why) => write!(formatter, "limit exceeded: {why}"),
            Self::Failed(why) => write!(formatter, "{why}"),
        }
    }
}

/// A completion request from a plugin to the model provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// Instructions that set the model's role.
    pub system: Option<String>,
    /// The prompt.
    pub prompt: String,
    /// The most tokens the answer may use.
    pub max_tokens: u32,
}

/// Tokens a completion used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens in the request.
    pub input_tokens: u32,
    /// Tokens in the answer.
    pub output_tokens: u32,
}

impl TokenUsage {
    /// Adds another usage to this one, saturating.
    pub fn add(&mut self, other: TokenUsage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
    }
}

/// The model usage of one plugin call: how many `complete` calls it made
/// and their tokens, nested consultations included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelUsage {
    /// Completions answered by the provider.
    pub calls: u32,
    /// Tokens in the requests.
    pub input_tokens: u64,
    /// Tokens in the answers.
    pub output_tokens: u64,
}

impl ModelUsage {
    /// Charges one completion's tokens.
    pub fn charge(&mut self, tokens: TokenUsage) {
        self.calls = self.calls.saturating_add(1);
        self.input_tokens = self
            .input_tokens
            .saturating_add(u64::from(tokens.input_tokens));
        self.output_tokens = self
            .output_tokens
            .saturating_add(u64::from(tokens.output_tokens));
    }

    /// Adds another call's usage (a nested consultation's) to this one.
    pub fn add(&mut self, other: ModelUsage) {
        self.calls = self.calls.saturating_add(other.calls);
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
    }

    /// Input and output tokens together.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// The answer text.
    pub text: String,
    /// What it cost.
    pub usage: TokenUsage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_errors_read_as_sentences() {
        let cases = [
            (
                GuestError::Denied("consult".to_owned()),
                "denied the `consult` capability",
            ),
            (GuestError::NotFound("a.rs".to_owned()), "not found: a.rs"),
            (
                GuestError::InvalidRequest("bad".to_owned()),
                "invalid request: bad",
            ),
            (
                GuestError::LimitExceeded("deep".to_owned()),
                "limit exceeded: deep",
            ),
            (GuestError::Failed("broke".to_owned()), "broke"),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn usage_adds_up_without_overflowing() {
        let mut usage = TokenUsage {
            input_tokens: u32::MAX - 1,
            output_tokens: 1,
        };
        usage.add(TokenUsage {
            input_tokens: 5,
            output_tokens: 2,
        });
        assert_eq!(usage.input_tokens, u32::MAX);
        assert_eq!(usage.output_tokens, 3);
    }

    #[test]
    fn model_usage_counts_calls_and_adds_nested_usage() {
        let mut usage = ModelUsage::default();
        usage.charge(TokenUsage {
            input_tokens: u32::MAX,
            output_tokens: 2,
        });
        usage.charge(TokenUsage {
            input_tokens: 1,
            output_tokens: 3,
        });
        assert_eq!(usage.calls, 2);
        assert_eq!(usage.input_tokens, u64::from(u32::MAX) + 1);
        let mut outer = ModelUsage {
            calls: 1,
            input_tokens: 10,
            output_tokens: 5,
        };
        outer.add(usage);
        assert_eq!(outer.calls, 3);
        assert_eq!(outer.total_tokens(), u64::from(u32::MAX) + 1 + 10 + 10);
    }
}
