//! A marketplace loop's session: what it works with ([`Session`]: the
//! [`Workbench`] every loop has, plus the plugins, budgets and metering of
//! the marketplace), how it is opened (config, lease, issue, worktree,
//! plugins, baseline), and how it ends (labels, the pull-request record).
//! The rounds it runs are [`crate::round`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ralph_integrations::gateway::GatewayError;
use ralph_integrations::{Environment, Gateway, default_approver};
use ralph_issues::pulls::{
    DimensionScores, FailedAttempt, ProposalScore, PullRequest, SpecialistReview,
};
use ralph_marketplace::{ConfigError, Layout, Marketplace};
use ralph_runtime::{
    BidderPlugin, ModelUsage, Personality, Runtime, RuntimeOptions, SpecialistPlugin,
};

use crate::checks::Judged;
use crate::human_review::Reviewer;
use crate::implementer::ImplementationUsage;
use crate::llm::LlmOptions;
use crate::loop_config::LoopConfig;
use crate::metering::{Metering, UsageRecord};
use crate::plugins::{Lineup, PluginEntry};
use crate::progress::{FinishStatus, Progress, Step};
use crate::recording::BidderRound;
use crate::scoring::Scored;
use crate::sessions::{LoopKind, SessionDir};
use crate::signals::{Mailbox, Signals};
use crate::snapshot::{Snapshot, tree_of};
use crate::workbench::{Parts, Workbench, uncommitted_state};

pub use crate::workbench::LoopError;

/// How a loop ended.
#[derive(Clone, Debug)]
pub struct Finished {
    pub status: FinishStatus,
    pub reason: String,
    pub pull_request: Option<ralph_issues::Published>,
}

/// What the loop needs besides the repository.
pub struct LoopOptions {
    pub issue: u64,
    /// Set (by Ctrl-C or SIGTERM) to stop cleanly between steps.
    pub stop: Arc<AtomicBool>,
    /// Which models answer: the command line's overrides of the `llm`
    /// section and the default provider.
    pub llm: LlmOptions,
    /// Who reviews each ranking before it is implemented (`--review`,
    /// SPEC §11); `None`, the default, runs the loop autonomously.
    pub reviewer: Option<Arc<dyn Reviewer>>,
}

/// What a bidder's config entry asks of each round.
#[derive(Clone, Debug, Default)]
pub(crate) struct BidderSettings {
    /// Its token cap per round, `None` for no cap.
    pub token_cap: Option<u64>,
    /// Its persona's text.
    pub persona: Option<String>,
    pub personality: Option<Personality>,
}

