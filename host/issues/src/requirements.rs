//! Requirements extracted from an issue body, and ticking their checkboxes.
//!
//! Three sources, in this order:
//! 1. **Checkboxes**: task-list items (`- [ ]`, `* [x]`, `+ [ ]`, `1. [ ]`),
//!    nested by indentation. Their `[x]` is the done flag.
//! 2. **Components**: files, modules, types and functions named in backticks
//!    anywhere in the body (see [`crate::components`]), each once. A component
//!    is done when every checkbox naming it is ticked; one named by no
//!    checkbox is done when every checkbox is.
//! 3. **Implicit requirements**: tests, always, unless a checkbox mentions
//!    tests; documentation when the body mentions user-facing behaviour
//!    (see [`USER_FACING_WORDS`]) and no checkbox mentions docs. Done when
//!    every checkbox is ticked.
//!
//! Fenced code blocks are skipped. Without checkboxes nothing is ever done:
//! only ticking a checkbox completes work.
//!
//! Ids are stable: a checkbox's id hashes its normalised text (not its
//! position or its tick), so ticking or moving a line keeps its id; a
//! component's id is its name.
//!
//! Complexity is estimated from 1 (trivial) to 5 (large):
//! - a checkbox: 1, +1 over 12 words, +1 over 30 words, +1 when it names a
//!   component, +1 more when it names three or more, +1 for a heavy verb
//!   ([`HEAVY_VERBS`]); capped at 5;
//! - a component: 2;
//! - tests: 1 + one per three checkboxes, capped at 5;
//! - documentation: 2.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::components::{self, Component};

/// Words that make a checkbox a larger piece of work.
pub const HEAVY_VERBS: &[&str] = &[
    "implement",
    "refactor",
    "redesign",
    "rewrite",
    "migrate",
    "integrate",
    "replace",
    "parallelize",
];

/// Words that mean the issue changes what a user sees, so docs are needed.
pub const USER_FACING_WORDS: &[&str] = &[
    "user", "users", "cli", "command", "commands", "flag", "flags", "option", "options", "output",
    "prints", "help", "readme", "message", "messages", "display",
];

const TEST_WORDS: &[&str] = &["test", "tests", "tested", "testing"];
const DOCS_WORDS: &[&str] = &["doc", "docs", "documentation", "documented", "readme"];

/// A requirement's stable identity, e.g. `checkbox:1a2b3c4d`,
/// `component:src/foo.rs`, `implicit:tests`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RequirementId(pub String);

impl fmt::Display for RequirementId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Where a requirement came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequirementKind {
    Checkbox,
    Component,
    Tests,
    Documentation,
}

/// An estimate of the work, from 1 (trivial) to 5 (large).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Complexity(u8);

impl Complexity {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 5;

    /// `points` clamped to 1..=5.
    pub fn clamped(points: usize) -> Self {
        Complexity(points.clamp(Self::MIN.into(), Self::MAX.into()) as u8)
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// One thing the issue asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub id: RequirementId,
    pub kind: RequirementKind,
    pub text: String,
    pub done: bool,
    pub complexity: Complexity,
    /// The components this requirement names (a component names itself).
    pub components: Vec<Component>,
    /// The 1-based body line of a checkbox.
    pub line: Option<usize>,
    /// The enclosing checkbox of a nested checkbox.
    pub parent: Option<RequirementId>,
}

/// Every requirement of an issue body, checkboxes first.
pub fn extract(body: &str) -> Vec<Requirement> {
    let checkboxes = checkbox_requirements(body);
    let mut requirements = checkboxes.clone();
    requirements.extend(component_requirements(body, &checkboxes));
    requirements.extend(implicit_requirements(body, &checkboxes));
    requirements
}

/// The requirements still to do.
pub fn remaining(requirements: &[Requirement]) -> impl Iterator<Item = &Requirement> {
    requirements.iter().filter(|requirement| !requirement.done)
}

/// Why checkboxes could not be ticked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TickError {
    #[error("no requirement `{0}` in this issue")]
    Unknown(RequirementId),
    #[error("requirement `{0}` is not a checkbox; only checkboxes can be ticked")]
    NotACheckbox(RequirementId),
}

