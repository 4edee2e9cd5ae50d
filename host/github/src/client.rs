//! A thin GitHub REST client on `reqwest`, with GitHub's HTTP manners:
//!
//! - every request sends `Authorization: Bearer`, `Accept:
//!   application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28` and
//!   a `User-Agent`;
//! - lists are read page by page (`per_page=100`), following `Link:
//!   rel="next"` on the same server only;
//! - every GET remembers the answer's `ETag` for its address and sends
//!   `If-None-Match` the next time; a `304 Not Modified` reuses the
//!   remembered answer (GitHub does not count it against the rate limit);
//! - mutations (POST, PATCH, PUT, DELETE) go one at a time, at least
//!   [`ClientConfig::mutation_interval`] apart (GitHub asks for a second);
//! - rate limits are waited for as [`crate::rate_limit`] describes, within
//!   one wait budget for the client's life: a wait that does not fit fails
//!   at once with [`RemoteError::WaitBudget`], so the caller can stop and
//!   resume later.
//!
//! Failures name the request and what was asked for, never the token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use ralph_issues::RemoteError;
use ralph_secrets::Redactor;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::failure::{self, ErrorBody, SERVICE};
use crate::pagination::{self, PER_PAGE};
use crate::rate_limit::{self, MOST_WAITS_PER_REQUEST, WaitBudget};
use crate::token::Credentials;

/// GitHub's REST API.
pub const GITHUB_API_URL: &str = "https://api.github.com";
/// The REST API version Ralph speaks.
pub const API_VERSION: &str = "2022-11-28";
/// The media type GitHub recommends.
pub const MEDIA_TYPE: &str = "application/vnd.github+json";

/// How a [`Client`] talks to GitHub.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The REST API's root, e.g. `https://api.github.com` or a GitHub
    /// Enterprise server's `https://HOST/api/v3`.
    pub api_url: Url,
    pub credentials: Credentials,
    pub user_agent: String,
    /// The least time between two mutations (GitHub asks for 1 s).
    pub mutation_interval: Duration,
    /// The most time spent waiting for rate limits over the client's life.
    pub wait_budget: Duration,
    /// The most time one request may take.
    pub request_timeout: Duration,
}

/// An `api_url` that is not an `http(s)` address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a GitHub API address: {problem} (e.g. https://api.github.com)")]
pub struct InvalidApiUrl {
    pub text: String,
    pub problem: String,
}

impl ClientConfig {
    /// GitHub's documented manners: 1 s between mutations, a 15-minute
    /// wait budget, 30 s per request.
    pub fn new(api_url: &str, credentials: Credentials) -> Result<Self, InvalidApiUrl> {
        let invalid = |problem: String| InvalidApiUrl {
            text: api_url.to_owned(),
            problem,
        };
        let mut url = Url::parse(api_url).map_err(|error| invalid(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("it is not http or https".to_owned()));
        }
        if url.query().is_some() || url.cannot_be_a_base() {
            return Err(invalid("it has a query or cannot have a path".to_owned()));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(ClientConfig {
            api_url: url,
            credentials,
            user_agent: format!("ralph/{}", env!("CARGO_PKG_VERSION")),
            mutation_interval: Duration::from_secs(1),
            wait_budget: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(30),
        })
    }
}

/// The client could not be built (TLS set-up, a header).
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the GitHub client: {0}")]
pub struct ClientSetupError(String);

/// A remembered GET answer.
#[derive(Clone, Debug)]
struct Cached {
    etag: String,
    text: String,
    next: Option<Url>,
}

/// An answer's body and, for lists, the next page.
#[derive(Clone, Debug)]
struct Answer {
    text: String,
    next: Option<Url>,
}

/// The GitHub REST client.
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    redactor: Redactor,
    cache: Mutex<HashMap<Url, Cached>>,
    /// Held through each mutation; the instant the last one ended.
    mutations: tokio::sync::Mutex<Option<Instant>>,
    budget: WaitBudget,
}

