//! The issue file format: front matter between `---` lines, then the body.
//!
//! ```text
//! ---
//! title: Add a backlog command
//! labels: [in-refinement, ralph]
//! state: open
//! ---
//! The markdown body, kept byte for byte.
//! ```
//!
//! The parser is strict: the three keys `title`, `labels` and `state`, each
//! once, nothing else; a label list in brackets; every error names its line.
//! No I/O here: [`crate::local`] reads and writes the files.

use std::collections::BTreeSet;

use crate::issue::{
    InvalidTitle, Issue, IssueState, Label, UnknownLabel, UnknownState, check_title, is_tag,
};

/// The delimiter line around the front matter.
const DELIMITER: &str = "---";
/// The keys of the front matter, in the order they are written.
pub const KEYS: [&str; 3] = ["title", "labels", "state"];

/// The front matter's values; in an issue file all three must be present,
/// in `ralph marketplace spec` input any may be left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub labels: Option<BTreeSet<Label>>,
    /// The tags among the labels (`type:<name>`, `complex`).
    pub tags: BTreeSet<String>,
    pub state: Option<IssueState>,
}

/// A markdown text split into its optional front matter and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document<'text> {
    pub front_matter: Option<FrontMatter>,
    pub body: &'text str,
    /// The 1-based line of the closing `---`, 0 without front matter.
    pub closing_line: usize,
}

/// What is wrong with a front matter, and on which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct FormatError {
    pub line: usize,
    pub problem: Problem,
}

/// Everything that can be wrong with a front matter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("an issue file starts with a `---` line opening its front matter")]
    NoFrontMatter,
    #[error("the front matter opened on line 1 is never closed by a `---` line")]
    Unclosed,
    #[error("expected `key: value`, found `{text}`")]
    NotKeyValue { text: String },
    #[error("unknown key `{key}` (expected title, labels, state)")]
    UnknownKey { key: String },
    #[error("key `{key}` appears twice")]
    DuplicateKey { key: String },
    #[error("key `{key}` is missing")]
    MissingKey { key: String },
    #[error("key `labels`: expected a list like `[ready, ralph]`, found `{text}`")]
    NotAList { text: String },
    #[error("key `labels`: an empty entry in the list")]
    EmptyLabel,
    #[error("key `labels`: {0}")]
    UnknownLabel(UnknownLabel),
    #[error("key `labels`: `{0}` appears twice")]
    DuplicateLabel(Label),
    #[error("key `labels`: `{0}` appears twice")]
    DuplicateTag(String),
    #[error("key `state`: {0}")]
    UnknownState(UnknownState),
    #[error("key `title`: {0}")]
    Title(InvalidTitle),
}

fn at(line: usize, problem: Problem) -> FormatError {
    FormatError { line, problem }
}

/// Splits `text` into front matter (when its first line is `---`) and body.
pub fn split(text: &str) -> Result<Document<'_>, FormatError> {
    let Some(after_opening) = strip_delimiter_line(text) else {
        return Ok(Document {
            front_matter: None,
            body: text,
            closing_line: 0,
        });
    };
    let mut front_matter = FrontMatter::default();
    let mut rest = after_opening;
    let mut line_number = 1;
    loop {
        line_number += 1;
        if rest.is_empty() {
            return Err(at(1, Problem::Unclosed));
        }
        let (line, after) = match rest.find('\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, ""),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line == DELIMITER {
            return Ok(Document {
                front_matter: Some(front_matter),
                body: after,
                closing_line: line_number,
            });
        }
        if !line.trim().is_empty() {
            read_entry(line, &mut front_matter).map_err(|problem| at(line_number, problem))?;
        }
        rest = after;
    }
}

/// The text after a first line that is exactly `---`.
fn strip_delimiter_line(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(DELIMITER)?;
    if rest.is_empty() {
        return Some(rest);
    }
    rest.strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
}

