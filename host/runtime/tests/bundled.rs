//! Every plugin Ralph ships loads and does its job.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{TestResult, repository, request, runtime, runtime_with};
use futures::future::BoxFuture;
use ralph_plugins_bundle::{BundledPlugin, Kind};
use ralph_runtime::{
    BidderPlugin, Capability, CheckInput, CheckPlugin, Completion, CompletionRequest,
    DeterministicProvider, DimensionScores, FileChange, InnovationPreference, Limits,
    ModelProvider, Personality, Proposal, ProviderError, RiskTolerance, Runtime, Severity,
    Verbosity,
};

fn grants(plugin: &BundledPlugin) -> Vec<Capability> {
    plugin
        .capabilities
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect()
}

fn limits() -> Limits {
    Limits {
        deadline: Duration::from_secs(5),
        ..Limits::default()
    }
}

async fn load_all(runtime: &Runtime) -> Result<(), Box<dyn std::error::Error>> {
    for plugin in ralph_plugins_bundle::ALL {
        let label = Path::new(plugin.name);
        let name = match plugin.kind {
            Kind::Bidder => runtime
                .load_bidder(plugin.name, label, plugin.bytes, grants(plugin), limits())
                .await?
                .name()
                .to_owned(),
            Kind::Specialist => runtime
                .load_specialist(plugin.name, label, plugin.bytes, grants(plugin), limits())
                .await?
                .name()
                .to_owned(),
            Kind::Check => runtime
                .load_check(plugin.name, label, plugin.bytes, grants(plugin), limits())
                .await?
                .name()
                .to_owned(),
        };
        assert_eq!(name, plugin.name);
    }
    Ok(())
}

async fn bidder(
    runtime: &Runtime,
    name: &str,
) -> Result<Arc<BidderPlugin>, Box<dyn std::error::Error>> {
    let plugin = ralph_plugins_bundle::find(name).ok_or("not bundled")?;
    Ok(runtime
        .load_bidder(
            name,
            Path::new(name),
            plugin.bytes,
            grants(plugin),
            limits(),
        )
        .await?)
}

async fn check(
    runtime: &Runtime,
    name: &str,
) -> Result<Arc<CheckPlugin>, Box<dyn std::error::Error>> {
    let plugin = ralph_plugins_bundle::find(name).ok_or("not bundled")?;
    Ok(runtime
        .load_check(
            name,
            Path::new(name),
            plugin.bytes,
            grants(plugin),
            limits(),
        )
        .await?)
}

#[tokio::test]
async fn every_bundled_plugin_loads_with_metadata_matching_the_bundle() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    load_all(&runtime).await
}

/// A model that answers every request with one text, keeping the requests.
struct Answering {
    text: String,
    requests: std::sync::Mutex<Vec<CompletionRequest>>,
}

impl Answering {
    fn new(text: &str) -> Arc<Answering> {
        Arc::new(Answering {
            text: text.to_owned(),
            requests: std::sync::Mutex::new(Vec::new()),
        })
    }

    fn prompts(&self) -> Vec<CompletionRequest> {
        self.requests
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default()
    }
}

impl ModelProvider for Answering {
    fn complete<'a>(
        &'a self,
        _caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request);
        }
        let text = self.text.clone();
        Box::pin(async move {
            Ok(Completion {
                text,
                usage: ralph_runtime::TokenUsage::default(),
            })
        })
    }
}

/// A model's answer: a plan, its covers line, and a diff adding a test
/// and a function to the fixture's `src/lib.rs`.
const ANSWER: &str = "Add `flag` next to `answer` and test it.\n\nCovers: R1\n\n```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,10 @@\n pub fn answer() -> u32 {\n     42\n }\n+pub fn flag() -> bool {\n+    true\n+}\n+#[test]\n+fn the_flag_is_set() {\n+    assert!(flag());\n+}\n```\n";

