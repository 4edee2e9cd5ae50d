//! The report as one self-contained HTML page: styles and charts inline,
//! nothing loaded from anywhere. All text that comes from the log is
//! escaped. Each number cell carries `data-field` (and `data-bidder`,
//! `data-dimension` or `data-bin`) with the exact value in `data-value`,
//! so the page can be checked against `status --json` and
//! `analyze --json`; the visible text is that value rounded.

use std::fmt::Write;

use super::charts::{self, Chart, Series};
use super::{Report, RoundSummary};
use crate::analysis::Analysis;

const STYLE: &str = "
body { font-family: sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; background: #fff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
thead th { background: #f2f2f2; }
.note { color: #555; }
.warning { color: #8a4b00; }
figure { margin: 1rem 0; }
";

/// The page.
pub fn render(report: &Report) -> String {
    let mut page = String::with_capacity(64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<title>Ralph marketplace report</title>\n<style>");
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n<h1>Ralph marketplace report</h1>\n");
    overview(&mut page, report);
    bidders(&mut page, report);
    history(&mut page, report);
    excluded(&mut page, report);
    analysis(&mut page, report);
    signals(&mut page, report);
    rounds(&mut page, report);
    page.push_str("</body>\n</html>\n");
    page
}

/// `text` safe inside an element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A number cell: `keys` are its `data-*` attributes (name, value); the
/// exact value goes in `data-value` (empty when there is none), the
/// visible text is rounded to `decimals`.
fn number(page: &mut String, keys: &[(&str, &str)], value: Option<f64>, decimals: usize) {
    let exact = value.map(|value| value.to_string()).unwrap_or_default();
    let shown = value.map_or_else(|| "—".to_owned(), |value| format!("{value:.decimals$}"));
    cell(page, keys, &exact, &shown);
}

/// A whole-number cell.
fn count(page: &mut String, keys: &[(&str, &str)], value: u64) {
    let text = value.to_string();
    cell(page, keys, &text, &text);
}

fn cell(page: &mut String, keys: &[(&str, &str)], exact: &str, shown: &str) {
    page.push_str("<td class=\"number\"");
    for (key, value) in keys {
        let _ = write!(page, " data-{key}=\"{}\"", escape(value));
    }
    let _ = write!(
        page,
        " data-value=\"{}\">{}</td>",
        escape(exact),
        escape(shown)
    );
}

fn text_cell(page: &mut String, text: &str) {
    let _ = write!(page, "<td>{}</td>", escape(text));
}

fn header(page: &mut String, columns: &[&str]) {
    page.push_str("<thead><tr>");
    for column in columns {
        let _ = write!(page, "<th>{}</th>", escape(column));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
}

fn overview(page: &mut String, report: &Report) {
    let state = &report.state;
    let _ = writeln!(
        page,
        "<p>From <code>.ralph/</code> alone, gathered {}. Events folded: {}; rounds completed: {}; \
         excluded files: {}; newest event: {}. The budget pool is {} iterations.</p>",
        escape(&report.generated),
        state.event_count,
        state.rounds_completed,
        state.excluded_events.len(),
        escape(state.last_updated.as_deref().unwrap_or("none")),
        state.total_budget_pool,
    );
    for warning in &report.warnings {
        let _ = writeln!(
            page,
            "<p class=\"warning\">Warning: {}</p>",
            escape(warning)
        );
    }
}

fn bidders(page: &mut String, report: &Report) {
    page.push_str("<h2 id=\"bidders\">Bidders</h2>\n");
    page.push_str(
        "<p class=\"note\">As <code>ralph marketplace status --json</code> gives them: wins and \
         losses are the bidder's <code>success</code> and <code>failure</code> events, efficiency \
         is (wins + 1) / (wins + losses + 2), the allocation is its share of the pool. The cost \
         adds up the priced model usage of its events (<code>ralph marketplace usage</code>); \
         unpriced usages have no cost recorded.</p>\n",
    );
    page.push_str("<table id=\"bidders-table\">\n");
    header(
        page,
        &[
            "bidder",
            "weight",
            "allocation",
            "wins",
            "losses",
            "efficiency",
            "model calls",
            "cost (USD)",
            "unpriced usages",
        ],
    );
    for (id, bot) in &report.state.bots.0 {
        let _ = write!(page, "<tr data-bidder=\"{0}\"><th>{0}</th>", escape(id));
        let keys = |field| [("bidder", id.as_str()), ("field", field)];
        number(page, &keys("weight"), Some(bot.weight), 4);
        count(page, &keys("allocation"), bot.allocation);
        count(page, &keys("wins"), bot.successes);
        count(page, &keys("losses"), bot.failures);
        number(page, &keys("efficiency"), Some(bot.efficiency), 4);
        let usage = report.usage.bidders.get(id).map(|usage| usage.total);
        count(page, &keys("calls"), usage.map_or(0, |totals| totals.calls));
        number(
            page,
            &keys("cost_usd"),
            Some(usage.map_or(0.0, |totals| totals.cost_usd)),
            4,
        );
        count(
            page,
            &keys("unpriced"),
            usage.map_or(0, |totals| totals.unpriced),
        );
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

fn history(page: &mut String, report: &Report) {
    page.push_str("<h2 id=\"history\">Weights and allocations over time</h2>\n");
    if report.state.event_count == 0 {
        page.push_str("<p>No events yet: nothing to chart. Every bidder starts at an equal weight and an equal share of the pool.</p>\n");
        return;
    }
    let _ = writeln!(
        page,
        "<p class=\"note\">The marketplace's own fold replayed over {} prefixes of the log, from no \
         event to all {}.</p>",
        report.history.len(),
        report.state.event_count
    );
    let series = |value: &dyn Fn(&crate::state::BotState) -> f64| -> Vec<Series<'_>> {
        report
            .bidders
            .iter()
            .enumerate()
            .map(|(index, name)| Series {
                name,
                points: report
                    .history
                    .iter()
                    .filter_map(|state| {
                        let bot = state.bots.0.get(index)?;
                        Some((state.event_count, value(&bot.1)))
                    })
                    .collect(),
            })
            .collect()
    };
    let weights = Chart {
        title: "Weight per bidder",
        y_label: "weight",
        y_max: report.weight_bounds.1,
        series: series(&|bot| bot.weight),
    };
    let allocations = Chart {
        title: "Allocation per bidder (iterations)",
        y_label: "allocation",
        y_max: report.state.total_budget_pool as f64,
        series: series(&|bot| bot.allocation as f64),
    };
    for (id, chart) in [
        ("weights-chart", weights),
        ("allocations-chart", allocations),
    ] {
        match charts::line_chart(&chart) {
            Ok(svg) => {
                let _ = writeln!(page, "<figure id=\"{id}\">{svg}</figure>");
            }
            Err(error) => {
                let _ = writeln!(page, "<p class=\"warning\">{}</p>", escape(&error));
            }
        }
    }
}

fn excluded(page: &mut String, report: &Report) {
    let excluded = &report.state.excluded_events;
    if excluded.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2 id=\"excluded\">Excluded event files</h2>\n<p class=\"warning\">{} file(s) of \
         <code>.ralph/events/</code> were left out of everything above, as \
         <code>ralph marketplace status</code> leaves them out; \
         <code>ralph marketplace verify</code> lists them too.</p>\n<table id=\"excluded-table\">",
        excluded.len()
    );
    header(page, &["file", "reason"]);
    for file in excluded {
        page.push_str("<tr data-field=\"excluded\">");
        text_cell(page, &file.file);
        text_cell(page, &file.reason);
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

fn analysis(page: &mut String, report: &Report) {
    page.push_str("<h2 id=\"analysis\">How well the scores predicted success</h2>\n");
    let analysis = match &report.analysis {
        Ok(analysis) => analysis,
        Err(too_few) => {
            let _ = writeln!(
                page,
                "<p id=\"analysis-too-few\" data-have=\"{}\">No analysis yet: {}.</p>",
                too_few.have,
                escape(&too_few.to_string())
            );
            return;
        }
    };
    let _ = writeln!(
        page,
        "<p class=\"note\">As <code>ralph marketplace analyze --json</code> gives it, over \
         <span data-field=\"implementations\" data-value=\"{0}\">{0}</span> implementations.</p>",
        analysis.implementations
    );
    page.push_str("<table id=\"dimensions-table\">\n");
    header(
        page,
        &["dimension", "Spearman", "AUC", "recommended weight"],
    );
    for (name, prediction) in &analysis.dimensions {
        let _ = write!(
            page,
            "<tr data-dimension=\"{0}\"><th>{0}</th>",
            escape(name)
        );
        let keys = |field| [("dimension", *name), ("field", field)];
        number(page, &keys("spearman"), prediction.spearman, 3);
        number(page, &keys("auc"), prediction.auc, 3);
        number(
            page,
            &keys("recommended_weight"),
            analysis.recommended_weights.get(name).copied(),
            3,
        );
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
    totals(page, analysis);
    page.push_str("<h3>Calibration of the total score</h3>\n<table id=\"calibration-table\">\n");
    header(
        page,
        &["score from", "to", "implementations", "success rate"],
    );
    for (index, bin) in analysis.total.calibration.iter().enumerate() {
        let index = index.to_string();
        page.push_str("<tr>");
        let keys = |field| [("bin", index.as_str()), ("field", field)];
        number(page, &keys("from"), Some(bin.from), 1);
        number(page, &keys("to"), Some(bin.to), 1);
        count(page, &keys("count"), bin.count as u64);
        number(page, &keys("success_rate"), bin.success_rate, 3);
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

fn totals(page: &mut String, analysis: &Analysis) {
    page.push_str("<table id=\"totals-table\">\n");
    header(page, &["measure", "value"]);
    let rows = [
        ("total.auc", "AUC of the total score", analysis.total.auc),
        (
            "total.brier",
            "Brier score of the total",
            analysis.total.brier,
        ),
        ("tie_break_rate", "tie-break rate", analysis.tie_break_rate),
        (
            "first_submitter_win_rate",
            "first submitter's win rate",
            analysis.first_submitter_win_rate,
        ),
        (
            "first_submitter_chance",
            "… by chance alone",
            analysis.first_submitter_chance,
        ),
        ("override_rate", "override rate", analysis.override_rate),
    ];
    for (field, label, value) in rows {
        let _ = write!(page, "<tr><th>{}</th>", escape(label));
        number(page, &[("field", field)], value, 3);
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

fn signals(page: &mut String, report: &Report) {
    page.push_str("<h2 id=\"signals\">Delayed signals</h2>\n");
    if report
        .signals
        .iter()
        .all(|(_, signals)| signals.total() == 0)
    {
        page.push_str("<p>No delayed signals in the log (<code>ralph marketplace signals</code> writes them from the default branch's history).</p>\n");
        return;
    }
    page.push_str("<table id=\"signals-table\">\n");
    header(
        page,
        &["bidder", "reverts", "defects", "churn", "weight delta"],
    );
    for (id, signals) in &report.signals {
        let _ = write!(page, "<tr data-bidder=\"{0}\"><th>{0}</th>", escape(id));
        let keys = |field| [("bidder", id.as_str()), ("field", field)];
        count(page, &keys("reverts"), signals.reverts);
        count(page, &keys("defects"), signals.defects);
        count(page, &keys("churns"), signals.churns);
        number(page, &keys("signal_delta"), Some(signals.weight_delta), 2);
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

fn rounds(page: &mut String, report: &Report) {
    page.push_str("<h2 id=\"rounds\">The last rounds</h2>\n");
    if report.rounds.is_empty() {
        page.push_str("<p>No ranked round in the log yet.</p>\n");
        return;
    }
    let _ = write!(
        page,
        "<p class=\"note\">The newest {} of at most {}, newest first.",
        report.rounds.len(),
        super::LAST_ROUNDS
    );
    page.push_str(" Each proposal under its blind label, the bidder behind it, its proposal and implementation scores, and the outcome of its event.</p>\n<table id=\"rounds-table\">\n");
    header(
        page,
        &[
            "issue",
            "round",
            "kind",
            "started",
            "result",
            "rank",
            "label",
            "bidder",
            "proposal",
            "implementation",
            "outcome",
        ],
    );
    for round in &report.rounds {
        round_rows(page, round);
    }
    page.push_str("</tbody>\n</table>\n");
}

fn round_rows(page: &mut String, round: &RoundSummary) {
    let span = round.ranking.len().max(1);
    for (index, standing) in round.ranking.iter().enumerate() {
        page.push_str("<tr>");
        if index == 0 {
            let _ = write!(
                page,
                "<td rowspan=\"{span}\">#{}</td><td rowspan=\"{span}\">{}</td><td rowspan=\"{span}\">{}</td><td rowspan=\"{span}\">{}</td><td rowspan=\"{span}\">{}</td>",
                round.issue,
                round.round,
                escape(round.kind.as_deref().unwrap_or("")),
                escape(&round.timestamp),
                escape(round.result()),
            );
        }
        let _ = write!(page, "<td>{}</td>", standing.rank);
        text_cell(page, standing.label.as_deref().unwrap_or(""));
        text_cell(page, &standing.bidder);
        number(
            page,
            &[("field", "proposal_score")],
            standing.proposal_score,
            3,
        );
        number(
            page,
            &[("field", "implementation_score")],
            standing.implementation_score,
            3,
        );
        text_cell(page, standing.outcome.as_str());
        page.push_str("</tr>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
