//! Sentry: the configured project's issues and an issue's latest events.
//!
//! `GET /api/0/projects/{organization}/{project}/issues/` and
//! `GET /api/0/issues/{id}/events/`, with `SENTRY_AUTH_TOKEN` as a bearer token.

use ralph_runtime::integrations::{IntegrationError, SentryEvent, SentryIssue};
use reqwest::Client;
use serde::{Deserialize, Deserializer};

use crate::config::SentryConfig;
use crate::environment::{Environment, SENTRY_AUTH_TOKEN};
use crate::transport::{check_limit, headers, json_answer, request_failed, typed};

/// The most issues or events one call returns (Sentry's page size).
pub const MAX_LIMIT: u32 = 100;

const SERVICE: &str = "sentry";

/// Reads one Sentry project.
pub struct Sentry {
    client: Client,
    config: SentryConfig,
    token: Option<String>,
}

impl Sentry {
    pub fn new(client: Client, config: &SentryConfig, environment: &Environment) -> Self {
        Self {
            client,
            config: config.clone(),
            token: environment.get(SENTRY_AUTH_TOKEN).map(str::to_owned),
        }
    }

    /// The project's issues matching `query`.
    pub async fn issues(
        &self,
        query: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SentryIssue>, IntegrationError> {
        let limit = check_limit(limit, MAX_LIMIT)?;
        let (organization, project) = match (&self.config.organization, &self.config.project) {
            (Some(organization), Some(project)) => (organization, project),
            _ => {
                return Err(IntegrationError::NotConfigured(
                    "sentry: set `integrations.sentry.organization` and `project` in .ralph/config.json"
                        .to_owned(),
                ));
            }
        };
        let mut url = self.url(&["api", "0", "projects", organization, project, "issues", ""])?;
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(query) = query.filter(|query| !query.is_empty()) {
                pairs.append_pair("query", query);
            }
            pairs.append_pair("limit", &limit.to_string());
        }
        let answer: Vec<IssueAnswer> = typed(SERVICE, self.get(url).await?)?;
        Ok(answer
            .into_iter()
            .take(limit as usize)
            .map(SentryIssue::from)
            .collect())
    }

