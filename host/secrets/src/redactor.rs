//! [`Redactor`]: replaces secrets in text with [`REDACTED`].

use std::sync::Arc;

use regex::Regex;
use regex_automata::meta;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::forms;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Literal values shorter than this are not redacted: they would match
/// ordinary text.
const SHORTEST_LITERAL: usize = 4;

/// The size limit of one secret's compiled pattern (the regex crate's
/// default is 10 MiB); a secret of [`forms::LONGEST_ENCODED`] characters
/// needs less.
const PATTERN_SIZE_LIMIT: usize = 64 * 1024 * 1024;

/// How often redaction is repeated when a pass leaves a secret behind (a
/// secret overlapping the `[REDACTED]` marker can reappear next to it).
const MOST_PASSES: usize = 4;

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

/// Replaces secrets in text: known values in every form [`forms`]
/// describes, and credential-shaped text. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Redactor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The literal values, longest first.
    literals: Vec<String>,
    /// One pattern per literal, in the same order, so a secret containing
    /// another is replaced whole.
    secrets: Vec<meta::Regex>,
    patterns: Vec<Regex>,
}

/// The values to redact among `literals`: trimmed, each line of a
/// multi-line value on its own, at least [`SHORTEST_LITERAL`] characters,
/// never part of the marker itself, longest first and without repeats.
fn prepared(literals: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut values: Vec<String> = literals
        .into_iter()
        .flat_map(|literal| {
            literal
                .lines()
                .map(|line| line.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|value| value.chars().count() >= SHORTEST_LITERAL)
        .filter(|value| !REDACTED.contains(value.as_str()))
        .collect();
    values.sort_by(|left, right| right.len().cmp(&left.len()).then(left.cmp(right)));
    values.dedup();
    values
}

/// The pattern of every form of `secret`. The automatic prefilter is off:
/// extracting literals from a pattern of nested alternations costs more
/// than it saves. Should the pattern not build, the secret is matched as
/// itself.
fn compiled(secret: &str) -> Option<meta::Regex> {
    let config = meta::Regex::config()
        .auto_prefilter(false)
        .nfa_size_limit(Some(PATTERN_SIZE_LIMIT));
    let build = |pattern: &str| {
        meta::Regex::builder()
            .configure(config.clone())
            .build(pattern)
            .ok()
    };
    build(&forms::pattern(secret)).or_else(|| build(&regex::escape(secret)))
}

/// `text` with every match of `secret` replaced by [`REDACTED`]; `None`
/// when there is none.
fn replaced(secret: &meta::Regex, text: &str) -> Option<String> {
    let mut matches = secret.find_iter(text).peekable();
    matches.peek()?;
    let mut result = String::with_capacity(text.len());
    let mut copied = 0;
    for found in matches {
        result.push_str(&text[copied..found.start()]);
        result.push_str(REDACTED);
        copied = found.end();
    }
    result.push_str(&text[copied..]);
    Some(result)
}

impl Redactor {
    /// A redactor for `literals` (credential values, account numbers) and the
    /// built-in patterns.
    pub fn new(literals: impl IntoIterator<Item = String>) -> Self {
        let literals = prepared(literals);
        let secrets = literals
            .iter()
            .filter_map(|value| compiled(value))
            .collect();
        let patterns = PATTERNS
            .iter()
            .filter_map(|pattern| Regex::new(pattern).ok())
            .collect();
        Self {
            inner: Arc::new(Inner {
                literals,
                secrets,
                patterns,
            }),
        }
    }

    /// This redactor's values and `literals`.
    pub fn extended(&self, literals: impl IntoIterator<Item = String>) -> Self {
        Self::new(self.inner.literals.iter().cloned().chain(literals))
    }

    /// How many literal values this redactor knows.
    pub fn known_secrets(&self) -> usize {
        self.inner.literals.len()
    }

    /// `text` with every secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for _ in 0..MOST_PASSES {
            match self.pass(&text) {
                Some(changed) => text = changed,
                None => break,
            }
        }
        text
    }

    /// One pass over `text`; `None` when nothing was replaced.
    fn pass(&self, text: &str) -> Option<String> {
        let mut current = std::borrow::Cow::Borrowed(text);
        for secret in &self.inner.secrets {
            if let Some(changed) = replaced(secret, &current) {
                current = std::borrow::Cow::Owned(changed);
            }
        }
        for pattern in &self.inner.patterns {
            let replacement = if pattern.captures_len() > 1 {
                format!("${{1}}{REDACTED}")
            } else {
                REDACTED.to_owned()
            };
            if pattern.is_match(&current) {
                let replaced = pattern.replace_all(&current, replacement.as_str());
                if replaced != current {
                    current = std::borrow::Cow::Owned(replaced.into_owned());
                }
            }
        }
        match current {
            std::borrow::Cow::Owned(changed) if changed != text => Some(changed),
            _ => None,
        }
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

    /// JSON text (one document, or JSON Lines) redacted so that it stays
    /// the same JSON: redacted as text, which keeps its layout; should that
    /// break a document (a match ending inside an escape), that document
    /// is redacted as a value and written again instead. Text that is not
    /// JSON is redacted as text.
    pub fn redact_json_text(&self, text: &str) -> String {
        let redacted = self.redact(text);
        if redacted == text {
            return redacted;
        }
        if parses(text) {
            return if parses(&redacted) {
                redacted
            } else {
                self.rewritten(text)
            };
        }
        if text.contains('\n') && lines_parse(text) {
            return text
                .split_inclusive('\n')
                .map(|line| self.redact_json_text(line))
                .collect();
        }
        redacted
    }

    /// One JSON document redacted as a value, pretty when it was.
    fn rewritten(&self, text: &str) -> String {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            return self.redact(text);
        };
        let value = self.redact_json(value);
        let body = if text.trim().contains('\n') {
            serde_json::to_string_pretty(&value)
        } else {
            serde_json::to_string(&value)
        };
        let Ok(body) = body else {
            return self.redact(text);
        };
        let start = text.len() - text.trim_start().len();
        let end = text.trim_end().len();
        format!("{}{body}{}", &text[..start], &text[end..])
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

/// Whether `text` is one JSON document.
fn parses(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// Whether every non-blank line of `text` is a JSON document.
fn lines_parse(text: &str) -> bool {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .all(parses)
}

#[cfg(test)]
#[path = "redactor_tests.rs"]
mod tests;