/// `body` with the `[ ]` of each chosen checkbox turned into `[x]`; every
/// other byte stays. Ticking a ticked checkbox changes nothing.
pub fn tick(body: &str, ids: &[RequirementId]) -> Result<String, TickError> {
    let found = checkboxes(body);
    let requirements = extract(body);
    let mut ticked = body.to_owned();
    for id in ids {
        // Checkboxes come first in `requirements`, in the order of `found`.
        let position = requirements
            .iter()
            .position(|requirement| &requirement.id == id)
            .ok_or_else(|| TickError::Unknown(id.clone()))?;
        let checkbox = found
            .get(position)
            .filter(|_| requirements[position].kind == RequirementKind::Checkbox)
            .ok_or_else(|| TickError::NotACheckbox(id.clone()))?;
        if !checkbox.done {
            // The mark is an ASCII space, so this replaces exactly one byte.
            ticked.replace_range(checkbox.mark..=checkbox.mark, "x");
        }
    }
    Ok(ticked)
}

/// A task-list item found in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Checkbox<'body> {
    line: usize,
    indent: usize,
    /// Byte offset in the body of the character between the brackets.
    mark: usize,
    done: bool,
    text: &'body str,
}

/// The body's lines outside fenced code blocks: (1-based line, byte offset
/// of the line, the line without its line ending).
fn prose_lines(body: &str) -> Vec<(usize, usize, &str)> {
    let mut lines = Vec::new();
    let mut fence: Option<&str> = None;
    let mut offset = 0;
    for (index, raw) in body.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        let start = line.trim_start();
        let marker = ["```", "~~~"]
            .into_iter()
            .find(|marker| start.starts_with(marker));
        match (fence, marker) {
            (None, Some(marker)) => fence = Some(marker),
            (Some(open), Some(marker)) if open == marker => fence = None,
            (None, None) => lines.push((index + 1, offset, line)),
            _ => {}
        }
        offset += raw.len();
    }
    lines
}

fn checkboxes(body: &str) -> Vec<Checkbox<'_>> {
    prose_lines(body)
        .into_iter()
        .filter_map(|(line, offset, text)| {
            parse_checkbox(text).map(|mut checkbox| {
                checkbox.line = line;
                checkbox.mark += offset;
                checkbox
            })
        })
        .collect()
}

/// A task-list item in one line: indentation, a bullet (`-`, `*`, `+` or
/// `1.`/`1)`), whitespace, `[ ]` or `[x]`, then whitespace and the text.
fn parse_checkbox(line: &str) -> Option<Checkbox<'_>> {
    let rest = line.trim_start_matches([' ', '\t']);
    let indent = line[..line.len() - rest.len()]
        .chars()
        .map(|character| if character == '\t' { 4 } else { 1 })
        .sum();
    let after_bullet = match rest.strip_prefix(['-', '*', '+']) {
        Some(after) => after,
        None => {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                return None;
            }
            rest[digits..].strip_prefix(['.', ')'])?
        }
    };
    let box_start = after_bullet.trim_start_matches([' ', '\t']);
    if box_start.len() == after_bullet.len() {
        return None;
    }
    let inner = box_start.strip_prefix('[')?;
    let done = match inner.chars().next()? {
        ' ' => false,
        'x' | 'X' => true,
        _ => return None,
    };
    let after_box = inner[1..].strip_prefix(']')?;
    let text = after_box.trim();
    if text.is_empty() || !after_box.starts_with([' ', '\t']) {
        return None;
    }
    Some(Checkbox {
        line: 0,
        indent,
        mark: line.len() - inner.len(),
        done,
        text,
    })
}

