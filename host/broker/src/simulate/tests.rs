use super::*;
use ralph_marketplace::projection::project_onto_capped_simplex;

fn settings(issues: u64, seed: u64) -> Settings {
    Settings {
        issues,
        seed,
        rule: Rule::Seed,
    }
}

fn honest(chances: &[f64]) -> Vec<SyntheticBidder> {
    chances
        .iter()
        .copied()
        .map(SyntheticBidder::honest)
        .collect()
}

fn run(bidders: &[SyntheticBidder], issues: u64, seed: u64) -> Report {
    simulate(bidders, &settings(issues, seed)).expect("the simulation runs")
}

fn json(report: &Report) -> String {
    serde_json::to_string(report).expect("the report serialises")
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let bidders = honest(&[0.7, 0.5, 0.3]);
    let first = run(&bidders, 200, 7);
    assert_eq!(json(&first), json(&run(&bidders, 200, 7)));
    assert_eq!(first.events, run(&bidders, 200, 7).events);
    assert_ne!(json(&first), json(&run(&bidders, 200, 8)));
}

#[test]
fn the_final_state_is_the_fold_of_the_events_the_run_wrote() {
    let bidders = vec![
        SyntheticBidder::honest(0.8),
        SyntheticBidder {
            success_probability: 0.2,
            honesty: 0.0,
            attractiveness: 0.95,
        },
        SyntheticBidder::honest(0.5),
    ];
    let report = run(&bidders, 300, 3);
    assert!(report.events.len() > 600, "{} events", report.events.len());
    assert_eq!(
        refold(bidders.len(), &report.events).to_json(),
        report.state.to_json()
    );
    assert_eq!(report.state.event_count, report.events.len() as u64);
}

#[test]
fn one_issue_changes_the_weights_by_the_deltas_of_the_table() {
    // The sure bidder's proposal aims at 1, the hopeless one's at 0: the
    // sure one ranks first and succeeds; the other is not tried.
    let report = run(&honest(&[1.0, 0.0]), 1, 11);
    let [winner, other] = report.events.as_slice() else {
        panic!("two events, got {:?}", report.events);
    };
    assert_eq!(
        (winner.bot_id.as_str(), winner.outcome),
        ("bidder_1", Outcome::Success)
    );
    assert_eq!(
        (other.bot_id.as_str(), other.outcome),
        ("bidder_2", Outcome::NotTried)
    );
    let scores = (
        winner.proposal_score.expect("a proposal score"),
        winner
            .implementation_score
            .expect("an implementation score"),
    );
    let expected = weight_delta(Case::InitialWinnerSucceeded, Some(scores)).delta;
    assert_eq!(winner.weight_delta, expected);
    assert_eq!(other.weight_delta, weight_delta(Case::NotTried, None).delta);
    let mut weights = vec![0.5, 0.5];
    weights[0] += expected;
    project_onto_capped_simplex(&mut weights, 0.05, 0.60);
    weights[1] += other.weight_delta;
    project_onto_capped_simplex(&mut weights, 0.05, 0.60);
    let folded: Vec<f64> = report.bidders.iter().map(|bidder| bidder.weight).collect();
    assert_eq!(folded, weights);
    assert_eq!(report.solved, 1);
}

#[test]
fn a_failure_starts_a_replan_round_and_a_second_failure_ends_the_issue() {
    let report = run(&honest(&[0.0, 0.0]), 1, 5);
    let rows: Vec<(Outcome, f64)> = report
        .events
        .iter()
        .map(|event| (event.outcome, event.weight_delta))
        .collect();
    assert_eq!(
        rows,
        [
            (Outcome::Failure, Case::InitialWinnerFailed.delta()),
            (Outcome::Ranked, 0.0),
            (Outcome::Failure, Case::ReplanFailed.delta()),
            (Outcome::Ranked, 0.0),
        ]
    );
    assert_eq!(report.solved, 0);
    assert_eq!(report.implementations, 2);
}

