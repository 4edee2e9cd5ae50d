//! The `log` host import: a plugin's structured log messages, labelled with
//! its name. Needs no capability; messages and fields are capped.

/// The longest message kept, in bytes.
const MESSAGE_BYTES: usize = 4096;
/// The most fields kept per message.
const FIELD_COUNT: usize = 32;
/// The most messages kept per call; later ones are dropped.
pub const MESSAGES_PER_CALL: usize = 1000;

/// How important a plugin's log message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Very detailed.
    Trace,
    /// For plugin authors.
    Debug,
    /// Normal progress.
    Info,
    /// Recovered problem.
    Warn,
    /// Failure.
    Error,
}

fn truncate(text: &str) -> &str {
    if text.len() <= MESSAGE_BYTES {
        return text;
    }
    let mut end = MESSAGE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Writes one plugin log message unless the call has used up its share;
/// `count` is the number of messages the call wrote before this one.
pub fn log_counted(
    plugin: &str,
    count: usize,
    level: Level,
    message: &str,
    fields: &[(String, String)],
) {
    match count.cmp(&MESSAGES_PER_CALL) {
        std::cmp::Ordering::Less => log(plugin, level, message, fields),
        std::cmp::Ordering::Equal => {
            tracing::warn!(
                plugin,
                limit = MESSAGES_PER_CALL,
                "Dropping further log messages from this call"
            );
        }
        std::cmp::Ordering::Greater => {}
    }
}

/// Writes one plugin log message into the host's log.
pub fn log(plugin: &str, level: Level, message: &str, fields: &[(String, String)]) {
    let message = truncate(message);
    let fields = fields
        .iter()
        .take(FIELD_COUNT)
        .map(|(key, value)| format!("{}={}", truncate(key), truncate(value)))
        .collect::<Vec<_>>()
        .join(" ");
    match level {
        Level::Trace => tracing::trace!(plugin, %fields, "{message}"),
        Level::Debug => tracing::debug!(plugin, %fields, "{message}"),
        Level::Info => tracing::info!(plugin, %fields, "{message}"),
        Level::Warn => tracing::warn!(plugin, %fields, "{message}"),
        Level::Error => tracing::error!(plugin, %fields, "{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_is_written_until_the_call_has_used_its_share() {
        let fields = vec![("issue".to_owned(), "7".to_owned())];
        for level in [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ] {
            log_counted("p", 0, level, "Proposing", &fields);
        }
        log_counted("p", MESSAGES_PER_CALL, Level::Info, "Dropped", &fields);
        log_counted("p", MESSAGES_PER_CALL + 1, Level::Info, "Dropped", &fields);
        assert_eq!(truncate("short"), "short");
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let text = "é".repeat(MESSAGE_BYTES);
        let cut = truncate(&text);
        assert!(cut.len() <= MESSAGE_BYTES);
        assert!(cut.chars().all(|character| character == 'é'));
    }
}
