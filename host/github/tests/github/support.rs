//! Building clients on a stand-in, and the OpenAPI check every test ends
//! with.

use std::time::Duration;

use ralph_github::{Client, ClientConfig, Credentials, Github, GithubIssues, Token, TokenOrigin};
use ralph_github_standin::{StandIn, openapi};

/// Tests wait for no mutation interval and at most this long in all.
pub const TEST_WAIT_BUDGET: Duration = Duration::from_secs(5);

pub fn config(standin: &StandIn) -> ClientConfig {
    let credentials = Credentials {
        token: Token::new(standin.config().token.clone()),
        origin: TokenOrigin::GithubTokenVariable,
    };
    let mut config = ClientConfig::new(&standin.url(), credentials).expect("the stand-in's url");
    config.mutation_interval = Duration::ZERO;
    config.wait_budget = TEST_WAIT_BUDGET;
    config
}

pub fn github_with(standin: &StandIn, config: ClientConfig) -> Github {
    let client = Client::new(config).expect("a client");
    Github::new(client, standin.repository().parse().expect("a repository"))
}

pub fn github(standin: &StandIn) -> Github {
    github_with(standin, config(standin))
}

pub fn issues(standin: &StandIn) -> GithubIssues {
    GithubIssues::new(github(standin)).expect("an issue source")
}

pub fn issues_with(standin: &StandIn, config: ClientConfig) -> GithubIssues {
    GithubIssues::new(github_with(standin, config)).expect("an issue source")
}

/// Every request the stand-in recorded is valid for GitHub's OpenAPI
/// description; fails listing each violation (or saying how to get the
/// description).
pub fn assert_valid_requests(standin: &StandIn) {
    let requests = standin.requests();
    assert!(!requests.is_empty(), "the test sent no request");
    if let Err(violations) = openapi::validate(&requests) {
        let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
        panic!(
            "{} request(s) break GitHub's OpenAPI description:\n{}",
            violations.len(),
            lines.join("\n")
        );
    }
}
