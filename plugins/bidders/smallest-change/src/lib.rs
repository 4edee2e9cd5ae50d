//! Smallest change first: touch only the files the issue names that exist,
//! estimate lines from each requirement's complexity, and keep risk low.

use ralph_plugin_sdk::{
    Bidder, Capability, Complexity, FileChange, IssueSpec, PluginError, Proposal, Requirement,
    RoundContext, host, proposal,
};

struct SmallestChange;

/// Lines a requirement of this complexity needs at the least.
fn lines_for(complexity: Complexity) -> u32 {
    match complexity {
        Complexity::Trivial => 3,
        Complexity::Small => 15,
        Complexity::Medium => 50,
        Complexity::Large => 150,
        Complexity::VeryLarge => 400,
    }
}

/// Words of the issue that name files in the repository.
fn named_files(issue: &IssueSpec) -> Vec<String> {
    let mut files: Vec<String> = issue
        .body
        .split(|character: char| character.is_whitespace() || "`'\"(),".contains(character))
        .filter(|word| word.contains('.') && !word.starts_with('/') && !word.contains(".."))
        .map(|word| word.trim_end_matches(['.', ':', ';']).to_owned())
        .filter(|word| host::read_file(word).is_ok())
        .collect();
    files.sort();
    files.dedup();
    files
}

impl Bidder for SmallestChange {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository]
    }

    fn propose(
        issue: IssueSpec,
        requirements: Vec<Requirement>,
        context: RoundContext,
    ) -> Result<Proposal, PluginError> {
        let total: u32 = requirements
            .iter()
            .map(|requirement| lines_for(requirement.complexity))
            .sum();
        let mut files = named_files(&issue);
        if files.is_empty() {
            files.push("src/lib.rs".to_owned());
        }
        let per_file = (total / u32::try_from(files.len()).unwrap_or(1)).max(1);
        let mut plan = proposal(
            format!(
                "Make the smallest change that resolves \"{}\": edit {} existing file(s), about {total} lines, no new modules.",
                issue.title,
                files.len()
            ),
            &requirements,
        );
        let mut steps: Vec<String> = requirements
            .iter()
            .map(|requirement| format!("// {}: {}", requirement.id, requirement.description))
            .collect();
        if let Some(report) = &context.failure_report {
            steps.insert(0, format!("// address the failure first: {report}"));
        }
        plan.pseudo_code = steps.join("\n");
        plan.files = files
            .into_iter()
            .map(|path| FileChange {
                path,
                estimated_lines: per_file,
            })
            .collect();
        plan.planned_tests =
            vec!["extend the nearest existing test for each requirement".to_owned()];
        plan.self_estimate.efficiency = 0.9;
        plan.self_estimate.risk = 0.85;
        plan.self_estimate.innovation = 0.2;
        plan.self_estimate.technical_quality = 0.6;
        plan.self_estimate.spec_alignment = 0.7;
        Ok(plan)
    }
}

ralph_plugin_sdk::export_bidder!(SmallestChange);
