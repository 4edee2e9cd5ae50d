//! Bidder personas: the Markdown prompts in `.claude/agents/<name>.md` that
//! the host reads and hands to each bidder in its round context.
//!
//! `bidders.<id>.persona` names the file (default `bidder`). A persona the
//! config names must exist; the default may be missing, and then the bidder
//! gets none and falls back on its own.

use std::path::{Path, PathBuf};

/// The persona every bidder gets unless the config names another.
pub const DEFAULT_PERSONA: &str = "bidder";

/// The largest persona file read, in bytes.
pub const PERSONA_LIMIT_BYTES: u64 = 64 * 1024;

/// Where persona `name` lives, relative to the repository.
pub fn path_of(name: &str) -> PathBuf {
    Path::new(".claude/agents").join(format!("{name}.md"))
}

/// Whether `name` can name a persona file: lower-case letters, digits,
/// `-` and `_`, so it never leaves `.claude/agents/`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
        })
}

/// Reads persona `name` (or the default when `None`) from `repository`.
/// A missing default is `Ok(None)`; a missing named persona, an unreadable
/// file, or one over [`PERSONA_LIMIT_BYTES`] is an error naming the file.
pub fn read(repository: &Path, name: Option<&str>) -> Result<Option<String>, String> {
    let named = name.is_some();
    let relative = path_of(name.unwrap_or(DEFAULT_PERSONA));
    let path = repository.join(&relative);
    let shown = relative.display();
    let size = match std::fs::metadata(&path) {
        Ok(metadata) => metadata.len(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !named => return Ok(None),
        Err(error) => return Err(format!("{shown}: cannot read the persona: {error}")),
    };
    if size > PERSONA_LIMIT_BYTES {
        return Err(format!(
            "{shown}: the persona is {size} bytes, more than {PERSONA_LIMIT_BYTES}"
        ));
    }
    std::fs::read_to_string(&path)
        .map(Some)
        .map_err(|error| format!("{shown}: cannot read the persona: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> tempfile::TempDir {
        let directory = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(directory.path().join(".claude/agents")).expect("mkdir");
        directory
    }

    #[test]
    fn a_named_persona_is_read_from_claude_agents() {
        let directory = repository();
        std::fs::write(
            directory.path().join(".claude/agents/cautious.md"),
            "Be careful.\n",
        )
        .expect("write");
        assert_eq!(
            read(directory.path(), Some("cautious")),
            Ok(Some("Be careful.\n".to_owned()))
        );
    }

    #[test]
    fn a_missing_default_is_no_persona_but_a_missing_named_one_is_an_error() {
        let directory = repository();
        assert_eq!(read(directory.path(), None), Ok(None));
        let error = read(directory.path(), Some("ghost")).expect_err("missing");
        assert!(error.starts_with(".claude/agents/ghost.md: "), "{error}");
        std::fs::write(directory.path().join(".claude/agents/bidder.md"), "Bid.").expect("write");
        assert_eq!(read(directory.path(), None), Ok(Some("Bid.".to_owned())));
    }

    #[test]
    fn a_persona_over_the_size_cap_is_refused() {
        let directory = repository();
        let big = "x".repeat(usize::try_from(PERSONA_LIMIT_BYTES).expect("fits") + 1);
        std::fs::write(directory.path().join(".claude/agents/bidder.md"), big).expect("write");
        let error = read(directory.path(), None).expect_err("too big");
        assert!(error.contains("more than 65536"), "{error}");
    }

    #[test]
    fn persona_names_stay_inside_claude_agents() {
        assert!(is_valid_name("bidder"));
        assert!(is_valid_name("infra_bot-2"));
        for name in ["", "../secrets", "a/b", "Bidder", "x.md"] {
            assert!(!is_valid_name(name), "{name}");
        }
    }
}
