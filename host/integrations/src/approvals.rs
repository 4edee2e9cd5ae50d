//! The user's approvals: `.ralph/approvals.json`, per user, git-ignored.
//!
//! ```json
//! {"version": 2, "approvals": {
//!   "status-reader": {"sha256": "9f2c…", "capabilities": ["aws", "sentry"]}}}
//! ```
//!
//! An approval is keyed by the plugin's id (its config entry: a bidder id,
//! a specialist's id, a check's name), never by the name its metadata
//! reports, and bound to the SHA-256 of the component it was given to: a
//! changed component is a new plugin and must be approved again.
//!
//! A version 1 file (`{"version": 1, "approvals": {"NAME": ["aws"]}}`,
//! written before approvals had a digest) still loads: each of its entries
//! applies to the config entry whose id equals its key, and is pinned to
//! that entry's component the first time it is used (the file is then
//! rewritten as version 2). See `docs/integrations.md`.
//!
//! A missing file means nothing is approved. A malformed file is an error
//! naming the file; it is never overwritten. Writes go to a temporary file
//! in the same directory that is then renamed over the old one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use ralph_runtime::capabilities::Capability;
use serde::{Deserialize, Serialize};

/// The file format's version Ralph writes.
pub const VERSION: u32 = 2;

/// The format before approvals were bound to a component's digest; still read.
pub const LEGACY_VERSION: u32 = 1;

/// What the user approved for one plugin id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The component the approval was given to, as SHA-256 hex; `None` for
    /// an approval carried over from a version 1 file and not used since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub capabilities: BTreeSet<Capability>,
}

/// Whether an approval covers a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowance {
    /// Approved for this component.
    Allowed,
    /// Approved by a carried-over entry without a digest: allowed, and the
    /// entry is to be pinned to this component.
    AllowedUnpinned,
    /// The id has approvals, but for another component (its digest).
    OtherComponent(String),
    /// Not approved.
    No,
}

/// Which integration capabilities the user approved for which plugin id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Approvals {
    pub version: u32,
    pub approvals: BTreeMap<String, Approval>,
}

impl Approvals {
    /// Whether the plugin `id` with component `digest` may use `capability`.
    pub fn allows(&self, id: &str, digest: &str, capability: Capability) -> Allowance {
        let Some(approval) = self.approvals.get(id) else {
            return Allowance::No;
        };
        match &approval.sha256 {
            Some(pinned) if pinned != digest => Allowance::OtherComponent(pinned.clone()),
            _ if !approval.capabilities.contains(&capability) => Allowance::No,
            Some(_) => Allowance::Allowed,
            None => Allowance::AllowedUnpinned,
        }
    }
}

