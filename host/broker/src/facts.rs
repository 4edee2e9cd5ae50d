//! The [`Facts`] a proposal claims and the facts its implementation shows,
//! gathered the same way so their scores compare (see `docs/scoring.md`).

use std::collections::BTreeSet;
use std::path::Path;

use ralph_issues::{ComponentKind, Requirement, RequirementKind};
use ralph_runtime::Proposal;

use crate::checks::Judged;
use crate::scoring::{EXPECTED_LINES, Facts};
use crate::worktree::DiffStats;

/// What the work left on an issue consists of.
#[derive(Clone, Debug, Default)]
pub struct Work {
    /// Unticked checkbox requirements.
    pub checkboxes: Vec<Requirement>,
    /// Paths the issue names.
    pub components: Vec<String>,
    /// Whether tests, and docs, are expected.
    pub wants_tests: bool,
    pub wants_docs: bool,
}

impl Work {
    /// The work left in `requirements` (ticked ones are done).
    pub fn from_requirements(requirements: &[Requirement]) -> Work {
        let mut work = Work::default();
        for requirement in requirements.iter().filter(|requirement| !requirement.done) {
            match requirement.kind {
                RequirementKind::Checkbox => work.checkboxes.push(requirement.clone()),
                RequirementKind::Component => work.components.extend(
                    requirement
                        .components
                        .iter()
                        .filter(|component| component.kind == ComponentKind::Path)
                        .map(|component| component.name.clone()),
                ),
                RequirementKind::Tests => work.wants_tests = true,
                RequirementKind::Documentation => work.wants_docs = true,
            }
        }
        work.components.sort();
        work.components.dedup();
        work
    }

    /// The unticked checkboxes among `claimed` ids.
    pub fn covered<'a>(&'a self, claimed: &[String]) -> Vec<&'a Requirement> {
        self.checkboxes
            .iter()
            .filter(|requirement| claimed.contains(&requirement.id.0))
            .collect()
    }

    fn implicit_total(&self) -> usize {
        usize::from(self.wants_tests) + usize::from(self.wants_docs)
    }

    fn expected_lines(&self, claimed: &[String]) -> f64 {
        self.covered(claimed)
            .iter()
            .map(|requirement| {
                let index = usize::from(requirement.complexity.value().clamp(1, 5)) - 1;
                EXPECTED_LINES[index]
            })
            .sum()
    }
}

fn is_test_path(path: &str) -> bool {
    path.split('/')
        .any(|part| part == "tests" || part == "test")
        || path.contains("_test.")
        || path.contains("test_")
        || path.ends_with("_tests.rs")
}

fn is_docs_path(path: &str) -> bool {
    path.ends_with(".md") || path.starts_with("docs/")
}

/// True when `path` exists in `base` or sits in a directory that does.
fn conforms(base: &Path, path: &str) -> bool {
    let full = base.join(path);
    full.exists() || full.parent().is_some_and(Path::is_dir)
}

/// The facts a proposal claims. `patch_applies` is `None` without a patch.
pub fn of_proposal(
    work: &Work,
    proposal: &Proposal,
    base: &Path,
    patch_applies: Option<bool>,
    distinctness: f64,
) -> Facts {
    let files: Vec<&str> = proposal
        .files
        .iter()
        .map(|file| file.path.as_str())
        .collect();
    let tests_planned =
        !proposal.planned_tests.is_empty() || files.iter().any(|path| is_test_path(path));
    implicit_and_common(
        work,
        &proposal.requirements_covered,
        &files,
        base,
        Facts {
            lines_changed: proposal
                .files
                .iter()
                .map(|file| file.estimated_lines as usize)
                .sum(),
            tests: proposal.planned_tests.len(),
            breaking_changes: 0,
            quality_passing: match patch_applies {
                Some(true) => 1.0,
                Some(false) => 0.0,
                None => 0.5,
            },
            distinctness,
            ..Facts::default()
        },
        tests_planned,
    )
}

/// The facts an implementation shows: its diff and its checks.
pub fn of_implementation(
    work: &Work,
    claimed: &[String],
    stats: &DiffStats,
    diff: &str,
    checks: &[Judged],
    base: &Path,
    distinctness: f64,
) -> Facts {
    let files: Vec<&str> = stats.files.iter().map(String::as_str).collect();
    let tests = files.iter().filter(|path| is_test_path(path)).count();
    let quality: Vec<&Judged> = checks
        .iter()
        .filter(|judged| judged.run.category.is_quality())
        .collect();
    let quality_passing = if quality.is_empty() {
        1.0
    } else {
        quality.iter().filter(|judged| judged.run.passed()).count() as f64 / quality.len() as f64
    };
    implicit_and_common(
        work,
        claimed,
        &files,
        base,
        Facts {
            lines_changed: stats.lines_changed(),
            tests,
            breaking_changes: removed_public_items(diff),
            quality_passing,
            distinctness,
            ..Facts::default()
        },
        tests > 0,
    )
}

