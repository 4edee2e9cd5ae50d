//! Providers built from resolved settings, and the router that sends each
//! plugin's `complete` calls to its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use futures::future::BoxFuture;
use ralph_runtime::{
    Completion, CompletionRequest, DeterministicProvider, ModelCaller, ModelProvider,
    ProviderError, ReplayProvider,
};

use crate::anthropic::AnthropicProvider;
use crate::error::ModelError;
use crate::openai::OpenAiProvider;
use crate::settings::{ResolvedBackend, ResolvedLlm};

/// A replay that ships inside Ralph (the demo's), used when the `replay`
/// provider is chosen without a `replay_file`.
#[derive(Clone, Debug)]
pub struct BuiltinReplay {
    /// Names the replay in messages.
    pub name: PathBuf,
    pub text: String,
}

/// Why a provider cannot be used for the rest of a round: a failure that is
/// the provider's, not the calling plugin's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// Still over its usage limit after the wait budget: try again later.
    UsageLimited(String),
    /// The key was refused, or the model or base URL is unknown: fix the
    /// settings or the key.
    Misconfigured(String),
}

impl Unavailable {
    /// What happened, naming the provider and the model (never the key).
    pub fn reason(&self) -> &str {
        match self {
            Unavailable::UsageLimited(reason) | Unavailable::Misconfigured(reason) => reason,
        }
    }

    fn of(error: &ModelError) -> Option<Unavailable> {
        match error {
            ModelError::UsageLimited { .. } => Some(Unavailable::UsageLimited(error.to_string())),
            ModelError::Unauthorized { .. }
            | ModelError::NotFound { .. }
            | ModelError::ContextExceeded { .. }
            | ModelError::MissingKey { .. } => Some(Unavailable::Misconfigured(error.to_string())),
            _ => None,
        }
    }
}

enum Inner {
    Anthropic(AnthropicProvider),
    OpenAi(OpenAiProvider),
    Other(Box<dyn ModelProvider>),
}

/// One provider built from [`ResolvedLlm`]: an HTTP provider, a replay or
/// the deterministic stand-in.
pub struct Backend {
    description: String,
    /// The model an HTTP provider asks for; `None` for the stand-ins.
    model: Option<String>,
    inner: Inner,
    max_tokens: Option<u32>,
    /// Why the provider is unavailable, once a call found it so; cleared
    /// by [`Backend::new_round`].
    unavailable: Mutex<Option<Unavailable>>,
}

/// Builds the provider `resolved` describes. A replay file is read
/// relative to `repository`; `builtin` answers a `replay` without a file.
pub fn build_provider(
    resolved: &ResolvedLlm,
    repository: &Path,
    builtin: Option<&BuiltinReplay>,
) -> Result<Backend, String> {
    let inner = match &resolved.backend {
        ResolvedBackend::Deterministic => Inner::Other(Box::new(DeterministicProvider::new())),
        ResolvedBackend::Replay(Some(file)) => Inner::Other(Box::new(
            ReplayProvider::open(&repository.join(file)).map_err(|error| error.message)?,
        )),
        ResolvedBackend::Replay(None) => {
            let builtin = builtin.ok_or_else(|| {
                "the replay provider needs a replay_file (relative to the repository)".to_owned()
            })?;
            Inner::Other(Box::new(
                ReplayProvider::from_json(&builtin.name, &builtin.text)
                    .map_err(|error| error.message)?,
            ))
        }
        ResolvedBackend::Http(config) => match resolved.kind {
            crate::settings::ProviderKind::Anthropic => Inner::Anthropic(
                AnthropicProvider::new(config.clone()).map_err(|error| error.to_string())?,
            ),
            _ => Inner::OpenAi(
                OpenAiProvider::new(config.clone()).map_err(|error| error.to_string())?,
            ),
        },
    };
    let model = match &resolved.backend {
        ResolvedBackend::Http(config) => Some(config.model.clone()),
        ResolvedBackend::Deterministic | ResolvedBackend::Replay(_) => None,
    };
    Ok(Backend {
        description: resolved.describe(),
        model,
        inner,
        max_tokens: resolved.max_tokens,
        unavailable: Mutex::new(None),
    })
}