/// The file as written, before its entries are read by its version.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: u32,
    approvals: serde_json::Value,
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

    /// The approvals; none when the file does not exist. A version 1 file
    /// is read into unpinned approvals.
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
        let at = |error: serde_path_to_error::Error<serde_json::Error>, prefix: &str| {
            let path = error.path().to_string();
            let place = if path == "." {
                prefix.to_owned()
            } else {
                format!("{prefix}.{path}")
            };
            format!("at `{place}`: {}", error.inner())
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let raw: RawFile = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| malformed(format!("at `{}`: {}", error.path(), error.inner())))?;
        let approvals: BTreeMap<String, Approval> = match raw.version {
            VERSION => serde_path_to_error::deserialize(&raw.approvals)
                .map_err(|error| malformed(at(error, "approvals")))?,
            LEGACY_VERSION => {
                let legacy: BTreeMap<String, BTreeSet<Capability>> =
                    serde_path_to_error::deserialize(&raw.approvals)
                        .map_err(|error| malformed(at(error, "approvals")))?;
                legacy
                    .into_iter()
                    .map(|(id, capabilities)| {
                        let approval = Approval {
                            sha256: None,
                            capabilities,
                        };
                        (id, approval)
                    })
                    .collect()
            }
            other => {
                return Err(malformed(format!(
                    "version {other} is not supported (expected {VERSION}, or {LEGACY_VERSION} \
                     from an older Ralph)"
                )));
            }
        };
        for (id, approval) in &approvals {
            if let Some(capability) = approval
                .capabilities
                .iter()
                .find(|capability| !capability.is_integration())
            {
                return Err(malformed(format!(
                    "plugin `{id}`: `{capability}` is not an integration capability"
                )));
            }
            if let Some(digest) = &approval.sha256
                && !is_digest(digest)
            {
                return Err(malformed(format!(
                    "plugin `{id}`: `{digest}` is not a SHA-256 in hex"
                )));
            }
        }
        Ok(Approvals {
            version: VERSION,
            approvals,
        })
    }

    /// Approves `capability` for the plugin `id` with component `digest`;
    /// says whether anything changed. Approvals the id had for another
    /// component are dropped: that component is another plugin.
    pub fn grant(
        &self,
        id: &str,
        digest: &str,
        capability: Capability,
    ) -> Result<bool, ApprovalsError> {
        require_integration(capability)?;
        let mut approvals = self.load()?;
        let approval = approvals.approvals.entry(id.to_owned()).or_default();
        let mut changed = false;
        if approval.sha256.as_deref() != Some(digest) {
            if approval.sha256.is_some() {
                approval.capabilities.clear();
            }
            approval.sha256 = Some(digest.to_owned());
            changed = true;
        }
        let added = approval.capabilities.insert(capability);
        if added || changed {
            self.save(&approvals)?;
        }
        Ok(added)
    }

    /// Binds an approval carried over without a digest to `digest`, the
    /// component of the entry `id` that first used it; says whether it did.
    pub fn pin(&self, id: &str, digest: &str) -> Result<bool, ApprovalsError> {
        let mut approvals = self.load()?;
        let Some(approval) = approvals.approvals.get_mut(id) else {
            return Ok(false);
        };
        if approval.sha256.is_some() {
            return Ok(false);
        }
        approval.sha256 = Some(digest.to_owned());
        self.save(&approvals)?;
        Ok(true)
    }

    /// Withdraws the approval; says whether anything changed.
    pub fn revoke(&self, id: &str, capability: Capability) -> Result<bool, ApprovalsError> {
        require_integration(capability)?;
        let mut approvals = self.load()?;
        let Some(approval) = approvals.approvals.get_mut(id) else {
            return Ok(false);
        };
        let removed = approval.capabilities.remove(&capability);
        if approval.capabilities.is_empty() {
            approvals.approvals.remove(id);
        }
        if removed {
            self.save(&approvals)?;
        }
        Ok(removed)
    }

    /// Writes `approvals` atomically, as the current version.
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
        let current = Approvals {
            version: VERSION,
            approvals: approvals.approvals.clone(),
        };
        let mut text = serde_json::to_string_pretty(&current)
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

