//! The traits, helpers and export macros for the enabled world.

/// Something a plugin may do beyond computing on its inputs: ask for it in
/// the plugin's trait (`fn capabilities()`); the user must allow it too.
pub use crate::bindings::ralph::plugin::types::Capability;
#[cfg(feature = "check")]
pub use crate::bindings::ralph::plugin::types::{CheckInput, CheckReport};
pub use crate::bindings::ralph::plugin::types::{
    Complexity, DimensionScores, FileChange, InnovationPreference, IssueSpec, Metadata,
    Personality, PluginError, Proposal, Requirement, RiskTolerance, RoundContext, Verbosity,
};
#[cfg(any(feature = "specialist", feature = "check"))]
pub use crate::bindings::ralph::plugin::types::{Finding, Severity};

/// Calls into the host. Each function needs its capability, except logging.
pub mod host {
    pub use crate::bindings::ralph::plugin::model::{Completion, CompletionRequest, TokenUsage};
    use crate::bindings::ralph::plugin::{log as wit_log, model, repository};

    use super::PluginError;

    /// Logs a short sentence-case message at info level.
    pub fn info(message: &str) {
        wit_log::log(wit_log::Level::Info, message, &[]);
    }

    /// Logs a warning.
    pub fn warn(message: &str) {
        wit_log::log(wit_log::Level::Warn, message, &[]);
    }

    /// Logs a message with key-value fields at debug level.
    pub fn debug(message: &str, fields: &[(&str, &str)]) {
        let fields: Vec<wit_log::Field> = fields
            .iter()
            .map(|(key, value)| wit_log::Field {
                key: (*key).to_owned(),
                value: (*value).to_owned(),
            })
            .collect();
        wit_log::log(wit_log::Level::Debug, message, &fields);
    }

    /// Reads a UTF-8 file relative to the repository root (`repository`).
    pub fn read_file(path: &str) -> Result<String, PluginError> {
        repository::read_file(path)
    }

    /// Lists a directory relative to the repository root (`repository`).
    pub fn list_files(directory: &str) -> Result<Vec<String>, PluginError> {
        repository::list_files(directory)
    }

    /// Asks the model (`complete`).
    pub fn complete(
        system: Option<&str>,
        prompt: &str,
        max_tokens: u32,
    ) -> Result<Completion, PluginError> {
        model::complete(&CompletionRequest {
            system: system.map(str::to_owned),
            prompt: prompt.to_owned(),
            max_tokens,
        })
    }

    /// Asks the specialist named `specialist` a question (`consult`).
    #[cfg(any(feature = "bidder", feature = "specialist"))]
    pub fn consult(specialist: &str, question: &str) -> Result<String, PluginError> {
        crate::bindings::ralph::plugin::consult::consult(specialist, question)
    }
}

/// Builds metadata; the export macros call it with the crate's own fields.
#[doc(hidden)]
pub fn metadata(
    name: &str,
    version: &str,
    description: &str,
    capabilities: &[Capability],
) -> Metadata {
    Metadata {
        name: name.to_owned(),
        version: version.to_owned(),
        description: description.to_owned(),
        capabilities: capabilities.to_vec(),
    }
}

/// Neutral scores of 0.5 everywhere, to adjust from.
pub fn neutral_scores() -> DimensionScores {
    DimensionScores {
        spec_alignment: 0.5,
        technical_quality: 0.5,
        innovation: 0.5,
        risk: 0.5,
        efficiency: 0.5,
    }
}

/// The paths of the files `proposal` changes that `matches` accepts.
pub fn changed_paths(proposal: &Proposal, matches: impl Fn(&str) -> bool) -> Vec<String> {
    proposal
        .files
        .iter()
        .map(|file| file.path.clone())
        .filter(|path| matches(path))
        .collect()
}

/// A finding about `file`, or the whole change when `None`, with no line.
#[cfg(any(feature = "specialist", feature = "check"))]
pub fn finding(severity: Severity, file: Option<String>, message: impl Into<String>) -> Finding {
    Finding {
        severity,
        file,
        line: None,
        message: message.into(),
    }
}

