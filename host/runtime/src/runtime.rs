//! The runtime: loads plugins and calls them, each call in a fresh sandbox.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use wasmtime::{Engine, Store};

use crate::cache::{CacheOutcome, ComponentCache};
use crate::capabilities::{Capability, CapabilitySet};
use crate::config::{Limits, PluginConfig, World};
use crate::contract::ContractVersion;
use crate::error::PluginError;
use crate::inspect::{self, Inspection};
use crate::integrations::{IntegrationHost, NoIntegrations};
use crate::loader::{self, Linkers};
use crate::provider::{DeterministicProvider, ModelProvider};
use crate::sandbox::{self, CallContext, PluginIdentity, Sandbox, SandboxState};
use crate::types::{
    CheckInput, CheckReport, Finding, GuestError, IssueSpec, Metadata, ModelUsage, Proposal,
    Requirement, RoundContext,
};
use crate::validate::{self, OutputSize};
use crate::world::{Answer, BidderPre, CheckPre, SpecialistPre, WorldPre};

/// The default for how many plugins deep consultations may nest.
pub const DEFAULT_CONSULT_DEPTH: usize = 4;

/// How to build a [`Runtime`].
pub struct RuntimeOptions {
    /// The directory plugins granted `repository` see read-only until
    /// [`Runtime::viewing`] names another; `None` for no files at all.
    pub view: Option<PathBuf>,
    /// Where compiled components are cached; `None` compiles every time.
    pub cache_directory: Option<PathBuf>,
    /// Who answers `complete`.
    pub provider: Arc<dyn ModelProvider>,
    /// How many plugins deep consultations may nest, the caller included.
    pub consult_depth: usize,
    /// Who performs `aws`, `sentry`, `alpaca` and `http-get` calls;
    /// [`NoIntegrations`] (deny everything) unless set.
    pub integrations: Arc<dyn IntegrationHost>,
}

impl RuntimeOptions {
    /// Options whose plugins granted `repository` see `view`, with no
    /// cache, the deterministic provider and the default consult depth. The
    /// loop gives plugins a clean checkout as their view, never the user's
    /// working directory.
    pub fn new(view: impl Into<PathBuf>) -> Self {
        Self {
            view: Some(view.into()),
            cache_directory: None,
            provider: Arc::new(DeterministicProvider::new()),
            consult_depth: DEFAULT_CONSULT_DEPTH,
            integrations: Arc::new(NoIntegrations),
        }
    }

    /// Options whose plugins see no files (loading, `plugin inspect`).
    pub fn without_view() -> Self {
        Self {
            view: None,
            ..Self::new(PathBuf::new())
        }
    }

    /// Caches compiled components in `directory`.
    pub fn with_cache(mut self, directory: impl Into<PathBuf>) -> Self {
        self.cache_directory = Some(directory.into());
        self
    }

    /// Uses `provider` for `complete`.
    pub fn with_provider(mut self, provider: Arc<dyn ModelProvider>) -> Self {
        self.provider = provider;
        self
    }

    /// Hands integration calls to `integrations`, which approves, performs
    /// and audits them.
    pub fn with_integrations(mut self, integrations: Arc<dyn IntegrationHost>) -> Self {
        self.integrations = integrations;
        self
    }
}

/// What a successful call returned, with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    /// The plugin's result.
    pub value: T,
    /// Model usage charged to the plugin, nested consultations included.
    pub usage: ModelUsage,
    /// Wall-clock time of the call.
    pub elapsed: Duration,
}

/// A call's result with the model usage charged to it, which a call that
/// failed (a fault, a deadline, a refused completion) has too.
#[derive(Debug)]
pub struct Metered<T> {
    /// What the call returned.
    pub result: Result<Outcome<T>, PluginError>,
    /// Model usage charged to the plugin, nested consultations included.
    pub usage: ModelUsage,
}

impl<T> Metered<T> {
    /// A call that failed before its plugin ran: nothing was used.
    pub(crate) fn unmetered(error: PluginError) -> Metered<T> {
        Metered {
            result: Err(error),
            usage: ModelUsage::default(),
        }
    }
}

