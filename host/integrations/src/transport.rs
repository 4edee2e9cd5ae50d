//! What the integrations share: one HTTP client that never follows
//! redirects on its own, bodies read with a cap, and errors that say which
//! service failed.

use std::time::Duration;

use ralph_runtime::integrations::IntegrationError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Response};

/// The largest API answer read (Sentry, Alpaca, AWS); past it the call fails.
pub(crate) const MAX_API_BYTES: u64 = 8 * 1024 * 1024;
/// How much of an error body is kept in an error message.
const EXCERPT_CHARACTERS: usize = 300;

/// A client with `timeout` for every request and no automatic redirects.
pub(crate) fn client(timeout: Duration) -> Result<Client, String> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))
}

/// Headers from name and value pairs; credentials are marked sensitive.
pub(crate) fn headers(
    pairs: &[(&str, &str)],
    service: &str,
) -> Result<HeaderMap, IntegrationError> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            IntegrationError::NotConfigured(format!("{service}: `{name}` is not a header name"))
        })?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            IntegrationError::NotConfigured(format!(
                "{service}: the value for header `{name}` is not a valid header value"
            ))
        })?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// The body, stopping after `max_bytes`; says whether more was left.
pub(crate) async fn read_capped(
    mut response: Response,
    max_bytes: u64,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let cap = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// Why a request could not be made or answered, for the plugin. The URL
/// is left out: its query can hold what the plugin sent.
pub(crate) fn request_failed(service: &str, error: reqwest::Error) -> IntegrationError {
    let what = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.without_url().to_string()
    };
    IntegrationError::Failed(format!("{service}: {what}"))
}

/// Reads a JSON answer: a non-success status or an unreadable body fails.
pub(crate) async fn json_answer(
    service: &str,
    response: Response,
) -> Result<serde_json::Value, IntegrationError> {
    let status = response.status();
    let (body, truncated) = read_capped(response, MAX_API_BYTES)
        .await
        .map_err(|error| request_failed(service, error))?;
    if !status.is_success() {
        return Err(IntegrationError::Failed(format!(
            "{service} answered {}: {}",
            status.as_u16(),
            excerpt(&body)
        )));
    }
    if truncated {
        return Err(IntegrationError::Failed(format!(
            "{service}: the answer is larger than {MAX_API_BYTES} bytes"
        )));
    }
    serde_json::from_slice(&body).map_err(|error| {
        IntegrationError::Failed(format!(
            "{service}: the answer is not the expected JSON: {error}"
        ))
    })
}

/// The start of a body, as text.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.chars().count() > EXCERPT_CHARACTERS {
        let cut: String = text.chars().take(EXCERPT_CHARACTERS).collect();
        format!("{cut}…")
    } else {
        text.to_owned()
    }
}

/// A JSON answer typed: a mismatch names the service.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    service: &str,
    value: serde_json::Value,
) -> Result<T, IntegrationError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        IntegrationError::Failed(format!(
            "{service}: unexpected answer at `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

/// Checks a `limit` parameter.
pub(crate) fn check_limit(limit: u32, max: u32) -> Result<u32, IntegrationError> {
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(IntegrationError::InvalidRequest(format!(
            "`limit` must be between 1 and {max}, got {limit}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_in_messages() {
        let body = "x".repeat(EXCERPT_CHARACTERS + 10);
        let shown = excerpt(body.as_bytes());
        assert_eq!(shown.chars().count(), EXCERPT_CHARACTERS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(excerpt(b"  short \n"), "short");
    }

    #[test]
    fn limits_outside_the_range_are_invalid() {
        assert_eq!(check_limit(5, 10), Ok(5));
        assert!(matches!(
            check_limit(0, 10),
            Err(IntegrationError::InvalidRequest(_))
        ));
        assert!(matches!(
            check_limit(11, 10),
            Err(IntegrationError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_mismatched_answer_names_the_service_and_path() {
        let error = typed::<Vec<u32>>("sentry", serde_json::json!([1, "two"])).expect_err("bad");
        assert!(
            error
                .to_string()
                .contains("sentry: unexpected answer at `[1]`"),
            "{error}"
        );
    }

    #[test]
    fn bad_header_values_are_configuration_problems() {
        assert!(matches!(
            headers(&[("authorization", "bad\nvalue")], "sentry"),
            Err(IntegrationError::NotConfigured(_))
        ));
        assert!(headers(&[("authorization", "Bearer x")], "sentry").is_ok());
    }
}
