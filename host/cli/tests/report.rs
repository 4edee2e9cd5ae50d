//! `ralph marketplace report` (SPEC §14): its numbers are those of
//! `status --json`, `usage --json` and `analyze --json`, read from the
//! page's visible tables; it loads nothing from anywhere; text from the
//! log is escaped; and rendered by a real browser its charts are there.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Repository, text};
use serde_json::{Value, json};

const BIDDERS: [&str; 3] = ["bidder_1", "bidder_2", "bidder_3"];
/// The colours of the three bidders' lines (`report::charts::PALETTE`).
const LINE_COLOURS: [(u8, u8, u8); 3] =
    [(0x1f, 0x77, 0xb4), (0xd6, 0x27, 0x28), (0x2c, 0xa0, 0x2c)];
const HOSTILE: &str = "<script>alert(1)</script>";

/// Writes one event file under its canonical name.
fn write(repository: &Repository, event: &Value) {
    let timestamp = event["timestamp"].as_str().expect("timestamp");
    let name = format!(
        "{}-{}-{}.json",
        timestamp.replace([':', '.'], "-"),
        event["bot_id"].as_str().expect("bot"),
        event["outcome"].as_str().expect("outcome")
    );
    repository.write_event(&name, &event.to_string());
}

/// `issues` issues of one round each, as the loop writes them: the three
/// bidders ranked, the winner implemented (bidder_1's proposals succeed
/// more often, and spec alignment tells success from failure), the others
/// not tried; every proposal priced. Then two delayed signals, and a round
/// whose winning label is hostile markup.
fn write_log(repository: &Repository, issues: usize) {
    let mut second = 0;
    let mut timestamp = || {
        second += 1;
        format!(
            "2026-11-01T10:{:02}:{:02}.000000Z",
            second / 60,
            second % 60
        )
    };
    for issue in 1..=issues {
        let winner = [0, 1, 0, 2, 0][issue % 5];
        let success = issue % 3 != 0;
        let signal = if success { 0.7 } else { 0.35 } + (issue % 4) as f64 * 0.05;
        for rank in 1..=3usize {
            let bidder = (winner + rank - 1) % 3;
            let winning = rank == 1;
            let outcome = match (winning, success) {
                (true, true) => "success",
                (true, false) => "failure",
                _ => "not_tried",
            };
            let delta = match outcome {
                "success" => 0.1,
                "failure" => -0.15,
                _ => -0.02,
            };
            let score = if winning {
                signal
            } else {
                signal - 0.1 * rank as f64
            };
            let label = if issue == issues && winning {
                HOSTILE.to_owned()
            } else {
                ["A", "B", "C"][bidder].to_owned()
            };
            write(
                repository,
                &json!({
                    "timestamp": timestamp(), "issue_number": issue, "bot_id": BIDDERS[bidder],
                    "outcome": outcome, "weight_delta": delta, "round": 1,
                    "round_kind": "initial", "rank": rank, "proposal_id": label,
                    "proposal_score": score, "tie_break": false,
                    "proposal_dimensions": {"spec_alignment": score, "technical_quality": 0.5,
                        "innovation": ((issue * 37) % 11) as f64 / 10.0, "risk": 0.5,
                        "efficiency": 0.5},
                    "usage": {"calls": 1, "input_tokens": 100, "output_tokens": 20,
                        "cost_usd": 0.001 * (bidder + 1) as f64}
                }),
            );
        }
    }
    for (bidder, outcome, delta) in [("bidder_1", "revert", -0.1), ("bidder_2", "defect", -0.02)] {
        write(
            repository,
            &json!({"timestamp": timestamp(), "issue_number": 1, "bot_id": bidder,
                    "outcome": outcome, "weight_delta": delta}),
        );
    }
}

/// A `<td>` of the page: its `data-*` attributes and its visible text.
#[derive(Debug)]
struct Cell {
    data: BTreeMap<String, String>,
    text: String,
}

