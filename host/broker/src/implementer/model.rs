//! The `model` implementer's prompt, fitted to the model's context window.
//!
//! The prompt holds the instructions, the issue, the proposal and the
//! current text of the files that matter: the files the proposal names,
//! then files the issue or the plan name by path. Tokens are estimated as
//! one per [`BYTES_PER_TOKEN`] bytes (cautious for code). The files get what
//! is left of the context window after the rest of the prompt, the answer
//! (`max_tokens`) and a margin of [`MARGIN_PERCENT`]% of the window; when
//! the window is unknown, [`UNKNOWN_CONTEXT_FILE_TOKENS`] tokens. A file that
//! does not fit whole is shown as excerpts: its first lines and the lines
//! around each mention of a name the proposal uses (a function, a type, a
//! file), as many as fit, marked with their line numbers. A prompt whose
//! fixed part alone does not fit is refused before the model is called.

use std::path::Path;

use super::Task;

/// Bytes of text per token, as the estimate of a prompt's size.
pub const BYTES_PER_TOKEN: usize = 3;
/// The tokens the files may take when the model's context window is
/// unknown.
pub const UNKNOWN_CONTEXT_FILE_TOKENS: usize = 24_000;
/// The part of the context window left free, for the estimate's error and
/// the retry's note.
pub const MARGIN_PERCENT: usize = 10;
/// Lines shown before and after each mention in an excerpt.
const EXCERPT_RADIUS: usize = 12;
/// The first lines of a file, always in its excerpts (imports, module
/// documentation).
const HEAD_LINES: usize = 20;

const INSTRUCTIONS: &str = "Answer with the change as a unified diff (paths a/ and b/ relative to \
the repository) in a ```diff block. Where a file is shown as excerpts, copy its context lines \
exactly from them.\n";

/// The fewest tokens a prompt takes before any file (the instructions, a
/// short issue and proposal), for the check before a loop starts.
pub const SMALLEST_PROMPT_TOKENS: usize = 1_000;

/// Whether a model with a window of `context_tokens` can take the smallest
/// prompt and an answer of `max_tokens`: the check before a loop starts,
/// so a window too small is a configuration error (exit 2), found before
/// anything is recorded.
pub fn check_window(context_tokens: u32, max_tokens: u32) -> Result<(), String> {
    let context = context_tokens as usize;
    let needed = SMALLEST_PROMPT_TOKENS + max_tokens as usize + context * MARGIN_PERCENT / 100;
    if needed > context {
        return Err(format!(
            "the model's context window of {context} tokens cannot hold an answer of up to              {max_tokens} tokens (implementer.max_tokens) with a prompt of at least              {SMALLEST_PROMPT_TOKENS} tokens and a margin of {MARGIN_PERCENT}%: use a model with              a larger window or lower implementer.max_tokens"
        ));
    }
    Ok(())
}

/// The prompt for `task`, with the files read from `worktree`, or why it
/// cannot fit in `context_tokens` with an answer of `max_tokens`.
pub fn request(
    task: &Task<'_>,
    worktree: &Path,
    context_tokens: Option<u32>,
    max_tokens: u32,
) -> Result<String, String> {
    let fixed = format!("{}\n{INSTRUCTIONS}", super::prompt(task));
    let fixed_tokens = tokens(&fixed);
    let file_tokens = match context_tokens {
        None => UNKNOWN_CONTEXT_FILE_TOKENS,
        Some(context) => {
            let context = context as usize;
            let reserved = max_tokens as usize + context * MARGIN_PERCENT / 100 + fixed_tokens;
            if reserved > context {
                return Err(format!(
                    "the implementer's prompt needs about {fixed_tokens} tokens before any file, \
                     and the answer up to {max_tokens} (implementer.max_tokens); the model's \
                     context window of {context} tokens cannot hold both: use a model with a \
                     larger window or lower implementer.max_tokens"
                ));
            }
            context - reserved
        }
    };
    let files = files_that_matter(task, worktree);
    let shown = fit(&files, &names_in(task), file_tokens * BYTES_PER_TOKEN);
    Ok(format!(
        "{}\n## Current files\n{shown}\n{INSTRUCTIONS}",
        super::prompt(task)
    ))
}