fn read_entry(line: &str, front_matter: &mut FrontMatter) -> Result<(), Problem> {
    let Some((key, value)) = line.split_once(':') else {
        return Err(Problem::NotKeyValue {
            text: line.to_owned(),
        });
    };
    let (key, value) = (key.trim(), value.trim());
    let duplicate = || Problem::DuplicateKey {
        key: key.to_owned(),
    };
    match key {
        "title" => {
            check_title(value).map_err(Problem::Title)?;
            set_once(&mut front_matter.title, value.to_owned(), duplicate)
        }
        "labels" => {
            let (labels, tags) = parse_labels(value)?;
            front_matter.tags = tags;
            set_once(&mut front_matter.labels, labels, duplicate)
        }
        "state" => {
            let state = value.parse().map_err(Problem::UnknownState)?;
            set_once(&mut front_matter.state, state, duplicate)
        }
        _ if key.is_empty() || key.contains(char::is_whitespace) => Err(Problem::NotKeyValue {
            text: line.to_owned(),
        }),
        _ => Err(Problem::UnknownKey {
            key: key.to_owned(),
        }),
    }
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    duplicate: impl Fn() -> Problem,
) -> Result<(), Problem> {
    if slot.is_some() {
        return Err(duplicate());
    }
    *slot = Some(value);
    Ok(())
}

/// `[a, b]` into a set of Ralph's labels and one of tags (`type:<name>`,
/// `complex`); a repeated or unknown label is an error.
pub fn parse_labels(text: &str) -> Result<(BTreeSet<Label>, BTreeSet<String>), Problem> {
    let inner = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| Problem::NotAList {
            text: text.to_owned(),
        })?;
    let mut labels = BTreeSet::new();
    let mut tags = BTreeSet::new();
    if inner.trim().is_empty() {
        return Ok((labels, tags));
    }
    for item in inner.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(Problem::EmptyLabel);
        }
        if is_tag(item) {
            if !tags.insert(item.to_owned()) {
                return Err(Problem::DuplicateTag(item.to_owned()));
            }
            continue;
        }
        let label: Label = item.parse().map_err(Problem::UnknownLabel)?;
        if !labels.insert(label) {
            return Err(Problem::DuplicateLabel(label));
        }
    }
    Ok((labels, tags))
}

/// Parses a whole issue file: front matter with all three keys, then the
/// body. The number comes from the file name, not the text.
pub fn parse(number: u64, text: &str) -> Result<Issue, FormatError> {
    let document = split(text)?;
    let Some(front_matter) = document.front_matter else {
        return Err(at(1, Problem::NoFrontMatter));
    };
    let missing = |key: &str| {
        at(
            document.closing_line,
            Problem::MissingKey {
                key: key.to_owned(),
            },
        )
    };
    Ok(Issue {
        number,
        title: front_matter.title.ok_or_else(|| missing("title"))?,
        labels: front_matter.labels.ok_or_else(|| missing("labels"))?,
        tags: front_matter.tags,
        state: front_matter.state.ok_or_else(|| missing("state"))?,
        body: document.body.to_owned(),
    })
}

