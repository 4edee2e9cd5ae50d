//! Redaction: secrets never reach a plugin or the audit log.
//!
//! A [`Redactor`] replaces with `[REDACTED]` the credential values in the
//! environment, the configured account numbers, and anything shaped like a
//! credential: AWS access key ids, `Bearer` tokens, `Authorization` values,
//! `aws_secret_access_key=…` and `api_key=…`.

use regex::Regex;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Literal values shorter than this are not redacted: they would match
/// ordinary text.
const SHORTEST_LITERAL: usize = 4;

/// Patterns for credential-shaped text; the first group, when there is
/// one, is kept. Access key ids are matched even when glued to other text:
/// redacting too much is better than too little.
const PATTERNS: &[&str] = &[
    r"((?:AKIA|ASIA))[A-Z0-9]{16}",
    r#"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"#,
    r#"(?i)(\bauthorization"?\s*[:=]\s*"?)[^\r\n",}]+"#,
    r#"(?i)(\baws_secret_access_key"?\s*[:=]\s*"?)[^\s"',;&}]+"#,
    r#"(?i)(\bapi[_-]?key"?\s*[:=]\s*"?)[^\s"',;&}]+"#,
];

/// Replaces secrets in text.
#[derive(Clone, Debug)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    literals: Vec<String>,
    patterns: Vec<Regex>,
}

impl Redactor {
    /// A redactor for `literals` (credential values, account numbers) and the
    /// built-in patterns.
    pub fn new(literals: impl IntoIterator<Item = String>) -> Self {
        let mut literals: Vec<String> = literals
            .into_iter()
            .map(|literal| literal.trim().to_owned())
            .filter(|literal| literal.len() >= SHORTEST_LITERAL)
            .collect();
        literals.sort_by(|left, right| right.len().cmp(&left.len()).then(left.cmp(right)));
        literals.dedup();
        let patterns = PATTERNS
            .iter()
            .filter_map(|pattern| Regex::new(pattern).ok())
            .collect();
        Self { literals, patterns }
    }

    /// `text` with every secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for literal in &self.literals {
            if text.contains(literal.as_str()) {
                text = text.replace(literal.as_str(), REDACTED);
            }
        }
        for pattern in &self.patterns {
            let replacement = if pattern.captures_len() > 1 {
                format!("${{1}}{REDACTED}")
            } else {
                REDACTED.to_owned()
            };
            if pattern.is_match(&text) {
                text = pattern
                    .replace_all(&text, replacement.as_str())
                    .into_owned();
            }
        }
        text
    }

    /// Every string in a JSON value redacted, object keys included.
    pub fn redact_json(&self, value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(text) => Value::String(self.redact(&text)),
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| self.redact_json(item))
                    .collect(),
            ),
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(key, item)| (self.redact(&key), self.redact_json(item)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// `value` with every string field redacted, whatever its type: it goes
    /// through JSON, so a field added later is covered too. A value that
    /// does not come back (a redaction broke a tag) is an error.
    pub fn redact_fields<T: Serialize + DeserializeOwned>(
        &self,
        value: &T,
    ) -> Result<T, serde_json::Error> {
        let json = serde_json::to_value(value)?;
        serde_json::from_value(self.redact_json(json))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn redactor() -> Redactor {
        Redactor::new([
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            "PA1234567".to_owned(),
        ])
    }

    #[test]
    fn literal_secrets_are_replaced_wherever_they_appear() {
        assert_eq!(
            redactor().redact("key=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY; account PA1234567."),
            "key=[REDACTED]; account [REDACTED]."
        );
    }

    #[test]
    fn short_literals_are_ignored() {
        let redactor = Redactor::new(["abc".to_owned(), " ".to_owned()]);
        assert_eq!(redactor.redact("abc def"), "abc def");
    }

    #[test]
    fn the_longest_literal_wins() {
        let redactor = Redactor::new(["secret".to_owned(), "secret-token-long".to_owned()]);
        assert_eq!(redactor.redact("x secret-token-long y"), "x [REDACTED] y");
    }

    #[test]
    fn aws_access_key_ids_are_redacted() {
        let redactor = Redactor::new([]);
        assert_eq!(
            redactor.redact("id AKIAIOSFODNN7EXAMPLE and ASIAABCDEFGHIJKLMNOP"),
            "id AKIA[REDACTED] and ASIA[REDACTED]"
        );
        assert_eq!(redactor.redact("AKIAshort"), "AKIAshort");
    }

    #[test]
    fn bearer_tokens_and_authorization_values_are_redacted() {
        let redactor = Redactor::new([]);
        assert_eq!(
            redactor.redact("sent Bearer abc.def-123 today"),
            "sent Bearer [REDACTED] today"
        );
        assert_eq!(
            redactor.redact("Authorization: Basic dXNlcjpwYXNz\nnext"),
            "Authorization: [REDACTED]\nnext"
        );
        assert_eq!(
            redactor.redact(r#"{"authorization": "Token abc"}"#),
            r#"{"authorization": "[REDACTED]"}"#
        );
    }

    #[test]
    fn secret_assignments_are_redacted() {
        let redactor = Redactor::new([]);
        assert_eq!(
            redactor.redact("aws_secret_access_key = abc/def+ghi"),
            "aws_secret_access_key = [REDACTED]"
        );
        assert_eq!(
            redactor.redact("https://x.example/?api_key=s3cr3t&page=2"),
            "https://x.example/?api_key=[REDACTED]&page=2"
        );
        assert_eq!(
            redactor.redact(r#""apiKey": "s3cr3t""#),
            r#""apiKey": "[REDACTED]""#
        );
        assert_eq!(redactor.redact("API-KEY: s3cr3t"), "API-KEY: [REDACTED]");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "Service web is ACTIVE with 2 of 2 tasks; see docs for the api.";
        assert_eq!(redactor().redact(text), text);
    }

    #[test]
    fn every_string_in_json_is_redacted() {
        let value = json!({"a": ["PA1234567", 5, {"PA1234567": "Bearer xyz"}], "b": true});
        assert_eq!(
            redactor().redact_json(value),
            json!({"a": ["[REDACTED]", 5, {"[REDACTED]": "Bearer [REDACTED]"}], "b": true})
        );
    }

    #[test]
    fn typed_values_keep_their_type() {
        #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
        struct Reply {
            message: String,
            count: u32,
        }
        let reply = Reply {
            message: "account PA1234567".to_owned(),
            count: 3,
        };
        assert_eq!(
            redactor().redact_fields(&reply).expect("same shape"),
            Reply {
                message: "account [REDACTED]".to_owned(),
                count: 3
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn a_known_secret_never_survives_whatever_surrounds_it(
            secret in "[a-z0-9]{4,40}",
            before in "\\PC{0,60}",
            after in "\\PC{0,60}",
        ) {
            let redactor = Redactor::new([secret.clone()]);
            let redacted = redactor.redact(&format!("{before}{secret}{after}"));
            proptest::prop_assert!(!redacted.contains(&secret), "{redacted}");
        }

        #[test]
        fn an_access_key_id_never_survives(
            prefix in "AKIA|ASIA",
            rest in "[A-Z0-9]{16}",
            before in "[ a-z:=]{0,20}",
        ) {
            let key = format!("{prefix}{rest}");
            let redacted = Redactor::new([]).redact(&format!("{before}{key} "));
            proptest::prop_assert!(!redacted.contains(&key), "{redacted}");
        }
    }
}
