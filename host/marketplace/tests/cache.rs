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
