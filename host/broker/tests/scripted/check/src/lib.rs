//! A test check: passes after asking the model as often as
//! `ralph-script/check.json` says (see `../../model_use.rs`).

use ralph_plugin_sdk::{Capability, Check, CheckInput, CheckReport, PluginError};

include!("../../model_use.rs");

struct ModelCheck;

impl Check for ModelCheck {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository, Capability::Complete]
    }

    fn run(_input: CheckInput) -> Result<CheckReport, PluginError> {
        use_the_model("check")?;
        Ok(CheckReport {
            passed: true,
            findings: Vec::new(),
            scores: None,
        })
    }
}

ralph_plugin_sdk::export_check!(ModelCheck);