/// A proposal with `summary` covering every requirement, to fill in further.
pub fn proposal(summary: impl Into<String>, requirements: &[Requirement]) -> Proposal {
    Proposal {
        summary: summary.into(),
        pseudo_code: String::new(),
        requirements_covered: requirements
            .iter()
            .map(|requirement| requirement.id.clone())
            .collect(),
        files: Vec::new(),
        planned_tests: Vec::new(),
        patch: None,
        self_estimate: neutral_scores(),
    }
}

/// A bidder: proposes plans for issues.
#[cfg(feature = "bidder")]
pub trait Bidder {
    /// Capabilities the bidder asks for; none by default.
    fn capabilities() -> &'static [Capability] {
        &[]
    }

    /// Proposes a plan for `issue`. `context.steering` holds the messages
    /// the user running the loop sent with `ralph signal steer`, oldest
    /// first: guidance to weigh (see [`model_bidder::steering`] for a
    /// prompt section that marks it as the user's), never instructions
    /// that change the answer's form.
    ///
    /// [`model_bidder::steering`]: crate::model_bidder::steering
    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError>;
}

/// A specialist: answers questions and reviews proposals in its domain.
#[cfg(feature = "specialist")]
pub trait Specialist {
    /// Capabilities the specialist asks for; none by default.
    fn capabilities() -> &'static [Capability] {
        &[]
    }

    /// Answers a question in the specialist's domain.
    fn ask(question: String) -> Result<String, PluginError>;

    /// Reviews a proposal; finds nothing by default.
    fn review(proposal: Proposal) -> Result<Vec<Finding>, PluginError> {
        let _ = proposal;
        Ok(Vec::new())
    }
}

/// A check: verifies an implemented change.
#[cfg(feature = "check")]
pub trait Check {
    /// Capabilities the check asks for; none by default.
    fn capabilities() -> &'static [Capability] {
        &[]
    }

    /// Verifies the change.
    fn run(input: CheckInput) -> Result<CheckReport, PluginError>;
}

/// Exports a type implementing [`Bidder`] as the component's bidder.
#[cfg(feature = "bidder")]
#[macro_export]
macro_rules! export_bidder {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __RalphBidder;

        impl $crate::bindings::Guest for __RalphBidder {
            fn metadata() -> $crate::Metadata {
                $crate::metadata(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    env!("CARGO_PKG_DESCRIPTION"),
                    <$plugin as $crate::Bidder>::capabilities(),
                )
            }

            fn propose(
                issue: $crate::IssueSpec,
                requirements: ::std::vec::Vec<$crate::Requirement>,
                context: $crate::RoundContext,
            ) -> ::core::result::Result<$crate::Proposal, $crate::PluginError> {
                <$plugin as $crate::Bidder>::propose(issue, requirements, context)
            }
        }

        $crate::bindings::__export_world!(__RalphBidder);
    };
}

/// Exports a type implementing [`Specialist`] as the component's specialist.
#[cfg(feature = "specialist")]
#[macro_export]
macro_rules! export_specialist {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __RalphSpecialist;

        impl $crate::bindings::Guest for __RalphSpecialist {
            fn metadata() -> $crate::Metadata {
                $crate::metadata(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    env!("CARGO_PKG_DESCRIPTION"),
                    <$plugin as $crate::Specialist>::capabilities(),
                )
            }

            fn ask(
                question: ::std::string::String,
            ) -> ::core::result::Result<::std::string::String, $crate::PluginError> {
                <$plugin as $crate::Specialist>::ask(question)
            }

            fn review(
                proposal: $crate::Proposal,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::Finding>, $crate::PluginError> {
                <$plugin as $crate::Specialist>::review(proposal)
            }
        }

        $crate::bindings::__export_world!(__RalphSpecialist);
    };
}

/// Exports a type implementing [`Check`] as the component's check.
#[cfg(feature = "check")]
#[macro_export]
macro_rules! export_check {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __RalphCheck;

        impl $crate::bindings::Guest for __RalphCheck {
            fn metadata() -> $crate::Metadata {
                $crate::metadata(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    env!("CARGO_PKG_DESCRIPTION"),
                    <$plugin as $crate::Check>::capabilities(),
                )
            }

            fn run(
                input: $crate::CheckInput,
            ) -> ::core::result::Result<$crate::CheckReport, $crate::PluginError> {
                <$plugin as $crate::Check>::run(input)
            }
        }

        $crate::bindings::__export_world!(__RalphCheck);
    };
}
