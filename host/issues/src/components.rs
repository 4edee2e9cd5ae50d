//! Named components: the files, modules, types and functions a spec names in
//! backticks, such as `src/foo.rs`, `ralph_issues::local`, `LocalIssues` or
//! `tick()`.
//!
//! Only single-word code spans count: `ralph marketplace spec` is a command,
//! not a component, and `ready` (a lowercase word) is too vague to be one.

use serde::Serialize;

/// What sort of thing a component is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    /// A file or directory: has a `/` or a file extension (`src/foo.rs`, `Cargo.toml`).
    Path,
    /// A module path with `::` (`ralph_issues::local`, `Label::Ready`).
    Module,
    /// An UpperCamelCase name (`LocalIssues`).
    Type,
    /// A name followed by `()` (`tick()`, `issues_dir()`).
    Function,
}

/// A component named in the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Component {
    pub name: String,
    pub kind: ComponentKind,
}

/// The components named in one line, in order, each once.
pub fn in_line(line: &str) -> Vec<Component> {
    let mut components: Vec<Component> = Vec::new();
    for span in code_spans(line) {
        if let Some(kind) = classify(span)
            && !components.iter().any(|known| known.name == span)
        {
            components.push(Component {
                name: span.to_owned(),
                kind,
            });
        }
    }
    components
}

/// The contents of the single-backtick code spans of a line, trimmed.
fn code_spans(line: &str) -> impl Iterator<Item = &str> {
    let pieces: Vec<&str> = line.split('`').collect();
    // An odd piece is inside a span only when a closing backtick follows it.
    let closed = if pieces.len().is_multiple_of(2) {
        pieces.len() - 1
    } else {
        pieces.len()
    };
    pieces
        .into_iter()
        .take(closed)
        .skip(1)
        .step_by(2)
        .map(str::trim)
}

/// The kind of component `span` names, if it names one.
pub fn classify(span: &str) -> Option<ComponentKind> {
    if span.is_empty() || span.contains(char::is_whitespace) || span.contains("://") {
        return None;
    }
    if let Some(name) = span.strip_suffix("()") {
        return (is_identifier(name) || is_module_path(name)).then_some(ComponentKind::Function);
    }
    if is_module_path(span) {
        return Some(ComponentKind::Module);
    }
    if is_path(span) {
        return Some(ComponentKind::Path);
    }
    if is_type_name(span) {
        return Some(ComponentKind::Type);
    }
    None
}

fn is_identifier(text: &str) -> bool {
    let mut characters = text.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
}

fn is_module_path(text: &str) -> bool {
    text.contains("::") && text.split("::").all(is_identifier)
}

fn is_path(text: &str) -> bool {
    let path_characters = text
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || "_./-".contains(character));
    if !path_characters || text.starts_with('-') || !text.chars().any(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    if text.contains('/') {
        return true;
    }
    // `name.ext` with a short extension holding a letter: `Cargo.toml`, `lib.rs`.
    match text.rsplit_once('.') {
        Some((stem, extension)) => {
            !stem.is_empty()
                && (1..=4).contains(&extension.len())
                && extension.chars().all(|c| c.is_ascii_alphanumeric())
                && extension.chars().any(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

fn is_type_name(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|first| first.is_ascii_uppercase())
        && text
            .chars()
            .all(|character| character.is_ascii_alphanumeric())
        && text.chars().any(|character| character.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_modules_types_and_functions_in_backticks_are_components() {
        let cases = [
            ("src/foo.rs", ComponentKind::Path),
            ("Cargo.toml", ComponentKind::Path),
            ("host/issues/", ComponentKind::Path),
            (".ralph/issues", ComponentKind::Path),
            ("ralph_issues::local", ComponentKind::Module),
            ("Label::Ready", ComponentKind::Module),
            ("LocalIssues", ComponentKind::Type),
            ("tick()", ComponentKind::Function),
            ("Layout::issues_dir()", ComponentKind::Function),
        ];
        for (span, kind) in cases {
            assert_eq!(classify(span), Some(kind), "{span}");
        }
    }

    #[test]
    fn commands_flags_numbers_words_and_urls_are_not_components() {
        for span in [
            "ralph marketplace spec",
            "--json",
            "0.5",
            "ready",
            "https://example.com/a.rs",
            "ALL",
            "",
            "- [ ]",
        ] {
            assert_eq!(classify(span), None, "{span}");
        }
    }

    #[test]
    fn a_line_names_each_component_once_in_order() {
        let line = "Add `Label` to `src/issue.rs`, then use `Label` and `ready` in `src/local.rs`";
        let names: Vec<String> = in_line(line).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["Label", "src/issue.rs", "src/local.rs"]);
    }

    #[test]
    fn an_unclosed_backtick_opens_no_span() {
        assert!(in_line("a stray ` then `src/foo.rs").is_empty());
        assert_eq!(in_line("`a.rs` and a stray `").len(), 1);
    }
}