/// Everything a marketplace loop works with: the [`Workbench`] every loop
/// has, and what the marketplace alone needs.
pub struct Session {
    pub(crate) bench: Workbench,
    pub(crate) marketplace: Marketplace,
    pub(crate) runtime: Runtime,
    pub(crate) bidders: Vec<(String, Arc<BidderPlugin>)>,
    /// The loaded specialists, in config order: bidders consult them, and
    /// each reviews every round's winning proposal.
    pub(crate) specialists: Vec<Arc<SpecialistPlugin>>,
    pub(crate) last_checks: Vec<Judged>,
    /// The attempts of this loop that failed, for the record.
    pub(crate) failed_attempts: Vec<FailedAttempt>,
    pub(crate) last_ranking: Vec<Scored>,
    /// The specialists' reviews of the current round's winner.
    pub(crate) round_reviews: Vec<SpecialistReview>,
    /// The reviews of the last successful round's winner, for the record.
    pub(crate) last_reviews: Vec<SpecialistReview>,
    /// What plugins granted `repository` read this round: a clean checkout
    /// of the worktree's commit, made anew when the commit changes.
    pub(crate) view: Option<Snapshot>,
    pub(crate) metering: Metering,
    /// Each bidder's settings from its config entry.
    pub(crate) settings: BTreeMap<String, BidderSettings>,
    /// What each bidder that proposed in the current round used.
    pub(crate) round_usage: BTreeMap<String, ModelUsage>,
    /// The bidders whose round usage is already in one of this round's
    /// events: every model call is in exactly one record.
    pub(crate) usage_recorded: BTreeSet<String>,
    /// What the specialists' reviews of this round's winner used.
    pub(crate) review_usage: ModelUsage,
    /// What the check plugins used on this round's change.
    pub(crate) check_usage: ModelUsage,
    /// What the model judge used on this round's proposals and change.
    pub(crate) judge_usage: ModelUsage,
    budgets: Vec<(String, u64)>,
    pub(crate) used: u64,
    /// This loop's session folder (SPEC §8): its state, each round's
    /// timing, and the mailbox of its live signals.
    pub(crate) journal: SessionDir,
    pub(crate) signals: Signals,
    /// Where this round's failing checks keep their whole output (a
    /// feedback folder of the next iteration), and what they kept there.
    pub(crate) feedback_folder: PathBuf,
    pub(crate) kept_output: Vec<(String, String)>,
    /// The feedback folder this loop wrote last, relative to the session:
    /// its report already reaches the replan round.
    pub(crate) own_feedback: Option<String>,
    /// What the feedback folders a person added said, for this round's
    /// prompts.
    pub(crate) round_feedback: Vec<String>,
    /// The implementer's final answer in this round, for the session's
    /// reports.
    pub(crate) last_answer: Option<String>,
    /// Who reviews each ranking, when a person does (`--review`).
    pub(crate) reviewer: Option<Arc<dyn Reviewer>>,
}

impl Session {
    /// True once Ctrl-C or SIGTERM asked the loop to stop.
    pub(crate) fn stop_requested(&self) -> bool {
        self.bench.stop_requested()
    }

    pub(crate) fn budget_of(&self, bot_id: &str) -> u64 {
        self.budgets
            .iter()
            .find(|(id, _)| id == bot_id)
            .map_or(0, |(_, left)| *left)
    }

    pub(crate) fn spend(&mut self, bot_id: &str) {
        if let Some((_, left)) = self.budgets.iter_mut().find(|(id, _)| id == bot_id) {
            *left = left.saturating_sub(1);
        }
        self.used += 1;
    }

    /// Gives back an iteration [`spend`](Self::spend) took for an attempt
    /// that never happened (the model provider was unavailable).
    pub(crate) fn refund(&mut self, bot_id: &str) {
        if let Some((_, left)) = self.budgets.iter_mut().find(|(id, _)| id == bot_id) {
            *left += 1;
        }
        self.used = self.used.saturating_sub(1);
    }

    pub(crate) fn budget_left(&self) -> u64 {
        self.budgets.iter().map(|(_, left)| left).sum()
    }

    /// The model the plugins' completions are priced as: `metering.model`
    /// when set, else the top-level `llm.model` (after `--llm-model`).
    pub(crate) fn plugin_model(&self) -> Option<&str> {
        self.metering
            .model
            .as_deref()
            .or_else(|| self.bench.models.model())
    }

    /// The model `id`'s calls are priced as: its own `llm` section's model,
    /// else [`Session::plugin_model`].
    pub(crate) fn model_of(&self, id: &str) -> Option<&str> {
        self.bench
            .models
            .own_model(id)
            .or_else(|| self.plugin_model())
    }

    /// The runtime as this round's plugins see the repository: a clean
    /// checkout of the worktree's commit, never the user's working tree.
    pub(crate) fn round_runtime(&mut self) -> Result<Runtime, LoopError> {
        let tree = tree_of(self.bench.worktree.path(), "HEAD").map_err(LoopError::failed)?;
        if self.view.as_ref().is_none_or(|view| view.tree() != tree) {
            self.view = None;
            self.view =
                Some(Snapshot::of(self.bench.worktree.path(), &tree).map_err(LoopError::failed)?);
        }
        let view = self.view.as_ref().map(Snapshot::path);
        Ok(view.map_or_else(|| self.runtime.clone(), |path| self.runtime.viewing(path)))
    }

