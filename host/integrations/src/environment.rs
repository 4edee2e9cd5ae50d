//! Credentials come from the environment, and only from there.
//!
//! The environment is read through an [`Environment`] map, so tests give the
//! gateway their own variables instead of changing the process's.

use std::collections::BTreeMap;
use std::fmt;

/// Every variable the integrations read.
pub const VARIABLES: &[&str] = &[
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN,
    AWS_REGION,
    AWS_DEFAULT_REGION,
    SENTRY_AUTH_TOKEN,
    APCA_API_KEY_ID,
    APCA_API_SECRET_KEY,
];

pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const SENTRY_AUTH_TOKEN: &str = "SENTRY_AUTH_TOKEN";
pub const APCA_API_KEY_ID: &str = "APCA_API_KEY_ID";
pub const APCA_API_SECRET_KEY: &str = "APCA_API_SECRET_KEY";

/// The variables that hold secrets: their values are redacted wherever they appear.
pub const SECRET_VARIABLES: &[&str] = &[
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN,
    SENTRY_AUTH_TOKEN,
    APCA_API_KEY_ID,
    APCA_API_SECRET_KEY,
];

/// The environment variables the integrations may read. Its `Debug` output
/// names the variables but never shows their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    variables: BTreeMap<String, String>,
}

impl Environment {
    /// The process's values of [`VARIABLES`]; nothing else is read.
    pub fn from_process() -> Self {
        Self::from_pairs(VARIABLES.iter().filter_map(|name| {
            std::env::var(name)
                .ok()
                .map(|value| ((*name).to_owned(), value))
        }))
    }

    /// An environment holding exactly `pairs`.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            variables: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// The variable's value, when it is set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    /// The values of every secret variable that is set.
    pub fn secrets(&self) -> Vec<String> {
        SECRET_VARIABLES
            .iter()
            .filter_map(|name| self.get(name))
            .map(str::to_owned)
            .collect()
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Environment")
            .field("variables", &self.variables.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_count_as_unset() {
        let environment = Environment::from_pairs([(SENTRY_AUTH_TOKEN, "  ")]);
        assert_eq!(environment.get(SENTRY_AUTH_TOKEN), None);
    }

    #[test]
    fn secrets_are_the_values_of_the_secret_variables_only() {
        let environment = Environment::from_pairs([
            (AWS_SECRET_ACCESS_KEY, "secret-value"),
            (AWS_REGION, "eu-west-1"),
            (APCA_API_KEY_ID, "key-id"),
        ]);
        let mut secrets = environment.secrets();
        secrets.sort();
        assert_eq!(secrets, ["key-id", "secret-value"]);
    }

    #[test]
    fn every_secret_variable_is_one_the_host_redactor_knows() {
        for name in SECRET_VARIABLES {
            assert!(
                ralph_secrets::CREDENTIAL_VARIABLES.contains(name),
                "{name} is missing from ralph_secrets::CREDENTIAL_VARIABLES"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_values() {
        let environment = Environment::from_pairs([(AWS_SECRET_ACCESS_KEY, "secret-value")]);
        let shown = format!("{environment:?}");
        assert!(shown.contains(AWS_SECRET_ACCESS_KEY));
        assert!(!shown.contains("secret-value"));
    }

    #[test]
    fn the_process_environment_is_read_only_for_known_variables() {
        let environment = Environment::from_process();
        assert!(
            environment
                .variables
                .keys()
                .all(|name| VARIABLES.contains(&name.as_str()))
        );
    }
}
