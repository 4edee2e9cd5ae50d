//! The GitHub client, issue source and pull-request helpers against the
//! stand-in; every test ends by checking every request it recorded
//! against GitHub's OpenAPI description (`RALPH_GITHUB_OPENAPI`, see
//! `scripts/github-openapi`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

mod bridge;
mod errors;
mod etags;
mod headers;
mod issues;
mod labels;
mod mutations;
mod openapi;
mod pagination;
mod pulls;
mod rate_limits;
mod secrets;
mod ticks;
mod trust;
