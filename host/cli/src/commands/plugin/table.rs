//! The `plugin list` table for people, within 80 columns. Machines get
//! `--json` instead.

use std::fmt::Write;

use ralph_runtime::Capability;

use super::list::{Capabilities, EntryKind, LimitsReport, Listed};

/// The widest line the table prints.
const WIDTH: usize = 80;
const ROLE_WIDTH: usize = 10;
const WORLD_WIDTH: usize = 10;
const NAME_WIDTH: usize = 16;
const VERSION_WIDTH: usize = 7;
/// What is left for the source after the other columns and their gaps.
const SOURCE_WIDTH: usize = WIDTH - ROLE_WIDTH - WORLD_WIDTH - NAME_WIDTH - VERSION_WIDTH - 8;
/// Indentation of the lines under a row.
const DETAIL_INDENT: &str = "    ";

/// The table: a header, one row per entry with its details below it, and a
/// count of failures.
pub fn render(listed: &[Listed], config_file: &str) -> String {
    let mut text = String::new();
    let count = |role: fn(&str) -> bool| listed.iter().filter(|entry| role(&entry.role)).count();
    let _ = writeln!(
        text,
        "{}, {}, {} from {config_file}",
        counted(count(|role| role.starts_with("bidder")), "bidder"),
        counted(count(|role| role == "specialist"), "specialist"),
        counted(count(|role| role == "check"), "check"),
    );
    let _ = writeln!(text);
    row(&mut text, ["ROLE", "WORLD", "NAME", "VERSION", "SOURCE"]);
    for entry in listed {
        render_entry(&mut text, entry);
    }
    let failed = listed.iter().filter(|entry| entry.error.is_some()).count();
    if failed > 0 {
        let plugins = listed
            .iter()
            .filter(|entry| entry.kind == EntryKind::Plugin)
            .count();
        let _ = writeln!(text);
        let _ = writeln!(text, "{failed} of {plugins} plugins failed to load.");
    }
    text
}

fn render_entry(text: &mut String, entry: &Listed) {
    let unknown = || "?".to_owned();
    match entry.kind {
        EntryKind::Command => {
            row(
                text,
                [
                    &entry.role,
                    "command",
                    entry.name.as_deref().unwrap_or_default(),
                    "-",
                    "command",
                ],
            );
            let argv = entry.argv.clone().unwrap_or_default().join(" ");
            detail(text, &format!("runs: {argv}"));
            let category = entry
                .category
                .and_then(|category| serde_json::to_value(category).ok())
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_else(unknown);
            let timeout = entry.timeout_seconds.unwrap_or_default();
            detail(text, &format!("category {category}, timeout {timeout} s"));
        }
        EntryKind::Plugin => {
            let world = entry
                .world
                .map(|world| world.to_string())
                .unwrap_or_else(unknown);
            let name = entry
                .check
                .clone()
                .or_else(|| entry.name.clone())
                .unwrap_or_else(unknown);
            let version = entry.version.clone().unwrap_or_else(unknown);
            let source = cut_start(entry.source.as_deref().unwrap_or_default(), SOURCE_WIDTH);
            row(text, [&entry.role, &world, &name, &version, &source]);
            if let (Some(check), Some(plugin)) = (&entry.check, &entry.name)
                && check != plugin
            {
                detail(text, &format!("plugin: {plugin}"));
            }
            if let Some(capabilities) = &entry.capabilities {
                render_capabilities(text, capabilities);
            }
            if let Some(limits) = &entry.limits {
                detail(text, &render_limits(limits));
            }
            if let Some(error) = &entry.error {
                detail(text, &format!("error: {error}"));
            }
        }
    }
}

fn render_capabilities(text: &mut String, capabilities: &Capabilities) {
    let mut line = String::from("capabilities:");
    if let Some(requested) = &capabilities.requested {
        let _ = write!(line, " requested {};", names(requested));
    }
    let _ = write!(line, " granted {}", names(&capabilities.granted));
    if let Some(effective) = &capabilities.effective {
        let _ = write!(line, "; effective {}", names(effective));
    }
    detail(text, &line);
    let integrations: Vec<Capability> = capabilities
        .requested
        .iter()
        .flatten()
        .copied()
        .filter(|capability| capability.is_integration())
        .collect();
    if !integrations.is_empty() {
        detail(
            text,
            &format!(
                "integrations: {}, each denied until approved with `ralph permissions grant`",
                names(&integrations)
            ),
        );
    }
    if let Some(not_granted) = capabilities.not_granted.as_deref()
        && !not_granted.is_empty()
    {
        detail(
            text,
            &format!(
                "warning: {} requested but not granted; calls to {} will be denied",
                names(not_granted),
                if not_granted.len() == 1 { "it" } else { "them" }
            ),
        );
    }
}

