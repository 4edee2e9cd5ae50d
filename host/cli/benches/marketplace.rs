//! The marketplace's performance on a large log, measured in one run:
//!
//! - the floor: listing and reading every event file (one thread, and the
//!   threads the fold uses), without parsing;
//! - folding every event from disk, no cache;
//! - `ralph marketplace status --json` with a fresh cache (the real binary);
//! - human `ralph marketplace status` (the table, recent rounds and model
//!   usage) with fresh caches (the real binary);
//! - human `ralph marketplace status` right after one event was appended:
//!   what the loop's closing summary costs;
//! - a straightforward Python fold of the same files.
//!
//! Run with `cargo bench -p ralph --bench marketplace` (release build).
//! `RALPH_BENCH_EVENTS` sets the log size (default 100,000) and
//! `RALPH_BENCH_RUNS` the runs per measurement (default 5; medians are shown).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ralph_marketplace::store::EventStore;
use ralph_marketplace::{Layout, Marketplace};

const OUTCOMES: [&str; 4] = ["success", "failure", "not_tried", "resubmitted"];

fn main() {
    let events: usize = setting("RALPH_BENCH_EVENTS", 100_000);
    let runs: usize = setting("RALPH_BENCH_RUNS", 5);
    let directory = tempfile::tempdir().expect("temp dir");
    // `--repo` must be a repository's root.
    std::fs::create_dir(directory.path().join(".git")).expect("mkdir .git");
    let layout = Layout::new(directory.path());
    println!(
        "Writing {events} event files to {}",
        directory.path().display()
    );
    write_log(&layout, events);
    let marketplace = Marketplace::open(layout.clone()).expect("config");
    let store = EventStore::new(&layout);

    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    let read_on = |threads: usize| {
        let names = store.list().expect("list").files;
        store
            .map_files_on(threads, &names, |_, bytes| {
                bytes.map(<[u8]>::len).unwrap_or(0)
            })
            .iter()
            .sum::<usize>()
    };
    let read_one_thread = median(runs, || read_on(1));
    let read_parallel = median(runs, || read_on(threads));
    let fold = median(runs, || {
        marketplace.fold_from_disk().expect("fold").event_count as usize
    });
    let files = store.read(&store.list().expect("list").files);
    let fold_in_memory = median(runs, || {
        ralph_marketplace::fold(marketplace.config(), files.clone()).event_count as usize
    });
    // Build the cache once, then time the real command against it.
    marketplace.state().expect("state");
    let status = median(runs.max(10), || {
        let output = Command::new(env!("CARGO_BIN_EXE_ralph"))
            .args(["--repo"])
            .arg(directory.path())
            .args(["marketplace", "status", "--json"])
            .output()
            .expect("ralph runs");
        assert!(output.status.success());
        output.stdout.len()
    });
    // The human status reads the usage totals and recent rounds from the
    // summary cache: build it once, then time the real command.
    marketplace.summary().expect("summary");
    let human_status = median(runs.max(10), || {
        let output = Command::new(env!("CARGO_BIN_EXE_ralph"))
            .args(["--repo"])
            .arg(directory.path())
            .args(["marketplace", "status"])
            .output()
            .expect("ralph runs");
        assert!(output.status.success());
        assert!(String::from_utf8_lossy(&output.stdout).contains("Model usage"));
        output.stdout.len()
    });
    // The loop's closing summary: the human status right after the loop
    // appended its events, when neither cache is current any more.
    let mut appended = 0u32;
    let after_append = median(runs, || {
        appended += 1;
        let event = format!(
            r#"{{"timestamp": "2099-01-01T00:00:{:02}.000000Z", "issue_number": 1, "bot_id": "bidder_1", "outcome": "not_tried", "weight_delta": -0.02}}"#,
            appended % 60
        );
        marketplace
            .record("the benchmark", event.as_bytes())
            .expect("recorded");
        let output = Command::new(env!("CARGO_BIN_EXE_ralph"))
            .args(["--repo"])
            .arg(directory.path())
            .args(["marketplace", "status"])
            .output()
            .expect("ralph runs");
        assert!(output.status.success());
        output.stdout.len()
    });
    let python = python_fold(directory.path(), runs.min(3));

    println!();
    println!("{events} events, {runs} runs each, medians:");
    println!(
        "  list + read, 1 thread            {:>9.1} ms",
        millis(read_one_thread)
    );
    println!(
        "  list + read, {threads} threads           {:>9.1} ms",
        millis(read_parallel)
    );
    println!(
        "  fold from disk (no cache)        {:>9.1} ms",
        millis(fold)
    );
    println!(
        "    of which sort + apply + budget {:>9.1} ms",
        millis(fold_in_memory)
    );
    println!(
        "  status --json, fresh cache       {:>9.1} ms",
        millis(status)
    );
    println!(
        "  status (human), fresh caches     {:>9.1} ms",
        millis(human_status)
    );
    println!(
        "  status (human) after an append   {:>9.1} ms  (the loop's closing summary)",
        millis(after_append)
    );
    match python {
        Some(python) => println!(
            "  Python reference fold            {:>9.1} ms",
            millis(python)
        ),
        None => println!("  Python reference fold            (python3 not found)"),
    }
    println!();
    let fold_ratio = fold.as_secs_f64() / read_parallel.as_secs_f64();
    println!("fold / read floor: {fold_ratio:.2}x (target <= 1.5x)");
    println!("fold: {:.0} ms (target <= 500 ms)", millis(fold));
    println!(
        "status with a fresh cache: {:.1} ms (target <= 20 ms)",
        millis(status)
    );
    println!(
        "human status with fresh caches: {:.1} ms (target <= 20 ms)",
        millis(human_status)
    );
    if let Some(python) = python {
        println!(
            "Python fold / Ralph fold: {:.1}x (target >= 5x)",
            python.as_secs_f64() / fold.as_secs_f64()
        );
    }
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Writes a config and `count` realistic event files.
fn write_log(layout: &Layout, count: usize) {
    std::fs::create_dir_all(layout.events_dir()).expect("mkdir");
    std::fs::write(layout.config_file(), "{}\n").expect("config");
    for index in 0..count {
        let bot = format!("bidder_{}", index % 3 + 1);
        let outcome = OUTCOMES[index % OUTCOMES.len()];
        let seconds = index / 1000;
        let micros = (index % 1000) * 1000;
        let time = format!(
            "2026-01-{:02}T{:02}:{:02}:{:02}",
            1 + seconds / 86_400 % 28,
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60
        );
        let delta = [0.15, -0.15, -0.02, -0.05][index % 4];
        let json = format!(
            r#"{{
  "timestamp": "{time}.{micros:06}Z",
  "issue_number": {issue},
  "bot_id": "{bot}",
  "outcome": "{outcome}",
  "proposal_score": 0.87,
  "implementation_score": 0.85,
  "accuracy": 0.98,
  "weight_delta": {delta},
  "iteration_count": 3,
  "metrics": {{"tests_passed": true, "code_quality_passed": true, "coverage_delta": 2.5,
              "lines_changed": 45, "files_affected": 3}},
  "usage": {{"calls": 2, "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.0081}}
}}
"#,
            issue = index / 7
        );
        let name = format!(
            "{}-{:02}-{:02}-{micros:06}Z-{bot}-{outcome}.json",
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

fn python_fold(repository: &Path, runs: usize) -> Option<Duration> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../marketplace/benches/reference_fold.py"
    );
    Command::new("python3").arg("--version").output().ok()?;
    Some(median(runs, || {
        let output = Command::new("python3")
            .arg(script)
            .arg(repository)
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout.len()
    }))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
