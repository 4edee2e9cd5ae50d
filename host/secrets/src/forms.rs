//! The forms a secret takes in text, as one regular expression per secret.
//!
//! Each character of the secret may appear
//!
//! - as itself;
//! - percent-encoded, byte by byte (`%2F` or `%2f`, also double-encoded as
//!   `%252F`), and a space as `+`;
//! - JSON-escaped: `\u002f` in any case (a surrogate pair beyond the basic
//!   plane), and `\"`, `\\`, `\/`; the backslash may itself be escaped
//!   (JSON in JSON) or percent-encoded (`%5C`, JSON in a URL);
//!
//! and a line break — `\n`, `\r\n`, `\r`, or JSON-escaped `\n` / `\r\n`,
//! followed by any indentation — may stand between any two characters of
//! the secret or of an encoded character, as wrapped output puts them.
//!
//! A secret longer than [`LONGEST_ENCODED`] characters is matched only as
//! itself and JSON-escaped: its encoded pattern would be too big to build.

use std::fmt::Write;
use std::sync::LazyLock;

/// The longest secret, in characters, whose encoded forms are matched.
pub const LONGEST_ENCODED: usize = 256;

/// A line break wrapped text may insert: a real one, or a JSON-escaped one
/// (its backslashes escaped any number of times), then indentation.
const BREAK: &str = r"(?:(?:\r\n|\n|\r|(?:\\+r)?\\+n)[ \t]*)?";

/// A percent sign, possibly itself percent-encoded (`%25`), line breaks
/// between its characters.
fn percent() -> String {
    format!("%(?:{BREAK}2{BREAK}5)*")
}

/// A JSON escape's backslash: escaped any number of times, or
/// percent-encoded, line breaks between its characters.
fn backslash() -> &'static str {
    static BACKSLASH: LazyLock<String> = LazyLock::new(|| {
        let one = format!(r"(?:\\|{}{BREAK}5{BREAK}[cC])", percent());
        format!("{one}(?:{BREAK}{one})*")
    });
    &BACKSLASH
}

/// The pattern matching `secret` in every form (see the module docs).
pub fn pattern(secret: &str) -> String {
    if secret.chars().count() > LONGEST_ENCODED {
        return long_pattern(secret);
    }
    let characters: Vec<String> = secret.chars().map(character).collect();
    characters.join(BREAK)
}

/// A long secret: as itself, or as JSON writes it.
fn long_pattern(secret: &str) -> String {
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let inner = escaped
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(secret);
    if inner == secret {
        regex::escape(secret)
    } else {
        format!("(?:{}|{})", regex::escape(secret), regex::escape(inner))
    }
}

/// Every form of one character, as an alternation.
fn character(character: char) -> String {
    let mut forms: Vec<Vec<String>> = vec![vec![regex::escape(&character.to_string())]];
    forms.push(percent_encoded(character));
    if character == ' ' {
        forms.push(vec![r"\+".to_owned()]);
    }
    forms.push(unicode_escaped(character));
    if matches!(character, '"' | '/') {
        let plain = format!(
            "(?:{}|{})",
            regex::escape(&character.to_string()),
            percent_encoded(character).join(BREAK)
        );
        forms.push(vec![backslash().to_owned(), plain]);
    }
    if character == '\\' {
        forms.push(vec![backslash().to_owned()]);
    }
    let alternatives: Vec<String> = forms.iter().map(|atoms| atoms.join(BREAK)).collect();
    format!("(?:{})", alternatives.join("|"))
}

/// `%XX` per UTF-8 byte, either case; each `%` and digit is an atom.
fn percent_encoded(character: char) -> Vec<String> {
    let mut bytes = [0; 4];
    let mut atoms = Vec::new();
    for byte in character.encode_utf8(&mut bytes).bytes() {
        atoms.push(percent());
        atoms.push(hex_digit(byte >> 4));
        atoms.push(hex_digit(byte & 0xf));
    }
    atoms
}

/// `\uXXXX` (a surrogate pair beyond the basic plane), either case.
fn unicode_escaped(character: char) -> Vec<String> {
    let mut units = [0; 2];
    let mut atoms = Vec::new();
    for unit in character.encode_utf16(&mut units).iter() {
        atoms.push(backslash().to_owned());
        atoms.push("u".to_owned());
        for shift in [12, 8, 4, 0] {
            atoms.push(hex_digit(((unit >> shift) & 0xf) as u8));
        }
    }
    atoms
}

/// A hexadecimal digit in either case.
fn hex_digit(value: u8) -> String {
    let mut text = String::new();
    match value {
        0..=9 => {
            let _ = write!(text, "{value}");
        }
        _ => {
            let lower = char::from(b'a' + value - 10);
            let _ = write!(text, "[{lower}{}]", lower.to_ascii_uppercase());
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    fn matches(secret: &str, text: &str) -> bool {
        Regex::new(&pattern(secret))
            .expect("a valid pattern")
            .find(text)
            .is_some_and(|found| found.as_str() == text)
    }

    #[test]
    fn a_secret_matches_itself() {
        assert!(matches("s3cr3t.k/y", "s3cr3t.k/y"));
        assert!(!matches("s3cr3t.k/y", "s3cr3t.kky"));
    }

    #[test]
    fn a_secret_matches_percent_encoded_in_either_case() {
        assert!(matches("a/b c+d", "a%2Fb+c%2bd"));
        assert!(matches("a/b c+d", "%61%2f%62%20%63%2B%64"));
        assert!(matches("a/b", "a%252Fb"), "double-encoded");
        assert!(matches("é", "%C3%A9"));
    }

    #[test]
    fn a_secret_matches_json_escaped() {
        assert!(matches(r#"a"b\c/d"#, r#"a\"b\\c\/d"#));
        assert!(matches("ab", r"\u0061\u0062"));
        assert!(matches("a/", r"\u0061\u002F"));
        assert!(matches("😀", r"\ud83d\ude00"));
        assert!(matches(r#"a"b"#, r#"a\\\"b"#), "JSON in JSON");
        assert!(matches(r#"a"b"#, "a%5C%22b"), "JSON in a URL");
    }

    #[test]
    fn a_secret_matches_split_across_lines() {
        assert!(matches("abcdef", "abc\ndef"));
        assert!(matches("abcdef", "a\r\nbcde\n  f"));
        assert!(matches("abcdef", r"abc\ndef"));
        assert!(matches("abcdef", r"abc\r\ndef"));
        assert!(
            matches("a/bc", "a%2\nFbc"),
            "a break inside an encoded character"
        );
    }

    #[test]
    fn a_long_secret_matches_as_itself_and_json_escaped() {
        let secret = format!("{}\"{}", "x".repeat(200), "y".repeat(100));
        assert!(matches(&secret, &secret));
        let escaped = serde_json::to_string(&secret).expect("a string");
        assert!(matches(&secret, &escaped[1..escaped.len() - 1]));
    }
}
