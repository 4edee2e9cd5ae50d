//! Reading a model's answer to a bidder: the plan in its words, the change
//! in its ```` ```diff ```` block, and what that change touches.
//!
//! ```text
//! use ralph_plugin_sdk::reply::Reply;
//!
//! let reply = Reply::parse(&completion.text);
//! plan.summary = reply.summary();
//! plan.files = reply.file_changes();
//! plan.patch = reply.patch;
//! ```
//!
//! Everything here is computed from the text: the files and their line
//! counts are the diff's own, the tests are those the diff adds. A reply
//! without a usable diff is a plan-only reply (`patch` is `None`).

/// One file a diff touches, with the lines it adds and removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchedFile {
    /// The file's path relative to the repository root: the new path, or
    /// the old one when the diff deletes the file.
    pub path: String,
    /// Lines the diff adds to it.
    pub added: u32,
    /// Lines the diff removes from it.
    pub removed: u32,
}

impl TouchedFile {
    /// Lines changed: added plus removed.
    pub fn lines(&self) -> u32 {
        self.added.saturating_add(self.removed)
    }
}

/// A model's reply, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply's text outside the diff block, trimmed.
    pub plan: String,
    /// The unified diff of the first ```` ```diff ```` (or ```` ```patch ````)
    /// block, when it names at least one file.
    pub patch: Option<String>,
    /// The files the patch touches, in the patch's order; empty without one.
    pub files: Vec<TouchedFile>,
    /// The test functions the patch adds (`#[test]` functions in Rust,
    /// `def test_…` in Python, `func Test…` in Go), in the patch's order.
    pub tests: Vec<String>,
    /// The requirement ids a `Covers: R1, R2` line of the plan names, in
    /// its order; empty when the plan has no such line.
    pub covers: Vec<String>,
}

const FENCES: [&str; 2] = ["```diff", "```patch"];

impl Reply {
    /// Takes `text` apart. Never fails: text without a diff block is all plan.
    pub fn parse(text: &str) -> Reply {
        let (plan, block) = split_block(text);
        let files = block.map(touched_files).unwrap_or_default();
        let patch = block.filter(|_| !files.is_empty()).map(str::to_owned);
        let tests = patch.as_deref().map(added_tests).unwrap_or_default();
        let covers = covered_ids(&plan);
        Reply {
            plan,
            patch,
            files,
            tests,
            covers,
        }
    }

    /// The plan's first paragraph, for a proposal's summary; `None` when
    /// the reply has no plan text.
    pub fn summary(&self) -> Option<String> {
        let first = self
            .plan
            .split("\n\n")
            .map(str::trim)
            .find(|paragraph| !paragraph.is_empty() && !is_covers_line(paragraph))?;
        Some(first.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Lines the patch changes, over every file.
    pub fn lines_changed(&self) -> u32 {
        self.files
            .iter()
            .map(TouchedFile::lines)
            .fold(0, u32::saturating_add)
    }
}

/// The text outside the first diff block, and the block's body (ending
/// with a newline), if there is one.
fn split_block(text: &str) -> (String, Option<&str>) {
    let opening = FENCES
        .iter()
        .filter_map(|fence| text.find(fence).map(|start| (start, fence.len())))
        .min_by_key(|(start, _)| *start);
    let Some((start, fence)) = opening else {
        return (text.trim().to_owned(), None);
    };
    let after_fence = &text[start + fence..];
    let Some(line_end) = after_fence.find('\n') else {
        return (text.trim().to_owned(), None);
    };
    if !after_fence[..line_end].trim().is_empty() {
        // "```diffstat" or similar: not a diff block.
        return (text.trim().to_owned(), None);
    }
    let body_start = start + fence + line_end + 1;
    let body = &text[body_start..];
    let (body_len, rest_start) = match closing_fence(body) {
        Some((end, after)) => (end, body_start + after),
        None => (body.len(), text.len()),
    };
    let plan = format!("{}\n\n{}", text[..start].trim(), text[rest_start..].trim());
    (plan.trim().to_owned(), Some(&body[..body_len]))
}

/// Where the block's closing fence starts (the body's length, keeping its
/// last newline) and where the text after the fence's line starts.
fn closing_fence(body: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        if line.trim_end() == "```" {
            return Some((offset, offset + line.len()));
        }
        offset += line.len();
    }
    None
}

fn header_path(line: &str, prefix: &str, side: &str) -> Option<String> {
    let path = line.strip_prefix(prefix)?;
    let path = path.split('\t').next().unwrap_or(path).trim();
    if path == "/dev/null" || path.is_empty() {
        return None;
    }
    Some(path.strip_prefix(side).unwrap_or(path).to_owned())
}

/// The files a unified diff touches. A file header is a `--- ` line
/// followed by a `+++ ` line, so a removed line that starts with `--` is
/// still counted as a removal.
fn touched_files(diff: &str) -> Vec<TouchedFile> {
    let lines: Vec<&str> = diff.lines().collect();
    let mut files: Vec<TouchedFile> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let next = lines.get(index + 1).copied().unwrap_or_default();
        if line.starts_with("--- ") && next.starts_with("+++ ") {
            let path = header_path(next, "+++ ", "b/").or_else(|| header_path(line, "--- ", "a/"));
            if let Some(path) = path {
                files.push(TouchedFile {
                    path,
                    added: 0,
                    removed: 0,
                });
            }
            index += 2;
            continue;
        }
        if let Some(file) = files.last_mut() {
            if line.starts_with('+') {
                file.added = file.added.saturating_add(1);
            } else if line.starts_with('-') {
                file.removed = file.removed.saturating_add(1);
            }
        }
        index += 1;
    }
    files
}

