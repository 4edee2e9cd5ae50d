//! `ralph marketplace analyze`: the meta-analysis of SPEC §12, from the log
//! alone (`ralph_marketplace::analysis`), written to
//! `.ralph/meta_analysis.json` and shown. It changes no weight.

use ralph_marketplace::Layout;
use ralph_marketplace::analysis::Analysis;

use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, out, outln};

pub fn run(layout: &Layout, last: Option<usize>, json: bool) -> Outcome {
    let marketplace = super::marketplace::open(layout)?;
    let analysis = marketplace
        .analyze(last)
        .map_err(Failure::problem)?
        .map_err(|too_few| Failure::message(Exit::Problems, too_few.to_string()))?;
    let text = serde_json::to_string_pretty(&analysis).map_err(Failure::problem)?;
    let path = layout.ralph_dir().join("meta_analysis.json");
    ralph_issues::atomic::replace(&layout.tmp_dir(), &path, &format!("{text}\n")).map_err(
        |error| {
            Failure::problem(anyhow::anyhow!(
                "{}: {}",
                layout.display(&error.path),
                error.source
            ))
        },
    )?;
    if json {
        output::json_line(&serde_json::to_string(&analysis).map_err(Failure::problem)?);
    } else {
        let current = marketplace.config().scoring_weights.named();
        out!("{}", table(&analysis, &current));
        outln!("written to {}", layout.display(&path));
    }
    Ok(Exit::Success)
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |value| format!("{value:.3}"))
}

/// The analysis for people, within 80 columns.
fn table(analysis: &Analysis, current: &[(&'static str, f64); 5]) -> String {
    let mut text = format!(
        "{} implementations\n\n{:<18} {:>8} {:>6} {:>8} {:>12}\n",
        analysis.implementations, "dimension", "spearman", "auc", "weight", "recommended"
    );
    for (name, weight) in current {
        let prediction = &analysis.dimensions[name];
        text.push_str(&format!(
            "{name:<18} {:>8} {:>6} {weight:>8.3} {:>12.3}\n",
            number(prediction.spearman),
            number(prediction.auc),
            analysis.recommended_weights[name],
        ));
    }
    text.push_str(&format!(
        "\ntotal: auc {}, brier {}\ncalibration (score → success rate):\n",
        number(analysis.total.auc),
        number(analysis.total.brier)
    ));
    for bin in &analysis.total.calibration {
        text.push_str(&format!(
            "  {:.1}–{:.1}  {:>4}  {}\n",
            bin.from,
            bin.to,
            bin.count,
            number(bin.success_rate)
        ));
    }
    text.push_str(&format!(
        "\ntie-break rate {}\nfirst submitter's win rate {} (chance {})\noverride rate {}\n",
        number(analysis.tie_break_rate),
        number(analysis.first_submitter_win_rate),
        number(analysis.first_submitter_chance),
        number(analysis.override_rate),
    ));
    text
}
