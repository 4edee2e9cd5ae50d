//! Versions only add: a plugin built against `ralph:plugin@0.1.0` keeps
//! loading and working next to one built against 0.2.0, which also gets
//! what 0.2.0 added; a component of a version no host runs is refused,
//! naming the versions this one runs.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{TestResult, repository, request, runtime, tight_limits};
use ralph_runtime::contract::ContractError;
use ralph_runtime::{
    BidderPlugin, Capability, ContractVersion, Limits, PluginError, Runtime, World,
};

/// What the fixtures' `read-file` reads: the first line of the common
/// repository's `src/lib.rs`.
const READ: &str = "pub fn answer() -> u32 {";

async fn load(
    runtime: &Runtime,
    id: &str,
    path: &str,
    grants: &[Capability],
) -> Result<Arc<BidderPlugin>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let limits = Limits {
        deadline: std::time::Duration::from_secs(10),
        ..tight_limits()
    };
    Ok(runtime
        .load_bidder(id, Path::new(path), &bytes, grants.iter().copied(), limits)
        .await?)
}

#[tokio::test]
async fn a_0_1_0_bidder_and_a_0_2_0_bidder_propose_in_the_same_round() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let grants = [Capability::Repository, Capability::Consult];
    let old = load(
        &runtime,
        "old",
        ralph_runtime_fixtures::BIDDER_0_1_0_PATH,
        &grants,
    )
    .await?;
    let new = load(
        &runtime,
        "new",
        ralph_runtime_fixtures::BIDDER_0_2_0_PATH,
        &grants,
    )
    .await?;
    let pong = std::fs::read(ralph_runtime_fixtures::PONG_SPECIALIST_PATH)?;
    runtime
        .load_specialist(
            "pong-specialist",
            Path::new("pong.wasm"),
            &pong,
            [Capability::Consult],
            tight_limits(),
        )
        .await?;
    assert_eq!(old.contract_version(), ContractVersion::V0_1_0);
    assert_eq!(new.contract_version(), ContractVersion::V0_2_0);
    let mut proposal_request = request("Steer me", "src/lib.rs\npong-specialist");
    proposal_request.context.attempt = 2;
    proposal_request.context.failure_report = Some("tests failed".to_owned());
    proposal_request.context.persona = Some("A careful engineer".to_owned());
    proposal_request.context.steering = vec![
        "Prefer a --json flag".to_owned(),
        "Keep the change small".to_owned(),
    ];
    let entries = vec![
        (old.clone(), proposal_request.clone()),
        (new.clone(), proposal_request),
    ];

    let results = runtime.propose_round(&entries).await;

    let [old_result, new_result] = results.as_slice() else {
        return Err(format!("{} results for two bidders", results.len()).into());
    };
    let new_summary = match &new_result.result {
        Ok(outcome) => outcome.value.summary.clone(),
        Err(error) => return Err(format!("the 0.2.0 bidder failed: {error}").into()),
    };
    assert_eq!(
        new_summary,
        format!(
            "bidder-0-2-0 in round 1, attempt 2; steering: [Prefer a --json flag | Keep the \
             change small]; read: {READ}"
        )
    );
    let old_summary = match &old_result.result {
        Ok(outcome) => outcome.value.summary.clone(),
        Err(error) => return Err(format!("the 0.1.0 bidder failed: {error}").into()),
    };
    assert!(
        old_summary.starts_with(
            "bidder-0-1-0 in round 1, attempt 2; persona: Some(\"A careful engineer\"); \
             failure: Some(\"tests failed\"); "
        ),
        "{old_summary}"
    );
    assert!(
        old_summary.contains(&format!("; read: {READ};")),
        "{old_summary}"
    );
    // A 0.2.0 specialist answered the 0.1.0 bidder's consultation.
    assert!(
        old_summary.contains("; consulted: pong was refused: ") && old_summary.contains("NotFound"),
        "{old_summary}"
    );
    assert!(!old_summary.contains("json"), "{old_summary}");
    Ok(())
}

#[tokio::test]
async fn a_0_1_0_plugins_capability_names_are_parsed_as_before() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let old = load(
        &runtime,
        "old",
        ralph_runtime_fixtures::BIDDER_0_1_0_PATH,
        &[Capability::Repository],
    )
    .await?;
    assert_eq!(
        old.metadata().capabilities,
        [Capability::Repository, Capability::Consult]
    );
    assert_eq!(
        old.identity().capabilities.effective(),
        [Capability::Repository].into_iter().collect()
    );

    let inspection = runtime
        .inspect(Path::new(ralph_runtime_fixtures::BIDDER_0_1_0_PATH))
        .await?;
    assert_eq!(inspection.world, World::Bidder);
    assert_eq!(inspection.contract_version, ContractVersion::V0_1_0);
    assert_eq!(
        inspection.capabilities,
        [Capability::Repository, Capability::Consult]
    );
    assert!(
        inspection
            .imports
            .iter()
            .any(|import| import == "ralph:plugin/types@0.1.0"),
        "{:?}",
        inspection.imports
    );
    assert!(
        inspection
            .to_string()
            .contains("\ncontract: ralph:plugin@0.1.0\n")
    );
    Ok(())
}

#[tokio::test]
async fn a_component_of_an_unknown_contract_version_is_refused_naming_the_supported_ones()
-> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let path = ralph_runtime_fixtures::UNKNOWN_VERSION_BIDDER_PATH;
    let error = match load(&runtime, "unknown", path, &[]).await {
        Ok(_) => return Err("a 0.9.0 component loaded".into()),
        Err(error) => error,
    };
    let message = error.to_string();
    match error.downcast_ref::<PluginError>() {
        Some(PluginError::Contract {
            path: reported,
            error: ContractError::Unsupported { found },
        }) => {
            assert_eq!(reported, Path::new(path));
            assert_eq!(found, "0.9.0");
        }
        _ => return Err(format!("unexpected error: {message}").into()),
    }
    assert!(message.contains(path), "{message}");
    assert!(message.contains("`ralph:plugin@0.9.0`"), "{message}");
    assert!(message.contains("0.1.0, 0.2.0"), "{message}");

    let inspected = runtime.inspect(Path::new(path)).await;
    assert!(
        matches!(inspected, Err(PluginError::Contract { .. })),
        "{inspected:?}"
    );
    Ok(())
}
