//! The three worlds' pre-instantiated components: one enum per world with
//! one variant per contract version. Every call converts the host's types
//! into the version's generated ones at the edge and the answer back into
//! the host's, so the runtime has one call path per export.

use std::future::Future;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::bindings::{v0_1_0, v0_2_0};
use crate::capabilities::UnknownCapability;
use crate::contract::ContractVersion;
use crate::sandbox::SandboxState;
use crate::types::{
    CheckInput, CheckReport, Finding, GuestError, IssueSpec, Metadata, Proposal, Requirement,
    RoundContext,
};

/// What a guest call answered: a fault (a trap, an interrupt), or the
/// plugin's own result in the host's types.
pub(crate) type Answer<T> = wasmtime::Result<Result<T, GuestError>>;

/// Evaluates `$body` for the variant `$self` is, with `$pre` bound to its
/// generated pre-instance and `$version`, when given, naming its bindings
/// module.
macro_rules! for_each_version {
    ($self:expr, |$pre:ident| $body:expr) => {
        match $self {
            Self::V0_1_0($pre) => $body,
            Self::V0_2_0($pre) => $body,
        }
    };
    ($self:expr, |$pre:ident, $version:ident| $body:expr) => {
        match $self {
            Self::V0_1_0($pre) => {
                use v0_1_0 as $version;
                $body
            }
            Self::V0_2_0($pre) => {
                use v0_2_0 as $version;
                $body
            }
        }
    };
}

/// A pre-instantiated component of one world, of any supported version.
pub trait WorldPre: Sized + Send + Sync + 'static {
    /// Checks the exports' types against `version`'s world and wraps the
    /// pre-instance.
    fn new(pre: InstancePre<SandboxState>, version: ContractVersion) -> wasmtime::Result<Self>;

    /// Instantiates into `store` and calls `metadata`.
    fn metadata<'a>(
        &'a self,
        store: &'a mut Store<SandboxState>,
    ) -> impl Future<Output = wasmtime::Result<Result<Metadata, UnknownCapability>>> + Send + 'a;
}

/// Declares a world's enum and its [`WorldPre`] implementation.
macro_rules! world_pre {
    ($(#[$attribute:meta])* $name:ident, $world:ident) => {
        $(#[$attribute])*
        pub enum $name {
            /// Built against `ralph:plugin@0.1.0`.
            V0_1_0(v0_1_0::$world::$name<SandboxState>),
            /// Built against `ralph:plugin@0.2.0`.
            V0_2_0(v0_2_0::$world::$name<SandboxState>),
        }

        impl WorldPre for $name {
            fn new(
                pre: InstancePre<SandboxState>,
                version: ContractVersion,
            ) -> wasmtime::Result<Self> {
                Ok(match version {
                    ContractVersion::V0_1_0 => Self::V0_1_0(v0_1_0::$world::$name::new(pre)?),
                    ContractVersion::V0_2_0 => Self::V0_2_0(v0_2_0::$world::$name::new(pre)?),
                })
            }

            async fn metadata(
                &self,
                store: &mut Store<SandboxState>,
            ) -> wasmtime::Result<Result<Metadata, UnknownCapability>> {
                for_each_version!(self, |pre, version| {
                    let instance = pre.instantiate_async(&mut *store).await?;
                    Ok(version::metadata(instance.call_metadata(&mut *store).await?))
                })
            }
        }
    };
}

world_pre!(
    /// A pre-instantiated bidder.
    BidderPre,
    bidder
);
world_pre!(
    /// A pre-instantiated specialist.
    SpecialistPre,
    specialist
);
world_pre!(
    /// A pre-instantiated check.
    CheckPre,
    check
);

impl BidderPre {
    /// Instantiates into `store` and calls `propose`.
    pub async fn propose(
        &self,
        store: &mut Store<SandboxState>,
        issue: &IssueSpec,
        requirements: &[Requirement],
        context: &RoundContext,
    ) -> Answer<Proposal> {
        for_each_version!(self, |pre, version| {
            let issue = version::wit::IssueSpec::from(issue);
            let requirements: Vec<version::wit::Requirement> =
                requirements.iter().map(Into::into).collect();
            let context = version::wit::RoundContext::from(context);
            let instance = pre.instantiate_async(&mut *store).await?;
            let answer = instance
                .call_propose(&mut *store, &issue, &requirements, &context)
                .await?;
            Ok(answer.map(Into::into).map_err(Into::into))
        })
    }
}

impl SpecialistPre {
    /// Instantiates into `store` and calls `ask`.
    pub async fn ask(&self, store: &mut Store<SandboxState>, question: &str) -> Answer<String> {
        for_each_version!(self, |pre| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let answer = instance.call_ask(&mut *store, question).await?;
            Ok(answer.map_err(Into::into))
        })
    }

    /// Instantiates into `store` and calls `review`.
    pub async fn review(
        &self,
        store: &mut Store<SandboxState>,
        proposal: &Proposal,
    ) -> Answer<Vec<Finding>> {
        for_each_version!(self, |pre, version| {
            let proposal = version::wit::Proposal::from(proposal);
            let instance = pre.instantiate_async(&mut *store).await?;
            let answer = instance.call_review(&mut *store, &proposal).await?;
            Ok(answer
                .map(|findings| findings.into_iter().map(Into::into).collect())
                .map_err(Into::into))
        })
    }
}

impl CheckPre {
    /// Instantiates into `store` and calls `run`.
    pub async fn run(
        &self,
        store: &mut Store<SandboxState>,
        input: &CheckInput,
    ) -> Answer<CheckReport> {
        for_each_version!(self, |pre, version| {
            let input = version::wit::CheckInput::from(input);
            let instance = pre.instantiate_async(&mut *store).await?;
            let answer = instance.call_run(&mut *store, &input).await?;
            Ok(answer.map(Into::into).map_err(Into::into))
        })
    }
}
