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
    super::replace_file(layout, &layout.tmp_dir(), &path, &format!("{text}\n"))?;
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
    if !analysis.judges.is_empty() {
        text.push_str(&format!(
            "\n{:<18} {:>15} {:>6} {:>6}\n",
            "judge", "implementations", "auc", "brier"
        ));
        for (judge, calibration) in &analysis.judges {
            text.push_str(&format!(
                "{judge:<18} {:>15} {:>6} {:>6}\n",
                calibration.implementations,
                number(calibration.auc),
                number(calibration.brier)
            ));
        }
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

/// `tune`: the weights of `.ralph/meta_analysis.json` into
/// `scoring_weights` of `.ralph/config.json`, once confirmed.
pub fn tune(layout: &Layout, yes: bool, json: bool) -> Outcome {
    let marketplace = super::marketplace::open(layout)?;
    let analysis_path = layout.ralph_dir().join("meta_analysis.json");
    let shown = layout.display(&analysis_path).to_string();
    let text = std::fs::read_to_string(&analysis_path).map_err(|error| {
        Failure::message(
            Exit::BadInput,
            format!("{shown}: {error}; run `ralph marketplace analyze` first"),
        )
    })?;
    let analysis: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| Failure::bad_input(anyhow::anyhow!("{shown}: {error}")))?;
    let current = marketplace.config().scoring_weights.named();
    let mut recommended = serde_json::Map::new();
    for (name, _) in &current {
        let weight = analysis["recommended_weights"][name]
            .as_f64()
            .ok_or_else(|| {
                Failure::bad_input(anyhow::anyhow!(
                    "{shown}: field `recommended_weights.{name}` is missing or not a number"
                ))
            })?;
        recommended.insert((*name).to_owned(), serde_json::json!(weight));
    }
    let config_path = layout.config_file();
    let original = std::fs::read_to_string(&config_path).map_err(Failure::problem)?;
    let new_text = with_weights(&original, &recommended).map_err(|error| {
        Failure::bad_input(anyhow::anyhow!(
            "{shown} recommends weights the config refuses: {}",
            error.at(&config_path)
        ))
    })?;
    let config_shown = layout.display(&config_path).to_string();
    if !json {
        outln!("{:<18} {:>8} {:>12}", "dimension", "now", "recommended");
        for (name, weight) in &current {
            outln!(
                "{name:<18} {weight:>8.3} {:>12.3}",
                recommended[*name].as_f64().unwrap_or_default()
            );
        }
    }
    if !yes
        && !super::marketplace::confirm("tune", &format!("Write these weights to {config_shown}?"))?
    {
        outln!("tune cancelled; {config_shown} is unchanged");
        return Ok(Exit::Problems);
    }
    super::replace_file(layout, &layout.tmp_dir(), &config_path, &new_text)?;
    if json {
        output::json_line(
            &serde_json::json!({"applied": true, "scoring_weights": recommended}).to_string(),
        );
    } else {
        outln!("wrote scoring_weights to {config_shown}; commit it to share the change");
    }
    Ok(Exit::Success)
}

/// `config` (the text of `.ralph/config.json`) with `weights` as its
/// `scoring_weights`: only that object's text is replaced, so the rest of
/// the file keeps its order and layout; when that cannot be done safely
/// the whole config is written anew. The result must be a config every
/// command accepts, with exactly these weights.
fn with_weights(
    config: &str,
    weights: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, ralph_marketplace::config::ParseError> {
    let object = serde_json::to_string_pretty(weights)
        .unwrap_or_default()
        .replace('\n', "\n  ");
    let has_weights = |text: &str| {
        ralph_marketplace::Config::from_slice(text.as_bytes()).map(|parsed| {
            parsed.scoring_weights.named().iter().all(|(name, weight)| {
                weights.get(*name).and_then(|value| value.as_f64()) == Some(*weight)
            })
        })
    };
    let key = "\"scoring_weights\"";
    let replaced = match config.find(key) {
        Some(at) => config[at..].find('{').and_then(|open| {
            let open = at + open;
            let close = open + config[open..].find('}')?;
            Some(format!(
                "{}{object}{}",
                &config[..open],
                &config[close + 1..]
            ))
        }),
        None => config.find('{').map(|open| {
            format!(
                "{}{{\n  {key}: {object},{}",
                &config[..open],
                &config[open + 1..]
            )
        }),
    };
    if let Some(text) = replaced
        && has_weights(&text)?
    {
        return Ok(text);
    }
    let mut value: serde_json::Value = serde_json::from_str(config)
        .map_err(|error| ralph_marketplace::config::ParseError::Document(error.to_string()))?;
    value["scoring_weights"] = serde_json::Value::Object(weights.clone());
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    has_weights(&text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights() -> serde_json::Map<String, serde_json::Value> {
        serde_json::json!({"spec_alignment": 0.5, "technical_quality": 0.125, "innovation": 0.125,
            "risk": 0.125, "efficiency": 0.125})
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn only_the_weights_change_and_the_rest_keeps_its_order() {
        let config = "{\n  \"num_bots\": 3,\n  \"scoring_weights\": {\"spec_alignment\": 0.32, \"technical_quality\": 0.22, \"innovation\": 0.15, \"risk\": 0.21, \"efficiency\": 0.1},\n  \"base_budget_per_bot\": 10\n}\n";
        let written = with_weights(config, &weights()).expect("valid");
        assert!(
            written.starts_with("{\n  \"num_bots\": 3,\n  \"scoring_weights\": {"),
            "{written}"
        );
        assert!(
            written.ends_with("},\n  \"base_budget_per_bot\": 10\n}\n"),
            "{written}"
        );
        assert!(written.contains("\"spec_alignment\": 0.5"), "{written}");
    }

    #[test]
    fn a_config_without_weights_gets_them() {
        let written = with_weights("{\"num_bots\": 3}\n", &weights()).expect("valid");
        let parsed = ralph_marketplace::Config::from_slice(written.as_bytes()).expect("parses");
        assert_eq!(parsed.scoring_weights.spec_alignment, 0.5);
        assert_eq!(parsed.num_bots, 3);
    }
}
