//! Capabilities: default-deny, checked in one place.
//!
//! A plugin declares the capabilities it wants in its metadata and the user
//! grants capabilities in `.ralph/config.json`. [`authorize`] is the one
//! function every host import calls before doing anything: the capability
//! must be both requested and granted.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Something a plugin may do beyond computing on its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Read files and list directories through the `repository` interface.
    Repository,
    /// Ask specialists through the `consult` interface.
    Consult,
    /// Call a language model through the `model` interface.
    Complete,
    /// Read ECS services and CloudWatch Logs through the `aws` interface.
    Aws,
    /// Read a Sentry project's issues and events through the `sentry` interface.
    Sentry,
    /// Read an Alpaca account, positions and orders through the `alpaca` interface.
    Alpaca,
    /// GET allow-listed URLs through the `http-get` interface.
    HttpGet,
}

impl Capability {
    /// Every capability this host knows, in a stable order.
    pub const ALL: [Capability; 7] = [
        Self::Repository,
        Self::Consult,
        Self::Complete,
        Self::Aws,
        Self::Sentry,
        Self::Alpaca,
        Self::HttpGet,
    ];

    /// The capability's name as plugins and configuration spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Repository => "repository",
            Self::Consult => "consult",
            Self::Complete => "complete",
            Self::Aws => "aws",
            Self::Sentry => "sentry",
            Self::Alpaca => "alpaca",
            Self::HttpGet => "http-get",
        }
    }

    /// Whether this capability reaches an external system. Those are granted
    /// by the user's approvals (`ralph permissions`), checked by the
    /// [`IntegrationHost`](crate::integrations::IntegrationHost), not by the
    /// config's grants.
    pub fn is_integration(self) -> bool {
        matches!(
            self,
            Self::Aws | Self::Sentry | Self::Alpaca | Self::HttpGet
        )
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A capability name this host does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown capability `{0}` (known: repository, consult, complete, aws, sentry, alpaca, http-get)"
)]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|capability| capability.name() == name)
            .ok_or_else(|| UnknownCapability(name.to_owned()))
    }
}

/// What one loaded plugin may do: the intersection of its request and the
/// user's grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapabilitySet {
    requested: BTreeSet<Capability>,
    granted: BTreeSet<Capability>,
}

impl CapabilitySet {
    /// Combines what a plugin requested with what the user granted.
    pub fn new(requested: BTreeSet<Capability>, granted: BTreeSet<Capability>) -> Self {
        Self { requested, granted }
    }

    /// Capabilities the plugin asked for.
    pub fn requested(&self) -> &BTreeSet<Capability> {
        &self.requested
    }

    /// Capabilities the user granted.
    pub fn granted(&self) -> &BTreeSet<Capability> {
        &self.granted
    }

    /// Capabilities the plugin may actually use.
    pub fn effective(&self) -> BTreeSet<Capability> {
        self.requested
            .intersection(&self.granted)
            .copied()
            .collect()
    }
}

/// A refused capability check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the `{0}` capability was not both requested and granted")]
pub struct Denied(pub Capability);

/// The one capability check: allowed only when requested and granted.
pub fn authorize(plugin: &str, set: &CapabilitySet, capability: Capability) -> Result<(), Denied> {
    if set.requested.contains(&capability) && set.granted.contains(&capability) {
        Ok(())
    } else {
        tracing::warn!(plugin, %capability, "Denied a capability");
        Err(Denied(capability))
    }
}

/// Parses the capability names a plugin declared, in their order; an
/// unknown name is an error.
pub fn parse_requested(names: &[String]) -> Result<Vec<Capability>, UnknownCapability> {
    names.iter().map(|name| name.parse()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(requested: &[Capability], granted: &[Capability]) -> CapabilitySet {
        CapabilitySet::new(
            requested.iter().copied().collect(),
            granted.iter().copied().collect(),
        )
    }

    #[test]
    fn a_capability_requested_and_granted_is_allowed() {
        let capabilities = set(&[Capability::Consult], &[Capability::Consult]);
        assert_eq!(authorize("p", &capabilities, Capability::Consult), Ok(()));
    }

    #[test]
    fn a_capability_granted_but_not_requested_is_denied() {
        let capabilities = set(&[], &[Capability::Complete]);
        assert_eq!(
            authorize("p", &capabilities, Capability::Complete),
            Err(Denied(Capability::Complete))
        );
    }

    #[test]
    fn a_capability_requested_but_not_granted_is_denied() {
        let capabilities = set(&[Capability::Repository], &[]);
        assert_eq!(
            authorize("p", &capabilities, Capability::Repository),
            Err(Denied(Capability::Repository))
        );
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        let capabilities = CapabilitySet::default();
        for capability in Capability::ALL {
            assert!(authorize("p", &capabilities, capability).is_err());
        }
    }

    #[test]
    fn an_unknown_capability_name_is_an_error() {
        let names = vec!["consult".to_owned(), "s3".to_owned()];
        assert_eq!(
            parse_requested(&names),
            Err(UnknownCapability("s3".to_owned()))
        );
    }

    #[test]
    fn names_round_trip() {
        for capability in Capability::ALL {
            assert_eq!(capability.name().parse(), Ok(capability));
        }
        assert_eq!(
            set(&Capability::ALL, &[Capability::Consult]).effective(),
            [Capability::Consult].into_iter().collect()
        );
    }
}