    /// The tokens `bot_id` may still use in this round; `None` for no cap.
    pub(crate) fn token_allowance(&self, bot_id: &str) -> Option<u64> {
        let cap = self.settings.get(bot_id)?.token_cap?;
        let used = self
            .round_usage
            .get(bot_id)
            .map_or(0, ModelUsage::total_tokens);
        Some(cap.saturating_sub(used))
    }

    /// `bot_id` for its next event in this round: with its usage in the
    /// round the first time, without it after (the usage is in exactly one
    /// event).
    pub(crate) fn bidder_round<'a>(&mut self, bot_id: &'a str) -> BidderRound<'a> {
        let first = self.usage_recorded.insert(bot_id.to_owned());
        BidderRound {
            id: bot_id,
            usage: self
                .round_usage
                .get(bot_id)
                .filter(|_| first)
                .map(|usage| self.metering.record(self.model_of(bot_id), usage)),
        }
    }

    /// An implementation's usage as recorded: priced by what the agent
    /// reported, else (for the configured model) by the price table.
    pub(crate) fn implementation_record(&self, usage: &ImplementationUsage) -> UsageRecord {
        let model = self
            .bench
            .models
            .implementer_model()
            .or_else(|| self.plugin_model());
        let mut record = self.metering.record(model, &usage.tokens);
        record.cost_usd = match (usage.reported_cost_usd, usage.configured_model) {
            (Some(cost), _) => Some(cost),
            (None, true) => record.cost_usd,
            (None, false) => None,
        };
        record
    }
}

impl Session {
    pub(crate) fn remaining(&self) -> usize {
        self.bench
            .issue
            .requirements()
            .iter()
            .filter(|requirement| {
                !requirement.done && requirement.kind == ralph_issues::RequirementKind::Checkbox
            })
            .count()
    }

    pub(crate) fn finish(
        mut self,
        status: FinishStatus,
        reason: String,
        progress: &mut dyn Progress,
    ) -> Result<Finished, LoopError> {
        self.journal.end(status, &reason)?;
        let pull_request = self.bench.conclude(
            self.marketplace.layout(),
            status,
            &reason,
            |bench| {
                pull_request_record(
                    bench,
                    &self.last_ranking,
                    &self.last_checks,
                    &self.last_reviews,
                    &self.failed_attempts,
                )
            },
            progress,
        )?;
        tracing::info!(?status, reason = %reason, "Loop finished");
        progress.step(Step::Finished {
            status,
            reason: reason.clone(),
            budget_used: self.used,
            to_commit: uncommitted_state(self.marketplace.layout()),
        });
        Ok(Finished {
            status,
            reason,
            pull_request,
        })
    }
}

/// The marketplace's pull-request record: the branch's, with the last
/// ranking's proposals, the winner's reviews and the failed attempts.
fn pull_request_record(
    bench: &Workbench,
    last_ranking: &[Scored],
    last_checks: &[Judged],
    last_reviews: &[SpecialistReview],
    failed_attempts: &[FailedAttempt],
) -> PullRequest {
    let proposals = last_ranking
        .iter()
        .map(|entry: &Scored| ProposalScore {
            label: format!("proposal-{}", entry.label.to_lowercase()),
            total: entry.total,
            scores: DimensionScores {
                spec_alignment: entry.scores.spec_alignment,
                technical_quality: entry.scores.technical_quality,
                innovation: entry.scores.innovation,
                risk: entry.scores.risk,
                efficiency: entry.scores.efficiency,
            },
        })
        .collect();
    let summary = last_ranking
        .first()
        .map(|entry| entry.proposal.summary.clone())
        .unwrap_or_default();
    PullRequest {
        proposals,
        reviews: last_reviews.to_vec(),
        failed_attempts: failed_attempts.to_vec(),
        ..bench.pull_request(summary, last_checks)
    }
}

