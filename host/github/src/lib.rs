//! Ralph's GitHub: a thin REST client with GitHub's HTTP manners
//! ([`client`]), one repository's issues, labels, trust and pull requests
//! ([`Github`], async), and the issue source for synchronous callers
//! ([`GithubIssues`]).
//!
//! See `docs/github.md` for why the client is thin and what it reads and
//! writes.

pub mod bridge;
pub mod client;
pub mod failure;
mod github;
mod issues;
pub mod labels;
pub mod pagination;
pub mod pulls;
pub mod rate_limit;
pub mod repository;
mod source;
pub mod token;
pub mod trust;
mod wire;

pub use bridge::{Bridge, BridgeError};
pub use client::{Client, ClientConfig, ClientSetupError, GITHUB_API_URL, InvalidApiUrl};
pub use github::Github;
pub use pulls::{ChangeRequest, PullRequest, ReviewComment, ReviewFeedback};
pub use repository::{InvalidRepository, Repository};
pub use source::GithubIssues;
pub use token::{Credentials, NoToken, Token, TokenOrigin};
pub use trust::{Permission, ReadyTrust, TrustedComment};
