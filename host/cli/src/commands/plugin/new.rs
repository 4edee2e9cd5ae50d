//! `ralph plugin new --kind KIND NAME`: a plugin crate to start from.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use ralph_runtime::World;
use ralph_runtime::scaffold::{ScaffoldError, SdkDependency, scaffold};

use crate::cli::PluginKind;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, out};

/// The guest SDK in the source tree this binary was built from.
const SOURCE_TREE_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk");

pub fn run(
    kind: PluginKind,
    name: &str,
    parent: Option<PathBuf>,
    sdk: Option<PathBuf>,
    json: bool,
) -> Outcome {
    let world = world_of(kind);
    let sdk = sdk_directory(sdk, Path::new(SOURCE_TREE_SDK))?;
    let parent = parent.unwrap_or_else(|| PathBuf::from("."));
    let directory =
        scaffold(world, name, &parent, &SdkDependency::Path(sdk.clone())).map_err(|error| {
            match error {
                ScaffoldError::InvalidName(_) | ScaffoldError::Exists(_) => {
                    Failure::bad_input(error)
                }
                ScaffoldError::Write { .. } => Failure::problem(error),
            }
        })?;
    if json {
        output::json_line(
            &serde_json::json!({
                "world": world.to_string(),
                "name": name,
                "directory": directory.display().to_string(),
                "sdk": sdk.display().to_string(),
                "component": format!(
                    "target/wasm32-wasip2/release/{}.wasm",
                    name.replace('-', "_")
                ),
            })
            .to_string(),
        );
        return Ok(Exit::Success);
    }
    out!("{}", next_steps(world, name, &directory, &sdk));
    Ok(Exit::Success)
}

fn world_of(kind: PluginKind) -> World {
    match kind {
        PluginKind::Bidder => World::Bidder,
        PluginKind::Specialist => World::Specialist,
        PluginKind::Check => World::Check,
    }
}

/// The SDK's directory, absolute so the new crate builds from anywhere:
/// `--sdk`, else `source_tree` (the SDK of Ralph's own source tree).
fn sdk_directory(explicit: Option<PathBuf>, source_tree: &Path) -> Result<PathBuf, Failure> {
    let Some(directory) = explicit else {
        return source_tree.canonicalize().map_err(|_| {
            Failure::bad_input(anyhow!(
                "Ralph's guest SDK is not at {} (this binary was built elsewhere); \
                 pass --sdk PATH with the plugins/sdk directory of a Ralph checkout",
                source_tree.display()
            ))
        });
    };
    if !directory.join("Cargo.toml").is_file() {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "--sdk {}: no Cargo.toml there; give the plugins/sdk directory of a Ralph checkout",
                directory.display()
            ),
        ));
    }
    directory
        .canonicalize()
        .with_context(|| format!("--sdk {}: cannot resolve the path", directory.display()))
        .map_err(Failure::bad_input)
}

/// What to do after scaffolding: build, inspect, configure.
fn next_steps(world: World, name: &str, directory: &Path, sdk: &Path) -> String {
    let file_name = format!("{}.wasm", name.replace('-', "_"));
    let artifact = format!("target/wasm32-wasip2/release/{file_name}");
    let configured = format!(".ralph/plugins/{file_name}");
    let section = match world {
        World::Bidder => format!("\"bidders\": {{\"bidder_1\": {{\"plugin\": \"{configured}\"}}}}"),
        World::Specialist => format!("\"specialists\": [{{\"plugin\": \"{configured}\"}}]"),
        World::Check => format!("\"checks\": [{{\"plugin\": \"{configured}\"}}]"),
    };
    format!(
        "Created the {world} {name} in {directory}\n\
         (its SDK: {sdk})\n\
         \n\
         Next steps:\n  \
         cd {directory}\n  \
         rustup target add wasm32-wasip2    # once\n  \
         cargo build --target wasm32-wasip2 --release\n  \
         ralph plugin inspect {artifact}\n\
         \n\
         To use it, copy the component into your repository, say to\n  \
         {configured}\n\
         and name it in `.ralph/config.json` with the capabilities you grant:\n  \
         {section}\n\
         `ralph plugin list` then shows it; docs/plugins.md has the details.\n",
        directory = directory.display(),
        sdk = sdk.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_sdk_the_source_tree_sdk_is_used_when_it_exists() {
        let directory = tempfile::tempdir().expect("temp dir");
        let sdk = sdk_directory(None, directory.path()).expect("the directory exists");
        assert_eq!(sdk, directory.path().canonicalize().expect("canonical"));
    }

    #[test]
    fn without_sdk_and_without_a_source_tree_the_error_says_to_pass_sdk() {
        let directory = tempfile::tempdir().expect("temp dir");
        let missing = directory.path().join("plugins/sdk");
        let failure = sdk_directory(None, &missing).expect_err("no SDK there");
        assert_eq!(failure.exit, Exit::BadInput);
        let message = failure.error.to_string();
        assert!(message.contains("pass --sdk PATH"), "{message}");
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn an_sdk_directory_must_hold_a_crate_and_is_made_absolute() {
        let directory = tempfile::tempdir().expect("temp dir");
        let failure =
            sdk_directory(Some(directory.path().to_owned()), Path::new("/")).expect_err("empty");
        assert_eq!(failure.exit, Exit::BadInput);
        assert!(failure.error.to_string().contains("no Cargo.toml there"));
        std::fs::write(directory.path().join("Cargo.toml"), "").expect("write");
        let sdk = sdk_directory(Some(directory.path().join(".")), Path::new("/")).expect("a crate");
        assert_eq!(sdk, directory.path().canonicalize().expect("canonical"));
    }

    #[test]
    fn next_steps_name_the_build_the_inspect_and_the_config_section() {
        let steps = next_steps(
            World::Specialist,
            "risk-reviewer",
            Path::new("plugins/risk-reviewer"),
            Path::new("/sdk"),
        );
        assert!(steps.contains("cd plugins/risk-reviewer"));
        assert!(steps.contains("cargo build --target wasm32-wasip2 --release"));
        assert!(
            steps.contains("ralph plugin inspect target/wasm32-wasip2/release/risk_reviewer.wasm")
        );
        assert!(
            steps.contains(r#""specialists": [{"plugin": ".ralph/plugins/risk_reviewer.wasm"}]"#)
        );
        assert!(
            steps.lines().all(|line| line.chars().count() <= 80),
            "{steps}"
        );
    }
}
