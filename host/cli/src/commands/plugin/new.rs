//! `ralph plugin new --kind KIND NAME`: a plugin crate to start from.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use ralph_runtime::World;
use ralph_runtime::scaffold::{ScaffoldError, SdkDependency, scaffold};

use crate::cli::PluginKind;
use crate::exit::{Exit, Failure, Outcome};

/// The guest SDK in the source tree this binary was built from.
const SOURCE_TREE_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk");

pub fn run(kind: PluginKind, name: &str, parent: Option<PathBuf>, sdk: Option<PathBuf>) -> Outcome {
    let world = world_of(kind);
    let sdk = sdk_directory(sdk)?;
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
    print!("{}", next_steps(world, name, &directory, &sdk));
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
/// `--sdk`, else the SDK of Ralph's own source tree.
fn sdk_directory(explicit: Option<PathBuf>) -> Result<PathBuf, Failure> {
    let Some(directory) = explicit else {
        let source_tree = Path::new(SOURCE_TREE_SDK);
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
