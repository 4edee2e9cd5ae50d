//! `ralph plugin inspect FILE`: what a component is, before configuring it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use super::{block_on, plugin_failure, runtime};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, out};

/// The prefix naming a plugin shipped with Ralph.
const BUNDLED_PREFIX: &str = "bundled:";

pub fn run(file: &str, cache: Option<PathBuf>, json: bool) -> Outcome {
    let (label, bytes) = component(file)?;
    // The plugin sees no files: inspecting a component must not show it the
    // user's repository.
    let runtime = runtime(cache)?;
    let inspection = block_on(runtime.inspect_bytes(&label, &bytes))?.map_err(plugin_failure)?;
    if json {
        output::json_line(&inspection.to_json());
    } else {
        out!("{inspection}");
    }
    Ok(Exit::Success)
}

/// The component's label (for messages) and bytes: a bundled plugin or a
/// file.
fn component(file: &str) -> Result<(PathBuf, Cow<'static, [u8]>), Failure> {
    if let Some(name) = file.strip_prefix(BUNDLED_PREFIX) {
        let plugin = ralph_plugins_bundle::find(name).ok_or_else(|| {
            let known: Vec<&str> = ralph_plugins_bundle::ALL
                .iter()
                .map(|plugin| plugin.name)
                .collect();
            Failure::bad_input(anyhow!(
                "{file}: no bundled plugin named {name:?} (bundled: {})",
                known.join(", ")
            ))
        })?;
        return Ok((PathBuf::from(file), Cow::Borrowed(plugin.bytes)));
    }
    let path = Path::new(file);
    let bytes = std::fs::read(path)
        .with_context(|| {
            format!(
                "{}: cannot read the component; give a .wasm file or bundled:NAME",
                path.display()
            )
        })
        .map_err(Failure::bad_input)?;
    Ok((path.to_owned(), Cow::Owned(bytes)))
}
