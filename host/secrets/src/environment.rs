//! Which environment variables hold secrets.
//!
//! Two kinds: the credential variables Ralph itself reads
//! ([`CREDENTIAL_VARIABLES`]), and any other variable whose name looks like
//! a credential ([`is_credential_name`]): a token a build script, a check or
//! an agent could print is as secret as Ralph's own.

/// The credential variables Ralph reads: the model providers' keys, GitHub's
/// tokens, and the AWS, Sentry and Alpaca credentials of the integrations.
pub const CREDENTIAL_VARIABLES: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "SENTRY_AUTH_TOKEN",
    "APCA_API_KEY_ID",
    "APCA_API_SECRET_KEY",
];

/// Parts of a name that make it look like a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
];

/// Endings that make a name look like a credential.
const CREDENTIAL_ENDINGS: &[&str] = &["_KEY", "_PAT"];

/// Endings of names that hold where a credential is, not the credential.
const LOCATION_ENDINGS: &[&str] = &["_PATH", "_FILE", "_DIR", "_SOCK"];

/// The shortest value of a variable found by its name alone that is
/// redacted: shorter values (`1`, `true`, `false`) are settings, and
/// redacting them would mangle ordinary text.
pub const SHORTEST_DISCOVERED_SECRET: usize = 8;

/// Whether a variable named `name` holds a secret: one of
/// [`CREDENTIAL_VARIABLES`], or a name (in any case) containing `TOKEN`,
/// `SECRET`, `PASSWORD`, `PASSWD`, `CREDENTIAL`, `API_KEY`, `APIKEY`,
/// `ACCESS_KEY` or `PRIVATE_KEY`, or ending in `_KEY` or `_PAT` — unless it
/// ends in `_PATH`, `_FILE`, `_DIR` or `_SOCK` (where a credential is kept,
/// not the credential).
pub fn is_credential_name(name: &str) -> bool {
    if CREDENTIAL_VARIABLES.contains(&name) {
        return true;
    }
    let name = name.to_ascii_uppercase();
    if LOCATION_ENDINGS.iter().any(|ending| name.ends_with(ending)) {
        return false;
    }
    CREDENTIAL_WORDS.iter().any(|word| name.contains(word))
        || CREDENTIAL_ENDINGS
            .iter()
            .any(|ending| name.ends_with(ending))
}

/// The secret values among `variables`: every value of a
/// [`CREDENTIAL_VARIABLES`] entry, and the values of other credential-like
/// names of at least [`SHORTEST_DISCOVERED_SECRET`] characters.
pub fn secrets_of(variables: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    variables
        .into_iter()
        .filter(|(name, value)| {
            let known = CREDENTIAL_VARIABLES.contains(&name.as_str());
            known
                || (is_credential_name(name)
                    && value.trim().chars().count() >= SHORTEST_DISCOVERED_SECRET)
        })
        .map(|(_, value)| value)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn the_credential_variables_ralph_reads_are_secret() {
        for name in CREDENTIAL_VARIABLES {
            assert!(is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn names_that_look_like_credentials_are_secret() {
        for name in [
            "CARGO_REGISTRY_TOKEN",
            "npm_token",
            "DB_PASSWORD",
            "MY_CLIENT_SECRET_VALUE",
            "STRIPE_API_KEY",
            "SIGNING_KEY",
            "GITLAB_PAT",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
            "DEPLOY_PRIVATE_KEY",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn ordinary_names_and_credential_locations_are_not_secret() {
        for name in [
            "PATH",
            "HOME",
            "CARGO_HOME",
            "SSH_AUTH_SOCK",
            "AWS_REGION",
            "GOOGLE_APPLICATION_CREDENTIALS_FILE",
            "TOKEN_PATH",
            "KEYBOARD",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn short_values_of_discovered_names_are_ignored() {
        let secrets = secrets_of(pairs(&[
            ("TOKENIZERS_PARALLELISM", "false"),
            ("CI_JOB_TOKEN", "glcbt-64-long-enough"),
            ("HOME", "/home/someone/secret-place"),
        ]));
        assert_eq!(secrets, ["glcbt-64-long-enough"]);
    }

    #[test]
    fn the_known_variables_count_whatever_their_length() {
        let secrets = secrets_of(pairs(&[("GH_TOKEN", "abcd"), ("AWS_REGION", "eu-west-1")]));
        assert_eq!(secrets, ["abcd"]);
    }
}
