//! The cache is used only when it provably matches the events and config.

use ralph_marketplace::marketplace::{Loaded, Source};
use ralph_marketplace::{Layout, Marketplace};

fn marketplace() -> (tempfile::TempDir, Layout) {
    let directory = tempfile::tempdir().expect("temp dir");
    let layout = Layout::new(directory.path());
    std::fs::create_dir_all(layout.events_dir()).expect("mkdir");
    std::fs::write(layout.config_file(), "{}").expect("config");
    std::fs::write(
        layout.events_dir().join("a.json"),
        r#"{"timestamp": "2026-01-29T10:15:00Z", "issue_number": 1, "bot_id": "bidder_1",
            "outcome": "success", "weight_delta": 0.1}"#,
    )
    .expect("event");
    (directory, layout)
}

fn load(layout: &Layout) -> Loaded {
    Marketplace::open(layout.clone())
        .expect("open")
        .state()
        .expect("state")
}

#[test]
fn a_fresh_cache_is_used_without_listing_the_events() {
    let (_directory, layout) = marketplace();
    assert_eq!(load(&layout).source, Source::Fold);
    // The first stamp may be racy (written within the directory's last
    // tick); listing proves it fresh and re-stamps it.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = load(&layout);
    assert_ne!(second.source, Source::Fold);
    assert_eq!(load(&layout).source, Source::StampedCache);
}

#[test]
fn an_edited_marketplace_json_is_not_trusted() {
    let (_directory, layout) = marketplace();
    let truth = load(&layout).json;
    std::fs::write(layout.state_file(), truth.replace("0.5", "0.9")).expect("edit");
    let loaded = load(&layout);
    assert_eq!(loaded.source, Source::Fold);
    assert_eq!(loaded.json, truth);
}

#[test]
fn a_garbled_or_foreign_state_version_is_not_trusted() {
    let (_directory, layout) = marketplace();
    let truth = load(&layout).json;
    for garbage in [
        "not json",
        r#"{"format": 99, "event_files": 1, "names_digest": "",
        "config_digest": "", "state_digest": ""}"#,
    ] {
        std::fs::write(layout.state_version_file(), garbage).expect("write");
        let loaded = load(&layout);
        assert_eq!(loaded.source, Source::Fold, "{garbage}");
        assert_eq!(loaded.json, truth);
    }
}

