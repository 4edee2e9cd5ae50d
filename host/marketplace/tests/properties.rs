//! The invariants of SPEC §2, checked on generated inputs.

use proptest::prelude::*;
use ralph_marketplace::allocation::allocate;
use ralph_marketplace::config::WeightConstraints;
use ralph_marketplace::event::Outcome;
use ralph_marketplace::projection::project_onto_capped_simplex;
use ralph_marketplace::{Config, Event, EventFile, Layout, Marketplace, fold};

/// A config with `bots` bidders and feasible weight bounds.
fn config_strategy() -> impl Strategy<Value = Config> {
    (1u64..=8, 1u64..=12, 0u64..=3, 0.0f64..=1.0, 0.0f64..=1.0).prop_map(
        |(bots, budget, minimum, low, high)| {
            let share = 1.0 / bots as f64;
            let min = low * share;
            let max = share + high * (1.0 - share);
            Config {
                num_bots: bots,
                base_budget_per_bot: budget.max(minimum),
                min_allocation_per_bot: minimum,
                weight_constraints: WeightConstraints { min, max },
                ..Config::default()
            }
        },
    )
}

/// One event as (bot index, outcome index, delta, second offset).
fn events_strategy() -> impl Strategy<Value = Vec<(usize, usize, f64, u32)>> {
    prop::collection::vec(
        (
            0usize..8,
            0usize..Outcome::ALL.len(),
            -1.0f64..=1.0,
            0u32..600,
        ),
        0..60,
    )
}

fn event_files(config: &Config, events: &[(usize, usize, f64, u32)]) -> Vec<EventFile> {
    events
        .iter()
        .enumerate()
        .map(|(index, (bot, outcome, delta, second))| {
            let bot_id = format!("bidder_{}", bot % config.num_bots as usize + 1);
            let outcome = Outcome::ALL[*outcome];
            let json = format!(
                r#"{{"timestamp": "2026-01-29T10:{:02}:{:02}Z", "issue_number": 1,
                    "bot_id": "{bot_id}", "outcome": "{outcome}", "weight_delta": {delta}}}"#,
                second / 60,
                second % 60
            );
            EventFile {
                name: format!("{index:04}-{bot_id}-{outcome}.json"),
                event: Event::parse(json.as_bytes()),
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn weights_sum_to_one_and_stay_within_bounds(
        config in config_strategy(),
        events in events_strategy(),
    ) {
        let state = fold(&config, event_files(&config, &events));
        let WeightConstraints { min, max } = config.weight_constraints;
        let sum: f64 = state.bots.0.iter().map(|(_, bot)| bot.weight).sum();
        prop_assert!((sum - 1.0).abs() <= 1e-9, "sum {sum}");
        for (id, bot) in &state.bots.0 {
            prop_assert!(bot.weight >= min - 1e-12 && bot.weight <= max + 1e-12,
                "{id} weight {} outside [{min}, {max}]", bot.weight);
        }
    }

    #[test]
    fn the_projection_is_exact_to_1e_12(
        raw in prop::collection::vec(-2.0f64..2.0, 1..12),
        low in 0.0f64..=1.0,
        high in 0.0f64..=1.0,
    ) {
        let share = 1.0 / raw.len() as f64;
        let (min, max) = (low * share, share + high * (1.0 - share));
        let mut weights = raw.clone();
        project_onto_capped_simplex(&mut weights, min, max);
        let sum: f64 = weights.iter().sum();
        prop_assert!((sum - 1.0).abs() <= 1e-12, "sum {sum}");
        // Optimality: some tau gives every weight as clamp(v - tau).
        let free: Vec<f64> = raw
            .iter()
            .zip(&weights)
            .filter(|(_, w)| **w > min + 1e-12 && **w < max - 1e-12)
            .map(|(v, w)| v - w)
            .collect();
        if let Some(tau) = free.first() {
            for shift in &free {
                prop_assert!((shift - tau).abs() <= 1e-12, "shifts differ: {free:?}");
            }
            for (v, w) in raw.iter().zip(&weights) {
                let expected = (v - tau).clamp(min, max);
                prop_assert!((expected - w).abs() <= 1e-12);
            }
        }
    }

    #[test]
    fn allocations_sum_to_the_pool_and_respect_the_minimum(
        weights in prop::collection::vec(0.0f64..=1.0, 1..10),
        efficiencies in prop::collection::vec(0.0f64..=1.0, 10),
        budget in 1u64..=20,
        minimum in 0u64..=5,
    ) {
        let count = weights.len() as u64;
        let pool = budget.max(minimum) * count;
        let allocations = allocate(&weights, &efficiencies[..weights.len()], pool, minimum);
        prop_assert_eq!(allocations.iter().sum::<u64>(), pool);
        prop_assert!(allocations.iter().all(|allocation| *allocation >= minimum));
    }

    #[test]
    fn the_fold_ignores_the_order_files_are_listed_in(
        config in config_strategy(),
        events in events_strategy(),
        seed in any::<u64>(),
    ) {
        let files = event_files(&config, &events);
        let mut shuffled = files.clone();
        // A Fisher-Yates shuffle driven by the seed.
        let mut state = seed | 1;
        for index in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(index, (state % (index as u64 + 1)) as usize);
        }
        shuffled.reverse();
        prop_assert_eq!(fold(&config, files).to_json(), fold(&config, shuffled).to_json());
    }
}

