//! `ralph audit`: the integration calls plugins made.

use chrono::{DateTime, NaiveDate, Utc};
use ralph_integrations::audit::{AuditEntry, AuditLog};
use ralph_marketplace::Layout;

use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, Form, Stream, errln};
use crate::render::cut;

const PLUGIN_WIDTH: usize = 18;
const OPERATION_WIDTH: usize = 24;

pub fn run(layout: &Layout, since: Option<&str>, json: bool) -> Outcome {
    let since = since
        .map(|text| parse_since(text, Utc::now()))
        .transpose()?;
    let log = AuditLog::new(layout.audit_dir());
    let read = log.read(since).map_err(Failure::problem)?;
    for bad in &read.bad_lines {
        errln!(
            "warning: {}:{}: skipped a line that is not an audit entry: {}",
            layout.display(&bad.file),
            bad.line,
            bad.reason
        );
    }
    let mut text = String::new();
    if json {
        for entry in &read.entries {
            text.push_str(&serde_json::to_string(entry).map_err(Failure::problem)?);
            text.push('\n');
        }
    } else {
        text = table(&read.entries);
    }
    let form = if json { Form::Json } else { Form::Human };
    output::write(Stream::Stdout, form, &text);
    Ok(Exit::Success)
}

fn table(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "No integration calls recorded.\n".to_owned();
    }
    let mut text = format!(
        "{:<19}  {:<PLUGIN_WIDTH$}  {:<10}  {:<OPERATION_WIDTH$}  {:<15}  {:>8}  {:>8}\n",
        "time (UTC)", "plugin", "capability", "operation", "status", "latency", "bytes"
    );
    for entry in entries {
        text.push_str(&format!(
            "{:<19}  {:<PLUGIN_WIDTH$}  {:<10}  {:<OPERATION_WIDTH$}  {:<15}  {:>6}ms  {:>8}\n",
            entry.time.format("%Y-%m-%d %H:%M:%S"),
            cut(&entry.plugin, PLUGIN_WIDTH),
            entry.capability.name(),
            cut(&entry.operation, OPERATION_WIDTH),
            entry.status.name(),
            entry.latency_ms,
            entry.bytes
        ));
    }
    text
}

/// A UTC date, an RFC 3339 time, or a duration back from `now`
/// (`30s`, `15m`, `1h`, `7d`, `2w`).
fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Failure> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    crate::durations::parse(text)
        .and_then(|duration| now.checked_sub_signed(duration))
        .ok_or_else(|| {
            Failure::message(
                Exit::BadInput,
                format!(
                    "--since `{text}`: expected a date (2026-11-20), an RFC 3339 time, \
                     or a duration such as 30m, 1h or 7d"
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn since_takes_dates_times_and_durations() {
        let parse = |text| parse_since(text, now()).expect(text).to_rfc3339();
        assert_eq!(parse("2026-11-20"), "2026-11-20T00:00:00+00:00");
        assert_eq!(
            parse("2026-11-20T10:30:00+01:00"),
            "2026-11-20T09:30:00+00:00"
        );
        assert_eq!(parse("90s"), "2026-11-21T11:58:30+00:00");
        assert_eq!(parse("15m"), "2026-11-21T11:45:00+00:00");
        assert_eq!(parse("1h"), "2026-11-21T11:00:00+00:00");
        assert_eq!(parse("7d"), "2026-11-14T12:00:00+00:00");
        assert_eq!(parse("1w"), "2026-11-14T12:00:00+00:00");
    }

    #[test]
    fn anything_else_is_bad_input() {
        for text in [
            "",
            "h",
            "-1h",
            "1y",
            "yesterday",
            "2026-13-01",
            "9999999999999999d",
        ] {
            let failure = parse_since(text, now()).expect_err(text);
            assert_eq!(failure.exit, Exit::BadInput);
        }
    }
}