/// Every `<td>` of `html` (the report writes them on one line each, with
/// no markup inside a number cell).
fn cells(html: &str) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<td") {
        rest = &rest[start + 3..];
        let open_end = rest.find('>').expect("a closed <td>");
        let attributes = &rest[..open_end];
        let close = rest.find("</td>").expect("</td>");
        let text = rest[open_end + 1..close].to_owned();
        let mut data = BTreeMap::new();
        for part in attributes.split("\" ") {
            if let Some((key, value)) = part.trim().split_once("=\"")
                && let Some(key) = key.strip_prefix("data-")
            {
                data.insert(key.to_owned(), value.trim_end_matches('"').to_owned());
            }
        }
        cells.push(Cell { data, text });
        rest = &rest[close..];
    }
    cells
}

/// The one cell whose `data-*` attributes include `keys`.
fn cell<'a>(cells: &'a [Cell], keys: &[(&str, &str)]) -> &'a Cell {
    let found: Vec<&Cell> = cells
        .iter()
        .filter(|cell| {
            keys.iter()
                .all(|(key, value)| cell.data.get(*key).map(String::as_str) == Some(*value))
        })
        .collect();
    assert_eq!(found.len(), 1, "one cell for {keys:?}: {found:?}");
    found[0]
}

/// The number a cell shows, which must be `expected` rounded, and whose
/// exact value is `expected`. `None` is shown as a dash.
fn assert_number(cells: &[Cell], keys: &[(&str, &str)], expected: &Value, tolerance: f64) {
    let cell = cell(cells, keys);
    match expected.as_f64() {
        None => {
            assert!(expected.is_null(), "{keys:?}: {expected}");
            assert_eq!(cell.text, "—", "{keys:?}");
        }
        Some(expected) => {
            let shown: f64 = cell
                .text
                .trim_start_matches('$')
                .parse()
                .unwrap_or_else(|_| panic!("{keys:?} shows a number: {cell:?}"));
            assert!(
                (shown - expected).abs() <= tolerance,
                "{keys:?} shows {shown}, the command says {expected}"
            );
            let exact: f64 = cell.data["value"].parse().expect("data-value");
            assert_eq!(exact, expected, "{keys:?}");
        }
    }
}