/// Whether `text` is a SHA-256 digest in lowercase hex.
fn is_digest(text: &str) -> bool {
    text.len() == 64
        && text
            .chars()
            .all(|character| character.is_ascii_digit() || ('a'..='f').contains(&character))
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

    const MINE: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const CHANGED: &str = "2222222222222222222222222222222222222222222222222222222222222222";

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
        assert_eq!(
            approvals.allows("reader", MINE, Capability::Aws),
            Allowance::No
        );
    }

    #[test]
    fn a_grant_is_written_and_read_back_bound_to_the_component() {
        let (_directory, file) = file();
        assert!(file.grant("reader", MINE, Capability::Aws).expect("grant"));
        assert!(!file.grant("reader", MINE, Capability::Aws).expect("again"));
        assert!(
            file.grant("reader", MINE, Capability::HttpGet)
                .expect("grant")
        );
        let approvals = file.load().expect("load");
        assert_eq!(
            approvals.allows("reader", MINE, Capability::Aws),
            Allowance::Allowed
        );
        assert_eq!(
            approvals.allows("reader", MINE, Capability::HttpGet),
            Allowance::Allowed
        );
        assert_eq!(
            approvals.allows("other", MINE, Capability::Aws),
            Allowance::No
        );
        let text = std::fs::read_to_string(file.path()).expect("read");
        assert!(text.contains(r#""http-get""#), "{text}");
        assert!(text.contains(r#""version": 2"#), "{text}");
        assert!(text.contains(MINE), "{text}");
    }

    #[test]
    fn an_approval_lapses_for_a_changed_component() {
        let (_directory, file) = file();
        file.grant("reader", MINE, Capability::Aws).expect("grant");
        let approvals = file.load().expect("load");
        assert_eq!(
            approvals.allows("reader", CHANGED, Capability::Aws),
            Allowance::OtherComponent(MINE.to_owned())
        );
        // Approving the changed component drops what the old one had.
        file.grant("reader", MINE, Capability::Sentry)
            .expect("grant");
        file.grant("reader", CHANGED, Capability::Alpaca)
            .expect("grant");
        let approvals = file.load().expect("load");
        assert_eq!(
            approvals.allows("reader", CHANGED, Capability::Alpaca),
            Allowance::Allowed
        );
        assert_eq!(
            approvals.allows("reader", CHANGED, Capability::Aws),
            Allowance::No
        );
        assert_eq!(
            approvals.allows("reader", MINE, Capability::Alpaca),
            Allowance::OtherComponent(CHANGED.to_owned())
        );
    }

    #[test]
    fn a_version_1_file_carries_over_unpinned_until_its_first_use() {
        let (_directory, file) = file();
        std::fs::create_dir_all(file.path().parent().expect("parent")).expect("mkdir");
        std::fs::write(
            file.path(),
            r#"{"version": 1, "approvals": {"status-reader": ["aws", "sentry"]}}"#,
        )
        .expect("write");
        let approvals = file.load().expect("a version 1 file loads");
        assert_eq!(
            approvals.allows("status-reader", MINE, Capability::Aws),
            Allowance::AllowedUnpinned
        );
        assert_eq!(
            approvals.allows("status-reader", MINE, Capability::Alpaca),
            Allowance::No
        );
        assert!(file.pin("status-reader", MINE).expect("pin"));
        assert!(!file.pin("status-reader", CHANGED).expect("pinned once"));
        let approvals = file.load().expect("load");
        assert_eq!(
            approvals.allows("status-reader", MINE, Capability::Sentry),
            Allowance::Allowed
        );
        assert_eq!(
            approvals.allows("status-reader", CHANGED, Capability::Sentry),
            Allowance::OtherComponent(MINE.to_owned())
        );
        let text = std::fs::read_to_string(file.path()).expect("read");
        assert!(text.contains(r#""version": 2"#), "{text}");
    }

    #[test]
    fn a_revoke_removes_the_approval_and_empty_plugins() {
        let (_directory, file) = file();
        file.grant("reader", MINE, Capability::Sentry)
            .expect("grant");
        assert!(file.revoke("reader", Capability::Sentry).expect("revoke"));
        assert!(!file.revoke("reader", Capability::Sentry).expect("again"));
        assert!(file.load().expect("load").approvals.is_empty());
    }

    #[test]
    fn only_integration_capabilities_are_approvable() {
        let (_directory, file) = file();
        let error = file
            .grant("reader", MINE, Capability::Repository)
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
            r#"{"version": 3, "approvals": {}}"#,
            r#"{"version": 1, "approvals": {"reader": ["repository"]}}"#,
            r#"{"version": 1, "approvals": {}, "extra": 1}"#,
            r#"{"version": 2, "approvals": {"reader": ["aws"]}}"#,
            r#"{"version": 2, "approvals": {"reader": {"sha256": "nope", "capabilities": []}}}"#,
            r#"{"version": 2, "approvals": {"reader": {"capabilities": [], "colour": 1}}}"#,
        ] {
            std::fs::write(file.path(), text).expect("write");
            let error = file.grant("reader", MINE, Capability::Aws).expect_err(text);
            assert!(matches!(error, ApprovalsError::Malformed { .. }), "{error}");
            assert!(error.to_string().contains("approvals.json"), "{error}");
            assert_eq!(std::fs::read_to_string(file.path()).expect("kept"), text);
        }
    }

    #[test]
    fn writing_leaves_no_temporary_files() {
        let (directory, file) = file();
        file.grant("reader", MINE, Capability::Alpaca)
            .expect("grant");
        let names: Vec<_> = std::fs::read_dir(directory.path().join(".ralph"))
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["approvals.json"]);
    }
}