    /// The issue's latest `limit` events, newest first.
    pub async fn latest_events(
        &self,
        issue_id: &str,
        limit: u32,
    ) -> Result<Vec<SentryEvent>, IntegrationError> {
        let limit = check_limit(limit, MAX_LIMIT)?;
        if issue_id.is_empty()
            || !issue_id
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "-_".contains(character))
        {
            return Err(IntegrationError::InvalidRequest(format!(
                "`issue_id` must be letters, digits, `-` or `_`, got `{issue_id}`"
            )));
        }
        let mut url = self.url(&["api", "0", "issues", issue_id, "events", ""])?;
        url.query_pairs_mut().append_pair("full", "false");
        let answer: Vec<EventAnswer> = typed(SERVICE, self.get(url).await?)?;
        Ok(answer
            .into_iter()
            .take(limit as usize)
            .map(SentryEvent::from)
            .collect())
    }

    /// The base URL with `segments` appended, each encoded.
    fn url(&self, segments: &[&str]) -> Result<url::Url, IntegrationError> {
        let not_configured = || {
            IntegrationError::NotConfigured(format!(
                "sentry: `{}` cannot be a base URL",
                self.config.base_url
            ))
        };
        let mut url = url::Url::parse(&self.config.base_url).map_err(|_| not_configured())?;
        url.path_segments_mut()
            .map_err(|()| not_configured())?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn get(&self, url: url::Url) -> Result<serde_json::Value, IntegrationError> {
        let token = self.token.as_deref().ok_or_else(|| {
            IntegrationError::NotConfigured("sentry: no token; set SENTRY_AUTH_TOKEN".to_owned())
        })?;
        let authorization = format!("Bearer {token}");
        let response = self
            .client
            .get(url)
            .headers(headers(&[("authorization", &authorization)], SERVICE)?)
            .send()
            .await
            .map_err(|error| request_failed(SERVICE, error))?;
        json_answer(SERVICE, response).await
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueAnswer {
    id: String,
    #[serde(default)]
    short_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    culprit: Option<String>,
    #[serde(default)]
    level: String,
    #[serde(default)]
    status: String,
    #[serde(default, deserialize_with = "count")]
    count: u64,
    #[serde(default, deserialize_with = "count")]
    user_count: u64,
    #[serde(default)]
    first_seen: Option<String>,
    #[serde(default)]
    last_seen: Option<String>,
}

impl From<IssueAnswer> for SentryIssue {
    fn from(issue: IssueAnswer) -> Self {
        SentryIssue {
            id: issue.id,
            short_id: issue.short_id,
            title: issue.title,
            culprit: issue.culprit.unwrap_or_default(),
            level: issue.level,
            status: issue.status,
            count: issue.count,
            user_count: issue.user_count,
            first_seen: issue.first_seen.unwrap_or_default(),
            last_seen: issue.last_seen.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventAnswer {
    #[serde(default, rename = "eventID")]
    event_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    date_created: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    platform: Option<String>,
}

impl From<EventAnswer> for SentryEvent {
    fn from(event: EventAnswer) -> Self {
        let message = event
            .message
            .filter(|message| !message.is_empty())
            .or(event.title)
            .unwrap_or_default();
        SentryEvent {
            id: event.event_id.or(event.id).unwrap_or_default(),
            date: event.date_created.unwrap_or_default(),
            message,
            platform: event.platform.unwrap_or_default(),
        }
    }
}

/// Sentry sends some counts as strings (`"count": "12"`) and others as numbers.
fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Count {
        Number(u64),
        Text(String),
    }
    match Count::deserialize(deserializer)? {
        Count::Number(number) => Ok(number),
        Count::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sentry(config: SentryConfig, token: Option<&str>) -> Sentry {
        let client = crate::transport::client(std::time::Duration::from_secs(1)).expect("client");
        let environment = Environment::from_pairs(token.map(|token| (SENTRY_AUTH_TOKEN, token)));
        Sentry::new(client, &config, &environment)
    }

    #[test]
    fn counts_may_be_strings_or_numbers() {
        let issue: IssueAnswer =
            serde_json::from_value(json!({"id": "1", "count": "12", "userCount": 3}))
                .expect("valid");
        assert_eq!((issue.count, issue.user_count), (12, 3));
        assert!(
            serde_json::from_value::<IssueAnswer>(json!({"id": "1", "count": "many"})).is_err()
        );
    }

    #[test]
    fn an_events_message_falls_back_to_its_title() {
        let event: EventAnswer = serde_json::from_value(
            json!({"eventID": "abc", "message": "", "title": "ZeroDivisionError", "platform": "python"}),
        )
        .expect("valid");
        let event = SentryEvent::from(event);
        assert_eq!(event.message, "ZeroDivisionError");
        assert_eq!(event.id, "abc");
    }

    #[test]
    fn paths_are_built_from_encoded_segments() {
        let sentry = sentry(
            SentryConfig {
                base_url: "https://sentry.example/base/".to_owned(),
                ..SentryConfig::default()
            },
            None,
        );
        let url = sentry
            .url(&["api", "0", "projects", "a/b", "c", "issues", ""])
            .expect("url");
        assert_eq!(
            url.as_str(),
            "https://sentry.example/base/api/0/projects/a%2Fb/c/issues/"
        );
    }

    #[tokio::test]
    async fn missing_project_or_token_is_not_configured() {
        let unconfigured = sentry(SentryConfig::default(), Some("token"));
        assert!(matches!(
            unconfigured.issues(None, 5).await,
            Err(IntegrationError::NotConfigured(_))
        ));
        let no_token = sentry(SentryConfig::default(), None);
        let error = no_token
            .latest_events("123", 5)
            .await
            .expect_err("no token");
        assert!(
            matches!(error, IntegrationError::NotConfigured(ref text) if text.contains("SENTRY_AUTH_TOKEN"))
        );
    }

    #[tokio::test]
    async fn an_issue_id_with_path_characters_is_refused() {
        let sentry = sentry(SentryConfig::default(), Some("token"));
        for issue_id in ["", "../1", "1?x=2", "a b"] {
            assert!(matches!(
                sentry.latest_events(issue_id, 5).await,
                Err(IntegrationError::InvalidRequest(_))
            ));
        }
    }
}
