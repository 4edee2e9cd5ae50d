//! A test specialist: every review and every answer asks the model as often
//! as `ralph-script/reviewer.json` says (see `../../model_use.rs`).

use ralph_plugin_sdk::{Capability, Finding, PluginError, Proposal, Severity, Specialist};

include!("../../model_use.rs");

struct Reviewer;

impl Specialist for Reviewer {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository, Capability::Complete]
    }

    fn ask(_question: String) -> Result<String, PluginError> {
        let answered = use_the_model("reviewer")?;
        Ok(format!("asked the model {answered} times"))
    }

    fn review(_proposal: Proposal) -> Result<Vec<Finding>, PluginError> {
        let answered = use_the_model("reviewer")?;
        Ok(vec![Finding {
            severity: Severity::Info,
            file: None,
            line: None,
            message: format!("asked the model {answered} times"),
        }])
    }
}

ralph_plugin_sdk::export_specialist!(Reviewer);
