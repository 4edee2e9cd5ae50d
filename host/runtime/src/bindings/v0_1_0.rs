//! Bindings for `ralph:plugin@0.1.0` and their conversions to host types.

use crate::integrations::IntegrationError;
use crate::logging::{self, Level};
use crate::sandbox::SandboxState;
use crate::types as host;

mod alpaca;
mod aws;
mod http_get;
mod sentry;

/// The `bidder` world; owns the shared interfaces.
pub mod bidder {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.0",
        world: "ralph:plugin/bidder@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

/// The `specialist` world, sharing the bidder world's interfaces.
pub mod specialist {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.0",
        world: "ralph:plugin/specialist@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ralph:plugin/types": super::bidder::ralph::plugin::types,
            "ralph:plugin/log": super::bidder::ralph::plugin::log,
            "ralph:plugin/repository": super::bidder::ralph::plugin::repository,
            "ralph:plugin/consult": super::bidder::ralph::plugin::consult,
            "ralph:plugin/model": super::bidder::ralph::plugin::model,
            "ralph:plugin/aws": super::bidder::ralph::plugin::aws,
            "ralph:plugin/sentry": super::bidder::ralph::plugin::sentry,
            "ralph:plugin/alpaca": super::bidder::ralph::plugin::alpaca,
            "ralph:plugin/http-get": super::bidder::ralph::plugin::http_get,
        },
    });
}

/// The `check` world, sharing the bidder world's interfaces.
pub mod check {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.0",
        world: "ralph:plugin/check@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ralph:plugin/types": super::bidder::ralph::plugin::types,
            "ralph:plugin/log": super::bidder::ralph::plugin::log,
            "ralph:plugin/repository": super::bidder::ralph::plugin::repository,
            "ralph:plugin/model": super::bidder::ralph::plugin::model,
        },
    });
}

use bidder::ralph::plugin::{consult, log, model, repository, types as wit};

impl wit::Host for SandboxState {}

impl log::Host for SandboxState {
    async fn log(
        &mut self,
        level: log::Level,
        message: String,
        fields: Vec<log::Field>,
    ) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|field| (field.key, field.value))
            .collect();
        let count = self.call.log_messages;
        self.call.log_messages = count.saturating_add(1);
        logging::log_counted(self.call.plugin.who(), count, level, &message, &fields);
        Ok(())
    }
}

impl repository::Host for SandboxState {
    async fn read_file(
        &mut self,
        path: String,
    ) -> wasmtime::Result<Result<String, wit::PluginError>> {
        Ok(crate::repository::read_file_for(&self.call, &path).map_err(Into::into))
    }

    async fn list_files(
        &mut self,
        directory: String,
    ) -> wasmtime::Result<Result<Vec<String>, wit::PluginError>> {
        Ok(crate::repository::list_files_for(&self.call, &directory).map_err(Into::into))
    }
}

impl consult::Host for SandboxState {
    async fn consult(
        &mut self,
        specialist: String,
        question: String,
    ) -> wasmtime::Result<Result<String, wit::PluginError>> {
        Ok(
            crate::consult::consult(&mut self.call, &specialist, question)
                .await
                .map_err(Into::into),
        )
    }
}

impl model::Host for SandboxState {
    async fn complete(
        &mut self,
        request: model::CompletionRequest,
    ) -> wasmtime::Result<Result<model::Completion, wit::PluginError>> {
        let request = host::CompletionRequest {
            system: request.system,
            prompt: request.prompt,
            max_tokens: request.max_tokens,
        };
        Ok(crate::model::complete(&mut self.call, request)
            .await
            .map(|completion| model::Completion {
                text: completion.text,
                usage: model::TokenUsage {
                    input_tokens: completion.usage.input_tokens,
                    output_tokens: completion.usage.output_tokens,
                },
            })
            .map_err(Into::into))
    }
}

impl From<IntegrationError> for wit::IntegrationError {
    fn from(error: IntegrationError) -> Self {
        match error {
            IntegrationError::Denied(text) => Self::Denied(text),
            IntegrationError::RateLimited(text) => Self::RateLimited(text),
            IntegrationError::InvalidRequest(text) => Self::InvalidRequest(text),
            IntegrationError::NotConfigured(text) => Self::NotConfigured(text),
            IntegrationError::Failed(text) => Self::Failed(text),
        }
    }
}

impl From<host::GuestError> for wit::PluginError {
    fn from(error: host::GuestError) -> Self {
        match error {
            host::GuestError::Denied(text) => Self::Denied(text),
            host::GuestError::NotFound(text) => Self::NotFound(text),
            host::GuestError::InvalidRequest(text) => Self::InvalidRequest(text),
            host::GuestError::LimitExceeded(text) => Self::LimitExceeded(text),
            host::GuestError::Failed(text) => Self::Failed(text),
        }
    }
}

impl From<wit::PluginError> for host::GuestError {
    fn from(error: wit::PluginError) -> Self {
        match error {
            wit::PluginError::Denied(text) => Self::Denied(text),
            wit::PluginError::NotFound(text) => Self::NotFound(text),
            wit::PluginError::InvalidRequest(text) => Self::InvalidRequest(text),
            wit::PluginError::LimitExceeded(text) => Self::LimitExceeded(text),
            wit::PluginError::Failed(text) => Self::Failed(text),
        }
    }
}

