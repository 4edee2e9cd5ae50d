//! How long `ralph marketplace report` takes on a large log: gathering
//! (the state, the usage, the analysis and the history, each as the report
//! reads it) and rendering the page, timed apart.
//!
//! Run with `cargo bench -p ralph-marketplace --bench report` (release
//! build). `RALPH_BENCH_EVENTS` sets the log size (default 100,000) and
//! `RALPH_BENCH_RUNS` the runs per measurement (default 5; medians are
//! shown).

use std::time::{Duration, Instant};

use ralph_marketplace::report::{self, html};
use ralph_marketplace::{Layout, Marketplace};

fn main() {
    let events = setting("RALPH_BENCH_EVENTS", 100_000);
    let runs = setting("RALPH_BENCH_RUNS", 5);
    let directory = tempfile::tempdir().expect("temp dir");
    let layout = Layout::new(directory.path());
    println!(
        "Writing {events} event files to {}",
        directory.path().display()
    );
    write_log(&layout, events);
    let marketplace = Marketplace::open(layout.clone()).expect("config");
    // The first gather folds the log and writes the state's cache, as the
    // first `status` after a pull does; the runs below find it fresh.
    let gathered = report::gather(&marketplace, String::new()).expect("gather");
    assert_eq!(gathered.state.event_count, events as u64);
    assert!(gathered.analysis.is_ok());
    let gather = median(runs, || {
        report::gather(&marketplace, String::new()).expect("gather")
    });
    let render = median(runs, || html::render(&gathered));
    let page = html::render(&gathered);
    let whole = median(runs, || {
        let report = report::gather(&marketplace, String::new()).expect("gather");
        let page = html::render(&report);
        std::fs::write(layout.report_file(), &page).expect("write");
        page.len()
    });
    println!("{events} events, a page of {} KB:", page.len() / 1024);
    println!(
        "  gather (state, usage, analysis, history) {:>9.1} ms",
        millis(gather)
    );
    println!(
        "  render the page and its two charts       {:>9.1} ms",
        millis(render)
    );
    println!(
        "  gather + render + write                  {:>9.1} ms",
        millis(whole)
    );
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Writes a default config and `count` events in rounds of three, as the
/// loop writes them: every proposal ranked with its dimensions and usage,
/// the winner implemented, the others not tried.
fn write_log(layout: &Layout, count: usize) {
    std::fs::create_dir_all(layout.events_dir()).expect("mkdir");
    std::fs::write(layout.config_file(), "{}\n").expect("config");
    for index in 0..count {
        let issue = index / 3 + 1;
        let rank = index % 3 + 1;
        let bot = format!("bidder_{}", (issue + rank) % 3 + 1);
        let success = issue % 3 != 0;
        let outcome = match (rank, success) {
            (1, true) => "success",
            (1, false) => "failure",
            _ => "not_tried",
        };
        let delta = match outcome {
            "success" => 0.1,
            "failure" => -0.15,
            _ => -0.02,
        };
        let score =
            if success { 0.7 } else { 0.4 } - 0.05 * rank as f64 + (issue % 5) as f64 * 0.02;
        let seconds = index;
        let time = format!(
            "2026-01-{:02}T{:02}:{:02}:{:02}",
            1 + seconds / 86_400 % 28,
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60
        );
        let json = format!(
            r#"{{"timestamp": "{time}.000000Z", "issue_number": {issue}, "bot_id": "{bot}",
"outcome": "{outcome}", "weight_delta": {delta}, "case": ["x"], "round": 1, "round_kind": "initial",
"iteration_count": 1, "rank": {rank}, "proposal_id": "{label}", "proposal_score": {score},
"proposal_dimensions": {{"spec_alignment": {score}, "technical_quality": 0.5, "innovation": 0.4,
"risk": 0.6, "efficiency": 0.5}}, "tie_break": false,
"usage": {{"calls": 2, "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.0081}}}}
"#,
            label = ["A", "B", "C"][rank - 1],
        );
        let name = format!(
            "{}-{:02}-{:02}-000000Z-{bot}-{outcome}.json",
            &time[..13],
            seconds / 60 % 60,
            seconds % 60
        );
        std::fs::write(layout.events_dir().join(name), json).expect("event");
    }
}

/// Runs `work` `runs` times after one warm-up run; returns the median.
fn median<T>(runs: usize, mut work: impl FnMut() -> T) -> Duration {
    std::hint::black_box(work());
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