fn report(repository: &Repository) -> String {
    let output = repository.ralph(&["marketplace", "report", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(answer["path"], ".ralph/report.html");
    let page =
        std::fs::read_to_string(repository.path().join(".ralph/report.html")).expect("the report");
    assert_eq!(answer["bytes"], page.len());
    page
}

fn json_of(repository: &Repository, args: &[&str]) -> Value {
    let output = repository.ralph(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn the_reports_tables_hold_the_numbers_of_status_usage_and_analyze() {
    let repository = Repository::set_up();
    write_log(&repository, 30);
    let verified = repository.ralph(&["marketplace", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stdout));
    let page = report(&repository);
    let cells = cells(&page);
    let status = repository.status_json();
    let usage = json_of(&repository, &["marketplace", "usage", "--json"]);
    let analysis = json_of(&repository, &["marketplace", "analyze", "--json"]);
    assert_eq!(analysis["implementations"], 30);
    for bidder in BIDDERS {
        let state = &status["bots"][bidder];
        let keys = |field| [("bidder", bidder), ("field", field)];
        assert_number(&cells, &keys("weight"), &state["weight"], 5e-5);
        assert_number(&cells, &keys("efficiency"), &state["efficiency"], 5e-5);
        assert_number(&cells, &keys("allocation"), &state["allocation"], 0.0);
        assert_number(&cells, &keys("wins"), &state["successes"], 0.0);
        assert_number(&cells, &keys("losses"), &state["failures"], 0.0);
        let total = &usage["bidders"][bidder]["total"];
        assert_number(&cells, &keys("cost_usd"), &total["cost_usd"], 5e-5);
        assert_number(&cells, &keys("calls"), &total["calls"], 0.0);
    }
    // The bidders differ, so a table of one bidder's numbers would not pass.
    assert_ne!(
        status["bots"]["bidder_1"]["weight"],
        status["bots"]["bidder_2"]["weight"]
    );
    for (name, prediction) in analysis["dimensions"].as_object().expect("dimensions") {
        for field in ["auc", "spearman"] {
            assert_number(
                &cells,
                &[("dimension", name), ("field", field)],
                &prediction[field],
                5e-4,
            );
        }
    }
    for field in ["auc", "brier"] {
        assert_number(
            &cells,
            &[("field", &format!("total.{field}"))],
            &analysis["total"][field],
            5e-4,
        );
    }
    let bins = analysis["total"]["calibration"].as_array().expect("bins");
    assert_eq!(bins.len(), 10);
    for (index, bin) in bins.iter().enumerate() {
        let index = index.to_string();
        for (field, tolerance) in [
            ("from", 0.05),
            ("to", 0.05),
            ("count", 0.0),
            ("success_rate", 5e-4),
        ] {
            assert_number(
                &cells,
                &[("bin", &index), ("field", field)],
                &bin[field],
                tolerance,
            );
        }
    }
    // The delayed signals, per bidder.
    assert_eq!(
        cell(&cells, &[("bidder", "bidder_1"), ("field", "reverts")]).text,
        "1"
    );
    assert_eq!(
        cell(&cells, &[("bidder", "bidder_2"), ("field", "defects")]).text,
        "1"
    );
    assert_eq!(
        cell(&cells, &[("bidder", "bidder_3"), ("field", "churns")]).text,
        "0"
    );
    // The last ten rounds, three proposals each, newest (issue 30) first.
    let scores = cells
        .iter()
        .filter(|cell| cell.data.get("field").map(String::as_str) == Some("proposal_score"))
        .count();
    assert_eq!(scores, 30);
    let rounds = &page[page.find("id=\"rounds-table\"").expect("rounds table")..];
    assert!(
        rounds.find(">#30<").expect("issue 30") < rounds.find(">#21<").expect("issue 21"),
        "{rounds}"
    );
    assert!(!rounds.contains(">#20<"));
}

#[test]
fn text_from_the_log_is_escaped_and_nothing_is_loaded_from_anywhere() {
    let repository = Repository::set_up();
    write_log(&repository, 30);
    // A file that is not an event, named and filled with markup.
    repository.write_event("<img src=x onerror=alert(2)>.json", HOSTILE);
    let page = report(&repository);
    assert!(!page.contains("<script"), "markup from the log is text");
    assert!(!page.contains("<img"), "markup from the log is text");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the label is shown"
    );
    assert!(
        page.contains("&lt;img src=x onerror=alert(2)&gt;.json"),
        "the file is named"
    );
    // The only address is the SVG namespace of each chart.
    let namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
    let charts = page.matches(namespace).count();
    assert_eq!(charts, 2, "two charts");
    // The hostile file name is shown as text; it loads nothing.
    let stripped = page
        .replace(namespace, "")
        .replace("&lt;img src=x onerror=alert(2)&gt;", "");
    for address in [
        "://", "http", "url(", "@import", "src=", "href=", "<link", "//www",
    ] {
        assert!(!stripped.contains(address), "{address:?} in the report");
    }
}

#[test]
fn a_malformed_event_file_is_reported_as_excluded_as_status_does() {
    let repository = Repository::set_up();
    write_log(&repository, 5);
    repository.write_event("broken.json", "{not json");
    let output = repository.ralph(&["marketplace", "report"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let status = repository.ralph(&["marketplace", "status"]);
    let warning = "warning: .ralph/events/broken.json excluded:";
    assert!(text(&status.stderr).contains(warning));
    assert!(
        text(&output.stderr).contains(warning),
        "{}",
        text(&output.stderr)
    );
    let page =
        std::fs::read_to_string(repository.path().join(".ralph/report.html")).expect("the report");
    let excluded = &page[page
        .find("id=\"excluded-table\"")
        .expect("the excluded table")..];
    let reason = &repository.status_json()["excluded_events"][0];
    assert_eq!(reason["file"], "broken.json");
    assert!(excluded.contains("<td>broken.json</td>"), "{excluded}");
    let reason = reason["reason"].as_str().expect("reason");
    assert!(
        excluded.contains(&format!("<td>{reason}</td>")),
        "{excluded}"
    );
    // Under twenty implementations, it says how many more, as analyze does.
    assert!(page.contains("15 more"), "{page}");
}

#[test]
fn an_empty_log_gives_a_report_without_charts() {
    let repository = Repository::set_up();
    let page = report(&repository);
    assert!(page.contains("No events yet"), "{page}");
    assert!(page.contains("20 more"));
    assert!(!page.contains("<svg"));
    let cells = cells(&page);
    for bidder in BIDDERS {
        assert_eq!(
            cell(&cells, &[("bidder", bidder), ("field", "allocation")]).text,
            "10"
        );
    }
}

#[test]
fn the_default_report_is_ignored_by_git_and_out_writes_elsewhere() {
    let repository = Repository::set_up();
    let gitignore = repository.path().join(".ralph/.gitignore");
    let ignored = |path: &Path| {
        std::fs::read_to_string(path)
            .expect(".gitignore")
            .lines()
            .any(|line| line == "report.html")
    };
    assert!(ignored(&gitignore), "setup ignores it");
    // A .gitignore from before the report gets the line.
    let before: String = std::fs::read_to_string(&gitignore)
        .expect(".gitignore")
        .lines()
        .filter(|line| *line != "report.html")
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&gitignore, before).expect("write");
    report(&repository);
    assert!(ignored(&gitignore));
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let out = elsewhere.path().join("page.html");
    let output = repository.ralph(&[
        "marketplace",
        "report",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        std::fs::read_to_string(&out)
            .expect("written")
            .starts_with("<!DOCTYPE html>")
    );
    // Only the page: no temporary file left beside it.
    assert_eq!(std::fs::read_dir(elsewhere.path()).expect("dir").count(), 1);
    let missing = elsewhere.path().join("no/such/dir/page.html");
    let refused = repository.ralph(&[
        "marketplace",
        "report",
        "--out",
        missing.to_str().expect("utf-8"),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("no such directory"));
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// A screenshot of `page` by headless Chromium, as RGB pixels.
fn screenshot(page: &Path) -> Vec<(u8, u8, u8)> {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/setup, which installs Debian's `chromium` package"
    );
    let scratch = tempfile::tempdir().expect("temp dir");
    let png: PathBuf = scratch.path().join("shot.png");
    let mut chromium = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.path().join("profile").display()
        ))
        .arg("--window-size=1280,4000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium runs");
    // A page that blocks the browser (a script's dialog) fails the test
    // instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(90);
    while chromium.try_wait().expect("chromium").is_none() {
        if Instant::now() > deadline {
            let _ = chromium.kill();
            let _ = chromium.wait();
            panic!(
                "chromium took over 90 s to take the screenshot of {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = chromium.wait_with_output().expect("chromium's output");
    assert!(
        png.exists(),
        "chromium wrote no screenshot: {}",
        text(&output.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("open"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    assert!(
        info.bit_depth == png::BitDepth::Eight && channels >= 3,
        "{info:?}"
    );
    buffer[..info.buffer_size()]
        .chunks(channels)
        .map(|pixel| (pixel[0], pixel[1], pixel[2]))
        .collect()
}

/// How many pixels are within a few steps of each line colour.
fn line_pixels(pixels: &[(u8, u8, u8)]) -> [usize; 3] {
    let near = |a: u8, b: u8| a.abs_diff(b) <= 6;
    LINE_COLOURS.map(|(red, green, blue)| {
        pixels
            .iter()
            .filter(|(r, g, b)| near(*r, red) && near(*g, green) && near(*b, blue))
            .count()
    })
}

#[test]
fn a_browser_draws_each_bidders_lines_and_none_for_an_empty_log() {
    let empty = Repository::set_up();
    report(&empty);
    let without = line_pixels(&screenshot(&empty.path().join(".ralph/report.html")));
    let full = Repository::set_up();
    write_log(&full, 30);
    report(&full);
    let pixels = screenshot(&full.path().join(".ralph/report.html"));
    assert_eq!(pixels.len(), 1280 * 4000, "the whole window");
    let with = line_pixels(&pixels);
    for (index, count) in with.iter().enumerate() {
        assert!(
            *count >= 1000,
            "bidder_{}'s lines: {count} pixels ({with:?})",
            index + 1
        );
    }
    assert_eq!(without, [0, 0, 0], "no lines without events");
}
