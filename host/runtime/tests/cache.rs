//! The compiled-component cache: a warm start does not recompile, and a
//! corrupt entry is ignored and rebuilt.

mod common;

use std::path::Path;

use common::{TestResult, repository};
use ralph_runtime::{
    CacheOutcome, Capability, ComponentCache, Limits, LimitsConfig, LoadedPlugin, PluginConfig,
    Runtime, RuntimeOptions, World,
};

async fn load_outcome(
    repository: &Path,
    cache: &Path,
) -> Result<CacheOutcome, Box<dyn std::error::Error>> {
    let runtime = Runtime::new(RuntimeOptions::new(repository).with_cache(cache))?;
    let plugin = ralph_plugins_bundle::find("diff-size").ok_or("not bundled")?;
    let check = runtime
        .load_check(
            "diff-size",
            Path::new("diff-size"),
            plugin.bytes,
            [],
            Limits::default(),
        )
        .await?;
    Ok(check.cache_outcome())
}

#[tokio::test]
async fn a_warm_start_reads_the_cache_instead_of_compiling() -> TestResult {
    let repository = repository()?;
    let cache = tempfile::tempdir()?;
    assert_eq!(
        load_outcome(repository.path(), cache.path()).await?,
        CacheOutcome::Compiled
    );
    assert_eq!(
        load_outcome(repository.path(), cache.path()).await?,
        CacheOutcome::Hit
    );
    Ok(())
}

#[tokio::test]
async fn a_corrupt_cache_entry_is_ignored_and_rebuilt() -> TestResult {
    let repository = repository()?;
    let cache = tempfile::tempdir()?;
    assert_eq!(
        load_outcome(repository.path(), cache.path()).await?,
        CacheOutcome::Compiled
    );
    let engine = ralph_runtime::engine::shared()?;
    let plugin = ralph_plugins_bundle::find("diff-size").ok_or("not bundled")?;
    let entry = ComponentCache::new(cache.path()).entry_path(&engine, plugin.bytes);
    let mut contents = std::fs::read(&entry)?;
    let middle = contents.len() / 2;
    contents[middle] ^= 0xff;
    std::fs::write(&entry, &contents)?;
    assert_eq!(
        load_outcome(repository.path(), cache.path()).await?,
        CacheOutcome::Compiled
    );
    std::fs::write(&entry, b"short")?;
    assert_eq!(
        load_outcome(repository.path(), cache.path()).await?,
        CacheOutcome::Compiled
    );
    assert_eq!(
        load_outcome(repository.path(), cache.path()).await?,
        CacheOutcome::Hit
    );
    Ok(())
}

/// Attack 2 of issue 10: an entry compiled from another component (the
/// attacker's), planted under the name of a bundled plugin's entry, is never
/// loaded as that plugin.
#[tokio::test]
async fn an_entry_compiled_from_another_component_is_never_loaded() -> TestResult {
    let repository = repository()?;
    let cache = tempfile::tempdir()?;
    let runtime = Runtime::new(RuntimeOptions::new(repository.path()).with_cache(cache.path()))?;
    let attacker = ralph_plugins_bundle::find("secrets").ok_or("not bundled")?;
    let victim = ralph_plugins_bundle::find("diff-size").ok_or("not bundled")?;
    runtime
        .load_check(
            "secrets",
            Path::new("secrets"),
            attacker.bytes,
            [],
            Limits::default(),
        )
        .await?;
    let engine = ralph_runtime::engine::shared()?;
    let cache_of = ComponentCache::new(cache.path());
    std::fs::copy(
        cache_of.entry_path(&engine, attacker.bytes),
        cache_of.entry_path(&engine, victim.bytes),
    )?;
    let loaded = Runtime::new(RuntimeOptions::new(repository.path()).with_cache(cache.path()))?
        .load_check(
            "diff-size",
            Path::new("diff-size"),
            victim.bytes,
            [],
            Limits::default(),
        )
        .await?;
    assert_eq!(loaded.cache_outcome(), CacheOutcome::Compiled);
    assert_eq!(loaded.metadata().name, "diff-size");
    Ok(())
}

#[tokio::test]
async fn without_a_cache_every_load_compiles() -> TestResult {
    let repository = repository()?;
    let runtime = Runtime::new(RuntimeOptions::new(repository.path()))?;
    let plugin = ralph_plugins_bundle::find("secrets").ok_or("not bundled")?;
    let check = runtime
        .load_check(
            "secrets",
            Path::new("secrets"),
            plugin.bytes,
            [],
            Limits::default(),
        )
        .await?;
    assert_eq!(check.cache_outcome(), CacheOutcome::Uncached);
    Ok(())
}

#[tokio::test]
async fn a_configured_plugin_loads_from_its_file_with_its_grants_and_limits() -> TestResult {
    let repository = repository()?;
    let runtime = common::runtime(repository.path())?;
    let config = PluginConfig {
        id: None,
        path: ralph_runtime_fixtures::HOSTILE_BIDDER_PATH.into(),
        world: World::Bidder,
        grants: [Capability::Consult].into_iter().collect(),
        limits: LimitsConfig {
            memory_mib: Some(64),
            deadline_ms: Some(250),
            output_kib: None,
        },
    };
    let LoadedPlugin::Bidder(bidder) = runtime.load(&config).await? else {
        return Err("not loaded as a bidder".into());
    };
    let identity = bidder.identity();
    assert_eq!(identity.name, "hostile-bidder");
    assert_eq!(identity.limits.memory_bytes, 64 * 1024 * 1024);
    assert_eq!(identity.limits.deadline.as_millis(), 250);
    assert_eq!(
        identity.capabilities.effective(),
        [Capability::Consult].into_iter().collect()
    );
    let missing = PluginConfig {
        id: None,
        path: "does/not/exist.wasm".into(),
        ..config
    };
    let error = runtime
        .load(&missing)
        .await
        .err()
        .ok_or("a missing file loaded")?;
    assert!(error.to_string().contains("does/not/exist.wasm"), "{error}");
    Ok(())
}