/// The estimated tokens of `text`.
pub fn tokens(text: &str) -> usize {
    text.len().div_ceil(BYTES_PER_TOKEN)
}

/// The files the proposal names, then those the plan and the issue name,
/// that exist in the worktree (each once, none outside it).
fn files_that_matter(task: &Task<'_>, worktree: &Path) -> Vec<(String, String)> {
    let named = task
        .proposal()
        .into_iter()
        .flat_map(|proposal| proposal.files.iter().map(|file| file.path.clone()));
    let mentioned = task
        .texts()
        .into_iter()
        .chain([task.issue.body.as_str()])
        .flat_map(|text| {
            text.split(|character: char| {
                character.is_whitespace() || "`'\"(),[]".contains(character)
            })
            .map(|word| word.trim_end_matches(['.', ':', ';']).to_owned())
            .collect::<Vec<_>>()
        })
        .filter(|word| word.contains('.') && word.contains(|c: char| c.is_ascii_alphabetic()));
    let mut seen = std::collections::BTreeSet::new();
    named
        .chain(mentioned)
        .filter(|path| !path.contains("..") && !path.starts_with('/') && !path.is_empty())
        .filter(|path| seen.insert(path.clone()))
        .filter_map(|path| {
            let full = worktree.join(&path);
            // Never through a link: the file must be the worktree's own.
            let inside = full
                .canonicalize()
                .ok()
                .zip(worktree.canonicalize().ok())
                .is_some_and(|(full, root)| full.starts_with(root));
            let plain = std::fs::symlink_metadata(&full).is_ok_and(|meta| meta.is_file());
            if !inside || !plain {
                return None;
            }
            std::fs::read_to_string(full)
                .ok()
                .map(|contents| (path, contents))
        })
        .collect()
}

/// The names the proposal and the requirements use: words in backticks,
/// and identifiers with an underscore, a `::` or a capital inside.
fn names_in(task: &Task<'_>) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for text in task.texts().into_iter().chain([task.issue.body.as_str()]) {
        for word in text.split(|character: char| !(character.is_alphanumeric() || character == '_'))
        {
            let inner_capital = word.chars().skip(1).any(char::is_uppercase)
                && word.chars().any(char::is_lowercase);
            if word.len() >= 4
                && !word.starts_with(|c: char| c.is_ascii_digit())
                && (word.contains('_') || inner_capital)
            {
                names.insert(word.to_owned());
            }
        }
        let mut quoted = text.split('`').skip(1).step_by(2);
        for name in quoted.by_ref() {
            let name = name.trim();
            if name.len() >= 3 && !name.contains(char::is_whitespace) {
                names.insert(name.trim_end_matches("()").to_owned());
            }
        }
    }
    names.into_iter().collect()
}

/// The files as the prompt shows them, within `budget` bytes: whole while
/// they fit, then as excerpts, then named as left out.
fn fit(files: &[(String, String)], names: &[String], budget: usize) -> String {
    let mut left = budget;
    let mut shown = String::new();
    for (path, contents) in files {
        let whole = format!("### {path}\n```\n{contents}```\n");
        if whole.len() <= left {
            left -= whole.len();
            shown.push_str(&whole);
            continue;
        }
        let heading = format!(
            "### {path} (excerpts of {} lines)\n",
            contents.lines().count()
        );
        match excerpts(contents, names, left.saturating_sub(heading.len() + 8)) {
            Some(excerpts) => {
                let text = format!("{heading}```\n{excerpts}```\n");
                left = left.saturating_sub(text.len());
                shown.push_str(&text);
            }
            None => shown.push_str(&format!(
                "### {path} (left out: no room in the model's context window)\n"
            )),
        }
    }
    shown
}

