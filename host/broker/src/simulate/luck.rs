//! The simulator's luck: every random draw of a run, from one seed.
//!
//! The seed gives each issue its own seed, and each issue's generator
//! draws its rounds in order, the same numbers for every bidder whether it
//! proposes or not. So the marketplace and the references meet the same
//! luck: the same bidder tried in the same round of the same issue succeeds
//! in all three runs or in none. PCG (`rand_pcg`) and `rand`'s uniform
//! draws are portable, so a seed gives the same run on every platform.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::SCORE_NOISE;

/// One seed per issue, from the run's seed.
pub(super) fn issue_seeds(seed: u64, issues: u64) -> Vec<u64> {
    let mut generator = Pcg64Mcg::seed_from_u64(seed);
    (0..issues).map(|_| generator.random::<u64>()).collect()
}

/// The draws of one issue, round by round.
pub(super) struct IssueLuck {
    generator: Pcg64Mcg,
}

/// The draws of one round, per bidder (by its index).
pub(super) struct RoundLuck {
    /// Uniform in [0, 1): the implementation succeeds when below the
    /// bidder's success probability.
    pub success: Vec<f64>,
    /// Added to the proposal score the bidder aims at.
    pub proposal_noise: Vec<f64>,
    /// Added to the bidder's true chance for its implementation's score.
    pub implementation_noise: Vec<f64>,
    /// The bidders in the order their proposals arrive.
    pub order: Vec<usize>,
    /// Uniform in [0, 1): the random reference's choice.
    pub pick: f64,
}

impl IssueLuck {
    pub(super) fn new(seed: u64) -> Self {
        IssueLuck {
            generator: Pcg64Mcg::seed_from_u64(seed),
        }
    }

    /// The next round's draws for `bidders` bidders.
    pub(super) fn round(&mut self, bidders: usize) -> RoundLuck {
        let generator = &mut self.generator;
        let noise = |generator: &mut Pcg64Mcg| generator.random_range(-SCORE_NOISE..=SCORE_NOISE);
        let mut luck = RoundLuck {
            success: Vec::with_capacity(bidders),
            proposal_noise: Vec::with_capacity(bidders),
            implementation_noise: Vec::with_capacity(bidders),
            order: (0..bidders).collect(),
            pick: 0.0,
        };
        for _ in 0..bidders {
            luck.success.push(generator.random::<f64>());
            luck.proposal_noise.push(noise(generator));
            luck.implementation_noise.push(noise(generator));
        }
        luck.order.shuffle(generator);
        luck.pick = generator.random::<f64>();
        luck
    }
}
