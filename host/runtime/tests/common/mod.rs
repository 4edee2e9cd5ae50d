//! Shared set-up for the runtime's integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ralph_runtime::{
    BidderPlugin, Capability, Complexity, IssueSpec, Limits, PluginError, ProposalRequest,
    Requirement, RoundContext, Runtime, RuntimeOptions,
};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A small repository with a persona, a manifest and some source.
pub fn repository() -> std::io::Result<tempfile::TempDir> {
    let directory = tempfile::tempdir()?;
    let root = directory.path();
    fs::create_dir_all(root.join("src"))?;
    fs::create_dir_all(root.join("tests"))?;
    fs::create_dir_all(root.join(".claude/agents"))?;
    fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"demo\"\n\n[dependencies]\nthiserror = \"2\"\n\n[lints.rust]\nunsafe_code = \"deny\"\n",
    )?;
    fs::write(
        root.join("src/lib.rs"),
        "pub fn answer() -> u32 {\n    42\n}\n",
    )?;
    fs::write(root.join("tests/answer.rs"), "#[test]\nfn answers() {}\n")?;
    fs::write(
        root.join(".claude/agents/bidder.md"),
        "You are a frugal bidder who plans small, well-tested changes.\n",
    )?;
    Ok(directory)
}

/// The shared compiled-component cache of the test binaries.
pub fn cache_directory() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// A runtime on `repository` with the test cache and `options` adjusted.
pub fn runtime_with(
    repository: &Path,
    adjust: impl FnOnce(RuntimeOptions) -> RuntimeOptions,
) -> Result<Runtime, PluginError> {
    Runtime::new(adjust(
        RuntimeOptions::new(repository).with_cache(cache_directory()),
    ))
}

/// A runtime on `repository` with the test cache.
pub fn runtime(repository: &Path) -> Result<Runtime, PluginError> {
    runtime_with(repository, |options| options)
}

/// Short limits so hostile tests finish fast.
pub fn tight_limits() -> Limits {
    Limits {
        memory_bytes: 32 * 1024 * 1024,
        deadline: Duration::from_millis(500),
        output_bytes: 256 * 1024,
        console_bytes: 4096,
    }
}

pub fn hostile_bytes() -> std::io::Result<Vec<u8>> {
    fs::read(ralph_runtime_fixtures::HOSTILE_BIDDER_PATH)
}

/// Loads the hostile bidder with `grants` and `limits`.
pub async fn hostile(
    runtime: &Runtime,
    grants: &[Capability],
    limits: Limits,
) -> Result<Arc<BidderPlugin>, Box<dyn std::error::Error>> {
    let bytes = hostile_bytes()?;
    Ok(runtime
        .load_bidder(
            "hostile-bidder",
            Path::new(ralph_runtime_fixtures::HOSTILE_BIDDER_PATH),
            &bytes,
            grants.iter().copied(),
            limits,
        )
        .await?)
}

/// A request whose title picks the hostile behaviour.
pub fn request(title: &str, body: &str) -> ProposalRequest {
    ProposalRequest {
        issue: IssueSpec {
            id: "7".to_owned(),
            title: title.to_owned(),
            body: body.to_owned(),
        },
        requirements: vec![Requirement {
            id: "R1".to_owned(),
            description: "Add a --json flag to the status command".to_owned(),
            complexity: Complexity::Small,
        }],
        context: RoundContext {
            round: 1,
            attempt: 1,
            failure_report: None,
            previous_proposal: None,
            persona: None,
            personality: None,
            steering: Vec::new(),
        },
        token_allowance: None,
    }
}

/// The host still answers: the same plugin behaves and returns a proposal.
pub async fn assert_still_answers(runtime: &Runtime, bidder: &BidderPlugin) -> TestResult {
    let outcome = runtime.propose(bidder, &request("good", "")).await?;
    assert_eq!(outcome.value.summary, "A well-behaved plan");
    Ok(())
}

/// Every file under `root` with its contents, to prove nothing changed.
pub fn snapshot(root: &Path) -> std::io::Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in fs::read_dir(&directory)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), fs::read(&path).unwrap_or_default());
            }
        }
    }
    Ok(files)
}
