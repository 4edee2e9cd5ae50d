//! Tests first: one failing test per requirement, then the code that makes it
//! pass. Asks the `rust-conventions` specialist where tests belong.

use ralph_plugin_sdk::{
    Bidder, Capability, FileChange, IssueSpec, PluginError, Proposal, Requirement, RoundContext,
    host, proposal,
};

struct TestsFirst;

/// `R1: Parse the --json flag` → `parse_the_json_flag`.
fn test_name(requirement: &Requirement) -> String {
    let words: Vec<String> = requirement
        .description
        .split(|character: char| !character.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(6)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        requirement.id.to_lowercase()
    } else {
        words.join("_")
    }
}

impl Bidder for TestsFirst {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Consult]
    }

    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        _context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        let advice = host::consult("rust-conventions", "Where do tests live?")
            .unwrap_or_else(|_| "Integration tests live in tests/.".to_owned());
        let tests: Vec<String> = requirements.iter().map(test_name).collect();
        let mut plan = proposal(
            format!(
                "Write {} failing test(s) that state \"{}\" as executable rules, then implement until they pass. {advice}",
                tests.len(),
                issue.title
            ),
            &requirements,
        );
        let mut steps = vec!["for each requirement:".to_owned()];
        for (requirement, test) in requirements.iter().zip(&tests) {
            steps.push(format!(
                "    write test `{test}` for {} (fails)",
                requirement.id
            ));
        }
        steps.push("implement the smallest code that passes all tests".to_owned());
        steps.push("refactor with the tests green".to_owned());
        plan.pseudo_code = steps.join("\n");
        plan.planned_tests = tests
            .iter()
            .map(|test| format!("`{test}` fails before and passes after the change"))
            .collect();
        let test_lines = 20 * u32::try_from(tests.len()).unwrap_or(u32::MAX / 20);
        plan.files = vec![
            FileChange {
                path: "tests/requirements.rs".to_owned(),
                estimated_lines: test_lines,
            },
            FileChange {
                path: "src/lib.rs".to_owned(),
                estimated_lines: test_lines,
            },
        ];
        plan.self_estimate.technical_quality = 0.85;
        plan.self_estimate.spec_alignment = 0.8;
        plan.self_estimate.risk = 0.75;
        plan.self_estimate.efficiency = 0.5;
        plan.self_estimate.innovation = 0.4;
        Ok(plan)
    }
}

ralph_plugin_sdk::export_bidder!(TestsFirst);