impl Backend {
    /// What the provider is, for messages (never the key).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The model it asks for, when it is a real provider.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// A new round: the circuit breaker closes, so a provider that was down
    /// is tried again, and a past usage limit is forgotten.
    pub fn new_round(&self) {
        match &self.inner {
            Inner::Anthropic(provider) => provider.reset(),
            Inner::OpenAi(provider) => provider.reset(),
            Inner::Other(_) => {}
        }
        *self
            .unavailable
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The model's context window, when its server says (an
    /// OpenAI-compatible server that reports it; see
    /// [`OpenAiProvider::context_window`]).
    pub async fn context_window(&self) -> Option<u32> {
        match &self.inner {
            Inner::OpenAi(provider) => provider.context_window().await,
            Inner::Anthropic(_) | Inner::Other(_) => None,
        }
    }

    /// Why the provider cannot be used this round, if a call found out.
    pub fn unavailable(&self) -> Option<Unavailable> {
        self.unavailable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether a call waited for the service's usage limit this round.
    pub fn waited_for_usage_limit(&self) -> bool {
        match &self.inner {
            Inner::Anthropic(provider) => provider.waited_for_usage_limit(),
            Inner::OpenAi(provider) => provider.waited_for_usage_limit(),
            Inner::Other(_) => false,
        }
    }

    /// Whether the circuit breaker is open.
    pub fn is_down(&self) -> bool {
        match &self.inner {
            Inner::Anthropic(provider) => provider.is_down(),
            Inner::OpenAi(provider) => provider.is_down(),
            Inner::Other(_) => false,
        }
    }
}

impl ModelProvider for Backend {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        mut request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        if let Some(max_tokens) = self.max_tokens {
            request.max_tokens = max_tokens;
        }
        Box::pin(async move {
            tracing::debug!(plugin = caller, provider = %self.description, "Routing a model call");
            let result = match &self.inner {
                Inner::Other(provider) => return provider.complete(caller, request).await,
                Inner::Anthropic(provider) => provider.complete_request(&request).await,
                Inner::OpenAi(provider) => provider.complete_request(&request).await,
            };
            if let Err(error) = &result
                && let Some(unavailable) = Unavailable::of(error)
            {
                let mut slot = self
                    .unavailable
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                // A refused key outranks a usage limit: waiting will not fix it.
                if !matches!(*slot, Some(Unavailable::Misconfigured(_))) {
                    *slot = Some(unavailable);
                }
            }
            Ok(result?)
        })
    }
}

/// Sends each plugin's calls to its own provider, by the caller's plugin id
/// (its config entry), and everything else to the default one.
pub struct RoutingProvider {
    default: Arc<Backend>,
    routes: RwLock<BTreeMap<String, Arc<Backend>>>,
}

impl RoutingProvider {
    /// Routes every call to `default` until [`route`](Self::route) says otherwise.
    pub fn new(default: Arc<Backend>) -> Self {
        Self {
            default,
            routes: RwLock::new(BTreeMap::new()),
        }
    }

    /// Sends the calls of the plugin whose id is `plugin` to `backend`.
    /// Fails when another provider is already routed for that id.
    pub fn route(&self, plugin: &str, backend: Arc<Backend>) -> Result<(), String> {
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        match routes.get(plugin) {
            Some(existing) if !Arc::ptr_eq(existing, &backend) => Err(format!(
                "the plugin id `{plugin}` is routed to two providers ({} and {})",
                existing.description(),
                backend.description()
            )),
            _ => {
                routes.insert(plugin.to_owned(), backend);
                Ok(())
            }
        }
    }

    /// The provider that answers `caller`.
    pub fn backend_for(&self, caller: &str) -> Arc<Backend> {
        self.routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(caller)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    fn backends(&self) -> Vec<Arc<Backend>> {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        let mut backends = vec![self.default.clone()];
        for backend in routes.values() {
            if !backends.iter().any(|known| Arc::ptr_eq(known, backend)) {
                backends.push(backend.clone());
            }
        }
        backends
    }

    /// Starts a new round on every provider (see [`Backend::new_round`]).
    pub fn new_round(&self) {
        for backend in self.backends() {
            backend.new_round();
        }
    }

    /// Why a provider cannot be used this round, if one cannot; a
    /// misconfigured provider is named before one over its usage limit.
    pub fn unavailable(&self) -> Option<Unavailable> {
        let found: Vec<Unavailable> = self
            .backends()
            .iter()
            .filter_map(|backend| backend.unavailable())
            .collect();
        found
            .iter()
            .find(|unavailable| matches!(unavailable, Unavailable::Misconfigured(_)))
            .or_else(|| found.first())
            .cloned()
    }
}

impl ModelProvider for RoutingProvider {
    /// Routes by `caller` taken as a plugin id.
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        let backend = self.backend_for(caller);
        Box::pin(async move { backend.complete(caller, request).await })
    }

    /// Routes by the caller's id (its config entry), never by the name it
    /// reports; the backend sees the display name. A caller without an id
    /// gets the default provider.
    fn complete_for<'a>(
        &'a self,
        caller: ModelCaller<'a>,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        let backend = match caller.id {
            Some(id) => self.backend_for(id),
            None => self.default.clone(),
        };
        Box::pin(async move { backend.complete(caller.name, request).await })
    }
}