/// The inputs of one `propose` call.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalRequest {
    /// The issue.
    pub issue: IssueSpec,
    /// Its requirements.
    pub requirements: Vec<Requirement>,
    /// The round, with any failure report and this bidder's last proposal.
    pub context: RoundContext,
    /// The most model tokens the call may use, nested consultations
    /// included; a completion that could pass it is refused with
    /// `limit-exceeded`. `None` for no cap.
    pub token_allowance: Option<u64>,
}

/// A loaded plugin of one world: pre-instantiated, ready for calls.
pub struct Plugin<P> {
    pre: P,
    identity: Arc<PluginIdentity>,
    metadata: Metadata,
    version: ContractVersion,
    cache: CacheOutcome,
}

impl<P> Plugin<P> {
    /// The plugin's name from its metadata: for display only.
    pub fn name(&self) -> &str {
        &self.identity.name
    }

    /// The config entry that loaded the plugin; see [`PluginIdentity::id`].
    pub fn id(&self) -> Option<&str> {
        self.identity.id.as_deref()
    }

    /// What the plugin reported about itself.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The version of the `ralph:plugin` contract the component was built
    /// against.
    pub fn contract_version(&self) -> ContractVersion {
        self.version
    }

    /// Who the plugin is: world, capabilities, limits, source.
    pub fn identity(&self) -> &PluginIdentity {
        &self.identity
    }

    /// Whether loading read the compiled component from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }
}

/// A loaded bidder.
pub type BidderPlugin = Plugin<BidderPre>;
/// A loaded specialist.
pub type SpecialistPlugin = Plugin<SpecialistPre>;
/// A loaded check.
pub type CheckPlugin = Plugin<CheckPre>;

/// A loaded plugin of any world.
#[derive(Clone)]
pub enum LoadedPlugin {
    /// A bidder.
    Bidder(Arc<BidderPlugin>),
    /// A specialist, also registered for `consult`.
    Specialist(Arc<SpecialistPlugin>),
    /// A check.
    Check(Arc<CheckPlugin>),
}

impl LoadedPlugin {
    /// The plugin's metadata.
    pub fn metadata(&self) -> &Metadata {
        match self {
            Self::Bidder(plugin) => plugin.metadata(),
            Self::Specialist(plugin) => plugin.metadata(),
            Self::Check(plugin) => plugin.metadata(),
        }
    }

    /// Who the plugin is: id, digest, name, world, capabilities, limits, source.
    pub fn identity(&self) -> &PluginIdentity {
        match self {
            Self::Bidder(plugin) => plugin.identity(),
            Self::Specialist(plugin) => plugin.identity(),
            Self::Check(plugin) => plugin.identity(),
        }
    }

    /// The contract version the component was built against.
    pub fn contract_version(&self) -> ContractVersion {
        match self {
            Self::Bidder(plugin) => plugin.contract_version(),
            Self::Specialist(plugin) => plugin.contract_version(),
            Self::Check(plugin) => plugin.contract_version(),
        }
    }

    /// The plugin's world.
    pub fn world(&self) -> World {
        match self {
            Self::Bidder(_) => World::Bidder,
            Self::Specialist(_) => World::Specialist,
            Self::Check(_) => World::Check,
        }
    }
}

/// What every call shares: engine, linkers, cache, provider, specialists.
pub(crate) struct Services {
    engine: Engine,
    linkers: Linkers,
    cache: Option<ComponentCache>,
    pub provider: Arc<dyn ModelProvider>,
    /// Loaded specialists by id, for `consult`.
    specialists: RwLock<BTreeMap<String, Arc<SpecialistPlugin>>>,
    /// Every plugin loaded with an id, for the one-name-one-component rule.
    loaded: std::sync::Mutex<Vec<Arc<PluginIdentity>>>,
    pub consult_depth: usize,
    pub integrations: Arc<dyn IntegrationHost>,
}

/// Runs Ralph's plugins. Cheap to clone; clones share loaded specialists.
#[derive(Clone)]
pub struct Runtime {
    services: Arc<Services>,
    /// What plugins granted `repository` see in this runtime's calls.
    view: Option<Arc<Path>>,
}

