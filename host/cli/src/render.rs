//! Text for people: the status table and the verify report, within 80
//! columns. Machines get `--json` instead.

use std::fmt::Write;

use ralph_marketplace::usage::{BidderUsage, Totals, UsageReport};
use ralph_marketplace::verify::Report;
use ralph_marketplace::{Event, Layout, Marketplace, State};

/// Width of a weight bar; a full bar is weight 1.
const BAR_WIDTH: usize = 12;
/// How many of the newest events the status shows.
const RECENT_ROUNDS: usize = 5;
/// Longest bidder name shown before it is cut.
const NAME_WIDTH: usize = 14;

/// The status table: one row per bidder, then totals and recent rounds.
pub fn status(state: &State, recent: &[Event]) -> String {
    let mut text = String::new();
    let bots = state.bots.0.len();
    let _ = writeln!(
        text,
        "Marketplace: {}, a pool of {}, {} completed",
        counted(bots as u64, "bidder"),
        counted(state.total_budget_pool, "iteration"),
        counted(state.rounds_completed, "round")
    );
    let _ = writeln!(
        text,
        "{} folded, last updated {}",
        counted(state.event_count, "event"),
        state.last_updated.as_deref().unwrap_or("never")
    );
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "{:<NAME_WIDTH$}  {:<BAR_WIDTH$} {:>6}  {:>10}  {:>4}  {:>4}  {:>6}",
        "bidder", "weight", "", "efficiency", "won", "lost", "budget"
    );
    for (id, bot) in &state.bots.0 {
        let _ = writeln!(
            text,
            "{:<NAME_WIDTH$}  {} {:>6.4}  {:>10.3}  {:>4}  {:>4}  {:>6}",
            cut(id, NAME_WIDTH),
            bar(bot.weight),
            bot.weight,
            bot.efficiency,
            bot.successes,
            bot.failures,
            bot.allocation
        );
    }
    if !recent.is_empty() {
        let _ = writeln!(text);
        let _ = writeln!(text, "Recent rounds");
        for event in recent {
            let _ = writeln!(
                text,
                "  {}  issue #{:<6} {:<NAME_WIDTH$}  {:<11} {:>+7.3}",
                event.time.format("%Y-%m-%d %H:%M:%S"),
                event.issue_number,
                cut(&event.bot_id, NAME_WIDTH),
                event.outcome,
                event.weight_delta
            );
        }
    }
    if !state.excluded_events.is_empty() {
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "{} left out; run `ralph marketplace verify` for details",
            counted(state.excluded_events.len() as u64, "event file")
        );
    }
    text
}

/// What `ralph marketplace status` and the end of a loop print: the state,
/// the recent rounds and, when events record it, the model usage, from the
/// cached summary (never a read of the whole log while it is current). A
/// log that cannot be read for them was already reported by the state.
pub fn status_with_usage(marketplace: &Marketplace, state: &State) -> String {
    let Ok(summary) = marketplace.summary() else {
        return status(state, &[]);
    };
    if let Some(warning) = &summary.cache_warning {
        crate::output::errln!("warning: {warning}");
    }
    let recent = &summary.recent[summary.recent.len().saturating_sub(RECENT_ROUNDS)..];
    let mut text = status(state, recent);
    text.push_str(&usage_section(&summary.usage));
    text
}

/// The "Model usage" section of the status: totals per bidder and overall,
/// or nothing when no event records usage.
pub fn usage_section(report: &UsageReport) -> String {
    if report.total.records == 0 {
        return String::new();
    }
    let mut text = String::new();
    let _ = writeln!(text);
    let _ = writeln!(text, "Model usage");
    usage_table(&mut text, report, |usage| usage.total);
    text
}

/// `ralph marketplace usage`: the totals per bidder, proposing,
/// implementing, reviewing and checking (the last two only when any), and
/// overall.
pub fn usage(report: &UsageReport) -> String {
    let mut text = String::new();
    let scope = match report.issue {
        Some(issue) => format!("issue #{issue}"),
        None => "every issue".to_owned(),
    };
    let _ = writeln!(
        text,
        "Model usage on {scope}: {}",
        counted(report.total.records, "usage record")
    );
    if report.total.records == 0 {
        return text;
    }
    // (title, part, shown even when empty)
    let parts: [(&str, PartOf, bool); 5] = [
        ("Proposing", |usage| usage.proposing, true),
        ("Implementing", |usage| usage.implementing, true),
        (
            "Reviewing the winners (specialists)",
            |usage| usage.reviewing,
            false,
        ),
        (
            "Checking the winners' changes (check plugins)",
            |usage| usage.checking,
            false,
        ),
        ("Together", |usage| usage.total, true),
    ];
    for (title, part, always) in parts {
        if !always
            && report
                .bidders
                .values()
                .all(|usage| part(usage).records == 0)
        {
            continue;
        }
        let _ = writeln!(text);
        let _ = writeln!(text, "{title}");
        usage_table(&mut text, report, part);
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "{} left out: malformed usage",
            counted(report.skipped.len() as u64, "event file")
        );
    }
    text
}

/// Picks one part of a bidder's usage.
type PartOf = fn(&BidderUsage) -> Totals;

