//! `ralph marketplace signals`: the delayed signals of SPEC §10 from the
//! default branch's history (`ralph_broker::delayed_signals`).

use chrono::{DateTime, NaiveDate};
use ralph_broker::delayed_signals::{self, Found, Kind};
use ralph_marketplace::Layout;

use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, outln};

pub fn run(
    layout: &Layout,
    since: Option<&str>,
    branch: Option<String>,
    dry_run: bool,
    json: bool,
) -> Outcome {
    let since = since.map(parse_since).transpose()?;
    let marketplace = super::marketplace::open(layout)?;
    let rev = branch.unwrap_or_else(|| delayed_signals::default_rev(layout.repository()));
    let found = delayed_signals::run(&marketplace, &rev, since, dry_run)
        .map_err(|error| Failure::message(Exit::Problems, error.to_string()))?;
    if json {
        let document = serde_json::json!({"branch": rev, "dry_run": dry_run, "signals": found});
        output::json_line(&document.to_string());
        return Ok(Exit::Success);
    }
    if found.is_empty() {
        outln!("no delayed signals in the history of {rev}");
        return Ok(Exit::Success);
    }
    for entry in &found {
        outln!("{}", line(entry, dry_run));
    }
    let new = found
        .iter()
        .filter(|entry| entry.recorded == Some(true))
        .count();
    if !dry_run {
        outln!(
            "{new} recorded, {} already in the log",
            found
                .iter()
                .filter(|entry| entry.recorded == Some(false))
                .count()
        );
    }
    Ok(Exit::Success)
}

/// `--since`: a date (midnight UTC) or an RFC 3339 time, as Unix seconds.
fn parse_since(text: &str) -> Result<i64, Failure> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc().timestamp())
        .ok_or_else(|| {
            Failure::message(
                Exit::BadInput,
                format!("--since: `{text}` is neither a date (YYYY-MM-DD) nor an RFC 3339 time"),
            )
        })
}

fn line(entry: &Found, dry_run: bool) -> String {
    let signal = &entry.signal;
    let short = |sha: &str| sha.chars().take(10).collect::<String>();
    let what = match signal.kind {
        Kind::Revert => format!("reverted by {}", short(&signal.signal_commit)),
        Kind::Defect => format!("a defect fixed by {}", short(&signal.signal_commit)),
        Kind::Churn => format!(
            "high churn: {} edited a 4th time by {}",
            signal.file.as_deref().unwrap_or("a file"),
            short(&signal.signal_commit)
        ),
    };
    let state = match (&entry.bot_id, entry.recorded, dry_run) {
        (None, _, _) => "not recorded: no success event of the log matches its trailers".to_owned(),
        (Some(bot), _, true) => format!("would be recorded for {bot}"),
        (Some(bot), Some(true), _) => format!("recorded for {bot}"),
        (Some(bot), _, _) => format!("already recorded for {bot}"),
    };
    format!(
        "#{} round {} proposal {} ({}): {what}; {state}",
        signal.origin.issue,
        signal.origin.round,
        signal.origin.proposal,
        short(&signal.commit)
    )
}
