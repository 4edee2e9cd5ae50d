use proptest::prelude::*;
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
    assert_eq!(redactor.known_secrets(), 0);
}

#[test]
fn the_longest_literal_wins() {
    let redactor = Redactor::new(["secret".to_owned(), "secret-token-long".to_owned()]);
    assert_eq!(redactor.redact("x secret-token-long y"), "x [REDACTED] y");
}

#[test]
fn each_line_of_a_multi_line_secret_is_a_secret() {
    let redactor =
        Redactor::new(["-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----".to_owned()]);
    assert_eq!(
        redactor.redact("leaked MIIEvQIBADANBg here"),
        "leaked [REDACTED] here"
    );
}

#[test]
fn a_secret_inside_the_marker_is_ignored() {
    let redactor = Redactor::new(["REDACTED".to_owned()]);
    assert_eq!(redactor.redact("[REDACTED] stays"), "[REDACTED] stays");
}

#[test]
fn a_secret_that_reappears_next_to_the_marker_is_redacted_again() {
    let redactor = Redactor::new(["D]cccccc".to_owned()]);
    let redacted = redactor.redact("D]cccccccccccc");
    assert!(!redacted.contains("D]cccccc"), "{redacted}");
}

#[test]
fn extended_redactors_know_both_sets_of_secrets() {
    let extended =
        Redactor::new(["first-secret".to_owned()]).extended(["second-secret".to_owned()]);
    assert_eq!(
        extended.redact("first-secret second-secret"),
        "[REDACTED] [REDACTED]"
    );
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

#[test]
fn json_text_stays_the_same_json() {
    let redactor = Redactor::new(["PA1234567".to_owned()]);
    let pretty = "{\n  \"account\": \"PA1234567\",\n  \"b\": 1\n}\n";
    assert_eq!(
        redactor.redact_json_text(pretty),
        "{\n  \"account\": \"[REDACTED]\",\n  \"b\": 1\n}\n"
    );
    let lines = "{\"a\":\"PA1234567\"}\n{\"a\":2}\n";
    assert_eq!(
        redactor.redact_json_text(lines),
        "{\"a\":\"[REDACTED]\"}\n{\"a\":2}\n"
    );
}

#[test]
fn json_text_a_textual_redaction_would_break_is_redacted_as_a_value() {
    // The secret ends in a backslash and is followed by an escaped quote:
    // as text, the match takes the quote's backslash too.
    let secret = "trailing-slash\\";
    let redactor = Redactor::new([secret.to_owned()]);
    let text = serde_json::to_string(&json!({"a": format!("{secret}\"x")})).expect("json");
    let redacted = redactor.redact_json_text(&text);
    let value: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
    assert_eq!(value, json!({"a": "[REDACTED]\"x"}));
}

#[test]
fn a_secret_of_the_longest_encoded_length_builds_its_pattern() {
    let secret: String = "a/\"é".repeat(forms::LONGEST_ENCODED / 4);
    let redactor = Redactor::new([secret.clone()]);
    let encoded: String = secret.bytes().map(|byte| format!("%{byte:02x}")).collect();
    assert_eq!(redactor.redact(&format!("<{encoded}>")), "<[REDACTED]>");
}

/// The forms a secret takes in text, as the property tests write them.
mod forms_of {
    /// JSON-escaped as serde writes it.
    pub fn json(secret: &str) -> String {
        let quoted = serde_json::to_string(secret).unwrap_or_default();
        quoted[1..quoted.len() - 1].to_owned()
    }

    /// JSON-escaped with every character beyond ASCII as `\uXXXX`, and `/`
    /// escaped, as some encoders write it.
    pub fn json_ascii(secret: &str) -> String {
        let mut text = String::new();
        for character in json(secret).chars() {
            match character {
                '/' => text.push_str("\\/"),
                ' '..='~' => text.push(character),
                _ => {
                    let mut units = [0; 2];
                    for unit in character.encode_utf16(&mut units) {
                        text.push_str(&format!("\\u{unit:04X}"));
                    }
                }
            }
        }
        text
    }

    /// Percent-encoded, every byte beyond the unreserved set, a space as
    /// `+` or `%20`, hex digits in `upper` or lower case.
    pub fn url(secret: &str, upper: bool, plus: bool) -> String {
        let mut text = String::new();
        for byte in secret.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    text.push(char::from(byte));
                }
                b' ' if plus => text.push('+'),
                _ if upper => text.push_str(&format!("%{byte:02X}")),
                _ => text.push_str(&format!("%{byte:02x}")),
            }
        }
        text
    }

    /// Every byte percent-encoded.
    pub fn url_everything(secret: &str) -> String {
        secret.bytes().map(|byte| format!("%{byte:02X}")).collect()
    }

    /// `text` with `line_break` inserted before the character at
    /// `position` (counted in characters, wrapped around).
    pub fn split(text: &str, position: usize, line_break: &str) -> String {
        let count = text.chars().count();
        let at = 1 + position % (count - 1).max(1);
        let mut split = String::new();
        for (index, character) in text.chars().enumerate() {
            if index == at {
                split.push_str(line_break);
            }
            split.push(character);
        }
        split
    }
}