impl Runtime {
    /// A runtime on the process-wide engine.
    pub fn new(options: RuntimeOptions) -> Result<Self, PluginError> {
        let engine = crate::engine::shared()?;
        let linkers = Linkers::new(&engine)?;
        Ok(Self {
            services: Arc::new(Services {
                engine,
                linkers,
                cache: options.cache_directory.map(ComponentCache::new),
                provider: options.provider,
                specialists: RwLock::new(BTreeMap::new()),
                loaded: std::sync::Mutex::new(Vec::new()),
                consult_depth: options.consult_depth.max(1),
                integrations: options.integrations,
            }),
            view: options.view.map(Arc::from),
        })
    }

    /// This runtime, its calls viewing `view`: the directory plugins granted
    /// `repository` read, a clean checkout of the commit a round works on.
    /// Loaded plugins are shared.
    pub fn viewing(&self, view: &Path) -> Runtime {
        Runtime {
            services: self.services.clone(),
            view: Some(Arc::from(view)),
        }
    }

    fn view(&self) -> Option<PathBuf> {
        self.view.as_deref().map(Path::to_owned)
    }

    /// The engine plugins run on.
    pub fn engine(&self) -> &Engine {
        &self.services.engine
    }

    /// Loads the configured plugin, under its `id` (by default the file's
    /// stem).
    pub async fn load(&self, config: &PluginConfig) -> Result<LoadedPlugin, PluginError> {
        let bytes = std::fs::read(&config.path).map_err(|error| PluginError::Load {
            path: config.path.clone(),
            reason: format!("cannot read the file: {error}"),
        })?;
        let grants = config.grants.clone();
        let limits = config.limits.resolve();
        let id = config.id();
        match config.world {
            World::Bidder => self
                .load_bidder(&id, &config.path, &bytes, grants, limits)
                .await
                .map(LoadedPlugin::Bidder),
            World::Specialist => self
                .load_specialist(&id, &config.path, &bytes, grants, limits)
                .await
                .map(LoadedPlugin::Specialist),
            World::Check => self
                .load_check(&id, &config.path, &bytes, grants, limits)
                .await
                .map(LoadedPlugin::Check),
        }
    }

    /// Loads a bidder from component bytes for the config entry `id` (its
    /// identity: see [`PluginIdentity`]); `label` names it in errors.
    pub async fn load_bidder(
        &self,
        id: &str,
        label: &Path,
        bytes: &[u8],
        grants: impl IntoIterator<Item = Capability>,
        limits: Limits,
    ) -> Result<Arc<BidderPlugin>, PluginError> {
        let grants = grants.into_iter().collect();
        self.services
            .load_world(id, label, bytes, World::Bidder, grants, limits)
            .await
            .map(Arc::new)
    }

    /// Loads a specialist for the config entry `id` and registers it for
    /// `consult` under that id.
    pub async fn load_specialist(
        &self,
        id: &str,
        label: &Path,
        bytes: &[u8],
        grants: impl IntoIterator<Item = Capability>,
        limits: Limits,
    ) -> Result<Arc<SpecialistPlugin>, PluginError> {
        let grants = grants.into_iter().collect();
        let plugin: Arc<SpecialistPlugin> = Arc::new(
            self.services
                .load_world(id, label, bytes, World::Specialist, grants, limits)
                .await?,
        );
        let mut specialists = self
            .services
            .specialists
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if specialists.contains_key(id) {
            return Err(PluginError::Load {
                path: label.to_owned(),
                reason: format!("a specialist with the id `{id}` is already loaded"),
            });
        }
        specialists.insert(id.to_owned(), plugin.clone());
        Ok(plugin)
    }

    /// Loads a check from component bytes for the config entry `id`.
    pub async fn load_check(
        &self,
        id: &str,
        label: &Path,
        bytes: &[u8],
        grants: impl IntoIterator<Item = Capability>,
        limits: Limits,
    ) -> Result<Arc<CheckPlugin>, PluginError> {
        let grants = grants.into_iter().collect();
        self.services
            .load_world(id, label, bytes, World::Check, grants, limits)
            .await
            .map(Arc::new)
    }