/// An operation on a marketplace directory between two `status` calls.
#[derive(Clone, Debug)]
enum Operation {
    /// Append an event for this bot with this delta.
    Append(u8, f64),
    /// Replace one event file by another: the count stays the same.
    Swap(usize, f64),
    /// Delete one event file.
    Remove(usize),
    /// Rewrite the config.
    Reconfigure(u64),
    /// Delete the cached state (one file or both).
    DropCache(u8),
    /// Read the state (using and refreshing the cache).
    Status,
}

fn operation_strategy() -> impl Strategy<Value = Operation> {
    prop_oneof![
        (0u8..3, -0.3f64..0.3).prop_map(|(bot, delta)| Operation::Append(bot, delta)),
        (any::<usize>(), -0.3f64..0.3).prop_map(|(index, delta)| Operation::Swap(index, delta)),
        any::<usize>().prop_map(Operation::Remove),
        (2u64..=4).prop_map(Operation::Reconfigure),
        (0u8..3).prop_map(Operation::DropCache),
        Just(Operation::Status),
        Just(Operation::Status),
    ]
}

fn write_event(layout: &Layout, name: &str, bot: u8, delta: f64, second: u64) {
    let json = format!(
        r#"{{"timestamp": "2026-01-29T11:{:02}:{:02}Z", "issue_number": 9,
            "bot_id": "bidder_{}", "outcome": "success", "weight_delta": {delta}}}"#,
        (second / 60) % 60,
        second % 60,
        bot + 1
    );
    std::fs::write(layout.events_dir().join(name), json).expect("write event");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_cache_is_never_used_stale(operations in prop::collection::vec(operation_strategy(), 1..40)) {
        let directory = tempfile::tempdir().expect("temp dir");
        let layout = Layout::new(directory.path());
        std::fs::create_dir_all(layout.events_dir()).expect("mkdir");
        std::fs::write(layout.config_file(), r#"{"num_bots": 3}"#).expect("config");
        let mut counter = 0u64;
        for operation in operations {
            counter += 1;
            let names = {
                let mut names: Vec<String> = std::fs::read_dir(layout.events_dir())
                    .expect("list")
                    .map(|entry| entry.expect("entry").file_name().into_string().expect("utf-8"))
                    .collect();
                names.sort();
                names
            };
            match operation {
                Operation::Append(bot, delta) => {
                    write_event(&layout, &format!("e{counter:05}.json"), bot, delta, counter);
                }
                Operation::Swap(index, delta) if !names.is_empty() => {
                    let victim = &names[index % names.len()];
                    std::fs::remove_file(layout.events_dir().join(victim)).expect("remove");
                    write_event(&layout, &format!("e{counter:05}.json"), 0, delta, counter);
                }
                Operation::Remove(index) if !names.is_empty() => {
                    let victim = &names[index % names.len()];
                    std::fs::remove_file(layout.events_dir().join(victim)).expect("remove");
                }
                Operation::Reconfigure(bots) => {
                    std::fs::write(layout.config_file(), format!(r#"{{"num_bots": {bots}}}"#))
                        .expect("config");
                }
                Operation::DropCache(which) => {
                    if which != 1 {
                        let _ = std::fs::remove_file(layout.state_file());
                    }
                    if which != 0 {
                        let _ = std::fs::remove_file(layout.state_version_file());
                    }
                }
                _ => {}
            }
            let marketplace = Marketplace::open(layout.clone()).expect("open");
            let loaded = marketplace.state().expect("state");
            let truth = marketplace.fold_from_disk().expect("fold");
            prop_assert_eq!(&loaded.json, &truth.to_json(), "after {:?}", loaded.source);
        }
    }
}
