//! What a failed answer means, in [`RemoteError`]'s terms.

use ralph_issues::{RejectedField, RemoteError};
use reqwest::StatusCode;
use serde::Deserialize;

/// The service's name in messages.
pub const SERVICE: &str = "GitHub";

/// GitHub's error body: `message`, and for 422 the rejected `errors`.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

/// One entry of `errors`: an object naming a field, or (on some
/// endpoints) a plain sentence.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ErrorItem {
    Field {
        #[serde(default)]
        resource: String,
        #[serde(default)]
        field: String,
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: Option<String>,
    },
    Sentence(String),
}

/// How a request is named in a failure.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// What was asked for, e.g. "issue #5 in octo/hello".
    pub subject: &'a str,
    /// Where the token came from.
    pub token_origin: &'a str,
}

/// The error for an answer that is not a success (nor a rate limit).
pub fn failure(request: &Request<'_>, status: StatusCode, text: &str) -> RemoteError {
    let body: ErrorBody = serde_json::from_str(text).unwrap_or_default();
    match status {
        StatusCode::UNAUTHORIZED => RemoteError::Unauthorized {
            service: SERVICE.to_owned(),
            token_origin: request.token_origin.to_owned(),
        },
        StatusCode::NOT_FOUND => RemoteError::NotFound {
            service: SERVICE.to_owned(),
            what: request.subject.to_owned(),
        },
        StatusCode::UNPROCESSABLE_ENTITY => rejected(request, body),
        _ => RemoteError::Status {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            status: status.as_u16(),
            message: message_of(&body, text),
        },
    }
}

fn rejected(request: &Request<'_>, body: ErrorBody) -> RemoteError {
    let mut message = body.message;
    let mut fields = Vec::new();
    for item in body.errors {
        match item {
            ErrorItem::Field {
                resource,
                field,
                code,
                message: detail,
            } => {
                if let Some(detail) = detail.filter(|detail| !detail.is_empty()) {
                    message.push_str(&format!("; {detail}"));
                }
                fields.push(RejectedField {
                    resource,
                    field,
                    code,
                });
            }
            ErrorItem::Sentence(sentence) => message.push_str(&format!("; {sentence}")),
        }
    }
    RemoteError::Rejected {
        service: SERVICE.to_owned(),
        what: request.subject.to_owned(),
        message,
        fields,
    }
}

/// GitHub's `message`, else the start of the body as it came.
fn message_of(body: &ErrorBody, text: &str) -> String {
    if !body.message.is_empty() {
        return body.message.clone();
    }
    let start: String = text.chars().take(200).collect();
    if start.trim().is_empty() {
        "no message".to_owned()
    } else {
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request<'static> {
        Request {
            method: "POST",
            path: "/repos/octo/hello/issues",
            subject: "a new issue in octo/hello",
            token_origin: "the GH_TOKEN environment variable",
        }
    }

    #[test]
    fn a_422_names_the_fields_and_sentences() {
        let text = r#"{"message":"Validation Failed","errors":[{"resource":"Issue","field":"title","code":"missing_field"},"title is too short"]}"#;
        let error = failure(&request(), StatusCode::UNPROCESSABLE_ENTITY, text);
        let message = error.to_string();
        assert!(
            message.contains("field `title` of Issue (missing_field)"),
            "{message}"
        );
        assert!(message.contains("title is too short"), "{message}");
        assert!(message.contains("a new issue in octo/hello"), "{message}");
    }

    #[test]
    fn other_statuses_name_the_request_and_githubs_message() {
        let error = failure(
            &request(),
            StatusCode::FORBIDDEN,
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        assert_eq!(
            error.to_string(),
            "POST /repos/octo/hello/issues answered 403: Resource not accessible by integration"
        );
        let empty = failure(&request(), StatusCode::BAD_GATEWAY, "");
        assert!(empty.to_string().ends_with("502: no message"), "{empty}");
    }
}