    /// Reports what the component at `path` is: world, metadata, imports and
    /// exports. Runs only its `metadata` export, in the sandbox.
    pub async fn inspect(&self, path: &Path) -> Result<Inspection, PluginError> {
        let bytes = std::fs::read(path).map_err(|error| PluginError::Load {
            path: path.to_owned(),
            reason: format!("cannot read the file: {error}"),
        })?;
        self.inspect_bytes(path, &bytes).await
    }

    /// [`Runtime::inspect`] for component bytes; `label` names it in errors.
    pub async fn inspect_bytes(
        &self,
        label: &Path,
        bytes: &[u8],
    ) -> Result<Inspection, PluginError> {
        let services = &self.services;
        let compiled = loader::compile(&services.engine, services.cache.as_ref(), label, bytes)?;
        let loading = Loading {
            id: None,
            digest: sandbox::digest_of(bytes),
            label,
        };
        let (exports, imports) = inspect::names(&services.engine, &compiled.0);
        let world = inspect::detect_world(&exports, label)?;
        let none = std::collections::BTreeSet::new;
        let limits = Limits::default();
        let (metadata, contract_version) = match world {
            World::Bidder => services
                .load_compiled::<BidderPre>(&loading, compiled, world, none(), limits)
                .await
                .map(|plugin| (plugin.metadata, plugin.version))?,
            World::Specialist => services
                .load_compiled::<SpecialistPre>(&loading, compiled, world, none(), limits)
                .await
                .map(|plugin| (plugin.metadata, plugin.version))?,
            World::Check => services
                .load_compiled::<CheckPre>(&loading, compiled, world, none(), limits)
                .await
                .map(|plugin| (plugin.metadata, plugin.version))?,
        };
        Ok(Inspection {
            world,
            contract_version,
            name: metadata.name,
            version: metadata.version,
            description: metadata.description,
            capabilities: metadata.capabilities,
            imports,
            exports,
        })
    }

    /// Asks `bidder` for a proposal.
    pub async fn propose(
        &self,
        bidder: &BidderPlugin,
        request: &ProposalRequest,
    ) -> Result<Outcome<Proposal>, PluginError> {
        self.services
            .propose(bidder, request, self.view())
            .await
            .result
    }

    /// Asks every bidder at once; the round takes about as long as its
    /// slowest bidder. Results come back in the order of `entries`, each
    /// with the usage charged to it.
    pub async fn propose_round(
        &self,
        entries: &[(Arc<BidderPlugin>, ProposalRequest)],
    ) -> Vec<Metered<Proposal>> {
        tracing::info!(bidders = entries.len(), "Starting proposal round");
        let calls = entries
            .iter()
            .map(|(bidder, request)| self.services.propose(bidder, request, self.view()));
        futures::future::join_all(calls).await
    }

    /// Asks the loaded specialist whose id is `id` a question.
    pub async fn ask(&self, id: &str, question: &str) -> Result<Outcome<String>, PluginError> {
        let specialist = self
            .services
            .specialist(id)
            .ok_or_else(|| PluginError::NotLoaded {
                world: World::Specialist.name().to_owned(),
                name: id.to_owned(),
            })?;
        let chain = vec![specialist.identity.who().to_owned()];
        let root = self.view();
        self.services
            .clone()
            .ask_in_chain(specialist, question.to_owned(), chain, root, None)
            .await
            .result
    }

    /// Asks `specialist` to review a proposal.
    pub async fn review(
        &self,
        specialist: &SpecialistPlugin,
        proposal: &Proposal,
    ) -> Result<Outcome<Vec<Finding>>, PluginError> {
        self.services
            .review(specialist, proposal, self.view())
            .await
            .result
    }

    /// Asks every specialist at once to review `proposal`, each in its own
    /// sandbox with its own deadline. Results come back in the order of
    /// `specialists`.
    pub async fn review_all(
        &self,
        specialists: &[Arc<SpecialistPlugin>],
        proposal: &Proposal,
    ) -> Vec<Metered<Vec<Finding>>> {
        let calls = specialists
            .iter()
            .map(|specialist| self.services.review(specialist, proposal, self.view()));
        futures::future::join_all(calls).await
    }

