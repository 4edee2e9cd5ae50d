//! Reading unified diffs, for checks and reviewers.

/// One line a diff adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLine {
    /// The file it is added to, relative to the repository root.
    pub file: String,
    /// Its 1-based line number in the new file.
    pub line: u32,
    /// The line's text without the leading `+`.
    pub text: String,
}

/// Totals of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiffStats {
    /// Files the diff touches.
    pub files: usize,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

fn new_file_name(header: &str) -> Option<String> {
    let path = header.strip_prefix("+++ ")?.trim();
    if path == "/dev/null" {
        return None;
    }
    Some(path.strip_prefix("b/").unwrap_or(path).to_owned())
}

fn hunk_start(header: &str) -> Option<u32> {
    let plus = header
        .split_whitespace()
        .find(|part| part.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

/// Every line the diff adds, with its file and line number.
pub fn added_lines(diff: &str) -> Vec<AddedLine> {
    let mut added = Vec::new();
    let mut file: Option<String> = None;
    let mut line = 0u32;
    for text in diff.lines() {
        if text.starts_with("+++ ") {
            file = new_file_name(text);
        } else if text.starts_with("@@") {
            line = hunk_start(text).unwrap_or(1);
        } else if let Some(content) = text.strip_prefix('+') {
            if let Some(file) = &file {
                added.push(AddedLine {
                    file: file.clone(),
                    line,
                    text: content.to_owned(),
                });
            }
            line = line.saturating_add(1);
        } else if !text.starts_with('-') && !text.starts_with('\\') {
            line = line.saturating_add(1);
        }
    }
    added
}

/// How many files and lines a diff touches.
pub fn stats(diff: &str) -> DiffStats {
    let mut stats = DiffStats::default();
    for text in diff.lines() {
        if text.starts_with("+++ ") || text.starts_with("--- ") {
            if text.starts_with("+++ ") {
                stats.files += 1;
            }
        } else if text.starts_with('+') {
            stats.added += 1;
        } else if text.starts_with('-') {
            stats.removed += 1;
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,3 @@\n fn a() {}\n+fn b() {}\n-fn c() {}\n+fn d() {}\n";

    #[test]
    fn added_lines_carry_file_and_line() {
        let lines = added_lines(DIFF);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].file, "src/lib.rs");
        assert_eq!(lines[0].line, 2);
        assert_eq!(lines[1].text, "fn d() {}");
        assert_eq!(lines[1].line, 3);
    }

    #[test]
    fn stats_count_files_and_lines() {
        assert_eq!(
            stats(DIFF),
            DiffStats {
                files: 1,
                added: 2,
                removed: 1
            }
        );
    }
}
