//! Finding the GitHub token: `GITHUB_TOKEN`, else `GH_TOKEN`, else
//! `gh auth token` when the GitHub CLI is on `PATH`.
//!
//! The token is only ever named by where it came from ([`TokenOrigin`]):
//! [`Token`]'s `Debug` and `Display` never show its value.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A GitHub token. Only [`Token::expose`] shows the value, for the
/// `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }

    /// The value, to send to GitHub and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted token>")
    }
}

/// Where a token came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenOrigin {
    GithubTokenVariable,
    GhTokenVariable,
    GhAuthToken,
    /// Given by the caller (tests, or a token the user passed explicitly).
    Given,
}

impl fmt::Display for TokenOrigin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            TokenOrigin::GithubTokenVariable => "the GITHUB_TOKEN environment variable",
            TokenOrigin::GhTokenVariable => "the GH_TOKEN environment variable",
            TokenOrigin::GhAuthToken => "`gh auth token` (the GitHub CLI's login)",
            TokenOrigin::Given => "the token given to Ralph",
        })
    }
}

/// A token and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub token: Token,
    pub origin: TokenOrigin,
}

/// No token anywhere Ralph looks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "no GitHub token: set GITHUB_TOKEN or GH_TOKEN, or log in with the GitHub CLI (`gh auth login`){}",
    gh_note(*.gh_found)
)]
pub struct NoToken {
    /// Whether `gh` was found on `PATH` (and gave no token).
    pub gh_found: bool,
}

fn gh_note(gh_found: bool) -> &'static str {
    if gh_found {
        "; `gh auth token` gave none"
    } else {
        "; `gh` is not on PATH"
    }
}

/// Looks for a token in this process's environment and with the `gh` on
/// its `PATH`.
pub fn discover() -> Result<Credentials, NoToken> {
    let environment = |name: &str| std::env::var(name).ok();
    let gh = std::env::var_os("PATH").and_then(|path| find_on_path("gh", &path));
    discover_with(&environment, gh.as_deref())
}

/// Looks for a token in `environment` (a variable lookup), then asks the
/// `gh` program at `gh` (when given) for `gh auth token`. Empty values
/// and a failing `gh` count as no token.
pub fn discover_with(
    environment: &dyn Fn(&str) -> Option<String>,
    gh: Option<&Path>,
) -> Result<Credentials, NoToken> {
    for (name, origin) in [
        ("GITHUB_TOKEN", TokenOrigin::GithubTokenVariable),
        ("GH_TOKEN", TokenOrigin::GhTokenVariable),
    ] {
        if let Some(value) = environment(name).and_then(non_empty) {
            return Ok(Credentials {
                token: Token(value),
                origin,
            });
        }
    }
    let Some(gh) = gh else {
        return Err(NoToken { gh_found: false });
    };
    gh_auth_token(gh)
        .map(|value| Credentials {
            token: Token(value),
            origin: TokenOrigin::GhAuthToken,
        })
        .ok_or(NoToken { gh_found: true })
}

/// The first executable file `program` in the directories of `path`.
pub fn find_on_path(program: &str, path: &OsString) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|directory| directory.join(program))
        .find(|candidate| candidate.is_file())
}

/// `gh auth token`'s output, trimmed; `None` when it fails or prints
/// nothing. Its standard error (which may describe the login) is dropped.
fn gh_auth_token(gh: &Path) -> Option<String> {
    let output = Command::new(gh)
        .args(["auth", "token"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok().and_then(non_empty)
}

fn non_empty(value: String) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