fn usage_table(text: &mut String, report: &UsageReport, part: impl Fn(&BidderUsage) -> Totals) {
    let _ = writeln!(
        text,
        "  {:<NAME_WIDTH$}  {:>7}  {:>12}  {:>12}  {:>12}",
        "bidder", "calls", "tokens in", "tokens out", "cost (USD)"
    );
    let mut all = Totals::default();
    for (id, usage) in &report.bidders {
        let totals = part(usage);
        all.merge(&totals);
        usage_row(text, &cut(id, NAME_WIDTH), &totals);
    }
    usage_row(text, "all", &all);
    if all.unpriced > 0 {
        let _ = writeln!(
            text,
            "  {} without a price: their cost is left out",
            counted(all.unpriced, "record")
        );
    }
}

fn usage_row(text: &mut String, name: &str, totals: &Totals) {
    let cost = if totals.records > totals.unpriced {
        format!("{:.4}", totals.cost_usd)
    } else {
        "-".to_owned()
    };
    let _ = writeln!(
        text,
        "  {name:<NAME_WIDTH$}  {:>7}  {:>12}  {:>12}  {cost:>12}",
        totals.calls, totals.input_tokens, totals.output_tokens
    );
}

/// The verify report as text.
pub fn verify(layout: &Layout, report: &Report) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "events folded: {}", report.event_count);
    let _ = writeln!(text, "excluded files: {}", report.excluded_events.len());
    for excluded in &report.excluded_events {
        let path = layout.events_dir().join(&excluded.file);
        let _ = writeln!(text, "  {}: {}", layout.display(&path), excluded.reason);
    }
    if !report.unknown_bots.is_empty() {
        let _ = writeln!(text, "unknown bots:");
        for (bot, events) in &report.unknown_bots {
            let _ = writeln!(text, "  {bot} ({})", counted(*events, "event"));
        }
    }
    match &report.cache_detail {
        Some(detail) => {
            let _ = writeln!(text, "cache: {} ({detail})", report.cache);
        }
        None => {
            let _ = writeln!(text, "cache: {}", report.cache);
        }
    }
    let verdict = if report.is_clean() {
        "ok"
    } else {
        "problems found"
    };
    let _ = writeln!(text, "result: {verdict}");
    text
}

/// `1 event`, `2 events`.
fn counted(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn bar(weight: f64) -> String {
    let filled = ((weight.clamp(0.0, 1.0) * BAR_WIDTH as f64).round() as usize).min(BAR_WIDTH);
    format!("{}{}", "█".repeat(filled), "·".repeat(BAR_WIDTH - filled))
}

/// `text` cut to `width` characters, with an ellipsis when cut.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width - 1).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ralph_marketplace::{Config, fold};

    #[test]
    fn the_status_table_fits_in_80_columns() {
        let state = fold(&Config::default(), Vec::new());
        let event = Event::parse(
            br#"{"timestamp": "2026-01-29T10:15:00Z", "issue_number": 123456,
                "bot_id": "a_very_long_bidder_name_indeed", "outcome": "resubmitted",
                "weight_delta": -0.05}"#,
        )
        .expect("event");
        let text = status(&state, &[event]);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        assert!(text.contains("bidder_1"));
        assert!(text.contains("Recent rounds"));
    }

    fn usage_report() -> UsageReport {
        let mut report = UsageReport::new(["bidder_1", "a_very_long_bidder_name_indeed"], None);
        report.add_file(
            "a.json",
            br#"{"timestamp": "2026-01-29T10:15:00Z", "issue_number": 1, "bot_id": "bidder_1",
                "outcome": "success", "weight_delta": 0.1,
                "usage": {"calls": 3, "input_tokens": 1200, "output_tokens": 345, "cost_usd": 0.0421},
                "implementation_usage": {"calls": 1, "input_tokens": 99999999999, "output_tokens": 7}}"#,
        );
        report
    }

    #[test]
    fn the_usage_section_shows_totals_per_bidder_and_overall() {
        let text = usage_section(&usage_report());
        assert!(text.contains("Model usage"), "{text}");
        let row = text
            .lines()
            .find(|line| line.trim_start().starts_with("bidder_1"))
            .expect("a row for bidder_1");
        assert!(row.contains(" 4 ") && row.contains("100000001199"), "{row}");
        assert!(row.contains("0.0421"), "{row}");
        assert!(text.contains("1 record without a price"), "{text}");
        for line in text.lines().chain(usage(&usage_report()).lines()) {
            assert!(line.chars().count() <= 80, "{line}");
        }
        let empty = UsageReport::new(["bidder_1"], None);
        assert_eq!(usage_section(&empty), "");
    }

    #[test]
    fn the_usage_command_splits_proposing_from_implementing() {
        let text = usage(&usage_report());
        let after = |title: &str| -> String {
            text.split(&format!("\n{title}\n"))
                .nth(1)
                .and_then(|rest| {
                    rest.lines()
                        .find(|line| line.trim_start().starts_with("bidder_1"))
                })
                .unwrap_or_default()
                .to_owned()
        };
        assert!(after("Proposing").contains("1200"), "{text}");
        assert!(after("Implementing").contains("99999999999"), "{text}");
        assert!(after("Implementing").trim_end().ends_with('-'), "{text}");
        assert!(after("Together").contains("0.0421"), "{text}");
        assert!(
            text.starts_with("Model usage on every issue: 2 usage records"),
            "{text}"
        );
    }

    #[test]
    fn bars_are_full_at_weight_one_and_empty_at_zero() {
        assert_eq!(bar(1.0), "█".repeat(BAR_WIDTH));
        assert_eq!(bar(0.0), "·".repeat(BAR_WIDTH));
    }
}