#[tokio::test]
async fn smallest_change_asks_for_the_smallest_change_with_the_files_the_issue_names() -> TestResult
{
    let repository = repository()?;
    let model = Answering::new(ANSWER);
    let shared: Arc<dyn ModelProvider> = model.clone();
    let runtime = runtime_with(repository.path(), |options| options.with_provider(shared))?;
    let bidder = bidder(&runtime, "smallest-change").await?;
    let mut request = request("Add a flag", "Change `src/lib.rs` and missing.rs.");
    request.context.failure_report = Some("tests failed: the flag is unset".to_owned());
    let proposal = runtime.propose(&bidder, &request).await?.value;
    let prompts = model.prompts();
    let [asked] = prompts.as_slice() else {
        return Err(format!("expected one request, got {prompts:?}").into());
    };
    assert!(
        asked.prompt.contains("Smallest change:"),
        "{}",
        asked.prompt
    );
    assert!(
        asked
            .prompt
            .contains("### src/lib.rs\n```\npub fn answer() -> u32 {"),
        "the named file's text is in the prompt: {}",
        asked.prompt
    );
    assert!(!asked.prompt.contains("missing.rs\n"), "{}", asked.prompt);
    assert!(
        asked.prompt.contains("tests failed: the flag is unset"),
        "a replan's failure report is in the prompt: {}",
        asked.prompt
    );
    let paths: Vec<(&str, u32)> = proposal
        .files
        .iter()
        .map(|file| (file.path.as_str(), file.estimated_lines))
        .collect();
    assert_eq!(paths, [("src/lib.rs", 7)], "the patch's own numbers");
    assert_eq!(proposal.planned_tests, ["the_flag_is_set"]);
    assert_eq!(proposal.requirements_covered, ["R1"]);
    assert_eq!(proposal.summary, "Add `flag` next to `answer` and test it.");
    assert!(
        proposal
            .patch
            .as_deref()
            .is_some_and(|patch| patch.contains("+pub fn flag()"))
    );
    Ok(())
}

#[tokio::test]
async fn every_bundled_bidder_puts_the_users_steering_into_its_prompt_marked_as_theirs()
-> TestResult {
    let repository = repository()?;
    for name in ["smallest-change", "tests-first", "persona-planner"] {
        let model = Answering::new(ANSWER);
        let shared: Arc<dyn ModelProvider> = model.clone();
        let runtime = runtime_with(repository.path(), |options| options.with_provider(shared))?;
        let bidder = bidder(&runtime, name).await?;
        let mut request = request("Add a flag", "Change `src/lib.rs`.");
        request.context.steering = vec![
            "Call the flag --json".to_owned(),
            "Do not touch the tests".to_owned(),
        ];
        runtime.propose(&bidder, &request).await?;
        let prompts = model.prompts();
        let asked = prompts.first().ok_or("no request")?;
        let section = asked
            .prompt
            .split_once("## Steering from the user running this loop\n")
            .map(|(_, section)| section)
            .ok_or_else(|| format!("{name} has no steering section: {}", asked.prompt))?;
        assert!(
            section.contains("> Call the flag --json\n\n> Do not touch the tests\n"),
            "{name}: {}",
            asked.prompt
        );
    }
    Ok(())
}

#[tokio::test]
async fn tests_first_asks_for_tests_before_code_with_the_specialists_advice() -> TestResult {
    let repository = repository()?;
    let model = Answering::new(ANSWER);
    let shared: Arc<dyn ModelProvider> = model.clone();
    let runtime = runtime_with(repository.path(), |options| options.with_provider(shared))?;
    load_all(&runtime).await?;
    // Already loaded under the same name is fine for bidders: load another copy.
    let bidder = bidder(&runtime, "tests-first").await?;
    let proposal = runtime
        .propose(&bidder, &request("Add a flag", ""))
        .await?
        .value;
    let prompts = model.prompts();
    let asked = prompts.first().ok_or("no request")?;
    assert!(asked.prompt.contains("Tests first:"), "{}", asked.prompt);
    assert!(
        asked
            .prompt
            .contains("Where tests live in this repository:"),
        "the consulted specialist's advice: {}",
        asked.prompt
    );
    assert_eq!(proposal.planned_tests, ["the_flag_is_set"]);
    Ok(())
}

#[tokio::test]
async fn a_bidder_whose_model_writes_no_diff_proposes_a_plan_only() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    for name in ["smallest-change", "tests-first", "persona-planner"] {
        let bidder = bidder(&runtime, name).await?;
        let proposal = runtime
            .propose(&bidder, &request("Add a flag", "Change `src/lib.rs`."))
            .await?
            .value;
        assert_eq!(proposal.patch, None, "{name}");
        let files: Vec<(&str, u32)> = proposal
            .files
            .iter()
            .map(|file| (file.path.as_str(), file.estimated_lines))
            .collect();
        assert_eq!(
            files,
            [("src/lib.rs", 0)],
            "{name}: the issue's file, for the implementer, with no invented size"
        );
        assert!(
            proposal.planned_tests.is_empty(),
            "{name}: no invented tests"
        );
        assert_eq!(proposal.requirements_covered, ["R1"], "{name}");
    }
    Ok(())
}