/// Names the server and where the token came from; the redactor (which
/// holds the token's value) is left out.
impl std::fmt::Debug for Client {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Client")
            .field("api_url", &self.config.api_url.as_str())
            .field("token_origin", &self.config.credentials.origin)
            .field("mutation_interval", &self.config.mutation_interval)
            .field("wait_budget", &self.config.wait_budget)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ClientSetupError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(MEDIA_TYPE));
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", config.credentials.token.expose()))
                .map_err(|_| {
                    ClientSetupError(format!(
                        "the token from {} holds characters a header cannot",
                        config.credentials.origin
                    ))
                })?;
        authorization.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, authorization);
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .timeout(config.request_timeout)
            .build()
            .map_err(|error| ClientSetupError(error.to_string()))?;
        let redactor =
            ralph_secrets::host().extended([config.credentials.token.expose().to_owned()]);
        Ok(Client {
            http,
            budget: WaitBudget::new(config.wait_budget),
            config,
            redactor,
            cache: Mutex::new(HashMap::new()),
            mutations: tokio::sync::Mutex::new(None),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// `text` without the token or any other secret the host knows: for
    /// everything written to GitHub.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// The address of the API path made of `segments`, each
    /// percent-encoded, with `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.config.api_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One GET, conditional on the remembered `ETag`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        subject: &str,
    ) -> Result<T, RemoteError> {
        let url = self.url(segments, query);
        let answer = self.exchange(&Method::GET, &url, None, subject).await?;
        parse(&Method::GET, &url, &answer.text)
    }

    /// Every item of a list, page by page (`per_page=100`).
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        subject: &str,
    ) -> Result<Vec<T>, RemoteError> {
        let mut query = query.to_vec();
        query.push(("per_page", PER_PAGE));
        let mut next = Some(self.url(segments, &query));
        let mut items = Vec::new();
        while let Some(url) = next {
            let answer = self.exchange(&Method::GET, &url, None, subject).await?;
            let page: Vec<T> = parse(&Method::GET, &url, &answer.text)?;
            items.extend(page);
            next = answer.next;
        }
        Ok(items)
    }

    /// One mutation, after the previous one and the mutation interval.
    /// An empty answer (204) reads as JSON `null`.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
        subject: &str,
    ) -> Result<T, RemoteError> {
        let url = self.url(segments, &[]);
        let mut last = self.mutations.lock().await;
        if let Some(ended) = *last {
            let ready = ended + self.config.mutation_interval;
            let now = Instant::now();
            if ready > now {
                tokio::time::sleep(ready - now).await;
            }
        }
        let answer = self.exchange(&method, &url, body, subject).await;
        *last = Some(Instant::now());
        drop(last);
        parse(&method, &url, &answer?.text)
    }

    /// Sends one request, waiting for rate limits within the budget, and
    /// reads its answer.
    async fn exchange(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
        subject: &str,
    ) -> Result<Answer, RemoteError> {
        let request = failure::Request {
            method: method.as_str(),
            path: url.path(),
            subject,
            token_origin: &self.config.credentials.origin.to_string(),
        };
        let mut waits = 0;
        loop {
            let cached = self.cached(method, url);
            let (status, headers, text) =
                self.send_once(method, url, body, cached.as_ref()).await?;
            if let Some(cached) = cached.filter(|_| status == StatusCode::NOT_MODIFIED) {
                return Ok(Answer {
                    text: cached.text,
                    next: cached.next,
                });
            }
            if status.is_success() {
                let next = pagination::next_page(&headers, &self.config.api_url);
                self.remember(method, url, &headers, &text, next.as_ref());
                return Ok(Answer { text, next });
            }
            let message = serde_json::from_str::<ErrorBody>(&text)
                .map(|body| body.message)
                .unwrap_or_default();
            let now = SystemTime::now();
            let wait = rate_limit::wait_for(status, &headers, &message, waits, now);
            match wait {
                Some(wait) if waits < MOST_WAITS_PER_REQUEST => {
                    self.budget
                        .take(wait.duration)
                        .map_err(|over| RemoteError::WaitBudget {
                            service: SERVICE.to_owned(),
                            limit: wait.limit,
                            wait: wait.duration,
                            resets_at: wait.resets_at,
                            budget: over.total,
                            budget_left: over.left,
                        })?;
                    tracing::info!(
                        "Waiting {} s for GitHub's {} ({} {})",
                        wait.duration.as_secs(),
                        wait.limit,
                        method,
                        url.path()
                    );
                    tokio::time::sleep(wait.duration).await;
                    waits += 1;
                }
                _ => return Err(failure::failure(&request, status, &text)),
            }
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
        cached: Option<&Cached>,
    ) -> Result<(StatusCode, HeaderMap, String), RemoteError> {
        let mut builder = self.http.request(method.clone(), url.clone());
        if let Some(cached) = cached {
            builder = builder.header(header::IF_NONE_MATCH, &cached.etag);
        }
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|error| transport(method, url, &error))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|error| transport(method, url, &error))?;
        Ok((status, headers, text))
    }

    fn cached(&self, method: &Method, url: &Url) -> Option<Cached> {
        if method != Method::GET {
            return None;
        }
        self.lock_cache().get(url).cloned()
    }

    fn remember(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        text: &str,
        next: Option<&Url>,
    ) {
        if method != Method::GET {
            return;
        }
        let Some(etag) = headers
            .get(header::ETAG)
            .and_then(|value| value.to_str().ok())
        else {
            return;
        };
        self.lock_cache().insert(
            url.clone(),
            Cached {
                etag: etag.to_owned(),
                text: text.to_owned(),
                next: next.cloned(),
            },
        );
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Url, Cached>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn parse<T: DeserializeOwned>(method: &Method, url: &Url, text: &str) -> Result<T, RemoteError> {
    let text = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(|error| RemoteError::Unexpected {
        method: method.to_string(),
        path: url.path().to_owned(),
        message: error.to_string(),
    })
}

/// A failed exchange, with the chain of causes (reqwest's own message is
/// often only "error sending request").
fn transport(method: &Method, url: &Url, error: &reqwest::Error) -> RemoteError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    RemoteError::Transport {
        method: method.to_string(),
        path: url.path().to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{Token, TokenOrigin};

    fn credentials() -> Credentials {
        Credentials {
            token: Token::new("test-token-value"),
            origin: TokenOrigin::Given,
        }
    }

    #[test]
    fn addresses_encode_each_segment_under_the_api_root() {
        let config =
            ClientConfig::new("https://github.example.com/api/v3", credentials()).expect("valid");
        let client = Client::new(config).expect("client");
        let url = client.url(
            &[
                "repos",
                "octo",
                "hello",
                "issues",
                "5",
                "labels",
                "in progress/x",
            ],
            &[("state", "open")],
        );
        assert_eq!(
            url.as_str(),
            "https://github.example.com/api/v3/repos/octo/hello/issues/5/labels/in%20progress%2Fx?state=open"
        );
    }

    #[test]
    fn an_api_url_must_be_an_http_address() {
        for text in ["not a url", "ftp://example.com", "https://example.com/?a=b"] {
            let error = ClientConfig::new(text, credentials()).expect_err(text);
            assert!(error.to_string().contains(text), "{error}");
        }
    }

    #[test]
    fn the_defaults_follow_githubs_manners() {
        let config = ClientConfig::new(GITHUB_API_URL, credentials()).expect("valid");
        assert_eq!(config.mutation_interval, Duration::from_secs(1));
        assert!(config.user_agent.starts_with("ralph/"));
        assert_eq!(config.api_url.as_str(), "https://api.github.com/");
    }

    #[test]
    fn a_token_that_cannot_be_a_header_is_refused_naming_its_origin_only() {
        let mut config = ClientConfig::new(GITHUB_API_URL, credentials()).expect("valid");
        config.credentials.token = Token::new("line\nbreak-secret");
        let error = Client::new(config).expect_err("not a header value");
        let message = error.to_string();
        assert!(message.contains("the token given to Ralph"), "{message}");
        assert!(!message.contains("break-secret"), "{message}");
    }

    #[tokio::test]
    async fn a_server_that_does_not_answer_is_a_resumable_transport_failure() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let address = closed.local_addr().expect("its address");
        drop(closed);
        let config = ClientConfig::new(&format!("http://{address}"), credentials()).expect("valid");
        let client = Client::new(config).expect("client");
        let error = client
            .get::<Value>(&["user"], &[], "the authenticated user")
            .await
            .expect_err("nothing listens");
        assert!(matches!(error, RemoteError::Transport { .. }), "{error:?}");
        assert!(error.is_resumable());
        assert!(error.to_string().starts_with("GET /user: "), "{error}");
    }
}
