//! Everything the command prints goes through here.
//!
//! Text for people is cleaned of control characters ([`terminal::clean`])
//! and then redacted (so a secret split by control characters is caught
//! too); JSON is only redacted, and stays the same JSON
//! ([`ralph_secrets::Redactor::redact_json_text`]). Both use the host's
//! redactor.
//!
//! A closed pipe is not an error: when the reader of standard output (or
//! standard error) goes away — `ralph plugin inspect … | head -1` — the
//! write is dropped, later writes to that stream are skipped, and the
//! command finishes as it would have, with its usual exit status. A loop
//! stops after its current step, as on Ctrl-C ([`stdout_closed`]). Ralph
//! does not die of `SIGPIPE`: it writes into the pipes of child processes
//! (git, checks) and must see those errors as errors.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use ralph_secrets::terminal;

/// Set once a write to standard output found the pipe closed.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Set once a write to standard error found the pipe closed.
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Where text goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What the text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// For people: cleaned and redacted.
    Human,
    /// Ralph's own coloured log lines: cleaned but for colours, redacted.
    Coloured,
    /// For machines: redacted, the same JSON.
    Json,
}

/// Whether standard output's reader has gone away.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::SeqCst)
}

/// `text` as it may be shown: cleaned and redacted, or for JSON redacted.
pub fn shown(form: Form, text: &str) -> String {
    match form {
        Form::Human => ralph_secrets::redact(&terminal::clean(text)),
        Form::Coloured => ralph_secrets::redact(&terminal::clean_keeping_colours(text)),
        Form::Json => ralph_secrets::host().redact_json_text(text),
    }
}

/// Writes `text` as it may be shown to `stream`; a closed pipe ends that
/// stream's output quietly, any other error is dropped as `print!` would
/// not (there is nowhere left to report it).
pub fn write(stream: Stream, form: Form, text: &str) {
    let closed = match stream {
        Stream::Stdout => &STDOUT_CLOSED,
        Stream::Stderr => &STDERR_CLOSED,
    };
    if text.is_empty() || closed.load(Ordering::SeqCst) {
        return;
    }
    let text = shown(form, text);
    let written = match stream {
        Stream::Stdout => {
            let mut stdout = io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
        }
        Stream::Stderr => io::stderr().lock().write_all(text.as_bytes()),
    };
    if let Err(error) = written
        && error.kind() == io::ErrorKind::BrokenPipe
    {
        closed.store(true, Ordering::SeqCst);
    }
}

/// `print!` for people.
pub fn print(arguments: fmt::Arguments<'_>) {
    write(Stream::Stdout, Form::Human, &arguments.to_string());
}

/// `println!` for people.
pub fn println(arguments: fmt::Arguments<'_>) {
    write(Stream::Stdout, Form::Human, &format!("{arguments}\n"));
}

/// `eprintln!` for people.
pub fn eprintln(arguments: fmt::Arguments<'_>) {
    write(Stream::Stderr, Form::Human, &format!("{arguments}\n"));
}

/// A line of JSON (or a pretty document) on standard output.
pub fn json_line(text: &str) {
    write(Stream::Stdout, Form::Json, &format!("{text}\n"));
}

/// A writer that collects what is written and hands it to [`write`] on
/// `flush` (and when dropped), so redaction sees whole messages rather than
/// the pieces `write!` makes.
pub struct Writer {
    stream: Stream,
    form: Form,
    buffer: Vec<u8>,
}

impl Writer {
    pub fn new(stream: Stream, form: Form) -> Self {
        Self {
            stream,
            form,
            buffer: Vec::new(),
        }
    }
}

impl Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            let text = String::from_utf8_lossy(&self.buffer).into_owned();
            self.buffer.clear();
            write(self.stream, self.form, &text);
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `println!` for people, through [`output`](crate::output).
macro_rules! outln {
    () => { $crate::output::println(format_args!("")) };
    ($($argument:tt)*) => { $crate::output::println(format_args!($($argument)*)) };
}

/// `print!` for people, through [`output`](crate::output).
macro_rules! out {
    ($($argument:tt)*) => { $crate::output::print(format_args!($($argument)*)) };
}

/// `eprintln!` for people, through [`output`](crate::output).
macro_rules! errln {
    ($($argument:tt)*) => { $crate::output::eprintln(format_args!($($argument)*)) };
}

pub(crate) use {errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_text_is_cleaned_before_it_is_redacted() {
        // Control characters splitting a secret do not hide it: once they
        // are gone the secret is whole, and redacted. (The host redactor
        // knows no secret in a test process, so a pattern stands in.)
        let shown = shown(
            Form::Human,
            "id AKIA\u{1b}[0mIOSFODNN7EXAMPLE\u{1b}[2J done",
        );
        assert_eq!(shown, "id AKIA[REDACTED] done");
    }

    #[test]
    fn json_is_redacted_but_not_cleaned() {
        let text = r#"{"summary":"\u001b[2J","key":"AKIAIOSFODNN7EXAMPLE"}"#;
        assert_eq!(
            shown(Form::Json, text),
            r#"{"summary":"\u001b[2J","key":"AKIA[REDACTED]"}"#
        );
    }

    #[test]
    fn a_writer_hands_over_whole_messages_on_flush() {
        let mut writer = Writer::new(Stream::Stderr, Form::Human);
        let part = "part";
        let _ = write!(writer, "{part}");
        assert_eq!(writer.buffer, b"part");
        let _ = writer.flush();
        assert!(writer.buffer.is_empty());
    }
}