    /// Runs `check` on a change; `view` is what the check sees read-only
    /// (with the `repository` grant): a clean checkout of the change.
    pub async fn run_check(
        &self,
        check: &CheckPlugin,
        input: &CheckInput,
        view: &Path,
    ) -> Result<Outcome<CheckReport>, PluginError> {
        self.run_check_metered(check, input, view).await.result
    }

    /// Runs `check` like [`run_check`](Self::run_check), with the model
    /// usage charged to it, which a failed run has too.
    pub async fn run_check_metered(
        &self,
        check: &CheckPlugin,
        input: &CheckInput,
        view: &Path,
    ) -> Metered<CheckReport> {
        self.services.run_check(check, input, view).await
    }
}

/// Turns an error the guest returned into the host's typed error.
fn guest_failure(plugin: &str, error: GuestError) -> PluginError {
    if let GuestError::Denied(name) = &error
        && let Ok(capability) = name.parse::<Capability>()
    {
        return PluginError::Denied {
            plugin: plugin.to_owned(),
            capability,
        };
    }
    PluginError::Failed {
        plugin: plugin.to_owned(),
        error,
    }
}

/// Refuses output over the plugin's cap.
fn check_size(identity: &PluginIdentity, value: &impl OutputSize) -> Result<(), PluginError> {
    let size_bytes = value.output_size();
    let limit_bytes = identity.limits.output_bytes;
    if size_bytes > limit_bytes {
        return Err(PluginError::OutputTooLarge {
            plugin: identity.who().to_owned(),
            size_bytes,
            limit_bytes,
        });
    }
    Ok(())
}

/// Makes one guest call under the sandbox's deadline: a fault, a deadline
/// or an error the plugin returned becomes the host's typed error, and an
/// answer over the plugin's output cap is refused.
async fn call_guest<T: OutputSize>(
    sandbox: &mut Sandbox,
    identity: &PluginIdentity,
    call: impl AsyncFnOnce(&mut Store<SandboxState>) -> Answer<T>,
) -> Result<T, PluginError> {
    let timeout = sandbox.timeout();
    let outcome = tokio::time::timeout(timeout, call(&mut sandbox.store)).await;
    let value = sandbox
        .finish(outcome)?
        .map_err(|error| guest_failure(identity.who(), error))?;
    check_size(identity, &value)?;
    Ok(value)
}

fn invalid(identity: &PluginIdentity) -> impl Fn(String) -> PluginError + '_ {
    move |reason| PluginError::InvalidOutput {
        plugin: identity.who().to_owned(),
        reason,
    }
}

/// Which entry and component a load is for.
struct Loading<'a> {
    /// The config entry; `None` for an inspection.
    id: Option<&'a str>,
    /// The SHA-256 of the component, as hex.
    digest: String,
    /// Names the component in errors.
    label: &'a Path,
}

/// What a plugin is called in a refusal: its entry, name and component.
fn described(identity: &PluginIdentity) -> String {
    format!(
        "`{}` ({}, reporting the name `{}`, sha256 {})",
        identity.who(),
        identity.source.display(),
        identity.name,
        identity.digest
    )
}

