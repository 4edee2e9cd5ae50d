//! Ralph's fold agrees with an independent Python implementation of SPEC §2
//! (`benches/reference_fold.py`) on generated logs, valid and invalid files
//! mixed.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use ralph_marketplace::{Layout, Marketplace};
use serde_json::Value;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference_fold.py");

/// One generated event file: a valid event or one of the ways to break one.
#[derive(Clone, Debug)]
struct Generated {
    bot: u8,
    outcome: &'static str,
    delta: f64,
    second: u32,
    micros: Option<u32>,
    flaw: u8,
}

const OUTCOMES: [&str; 9] = [
    "success",
    "failure",
    "not_tried",
    "resubmitted",
    "error",
    "revert",
    "defect",
    "churn",
    "override",
];

fn generated() -> impl Strategy<Value = Generated> {
    (
        0u8..5,
        prop::sample::select(OUTCOMES.to_vec()),
        prop_oneof![-1.0f64..=1.0, Just(0.1), Just(-0.15), Just(1.0), Just(-1.0)],
        0u32..40,
        prop::option::of(0u32..1_000_000),
        prop_oneof![8 => Just(0u8), 1 => 1u8..=9],
    )
        .prop_map(|(bot, outcome, delta, second, micros, flaw)| Generated {
            bot,
            outcome,
            delta,
            second,
            micros,
            flaw,
        })
}

impl Generated {
    fn json(&self) -> String {
        let fraction = self.micros.map(|m| format!(".{m:06}")).unwrap_or_default();
        let mut timestamp = format!("2026-01-29T10:15:{:02}{fraction}Z", self.second);
        let mut bot = format!("bidder_{}", self.bot + 1);
        let mut outcome = format!("\"{}\"", self.outcome);
        let mut delta = format!("{:?}", self.delta);
        let mut extra = String::from(r#", "proposal_score": 0.8, "metrics": {"lines_changed": 4}"#);
        match self.flaw {
            1 => return "{\"timestamp\": ".to_owned(),
            2 => timestamp = "2026-01-29T10:15:00+02:00".to_owned(),
            3 => delta = "1.5".to_owned(),
            4 => delta = "1e999".to_owned(),
            5 => outcome = "\"victory\"".to_owned(),
            6 => bot = "Bidder_1".to_owned(),
            7 => extra = r#", "proposal_score": 1.2"#.to_owned(),
            8 => extra = r#", "metrics": {"lines_changed": -4}"#.to_owned(),
            9 => {
                return format!(
                    r#"{{"timestamp": "{timestamp}", "bot_id": "{bot}", "outcome": {outcome}, "weight_delta": {delta}}}"#
                );
            }
            _ => {}
        }
        format!(
            r#"{{"timestamp": "{timestamp}", "issue_number": 3, "bot_id": "{bot}", "outcome": {outcome}, "weight_delta": {delta}{extra}}}"#
        )
    }
}

fn run_reference(repository: &Path) -> Value {
    let output = Command::new("python3")
        .arg(REFERENCE)
        .arg(repository)
        .output()
        .expect("python3 runs (the differential test needs it)");
    assert!(
        output.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("reference prints JSON")
}

fn assert_same_state(ours: &Value, reference: &Value) {
    for key in [
        "total_budget_pool",
        "rounds_completed",
        "event_count",
        "last_updated",
    ] {
        assert_eq!(ours[key], reference[key], "{key}");
    }
    let files = |state: &Value| -> Vec<Value> {
        state["excluded_events"]
            .as_array()
            .expect("array")
            .iter()
            .map(|excluded| excluded["file"].clone())
            .collect()
    };
    assert_eq!(files(ours), files(reference), "excluded files");
    let our_bots = ours["bots"].as_object().expect("bots");
    let reference_bots = reference["bots"].as_object().expect("bots");
    assert_eq!(
        our_bots.keys().collect::<Vec<_>>(),
        reference_bots.keys().collect::<Vec<_>>()
    );
    for (id, bot) in our_bots {
        let expected = &reference_bots[id];
        for key in ["successes", "failures", "allocation"] {
            assert_eq!(bot[key], expected[key], "{id}.{key}");
        }
        for key in ["weight", "efficiency"] {
            let (a, b) = (
                bot[key].as_f64().expect("number"),
                expected[key].as_f64().expect("number"),
            );
            assert!((a - b).abs() <= 1e-12, "{id}.{key}: {a} vs {b}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_fold_matches_the_reference_implementation(
        events in prop::collection::vec(generated(), 0..40),
        bots in 1u64..=5,
        min_share in 0.0f64..=1.0,
        minimum in 0u64..=2,
    ) {
        let directory = tempfile::tempdir().expect("temp dir");
        let layout = Layout::new(directory.path());
        std::fs::create_dir_all(layout.events_dir()).expect("mkdir");
        let min = min_share / bots as f64;
        let config = format!(
            r#"{{"num_bots": {bots}, "min_allocation_per_bot": {minimum},
                "weight_constraints": {{"min": {min}, "max": 0.6}}}}"#
        );
        let max_ok = 0.6 * bots as f64 >= 1.0;
        let config = if max_ok { config } else { format!(r#"{{"num_bots": {bots}, "min_allocation_per_bot": {minimum}, "weight_constraints": {{"min": {min}, "max": 1.0}}}}"#) };
        std::fs::write(layout.config_file(), config).expect("config");
        for (index, event) in events.iter().enumerate() {
            let name = format!("{index:03}-{}.json", event.outcome);
            std::fs::write(layout.events_dir().join(name), event.json()).expect("event");
        }
        let marketplace = Marketplace::open(layout).expect("valid config");
        let ours: Value = serde_json::from_str(&marketplace.state().expect("state").json)
            .expect("json");
        assert_same_state(&ours, &run_reference(directory.path()));
    }
}
