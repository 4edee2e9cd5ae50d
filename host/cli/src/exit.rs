//! Ralph's exit codes, in one place.

use std::fmt::Display;
use std::path::Path;

/// How a `ralph` command ended. Documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked.
    Success = 0,
    /// The command ran and found problems (`verify`), or an operation failed.
    Problems = 1,
    /// The command cannot go on: bad usage, a bad config, invalid input.
    BadInput = 2,
    /// The loop stopped early and labelled the issue `attention-needed`.
    AttentionNeeded = 3,
    /// The loop was interrupted (Ctrl-C, SIGTERM); running it again resumes.
    Interrupted = 130,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

/// A command that failed, with the exit code it should end with.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            exit: Exit::BadInput,
            error: error.into(),
        }
    }

    pub fn problem(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            exit: Exit::Problems,
            error: error.into(),
        }
    }

    pub fn message(exit: Exit, message: impl Display) -> Self {
        Failure {
            exit,
            error: anyhow::anyhow!("{message}"),
        }
    }

    /// The message shown for this failure: the error and its causes, each
    /// cause left out when the text so far already says it (an error that
    /// shows its source, such as an I/O error naming its path, is not
    /// followed by that source again), and paths inside `repository`
    /// shown relative to it.
    pub fn describe(&self, repository: Option<&Path>) -> String {
        let mut message = self.error.to_string();
        for cause in self.error.chain().skip(1) {
            let cause = cause.to_string();
            if !message.contains(&cause) {
                message.push_str(": ");
                message.push_str(&cause);
            }
        }
        match repository.filter(|root| root.is_absolute()) {
            Some(root) => {
                let prefix = format!("{}/", root.display().to_string().trim_end_matches('/'));
                message.replace(&prefix, "")
            }
            None => message,
        }
    }
}

/// What every command returns.
pub type Outcome = Result<Exit, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that shows its source, as the stores' I/O errors do.
    #[derive(Debug)]
    struct Named {
        path: std::path::PathBuf,
        source: std::io::Error,
    }

    impl Display for Named {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(formatter, "{}: {}", self.path.display(), self.source)
        }
    }

    impl std::error::Error for Named {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_already_shown_is_not_repeated_and_paths_are_relative() {
        let source = std::io::Error::from_raw_os_error(2);
        let error = anyhow::Error::new(Named {
            path: "/work/repo/.ralph/events".into(),
            source,
        })
        .context("cannot list the events");
        let failure = Failure::problem(error);
        let message = failure.describe(Some(Path::new("/work/repo")));
        assert_eq!(
            message,
            format!(
                "cannot list the events: .ralph/events: {}",
                std::io::Error::from_raw_os_error(2)
            )
        );
        assert_eq!(message.matches("os error 2").count(), 1, "{message}");
        // Without a repository, or a relative one, the text is kept.
        assert!(failure.describe(None).contains("/work/repo/.ralph/events"));
        assert!(
            failure
                .describe(Some(Path::new("repo")))
                .contains("/work/repo/.ralph/events")
        );
    }
}