/// Excerpts of `contents` within `budget` bytes: its head and the lines
/// around each mention of `names`, the most mentioned first; each passage
/// headed `@@ lines A-B @@`. `None` when not even the head fits.
fn excerpts(contents: &str, names: &[String], budget: usize) -> Option<String> {
    let lines: Vec<&str> = contents.lines().collect();
    let mut windows: Vec<(usize, usize, usize)> = Vec::new(); // (hits, start, end)
    for (index, line) in lines.iter().enumerate() {
        let hits = names
            .iter()
            .filter(|name| line.contains(name.as_str()))
            .count();
        if hits > 0 {
            let start = index.saturating_sub(EXCERPT_RADIUS);
            let end = (index + EXCERPT_RADIUS + 1).min(lines.len());
            windows.push((hits, start, end));
        }
    }
    windows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let passage_size = |start: usize, end: usize| {
        lines[start..end]
            .iter()
            .map(|line| line.len() + 1)
            .sum::<usize>()
            + 24
    };
    let head_end = HEAD_LINES.min(lines.len());
    let mut chosen: Vec<(usize, usize)> = Vec::new();
    let mut used = 0;
    if passage_size(0, head_end) > budget {
        return None;
    }
    chosen.push((0, head_end));
    used += passage_size(0, head_end);
    for (_, start, end) in windows {
        // Only the part no chosen passage covers yet costs anything.
        let overlaps = chosen.iter().any(|&(from, to)| start < to && from < end);
        let size = passage_size(start, end);
        if !overlaps && used + size > budget {
            continue;
        }
        if overlaps {
            let merged = merge(&chosen, start, end);
            let merged_size: usize = merged.iter().map(|&(a, b)| passage_size(a, b)).sum();
            if merged_size <= budget {
                used = merged_size;
                chosen = merged;
            }
        } else {
            used += size;
            chosen = merge(&chosen, start, end);
        }
    }
    let mut text = String::new();
    for (start, end) in chosen {
        text.push_str(&format!("@@ lines {}-{} @@\n", start + 1, end));
        for line in &lines[start..end] {
            text.push_str(line);
            text.push('\n');
        }
    }
    Some(text)
}

