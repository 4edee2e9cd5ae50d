//! Ralph's secrets, and the one redactor the whole host uses.
//!
//! Everything a plugin receives (completions, failure reports, check
//! output) and everything Ralph writes (issues, pull-request records,
//! events, logs, terminal output) goes through a [`Redactor`] first. The
//! host's redactor, [`host`], knows the values of the credential variables
//! in the process environment ([`environment`]) and redacts them in every
//! form they may take in text ([`forms`]): plain, split across lines,
//! JSON-escaped, percent-encoded, and combinations of these.
//!
//! [`terminal::clean`] is the other half of handling untrusted text: it
//! removes the control characters a terminal would obey.

pub mod environment;
pub mod forms;
mod redactor;
pub mod terminal;

use std::sync::OnceLock;

pub use environment::{CREDENTIAL_VARIABLES, is_credential_name, secrets_of};
pub use redactor::{REDACTED, Redactor};

/// The host's redactor: the secrets of the process environment as it was
/// at the first call, and the built-in credential patterns.
pub fn host() -> &'static Redactor {
    static HOST: OnceLock<Redactor> = OnceLock::new();
    HOST.get_or_init(|| {
        Redactor::new(secrets_of(std::env::vars_os().map(|(name, value)| {
            (
                name.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        })))
    })
}

/// `text` redacted by the [`host`] redactor.
pub fn redact(text: &str) -> String {
    host().redact(text)
}