#[tokio::test]
async fn persona_planner_asks_the_model_with_the_persona() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let bidder = bidder(&runtime, "persona-planner").await?;
    let outcome = runtime.propose(&bidder, &request("Add a flag", "")).await?;
    assert!(
        outcome.value.summary.starts_with("Deterministic answer"),
        "{}",
        outcome.value.summary
    );
    assert!(outcome.usage.input_tokens > 10, "{:?}", outcome.usage);
    let again = runtime.propose(&bidder, &request("Add a flag", "")).await?;
    assert_eq!(
        again.value, outcome.value,
        "the deterministic provider answers alike"
    );
    Ok(())
}

/// The deterministic provider, keeping every request it gets.
#[derive(Default)]
struct Recording {
    inner: DeterministicProvider,
    requests: std::sync::Mutex<Vec<CompletionRequest>>,
}

impl ModelProvider for Recording {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request.clone());
        }
        self.inner.complete(caller, request)
    }
}

#[tokio::test]
async fn persona_planner_speaks_in_the_hosts_persona_and_follows_the_personality() -> TestResult {
    let repository = repository()?;
    let provider = Arc::new(Recording::default());
    let shared: Arc<dyn ModelProvider> = provider.clone();
    let runtime = runtime_with(repository.path(), |options| options.with_provider(shared))?;
    let bidder = bidder(&runtime, "persona-planner").await?;
    let mut tuned = request("Add a flag", "");
    tuned.context.persona = Some("You are Carl, a cautious bidder.".to_owned());
    tuned.context.personality = Some(Personality {
        risk_tolerance: RiskTolerance::Conservative,
        innovation_preference: InnovationPreference::High,
        verbosity: Verbosity::Terse,
    });
    runtime.propose(&bidder, &tuned).await?;
    runtime.propose(&bidder, &request("Add a flag", "")).await?;
    let requests = provider.requests.lock().map_err(|_| "poisoned")?.clone();
    let [first, second] = requests.as_slice() else {
        return Err(format!("expected two requests, got {requests:?}").into());
    };
    let system = first.system.as_deref().unwrap_or("");
    assert!(
        system.starts_with("You are Carl, a cautious bidder."),
        "{system}"
    );
    assert!(
        system.contains("Risk tolerance: conservative — prefer the smallest safe change"),
        "{system}"
    );
    assert!(system.contains("Innovation preference: high"), "{system}");
    assert!(system.contains("Verbosity: terse"), "{system}");
    assert_eq!(first.max_tokens, 1024, "a terse bidder answers shorter");
    // Without a persona from the host it reads the repository's own, and
    // without a personality it adds none.
    let system = second.system.as_deref().unwrap_or("");
    assert_eq!(
        system,
        "You are a frugal bidder who plans small, well-tested changes.\n"
    );
    assert_eq!(second.max_tokens, 2048);
    Ok(())
}

#[tokio::test]
async fn specialists_answer_from_the_repository() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    load_all(&runtime).await?;
    let conventions = runtime
        .ask("rust-conventions", "How do we handle errors and lints?")
        .await?
        .value;
    assert!(conventions.contains("thiserror"), "{conventions}");
    assert!(
        conventions.contains("unsafe code is denied"),
        "{conventions}"
    );
    let risk = runtime
        .ask(
            "change-risk",
            "What does touching src/lib.rs and Cargo.toml mean?",
        )
        .await?
        .value;
    assert!(risk.contains("src/lib.rs: exists, 3 lines"), "{risk}");
    assert!(
        risk.contains("Cargo.toml: exists") && risk.contains("sensitive"),
        "{risk}"
    );
    Ok(())
}

/// A proposal that touches `files`, each with its estimated lines.
fn proposal_touching(files: &[(&str, u32)]) -> Proposal {
    Proposal {
        summary: "Change the files".to_owned(),
        pseudo_code: String::new(),
        requirements_covered: vec!["R1".to_owned()],
        files: files
            .iter()
            .map(|(path, lines)| FileChange {
                path: (*path).to_owned(),
                estimated_lines: *lines,
            })
            .collect(),
        planned_tests: Vec::new(),
        patch: None,
        self_estimate: DimensionScores {
            spec_alignment: 0.5,
            technical_quality: 0.5,
            innovation: 0.5,
            risk: 0.5,
            efficiency: 0.5,
        },
    }
}

#[tokio::test]
async fn specialists_review_proposals() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let plugin = ralph_plugins_bundle::find("change-risk").ok_or("not bundled")?;
    let specialist = runtime
        .load_specialist(
            "change-risk",
            Path::new("change-risk"),
            plugin.bytes,
            grants(plugin),
            limits(),
        )
        .await?;
    let proposal = proposal_touching(&[("Cargo.toml", 900)]);
    let findings = runtime.review(&specialist, &proposal).await?.value;
    assert!(
        findings
            .iter()
            .any(|finding| finding.file.as_deref() == Some("Cargo.toml")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|finding| finding.message.contains("About 900 lines")),
        "{findings:?}"
    );
    Ok(())
}

