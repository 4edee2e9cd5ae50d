//! The audit log: one JSON line per integration call, denied ones included.
//!
//! Lines go to `.ralph/audit/<YYYY-MM-DD>.jsonl` (the UTC date), each
//! appended with a single write to a file opened for appending, so
//! concurrent calls never interleave. The log is per user and git-ignored.
//!
//! `plugin` is the caller's id (the config entry that loaded it; `-` for a
//! component loaded without one), `sha256` its component's digest and
//! `name` the name its metadata reported, which is for display only. Lines
//! written before approvals had digests have neither `sha256` nor `name`.
//!
//! ```json
//! {"time":"2026-11-21T16:30:00.123456Z","plugin":"status-reader","sha256":"9f2c…","name":"status-reader","capability":"aws","operation":"ecs:DescribeServices","parameters":{"cluster":"prod","services":["web"]},"status":"ok","latency_ms":84,"bytes":412}
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::IntegrationError;
use serde::{Deserialize, Serialize};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditStatus {
    Ok,
    Denied,
    RateLimited,
    InvalidRequest,
    NotConfigured,
    Failed,
}

impl AuditStatus {
    /// The status of a failed call.
    pub fn of(error: &IntegrationError) -> Self {
        match error {
            IntegrationError::Denied(_) => Self::Denied,
            IntegrationError::RateLimited(_) => Self::RateLimited,
            IntegrationError::InvalidRequest(_) => Self::InvalidRequest,
            IntegrationError::NotConfigured(_) => Self::NotConfigured,
            IntegrationError::Failed(_) => Self::Failed,
        }
    }

    /// The name the log uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::RateLimited => "rate-limited",
            Self::InvalidRequest => "invalid-request",
            Self::NotConfigured => "not-configured",
            Self::Failed => "failed",
        }
    }
}

/// One audited call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    #[serde(with = "micros")]
    pub time: DateTime<Utc>,
    /// The caller's id: its config entry.
    pub plugin: String,
    /// The SHA-256 of the caller's component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The name the caller's metadata reported; for display only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub capability: Capability,
    pub operation: String,
    /// The call's fields, redacted.
    pub parameters: serde_json::Value,
    pub status: AuditStatus,
    pub latency_ms: u64,
    /// The size of the reply delivered to the plugin, in bytes of JSON.
    pub bytes: u64,
    /// Why the call failed, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// RFC 3339 in UTC with microseconds.
mod micros {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// A line of the log that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub file: PathBuf,
    /// Counted from 1.
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{}:{}: {}",
            self.file.display(),
            self.line,
            self.reason
        )
    }
}

/// What reading the log found.
#[derive(Debug, Default)]
pub struct AuditRead {
    /// Oldest first.
    pub entries: Vec<AuditEntry>,
    pub bad_lines: Vec<BadLine>,
}

/// Why the log cannot be written or listed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{}: cannot write the audit log: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot read the audit log: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The audit log directory.
#[derive(Debug, Clone)]
pub struct AuditLog {
    directory: PathBuf,
}

impl AuditLog {
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: directory.into(),
        }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The file holding `date`'s entries.
    pub fn file_for(&self, date: NaiveDate) -> PathBuf {
        self.directory
            .join(format!("{}.jsonl", date.format("%Y-%m-%d")))
    }

    /// Appends `entry` to its day's file in one write.
    pub fn append(&self, entry: &AuditEntry) -> Result<(), AuditError> {
        let path = self.file_for(entry.time.date_naive());
        let write_error = |source| AuditError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.directory).map_err(write_error)?;
        let mut line =
            serde_json::to_vec(entry).map_err(|error| write_error(std::io::Error::other(error)))?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(write_error)?;
        file.write_all(&line).map_err(write_error)
    }

    /// Every entry at or after `since` (all when `None`), oldest first, and
    /// the lines that could not be read. A missing directory is an empty log.
    pub fn read(&self, since: Option<DateTime<Utc>>) -> Result<AuditRead, AuditError> {
        let read_error = |path: &Path, source| AuditError::Read {
            path: path.to_owned(),
            source,
        };
        let listing = match std::fs::read_dir(&self.directory) {
            Ok(listing) => listing,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(AuditRead::default());
            }
            Err(source) => return Err(read_error(&self.directory, source)),
        };
        let mut days = Vec::new();
        for entry in listing {
            let path = entry
                .map_err(|source| read_error(&self.directory, source))?
                .path();
            let day = path
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_suffix(".jsonl"))
                .and_then(|stem| NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok());
            if let Some(day) = day
                && since.is_none_or(|since| day >= since.date_naive())
            {
                days.push((day, path));
            }
        }
        days.sort();
        let mut read = AuditRead::default();
        for (_, path) in days {
            let bytes = std::fs::read(&path).map_err(|source| read_error(&path, source))?;
            read_lines(&path, &bytes, since, &mut read);
        }
        read.entries.sort_by_key(|entry| entry.time);
        Ok(read)
    }
}

