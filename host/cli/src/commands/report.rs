//! `ralph marketplace report`: the page of SPEC §14
//! (`ralph_marketplace::report`), written whole to `.ralph/report.html` or
//! `--out FILE`.

use std::io::Write;
use std::path::{Path, PathBuf};

use ralph_marketplace::Layout;
use ralph_marketplace::layout::IGNORED;
use ralph_marketplace::report;

use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, errln, outln};

pub fn run(layout: &Layout, out: Option<&Path>, json: bool) -> Outcome {
    let marketplace = super::marketplace::open(layout)?;
    let generated = ralph_marketplace::event::format_timestamp(&chrono::Utc::now());
    let gathered = report::gather(&marketplace, generated).map_err(Failure::problem)?;
    for warning in &gathered.warnings {
        errln!("warning: {warning}");
    }
    for excluded in &gathered.state.excluded_events {
        errln!(
            "warning: {} excluded: {}",
            layout.display(&layout.events_dir().join(&excluded.file)),
            excluded.reason
        );
    }
    let page = report::html::render(&gathered);
    let default = layout.report_file();
    let path = out.map_or_else(|| default.clone(), Path::to_path_buf);
    let temporary_dir = if path == default {
        keep_ignored(layout);
        layout.tmp_dir()
    } else {
        directory_of(&path)?
    };
    super::replace_file(layout, &temporary_dir, &path, &page)?;
    if json {
        output::json_line(
            &serde_json::json!({"path": layout.display(&path).to_string(), "bytes": page.len()})
                .to_string(),
        );
    } else {
        outln!(
            "wrote {} ({} events, {} KB); open it in a browser",
            layout.display(&path),
            gathered.state.event_count,
            page.len().div_ceil(1024)
        );
    }
    Ok(Exit::Success)
}

/// The directory `path` is written in, which must exist: the temporary
/// file is written there, so the rename stays on one file system.
fn directory_of(path: &Path) -> Result<PathBuf, Failure> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "{}: no such directory to write the report in",
                parent.display()
            ),
        ));
    }
    Ok(parent)
}

/// Adds `report.html` to a `.ralph/.gitignore` written before the report
/// existed, so the page is never committed as state.
fn keep_ignored(layout: &Layout) {
    const ENTRY: &str = "report.html";
    debug_assert!(IGNORED.contains(&ENTRY));
    let path = layout.gitignore_file();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    if text.lines().any(|line| line.trim() == ENTRY) {
        return;
    }
    let separator = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(format!("{separator}{ENTRY}\n").as_bytes()));
    if let Err(error) = appended {
        errln!(
            "warning: {}: cannot add {ENTRY} to it: {error}",
            layout.display(&path)
        );
    }
}
