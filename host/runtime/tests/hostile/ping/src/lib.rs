//! Consults `pong-specialist` with every question, and reports the host's
//! refusal as its answer, so a cycle shows up in the outermost answer.

use ralph_plugin_sdk::{Capability, PluginError, Specialist, host};

struct Echo;

impl Specialist for Echo {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Consult]
    }

    fn ask(question: String) -> Result<String, PluginError> {
        match host::consult("pong-specialist", &question) {
            Ok(answer) => Ok(format!("ping heard: {answer}")),
            Err(error) => Ok(format!("ping was refused: {error:?}")),
        }
    }
}

ralph_plugin_sdk::export_specialist!(Echo);