#[test]
fn the_clearly_best_bidder_gets_the_largest_allocation_and_nobody_falls_below_the_minimum() {
    let report = run(&honest(&[0.9, 0.3, 0.3]), 400, 1);
    let allocations: Vec<u64> = report
        .bidders
        .iter()
        .map(|bidder| bidder.allocation)
        .collect();
    assert!(
        allocations[0] > allocations[1] && allocations[0] > allocations[2],
        "{allocations:?}"
    );
    assert_eq!(allocations.iter().sum::<u64>(), report.pool);
    for bidder in &report.bidders {
        assert!(
            bidder.lowest_allocation >= report.min_allocation_per_bot,
            "{bidder:?}"
        );
        assert!(
            bidder.allocation >= report.min_allocation_per_bot,
            "{bidder:?}"
        );
    }
    for snapshot in &report.over_time {
        assert!(
            snapshot
                .allocations
                .iter()
                .all(|allocation| *allocation >= 1)
        );
    }
}

#[test]
fn random_choice_solves_no_more_than_the_marketplace_and_the_oracle_no_less() {
    let report = run(&honest(&[0.9, 0.5, 0.2]), 2000, 42);
    assert!(
        report.random_solved <= report.solved && report.solved <= report.oracle_solved,
        "random {} marketplace {} oracle {}",
        report.random_solved,
        report.solved,
        report.oracle_solved
    );
    assert!(report.random_solved < report.oracle_solved);
}

#[test]
fn the_ranking_alone_picks_the_winner_so_an_attractive_bidder_wins_every_first_round() {
    // Its proposals score 0.9 or more, the honest bidder's 0.9 or less,
    // whatever their weights: the weights set budgets, never the ranking.
    let bidders = vec![
        SyntheticBidder {
            success_probability: 0.1,
            honesty: 0.0,
            attractiveness: 1.0,
        },
        SyntheticBidder::honest(0.8),
    ];
    let report = run(&bidders, 100, 9);
    let first_rounds = report
        .events
        .iter()
        .filter(|event| matches!(event.outcome, Outcome::Success | Outcome::Failure))
        .filter(|event| {
            report
                .events
                .iter()
                .find(|first| first.issue_number == event.issue_number)
                .is_some_and(|first| first == *event)
        });
    assert!(first_rounds.clone().count() == 100);
    assert!(first_rounds.clone().all(|event| event.bot_id == "bidder_1"));
    // With two bidders and a cap of 0.6, the lowest weight there is is 0.4.
    let weight = report.bidders[0].weight;
    assert!(
        (weight - 0.4).abs() < 1e-12,
        "its weight {weight} is as low as it goes"
    );
}

#[test]
fn the_history_has_the_start_and_every_tenth_of_the_issues() {
    let report = run(&honest(&[0.5, 0.5]), 25, 1);
    let issues: Vec<u64> = report
        .over_time
        .iter()
        .map(|snapshot| snapshot.issue)
        .collect();
    assert_eq!(issues, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25]);
    let last = report.over_time.last().expect("a snapshot");
    let weights: Vec<f64> = report.bidders.iter().map(|bidder| bidder.weight).collect();
    assert_eq!(last.weights, weights);
}

#[test]
fn bad_inputs_are_refused_naming_what_is_wrong() {
    let good = settings(10, 1);
    assert_eq!(simulate(&[], &good).err(), Some(SimulationError::NoBidders));
    assert_eq!(
        simulate(&honest(&[0.5, 1.5]), &good).err(),
        Some(SimulationError::OutOfRange {
            number: 2,
            parameter: Parameter::SuccessProbability,
            value: 1.5
        })
    );
    let mut dishonest = SyntheticBidder::honest(0.5);
    dishonest.honesty = -0.1;
    assert!(matches!(
        simulate(&[dishonest, dishonest], &good),
        Err(SimulationError::OutOfRange {
            parameter: Parameter::Honesty,
            ..
        })
    ));
    let nan = SyntheticBidder::honest(f64::NAN);
    assert!(simulate(&[nan, nan], &good).is_err());
    for issues in [0, MAX_ISSUES + 1] {
        assert_eq!(
            simulate(&honest(&[0.5, 0.5]), &settings(issues, 1)).err(),
            Some(SimulationError::Issues(issues))
        );
    }
    // One bidder cannot hold a weight of 1 under the default cap of 0.6.
    assert!(matches!(
        simulate(&honest(&[0.5]), &good),
        Err(SimulationError::Config { count: 1, .. })
    ));
}