/// `chosen` with `start..end` added, overlapping passages joined, in order.
fn merge(chosen: &[(usize, usize)], start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut all: Vec<(usize, usize)> = chosen.to_vec();
    all.push((start, end));
    all.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (from, to) in all {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use ralph_runtime::{DimensionScores, FileChange, Proposal};

    fn issue() -> ralph_issues::Issue {
        ralph_issues::Issue {
            number: 7,
            title: "Parse build metadata".into(),
            labels: Default::default(),
            tags: Default::default(),
            state: ralph_issues::IssueState::Open,
            body: "Teach `parse_build` about dots.\n\n- [ ] Accept `1.0.0+a.b`\n".into(),
        }
    }

    fn proposal(files: &[&str]) -> Proposal {
        Proposal {
            summary: "Change `parse_build` in src/parse.rs to accept dots".into(),
            pseudo_code: "loop over segments in parse_build".into(),
            requirements_covered: Vec::new(),
            files: files
                .iter()
                .map(|path| FileChange {
                    path: (*path).into(),
                    estimated_lines: 5,
                })
                .collect(),
            planned_tests: Vec::new(),
            patch: None,
            self_estimate: DimensionScores {
                spec_alignment: 0.5,
                technical_quality: 0.5,
                innovation: 0.5,
                risk: 0.5,
                efficiency: 0.5,
            },
        }
    }

    /// A large file with `parse_build` defined near its end.
    fn large_source() -> String {
        let mut text = String::from("//! The parser.\nuse std::fmt;\n");
        for index in 0..3000 {
            text.push_str(&format!("fn filler_{index}() -> u32 {{ {index} }}\n"));
        }
        text.push_str("pub fn parse_build(input: &str) -> Result<Build, Error> {\n    todo()\n}\n");
        for index in 0..500 {
            text.push_str(&format!("fn tail_{index}() {{}}\n"));
        }
        text
    }

    fn worktree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let directory = tempfile::tempdir().expect("temp dir");
        for (path, contents) in files {
            let path = directory.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, contents).expect("write");
        }
        directory
    }

    #[test]
    fn small_files_are_sent_whole_with_the_issue() {
        let directory = worktree(&[("src/parse.rs", "pub fn parse_build() {}\n")]);
        let issue = issue();
        let proposal = proposal(&[]);
        let task = Task::new(&issue, &proposal);
        let prompt = request(&task, directory.path(), Some(8192), 1024).expect("fits");
        assert!(
            prompt.contains("### src/parse.rs\n```\npub fn parse_build() {}\n```"),
            "{prompt}"
        );
        assert!(
            prompt.contains("Teach `parse_build` about dots."),
            "{prompt}"
        );
        assert!(prompt.contains("#7: Parse build metadata"), "{prompt}");
    }

    #[test]
    fn a_file_too_large_for_the_window_is_sent_as_excerpts_around_the_names_that_matter() {
        let source = large_source();
        let directory = worktree(&[("src/parse.rs", &source)]);
        let issue = issue();
        let proposal = proposal(&["src/parse.rs"]);
        let task = Task::new(&issue, &proposal);
        let prompt = request(&task, directory.path(), Some(4096), 1024).expect("fits");
        assert!(tokens(&prompt) + 1024 <= 4096, "{} tokens", tokens(&prompt));
        assert!(
            prompt.contains("### src/parse.rs (excerpts of 3505 lines)"),
            "{prompt}"
        );
        assert!(
            prompt.contains("@@ lines 1-20 @@\n//! The parser."),
            "{prompt}"
        );
        assert!(
            prompt.contains("pub fn parse_build(input: &str)"),
            "{prompt}"
        );
        assert!(!prompt.contains("fn filler_1500()"), "{prompt}");
    }

    #[test]
    fn an_unknown_window_still_bounds_the_files() {
        let source = large_source().repeat(4);
        let directory = worktree(&[("src/parse.rs", &source)]);
        let issue = issue();
        let proposal = proposal(&["src/parse.rs"]);
        let task = Task::new(&issue, &proposal);
        let prompt = request(&task, directory.path(), None, 4096).expect("fits");
        assert!(
            prompt.len() <= (UNKNOWN_CONTEXT_FILE_TOKENS + 2000) * BYTES_PER_TOKEN,
            "{}",
            prompt.len()
        );
        assert!(prompt.contains("pub fn parse_build"), "{prompt}");
    }

    #[test]
    fn a_window_that_cannot_hold_the_answer_is_refused_naming_the_setting() {
        let directory = worktree(&[]);
        let issue = issue();
        let proposal = proposal(&[]);
        let task = Task::new(&issue, &proposal);
        let error = request(&task, directory.path(), Some(4096), 4096).expect_err("too small");
        assert!(
            error.contains("implementer.max_tokens") && error.contains("4096"),
            "{error}"
        );
    }

    #[test]
    fn the_check_before_a_loop_refuses_a_window_the_answer_fills() {
        assert!(check_window(8192, 4096).is_ok());
        let error = check_window(4096, 4096).expect_err("too small");
        assert!(
            error.contains("4096 tokens") && error.contains("implementer.max_tokens"),
            "{error}"
        );
        assert!(check_window(4096, 2048).is_ok());
    }

    #[test]
    fn paths_outside_the_worktree_are_never_read() {
        let directory = worktree(&[("src/a.rs", "fn a() {}\n")]);
        let issue = issue();
        let proposal = proposal(&["../secret", "/etc/passwd", "src/a.rs"]);
        let files = files_that_matter(&Task::new(&issue, &proposal), directory.path());
        let paths: Vec<&str> = files.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["src/a.rs"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_worktree_is_not_followed() {
        let outside = worktree(&[("secret.txt", "the user's secret\n")]);
        let directory = worktree(&[]);
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            directory.path().join("notes.md"),
        )
        .expect("symlink");
        let issue = issue();
        let proposal = proposal(&["notes.md"]);
        let files = files_that_matter(&Task::new(&issue, &proposal), directory.path());
        assert!(files.is_empty(), "{files:?}");
    }
}
