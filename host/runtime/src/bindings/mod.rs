//! Generated bindings, one module per released version of the contract.
//!
//! Each version module converts its generated types into the host's types in
//! [`crate::types`], the newest shape, so nothing else depends on generated
//! code. The host imports (`log`, `repository`, `consult`, `model` and the
//! integrations) are unchanged since 0.1.0: later versions reuse 0.1.0's
//! generated interfaces through bindgen's `with`, so each has one
//! implementation, and [`add_imports`] offers it under every version's name.

use wasmtime::component::{HasSelf, Linker};

use crate::config::World;
use crate::contract::{ContractVersion, Interface};
use crate::loader;
use crate::sandbox::SandboxState;

/// The record `$record` (a version's or the host's `DimensionScores`) with
/// the five scores of `$scores`.
macro_rules! copy_scores {
    ($record:ident, $scores:expr) => {
        $record {
            spec_alignment: $scores.spec_alignment,
            technical_quality: $scores.technical_quality,
            innovation: $scores.innovation,
            risk: $scores.risk,
            efficiency: $scores.efficiency,
        }
    };
}

/// The conversions of the records every version so far defines alike, for
/// the version whose generated `types` module is `$wit`. `round_context_added`
/// names the round context's fields added since 0.1.0, copied as they are.
macro_rules! convert_unchanged_types {
    ($wit:ident, round_context_added: [$($added:ident),*]) => {
        const _: () = {
            use $crate::types as host;

            impl From<$wit::PluginError> for host::GuestError {
                fn from(error: $wit::PluginError) -> Self {
                    match error {
                        $wit::PluginError::Denied(text) => Self::Denied(text),
                        $wit::PluginError::NotFound(text) => Self::NotFound(text),
                        $wit::PluginError::InvalidRequest(text) => Self::InvalidRequest(text),
                        $wit::PluginError::LimitExceeded(text) => Self::LimitExceeded(text),
                        $wit::PluginError::Failed(text) => Self::Failed(text),
                    }
                }
            }

            impl From<&host::Requirement> for $wit::Requirement {
                fn from(requirement: &host::Requirement) -> Self {
                    Self {
                        id: requirement.id.clone(),
                        description: requirement.description.clone(),
                        complexity: match requirement.complexity {
                            host::Complexity::Trivial => $wit::Complexity::Trivial,
                            host::Complexity::Small => $wit::Complexity::Small,
                            host::Complexity::Medium => $wit::Complexity::Medium,
                            host::Complexity::Large => $wit::Complexity::Large,
                            host::Complexity::VeryLarge => $wit::Complexity::VeryLarge,
                        },
                    }
                }
            }

            impl From<&host::IssueSpec> for $wit::IssueSpec {
                fn from(issue: &host::IssueSpec) -> Self {
                    Self {
                        id: issue.id.clone(),
                        title: issue.title.clone(),
                        body: issue.body.clone(),
                    }
                }
            }

            impl From<&host::DimensionScores> for $wit::DimensionScores {
                fn from(scores: &host::DimensionScores) -> Self {
                    copy_scores!(Self, scores)
                }
            }

            impl From<$wit::DimensionScores> for host::DimensionScores {
                fn from(scores: $wit::DimensionScores) -> Self {
                    copy_scores!(Self, scores)
                }
            }

            impl From<&host::Proposal> for $wit::Proposal {
                fn from(proposal: &host::Proposal) -> Self {
                    Self {
                        summary: proposal.summary.clone(),
                        pseudo_code: proposal.pseudo_code.clone(),
                        requirements_covered: proposal.requirements_covered.clone(),
                        files: proposal
                            .files
                            .iter()
                            .map(|file| $wit::FileChange {
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

            impl From<$wit::Proposal> for host::Proposal {
                fn from(proposal: $wit::Proposal) -> Self {
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

            impl From<&host::RoundContext> for $wit::RoundContext {
                fn from(context: &host::RoundContext) -> Self {
                    Self {
                        round: context.round,
                        attempt: context.attempt,
                        failure_report: context.failure_report.clone(),
                        previous_proposal: context.previous_proposal.as_ref().map(Into::into),
                        persona: context.persona.clone(),
                        personality: context.personality.map(Into::into),
                        $($added: context.$added.clone(),)*
                    }
                }
            }

            impl From<host::Personality> for $wit::Personality {
                fn from(personality: host::Personality) -> Self {
                    Self {
                        risk_tolerance: match personality.risk_tolerance {
                            host::RiskTolerance::Conservative => $wit::RiskTolerance::Conservative,
                            host::RiskTolerance::Moderate => $wit::RiskTolerance::Moderate,
                            host::RiskTolerance::Aggressive => $wit::RiskTolerance::Aggressive,
                        },
                        innovation_preference: match personality.innovation_preference {
                            host::InnovationPreference::Low => $wit::InnovationPreference::Low,
                            host::InnovationPreference::Medium => {
                                $wit::InnovationPreference::Medium
                            }
                            host::InnovationPreference::High => $wit::InnovationPreference::High,
                        },
                        verbosity: match personality.verbosity {
                            host::Verbosity::Terse => $wit::Verbosity::Terse,
                            host::Verbosity::Normal => $wit::Verbosity::Normal,
                            host::Verbosity::Detailed => $wit::Verbosity::Detailed,
                        },
                    }
                }
            }

            impl From<$wit::Finding> for host::Finding {
                fn from(finding: $wit::Finding) -> Self {
                    Self {
                        severity: match finding.severity {
                            $wit::Severity::Info => host::Severity::Info,
                            $wit::Severity::Warning => host::Severity::Warning,
                            $wit::Severity::Error => host::Severity::Error,
                        },
                        file: finding.file,
                        line: finding.line,
                        message: finding.message,
                    }
                }
            }

            impl From<&host::CheckInput> for $wit::CheckInput {
                fn from(input: &host::CheckInput) -> Self {
                    Self {
                        diff: input.diff.clone(),
                        changed_files: input.changed_files.clone(),
                        requirements: input.requirements.iter().map(Into::into).collect(),
                    }
                }
            }

            impl From<$wit::CheckReport> for host::CheckReport {
                fn from(report: $wit::CheckReport) -> Self {
                    Self {
                        passed: report.passed,
                        findings: report.findings.into_iter().map(Into::into).collect(),
                        scores: report.scores.map(Into::into),
                    }
                }
            }
        };
    };
}

pub mod v0_1_0;
pub mod v0_2_0;

/// Offers the host's implementation of every interface `world` imports
/// under the names `version` gives them.
pub(crate) fn add_imports(
    linker: &mut Linker<SandboxState>,
    world: World,
    version: ContractVersion,
) -> wasmtime::Result<()> {
    use v0_1_0::bidder::ralph::plugin::{
        alpaca, aws, consult, http_get, log, model, repository, sentry,
    };
    type Host = HasSelf<SandboxState>;
    fn state(state: &mut SandboxState) -> &mut SandboxState {
        state
    }
    for interface in loader::world_imports(world) {
        let mut instance = linker.instance(&version.interface(*interface))?;
        let instance = &mut instance;
        match interface {
            // Types only: the instance needs no functions.
            Interface::Types => {}
            Interface::Log => log::add_to_linker_instance::<_, Host>(instance, state)?,
            Interface::Repository => {
                repository::add_to_linker_instance::<_, Host>(instance, state)?
            }
            Interface::Consult => consult::add_to_linker_instance::<_, Host>(instance, state)?,
            Interface::Model => model::add_to_linker_instance::<_, Host>(instance, state)?,
            Interface::Aws => aws::add_to_linker_instance::<_, Host>(instance, state)?,
            Interface::Sentry => sentry::add_to_linker_instance::<_, Host>(instance, state)?,
            Interface::Alpaca => alpaca::add_to_linker_instance::<_, Host>(instance, state)?,
            Interface::HttpGet => http_get::add_to_linker_instance::<_, Host>(instance, state)?,
        }
    }
    Ok(())
}
