//! Plugin runtime benchmarks: cold compile vs cached load per bundled plugin,
//! fresh store + instantiate + `propose`, and a round of three bidders that
//! each wait 1 s in a host call.
//!
//! Run with `cargo bench -p ralph-runtime --bench plugins`; prints a Markdown
//! table of medians.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ralph_plugins_bundle::{BundledPlugin, Kind};
use ralph_runtime::{
    Capability, Complexity, DeterministicProvider, IssueSpec, Limits, PluginError, ProposalRequest,
    Requirement, RoundContext, Runtime, RuntimeOptions,
};
use wasmtime::component::Component;

type BenchResult = Result<(), Box<dyn std::error::Error>>;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn grants(plugin: &BundledPlugin) -> Vec<Capability> {
    plugin
        .capabilities
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect()
}

async fn load(runtime: &Runtime, plugin: &BundledPlugin, label: &Path) -> Result<(), PluginError> {
    let limits = Limits::default();
    match plugin.kind {
        Kind::Bidder => runtime
            .load_bidder(plugin.name, label, plugin.bytes, grants(plugin), limits)
            .await
            .map(drop),
        Kind::Specialist => runtime
            .load_specialist(plugin.name, label, plugin.bytes, grants(plugin), limits)
            .await
            .map(drop),
        Kind::Check => runtime
            .load_check(plugin.name, label, plugin.bytes, grants(plugin), limits)
            .await
            .map(drop),
    }
}

fn request() -> ProposalRequest {
    ProposalRequest {
        issue: IssueSpec {
            id: "1".to_owned(),
            title: "Add a flag".to_owned(),
            body: "Add a --json flag.".to_owned(),
        },
        requirements: vec![Requirement {
            id: "R1".to_owned(),
            description: "Add a --json flag".to_owned(),
            complexity: Complexity::Small,
        }],
        context: RoundContext {
            round: 1,
            attempt: 1,
            ..RoundContext::default()
        },
        token_allowance: None,
    }
}

async fn compile_and_load(repository: &Path, cache: &Path) -> BenchResult {
    println!(
        "| plugin | size | cold compile | cached load (new runtime + load) | cached load (load only) |"
    );
    println!("|---|---|---|---|---|");
    for plugin in ralph_plugins_bundle::ALL {
        let engine = ralph_runtime::engine::shared()?;
        let cold = median(
            (0..5)
                .map(|_| {
                    let started = Instant::now();
                    let compiled = Component::new(&engine, plugin.bytes);
                    let elapsed = started.elapsed();
                    compiled.map(|_| elapsed)
                })
                .collect::<Result<Vec<_>, _>>()?,
        );
        let warm_up = Runtime::new(RuntimeOptions::new(repository).with_cache(cache))?;
        load(&warm_up, plugin, Path::new("warm-up")).await?;
        let mut with_runtime = Vec::new();
        let mut load_only = Vec::new();
        for round in 0..50 {
            let started = Instant::now();
            let runtime = Runtime::new(RuntimeOptions::new(repository).with_cache(cache))?;
            let created = started.elapsed();
            load(&runtime, plugin, Path::new(&format!("run-{round}"))).await?;
            let total = started.elapsed();
            with_runtime.push(total);
            load_only.push(total - created);
        }
        println!(
            "| {} | {} KB | {:.1} ms | {:.3} ms | {:.3} ms |",
            plugin.name,
            plugin.bytes.len() / 1024,
            cold.as_secs_f64() * 1e3,
            median(with_runtime).as_secs_f64() * 1e3,
            median(load_only).as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

async fn propose_round_trip(repository: &Path, cache: &Path) -> BenchResult {
    let runtime = Runtime::new(RuntimeOptions::new(repository).with_cache(cache))?;
    println!("\n| bidder | fresh store + instantiate + propose (median of 2000) |");
    println!("|---|---|");
    for name in ["smallest-change", "tests-first", "persona-planner"] {
        let plugin = ralph_plugins_bundle::find(name).ok_or("not bundled")?;
        let bidder = runtime
            .load_bidder(
                name,
                Path::new(name),
                plugin.bytes,
                grants(plugin),
                Limits::default(),
            )
            .await?;
        let request = request();
        for _ in 0..100 {
            runtime.propose(&bidder, &request).await?;
        }
        let mut samples = Vec::with_capacity(2000);
        for _ in 0..2000 {
            let started = Instant::now();
            runtime.propose(&bidder, &request).await?;
            samples.push(started.elapsed());
        }
        println!("| {name} | {:.1} µs |", median(samples).as_secs_f64() * 1e6);
    }
    Ok(())
}

async fn slow_round(repository: &Path, cache: &Path) -> BenchResult {
    let provider = Arc::new(DeterministicProvider::new().with_delay(Duration::from_secs(1)));
    let runtime = Runtime::new(
        RuntimeOptions::new(repository)
            .with_cache(cache)
            .with_provider(provider),
    )?;
    let plugin = ralph_plugins_bundle::find("persona-planner").ok_or("not bundled")?;
    let bidder = runtime
        .load_bidder(
            "persona-planner",
            Path::new("persona-planner"),
            plugin.bytes,
            grants(plugin),
            Limits::default(),
        )
        .await?;
    let entries: Vec<_> = (0..3).map(|_| (bidder.clone(), request())).collect();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let results = runtime.propose_round(&entries).await;
        samples.push(started.elapsed());
        for metered in results {
            metered.result?;
        }
    }
    println!(
        "\nRound of three bidders each waiting 1 s in `complete`: median {:.3} s over 5 rounds",
        median(samples).as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> BenchResult {
    let repository = tempfile::tempdir()?;
    std::fs::create_dir_all(repository.path().join(".claude/agents"))?;
    std::fs::write(
        repository.path().join(".claude/agents/bidder.md"),
        "You are a bidder.",
    )?;
    let cache = tempfile::tempdir()?;
    compile_and_load(repository.path(), cache.path()).await?;
    propose_round_trip(repository.path(), cache.path()).await?;
    slow_round(repository.path(), cache.path()).await?;
    Ok(())
}
