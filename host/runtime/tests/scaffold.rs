//! `ralph plugin new` scaffolds a crate that builds and passes `inspect`.

mod common;

use std::path::Path;

use common::{TestResult, repository, runtime};
use ralph_runtime::scaffold::{SdkDependency, scaffold};
use ralph_runtime::{ContractVersion, World};

fn build(crate_directory: &Path, target_directory: &Path) -> TestResult {
    ralph_guest_build::build_standalone(crate_directory, target_directory)?;
    Ok(())
}

#[tokio::test]
async fn scaffolds_of_every_kind_build_and_pass_inspect() -> TestResult {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/sdk")
        .canonicalize()?;
    let parent = tempfile::tempdir()?;
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    for (world, name) in [
        (World::Bidder, "my-bidder"),
        (World::Specialist, "my-specialist"),
        (World::Check, "my-check"),
    ] {
        let directory = scaffold(
            world,
            name,
            parent.path(),
            &SdkDependency::Path(sdk.clone()),
        )?;
        build(&directory, &target)?;
        let artifact = target
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let inspection = runtime.inspect(&artifact).await?;
        assert_eq!(inspection.world, world);
        assert_eq!(inspection.name, name);
        assert_eq!(inspection.version, "0.1.0");
        assert_eq!(inspection.contract_version, ContractVersion::NEWEST);
        assert!(inspection.exports.iter().any(|export| export == "metadata"));
        assert!(
            inspection
                .imports
                .iter()
                .any(|import| import.starts_with("wasi:"))
        );
    }
    Ok(())
}

#[tokio::test]
async fn inspect_reports_a_bundled_check() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let plugin = ralph_plugins_bundle::find("secrets").ok_or("not bundled")?;
    let inspection = runtime
        .inspect_bytes(Path::new("secrets.wasm"), plugin.bytes)
        .await?;
    assert_eq!(inspection.world, World::Check);
    assert_eq!(inspection.name, "secrets");
    assert_eq!(inspection.exports, ["metadata", "run"]);
    assert!(
        inspection
            .imports
            .iter()
            .any(|import| import == "ralph:plugin/types@0.2.0")
    );
    let json: serde_json::Value = serde_json::from_str(&inspection.to_json())?;
    assert_eq!(json["world"], "check");
    assert_eq!(json["contract_version"], "0.2.0");
    Ok(())
}
