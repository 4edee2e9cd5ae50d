//! `status`'s summary (usage totals, newest events) is cached and always
//! equals what the events say.

use proptest::prelude::*;
use ralph_marketplace::summary::Summary;
use ralph_marketplace::{Layout, Marketplace};

fn event(second: u32, bot: u8, calls: u64) -> String {
    format!(
        r#"{{"timestamp": "2026-01-29T10:15:{second:02}Z", "issue_number": 1, "bot_id": "bidder_{bot}",
            "outcome": "ranked", "weight_delta": 0.0,
            "usage": {{"calls": {calls}, "input_tokens": 10, "output_tokens": 5}}}}"#
    )
}

fn name(second: u32, bot: u8) -> String {
    format!("2026-01-29T10-15-{second:02}-000000Z-bidder_{bot}-ranked.json")
}

fn repository() -> (tempfile::TempDir, Layout) {
    let directory = tempfile::tempdir().expect("temp dir");
    let layout = Layout::new(directory.path());
    std::fs::create_dir_all(layout.events_dir()).expect("mkdir");
    std::fs::write(layout.config_file(), "{}").expect("config");
    (directory, layout)
}

fn write(layout: &Layout, second: u32, bot: u8, calls: u64) {
    std::fs::write(
        layout.events_dir().join(name(second, bot)),
        event(second, bot, calls),
    )
    .expect("event");
}

/// The state first, as `status` does, then the summary.
fn summary(layout: &Layout) -> Summary {
    let marketplace = Marketplace::open(layout.clone()).expect("open");
    marketplace.state().expect("state");
    marketplace.summary().expect("summary")
}

/// What the events say, from every file, with no cache.
fn truth(layout: &Layout) -> (u64, Vec<String>) {
    let marketplace = Marketplace::open(layout.clone()).expect("open");
    let calls = marketplace.usage(None).expect("usage").total.calls;
    let mut names: Vec<String> = std::fs::read_dir(layout.events_dir())
        .expect("events")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    (calls, names)
}

fn seen(summary: &Summary) -> (u64, Vec<String>) {
    let names = summary
        .recent
        .iter()
        .map(|event| {
            format!(
                "{}-{}-{}.json",
                event.timestamp.replace(':', "-").replace('Z', "-000000Z"),
                event.bot_id,
                event.outcome
            )
        })
        .collect();
    (summary.usage.total.calls, names)
}

#[test]
fn the_summary_is_cached_and_used_while_the_events_are_unchanged() {
    let (_directory, layout) = repository();
    write(&layout, 1, 1, 2);
    write(&layout, 2, 2, 3);
    let first = summary(&layout);
    assert_eq!(first.usage.total.calls, 5);
    assert!(layout.summary_file().is_file(), "the summary is cached");
    // A cached summary is what is read back: planting other totals in it
    // shows that the cache, not the log, answered.
    let text = std::fs::read_to_string(layout.summary_file()).expect("summary");
    std::fs::write(
        layout.summary_file(),
        text.replace(r#""calls":5"#, r#""calls":7"#),
    )
    .expect("plant");
    assert_eq!(summary(&layout).usage.total.calls, 7);
}

#[test]
fn a_merge_that_swaps_an_event_is_noticed() {
    let (_directory, layout) = repository();
    write(&layout, 1, 1, 2);
    write(&layout, 2, 2, 3);
    assert_eq!(summary(&layout).usage.total.calls, 5);
    std::fs::remove_file(layout.events_dir().join(name(2, 2))).expect("remove");
    write(&layout, 3, 3, 11);
    let after = summary(&layout);
    assert_eq!(after.usage.total.calls, 13);
    assert_eq!(after.recent.len(), 2);
    assert_eq!(after.recent[1].bot_id, "bidder_3");
}

#[test]
fn a_changed_config_or_a_garbled_cache_is_not_trusted() {
    let (_directory, layout) = repository();
    write(&layout, 1, 3, 2);
    assert_eq!(summary(&layout).usage.bidders.len(), 3);
    std::fs::write(layout.config_file(), r#"{"num_bots": 4}"#).expect("config");
    assert_eq!(summary(&layout).usage.bidders.len(), 4);
    std::fs::write(layout.summary_file(), "{garbage").expect("garble");
    assert_eq!(summary(&layout).usage.total.calls, 2);
    std::fs::remove_file(layout.summary_file()).expect("delete");
    assert_eq!(summary(&layout).usage.total.calls, 2);
}

#[test]
fn only_the_newest_events_are_kept_oldest_first() {
    let (_directory, layout) = repository();
    for second in 0..30 {
        write(&layout, second, 1, 1);
    }
    let summary = summary(&layout);
    assert_eq!(summary.recent.len(), ralph_marketplace::summary::RECENT);
    assert_eq!(summary.recent[0].timestamp, "2026-01-29T10:15:10Z");
    assert_eq!(summary.recent[19].timestamp, "2026-01-29T10:15:29Z");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever is added or removed between two `status` calls, the summary
    /// equals a fresh count of the log.
    #[test]
    fn the_summary_always_equals_the_log(
        steps in proptest::collection::vec((any::<bool>(), 0u32..40, 1u8..4, 0u64..50), 1..12)
    ) {
        let (_directory, layout) = repository();
        for (add, second, bot, calls) in steps {
            // Events are never modified: an event is added or removed whole.
            let path = layout.events_dir().join(name(second, bot));
            if !add {
                let _ = std::fs::remove_file(&path);
            } else if !path.exists() {
                write(&layout, second, bot, calls);
            }
            let (calls, names) = truth(&layout);
            let (seen_calls, seen_names) = seen(&summary(&layout));
            prop_assert_eq!(seen_calls, calls);
            let newest = names[names.len().saturating_sub(ralph_marketplace::summary::RECENT)..].to_vec();
            prop_assert_eq!(seen_names, newest);
        }
    }
}
