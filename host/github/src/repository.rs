//! A GitHub repository named `OWNER/NAME`.

use std::fmt;
use std::str::FromStr;

/// A repository on GitHub (or a GitHub Enterprise server).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

/// Text that is not `OWNER/NAME`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a GitHub repository: {problem} (expected OWNER/NAME, e.g. octo-org/hello-world)"
)]
pub struct InvalidRepository {
    pub text: String,
    pub problem: &'static str,
}

impl FromStr for Repository {
    type Err = InvalidRepository;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |problem| InvalidRepository {
            text: text.to_owned(),
            problem,
        };
        let (owner, name) = text.split_once('/').ok_or(invalid("there is no `/`"))?;
        if owner.is_empty() || name.is_empty() {
            return Err(invalid("the owner or the name is empty"));
        }
        if name.contains('/') {
            return Err(invalid("there is more than one `/`"));
        }
        // GitHub: owners are letters, digits and single hyphens inside;
        // names are letters, digits, `-`, `_` and `.`, but not `.` or `..`.
        if owner.starts_with('-')
            || owner.ends_with('-')
            || !owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(invalid(
                "the owner may only hold letters, digits and inner hyphens",
            ));
        }
        if name == "."
            || name == ".."
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                "the name may only hold letters, digits, `-`, `_` and `.`",
            ));
        }
        Ok(Repository {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.owner, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_slash_name_reads_as_a_repository_and_back() {
        let repository: Repository = "octo-org/hello.world_2".parse().expect("valid");
        assert_eq!(repository.owner, "octo-org");
        assert_eq!(repository.name, "hello.world_2");
        assert_eq!(repository.to_string(), "octo-org/hello.world_2");
    }

    #[test]
    fn anything_else_is_refused_saying_what_is_wrong() {
        for (text, problem) in [
            ("hello", "no `/`"),
            ("/hello", "empty"),
            ("octo/", "empty"),
            ("octo/hello/world", "more than one"),
            ("-octo/hello", "owner"),
            ("oc to/hello", "owner"),
            ("octo/..", "name"),
            ("octo/hel lo", "name"),
        ] {
            let error = text.parse::<Repository>().expect_err(text);
            let message = error.to_string();
            assert!(message.contains(problem), "{text}: {message}");
            assert!(message.contains(&format!("`{text}`")), "{message}");
        }
    }
}
