//! The versions of the `ralph:plugin` contract this host runs, and how a
//! component's version is read from the names of the interfaces it imports.
//!
//! Versions only add: a plugin built against an older version keeps loading
//! and working. Each version has its own binding module (`bindings`), whose
//! types are converted into the host's, the newest shape, at the edge.

use std::fmt;

use serde::{Serialize, Serializer};

/// The WIT package every plugin is built against.
pub const PACKAGE: &str = "ralph:plugin";

/// A released version of the `ralph:plugin` package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContractVersion {
    /// The first release.
    V0_1_0,
    /// Adds the steering text to the round context and names capabilities
    /// with an `enum`.
    V0_2_0,
}

impl ContractVersion {
    /// Every version this host runs, oldest first.
    pub const SUPPORTED: [ContractVersion; 2] = [Self::V0_1_0, Self::V0_2_0];

    /// The version new plugins are built against.
    pub const NEWEST: ContractVersion = Self::V0_2_0;

    /// The version number, for example `0.2.0`.
    pub fn number(self) -> &'static str {
        match self {
            Self::V0_1_0 => "0.1.0",
            Self::V0_2_0 => "0.2.0",
        }
    }

    /// The full name of one of the package's interfaces in this version,
    /// for example `ralph:plugin/log@0.2.0`.
    pub fn interface(self, interface: Interface) -> String {
        format!("{PACKAGE}/{}@{}", interface.name(), self.number())
    }

    /// The supported version numbers, for messages: `0.1.0, 0.2.0`.
    pub fn supported_numbers() -> String {
        Self::SUPPORTED
            .iter()
            .map(|version| version.number())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for ContractVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.number())
    }
}

impl Serialize for ContractVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.number())
    }
}

/// An interface of the package that a component may import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    /// The plain data (types only).
    Types,
    /// Logging.
    Log,
    /// Reading the repository.
    Repository,
    /// Asking a specialist.
    Consult,
    /// Calling a language model.
    Model,
    /// Amazon Web Services, read-only.
    Aws,
    /// Sentry, read-only.
    Sentry,
    /// Alpaca, read-only.
    Alpaca,
    /// GET requests to allow-listed hosts.
    HttpGet,
}

impl Interface {
    /// The interface's name in the WIT package.
    pub fn name(self) -> &'static str {
        match self {
            Self::Types => "types",
            Self::Log => "log",
            Self::Repository => "repository",
            Self::Consult => "consult",
            Self::Model => "model",
            Self::Aws => "aws",
            Self::Sentry => "sentry",
            Self::Alpaca => "alpaca",
            Self::HttpGet => "http-get",
        }
    }
}

/// Why a component's contract version is not one this host runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// It was built against a version this host does not know.
    #[error(
        "it was built against `{PACKAGE}@{found}`, and this host runs {PACKAGE} {supported}; \
         rebuild it against {newest} (the SDK's version) or update Ralph",
        supported = ContractVersion::supported_numbers(),
        newest = ContractVersion::NEWEST
    )]
    Unsupported {
        /// The version its imports name (`unversioned` when they name none).
        found: String,
    },
    /// Its imports name more than one version.
    #[error(
        "it imports interfaces of more than one `{PACKAGE}` version ({}); build it against one \
         of {supported}",
        found.join(", "),
        supported = ContractVersion::supported_numbers()
    )]
    Mixed {
        /// The versions its imports name, sorted.
        found: Vec<String>,
    },
    /// It imports no interface of the package, so its version is unknown.
    #[error(
        "it imports no `{PACKAGE}` interface (every world uses `{PACKAGE}/types`), so the \
         contract version it was built against is unknown; this host runs {supported}",
        supported = ContractVersion::supported_numbers()
    )]
    Unknown,
}

/// The version of the package a component's `imports` name: all its
/// `ralph:plugin/…` imports must name one version this host runs.
pub fn detect(imports: &[String]) -> Result<ContractVersion, ContractError> {
    let prefix = format!("{PACKAGE}/");
    let mut found: Vec<String> = imports
        .iter()
        .filter_map(|import| import.strip_prefix(&prefix))
        .map(|interface| match interface.split_once('@') {
            Some((_, version)) => version.to_owned(),
            None => "unversioned".to_owned(),
        })
        .collect();
    found.sort();
    found.dedup();
    match found.as_slice() {
        [] => Err(ContractError::Unknown),
        [number] => ContractVersion::SUPPORTED
            .into_iter()
            .find(|version| version.number() == number)
            .ok_or_else(|| ContractError::Unsupported {
                found: number.clone(),
            }),
        _ => Err(ContractError::Mixed { found }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn the_version_is_the_one_the_package_imports_name() {
        let old = imports(&[
            "wasi:cli/environment@0.2.6",
            "ralph:plugin/types@0.1.0",
            "ralph:plugin/log@0.1.0",
        ]);
        assert_eq!(detect(&old), Ok(ContractVersion::V0_1_0));
        let new = imports(&["ralph:plugin/types@0.2.0", "ralph:plugin/model@0.2.0"]);
        assert_eq!(detect(&new), Ok(ContractVersion::V0_2_0));
    }

    #[test]
    fn an_unknown_version_is_refused_naming_it_and_the_supported_ones() {
        let error = ContractError::Unsupported {
            found: "0.9.0".to_owned(),
        };
        assert_eq!(
            detect(&imports(&["ralph:plugin/types@0.9.0"])),
            Err(error.clone())
        );
        let message = error.to_string();
        assert!(message.contains("ralph:plugin@0.9.0"), "{message}");
        assert!(message.contains("0.1.0, 0.2.0"), "{message}");
        let unversioned = detect(&imports(&["ralph:plugin/types"]));
        assert_eq!(
            unversioned,
            Err(ContractError::Unsupported {
                found: "unversioned".to_owned()
            })
        );
    }

    #[test]
    fn imports_of_two_versions_or_of_none_are_refused() {
        let mixed = detect(&imports(&[
            "ralph:plugin/types@0.2.0",
            "ralph:plugin/log@0.1.0",
        ]));
        assert_eq!(
            mixed,
            Err(ContractError::Mixed {
                found: vec!["0.1.0".to_owned(), "0.2.0".to_owned()]
            })
        );
        assert_eq!(
            detect(&imports(&["wasi:io/streams@0.2.6"])),
            Err(ContractError::Unknown)
        );
    }

    #[test]
    fn the_newest_version_is_the_last_supported_one() {
        assert_eq!(
            ContractVersion::SUPPORTED.last(),
            Some(&ContractVersion::NEWEST)
        );
        assert_eq!(
            ContractVersion::V0_2_0.interface(Interface::Log),
            "ralph:plugin/log@0.2.0"
        );
        assert_eq!(ContractVersion::V0_1_0.to_string(), "0.1.0");
    }
}
