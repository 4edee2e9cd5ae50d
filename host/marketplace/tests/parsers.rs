//! The parsers of what a user, a merge or a hostile hand puts in `.ralph/`
//! (events and the config), over arbitrary bytes: they never panic, and
//! every rejection names the file. And the fold of a directory ignores every
//! entry that is not a regular file.

use std::path::Path;

use proptest::prelude::*;
use ralph_marketplace::{Config, Event, Layout, Marketplace, State};

const VALID_EVENT: &str = r#"{"timestamp": "2026-01-29T10:15:00.123456Z", "issue_number": 7,
 "bot_id": "bidder_1", "outcome": "success", "weight_delta": 0.1, "proposal_score": 0.5,
 "metrics": {"lines_changed": 3, "coverage_delta": 1.5},
 "usage": {"calls": 1, "input_tokens": 10, "output_tokens": 2}}"#;

const VALID_CONFIG: &str = r#"{"num_bots": 2, "base_budget_per_bot": 4, "min_allocation_per_bot": 1,
 "scoring_weights": {"spec_alignment": 0.32, "technical_quality": 0.22, "innovation": 0.15,
                     "risk": 0.21, "efficiency": 0.10},
 "weight_constraints": {"min": 0.05, "max": 0.60}}"#;

/// Bytes near `valid`: some of its bytes replaced, removed or inserted, so
/// the parser is driven past the first character.
fn mutated(valid: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0usize..400, any::<u8>(), 0u8..3), 1..6).prop_map(move |edits| {
        let mut bytes = valid.as_bytes().to_vec();
        for (position, byte, kind) in edits {
            let at = position % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        bytes
    })
}

/// Arbitrary bytes, bytes near a valid document, and JSON objects whose
/// fields are arbitrary JSON values.
fn documents(valid: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|value| value.to_string()),
        any::<i64>().prop_map(|value| value.to_string()),
        any::<f64>().prop_map(|value| value.to_string()),
        ".{0,12}".prop_map(|text| serde_json::to_string(&text).expect("a string")),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
    ];
    let keys = prop::sample::select(vec![
        "timestamp",
        "issue_number",
        "bot_id",
        "outcome",
        "weight_delta",
        "metrics",
        "usage",
        "num_bots",
        "scoring_weights",
        "weight_constraints",
        "base_budget_per_bot",
        "bidders",
        "checks",
    ]);
    let objects = prop::collection::btree_map(keys, value, 0..8).prop_map(|fields| {
        let body: Vec<String> = fields
            .iter()
            .map(|(key, value)| format!("{key:?}: {value}"))
            .collect();
        format!("{{{}}}", body.join(", ")).into_bytes()
    });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        mutated(valid),
        objects,
    ]
}

fn marketplace(directory: &Path) -> Marketplace {
    let layout = Layout::new(directory);
    std::fs::create_dir_all(layout.events_dir()).expect("mkdir");
    std::fs::write(layout.config_file(), "{}").expect("config");
    Marketplace::open(layout).expect("open")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_event_parser_never_panics_on_arbitrary_bytes(bytes in documents(VALID_EVENT)) {
        let _ = Event::parse(&bytes);
        let _ = ralph_marketplace::usage::parse(&bytes);
    }

    #[test]
    fn every_event_file_left_out_is_named_with_a_reason(bytes in documents(VALID_EVENT)) {
        let directory = tempfile::tempdir().expect("temp dir");
        let marketplace = marketplace(directory.path());
        let name = "2026-01-29T10-15-00-123456Z-bidder_1-success.json";
        std::fs::write(marketplace.layout().events_dir().join(name), &bytes).expect("write");
        let state = marketplace.fold_from_disk().expect("fold");
        prop_assert_eq!(state.event_count + state.excluded_events.len() as u64, 1);
        for excluded in &state.excluded_events {
            prop_assert_eq!(&excluded.file, name);
            prop_assert!(!excluded.reason.is_empty());
        }
    }

    #[test]
    fn record_names_its_source_in_every_rejection(bytes in documents(VALID_EVENT)) {
        let directory = tempfile::tempdir().expect("temp dir");
        let marketplace = marketplace(directory.path());
        if let Err(error) = marketplace.record("input-event.json", &bytes) {
            prop_assert!(error.to_string().contains("input-event.json"), "{}", error);
        }
    }

    #[test]
    fn the_config_parser_never_panics_and_names_the_file(bytes in documents(VALID_CONFIG)) {
        let _ = Config::from_slice(&bytes);
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("config.json");
        std::fs::write(&path, &bytes).expect("write");
        if let Err(error) = Config::load(&path) {
            prop_assert!(
                error.to_string().contains(&path.display().to_string()),
                "{}",
                error
            );
        }
    }
}