#[test]
fn a_changed_config_is_noticed() {
    let (_directory, layout) = marketplace();
    load(&layout);
    std::fs::write(layout.config_file(), r#"{"num_bots": 4}"#).expect("config");
    let loaded = load(&layout);
    assert_eq!(loaded.source, Source::Fold);
    assert_eq!(loaded.state.bots.0.len(), 4);
}

#[test]
fn staleness_reasons_read_well() {
    use ralph_marketplace::cache::Staleness;
    for (staleness, words) in [
        (Staleness::Missing, "no cache"),
        (Staleness::Unreadable("x".into()), "unreadable"),
        (Staleness::ConfigChanged, "config"),
        (Staleness::StateMismatch, "does not match"),
        (Staleness::EventsChanged, "event files"),
    ] {
        assert!(staleness.to_string().contains(words), "{staleness}");
    }
}

/// Opens the marketplace and loads its state until the stamp alone proves
/// the cache fresh, caching the summary too. Its one event gets the name
/// Ralph would have given it.
fn proven(layout: &Layout) -> Marketplace {
    std::fs::rename(
        layout.events_dir().join("a.json"),
        layout
            .events_dir()
            .join("2026-01-29T10:15:00.000000Z-bidder_1-success.json"),
    )
    .expect("rename");
    let marketplace = Marketplace::open(layout.clone()).expect("open");
    for _ in 0..50 {
        if marketplace.state().expect("state").source == Source::StampedCache {
            marketplace.summary().expect("summary");
            return marketplace;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("the cache was never proven fresh");
}

fn event(second: u32, bot: &str, outcome: &str, delta: f64, cost: f64) -> Vec<u8> {
    format!(
        r#"{{"timestamp": "2026-02-01T00:00:{second:02}Z", "issue_number": 1, "bot_id": "{bot}",
            "outcome": "{outcome}", "weight_delta": {delta},
            "usage": {{"calls": 1, "input_tokens": 10, "output_tokens": 4, "cost_usd": {cost}}}}}"#
    )
    .into_bytes()
}

/// What `status` shows when it computes everything from the events.
fn from_scratch(layout: &Layout) -> (String, ralph_marketplace::summary::Summary) {
    let marketplace = Marketplace::open(layout.clone()).expect("open");
    let state = marketplace.fold_from_disk().expect("fold").to_json();
    std::fs::remove_file(layout.summary_file()).expect("remove summary.json");
    let summary = marketplace.summary().expect("summary");
    (state, summary)
}

#[test]
fn an_append_keeps_a_proven_cache_proven_and_equal_to_a_fold() {
    let (_directory, layout) = marketplace();
    let marketplace = proven(&layout);
    let appends = [
        (1, "bidder_2", "failure", -0.15, 0.1),
        (2, "bidder_3", "ranked", 0.0, 0.2),
        (3, "bidder_1", "success", 0.2, 0.3),
        (4, "bidder_2", "success", 0.15, 0.000_123),
    ];
    for (second, bot, outcome, delta, cost) in appends {
        let bytes = event(second, bot, outcome, delta, cost);
        marketplace.record("the test", &bytes).expect("recorded");
        let loaded = marketplace.state().expect("state");
        assert_eq!(loaded.source, Source::StampedCache, "after event {second}");
        let summary = marketplace.summary().expect("summary");
        let (state, computed) = from_scratch(&layout);
        assert_eq!(loaded.json, state, "after event {second}");
        assert_eq!(summary, computed, "after event {second}");
    }
}

#[test]
fn an_append_that_does_not_sort_last_leaves_the_cache_to_be_rebuilt() {
    let (_directory, layout) = marketplace();
    let marketplace = proven(&layout);
    // Earlier than the event already in the log (2026-01-29).
    let early = br#"{"timestamp": "2026-01-01T00:00:00Z", "issue_number": 1,
        "bot_id": "bidder_3", "outcome": "failure", "weight_delta": -0.15}"#;
    marketplace.record("the test", early).expect("recorded");
    let loaded = marketplace.state().expect("state");
    assert_eq!(loaded.source, Source::Fold);
    assert_eq!(loaded.json, from_scratch(&layout).0);
}

#[test]
fn an_event_file_added_by_another_program_before_an_append_is_not_missed() {
    let (_directory, layout) = marketplace();
    let marketplace = proven(&layout);
    // Another program (a merge, a copy) adds an event after the cache was
    // proven; Ralph's append must not extend the cache over it.
    std::fs::write(
        layout.events_dir().join("merged.json"),
        event(30, "bidder_3", "failure", -0.2, 0.0),
    )
    .expect("foreign event");
    marketplace
        .record("the test", &event(40, "bidder_1", "success", 0.1, 0.0))
        .expect("recorded");
    let loaded = marketplace.state().expect("state");
    assert_ne!(loaded.source, Source::StampedCache);
    let (state, summary) = from_scratch(&layout);
    assert_eq!(loaded.json, state);
    assert!(
        state.contains("\"event_count\": 3") || state.contains("\"event_count\":3"),
        "{state}"
    );
    assert_eq!(marketplace.summary().expect("summary"), summary);
}

#[test]
fn recording_an_event_twice_changes_neither_the_log_nor_the_cache() {
    let (_directory, layout) = marketplace();
    let marketplace = proven(&layout);
    let bytes = event(5, "bidder_2", "success", 0.15, 0.5);
    marketplace.record("the test", &bytes).expect("recorded");
    let once = marketplace.state().expect("state");
    let again = marketplace.record("the test", &bytes).expect("recorded");
    assert!(again.already_recorded);
    let twice = marketplace.state().expect("state");
    assert_eq!(twice.source, Source::StampedCache);
    assert_eq!(twice.json, once.json);
    assert_eq!(twice.json, from_scratch(&layout).0);
}
