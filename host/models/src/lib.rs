//! Real model providers for Ralph's `complete` host import.
//!
//! [`AnthropicProvider`] speaks the Anthropic Messages API and
//! [`OpenAiProvider`] speaks OpenAI-compatible chat completions (OpenAI
//! itself, or a local Ollama, llama.cpp or vLLM server without a key). Both
//! share the robustness in [`ProviderConfig`]: connect and total timeouts,
//! retries with exponential backoff and jitter that honour `Retry-After`, a
//! final error for a bad key or an unknown model, and a circuit breaker that
//! fails fast after too many consecutive failed calls until [`reset`].
//!
//! [`LlmSettings`] types the `llm` section of `.ralph/config.json` and its
//! overrides; [`build_provider`] makes a provider of resolved settings and
//! [`RoutingProvider`] sends each plugin's calls to its own.
//!
//! API keys come only from the environment (`ANTHROPIC_API_KEY`,
//! `OPENAI_API_KEY`) or from [`ProviderConfig::api_key`]; they are never
//! logged and never appear in an error.
//!
//! [`RedactingProvider`] redacts every answer and error with the host's
//! redactor (`ralph-secrets`) before anyone else sees it.
//!
//! [`reset`]: AnthropicProvider::reset

mod anthropic;
mod breaker;
mod config;
mod error;
mod http;
mod openai;
mod redacting;
mod retry;
mod routing;
mod settings;

pub use anthropic::AnthropicProvider;
pub use config::{ApiKey, ProviderConfig, RetryPolicy};
pub use error::ModelError;
pub use openai::OpenAiProvider;
pub use redacting::RedactingProvider;
pub use routing::{Backend, BuiltinReplay, RoutingProvider, Unavailable, build_provider};
pub use settings::{
    LlmSettings, ProviderKind, ResolvedBackend, ResolvedLlm, SettingsError, key_variable,
    process_environment,
};
