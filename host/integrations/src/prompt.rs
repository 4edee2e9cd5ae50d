//! Asking the user whether a plugin may use an integration.
//!
//! The gateway asks its [`Approver`] when the approvals file does not
//! already allow a call. On a terminal, [`TerminalApprover`] asks; anywhere
//! else [`NonInteractive`] denies and says how to grant.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use ralph_runtime::capabilities::Capability;

/// What the user decided about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed for the rest of this run.
    AllowForRun,
    /// Allowed from now on: written to the approvals file.
    AllowAlways,
    /// Denied, with the reason the plugin sees.
    Deny(String),
}

/// One request for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The plugin's id: its config entry, what an approval is keyed by.
    pub plugin: &'a str,
    /// The name its metadata reports, shown for the user's information.
    pub name: &'a str,
    /// Its component's SHA-256, which an approval is bound to.
    pub digest: &'a str,
    /// The component an earlier approval of this id was for, when the
    /// component has changed since.
    pub approved_digest: Option<&'a str>,
    pub capability: Capability,
    pub operation: &'a str,
}

/// The first 12 hex digits of a digest, enough to tell components apart.
pub fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Why the request needs an answer, for denials: a changed component, or
/// no approval at all.
fn not_approved(request: &Request<'_>) -> String {
    match request.approved_digest {
        Some(approved) => format!(
            "plugin `{}` changed since its approvals were given (sha256 {} then, {} now): a \
             changed component is a new plugin and must be approved again",
            request.plugin,
            short(approved),
            short(request.digest)
        ),
        None => format!(
            "plugin `{}` is not approved to use `{}`",
            request.plugin, request.capability
        ),
    }
}

/// Decides requests the approvals file does not cover. Called from a
/// blocking thread, one request at a time.
pub trait Approver: Send + Sync + 'static {
    fn decide(&self, request: Request<'_>) -> Decision;
}

/// The command that grants `capability` to `plugin`.
pub fn grant_command(plugin: &str, capability: Capability) -> String {
    format!("ralph permissions grant {plugin} {capability}")
}

/// Denies every request, saying how to grant it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NonInteractive;

impl Approver for NonInteractive {
    fn decide(&self, request: Request<'_>) -> Decision {
        // The decision is remembered for the run and reused for the
        // plugin's later calls, so it names no one operation.
        Decision::Deny(format!(
            "{}; grant it with `{}`",
            not_approved(&request),
            grant_command(request.plugin, request.capability)
        ))
    }
}

type Terminal = (Box<dyn BufRead + Send>, Box<dyn Write + Send>);

/// Asks on the terminal: `[y/N/a(lways)]`.
pub struct TerminalApprover {
    terminal: Mutex<Terminal>,
}

impl TerminalApprover {
    /// Asks on standard error and reads standard input, when both are terminals.
    pub fn detect() -> Option<Self> {
        use std::io::IsTerminal;
        (std::io::stdin().is_terminal() && std::io::stderr().is_terminal()).then(|| {
            Self::with_io(
                Box::new(std::io::BufReader::new(std::io::stdin())),
                Box::new(std::io::stderr()),
            )
        })
    }

    /// Asks on `output` and reads answers from `input`.
    pub fn with_io(input: Box<dyn BufRead + Send>, output: Box<dyn Write + Send>) -> Self {
        Self {
            terminal: Mutex::new((input, output)),
        }
    }
}

impl Approver for TerminalApprover {
    fn decide(&self, request: Request<'_>) -> Decision {
        let mut terminal = self
            .terminal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (input, output) = &mut *terminal;
        let changed = match request.approved_digest {
            Some(approved) => format!(
                ", changed since it was approved (sha256 {} then)",
                short(approved)
            ),
            None => String::new(),
        };
        // The name and the operation hold what the plugin said: shown
        // cleaned of control characters and redacted, like all Ralph prints.
        let question = ralph_secrets::redact(&ralph_secrets::terminal::clean(&format!(
            "Plugin `{}` (reporting the name `{}`, sha256 {}{changed}) asks to use `{}` ({}). \
             Allow? [y/N/a(lways)] ",
            request.plugin,
            request.name,
            short(request.digest),
            request.capability,
            request.operation
        )));
        let mut answer = String::new();
        let asked = output
            .write_all(question.as_bytes())
            .and_then(|()| output.flush())
            .and_then(|()| input.read_line(&mut answer));
        let declined = |why: &str| {
            Decision::Deny(format!(
                "{why}: plugin `{}` may not use `{}`; grant it with `{}`",
                request.plugin,
                request.capability,
                grant_command(request.plugin, request.capability)
            ))
        };
        match asked {
            Err(_) | Ok(0) => declined("nobody answered the prompt"),
            Ok(_) => match answer.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => Decision::AllowForRun,
                "a" | "always" => Decision::AllowAlways,
                _ => declined("the user declined"),
            },
        }
    }
}

/// The terminal prompt when standard input and standard error are
/// terminals, else [`NonInteractive`].
pub fn default_approver() -> Arc<dyn Approver> {
    match TerminalApprover::detect() {
        Some(terminal) => Arc::new(terminal),
        None => Arc::new(NonInteractive),
    }
}