/// The host of plugins' integration calls (`docs/integrations.md`): the
/// `integrations` section, credentials from the environment, and the user's
/// approvals, asked for on a terminal and denied without one.
pub(crate) fn integrations_of(
    marketplace: &Marketplace,
    layout: &Layout,
) -> Result<Arc<dyn ralph_runtime::integrations::IntegrationHost>, LoopError> {
    let gateway = Gateway::from_config(
        layout,
        marketplace.config().integrations.as_ref(),
        &Environment::from_process(),
        default_approver(),
    )
    .map_err(|error| match error {
        GatewayError::Config { .. } => LoopError::BadInput(error.to_string()),
        GatewayError::Client(_) => LoopError::failed(error),
    })?;
    Ok(Arc::new(gateway))
}

/// Reads the issue and config, labels the issue, prepares the worktree,
/// loads the plugins and runs the baseline checks.
pub(crate) async fn open(
    layout: Layout,
    options: &LoopOptions,
    progress: &mut dyn Progress,
) -> Result<Session, LoopError> {
    let number = options.issue;
    let LoopConfig {
        marketplace,
        lineup,
        implementer,
        protected,
        sandbox,
        models,
        metering,
        issues,
        team,
    } = LoopConfig::read(&layout, &options.llm)?;
    let integrations = integrations_of(&marketplace, &layout)?;
    let settings = bidder_settings(&lineup, &metering, &layout)?;
    let parts = Parts {
        kind: LoopKind::Marketplace,
        implementer,
        protected,
        sandbox,
        models,
        issues,
        team,
    };
    let opened = Workbench::open(&layout, number, parts, options.stop.clone(), progress).await?;
    let state = marketplace.state().map_err(LoopError::failed)?;
    let issue = &opened.bench.issue;
    progress.step(Step::Started {
        issue: number,
        title: issue.title.clone(),
        branch: opened.branch.clone(),
        worktree: opened.worktree_path.display().to_string(),
        pool: state.state.total_budget_pool,
        requirements_left: issue
            .requirements()
            .iter()
            .filter(|r| !r.done && r.kind == ralph_issues::RequirementKind::Checkbox)
            .count(),
    });
    let bench = opened.bench;
    let (journal, resumed) = SessionDir::resume_or_create(
        layout.repository(),
        number,
        LoopKind::Marketplace,
        &opened.branch,
        false,
    )?;
    progress.step(Step::SessionOpened {
        id: journal.id().to_owned(),
        path: layout.display(journal.root()).to_string(),
        resumed,
        iteration: journal.metadata.iteration,
    });
    let signals = Signals::new(
        Mailbox::of(journal.root()),
        options.stop.clone(),
        journal.metadata.steering.clone(),
        journal.metadata.info.clone(),
    );
    progress.step(Step::Sandbox {
        kind: bench.confinement.kind(),
        message: bench.confinement.describe(),
    });
    let runtime = Runtime::new(
        runtime_options(layout.repository())
            .with_provider(bench.models.plugins())
            .with_integrations(integrations),
    )
    .map_err(LoopError::failed)?;
    let mut session = Session {
        budgets: state
            .state
            .bots
            .0
            .iter()
            .map(|(id, bot)| (id.clone(), bot.allocation))
            .collect(),
        bench,
        marketplace,
        runtime,
        bidders: Vec::new(),
        specialists: Vec::new(),
        last_checks: Vec::new(),
        failed_attempts: Vec::new(),
        last_ranking: Vec::new(),
        round_reviews: Vec::new(),
        last_reviews: Vec::new(),
        view: None,
        metering,
        settings,
        round_usage: BTreeMap::new(),
        usage_recorded: BTreeSet::new(),
        review_usage: ModelUsage::default(),
        check_usage: ModelUsage::default(),
        judge_usage: ModelUsage::default(),
        used: 0,
        feedback_folder: journal.next_feedback_folder(),
        journal,
        signals,
        kept_output: Vec::new(),
        own_feedback: None,
        round_feedback: Vec::new(),
        last_answer: None,
        reviewer: options.reviewer.clone(),
    };
    session.load(&lineup, progress).await?;
    session.bench.run_baseline(progress).await;
    Ok(session)
}

