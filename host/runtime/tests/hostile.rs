//! The hostile-plugin suite: every fault is contained, the host still
//! answers afterwards, and nothing outside the plugin's allowance changes.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    TestResult, assert_still_answers, hostile, repository, request, runtime, runtime_with,
    snapshot, tight_limits,
};
use ralph_runtime::{Capability, DeterministicProvider, PluginError, World};

/// Runs one hostile behaviour and returns the error it must produce, after
/// checking the host still answers and the repository is unchanged.
async fn contained(
    title: &str,
    grants: &[Capability],
) -> Result<PluginError, Box<dyn std::error::Error>> {
    let repository = repository()?;
    let before = snapshot(repository.path())?;
    let runtime = runtime(repository.path())?;
    let bidder = hostile(&runtime, grants, tight_limits()).await?;
    let result = runtime.propose(&bidder, &request(title, "")).await;
    assert_still_answers(&runtime, &bidder).await?;
    assert_eq!(
        snapshot(repository.path())?,
        before,
        "the repository changed"
    );
    match result {
        Ok(outcome) => Err(format!("{title} was not stopped: {:?}", outcome.value.summary).into()),
        Err(error) => Ok(error),
    }
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_its_deadline() -> TestResult {
    let started = Instant::now();
    let error = contained("infinite-loop", &[]).await?;
    assert!(matches!(error, PluginError::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10));
    Ok(())
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_at_its_memory_cap() -> TestResult {
    let error = contained("memory-bomb", &[]).await?;
    assert!(
        matches!(error, PluginError::MemoryExceeded { .. }),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn unbounded_recursion_traps() -> TestResult {
    let error = contained("recursion", &[]).await?;
    assert!(matches!(error, PluginError::Trap { .. }), "{error}");
    Ok(())
}

#[tokio::test]
async fn a_trap_is_contained() -> TestResult {
    let error = contained("trap", &[]).await?;
    assert!(matches!(error, PluginError::Trap { .. }), "{error}");
    Ok(())
}

#[tokio::test]
async fn a_rust_panic_is_reported_with_its_message() -> TestResult {
    let error = contained("panic", &[]).await?;
    match error {
        PluginError::Panic { message, .. } => {
            assert!(message.contains("hostile panic on purpose"), "{message}")
        }
        other => return Err(format!("expected a panic, got {other}").into()),
    }
    Ok(())
}

#[tokio::test]
async fn an_oversized_result_is_refused() -> TestResult {
    let error = contained("huge-output", &[]).await?;
    assert!(
        matches!(error, PluginError::OutputTooLarge { .. }),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn a_malformed_result_is_refused() -> TestResult {
    let error = contained("malformed-output", &[]).await?;
    assert!(
        matches!(error, PluginError::InvalidOutput { .. }),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn an_ungranted_model_call_is_denied_by_name() -> TestResult {
    let error = contained("ungranted-complete", &[Capability::Repository]).await?;
    assert!(
        matches!(
            error,
            PluginError::Denied {
                capability: Capability::Complete,
                ..
            }
        ),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn an_ungranted_consultation_is_denied_by_name() -> TestResult {
    let error = contained("ungranted-consult", &[]).await?;
    assert!(
        matches!(
            error,
            PluginError::Denied {
                capability: Capability::Consult,
                ..
            }
        ),
        "{error}"
    );
    Ok(())
}

/// Runs a probing behaviour that reports what it managed in its summary.
async fn probe(title: &str, body: &str, root: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let runtime = runtime(root)?;
    let bidder = hostile(&runtime, &[Capability::Repository], tight_limits()).await?;
    let outcome = runtime.propose(&bidder, &request(title, body)).await?;
    assert_still_answers(&runtime, &bidder).await?;
    Ok(outcome.value.summary)
}

#[tokio::test]
async fn writes_into_the_repository_fail() -> TestResult {
    let repository = repository()?;
    let before = snapshot(repository.path())?;
    let report = probe(
        "write-repository",
        "written.txt\nsrc/lib.rs\n/src/lib.rs\n.claude/agents/bidder.md\n",
        repository.path(),
    )
    .await?;
    assert!(
        !report.contains("WROTE") && !report.contains("REMOVED"),
        "{report}"
    );
    assert_eq!(snapshot(repository.path())?, before);
    Ok(())
}

#[tokio::test]
async fn system_files_and_the_home_directory_are_unreadable() -> TestResult {
    let repository = repository()?;
    let home = std::env::home_dir().unwrap_or_else(|| "/root".into());
    let body = format!(
        "/etc/passwd\n/etc/hostname\n{}\n{}/.profile\n",
        home.display(),
        home.display()
    );
    let report = probe("read-outside", &body, repository.path()).await?;
    assert!(!report.contains("READ"), "{report}");
    assert!(!report.contains("root:x:0"), "{report}");
    Ok(())
}

#[tokio::test]
async fn parent_directory_escapes_are_unreadable() -> TestResult {
    let outside = tempfile::tempdir()?;
    std::fs::write(outside.path().join("secret.txt"), "outside-secret-value")?;
    let repository = tempfile::tempdir_in(outside.path())?;
    std::fs::write(repository.path().join("inside.txt"), "inside")?;
    let body = "../secret.txt\n./../secret.txt\n/../secret.txt\n../../../../etc/passwd\n";
    let report = probe("read-outside", body, repository.path()).await?;
    assert!(!report.contains("READ"), "{report}");
    assert!(!report.contains("outside-secret-value"), "{report}");
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_pointing_outside_are_unreadable() -> TestResult {
    let outside = tempfile::tempdir()?;
    std::fs::write(outside.path().join("secret.txt"), "symlinked-secret-value")?;
    let repository = repository()?;
    std::os::unix::fs::symlink(outside.path(), repository.path().join("escape"))?;
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        repository.path().join("secret-link.txt"),
    )?;
    let report = probe(
        "read-outside",
        "escape/secret.txt\nsecret-link.txt\n",
        repository.path(),
    )
    .await?;
    assert!(!report.contains("READ"), "{report}");
    assert!(!report.contains("symlinked-secret-value"), "{report}");
    Ok(())
}

#[tokio::test]
async fn files_inside_the_repository_are_readable() -> TestResult {
    let repository = repository()?;
    let report = probe("read-outside", "src/lib.rs\n", repository.path()).await?;
    assert_eq!(report.matches("READ pub fn answer").count(), 2, "{report}");
    Ok(())
}

#[tokio::test]
async fn sockets_cannot_be_opened() -> TestResult {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let repository = repository()?;
    let report = probe("socket", &format!("{address}\n"), repository.path()).await?;
    assert!(!report.contains("CONNECTED"), "{report}");
    assert!(
        listener.accept().is_err(),
        "the plugin reached the listener"
    );
    Ok(())
}

#[tokio::test]
async fn console_output_is_captured_and_capped() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    // 10,000 writes, each a host call: the deadline is the test's patience
    // on a loaded debug build, not what is tested (that the flood neither
    // fails the call nor breaks the plugin is).
    let mut limits = tight_limits();
    limits.deadline = Duration::from_secs(20);
    let bidder = hostile(&runtime, &[Capability::Repository], limits).await?;
    let outcome = runtime
        .propose(&bidder, &request("stdout-flood", ""))
        .await?;
    assert_eq!(outcome.value.summary, "A well-behaved plan");
    assert_still_answers(&runtime, &bidder).await?;
    Ok(())
}

#[tokio::test]
async fn a_slow_plugin_past_its_deadline_does_not_hold_up_the_round() -> TestResult {
    let repository = repository()?;
    let runtime = runtime_with(repository.path(), |options| {
        options.with_provider(Arc::new(
            DeterministicProvider::new().with_delay(Duration::from_secs(5)),
        ))
    })?;
    let mut limits = tight_limits();
    limits.deadline = Duration::from_millis(300);
    let bidder = hostile(&runtime, &[Capability::Complete], limits).await?;
    let entries = vec![
        (bidder.clone(), request("slow-host-call", "")),
        (bidder.clone(), request("infinite-loop", "")),
        (bidder.clone(), request("good", "")),
    ];
    let started = Instant::now();
    let results: Vec<_> = runtime
        .propose_round(&entries)
        .await
        .into_iter()
        .map(|metered| metered.result)
        .collect();
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "the round took {elapsed:?}"
    );
    assert!(
        matches!(results[0], Err(PluginError::Timeout { .. })),
        "{:?}",
        results[0]
    );
    assert!(
        matches!(results[1], Err(PluginError::Timeout { .. })),
        "{:?}",
        results[1]
    );
    match &results[2] {
        Ok(outcome) => assert_eq!(outcome.value.summary, "A well-behaved plan"),
        Err(error) => return Err(format!("the good bidder failed: {error}").into()),
    }
    Ok(())
}

async fn load_echo_specialists(runtime: &ralph_runtime::Runtime) -> TestResult {
    for (id, path) in [
        (
            "ping-specialist",
            ralph_runtime_fixtures::PING_SPECIALIST_PATH,
        ),
        (
            "pong-specialist",
            ralph_runtime_fixtures::PONG_SPECIALIST_PATH,
        ),
    ] {
        let bytes = std::fs::read(path)?;
        runtime
            .load_specialist(
                id,
                Path::new(path),
                &bytes,
                [Capability::Consult, Capability::Complete],
                tight_limits(),
            )
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_specialist_consulting_in_a_cycle_is_contained() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    load_echo_specialists(&runtime).await?;
    let answer = runtime.ask("ping-specialist", "hello").await?.value;
    assert!(
        answer.starts_with("ping heard: pong was refused"),
        "{answer}"
    );
    assert!(
        answer
            .contains("consultation cycle: ping-specialist -> pong-specialist -> ping-specialist"),
        "{answer}"
    );
    Ok(())
}

#[tokio::test]
async fn a_bidder_consulting_into_a_cycle_is_contained() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    load_echo_specialists(&runtime).await?;
    let bidder = hostile(&runtime, &[Capability::Consult], tight_limits()).await?;
    let outcome = runtime
        .propose(&bidder, &request("consult", "ping-specialist"))
        .await?;
    assert!(
        outcome.value.summary.contains("consultation cycle"),
        "{}",
        outcome.value.summary
    );
    assert_still_answers(&runtime, &bidder).await?;
    Ok(())
}

#[tokio::test]
async fn a_component_of_the_wrong_world_is_refused_with_what_is_missing() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let bytes = common::hostile_bytes()?;
    let path = Path::new(ralph_runtime_fixtures::HOSTILE_BIDDER_PATH);
    let result = runtime
        .load_check("hostile-bidder", path, &bytes, [], tight_limits())
        .await;
    match result {
        Err(PluginError::WorldMismatch {
            path: reported,
            world,
            missing,
        }) => {
            assert_eq!(reported, path);
            assert_eq!(world, World::Check.name());
            assert!(missing.contains("export `run`"), "{missing}");
            assert!(missing.contains("consult"), "{missing}");
        }
        Err(other) => return Err(format!("unexpected error {other}").into()),
        Ok(_) => return Err("a bidder loaded as a check".into()),
    }
    Ok(())
}

#[tokio::test]
async fn garbage_bytes_are_refused_naming_the_file() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let path = Path::new("plugins/garbage.wasm");
    let result = runtime
        .load_bidder("garbage", path, b"\0asm garbage", [], tight_limits())
        .await;
    match result {
        Err(error @ PluginError::Load { .. }) => {
            assert!(error.to_string().contains("plugins/garbage.wasm"))
        }
        Err(other) => return Err(format!("unexpected error {other}").into()),
        Ok(_) => return Err("garbage loaded".into()),
    }
    Ok(())
}

/// Attack 4 of issue 10: without the `repository` grant a plugin sees no
/// file at all, neither through WASI nor through the host.
#[tokio::test]
async fn without_the_repository_grant_no_file_is_visible() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let bidder = hostile(&runtime, &[], tight_limits()).await?;
    let report = runtime
        .propose(
            &bidder,
            &request("read-outside", "src/lib.rs\n.git/config\n"),
        )
        .await?
        .value
        .summary;
    assert!(!report.contains("READ"), "{report}");
    assert!(
        report.contains("host=error PluginError::Denied(\"repository\")"),
        "{report}"
    );
    let granted = hostile(&runtime, &[Capability::Repository], tight_limits()).await?;
    let report = runtime
        .propose(&granted, &request("read-outside", "src/lib.rs\n"))
        .await?
        .value
        .summary;
    assert!(report.contains("fs=READ pub fn answer"), "{report}");
    assert!(report.contains("host=READ pub fn answer"), "{report}");
    Ok(())
}
