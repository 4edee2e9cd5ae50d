//! Specialization and the number of bidders (SPEC §13).
//!
//! An issue has a type ([`IssueType::of`]); the state keeps each bidder's
//! successes and failures per type (`by_type` in its state, folded from the
//! `issue_type` the loop writes on its events). With `bidders_per_round`
//! below the number of configured bidders, a round takes the bidders with
//! the highest `weight × (1 + type_success_rate − success_rate)`
//! ([`specialist_score`]), so a bidder that does better on this type than
//! overall is preferred for it; with `dynamic_bidders` the count follows
//! the issue's size ([`dynamic_count`]). `docs/learning.md` has the tables.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::efficiency::efficiency;
use crate::state::State;

/// The kind of work an issue asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueType {
    Bug,
    Feature,
    Refactor,
    Infrastructure,
    Docs,
    Other,
}

/// The words of a title that give its type, in the order the types are
/// tried: the first type with a word in the title wins.
pub const TITLE_WORDS: [(IssueType, &[&str]); 5] = [
    (
        IssueType::Bug,
        &[
            "bug",
            "fix",
            "fixes",
            "crash",
            "crashes",
            "broken",
            "regression",
            "error",
            "wrong",
            "fails",
            "failing",
        ],
    ),
    (
        IssueType::Refactor,
        &[
            "refactor",
            "refactoring",
            "cleanup",
            "clean",
            "restructure",
            "simplify",
            "rename",
            "extract",
            "deduplicate",
        ],
    ),
    (
        IssueType::Infrastructure,
        &[
            "ci",
            "build",
            "deploy",
            "deployment",
            "docker",
            "pipeline",
            "workflow",
            "release",
            "dependency",
            "dependencies",
            "upgrade",
            "bump",
            "infrastructure",
        ],
    ),
    (
        IssueType::Docs,
        &[
            "doc",
            "docs",
            "documentation",
            "readme",
            "typo",
            "guide",
            "tutorial",
        ],
    ),
    (
        IssueType::Feature,
        &[
            "add",
            "feature",
            "support",
            "implement",
            "new",
            "allow",
            "enable",
            "introduce",
        ],
    ),
];