/// Answers from a list, in order, then denies; for tests and scripted runs.
pub struct Scripted {
    answers: Mutex<std::collections::VecDeque<Decision>>,
    asked: Mutex<Vec<String>>,
}

impl Scripted {
    pub fn new(answers: impl IntoIterator<Item = Decision>) -> Self {
        Self {
            answers: Mutex::new(answers.into_iter().collect()),
            asked: Mutex::new(Vec::new()),
        }
    }

    /// The requests asked so far, as `plugin capability operation`.
    pub fn asked(&self) -> Vec<String> {
        self.asked
            .lock()
            .map(|asked| asked.clone())
            .unwrap_or_default()
    }
}

impl Approver for Scripted {
    fn decide(&self, request: Request<'_>) -> Decision {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push(format!(
                "{} {} {}",
                request.plugin, request.capability, request.operation
            ));
        }
        self.answers
            .lock()
            .ok()
            .and_then(|mut answers| answers.pop_front())
            .unwrap_or_else(|| NonInteractive.decide(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    const REQUEST: Request<'static> = Request {
        plugin: "reader",
        name: "status-reader",
        digest: DIGEST,
        approved_digest: None,
        capability: Capability::Aws,
        operation: "ecs:DescribeServices",
    };

    /// Output the test can read after the approver wrote to it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn answer(text: &'static str) -> (Decision, String) {
        let output = Shared::default();
        let approver =
            TerminalApprover::with_io(Box::new(text.as_bytes()), Box::new(output.clone()));
        let decision = approver.decide(REQUEST);
        let shown = String::from_utf8(output.0.lock().expect("lock").clone()).expect("utf-8");
        (decision, shown)
    }

    #[test]
    fn the_prompt_names_the_plugin_capability_and_operation() {
        let (_, shown) = answer("y\n");
        assert_eq!(
            shown,
            "Plugin `reader` (reporting the name `status-reader`, sha256 0123456789ab) asks to use \
             `aws` (ecs:DescribeServices). Allow? [y/N/a(lways)] "
        );
    }

    #[test]
    fn the_prompt_shows_no_control_character_a_plugin_put_in_the_operation() {
        let output = Shared::default();
        let approver = TerminalApprover::with_io(Box::new(&b"n\n"[..]), Box::new(output.clone()));
        let request = Request {
            operation: "get https://x.example/\u{1b}]0;owned\u{7}\u{1b}[2J\rAllow? y",
            ..REQUEST
        };
        approver.decide(request);
        let shown = String::from_utf8(output.0.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(
            shown,
            "Plugin `reader` (reporting the name `status-reader`, sha256 0123456789ab) asks to use \
             `aws` (get https://x.example/Allow? y). Allow? [y/N/a(lways)] "
        );
    }

    #[test]
    fn yes_allows_for_the_run_and_always_allows_for_good() {
        assert_eq!(answer("y\n").0, Decision::AllowForRun);
        assert_eq!(answer("YES\n").0, Decision::AllowForRun);
        assert_eq!(answer("a\n").0, Decision::AllowAlways);
        assert_eq!(answer("always\n").0, Decision::AllowAlways);
    }

    #[test]
    fn anything_else_denies_and_says_how_to_grant() {
        for text in ["\n", "n\n", "maybe\n", ""] {
            let Decision::Deny(reason) = answer(text).0 else {
                panic!("{text:?} allowed");
            };
            assert!(
                reason.contains("ralph permissions grant reader aws"),
                "{reason}"
            );
        }
    }

    #[test]
    fn non_interactive_denies_with_the_grant_command() {
        assert_eq!(
            NonInteractive.decide(REQUEST),
            Decision::Deny(
                "plugin `reader` is not approved to use `aws`; \
                 grant it with `ralph permissions grant reader aws`"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_changed_component_is_denied_saying_it_must_be_approved_again() {
        let request = Request {
            approved_digest: Some("fedcba9876543210"),
            ..REQUEST
        };
        let Decision::Deny(reason) = NonInteractive.decide(request) else {
            panic!("allowed");
        };
        assert!(reason.contains("must be approved again"), "{reason}");
        assert!(
            reason.contains("fedcba987654 then, 0123456789ab now"),
            "{reason}"
        );
        assert!(
            reason.contains("ralph permissions grant reader aws"),
            "{reason}"
        );
    }

    #[test]
    fn without_a_terminal_the_default_approver_denies() {
        // Tests run with standard input not a terminal (cargo test, CI).
        if TerminalApprover::detect().is_none() {
            assert!(matches!(
                default_approver().decide(REQUEST),
                Decision::Deny(_)
            ));
        }
    }

    #[test]
    fn scripted_answers_in_order_then_denies() {
        let approver = Scripted::new([Decision::AllowForRun]);
        assert_eq!(approver.decide(REQUEST), Decision::AllowForRun);
        assert!(matches!(approver.decide(REQUEST), Decision::Deny(_)));
        assert_eq!(approver.asked().len(), 2);
    }
}
