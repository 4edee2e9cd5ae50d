//! `ralph marketplace analyze` (SPEC §12) on a generated log with a known
//! truth: spec alignment predicts success, innovation is noise.

mod common;

use common::{Repository, text};
use serde_json::{Value, json};

/// Writes `count` implementation events, half of them successes, whose
/// spec alignment tells success from failure and whose innovation does not.
fn write_log(repository: &Repository, count: usize) {
    for index in 0..count {
        let success = index.is_multiple_of(2);
        let signal = if success { 0.7 } else { 0.3 } + (index % 3) as f64 * 0.05;
        let noise = ((index * 37) % 11) as f64 / 10.0;
        let outcome = if success { "success" } else { "failure" };
        let timestamp = format!("2026-11-01T10:{:02}:{:02}.000000Z", index / 60, index % 60);
        let event = json!({
            "timestamp": timestamp, "issue_number": index + 1, "bot_id": "bidder_1",
            "outcome": outcome, "weight_delta": 0.0, "proposal_score": signal,
            "round": 1, "rank": 1, "proposal_id": "A", "tie_break": false,
            "proposal_dimensions": {"spec_alignment": signal, "technical_quality": 0.5,
                "innovation": noise, "risk": 0.5, "efficiency": 0.5}
        });
        let name = format!(
            "{}-bidder_1-{outcome}.json",
            timestamp.replace([':', '.'], "-")
        );
        repository.write_event(&name, &event.to_string());
    }
}

#[test]
fn the_predictive_dimension_gets_the_higher_auc_and_weight_from_the_log_alone() {
    let repository = Repository::set_up();
    write_log(&repository, 40);
    let verified = repository.ralph(&["marketplace", "verify"]);
    assert!(
        verified.status.success(),
        "the generated log is valid: {}",
        text(&verified.stdout)
    );
    let output = repository.ralph(&["marketplace", "analyze", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let analysis: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(analysis["implementations"], 40);
    assert_eq!(analysis["dimensions"]["spec_alignment"]["auc"], 1.0);
    let noise = analysis["dimensions"]["innovation"]["auc"]
        .as_f64()
        .expect("auc");
    assert!(noise < 0.7, "{noise}");
    let weights = &analysis["recommended_weights"];
    assert!(
        weights["spec_alignment"].as_f64() > weights["innovation"].as_f64(),
        "{weights}"
    );
    assert_eq!(
        analysis["total"]["calibration"].as_array().map(Vec::len),
        Some(10)
    );
    for field in ["brier", "auc"] {
        assert!(analysis["total"][field].is_number(), "{field}: {analysis}");
    }
    for field in [
        "tie_break_rate",
        "first_submitter_win_rate",
        "override_rate",
    ] {
        assert!(analysis[field].is_number(), "{field}: {analysis}");
    }
    // The same, kept in .ralph/meta_analysis.json.
    let kept: Value = serde_json::from_str(
        &std::fs::read_to_string(repository.path().join(".ralph/meta_analysis.json"))
            .expect("meta_analysis.json"),
    )
    .expect("JSON");
    assert_eq!(kept, analysis);
    let human = repository.ralph(&["marketplace", "analyze"]);
    assert!(human.status.success());
    assert!(
        text(&human.stdout)
            .lines()
            .all(|line| line.chars().count() <= 80)
    );
}

#[test]
fn under_twenty_implementations_analyze_says_how_many_more() {
    let repository = Repository::set_up();
    write_log(&repository, 12);
    let output = repository.ralph(&["marketplace", "analyze"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("12 implementation(s)") && stderr.contains("8 more"),
        "{stderr}"
    );
    assert!(!repository.path().join(".ralph/meta_analysis.json").exists());
}

#[test]
fn tune_applies_the_recommended_weights_only_when_confirmed() {
    let repository = Repository::set_up();
    let config_path = repository.path().join(".ralph/config.json");
    let before_analysis = repository.ralph(&["marketplace", "tune", "--yes"]);
    assert_eq!(before_analysis.status.code(), Some(2));
    assert!(text(&before_analysis.stderr).contains("run `ralph marketplace analyze` first"));
    write_log(&repository, 40);
    assert!(
        repository
            .ralph(&["marketplace", "analyze"])
            .status
            .success()
    );
    let original = std::fs::read_to_string(&config_path).expect("config");
    // No terminal and no --yes: nothing changes.
    let refused = repository.ralph(&["marketplace", "tune"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("pass --yes"));
    assert_eq!(
        std::fs::read_to_string(&config_path).expect("config"),
        original
    );
    let applied = repository.ralph(&["marketplace", "tune", "--yes", "--json"]);
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let analysis: Value = serde_json::from_str(
        &std::fs::read_to_string(repository.path().join(".ralph/meta_analysis.json"))
            .expect("analysis"),
    )
    .expect("JSON");
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).expect("config"))
            .expect("JSON");
    assert_eq!(config["scoring_weights"], analysis["recommended_weights"]);
    assert!(
        repository
            .ralph(&["marketplace", "status"])
            .status
            .success()
    );
}