impl IssueType {
    pub const ALL: [IssueType; 6] = [
        IssueType::Bug,
        IssueType::Feature,
        IssueType::Refactor,
        IssueType::Infrastructure,
        IssueType::Docs,
        IssueType::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IssueType::Bug => "bug",
            IssueType::Feature => "feature",
            IssueType::Refactor => "refactor",
            IssueType::Infrastructure => "infrastructure",
            IssueType::Docs => "docs",
            IssueType::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<IssueType> {
        IssueType::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The type of an issue: from a `type:<name>` label (the first that
    /// names a type), else from its title's words ([`TITLE_WORDS`]), else
    /// `other`.
    pub fn of(labels: &[String], title: &str) -> IssueType {
        if let Some(kind) = labels.iter().find_map(|label| {
            let name = label.trim().strip_prefix("type:")?;
            IssueType::from_name(name)
        }) {
            return kind;
        }
        let words: Vec<String> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect();
        TITLE_WORDS
            .iter()
            .find(|(_, table)| words.iter().any(|word| table.contains(&word.as_str())))
            .map_or(IssueType::Other, |(kind, _)| *kind)
    }
}

/// A bidder's record on one issue type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRecord {
    pub successes: u64,
    pub failures: u64,
}

/// Per issue type, by name; absent types have no record.
pub type ByType = BTreeMap<String, TypeRecord>;

/// `weight × (1 + type_success_rate − success_rate)`, the rates as
/// efficiency is (SPEC §2.3): a bidder doing better on this type than
/// overall scores above its weight.
pub fn specialist_score(weight: f64, overall: (u64, u64), on_type: (u64, u64)) -> f64 {
    weight * (1.0 + efficiency(on_type.0, on_type.1) - efficiency(overall.0, overall.1))
}

/// How many bidders a round takes under `dynamic_bidders`: 3, +1 above 5
/// checkboxes, +1 for "refactor" in the title, +1 with a `complex` label;
/// at most 5 and at most `configured`.
pub fn dynamic_count(
    checkboxes: usize,
    title: &str,
    labels: &[String],
    configured: usize,
) -> usize {
    let refactor = title
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("refactor"));
    let complex = labels
        .iter()
        .any(|label| label.trim().eq_ignore_ascii_case("complex"));
    let count = 3 + usize::from(checkboxes > 5) + usize::from(refactor) + usize::from(complex);
    count.min(5).min(configured)
}

/// The `count` bidders among `candidates` (ids, in config order) a round on
/// an issue of `kind` takes: the highest [`specialist_score`]s, ties to the
/// earlier in config order; the chosen keep config order. All of them when
/// `count` is not below their number.
pub fn choose(state: &State, candidates: &[String], kind: IssueType, count: usize) -> Vec<String> {
    if count >= candidates.len() {
        return candidates.to_vec();
    }
    let mut scored: Vec<(usize, f64)> = candidates
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let score = state.bot(id).map_or(0.0, |bot| {
                let on_type = bot.by_type.get(kind.name()).copied().unwrap_or_default();
                specialist_score(
                    bot.weight,
                    (bot.successes, bot.failures),
                    (on_type.successes, on_type.failures),
                )
            });
            (index, score)
        })
        .collect();
    scored.sort_by(|left, right| {
        right
            .1
            .partial_cmp(&left.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(left.0.cmp(&right.0))
    });
    let mut chosen: Vec<usize> = scored.into_iter().take(count).map(|(i, _)| i).collect();
    chosen.sort_unstable();
    chosen
        .into_iter()
        .map(|index| candidates[index].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{BotState, Bots};

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_type_comes_from_a_label_then_the_title_then_other() {
        let cases = [
            (vec!["type:docs"], "Fix the crash", IssueType::Docs),
            (
                vec!["ready", "type:nonsense"],
                "Fix the crash",
                IssueType::Bug,
            ),
            (
                vec![],
                "Refactor the parser and add tests",
                IssueType::Refactor,
            ),
            (vec![], "Add a --json flag", IssueType::Feature),
            (vec![], "Bump serde; CI is red", IssueType::Infrastructure),
            (vec![], "README typo", IssueType::Docs),
            (vec![], "Crash: wrong answer when adding", IssueType::Bug),
            (vec![], "Speed", IssueType::Other),
            (vec!["TYPE:bug"], "Speed", IssueType::Other),
            (vec!["type: Feature "], "Speed", IssueType::Feature),
        ];
        for (label_names, title, expected) in cases {
            assert_eq!(
                IssueType::of(&labels(&label_names), title),
                expected,
                "{label_names:?} {title}"
            );
        }
    }

    #[test]
    fn the_specialist_score_table() {
        // (weight, overall (s, f), on type (s, f), expected)
        let table = [
            (0.4, (0, 0), (0, 0), 0.4),
            (0.4, (4, 4), (4, 0), 0.4 * (1.0 + 5.0 / 6.0 - 0.5)),
            (0.4, (4, 4), (0, 4), 0.4 * (1.0 + 1.0 / 6.0 - 0.5)),
            (0.2, (9, 1), (9, 1), 0.2),
        ];
        for (weight, overall, on_type, expected) in table {
            let score = specialist_score(weight, overall, on_type);
            assert!((score - expected).abs() < 1e-12, "{score} {expected}");
        }
    }

    #[test]
    fn the_dynamic_count_table() {
        // (checkboxes, title, labels, configured, expected)
        let table = [
            (2, "Add two", vec![], 5, 3),
            (6, "Add two", vec![], 5, 4),
            (5, "Add two", vec![], 5, 3),
            (6, "Refactor the parser", vec![], 5, 5),
            (6, "Refactor the parser", vec!["complex"], 9, 5),
            (1, "refactor: names", vec!["Complex"], 9, 5),
            (1, "Refactoring", vec![], 9, 3),
            (9, "Refactor", vec!["complex"], 2, 2),
        ];
        for (checkboxes, title, label_names, configured, expected) in table {
            assert_eq!(
                dynamic_count(checkboxes, title, &labels(&label_names), configured),
                expected,
                "{checkboxes} {title} {label_names:?} {configured}"
            );
        }
    }

    #[test]
    fn a_round_takes_the_best_specialists_for_the_type() {
        let bot = |weight, successes, failures, docs: Option<TypeRecord>| BotState {
            weight,
            efficiency: efficiency(successes, failures),
            successes,
            failures,
            allocation: 10,
            by_type: docs
                .map(|record| [("docs".to_owned(), record)].into_iter().collect())
                .unwrap_or_default(),
        };
        let state = State {
            bots: Bots(vec![
                (
                    "bidder_1".into(),
                    bot(
                        0.4,
                        6,
                        2,
                        Some(TypeRecord {
                            successes: 0,
                            failures: 2,
                        }),
                    ),
                ),
                (
                    "bidder_2".into(),
                    bot(
                        0.3,
                        2,
                        2,
                        Some(TypeRecord {
                            successes: 2,
                            failures: 0,
                        }),
                    ),
                ),
                ("bidder_3".into(), bot(0.3, 0, 0, None)),
            ]),
            total_budget_pool: 30,
            rounds_completed: 12,
            event_count: 12,
            excluded_events: Vec::new(),
            last_updated: None,
        };
        let ids: Vec<String> = ["bidder_1", "bidder_2", "bidder_3"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            choose(&state, &ids, IssueType::Docs, 2),
            ["bidder_2", "bidder_3"]
        );
        assert_eq!(
            choose(&state, &ids, IssueType::Bug, 2),
            ["bidder_1", "bidder_2"]
        );
        assert_eq!(choose(&state, &ids, IssueType::Bug, 3), ids);
    }
}
