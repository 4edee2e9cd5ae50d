//! The default issue source: one file per issue, `.ralph/issues/<N>.md`, in
//! the format of [`crate::issue_file`].
//!
//! Only names `<N>.md` with `N` a positive number without leading zeros are
//! issues; other files in the directory are left alone. Every change is
//! written atomically and keeps the body byte for byte apart from the
//! intended change. A new issue takes one more than the highest number in
//! use; two processes creating at once get different numbers. A change to
//! an existing issue reads, changes and replaces its file without a lock:
//! two processes changing the same issue at the same moment may lose one
//! of the two changes (never corrupt the file).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ralph_marketplace::Layout;
use ralph_marketplace::store::{Follow, ReadError, read_regular};

use crate::atomic::{self, WriteError};
use crate::issue::{Issue, IssueState, check_title};
use crate::issue_file;
use crate::requirements::{self, RequirementId};
use crate::source::{Draft, IssueSource, LabelChange, SourceError, Spec};

/// How many numbers a create tries past the highest before giving up.
const CREATE_ATTEMPTS: u32 = 1_000;
/// The largest issue file read.
pub const MAX_ISSUE_BYTES: u64 = 1024 * 1024;
/// The heading a note is written under.
pub const NOTE_HEADING: &str = "### Note from Ralph";

/// Issues kept as files in `.ralph/issues/`.
#[derive(Clone, Debug)]
pub struct LocalIssues {
    directory: PathBuf,
    tmp: PathBuf,
    /// The repository's root, which messages show paths relative to.
    repository: PathBuf,
}

impl LocalIssues {
    /// The issues of the repository with this layout.
    pub fn new(layout: &Layout) -> Self {
        LocalIssues {
            directory: layout.issues_dir(),
            tmp: layout.tmp_dir(),
            repository: layout.repository().to_owned(),
        }
    }

    /// The file of issue `number`.
    pub fn path(&self, number: u64) -> PathBuf {
        self.directory.join(format!("{number}.md"))
    }

    /// The numbers of every issue file, ascending.
    pub fn numbers(&self) -> Result<Vec<u64>, SourceError> {
        numbered_files(&self.directory).map_err(|source| io_error(&self.directory, source))
    }

    /// Every issue, open or closed, by number.
    pub fn list(&self) -> Result<Vec<Issue>, SourceError> {
        self.numbers()?
            .into_iter()
            .map(|number| self.get(number))
            .collect()
    }

    fn write(&self, issue: &Issue) -> Result<(), SourceError> {
        atomic::replace(
            &self.tmp,
            &self.path(issue.number),
            &issue_file::render(issue),
        )
        .map_err(from_write)
    }

    /// Reads issue `number`, changes it, checks the title and writes it.
    fn modify(
        &self,
        number: u64,
        change: impl FnOnce(&mut Issue) -> Result<(), SourceError>,
    ) -> Result<Issue, SourceError> {
        let mut issue = self.get(number)?;
        change(&mut issue)?;
        check_title(&issue.title).map_err(|source| SourceError::Title {
            number: Some(number),
            source,
        })?;
        self.write(&issue)?;
        Ok(issue)
    }
}

impl IssueSource for LocalIssues {
    /// The issue's file, relative to the repository, as every path Ralph
    /// shows.
    fn location(&self, number: u64) -> String {
        let path = self.path(number);
        path.strip_prefix(&self.repository)
            .unwrap_or(&path)
            .display()
            .to_string()
    }

    fn list_open(&self) -> Result<Vec<Issue>, SourceError> {
        Ok(self.list()?.into_iter().filter(Issue::is_open).collect())
    }

    fn get(&self, number: u64) -> Result<Issue, SourceError> {
        let path = self.path(number);
        // A regular file (a symlink to one is followed) of bounded size: a
        // FIFO or a device put in place of an issue is refused unread.
        let bytes = match read_regular(&path, MAX_ISSUE_BYTES, Follow::ToARegularFile) {
            Ok(bytes) => bytes,
            Err(ReadError::Io(error)) if error.kind() == io::ErrorKind::NotFound => {
                return Err(SourceError::NotFound {
                    number,
                    location: self.location(number),
                });
            }
            Err(ReadError::Io(source)) => return Err(io_error(&path, source)),
            Err(refused) => {
                return Err(io_error(
                    &path,
                    io::Error::new(io::ErrorKind::InvalidData, refused.to_string()),
                ));
            }
        };
        let text = String::from_utf8(bytes).map_err(|_| SourceError::NotText {
            location: self.location(number),
        })?;
        issue_file::parse(number, &text).map_err(|error| SourceError::Malformed {
            location: self.location(number),
            line: error.line,
            problem: error.problem,
        })
    }