/// The issue file's text; [`parse`] reads it back to the same issue.
pub fn render(issue: &Issue) -> String {
    let labels: Vec<&str> = issue
        .labels
        .iter()
        .map(|label| label.as_str())
        .chain(issue.tags.iter().map(String::as_str))
        .collect();
    format!(
        "{DELIMITER}\ntitle: {}\nlabels: [{}]\nstate: {}\n{DELIMITER}\n{}",
        issue.title,
        labels.join(", "),
        issue.state,
        issue.body
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue_text(front_matter: &str, body: &str) -> String {
        format!("---\n{front_matter}---\n{body}")
    }

    const VALID: &str = "title: Add a backlog\nlabels: [ready, ralph]\nstate: open\n";

    #[test]
    fn an_issue_file_is_front_matter_then_the_body_byte_for_byte() {
        let body = "# Heading\r\n\n- [ ] one  \n\ttrailing";
        let issue = parse(7, &issue_text(VALID, body)).expect("valid");
        assert_eq!(issue.number, 7);
        assert_eq!(issue.title, "Add a backlog");
        assert_eq!(issue.labels, BTreeSet::from([Label::Ready, Label::Ralph]));
        assert_eq!(issue.state, IssueState::Open);
        assert_eq!(issue.body, body);
    }

    #[test]
    fn rendering_then_parsing_gives_the_same_issue() {
        let issue = parse(3, &issue_text(VALID, "body\n")).expect("valid");
        assert_eq!(parse(3, &render(&issue)), Ok(issue));
    }

    #[test]
    fn keys_may_come_in_any_order_and_blank_lines_are_skipped() {
        let text = issue_text("state: closed\n\nlabels: []\ntitle: T\n", "");
        let issue = parse(1, &text).expect("valid");
        assert_eq!(issue.state, IssueState::Closed);
        assert!(issue.labels.is_empty());
    }

    #[test]
    fn windows_line_endings_are_accepted_in_the_front_matter() {
        let text = "---\r\ntitle: T\r\nlabels: [ready]\r\nstate: open\r\n---\r\nbody\r\n";
        let issue = parse(1, text).expect("valid");
        assert_eq!(issue.title, "T");
        assert_eq!(issue.body, "body\r\n");
    }

    #[test]
    fn each_malformed_front_matter_names_its_line_and_key() {
        let cases: [(&str, usize, &str); 10] = [
            ("no front matter\n", 1, "starts with a `---`"),
            ("---\ntitle: T\n", 1, "never closed"),
            ("---\ntitle T\n---\n", 2, "expected `key: value`"),
            ("---\ntitle: T\nowner: me\n---\n", 3, "unknown key `owner`"),
            (
                "---\ntitle: T\ntitle: U\n---\n",
                3,
                "key `title` appears twice",
            ),
            (
                "---\ntitle: T\nstate: open\n---\n",
                4,
                "key `labels` is missing",
            ),
            ("---\nlabels: ready\n---\n", 2, "expected a list"),
            (
                "---\nlabels: [ready, urgent]\n---\n",
                2,
                "unknown label `urgent`",
            ),
            ("---\nstate: done\n---\n", 2, "unknown state `done`"),
            ("---\ntitle:\n---\n", 2, "key `title`: the title is empty"),
        ];
        for (text, line, message) in cases {
            let error = parse(1, text).expect_err(text);
            assert_eq!(error.line, line, "{text}");
            assert!(error.to_string().contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn a_repeated_label_or_an_empty_entry_is_an_error() {
        assert_eq!(
            parse_labels("[ready, ready]"),
            Err(Problem::DuplicateLabel(Label::Ready))
        );
        assert_eq!(parse_labels("[ready,]"), Err(Problem::EmptyLabel));
        assert_eq!(parse_labels("[ ]"), Ok((BTreeSet::new(), BTreeSet::new())));
        assert_eq!(
            parse_labels("[complex, complex]"),
            Err(Problem::DuplicateTag("complex".into()))
        );
    }

    #[test]
    fn type_and_complex_labels_are_kept_as_tags_and_written_back() {
        let text =
            "---\ntitle: Fix it\nlabels: [ready, type:bug, complex]\nstate: open\n---\nbody\n";
        let issue = parse(3, text).expect("valid");
        assert_eq!(issue.labels, BTreeSet::from([Label::Ready]));
        assert_eq!(
            issue.tags,
            BTreeSet::from(["complex".to_owned(), "type:bug".to_owned()])
        );
        assert_eq!(parse(3, &render(&issue)).expect("reads back"), issue);
        for unknown in ["type:", "type:Bug", "kind:bug", "type:a-b"] {
            let text = format!("---\ntitle: T\nlabels: [{unknown}]\nstate: open\n---\n");
            assert!(parse(1, &text).is_err(), "{unknown}");
        }
    }

    #[test]
    fn text_without_a_first_delimiter_line_has_no_front_matter() {
        let document = split("# Title\n---\n").expect("no front matter");
        assert_eq!(document.front_matter, None);
        assert_eq!(document.body, "# Title\n---\n");
        let document = split("----\ntitle: T\n").expect("not a delimiter");
        assert_eq!(document.front_matter, None);
    }

    #[test]
    fn partial_front_matter_is_allowed_when_splitting() {
        let document = split("---\ntitle: Only a title\n---\nbody").expect("valid");
        let front_matter = document.front_matter.expect("present");
        assert_eq!(front_matter.title.as_deref(), Some("Only a title"));
        assert_eq!(front_matter.labels, None);
        assert_eq!(document.body, "body");
        assert_eq!(document.closing_line, 3);
    }
}