/// An entry that is not a regular file, put into `events/` beside the log.
#[derive(Clone, Debug)]
enum Intruder {
    /// A symlink to a valid event file outside the repository.
    SymlinkToEvent,
    SymlinkToDevZero,
    Directory,
    Fifo,
}

fn intruders() -> impl Strategy<Value = Vec<(Intruder, u16)>> {
    prop::collection::vec(
        (
            prop_oneof![
                Just(Intruder::SymlinkToEvent),
                Just(Intruder::SymlinkToDevZero),
                Just(Intruder::Directory),
                Just(Intruder::Fifo),
            ],
            any::<u16>(),
        ),
        1..6,
    )
}

/// Writes one valid event per delta, for the default three bidders.
fn write_log(events_dir: &Path, deltas: &[(u8, i8)]) {
    for (index, (bot, delta)) in deltas.iter().enumerate() {
        let bot = format!("bidder_{}", bot % 3 + 1);
        let outcome = if *delta >= 0 { "success" } else { "failure" };
        let json = format!(
            r#"{{"timestamp": "2026-01-29T10:15:{:02}Z", "issue_number": 1, "bot_id": "{bot}", "outcome": "{outcome}", "weight_delta": {}}}"#,
            index % 60,
            f64::from(*delta) / 128.0
        );
        let event = Event::parse(json.as_bytes()).expect("valid");
        std::fs::write(events_dir.join(event.file_name()), json).expect("write");
    }
}

/// The state without its list of excluded files.
fn folded(state: &State) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(&state.to_json()).expect("json");
    value["excluded_events"] = serde_json::Value::Null;
    value
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn the_fold_ignores_every_entry_that_is_not_a_regular_file(
        deltas in prop::collection::vec((any::<u8>(), any::<i8>()), 0..12),
        intruders in intruders(),
    ) {
        let clean = tempfile::tempdir().expect("temp dir");
        let dirty = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        let clean_marketplace = marketplace(clean.path());
        let dirty_marketplace = marketplace(dirty.path());
        write_log(&clean_marketplace.layout().events_dir(), &deltas);
        write_log(&dirty_marketplace.layout().events_dir(), &deltas);
        let events_dir = dirty_marketplace.layout().events_dir();
        let mut names = std::collections::BTreeSet::new();
        for (intruder, seed) in &intruders {
            let name = format!("2026-01-29T10-16-00-{seed:06}Z-bidder_1-success.json");
            if !names.insert(name.clone()) {
                continue;
            }
            let path = events_dir.join(&name);
            match intruder {
                Intruder::SymlinkToEvent => {
                    let target = outside.path().join(&name);
                    std::fs::write(
                        &target,
                        r#"{"timestamp": "2026-01-29T10:16:00Z", "issue_number": 1, "bot_id": "bidder_1", "outcome": "success", "weight_delta": 1.0}"#,
                    ).expect("write");
                    std::os::unix::fs::symlink(&target, &path).expect("symlink");
                }
                Intruder::SymlinkToDevZero => {
                    std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
                }
                Intruder::Directory => std::fs::create_dir(&path).expect("mkdir"),
                Intruder::Fifo => {
                    let status = std::process::Command::new("mkfifo")
                        .arg(&path)
                        .status()
                        .expect("mkfifo");
                    prop_assert!(status.success());
                }
            }
        }
        let clean_state = clean_marketplace.fold_from_disk().expect("fold");
        let dirty_state = dirty_marketplace.fold_from_disk().expect("fold");
        prop_assert_eq!(folded(&clean_state), folded(&dirty_state));
        let excluded: std::collections::BTreeSet<String> = dirty_state
            .excluded_events
            .iter()
            .map(|excluded| excluded.file.clone())
            .collect();
        prop_assert_eq!(excluded, names);
    }
}