fn render_limits(limits: &LimitsReport) -> String {
    let deadline = if limits.deadline_ms.is_multiple_of(1000) {
        format!("{} s", limits.deadline_ms / 1000)
    } else {
        format!("{} ms", limits.deadline_ms)
    };
    let output = if limits.output_kib.is_multiple_of(1024) {
        format!("{} MiB", limits.output_kib / 1024)
    } else {
        format!("{} KiB", limits.output_kib)
    };
    format!(
        "limits: memory {} MiB, deadline {deadline}, output {output}",
        limits.memory_mib
    )
}

fn names(capabilities: &[Capability]) -> String {
    if capabilities.is_empty() {
        return "none".to_owned();
    }
    capabilities
        .iter()
        .map(|capability| capability.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(text: &mut String, [role, world, name, version, source]: [&str; 5]) {
    let line = format!(
        "{:<ROLE_WIDTH$}  {:<WORLD_WIDTH$}  {:<NAME_WIDTH$}  {:<VERSION_WIDTH$}  {}",
        cut_end(role, ROLE_WIDTH),
        cut_end(world, WORLD_WIDTH),
        cut_end(name, NAME_WIDTH),
        cut_end(version, VERSION_WIDTH),
        cut_end(source, SOURCE_WIDTH),
    );
    let _ = writeln!(text, "{}", line.trim_end());
}

/// Writes `line` under a row, indented and wrapped at word boundaries.
fn detail(text: &mut String, line: &str) {
    for wrapped in wrap(line, WIDTH - DETAIL_INDENT.len()) {
        let _ = writeln!(text, "{DETAIL_INDENT}{wrapped}");
    }
}

/// Splits `line` into lines of at most `width` characters, breaking at
/// spaces; a word longer than `width` is split.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        let current_length = current.chars().count();
        if current_length > 0 && current_length + 1 + word.len() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.extend(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// `text` cut to `width` characters, ending in `…` if cut.
fn cut_end(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// `text` cut to `width` characters from the start, so a path keeps its
/// file name.
fn cut_start(text: &str, width: usize) -> String {
    let length = text.chars().count();
    if length <= width {
        return text.to_owned();
    }
    let kept: String = text
        .chars()
        .skip(length - width.saturating_sub(1))
        .collect();
    format!("…{kept}")
}

fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_fit_and_keep_every_word() {
        let line = "error: cannot read plugin /a/rather/long/path/to/a/plugin/that/does/not/exist/anywhere.wasm: No such file or directory (os error 2)";
        let lines = wrap(line, 30);
        assert!(lines.iter().all(|wrapped| wrapped.chars().count() <= 30));
        assert_eq!(lines.concat().replace(' ', ""), line.replace(' ', ""));
    }

    #[test]
    fn cut_text_fits_its_column_and_shows_it_was_cut() {
        assert_eq!(cut_end("persona-planner", 8), "persona…");
        assert_eq!(cut_start("plugins/bidders/mine.wasm", 10), "…mine.wasm");
        assert_eq!(cut_start("short", 10), "short");
    }

    #[test]
    fn integrations_point_to_approvals_not_to_the_config() {
        let capabilities = Capabilities {
            requested: Some(vec![Capability::Repository, Capability::Aws]),
            granted: vec![Capability::Repository],
            effective: Some(vec![Capability::Repository]),
            not_granted: Some(vec![]),
        };
        let mut text = String::new();
        render_capabilities(&mut text, &capabilities);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains(
                "integrations: aws, each denied until approved with `ralph permissions grant`"
            ),
            "{text}"
        );
        assert!(!text.contains("requested but not granted"), "{text}");
    }

    #[test]
    fn limits_read_in_the_largest_whole_unit() {
        let limits = LimitsReport {
            memory_mib: 256,
            deadline_ms: 250,
            output_kib: 1024,
        };
        assert_eq!(
            render_limits(&limits),
            "limits: memory 256 MiB, deadline 250 ms, output 1 MiB"
        );
    }
}
