//! A bidder written in Python (`plugins/examples/python-bidder`), built with
//! componentize-py, loads and bids like a Rust one.
//!
//! Runs with `cargo test -p ralph-runtime --features python-plugin`; needs
//! `componentize-py` on PATH (`pip install componentize-py`).
#![cfg(feature = "python-plugin")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{TestResult, repository, request, runtime};
use ralph_runtime::{Limits, World};

fn build_python_bidder() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python_bidder.wasm");
    let status = Command::new("componentize-py")
        .arg("-d")
        .arg(workspace.join("wit/0.1.0"))
        .args(["-w", "ralph:plugin/bidder@0.1.0", "componentize", "-p"])
        .arg(workspace.join("plugins/examples/python-bidder"))
        .arg("app")
        .arg("-o")
        .arg(&output)
        .status()
        .map_err(|error| {
            format!("cannot run componentize-py ({error}); run `pip install componentize-py`")
        })?;
    if !status.success() {
        return Err(format!("componentize-py failed: {status}").into());
    }
    Ok(output)
}

#[tokio::test]
async fn a_python_bidder_loads_and_proposes() -> TestResult {
    let path = build_python_bidder()?;
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let inspection = runtime.inspect(&path).await?;
    assert_eq!(inspection.world, World::Bidder);
    assert_eq!(inspection.name, "python-bidder");
    let bytes = std::fs::read(&path)?;
    let limits = Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    };
    let bidder = runtime
        .load_bidder("python-bidder", &path, &bytes, [], limits)
        .await?;
    let proposal = runtime
        .propose(&bidder, &request("Add a flag", ""))
        .await?
        .value;
    assert!(
        proposal
            .summary
            .starts_with("Document \"Add a flag\" in the README"),
        "{}",
        proposal.summary
    );
    assert_eq!(proposal.requirements_covered, ["R1"]);
    assert_eq!(proposal.files[1].estimated_lines, 20);
    let mut empty = request("Add a flag", "");
    empty.requirements.clear();
    let error = runtime
        .propose(&bidder, &empty)
        .await
        .err()
        .ok_or("no error")?;
    assert!(
        error.to_string().contains("the issue has no requirements"),
        "{error}"
    );
    Ok(())
}