#[tokio::test]
async fn every_bundled_plugin_requests_exactly_what_the_bundle_lists() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    for plugin in ralph_plugins_bundle::ALL {
        let inspection = runtime
            .inspect_bytes(Path::new(plugin.name), plugin.bytes)
            .await?;
        let mut requested: Vec<&str> = inspection
            .capabilities
            .iter()
            .map(|capability| capability.name())
            .collect();
        let mut listed = plugin.capabilities.to_vec();
        requested.sort();
        listed.sort();
        assert_eq!(requested, listed, "{}", plugin.name);
    }
    Ok(())
}

#[tokio::test]
async fn integration_specialists_explain_what_to_ask_without_calling_out() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    load_all(&runtime).await?;
    let answer = runtime
        .ask("infrastructure", "Is everything fine?")
        .await?
        .value;
    assert!(
        answer.contains("cluster=prod services=api,worker log-group=/ecs/api"),
        "{answer}"
    );
    let answer = runtime
        .ask("infrastructure", "How is cluster=prod doing?")
        .await?
        .value;
    assert_eq!(answer, "Name the services too: services=api,worker.");
    Ok(())
}

#[tokio::test]
async fn integration_specialists_find_nothing_in_proposals_outside_their_domain() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let proposal =
        proposal_touching(&[("src/lib.rs", 3), ("src/border.rs", 3), ("src/specs.rs", 3)]);
    for name in ["infrastructure", "trading"] {
        let plugin = ralph_plugins_bundle::find(name).ok_or("not bundled")?;
        let specialist = runtime
            .load_specialist(
                name,
                Path::new(name),
                plugin.bytes,
                grants(plugin),
                limits(),
            )
            .await?;
        let findings = runtime.review(&specialist, &proposal).await?.value;
        assert!(findings.is_empty(), "{name}: {findings:?}");
    }
    Ok(())
}

fn input(diff: &str) -> CheckInput {
    CheckInput {
        diff: diff.to_owned(),
        changed_files: vec!["src/lib.rs".to_owned()],
        requirements: Vec::new(),
    }
}

fn patch(lines: &[&str]) -> String {
    let mut diff = format!(
        "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,1 +1,{} @@\n",
        lines.len() + 1
    );
    diff.push_str(" pub fn answer() -> u32 {\n");
    for line in lines {
        diff.push('+');
        diff.push_str(line);
        diff.push('\n');
    }
    diff
}

#[tokio::test]
async fn the_diff_size_check_fails_large_changes() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let check = check(&runtime, "diff-size").await?;
    let small = runtime
        .run_check(&check, &input(&patch(&["    41"])), repository.path())
        .await?
        .value;
    assert!(small.passed);
    let many: Vec<String> = (0..1200).map(|line| format!("// line {line}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let large = runtime
        .run_check(&check, &input(&patch(&many)), repository.path())
        .await?
        .value;
    assert!(!large.passed);
    assert!(
        large
            .findings
            .iter()
            .any(|finding| finding.severity == Severity::Error)
    );
    Ok(())
}

#[tokio::test]
async fn the_secrets_check_fails_added_credentials() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let check = check(&runtime, "secrets").await?;
    let clean = runtime
        .run_check(
            &check,
            &input(&patch(&["    let total = 41 + 1;"])),
            repository.path(),
        )
        .await?
        .value;
    assert!(clean.passed, "{:?}", clean.findings);
    let leaked = runtime
        .run_check(
            &check,
            &input(&patch(&[
                "const KEY: &str = \"AKIAIOSFODNN7EXAMPLE\";",
                "let password = \"correct-horse-battery\";",
            ])),
            repository.path(),
        )
        .await?
        .value;
    assert!(!leaked.passed);
    assert_eq!(leaked.findings.len(), 2, "{:?}", leaked.findings);
    assert_eq!(leaked.findings[0].line, Some(2));
    Ok(())
}

#[tokio::test]
async fn the_debug_markers_check_flags_leftovers() -> TestResult {
    let repository = repository()?;
    let runtime = runtime(repository.path())?;
    let check = check(&runtime, "debug-markers").await?;
    let warned = runtime
        .run_check(
            &check,
            &input(&patch(&["    // TODO tidy", "    println!(\"here\");"])),
            repository.path(),
        )
        .await?
        .value;
    assert!(warned.passed);
    assert_eq!(warned.findings.len(), 2, "{:?}", warned.findings);
    let failed = runtime
        .run_check(&check, &input(&patch(&["    dbg!(x);"])), repository.path())
        .await?
        .value;
    assert!(!failed.passed);
    Ok(())
}