impl Services {
    /// The loaded specialist whose id is `id`.
    pub fn specialist(&self, id: &str) -> Option<Arc<SpecialistPlugin>> {
        self.specialists
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Admits a plugin loaded for an entry: refused when another loaded
    /// plugin reports the same metadata name from another component (the
    /// same component loaded twice, as the default lineup does, is one
    /// piece of code under one name), or when its id is taken by another
    /// component.
    fn admit(&self, identity: &Arc<PluginIdentity>) -> Result<(), PluginError> {
        let Some(id) = identity.id.as_deref() else {
            return Ok(());
        };
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let clash = loaded.iter().find(|other| {
            other.digest != identity.digest
                && (other.name == identity.name || other.id.as_deref() == Some(id))
        });
        if let Some(other) = clash {
            let what = if other.id.as_deref() == Some(id) {
                "the id"
            } else {
                "the name"
            };
            return Err(PluginError::Load {
                path: identity.source.clone(),
                reason: format!(
                    "refused {}: {what} is already taken by {}, a different component; \
                     plugin names and ids are unique, so rename one of them",
                    described(identity),
                    described(other)
                ),
            });
        }
        let known = loaded
            .iter()
            .any(|other| other.id.as_deref() == Some(id) && other.world == identity.world);
        if !known {
            loaded.push(identity.clone());
        }
        Ok(())
    }

    fn sandbox(
        self: &Arc<Self>,
        identity: &Arc<PluginIdentity>,
        root: Option<PathBuf>,
        chain: Vec<String>,
        token_allowance: Option<u64>,
    ) -> Result<Sandbox, PluginError> {
        Sandbox::new(
            &self.engine,
            CallContext {
                plugin: identity.clone(),
                services: self.clone(),
                root,
                chain,
                usage: ModelUsage::default(),
                token_allowance,
                log_messages: 0,
            },
        )
    }

    async fn load_world<P: WorldPre>(
        self: &Arc<Self>,
        id: &str,
        label: &Path,
        bytes: &[u8],
        world: World,
        grants: std::collections::BTreeSet<Capability>,
        limits: Limits,
    ) -> Result<Plugin<P>, PluginError> {
        sandbox::check_id(id).map_err(|reason| PluginError::Load {
            path: label.to_owned(),
            reason,
        })?;
        let compiled = loader::compile(&self.engine, self.cache.as_ref(), label, bytes)?;
        let loading = Loading {
            id: Some(id),
            digest: sandbox::digest_of(bytes),
            label,
        };
        let plugin = self
            .load_compiled(&loading, compiled, world, grants, limits)
            .await?;
        self.admit(&plugin.identity)?;
        Ok(plugin)
    }

    async fn load_compiled<P: WorldPre>(
        self: &Arc<Self>,
        loading: &Loading<'_>,
        (component, cache): (wasmtime::component::Component, CacheOutcome),
        world: World,
        grants: std::collections::BTreeSet<Capability>,
        limits: Limits,
    ) -> Result<Plugin<P>, PluginError> {
        let label = loading.label;
        let version = loader::check_world(&self.engine, &component, world, label)?;
        let instance_pre = loader::pre_instantiate(&self.linkers, &component, world, label)?;
        let pre = P::new(instance_pre, version).map_err(|error| PluginError::WorldMismatch {
            path: label.to_owned(),
            world: world.name().to_owned(),
            missing: format!("exports of the right types: {error}"),
        })?;
        let provisional = Arc::new(PluginIdentity {
            id: loading.id.map(str::to_owned),
            digest: loading.digest.clone(),
            name: label
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plugin".to_owned()),
            world,
            capabilities: CapabilitySet::default(),
            limits,
            source: label.to_owned(),
        });
        let metadata = self.metadata(&pre, &provisional).await?;
        let requested = metadata.capabilities.iter().copied().collect();
        let identity = Arc::new(PluginIdentity {
            id: loading.id.map(str::to_owned),
            digest: loading.digest.clone(),
            name: metadata.name.clone(),
            world,
            capabilities: CapabilitySet::new(requested, grants),
            limits,
            source: label.to_owned(),
        });
        tracing::info!(plugin = %identity.who(), name = %identity.name, digest = %identity.digest, %world, contract = %version, cached = cache == CacheOutcome::Hit, "Loaded plugin");
        Ok(Plugin {
            pre,
            identity,
            metadata,
            version,
            cache,
        })
    }

    async fn metadata<P: WorldPre>(
        self: &Arc<Self>,
        pre: &P,
        identity: &Arc<PluginIdentity>,
    ) -> Result<Metadata, PluginError> {
        // Loading sees no files: metadata is computed from the component alone.
        let mut sandbox = self.sandbox(identity, None, Vec::new(), None)?;
        let timeout = sandbox.timeout();
        let outcome = tokio::time::timeout(timeout, pre.metadata(&mut sandbox.store)).await;
        let metadata = sandbox
            .finish(outcome)?
            .map_err(|error| PluginError::Load {
                path: identity.source.clone(),
                reason: error.to_string(),
            })?;
        check_size(identity, &metadata)?;
        validate::check_metadata(&metadata).map_err(invalid(identity))?;
        Ok(metadata)
    }

    async fn propose(
        self: &Arc<Self>,
        bidder: &BidderPlugin,
        request: &ProposalRequest,
        view: Option<PathBuf>,
    ) -> Metered<Proposal> {
        let identity = &bidder.identity;
        let chain = vec![identity.who().to_owned()];
        match self.sandbox(identity, view, chain, request.token_allowance) {
            Ok(mut sandbox) => {
                let result = Self::propose_in(&mut sandbox, bidder, request).await;
                sandbox.metered(result)
            }
            Err(error) => Metered::unmetered(error),
        }
    }

    async fn propose_in(
        sandbox: &mut Sandbox,
        bidder: &BidderPlugin,
        request: &ProposalRequest,
    ) -> Result<Proposal, PluginError> {
        let identity = &bidder.identity;
        let proposal = call_guest(sandbox, identity, async |store| {
            let ProposalRequest {
                issue,
                requirements,
                context,
                ..
            } = request;
            bidder
                .pre
                .propose(store, issue, requirements, context)
                .await
        })
        .await?;
        let ids: Vec<&str> = request
            .requirements
            .iter()
            .map(|requirement| requirement.id.as_str())
            .collect();
        validate::check_proposal(&proposal, &ids).map_err(invalid(identity))?;
        Ok(proposal)
    }

    /// Asks `specialist`; `chain` is the consult path ending with it, and
    /// `token_allowance` what is left of the outermost caller's allowance.
    pub fn ask_in_chain(
        self: Arc<Self>,
        specialist: Arc<SpecialistPlugin>,
        question: String,
        chain: Vec<String>,
        root: Option<PathBuf>,
        token_allowance: Option<u64>,
    ) -> BoxFuture<'static, Metered<String>> {
        Box::pin(async move {
            let identity = &specialist.identity;
            match self.sandbox(identity, root, chain, token_allowance) {
                Ok(mut sandbox) => {
                    let result = Self::ask_in(&mut sandbox, &specialist, question).await;
                    sandbox.metered(result)
                }
                Err(error) => Metered::unmetered(error),
            }
        })
    }

