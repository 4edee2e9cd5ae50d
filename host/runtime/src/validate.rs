//! Checks on everything a plugin returns: size caps and the contract's rules.
//!
//! Sizes count the bytes of every string in the value, which is what a
//! plugin controls; a value over the cap is refused before it goes further.

use crate::types::{CheckReport, DimensionScores, Finding, Metadata, Proposal};

/// Bytes of text in a value returned by a plugin.
pub trait OutputSize {
    /// The total length of the value's strings, plus a little per item.
    fn output_size(&self) -> usize;
}

impl OutputSize for String {
    fn output_size(&self) -> usize {
        self.len()
    }
}

impl OutputSize for Finding {
    fn output_size(&self) -> usize {
        self.message.len() + self.file.as_ref().map_or(0, String::len) + 16
    }
}

impl<T: OutputSize> OutputSize for Vec<T> {
    fn output_size(&self) -> usize {
        self.iter().map(|item| item.output_size() + 8).sum()
    }
}

impl OutputSize for Proposal {
    fn output_size(&self) -> usize {
        self.summary.len()
            + self.pseudo_code.len()
            + self.requirements_covered.output_size()
            + self
                .files
                .iter()
                .map(|file| file.path.len() + 12)
                .sum::<usize>()
            + self.planned_tests.output_size()
            + self.patch.as_ref().map_or(0, String::len)
            + 20
    }
}

impl OutputSize for CheckReport {
    fn output_size(&self) -> usize {
        self.findings.output_size() + 24
    }
}

impl OutputSize for Metadata {
    fn output_size(&self) -> usize {
        self.name.len()
            + self.version.len()
            + self.description.len()
            + self
                .capabilities
                .iter()
                .map(|capability| capability.name().len() + 8)
                .sum::<usize>()
    }
}

fn check_scores(scores: &DimensionScores) -> Result<(), String> {
    for (name, value) in scores.named() {
        if !(0.0..=1.0).contains(&value) {
            return Err(format!("score `{name}` is {value}, outside 0.0 to 1.0"));
        }
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), String> {
    let escapes = path.split('/').any(|part| part == "..");
    if path.is_empty() || path.starts_with('/') || path.contains('\\') || escapes {
        return Err(format!(
            "file `{path}` must be a relative path inside the repository"
        ));
    }
    Ok(())
}

/// The contract's rules for a proposal, given the round's requirement ids.
pub fn check_proposal(proposal: &Proposal, requirement_ids: &[&str]) -> Result<(), String> {
    if proposal.summary.trim().is_empty() {
        return Err("the summary is empty".to_owned());
    }
    check_scores(&proposal.self_estimate)?;
    for covered in &proposal.requirements_covered {
        if !requirement_ids.contains(&covered.as_str()) {
            return Err(format!("it covers unknown requirement `{covered}`"));
        }
    }
    for file in &proposal.files {
        check_path(&file.path)?;
    }
    Ok(())
}

/// The contract's rules for a check report.
pub fn check_report(report: &CheckReport) -> Result<(), String> {
    if let Some(scores) = &report.scores {
        check_scores(scores)?;
    }
    for finding in &report.findings {
        check_finding(finding)?;
    }
    Ok(())
}

/// The contract's rules for a finding.
pub fn check_finding(finding: &Finding) -> Result<(), String> {
    if finding.message.trim().is_empty() {
        return Err("a finding has an empty message".to_owned());
    }
    if let Some(file) = &finding.file {
        check_path(file)?;
    }
    Ok(())
}

/// The contract's rules for metadata.
pub fn check_metadata(metadata: &Metadata) -> Result<(), String> {
    let name_ok = !metadata.name.is_empty()
        && metadata.name.len() <= 64
        && metadata.name.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
        });
    if !name_ok {
        return Err(format!(
            "name `{}` must be 1 to 64 lower-case letters, digits or `-`",
            metadata.name
        ));
    }
    if metadata.version.trim().is_empty() {
        return Err("the version is empty".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{FileChange, Severity};

    fn scores(value: f32) -> DimensionScores {
        DimensionScores {
            spec_alignment: value,
            technical_quality: value,
            innovation: value,
            risk: value,
            efficiency: value,
        }
    }

    fn proposal() -> Proposal {
        Proposal {
            summary: "Add a flag".to_owned(),
            pseudo_code: "parse flag".to_owned(),
            requirements_covered: vec!["R1".to_owned()],
            files: vec![FileChange {
                path: "src/main.rs".to_owned(),
                estimated_lines: 10,
            }],
            planned_tests: vec!["flag parses".to_owned()],
            patch: None,
            self_estimate: scores(0.5),
        }
    }

    #[test]
    fn a_sound_proposal_passes() {
        assert_eq!(check_proposal(&proposal(), &["R1"]), Ok(()));
    }

    #[test]
    fn scores_outside_the_unit_interval_or_not_a_number_are_refused() {
        for value in [f32::NAN, -0.1, 1.5, f32::INFINITY] {
            let mut bad = proposal();
            bad.self_estimate = scores(value);
            assert!(check_proposal(&bad, &["R1"]).is_err(), "{value}");
        }
    }

    #[test]
    fn unknown_requirements_and_escaping_paths_are_refused() {
        assert!(check_proposal(&proposal(), &["R2"]).is_err());
        let mut bad = proposal();
        bad.files[0].path = "../outside.rs".to_owned();
        assert!(check_proposal(&bad, &["R1"]).is_err());
        bad.files[0].path = "/etc/passwd".to_owned();
        assert!(check_proposal(&bad, &["R1"]).is_err());
    }

    #[test]
    fn output_size_counts_every_string() {
        let mut big = proposal();
        let before = big.output_size();
        big.patch = Some("x".repeat(1000));
        assert_eq!(big.output_size(), before + 1000);
    }

    #[test]
    fn metadata_names_are_lower_case_words() {
        let mut metadata = Metadata {
            name: "smallest-change".to_owned(),
            version: "0.1.0".to_owned(),
            description: String::new(),
            capabilities: vec![],
        };
        assert_eq!(check_metadata(&metadata), Ok(()));
        metadata.name = "Bad Name".to_owned();
        assert!(check_metadata(&metadata).is_err());
    }

    #[test]
    fn findings_need_a_message() {
        let finding = Finding {
            severity: Severity::Info,
            file: None,
            line: None,
            message: " ".to_owned(),
        };
        assert!(check_finding(&finding).is_err());
    }
}
