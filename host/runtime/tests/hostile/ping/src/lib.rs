//! Consults `pong-specialist` with every question, and reports the host's
//! refusal as its answer, so a cycle shows up in the outermost answer.
//! A question starting `complete ` is put to the model instead, as many
//! times as the allowance lets it, so usage in consultations can be tested.

use ralph_plugin_sdk::{Capability, PluginError, Specialist, host};

struct Echo;

impl Specialist for Echo {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Consult, Capability::Complete]
    }

    fn ask(question: String) -> Result<String, PluginError> {
        if let Some(prompt) = question.strip_prefix("complete ") {
            let mut answers = Vec::new();
            for _ in 0..10 {
                match host::complete(None, prompt, 20) {
                    Ok(_) => answers.push("ok".to_owned()),
                    Err(error) => {
                        answers.push(format!("refused {error:?}"));
                        break;
                    }
                }
            }
            return Ok(format!("ping completed: {}", answers.join("; ")));
        }
        match host::consult("pong-specialist", &question) {
            Ok(answer) => Ok(format!("ping heard: {answer}")),
            Err(error) => Ok(format!("ping was refused: {error:?}")),
        }
    }
}

ralph_plugin_sdk::export_specialist!(Echo);