    async fn ask_in(
        sandbox: &mut Sandbox,
        specialist: &SpecialistPlugin,
        question: String,
    ) -> Result<String, PluginError> {
        let identity = &specialist.identity;
        call_guest(sandbox, identity, async |store| {
            specialist.pre.ask(store, &question).await
        })
        .await
    }

    async fn review(
        self: &Arc<Self>,
        specialist: &SpecialistPlugin,
        proposal: &Proposal,
        view: Option<PathBuf>,
    ) -> Metered<Vec<Finding>> {
        let identity = &specialist.identity;
        let chain = vec![identity.who().to_owned()];
        match self.sandbox(identity, view, chain, None) {
            Ok(mut sandbox) => {
                let result = Self::review_in(&mut sandbox, specialist, proposal).await;
                sandbox.metered(result)
            }
            Err(error) => Metered::unmetered(error),
        }
    }

    async fn review_in(
        sandbox: &mut Sandbox,
        specialist: &SpecialistPlugin,
        proposal: &Proposal,
    ) -> Result<Vec<Finding>, PluginError> {
        let identity = &specialist.identity;
        let findings = call_guest(sandbox, identity, async |store| {
            specialist.pre.review(store, proposal).await
        })
        .await?;
        for finding in &findings {
            validate::check_finding(finding).map_err(invalid(identity))?;
        }
        Ok(findings)
    }

    async fn run_check(
        self: &Arc<Self>,
        check: &CheckPlugin,
        input: &CheckInput,
        view: &Path,
    ) -> Metered<CheckReport> {
        let identity = &check.identity;
        let chain = vec![identity.who().to_owned()];
        match self.sandbox(identity, Some(view.to_owned()), chain, None) {
            Ok(mut sandbox) => {
                let result = Self::run_check_in(&mut sandbox, check, input).await;
                sandbox.metered(result)
            }
            Err(error) => Metered::unmetered(error),
        }
    }

    async fn run_check_in(
        sandbox: &mut Sandbox,
        check: &CheckPlugin,
        input: &CheckInput,
    ) -> Result<CheckReport, PluginError> {
        let identity = &check.identity;
        let report = call_guest(sandbox, identity, async |store| {
            check.pre.run(store, input).await
        })
        .await?;
        validate::check_report(&report).map_err(invalid(identity))?;
        Ok(report)
    }
}
