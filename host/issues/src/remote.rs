//! Failures of an issue source that lives behind a network service (GitHub),
//! in terms the loop can act on without knowing HTTP.
//!
//! Every message names what was asked for (a repository, an issue, a
//! field) and never a credential: a token is only ever named by where it
//! came from.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a remote source failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The service refused the credentials (HTTP 401).
    #[error(
        "{service} refused the token from {token_origin} (401 unauthorized): check that it is valid, not expired and allowed to use this repository"
    )]
    Unauthorized {
        service: String,
        /// Where the token came from, e.g. "the GITHUB_TOKEN environment
        /// variable"; never the token.
        token_origin: String,
    },
    /// What was asked for does not exist, or is hidden from this token
    /// (HTTP 404).
    #[error("{what} was not found on {service} (404)")]
    NotFound { service: String, what: String },
    /// The service refused the request's content (HTTP 422).
    #[error(
        "{service} rejected {what} (422): {message}{}",
        rejected_fields(fields)
    )]
    Rejected {
        service: String,
        what: String,
        message: String,
        fields: Vec<RejectedField>,
    },
    /// Waiting for a rate limit would pass the wait budget: nothing was
    /// waited for; running again after `resets_at` resumes.
    #[error(
        "{service}'s {limit} asks to wait {wait} until {}, past the wait budget ({budget_left} of {budget} left); run again after then to resume",
        utc(*resets_at),
        wait = seconds(*wait),
        budget_left = seconds(*budget_left),
        budget = seconds(*budget),
    )]
    WaitBudget {
        service: String,
        limit: RateLimit,
        wait: Duration,
        resets_at: SystemTime,
        budget: Duration,
        budget_left: Duration,
    },
    /// Any other answer the service gave that is not a success.
    #[error("{method} {path} answered {status}: {message}")]
    Status {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    /// The request did not get an answer (connection, timeout, TLS).
    #[error("{method} {path}: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },
    /// An answer that is not what the service documents.
    #[error("{method} {path}: unexpected answer: {message}")]
    Unexpected {
        method: String,
        path: String,
        message: String,
    },
}

impl RemoteError {
    /// Whether the caller asked for something wrong (bad credentials, an
    /// unknown repository or issue, content the service refuses).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RemoteError::Unauthorized { .. }
                | RemoteError::NotFound { .. }
                | RemoteError::Rejected { .. }
        )
    }

    /// Whether running again later may succeed with nothing changed: a wait
    /// past the budget, a failed connection, a server error.
    pub fn is_resumable(&self) -> bool {
        match self {
            RemoteError::WaitBudget { .. } | RemoteError::Transport { .. } => true,
            RemoteError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// One field the service rejected, as it named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedField {
    /// The kind of thing, e.g. "Issue" or "Label".
    pub resource: String,
    pub field: String,
    /// Why, e.g. "missing_field", "invalid", "already_exists".
    pub code: String,
}

impl fmt::Display for RejectedField {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "field `{}` of {} ({})",
            self.field, self.resource, self.code
        )
    }
}

/// Which rate limit asked to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimit {
    /// The hourly request quota is used up.
    Primary,
    /// Too many requests too fast, or too much at once.
    Secondary,
}

impl fmt::Display for RateLimit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            RateLimit::Primary => "primary rate limit",
            RateLimit::Secondary => "secondary rate limit",
        })
    }
}

fn rejected_fields(fields: &[RejectedField]) -> String {
    if fields.is_empty() {
        return String::new();
    }
    let names: Vec<String> = fields.iter().map(RejectedField::to_string).collect();
    format!(" ({})", names.join(", "))
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs())
}

/// `time` as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_661);
        assert_eq!(utc(leap_day), "2000-02-29 01:01:01 UTC");
        let new_year = UNIX_EPOCH + Duration::from_secs(1_798_761_599);
        assert_eq!(utc(new_year), "2026-12-31 23:59:59 UTC");
    }

    #[test]
    fn a_rejection_names_every_field() {
        let error = RemoteError::Rejected {
            service: "GitHub".to_owned(),
            what: "the new issue in octo/hello".to_owned(),
            message: "Validation Failed".to_owned(),
            fields: vec![RejectedField {
                resource: "Issue".to_owned(),
                field: "title".to_owned(),
                code: "missing_field".to_owned(),
            }],
        };
        let message = error.to_string();
        assert!(
            message.contains("field `title` of Issue (missing_field)"),
            "{message}"
        );
        assert!(error.is_bad_input());
        assert!(!error.is_resumable());
    }

    #[test]
    fn a_wait_past_the_budget_is_resumable_and_names_the_reset() {
        let error = RemoteError::WaitBudget {
            service: "GitHub".to_owned(),
            limit: RateLimit::Primary,
            wait: Duration::from_secs(3_600),
            resets_at: UNIX_EPOCH + Duration::from_secs(1_798_761_599),
            budget: Duration::from_secs(600),
            budget_left: Duration::from_secs(600),
        };
        let message = error.to_string();
        assert!(message.contains("2026-12-31 23:59:59 UTC"), "{message}");
        assert!(message.contains("primary rate limit"), "{message}");
        assert!(error.is_resumable());
        assert!(!error.is_bad_input());
    }

    #[test]
    fn server_errors_and_lost_connections_are_resumable_and_client_errors_are_not() {
        let status = |status| RemoteError::Status {
            method: "GET".to_owned(),
            path: "/user".to_owned(),
            status,
            message: "boom".to_owned(),
        };
        assert!(status(502).is_resumable());
        assert!(!status(403).is_resumable());
        let transport = RemoteError::Transport {
            method: "GET".to_owned(),
            path: "/user".to_owned(),
            message: "connection refused".to_owned(),
        };
        assert!(transport.is_resumable());
        let unauthorized = RemoteError::Unauthorized {
            service: "GitHub".to_owned(),
            token_origin: "the GH_TOKEN environment variable".to_owned(),
        };
        assert!(unauthorized.is_bad_input());
        assert!(!unauthorized.is_resumable());
    }
}