impl From<&host::Requirement> for wit::Requirement {
    fn from(requirement: &host::Requirement) -> Self {
        Self {
            id: requirement.id.clone(),
            description: requirement.description.clone(),
            complexity: match requirement.complexity {
                host::Complexity::Trivial => wit::Complexity::Trivial,
                host::Complexity::Small => wit::Complexity::Small,
                host::Complexity::Medium => wit::Complexity::Medium,
                host::Complexity::Large => wit::Complexity::Large,
                host::Complexity::VeryLarge => wit::Complexity::VeryLarge,
            },
        }
    }
}

impl From<&host::IssueSpec> for wit::IssueSpec {
    fn from(issue: &host::IssueSpec) -> Self {
        Self {
            id: issue.id.clone(),
            title: issue.title.clone(),
            body: issue.body.clone(),
        }
    }
}

impl From<&host::DimensionScores> for wit::DimensionScores {
    fn from(scores: &host::DimensionScores) -> Self {
        Self {
            spec_alignment: scores.spec_alignment,
            technical_quality: scores.technical_quality,
            innovation: scores.innovation,
            risk: scores.risk,
            efficiency: scores.efficiency,
        }
    }
}

impl From<wit::DimensionScores> for host::DimensionScores {
    fn from(scores: wit::DimensionScores) -> Self {
        Self {
            spec_alignment: scores.spec_alignment,
            technical_quality: scores.technical_quality,
            innovation: scores.innovation,
            risk: scores.risk,
            efficiency: scores.efficiency,
        }
    }
}

impl From<&host::Proposal> for wit::Proposal {
    fn from(proposal: &host::Proposal) -> Self {
        Self {
            summary: proposal.summary.clone(),
            pseudo_code: proposal.pseudo_code.clone(),
            requirements_covered: proposal.requirements_covered.clone(),
            files: proposal
                .files
                .iter()
                .map(|file| wit::FileChange {
                    path: file.path.clone(),
                    estimated_lines: file.estimated_lines,
                })
                .collect(),
            planned_tests: proposal.planned_tests.clone(),
            patch: proposal.patch.clone(),
            self_estimate: (&proposal.self_estimate).into(),
        }
    }
}

impl From<wit::Proposal> for host::Proposal {
    fn from(proposal: wit::Proposal) -> Self {
        Self {
            summary: proposal.summary,
            pseudo_code: proposal.pseudo_code,
            requirements_covered: proposal.requirements_covered,
            files: proposal
                .files
                .into_iter()
                .map(|file| host::FileChange {
                    path: file.path,
                    estimated_lines: file.estimated_lines,
                })
                .collect(),
            planned_tests: proposal.planned_tests,
            patch: proposal.patch,
            self_estimate: proposal.self_estimate.into(),
        }
    }
}

impl From<&host::RoundContext> for wit::RoundContext {
    fn from(context: &host::RoundContext) -> Self {
        Self {
            round: context.round,
            attempt: context.attempt,
            failure_report: context.failure_report.clone(),
            previous_proposal: context.previous_proposal.as_ref().map(Into::into),
            persona: context.persona.clone(),
            personality: context.personality.map(Into::into),
        }
    }
}

impl From<host::Personality> for wit::Personality {
    fn from(personality: host::Personality) -> Self {
        Self {
            risk_tolerance: match personality.risk_tolerance {
                host::RiskTolerance::Conservative => wit::RiskTolerance::Conservative,
                host::RiskTolerance::Moderate => wit::RiskTolerance::Moderate,
                host::RiskTolerance::Aggressive => wit::RiskTolerance::Aggressive,
            },
            innovation_preference: match personality.innovation_preference {
                host::InnovationPreference::Low => wit::InnovationPreference::Low,
                host::InnovationPreference::Medium => wit::InnovationPreference::Medium,
                host::InnovationPreference::High => wit::InnovationPreference::High,
            },
            verbosity: match personality.verbosity {
                host::Verbosity::Terse => wit::Verbosity::Terse,
                host::Verbosity::Normal => wit::Verbosity::Normal,
                host::Verbosity::Detailed => wit::Verbosity::Detailed,
            },
        }
    }
}

impl From<wit::Finding> for host::Finding {
    fn from(finding: wit::Finding) -> Self {
        Self {
            severity: match finding.severity {
                wit::Severity::Info => host::Severity::Info,
                wit::Severity::Warning => host::Severity::Warning,
                wit::Severity::Error => host::Severity::Error,
            },
            file: finding.file,
            line: finding.line,
            message: finding.message,
        }
    }
}

impl From<&host::CheckInput> for wit::CheckInput {
    fn from(input: &host::CheckInput) -> Self {
        Self {
            diff: input.diff.clone(),
            changed_files: input.changed_files.clone(),
            requirements: input.requirements.iter().map(Into::into).collect(),
        }
    }
}

impl From<wit::CheckReport> for host::CheckReport {
    fn from(report: wit::CheckReport) -> Self {
        Self {
            passed: report.passed,
            findings: report.findings.into_iter().map(Into::into).collect(),
            scores: report.scores.map(Into::into),
        }
    }
}

impl From<wit::Metadata> for host::Metadata {
    fn from(metadata: wit::Metadata) -> Self {
        Self {
            name: metadata.name,
            version: metadata.version,
            description: metadata.description,
            capabilities: metadata.capabilities,
        }
    }
}
