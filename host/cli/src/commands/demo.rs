//! `ralph demo`: the marketplace's main job on a bundled sample project,
//! offline and without a key.
//!
//! The sample (`examples/demo/`) is a small Rust crate with its own tests
//! and an issue with three checkboxes. The three bundled bidders are
//! model-backed; offline, their answers are replayed from
//! `examples/demo/replay.json`: the first winner has a bug the tests catch,
//! so the run shows a failed implementation, a replan round and a final
//! success. With `--llm-provider`, the same bidders ask the live model, and
//! the `model` implementer writes the change of a winner that is a plan
//! without a diff.
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use ralph_broker::llm::LlmOptions;
use ralph_marketplace::Layout;
use ralph_marketplace::setup::setup;
use ralph_models::{BuiltinReplay, ProviderKind};

use crate::agents::AGENTS;
use crate::cli::LlmFlags;
use crate::exit::{Exit, Failure, Outcome};
use crate::output::outln;

const PROJECT: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../../../examples/demo/project/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../../examples/demo/project/src/lib.rs"),
    ),
    (
        ".gitignore",
        include_str!("../../../../examples/demo/project/.gitignore"),
    ),
];
const ISSUE: &str = include_str!("../../../../examples/demo/issue.md");
const REPLAY: &str = include_str!("../../../../examples/demo/replay.json");
const REPLAY_NAME: &str = "examples/demo/replay.json (recorded, no live model)";

/// The demo's lineup: the three bundled model-backed bidders, each granted
/// what it asks for and given time for a live model's call and its
/// retries, the bundled specialists, the sample's tests as a command check
/// and the bundled check plugins. `{implementer}` is the implementer.
const CONFIG: &str = r#"{
  "bidders": {
    "bidder_1": {"plugin": "bundled:smallest-change", "grants": ["repository", "complete"],
                 "limits": {"deadline_ms": 300000}},
    "bidder_2": {"plugin": "bundled:tests-first", "grants": ["repository", "consult", "complete"],
                 "limits": {"deadline_ms": 300000}},
    "bidder_3": {"plugin": "bundled:persona-planner", "grants": ["repository", "complete"],
                 "limits": {"deadline_ms": 300000}}
  },
  "checks": [
    {"name": "tests", "argv": ["cargo", "test", "--offline", "--quiet"], "category": "test", "timeout_seconds": 600},
    {"plugin": "bundled:diff-size"},
    {"plugin": "bundled:secrets"},
    {"plugin": "bundled:debug-markers"}
  ],
  "implementer": {implementer}
}
"#;

/// Offline every replayed answer carries its diff: the `patch` implementer
/// applies it.
const REPLAYED_IMPLEMENTER: &str = r#"{"kind": "patch"}"#;

/// A live model may answer with a plan alone: the `model` implementer
/// applies a proposal's own diff and asks the model to write one that has
/// none.
const LIVE_IMPLEMENTER: &str = r#"{"kind": "model"}"#;

/// The config for a replayed or a live run.
fn config(live: bool) -> String {
    let implementer = if live {
        LIVE_IMPLEMENTER
    } else {
        REPLAYED_IMPLEMENTER
    };
    CONFIG.replace("{implementer}", implementer)
}

pub fn run(directory: Option<PathBuf>, json: bool, flags: &LlmFlags) -> Outcome {
    let overrides = crate::commands::run_loop::overrides(flags)?;
    let live = overrides
        .provider
        .is_some_and(|provider| provider != ProviderKind::Replay);
    let root = match directory {
        Some(directory) => prepare_given(&directory)?,
        None => tempfile::Builder::new()
            .prefix("ralph-demo-")
            .tempdir()
            .context("cannot create a temporary directory for the demo")
            .map_err(Failure::problem)?
            .keep(),
    };
    if !json {
        outln!("Ralph demo in {}", root.display());
        if live {
            outln!(
                "The bidders smallest-change, tests-first and persona-planner ask the model\n\
                 the --llm flags name; the model implementer applies the winner's diff, or\n\
                 asks the model for one when the winner answered with a plan alone.\n"
            );
        } else {
            outln!(
                "The bidders smallest-change, tests-first and persona-planner replay\n\
                 {REPLAY_NAME};\n\
                 the patch implementer applies the winner's diff.\n"
            );
        }
    }
    write_sample(&root, &config(live)).map_err(Failure::problem)?;
    let layout = Layout::new(&root);
    let llm = LlmOptions {
        overrides,
        default: ProviderKind::Replay,
        builtin_replay: Some(BuiltinReplay {
            name: PathBuf::from(REPLAY_NAME),
            text: REPLAY.to_owned(),
        }),
        ..LlmOptions::default()
    };
    crate::commands::run_loop::run_with(&layout, 1, json, llm)
}

/// Accepts an empty or missing directory, never one with files in it.
fn prepare_given(directory: &Path) -> Result<PathBuf, Failure> {
    if directory.exists()
        && std::fs::read_dir(directory)
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(true)
    {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "--dir {}: not empty; give a new or empty directory",
                directory.display()
            ),
        ));
    }
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create {}", directory.display()))
        .map_err(Failure::problem)?;
    Ok(directory.to_owned())
}

/// Writes the sample project, its issue and marketplace, and commits them.
fn write_sample(root: &Path, config: &str) -> anyhow::Result<()> {
    for (name, text) in PROJECT {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let layout = Layout::new(root);
    setup(&layout, AGENTS)?;
    std::fs::write(layout.config_file(), config)?;
    std::fs::create_dir_all(root.join(".ralph/issues"))?;
    std::fs::write(root.join(".ralph/issues/1.md"), ISSUE)?;
    git(root, &["init", "--quiet", "--initial-branch=main"])?;
    git(root, &["add", "--all"])?;
    git(
        root,
        &["commit", "--quiet", "-m", "The demo's sample project"],
    )?;
    Ok(())
}

fn git(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "user.name=Ralph demo",
            "-c",
            "user.email=ralph@localhost",
        ])
        .args(args)
        .output()
        .context("cannot run git; the demo needs git on PATH")?;
    anyhow::ensure!(
        output.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}