/// A secret: at least eight characters, no control characters, no space at
/// either end (a value is trimmed).
fn secret() -> impl Strategy<Value = String> {
    prop_oneof!["[!-~]{8,40}", "[^\\s\\p{C}][^\\p{C}]{6,38}[^\\s\\p{C}]",]
}

/// Every form of `secret` the redactor must catch.
fn forms(secret: &str, position: usize, line_break: &str) -> Vec<(&'static str, String)> {
    let mut forms = vec![
        ("plain", secret.to_owned()),
        ("json", forms_of::json(secret)),
        ("json-ascii", forms_of::json_ascii(secret)),
        ("url-upper", forms_of::url(secret, true, true)),
        ("url-lower", forms_of::url(secret, false, false)),
        ("url-everything", forms_of::url_everything(secret)),
        (
            "json-in-url",
            forms_of::url(&forms_of::json(secret), true, false),
        ),
        (
            "url-in-json",
            forms_of::json(&forms_of::url(secret, false, true)),
        ),
        ("json-in-json", forms_of::json(&forms_of::json(secret))),
    ];
    let split: Vec<(&'static str, String)> = forms
        .iter()
        .map(|(_, form)| ("split", forms_of::split(form, position, line_break)))
        .collect();
    forms.extend(split);
    forms
}

proptest! {
    #[test]
    fn a_known_secret_never_survives_in_any_form(
        secret in secret(),
        before in "\\PC{0,40}",
        after in "\\PC{0,40}",
        position in 0usize..64,
        line_break in prop_oneof![Just("\n"), Just("\r\n"), Just("\\n"), Just("\\r\\n"), Just("\n    ")],
    ) {
        let redactor = Redactor::new([secret.clone()]);
        for (name, form) in forms(&secret, position, line_break) {
            let redacted = redactor.redact(&format!("{before}{form}{after}"));
            prop_assert!(!redacted.contains(&form), "{name} form {form:?} survived: {redacted:?}");
            prop_assert!(!redacted.contains(&secret), "{name} form left the secret: {redacted:?}");
        }
    }

    #[test]
    fn redaction_is_idempotent(
        secret in secret(),
        text in "\\PC{0,40}",
        position in 0usize..64,
    ) {
        let redactor = Redactor::new([secret.clone()]);
        for (_, form) in forms(&secret, position, "\n") {
            let once = redactor.redact(&format!("{text}{form}{text}"));
            prop_assert_eq!(redactor.redact(&once), once.clone());
        }
    }

    #[test]
    fn text_without_secrets_is_unchanged(
        secret in "[a-m]{8,24}",
        text in "[n-z0-9 \\t\\n.,;:!?()/_-]{0,200}",
    ) {
        let redactor = Redactor::new([secret]);
        prop_assert_eq!(redactor.redact(&text), text);
    }

    #[test]
    fn an_access_key_id_never_survives(
        prefix in "AKIA|ASIA",
        rest in "[A-Z0-9]{16}",
        before in "[ a-z:=]{0,20}",
    ) {
        let key = format!("{prefix}{rest}");
        let redacted = Redactor::new([]).redact(&format!("{before}{key} "));
        prop_assert!(!redacted.contains(&key), "{redacted}");
    }
}