/// The name of the function an added line declares, if it declares one.
fn declared_function(line: &str, keyword: &str) -> Option<String> {
    let rest = line.trim_start();
    let rest = rest.strip_prefix("pub ").unwrap_or(rest);
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let rest = rest.strip_prefix(keyword)?;
    let name: String = rest
        .chars()
        .take_while(|character| character.is_alphanumeric() || *character == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The test functions the diff adds.
fn added_tests(diff: &str) -> Vec<String> {
    let mut tests = Vec::new();
    let mut after_test_attribute = false;
    for line in diff.lines() {
        let Some(added) = line.strip_prefix('+') else {
            after_test_attribute = false;
            continue;
        };
        if added.starts_with("++") {
            continue;
        }
        let code = added.trim();
        if code.starts_with("#[") && code.ends_with("test]") {
            after_test_attribute = true;
            continue;
        }
        if let Some(name) = declared_function(code, "fn ")
            && after_test_attribute
        {
            tests.push(name);
            after_test_attribute = false;
        } else if let Some(name) = declared_function(code, "def ")
            .filter(|name| name.starts_with("test"))
            .or_else(|| declared_function(code, "func ").filter(|name| name.starts_with("Test")))
        {
            tests.push(name);
        } else if !code.starts_with("#[") && !code.is_empty() {
            after_test_attribute = false;
        }
    }
    tests
}

fn is_covers_line(line: &str) -> bool {
    line.trim_start()
        .get(..7)
        .is_some_and(|start| start.eq_ignore_ascii_case("covers:"))
}

/// The ids of the first `Covers: R1, R2` line.
fn covered_ids(plan: &str) -> Vec<String> {
    let Some(line) = plan.lines().find(|line| is_covers_line(line)) else {
        return Vec::new();
    };
    line.trim_start()[7..]
        .split(|character: char| character == ',' || character.is_whitespace())
        .map(|word| word.trim_matches(|character: char| !character.is_alphanumeric()))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,9 @@\n fn a() {}\n+fn b() {}\n-fn c() {}\n+\n+#[cfg(test)]\n+mod tests {\n+    #[test]\n+    fn b_is_there() {}\n+}\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-old\n+new\n";

    fn answer(diff: &str) -> String {
        format!(
            "Add `b` and test it.\n\nThen remove `c`.\n\n```diff\n{diff}```\n\nCovers: R1, R2.\n"
        )
    }

    #[test]
    fn the_plan_is_the_text_around_the_diff_block() {
        let reply = Reply::parse(&answer(DIFF));
        assert_eq!(
            reply.plan,
            "Add `b` and test it.\n\nThen remove `c`.\n\nCovers: R1, R2."
        );
        assert_eq!(reply.summary().as_deref(), Some("Add `b` and test it."));
    }

    #[test]
    fn the_patch_is_the_blocks_body_with_its_last_newline() {
        let reply = Reply::parse(&answer(DIFF));
        assert_eq!(reply.patch.as_deref(), Some(DIFF));
    }

    #[test]
    fn the_files_carry_the_lines_the_patch_adds_and_removes() {
        let reply = Reply::parse(&answer(DIFF));
        assert_eq!(
            reply.files,
            [
                TouchedFile {
                    path: "src/lib.rs".into(),
                    added: 7,
                    removed: 1
                },
                TouchedFile {
                    path: "README.md".into(),
                    added: 1,
                    removed: 1
                },
            ]
        );
        assert_eq!(reply.lines_changed(), 10);
    }

    #[test]
    fn the_tests_are_the_test_functions_the_patch_adds() {
        let reply = Reply::parse(&answer(DIFF));
        assert_eq!(reply.tests, ["b_is_there"]);
        let python = "--- a/t.py\n+++ b/t.py\n@@ -0,0 +1,4 @@\n+def helper():\n+    pass\n+def test_helper():\n+    helper()\n";
        assert_eq!(Reply::parse(&answer(python)).tests, ["test_helper"]);
        let attribute_then_helper = "--- a/x.rs\n+++ b/x.rs\n@@ -0,0 +1,3 @@\n+#[test]\n+#[should_panic]\n+fn panics() {}\n+fn helper() {}\n";
        assert_eq!(
            Reply::parse(&answer(attribute_then_helper)).tests,
            ["panics"]
        );
    }

    #[test]
    fn the_covers_line_names_requirement_ids() {
        assert_eq!(Reply::parse(&answer(DIFF)).covers, ["R1", "R2"]);
        assert!(Reply::parse("Just a plan.").covers.is_empty());
    }

    #[test]
    fn a_reply_without_a_diff_block_is_a_plan_only_reply() {
        let reply = Reply::parse("  Refactor the parser first.\n");
        assert_eq!(reply.plan, "Refactor the parser first.");
        assert_eq!(reply.patch, None);
        assert!(reply.files.is_empty());
        assert_eq!(reply.lines_changed(), 0);
    }

    #[test]
    fn a_diff_block_naming_no_file_is_no_patch() {
        let reply = Reply::parse("Plan.\n\n```diff\n+just a line\n```\n");
        assert_eq!(reply.patch, None);
        assert!(reply.files.is_empty());
        assert_eq!(reply.plan, "Plan.");
    }

    #[test]
    fn an_unclosed_block_runs_to_the_end_of_the_reply() {
        let reply = Reply::parse(&format!("Plan.\n```diff\n{DIFF}"));
        assert_eq!(reply.patch.as_deref(), Some(DIFF));
        assert_eq!(reply.plan, "Plan.");
    }

    #[test]
    fn a_patch_block_counts_and_other_fences_do_not() {
        let reply = Reply::parse(&format!("Plan.\n```patch\n{DIFF}```\n"));
        assert_eq!(reply.patch.as_deref(), Some(DIFF));
        let reply = Reply::parse("Plan.\n```diffstat\n 1 file changed\n```\n");
        assert_eq!(reply.patch, None);
    }

    #[test]
    fn a_deleted_file_is_named_by_its_old_path() {
        let diff = "--- a/old.rs\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n";
        let reply = Reply::parse(&answer(diff));
        assert_eq!(
            reply.files,
            [TouchedFile {
                path: "old.rs".into(),
                added: 0,
                removed: 2
            }]
        );
    }

    #[test]
    fn a_removed_line_starting_with_dashes_is_a_removal_not_a_header() {
        let diff = "--- a/notes.md\n+++ b/notes.md\n@@ -1,2 +1,1 @@\n--- a rule\n keep\n";
        let reply = Reply::parse(&answer(diff));
        assert_eq!(reply.files.len(), 1);
        assert_eq!(reply.files[0].removed, 1);
    }

    #[test]
    fn an_empty_reply_has_no_summary() {
        assert_eq!(Reply::parse("").summary(), None);
        assert_eq!(Reply::parse("Covers: R1").summary(), None);
    }
}
