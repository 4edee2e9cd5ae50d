//! `ralph marketplace simulate`: synthetic bidders through the real
//! learning (SPEC §12a). The simulation is `ralph_broker::simulate`; this
//! reads the flags and shows the report.

use std::fmt::Write as _;

use ralph_broker::simulate::{
    Parameter, Report, Rule, Settings, SimulationError, SyntheticBidder, simulate,
};

use crate::cli::{RuleArg, SimulateArgs};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, out};

pub fn run(args: &SimulateArgs) -> Outcome {
    let bidders = bidders_of(args)?;
    let settings = Settings {
        issues: args.issues,
        seed: args.seed,
        rule: match args.rule {
            RuleArg::Seed => Rule::Seed,
            RuleArg::Efficiency => Rule::Efficiency,
        },
    };
    let report = simulate(&bidders, &settings).map_err(failure_of)?;
    if args.json.json {
        let text = serde_json::to_string_pretty(&report).map_err(Failure::problem)?;
        output::json_line(&text);
    } else {
        out!("{}", render(&report));
    }
    Ok(Exit::Success)
}

/// The synthetic bidders the flags describe: `--honesty` and
/// `--attractiveness`, when given, hold one value per bidder.
fn bidders_of(args: &SimulateArgs) -> Result<Vec<SyntheticBidder>, Failure> {
    for (flag, values) in [
        ("--honesty", &args.honesty),
        ("--attractiveness", &args.attractiveness),
    ] {
        if !values.is_empty() && values.len() != args.bidders.len() {
            return Err(Failure::message(
                Exit::BadInput,
                format!(
                    "{flag}: {} values for {} bidders; give one per value of --bidders",
                    values.len(),
                    args.bidders.len()
                ),
            ));
        }
    }
    Ok(args
        .bidders
        .iter()
        .enumerate()
        .map(|(index, chance)| {
            let mut bidder = SyntheticBidder::honest(*chance);
            if let Some(honesty) = args.honesty.get(index) {
                bidder.honesty = *honesty;
            }
            if let Some(attractiveness) = args.attractiveness.get(index) {
                bidder.attractiveness = *attractiveness;
            }
            bidder
        })
        .collect())
}

/// The error, naming the flag at fault (exit 2).
fn failure_of(error: SimulationError) -> Failure {
    let flag = match &error {
        SimulationError::NoBidders | SimulationError::Config { .. } => "--bidders",
        SimulationError::OutOfRange { parameter, .. } => match parameter {
            Parameter::SuccessProbability => "--bidders",
            Parameter::Honesty => "--honesty",
            Parameter::Attractiveness => "--attractiveness",
        },
        SimulationError::Issues(_) => "--issues",
        SimulationError::Refused(_) => return Failure::problem(error),
    };
    Failure::message(Exit::BadInput, format!("{flag}: {error}"))
}

/// The report for people: the outcome, a table per bidder, and weights and
/// allocations over time.
fn render(report: &Report) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Simulated {} issues (rule {}, seed {}).\nSolved: the marketplace {}, the oracle {}, random choice {}.",
        report.issues,
        rule_name(report.rule),
        report.seed,
        report.solved,
        report.oracle_solved,
        report.random_solved
    );
    let _ = writeln!(
        text,
        "Pool {} iterations, at least {} per bidder; {} implementations.\n",
        report.pool, report.min_allocation_per_bot, report.implementations
    );
    let _ = writeln!(
        text,
        "{:<10} {:>4} {:>6} {:>5} {:>6} {:>6} {:>5} {:>4} {:>5} {:>5} {:>6}",
        "bidder",
        "P",
        "honest",
        "looks",
        "weight",
        "effic.",
        "alloc",
        "min",
        "wins",
        "won",
        "failed"
    );
    for bidder in &report.bidders {
        let _ = writeln!(
            text,
            "{:<10} {:>4.2} {:>6.2} {:>5.2} {:>6.3} {:>6.3} {:>5} {:>4} {:>5} {:>5} {:>6}",
            bidder.id,
            bidder.success_probability,
            bidder.honesty,
            bidder.attractiveness,
            bidder.weight,
            bidder.efficiency,
            bidder.allocation,
            bidder.lowest_allocation,
            bidder.wins,
            bidder.successes,
            bidder.failures
        );
    }
    let _ = write!(text, "\nOver time (weight / allocation):\n{:>6}", "issue");
    for bidder in &report.bidders {
        let _ = write!(text, "  {:>13}", bidder.id);
    }
    text.push('\n');
    for snapshot in &report.over_time {
        let _ = write!(text, "{:>6}", snapshot.issue);
        for (weight, allocation) in snapshot.weights.iter().zip(&snapshot.allocations) {
            let _ = write!(text, "  {:>13}", format!("{weight:.3} / {allocation}"));
        }
        text.push('\n');
    }
    text
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::Seed => "seed",
        Rule::Efficiency => "efficiency",
    }
}