#[test]
fn budgets_are_the_allocations_at_the_start_of_each_issue_and_a_spent_one_leaves_the_round() {
    // The attractive bidder wins every ranking it enters; once its weight
    // is low its allocation is 1, and after its failure the replan round
    // must go on without it.
    let bidders = vec![
        SyntheticBidder {
            success_probability: 0.2,
            honesty: 0.0,
            attractiveness: 0.95,
        },
        SyntheticBidder::honest(0.6),
        SyntheticBidder::honest(0.6),
    ];
    let report = run(&bidders, 200, 1);
    let mut replans_without_a_spent_bidder = 0;
    for issue in 1..=report.issues {
        let earlier: Vec<Event> = report
            .events
            .iter()
            .filter(|event| event.issue_number < issue)
            .cloned()
            .collect();
        let start = refold(bidders.len(), &earlier);
        let events: Vec<&Event> = report
            .events
            .iter()
            .filter(|event| event.issue_number == issue)
            .collect();
        for (id, bot) in &start.bots.0 {
            let tried: Vec<u64> = events
                .iter()
                .filter(|event| &event.bot_id == id)
                .filter(|event| matches!(event.outcome, Outcome::Success | Outcome::Failure))
                .filter_map(|event| event.iteration_count)
                .collect();
            assert!(tried.len() as u64 <= bot.allocation, "issue {issue}, {id}");
            if tried.len() as u64 == bot.allocation && tried == [1] {
                let in_replan = events
                    .iter()
                    .any(|event| &event.bot_id == id && event.iteration_count == Some(2));
                assert!(!in_replan, "issue {issue}: {id} had no budget left");
                if events.iter().any(|event| event.iteration_count == Some(2)) {
                    replans_without_a_spent_bidder += 1;
                }
            }
        }
    }
    assert!(
        replans_without_a_spent_bidder > 10,
        "{replans_without_a_spent_bidder}"
    );
}

#[test]
fn under_the_efficiency_rule_an_overconfident_bidder_stops_winning_on_looks() {
    // Attractive proposals that fail four times in five, beside two honest
    // bidders that succeed six times in ten.
    let bidders = vec![
        SyntheticBidder {
            success_probability: 0.2,
            honesty: 0.0,
            attractiveness: 0.95,
        },
        SyntheticBidder::honest(0.6),
        SyntheticBidder::honest(0.6),
    ];
    let seed_rule = run(&bidders, 1000, 1);
    let efficiency_rule = simulate(
        &bidders,
        &Settings {
            rule: Rule::Efficiency,
            ..settings(1000, 1)
        },
    )
    .expect("the simulation runs");
    assert!(
        seed_rule.solved < seed_rule.random_solved,
        "the seed's rule does worse than random here: {} < {}",
        seed_rule.solved,
        seed_rule.random_solved
    );
    assert!(
        efficiency_rule.solved > efficiency_rule.random_solved,
        "{} > {}",
        efficiency_rule.solved,
        efficiency_rule.random_solved
    );
    assert!(efficiency_rule.bidders[0].wins < seed_rule.bidders[0].wins / 4);
    // The same issues, the same draws: the references do not depend on the
    // rule.
    assert_eq!(efficiency_rule.oracle_solved, seed_rule.oracle_solved);
    assert_eq!(efficiency_rule.random_solved, seed_rule.random_solved);
}