fn implicit_and_common(
    work: &Work,
    claimed: &[String],
    files: &[&str],
    base: &Path,
    mut facts: Facts,
    has_tests: bool,
) -> Facts {
    let touched: BTreeSet<&str> = files.iter().copied().collect();
    facts.requirements_covered = work.covered(claimed).len();
    facts.requirements_total = work.checkboxes.len();
    facts.components_covered = work
        .components
        .iter()
        .filter(|component| touched.contains(component.as_str()))
        .count();
    facts.components_total = work.components.len();
    facts.implicit_covered = usize::from(work.wants_tests && has_tests)
        + usize::from(work.wants_docs && files.iter().any(|path| is_docs_path(path)));
    facts.implicit_total = work.implicit_total();
    facts.files_affected = files.len();
    facts.files_conforming = files.iter().filter(|path| conforms(base, path)).count();
    facts.expected_lines = work.expected_lines(claimed);
    facts
}

/// Public items a diff removes (`-pub fn`, `-pub struct`, …): a rough count
/// of breaking changes.
pub fn removed_public_items(diff: &str) -> usize {
    diff.lines()
        .filter(|line| line.starts_with('-') && !line.starts_with("---"))
        .map(|line| line[1..].trim_start())
        .filter(|line| {
            [
                "pub fn ",
                "pub struct ",
                "pub enum ",
                "pub trait ",
                "pub mod ",
                "pub const ",
            ]
            .iter()
            .any(|prefix| line.starts_with(prefix))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ralph_runtime::{DimensionScores, FileChange};

    const BODY: &str = "Add a `src/limits.rs` module.\n\n- [ ] Parse limits\n- [ ] Reject negative limits\n\nTests must cover both.\n";

    fn work() -> Work {
        Work::from_requirements(&ralph_issues::requirements::extract(BODY))
    }

    fn proposal(claimed: &[String], files: &[(&str, u32)], tests: usize) -> Proposal {
        Proposal {
            summary: "add limits".into(),
            pseudo_code: String::new(),
            requirements_covered: claimed.to_vec(),
            files: files
                .iter()
                .map(|(path, lines)| FileChange {
                    path: (*path).to_owned(),
                    estimated_lines: *lines,
                })
                .collect(),
            planned_tests: (0..tests).map(|index| format!("test {index}")).collect(),
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

    #[test]
    fn the_work_is_the_unticked_checkboxes_named_paths_and_implicit_needs() {
        let work = work();
        assert_eq!(work.checkboxes.len(), 2);
        assert_eq!(work.components, ["src/limits.rs"]);
        assert!(work.wants_tests);
    }

    #[test]
    fn a_proposal_claims_what_it_covers_touches_and_plans() {
        let work = work();
        let claimed: Vec<String> = work.checkboxes.iter().map(|r| r.id.0.clone()).collect();
        let base = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(base.path().join("src")).expect("mkdir");
        let facts = of_proposal(
            &work,
            &proposal(
                &claimed[..1],
                &[("src/limits.rs", 30), ("new/dir/x.rs", 5)],
                2,
            ),
            base.path(),
            Some(true),
            0.4,
        );
        assert_eq!(
            (facts.requirements_covered, facts.requirements_total),
            (1, 2)
        );
        assert_eq!((facts.components_covered, facts.components_total), (1, 1));
        assert_eq!((facts.implicit_covered, facts.implicit_total), (1, 1));
        assert_eq!((facts.files_affected, facts.files_conforming), (2, 1));
        assert_eq!((facts.lines_changed, facts.tests), (35, 2));
        assert_eq!(facts.quality_passing, 1.0);
        assert!(facts.expected_lines > 0.0);
    }

    #[test]
    fn unknown_claims_cover_nothing() {
        let work = work();
        let facts = of_proposal(
            &work,
            &proposal(&["checkbox:nope".to_owned()], &[], 0),
            Path::new("/"),
            None,
            1.0,
        );
        assert_eq!(facts.requirements_covered, 0);
        assert_eq!(facts.quality_passing, 0.5);
    }

    #[test]
    fn an_implementation_shows_its_diff_tests_and_checks() {
        let work = work();
        let claimed: Vec<String> = work.checkboxes.iter().map(|r| r.id.0.clone()).collect();
        let stats = DiffStats {
            files: vec!["src/limits.rs".into(), "tests/limits.rs".into()],
            lines_added: 30,
            lines_removed: 2,
        };
        let diff = "--- a/src/lib.rs\n+++ b/src/lib.rs\n-pub fn old() {}\n+pub fn new() {}\n";
        let facts = of_implementation(&work, &claimed, &stats, diff, &[], Path::new("/"), 1.0);
        assert_eq!(facts.requirements_covered, 2);
        assert_eq!(facts.tests, 1);
        assert_eq!(facts.breaking_changes, 1);
        assert_eq!(facts.lines_changed, 32);
        assert_eq!(facts.quality_passing, 1.0);
        assert_eq!(facts.implicit_covered, 1);
    }
}