impl Session {
    async fn load(
        &mut self,
        lineup: &Lineup,
        progress: &mut dyn Progress,
    ) -> Result<(), LoopError> {
        let repository = self.marketplace.layout().repository().to_owned();
        let runtime = self.runtime.clone();
        let failed = |plugin: String, error: String| Step::PluginFailedToLoad { plugin, error };
        for (bot_id, entry) in &lineup.bidders {
            let loaded = load_entry(
                &repository,
                entry,
                async |id, label, bytes, grants, limits| {
                    runtime.load_bidder(id, label, bytes, grants, limits).await
                },
            )
            .await;
            match loaded {
                Ok(plugin) => self.bidders.push((bot_id.clone(), plugin)),
                Err(error) => progress.step(failed(label_of(entry), error)),
            }
        }
        for entry in &lineup.specialists {
            let loaded = load_entry(
                &repository,
                entry,
                async |id, label, bytes, grants, limits| {
                    runtime
                        .load_specialist(id, label, bytes, grants, limits)
                        .await
                },
            )
            .await;
            match loaded {
                Ok(plugin) => self.specialists.push(plugin),
                Err(error) => progress.step(failed(label_of(entry), error)),
            }
        }
        self.bench
            .load_checks(&repository, &lineup.checks, &runtime, progress)
            .await;
        Ok(())
    }
}

/// The runtime's options before the round's view exists: plugins see no
/// files until a round hands them a clean checkout, and compiled components
/// are cached in the user's cache directory, outside every repository.
pub(crate) fn runtime_options(repository: &std::path::Path) -> RuntimeOptions {
    let options = RuntimeOptions::without_view();
    match ralph_runtime::cache::user_directory(repository) {
        Some(cache) => options.with_cache(cache),
        None => options,
    }
}

/// Each bidder's cap, persona text and personality; a persona the config
/// names that cannot be read is a config error naming the field and file.
fn bidder_settings(
    lineup: &Lineup,
    metering: &Metering,
    layout: &Layout,
) -> Result<BTreeMap<String, BidderSettings>, LoopError> {
    let mut settings = BTreeMap::new();
    for (id, entry) in &lineup.bidders {
        let persona = crate::personas::read(layout.repository(), entry.persona.as_deref())
            .map_err(|message| ConfigError::Invalid {
                path: layout.config_file(),
                field: format!("bidders.{id}.persona"),
                message,
            })?;
        settings.insert(
            id.clone(),
            BidderSettings {
                token_cap: metering.cap_for(entry.max_tokens_per_round),
                persona,
                personality: entry.personality,
            },
        );
    }
    Ok(settings)
}

/// Takes issue `number` for this loop, or says who works on it (exit 2).
pub(crate) fn label_of(entry: &PluginEntry) -> String {
    entry.source.label().display().to_string()
}

/// Reads `entry`'s component and loads it with `load` (given its id, label,
/// bytes, grants and limits); any failure as text naming the plugin's file.
/// The id, never the name the plugin reports, is who it is.
pub(crate) async fn load_entry<P>(
    repository: &std::path::Path,
    entry: &PluginEntry,
    load: impl AsyncFnOnce(
        &str,
        &std::path::Path,
        &[u8],
        Vec<ralph_runtime::Capability>,
        ralph_runtime::Limits,
    ) -> Result<P, ralph_runtime::PluginError>,
) -> Result<P, String> {
    let label = entry.source.label();
    let bytes = entry
        .source
        .bytes(repository)
        .map_err(|error| format!("{}: {error}", label.display()))?;
    let grants = entry.grants.iter().copied().collect();
    load(&entry.id, &label, &bytes, grants, entry.limits.resolve())
        .await
        .map_err(|error| error.to_string())
}
