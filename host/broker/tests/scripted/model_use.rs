// What the scripted reviewer and check do with the model, shared by both:
// `ralph-script/<NAME>.json` holds `{"completions": N, "fail": BOOL}`. The
// plugin asks the model N times (stopping at the first refusal), then fails
// with an error when `fail` is set, so that the usage of a failed call can
// be tested. It needs the `repository` and `complete` grants, and the
// script must be committed (plugins see a clean checkout).

#[derive(serde::Deserialize)]
struct ModelUse {
    #[serde(default)]
    completions: u32,
    #[serde(default)]
    fail: bool,
}

/// Reads the script and asks the model; how many answers came, or the
/// scripted failure.
fn use_the_model(name: &str) -> Result<u32, ralph_plugin_sdk::PluginError> {
    use ralph_plugin_sdk::PluginError;
    let path = format!("ralph-script/{name}.json");
    let script: ModelUse = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|error| PluginError::InvalidRequest(format!("{path}: {error}")))?,
        Err(_) => ModelUse {
            completions: 0,
            fail: false,
        },
    };
    let mut answered = 0;
    for _ in 0..script.completions {
        if ralph_plugin_sdk::host::complete(None, "review the change", 20).is_err() {
            break;
        }
        answered += 1;
    }
    if script.fail {
        return Err(PluginError::Failed(format!(
            "{name} failed as scripted after {answered} answers"
        )));
    }
    Ok(answered)
}