fn read_lines(path: &Path, bytes: &[u8], since: Option<DateTime<Utc>>, read: &mut AuditRead) {
    for (index, line) in bytes.split(|byte| *byte == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<AuditEntry>(line) {
            Ok(entry) if since.is_none_or(|since| entry.time >= since) => read.entries.push(entry),
            Ok(_) => {}
            Err(error) => read.bad_lines.push(BadLine {
                file: path.to_owned(),
                line: index + 1,
                reason: error.to_string(),
            }),
        }
    }
}

/// The time as the log writes it.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn entry(time: DateTime<Utc>, status: AuditStatus) -> AuditEntry {
        AuditEntry {
            time,
            plugin: "reader".to_owned(),
            sha256: None,
            name: None,
            capability: Capability::HttpGet,
            operation: "http:GET".to_owned(),
            parameters: json!({"url": "https://api.example.com/status"}),
            status,
            latency_ms: 12,
            bytes: 345,
            error: (status != AuditStatus::Ok).then(|| "denied: no".to_owned()),
        }
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
            .single()
            .expect("valid time")
            + chrono::Duration::microseconds(123_456)
    }

    #[test]
    fn an_entry_is_one_line_in_its_days_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let log = AuditLog::new(directory.path().join("audit"));
        log.append(&entry(at(20, 23), AuditStatus::Ok))
            .expect("append");
        log.append(&entry(at(21, 1), AuditStatus::Denied))
            .expect("append");
        log.append(&entry(at(21, 2), AuditStatus::RateLimited))
            .expect("append");
        let text =
            std::fs::read_to_string(directory.path().join("audit/2026-11-21.jsonl")).expect("read");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
        assert_eq!(first["time"], "2026-11-21T01:00:00.123456Z");
        assert_eq!(first["status"], "denied");
        assert_eq!(first["capability"], "http-get");
        assert_eq!(first["latency_ms"], 12);
        assert_eq!(first["bytes"], 345);
        assert!(directory.path().join("audit/2026-11-20.jsonl").exists());
    }

    #[test]
    fn reading_returns_entries_oldest_first_since_a_time() {
        let directory = tempfile::tempdir().expect("temp dir");
        let log = AuditLog::new(directory.path());
        for time in [at(21, 5), at(19, 1), at(21, 1)] {
            log.append(&entry(time, AuditStatus::Ok)).expect("append");
        }
        let everything = log.read(None).expect("read");
        let times: Vec<_> = everything.entries.iter().map(|entry| entry.time).collect();
        assert_eq!(times, [at(19, 1), at(21, 1), at(21, 5)]);
        let recent = log.read(Some(at(21, 2))).expect("read");
        assert_eq!(recent.entries.len(), 1);
        assert_eq!(recent.entries[0].time, at(21, 5));
    }

    #[test]
    fn bad_lines_are_reported_with_file_and_line_and_never_stop_the_reader() {
        let directory = tempfile::tempdir().expect("temp dir");
        let log = AuditLog::new(directory.path());
        log.append(&entry(at(21, 1), AuditStatus::Ok))
            .expect("append");
        let path = log.file_for(at(21, 1).date_naive());
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str("not json\n\n{\"time\": \"yesterday\"}\n");
        std::fs::write(&path, text).expect("write");
        log.append(&entry(at(21, 2), AuditStatus::Ok))
            .expect("append");
        std::fs::write(directory.path().join("notes.txt"), "ignored").expect("write");
        let read = log.read(None).expect("read");
        assert_eq!(read.entries.len(), 2);
        let lines: Vec<_> = read.bad_lines.iter().map(|bad| bad.line).collect();
        assert_eq!(lines, [2, 4]);
        assert!(
            read.bad_lines[0]
                .to_string()
                .contains("2026-11-21.jsonl:2: "),
            "{}",
            read.bad_lines[0]
        );
    }

    #[test]
    fn a_missing_directory_is_an_empty_log() {
        let directory = tempfile::tempdir().expect("temp dir");
        let read = AuditLog::new(directory.path().join("none"))
            .read(None)
            .expect("read");
        assert!(read.entries.is_empty() && read.bad_lines.is_empty());
    }

    #[test]
    fn an_unwritable_log_is_an_error_naming_the_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let blocker = directory.path().join("audit");
        std::fs::write(&blocker, "a file, not a directory").expect("write");
        let error = AuditLog::new(&blocker)
            .append(&entry(at(21, 1), AuditStatus::Ok))
            .expect_err("cannot write");
        assert!(error.to_string().contains("2026-11-21.jsonl"), "{error}");
    }

    #[test]
    fn every_error_maps_to_its_status() {
        let cases = [
            (IntegrationError::Denied(String::new()), "denied"),
            (IntegrationError::RateLimited(String::new()), "rate-limited"),
            (
                IntegrationError::InvalidRequest(String::new()),
                "invalid-request",
            ),
            (
                IntegrationError::NotConfigured(String::new()),
                "not-configured",
            ),
            (IntegrationError::Failed(String::new()), "failed"),
        ];
        for (error, name) in cases {
            let status = AuditStatus::of(&error);
            assert_eq!(status.name(), name);
            assert_eq!(serde_json::to_value(status).expect("json"), name);
        }
        assert_eq!(format_time(at(21, 1)), "2026-11-21T01:00:00.123456Z");
    }
}