fn checkbox_requirements(body: &str) -> Vec<Requirement> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut enclosing: Vec<(usize, RequirementId)> = Vec::new();
    let mut requirements = Vec::new();
    for checkbox in checkboxes(body) {
        let normalised = normalise(checkbox.text);
        let occurrence = seen.entry(normalised.clone()).or_insert(0);
        *occurrence += 1;
        let mut id = format!("checkbox:{:08x}", fnv1a(&normalised));
        if *occurrence > 1 {
            id.push_str(&format!("-{occurrence}"));
        }
        let id = RequirementId(id);
        while enclosing
            .last()
            .is_some_and(|(indent, _)| *indent >= checkbox.indent)
        {
            enclosing.pop();
        }
        let parent = enclosing.last().map(|(_, id)| id.clone());
        enclosing.push((checkbox.indent, id.clone()));
        let components = components::in_line(checkbox.text);
        requirements.push(Requirement {
            complexity: checkbox_complexity(checkbox.text, components.len()),
            id,
            kind: RequirementKind::Checkbox,
            text: checkbox.text.to_owned(),
            done: checkbox.done,
            components,
            line: Some(checkbox.line),
            parent,
        });
    }
    requirements
}

fn checkbox_complexity(text: &str, component_count: usize) -> Complexity {
    let words = words(text);
    let mut points = 1;
    points += usize::from(words.len() > 12) + usize::from(words.len() > 30);
    points += usize::from(component_count >= 1) + usize::from(component_count >= 3);
    points += usize::from(
        words
            .iter()
            .any(|word| HEAVY_VERBS.contains(&word.as_str())),
    );
    Complexity::clamped(points)
}

fn component_requirements(body: &str, checkboxes: &[Requirement]) -> Vec<Requirement> {
    let mut named: Vec<Component> = Vec::new();
    for (_, _, line) in prose_lines(body) {
        for component in components::in_line(line) {
            if !named.iter().any(|known| known.name == component.name) {
                named.push(component);
            }
        }
    }
    let all_done = all_done(checkboxes);
    named
        .into_iter()
        .map(|component| {
            let naming: Vec<&Requirement> = checkboxes
                .iter()
                .filter(|checkbox| checkbox.components.iter().any(|c| c.name == component.name))
                .collect();
            let done = if naming.is_empty() {
                all_done
            } else {
                naming.iter().all(|checkbox| checkbox.done)
            };
            Requirement {
                id: RequirementId(format!("component:{}", component.name)),
                kind: RequirementKind::Component,
                text: component.name.clone(),
                done,
                complexity: Complexity::clamped(2),
                components: vec![component],
                line: None,
                parent: None,
            }
        })
        .collect()
}

fn implicit_requirements(body: &str, checkboxes: &[Requirement]) -> Vec<Requirement> {
    let mentions = |vocabulary: &[&str]| {
        checkboxes.iter().any(|checkbox| {
            words(&checkbox.text)
                .iter()
                .any(|word| vocabulary.contains(&word.as_str()))
        })
    };
    let done = all_done(checkboxes);
    let mut implicit = Vec::new();
    if !mentions(TEST_WORDS) {
        implicit.push(Requirement {
            id: RequirementId("implicit:tests".to_owned()),
            kind: RequirementKind::Tests,
            text: "Tests cover the change".to_owned(),
            done,
            complexity: Complexity::clamped(1 + checkboxes.len() / 3),
            components: Vec::new(),
            line: None,
            parent: None,
        });
    }
    let user_facing = prose_lines(body).iter().any(|(_, _, line)| {
        line.contains(" --")
            || words(line)
                .iter()
                .any(|word| USER_FACING_WORDS.contains(&word.as_str()))
    });
    if user_facing && !mentions(DOCS_WORDS) {
        implicit.push(Requirement {
            id: RequirementId("implicit:docs".to_owned()),
            kind: RequirementKind::Documentation,
            text: "Documentation describes the user-facing change".to_owned(),
            done,
            complexity: Complexity::clamped(2),
            components: Vec::new(),
            line: None,
            parent: None,
        });
    }
    implicit
}

fn all_done(checkboxes: &[Requirement]) -> bool {
    !checkboxes.is_empty() && checkboxes.iter().all(|checkbox| checkbox.done)
}

/// Lowercase words of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Lowercase with runs of whitespace collapsed: what a checkbox id hashes.
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// 32-bit FNV-1a: small, stable across Rust versions and platforms.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
#[path = "requirements_tests.rs"]
mod tests;