    fn create(&self, draft: &Draft) -> Result<Issue, SourceError> {
        check_title(&draft.title).map_err(|source| SourceError::Title {
            number: None,
            source,
        })?;
        let first = self.numbers()?.last().map_or(1, |highest| highest + 1);
        for number in (first..).take(CREATE_ATTEMPTS as usize) {
            let issue = Issue {
                number,
                title: draft.title.clone(),
                labels: draft.labels.clone(),
                tags: draft.tags.clone(),
                state: IssueState::Open,
                body: draft.body.clone(),
            };
            let text = issue_file::render(&issue);
            if atomic::create_new(&self.tmp, &self.path(number), &text).map_err(from_write)? {
                return Ok(issue);
            }
        }
        Err(SourceError::NoFreeNumber {
            location: self.directory.display().to_string(),
            attempts: CREATE_ATTEMPTS,
        })
    }

    fn update_spec(&self, number: u64, spec: &Spec) -> Result<Issue, SourceError> {
        self.modify(number, |issue| {
            issue.title.clone_from(&spec.title);
            issue.body.clone_from(&spec.body);
            Ok(())
        })
    }

    fn set_labels(&self, number: u64, change: &LabelChange) -> Result<Issue, SourceError> {
        self.modify(number, |issue| {
            issue.labels = change.apply(&issue.labels);
            Ok(())
        })
    }

    fn tick_requirements(&self, number: u64, ids: &[RequirementId]) -> Result<Issue, SourceError> {
        self.modify(number, |issue| {
            issue.body = requirements::tick(&issue.body, ids)
                .map_err(|source| SourceError::Tick { number, source })?;
            Ok(())
        })
    }

    fn append_note(&self, number: u64, note: &str) -> Result<Issue, SourceError> {
        if note.trim().is_empty() {
            return Err(SourceError::EmptyNote { number });
        }
        // Notes carry what the loop saw (failure reports, check output):
        // no secret the host knows goes into the issue.
        let note = ralph_secrets::redact(note);
        self.modify(number, |issue| {
            issue.body = with_note(&issue.body, &note);
            Ok(())
        })
    }

    fn close(&self, number: u64) -> Result<Issue, SourceError> {
        self.modify(number, |issue| {
            issue.state = IssueState::Closed;
            Ok(())
        })
    }

    fn reopen(&self, number: u64) -> Result<Issue, SourceError> {
        self.modify(number, |issue| {
            issue.state = IssueState::Open;
            Ok(())
        })
    }
}

/// `body`, ending in a line break, then a blank line, [`NOTE_HEADING`], a
/// blank line and the note. The existing body is kept as it is.
pub fn with_note(body: &str, note: &str) -> String {
    let mut text = body.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(NOTE_HEADING);
    text.push_str("\n\n");
    text.push_str(note.trim_end());
    text.push('\n');
    text
}

/// The numbers `N` of the `<N>.md` files in `directory`, ascending; none
/// when it does not exist.
pub(crate) fn numbered_files(directory: &Path) -> io::Result<Vec<u64>> {
    let entries = match fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut numbers = Vec::new();
    for entry in entries {
        if let Some(number) = entry?.file_name().to_str().and_then(numbered_file) {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// `N` for a file named `<N>.md`, `N` positive without leading zeros.
pub(crate) fn numbered_file(file_name: &str) -> Option<u64> {
    let digits = file_name.strip_suffix(".md")?;
    if digits.starts_with('0') || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn io_error(path: &Path, source: io::Error) -> SourceError {
    SourceError::Io {
        path: path.to_owned(),
        source,
    }
}

fn from_write(error: WriteError) -> SourceError {
    SourceError::Io {
        path: error.path,
        source: error.source,
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
