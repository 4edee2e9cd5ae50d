//! The user's approvals: `.ralph/approvals.json`, per user, git-ignored.
//!
//! ```json
//! {"version": 1, "approvals": {"status-reader": ["aws", "sentry"]}}
//! ```
//!
//! A missing file means nothing is approved. A malformed file is an error
//! naming the file; it is never overwritten. Writes go to a temporary file
//! in the same directory that is then renamed over the old one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use ralph_runtime::capabilities::Capability;
use serde::{Deserialize, Serialize};

/// The file format's version.
pub const VERSION: u32 = 1;

/// Which integration capabilities the user approved for which plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approvals {
    pub version: u32,
    pub approvals: BTreeMap<String, BTreeSet<Capability>>,
}

impl Approvals {
    /// Whether `plugin` may use `capability`.
    pub fn allows(&self, plugin: &str, capability: Capability) -> bool {
        self.approvals
            .get(plugin)
            .is_some_and(|capabilities| capabilities.contains(&capability))
    }
}

/// Why the approvals cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalsError {
    #[error("{}: cannot read the approvals: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: malformed approvals (fix or remove the file): {message}", path.display())]
    Malformed { path: PathBuf, message: String },
    #[error("{}: cannot write the approvals: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{0}` is not an integration capability (approvable: aws, sentry, alpaca, http-get)")]
    NotIntegration(Capability),
}

/// The approvals file.
#[derive(Clone, Debug)]
pub struct ApprovalsFile {
    path: PathBuf,
}

impl ApprovalsFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The approvals; none when the file does not exist.
    pub fn load(&self) -> Result<Approvals, ApprovalsError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Approvals {
                    version: VERSION,
                    approvals: BTreeMap::new(),
                });
            }
            Err(source) => {
                return Err(ApprovalsError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let malformed = |message: String| ApprovalsError::Malformed {
            path: self.path.clone(),
            message,
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let approvals: Approvals = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| malformed(format!("at `{}`: {}", error.path(), error.inner())))?;
        if approvals.version != VERSION {
            return Err(malformed(format!(
                "version {} is not supported (expected {VERSION})",
                approvals.version
            )));
        }
        for (plugin, capabilities) in &approvals.approvals {
            if let Some(capability) = capabilities
                .iter()
                .find(|capability| !capability.is_integration())
            {
                return Err(malformed(format!(
                    "plugin `{plugin}`: `{capability}` is not an integration capability"
                )));
            }
        }
        Ok(approvals)
    }

    /// Approves `capability` for `plugin`; says whether anything changed.
    pub fn grant(&self, plugin: &str, capability: Capability) -> Result<bool, ApprovalsError> {
        require_integration(capability)?;
        let mut approvals = self.load()?;
        let added = approvals
            .approvals
            .entry(plugin.to_owned())
            .or_default()
            .insert(capability);
        if added {
            self.save(&approvals)?;
        }
        Ok(added)
    }

    /// Withdraws the approval; says whether anything changed.
    pub fn revoke(&self, plugin: &str, capability: Capability) -> Result<bool, ApprovalsError> {
        require_integration(capability)?;
        let mut approvals = self.load()?;
        let Some(capabilities) = approvals.approvals.get_mut(plugin) else {
            return Ok(false);
        };
        let removed = capabilities.remove(&capability);
        if capabilities.is_empty() {
            approvals.approvals.remove(plugin);
        }
        if removed {
            self.save(&approvals)?;
        }
        Ok(removed)
    }

    /// Writes `approvals` atomically.
    pub fn save(&self, approvals: &Approvals) -> Result<(), ApprovalsError> {
        let write_error = |source| ApprovalsError::Write {
            path: self.path.clone(),
            source,
        };
        let directory = self
            .path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(directory).map_err(write_error)?;
        let mut text = serde_json::to_string_pretty(approvals)
            .map_err(|error| write_error(std::io::Error::other(error)))?;
        text.push('\n');
        let mut temporary = tempfile::NamedTempFile::new_in(directory).map_err(write_error)?;
        temporary.write_all(text.as_bytes()).map_err(write_error)?;
        temporary.as_file().sync_all().map_err(write_error)?;
        temporary
            .persist(&self.path)
            .map_err(|error| write_error(error.error))?;
        Ok(())
    }
}

fn require_integration(capability: Capability) -> Result<(), ApprovalsError> {
    if capability.is_integration() {
        Ok(())
    } else {
        Err(ApprovalsError::NotIntegration(capability))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> (tempfile::TempDir, ApprovalsFile) {
        let directory = tempfile::tempdir().expect("temp dir");
        let file = ApprovalsFile::new(directory.path().join(".ralph/approvals.json"));
        (directory, file)
    }

    #[test]
    fn a_missing_file_approves_nothing() {
        let (_directory, file) = file();
        let approvals = file.load().expect("empty");
        assert!(approvals.approvals.is_empty());
        assert!(!approvals.allows("reader", Capability::Aws));
    }

    #[test]
    fn a_grant_is_written_and_read_back() {
        let (_directory, file) = file();
        assert!(file.grant("reader", Capability::Aws).expect("grant"));
        assert!(!file.grant("reader", Capability::Aws).expect("again"));
        assert!(file.grant("reader", Capability::HttpGet).expect("grant"));
        let approvals = file.load().expect("load");
        assert!(approvals.allows("reader", Capability::Aws));
        assert!(approvals.allows("reader", Capability::HttpGet));
        assert!(!approvals.allows("other", Capability::Aws));
        let text = std::fs::read_to_string(file.path()).expect("read");
        assert!(text.contains(r#""http-get""#), "{text}");
        assert!(text.contains(r#""version": 1"#), "{text}");
    }

    #[test]
    fn a_revoke_removes_the_approval_and_empty_plugins() {
        let (_directory, file) = file();
        file.grant("reader", Capability::Sentry).expect("grant");
        assert!(file.revoke("reader", Capability::Sentry).expect("revoke"));
        assert!(!file.revoke("reader", Capability::Sentry).expect("again"));
        assert!(file.load().expect("load").approvals.is_empty());
    }

    #[test]
    fn only_integration_capabilities_are_approvable() {
        let (_directory, file) = file();
        let error = file
            .grant("reader", Capability::Repository)
            .expect_err("refused");
        assert!(error.to_string().contains("not an integration capability"));
        assert!(file.revoke("reader", Capability::Consult).is_err());
    }

    #[test]
    fn a_malformed_file_is_an_error_naming_the_file_and_is_kept() {
        let (_directory, file) = file();
        std::fs::create_dir_all(file.path().parent().expect("parent")).expect("mkdir");
        for text in [
            "{not json",
            r#"{"version": 1, "approvals": {"reader": ["aws", "telnet"]}}"#,
            r#"{"version": 2, "approvals": {}}"#,
            r#"{"version": 1, "approvals": {"reader": ["repository"]}}"#,
            r#"{"version": 1, "approvals": {}, "extra": 1}"#,
        ] {
            std::fs::write(file.path(), text).expect("write");
            let error = file.grant("reader", Capability::Aws).expect_err(text);
            assert!(matches!(error, ApprovalsError::Malformed { .. }), "{error}");
            assert!(error.to_string().contains("approvals.json"), "{error}");
            assert_eq!(std::fs::read_to_string(file.path()).expect("kept"), text);
        }
    }

    #[test]
    fn writing_leaves_no_temporary_files() {
        let (directory, file) = file();
        file.grant("reader", Capability::Alpaca).expect("grant");
        let names: Vec<_> = std::fs::read_dir(directory.path().join(".ralph"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["approvals.json"]);
    }
}
