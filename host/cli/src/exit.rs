//! Ralph's exit codes, in one place.

use std::fmt::Display;

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
}

/// What every command returns.
pub type Outcome = Result<Exit, Failure>;
