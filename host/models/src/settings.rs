//! The `llm` section of `.ralph/config.json`: which model answers the
//! plugins' `complete` calls, typed, merged with overrides and resolved
//! into a provider.
//!
//! ```json
//! "llm": {"provider": "openai", "model": "qwen2.5-coder:14b",
//!         "base_url": "http://localhost:11434/v1", "max_tokens": 4096,
//!         "temperature": 0.2, "timeout_secs": 300}
//! ```
//!
//! The same shape, with every field optional, overrides the section for
//! one bidder (`bidders.<id>.llm`) or for the `model` implementer
//! (`implementer.llm`); command-line flags override the section itself.
//! Keys never come from the config: only from `ANTHROPIC_API_KEY` and
//! `OPENAI_API_KEY`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{ApiKey, ProviderConfig};

/// Who answers `complete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum ProviderKind {
    /// Anthropic's Messages API; needs `ANTHROPIC_API_KEY`.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// OpenAI, or any OpenAI-compatible server (Ollama, llama.cpp, vLLM).
    #[serde(rename = "openai")]
    OpenAi,
    /// Answers recorded in a replay file, in order per plugin.
    #[serde(rename = "replay")]
    Replay,
    /// A stand-in that answers without a model (the default for `loop`).
    #[serde(rename = "deterministic")]
    Deterministic,
}

impl ProviderKind {
    /// Every provider's name, as written in the config and on the command line.
    pub const NAMES: [&'static str; 4] = ["anthropic", "openai", "replay", "deterministic"];

    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Replay => "replay",
            ProviderKind::Deterministic => "deterministic",
        }
    }

    /// Whether the provider calls a model over HTTP.
    pub fn is_remote(self) -> bool {
        matches!(self, ProviderKind::Anthropic | ProviderKind::OpenAi)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for ProviderKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "anthropic" => Ok(ProviderKind::Anthropic),
            "openai" => Ok(ProviderKind::OpenAi),
            "replay" => Ok(ProviderKind::Replay),
            "deterministic" => Ok(ProviderKind::Deterministic),
            other => Err(format!(
                "unknown provider {other:?}; expected one of {}",
                ProviderKind::NAMES.join(", ")
            )),
        }
    }
}

/// An `llm` section, or an override of one: every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    pub provider: Option<ProviderKind>,
    /// The model name sent with every request.
    pub model: Option<String>,
    /// The service root; for OpenAI-compatible servers it includes `/v1`.
    pub base_url: Option<String>,
    /// Output tokens asked for on every call, in place of what the caller
    /// asks for.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// How long one attempt may take, in seconds.
    pub timeout_secs: Option<u64>,
    /// The replay file (relative to the repository) for `replay`.
    pub replay_file: Option<PathBuf>,
    /// Records every answer into this file, in the replay format. Top-level
    /// section and command line only.
    pub record_file: Option<PathBuf>,
}

/// A field of an `llm` section that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingsError {
    /// The field's path, such as `llm.temperature` or `bidders.bidder_2.llm.model`.
    pub field: String,
    pub message: String,
}

impl SettingsError {
    fn new(prefix: &str, field: &str, message: impl Into<String>) -> Self {
        SettingsError {
            field: format!("{prefix}.{field}"),
            message: message.into(),
        }
    }
}

impl LlmSettings {
    /// Types the section `value`, found at `prefix` (such as `llm`); the
    /// error names the field at fault under `prefix`.
    pub fn from_value(value: &serde_json::Value, prefix: &str) -> Result<Self, SettingsError> {
        let settings: LlmSettings = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            let field = if path == "." || path == "?" {
                prefix.to_owned()
            } else {
                format!("{prefix}.{path}")
            };
            SettingsError {
                field,
                message: error.into_inner().to_string(),
            }
        })?;
        settings.validate(prefix)?;
        Ok(settings)
    }

    /// Checks the values that serde cannot: ranges and URL schemes.
    pub fn validate(&self, prefix: &str) -> Result<(), SettingsError> {
        if let Some(temperature) = self.temperature
            && !(0.0..=2.0).contains(&temperature)
        {
            return Err(SettingsError::new(
                prefix,
                "temperature",
                format!("must be within [0, 2], got {temperature}"),
            ));
        }
        if self.max_tokens == Some(0) {
            return Err(SettingsError::new(
                prefix,
                "max_tokens",
                "must be at least 1",
            ));
        }
        if self.timeout_secs == Some(0) {
            return Err(SettingsError::new(
                prefix,
                "timeout_secs",
                "must be at least 1",
            ));
        }
        if let Some(url) = &self.base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(SettingsError::new(
                prefix,
                "base_url",
                format!("must start with http:// or https://, got {url:?}"),
            ));
        }
        if let Some(model) = &self.model
            && model.trim().is_empty()
        {
            return Err(SettingsError::new(prefix, "model", "must not be empty"));
        }
        Ok(())
    }

    /// This override merged over `base`, field by field. An override that
    /// names another provider than `base` keeps only `base`'s
    /// provider-independent fields (`max_tokens`, `temperature`,
    /// `timeout_secs`, `record_file`): a model or URL meant for one provider
    /// means nothing to another.
    pub fn merged_over(&self, base: &LlmSettings) -> LlmSettings {
        let switches = self.provider.is_some() && self.provider != base.provider;
        let inherited = |own: &Option<String>, theirs: &Option<String>| {
            own.clone()
                .or_else(|| (!switches).then(|| theirs.clone()).flatten())
        };
        LlmSettings {
            provider: self.provider.or(base.provider),
            model: inherited(&self.model, &base.model),
            base_url: inherited(&self.base_url, &base.base_url),
            max_tokens: self.max_tokens.or(base.max_tokens),
            temperature: self.temperature.or(base.temperature),
            timeout_secs: self.timeout_secs.or(base.timeout_secs),
            replay_file: self
                .replay_file
                .clone()
                .or_else(|| (!switches).then(|| base.replay_file.clone()).flatten()),
            record_file: self
                .record_file
                .clone()
                .or_else(|| base.record_file.clone()),
        }
    }

    /// Resolves the settings found at `prefix` into what a provider is built
    /// from. `default` is the provider when none is named; `environment`
    /// reads environment variables (the keys).
    pub fn resolve(
        &self,
        prefix: &str,
        default: ProviderKind,
        environment: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ResolvedLlm, SettingsError> {
        self.validate(prefix)?;
        let kind = self.provider.unwrap_or(default);
        let not_for = |field: &str| {
            SettingsError::new(
                prefix,
                field,
                format!(
                    "the {kind} provider does not use it; remove it or choose another provider"
                ),
            )
        };
        if !kind.is_remote() {
            if self.model.is_some() {
                return Err(not_for("model"));
            }
            if self.base_url.is_some() {
                return Err(not_for("base_url"));
            }
        }
        if kind != ProviderKind::Replay && self.replay_file.is_some() {
            return Err(not_for("replay_file"));
        }
        let backend = match kind {
            ProviderKind::Deterministic => ResolvedBackend::Deterministic,
            ProviderKind::Replay => ResolvedBackend::Replay(self.replay_file.clone()),
            ProviderKind::Anthropic | ProviderKind::OpenAi => {
                ResolvedBackend::Http(self.http_config(prefix, kind, environment)?)
            }
        };
        Ok(ResolvedLlm {
            kind,
            backend,
            max_tokens: self.max_tokens,
        })
    }

    fn http_config(
        &self,
        prefix: &str,
        kind: ProviderKind,
        environment: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, SettingsError> {
        let model = self.model.clone().ok_or_else(|| {
            SettingsError::new(
                prefix,
                "model",
                format!(
                    "the {kind} provider needs a model; set it in the config or pass --llm-model"
                ),
            )
        })?;
        let variable = key_variable(kind);
        let key = environment(variable)
            .filter(|key| !key.trim().is_empty())
            .map(ApiKey::new);
        // A local OpenAI-compatible server (a base URL is given) needs no key.
        let needs_key = kind == ProviderKind::Anthropic || self.base_url.is_none();
        if needs_key && key.is_none() {
            return Err(SettingsError::new(
                prefix,
                "provider",
                format!(
                    "the {kind} provider needs an API key: set the environment variable {variable}{}",
                    if kind == ProviderKind::OpenAi {
                        " (or give base_url for a local server that needs none)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let mut config = match kind {
            ProviderKind::Anthropic => ProviderConfig::anthropic(model),
            _ => ProviderConfig::openai(model),
        }
        .with_api_key(key);
        if let Some(url) = &self.base_url {
            config = config.with_base_url(url.clone());
        }
        config.temperature = self.temperature;
        if let Some(seconds) = self.timeout_secs {
            config.total_timeout = Duration::from_secs(seconds);
        }
        Ok(config)
    }
}

/// The environment variable a provider's key is read from.
pub fn key_variable(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Anthropic => "ANTHROPIC_API_KEY",
        _ => "OPENAI_API_KEY",
    }
}

/// Reads environment variables for [`LlmSettings::resolve`].
pub fn process_environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Settings resolved for one provider: everything needed to build it.
#[derive(Clone, Debug)]
pub struct ResolvedLlm {
    pub kind: ProviderKind,
    pub backend: ResolvedBackend,
    pub max_tokens: Option<u32>,
}

/// What a resolved provider is built from.
#[derive(Clone, Debug)]
pub enum ResolvedBackend {
    Deterministic,
    /// The replay file, or `None` for the caller's built-in replay.
    Replay(Option<PathBuf>),
    Http(ProviderConfig),
}

impl ResolvedLlm {
    /// A short description for messages and logs, never with the key:
    /// `openai (model gpt-4o at https://api.openai.com/v1)`.
    pub fn describe(&self) -> String {
        match &self.backend {
            ResolvedBackend::Deterministic => "the deterministic stand-in".to_owned(),
            ResolvedBackend::Replay(Some(file)) => format!("replay of {}", file.display()),
            ResolvedBackend::Replay(None) => "the built-in replay".to_owned(),
            ResolvedBackend::Http(config) => format!(
                "{} (model {} at {})",
                self.kind, config.model, config.base_url
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_environment(_: &str) -> Option<String> {
        None
    }

    fn keyed(name: &str) -> Option<String> {
        (name == "ANTHROPIC_API_KEY" || name == "OPENAI_API_KEY").then(|| "sk-test".to_owned())
    }

    fn settings(value: serde_json::Value) -> Result<LlmSettings, SettingsError> {
        LlmSettings::from_value(&value, "llm")
    }

    #[test]
    fn every_key_variable_is_one_the_host_redactor_knows() {
        for kind in [ProviderKind::Anthropic, ProviderKind::OpenAi] {
            let name = key_variable(kind);
            assert!(
                ralph_secrets::CREDENTIAL_VARIABLES.contains(&name),
                "{name} is missing from ralph_secrets::CREDENTIAL_VARIABLES"
            );
        }
    }

    #[test]
    fn a_full_section_is_typed() {
        let parsed = settings(json!({
            "provider": "openai", "model": "m", "base_url": "http://127.0.0.1:1/v1",
            "max_tokens": 100, "temperature": 0.5, "timeout_secs": 9,
            "record_file": "answers.json"
        }))
        .expect("valid");
        assert_eq!(parsed.provider, Some(ProviderKind::OpenAi));
        assert_eq!(parsed.max_tokens, Some(100));
        assert_eq!(parsed.record_file, Some(PathBuf::from("answers.json")));
    }

    #[test]
    fn errors_name_the_field() {
        let field = |value| settings(value).expect_err("invalid").field;
        assert_eq!(field(json!({"temperature": "hot"})), "llm.temperature");
        assert_eq!(field(json!({"temperature": 3.0})), "llm.temperature");
        assert_eq!(field(json!({"provider": "gemini"})), "llm.provider");
        assert_eq!(field(json!({"modle": "x"})), "llm.modle");
        assert_eq!(
            field(json!({"base_url": "localhost:11434"})),
            "llm.base_url"
        );
        assert_eq!(field(json!({"max_tokens": 0})), "llm.max_tokens");
        let unknown = settings(json!({"modle": "x"})).expect_err("unknown");
        assert!(unknown.message.contains("modle"), "{unknown}");
        let nested = LlmSettings::from_value(&json!({"model": 3}), "bidders.bidder_2.llm")
            .expect_err("invalid");
        assert_eq!(nested.field, "bidders.bidder_2.llm.model");
    }

    #[test]
    fn an_override_inherits_what_it_leaves_out() {
        let base = LlmSettings {
            provider: Some(ProviderKind::OpenAi),
            model: Some("big".into()),
            base_url: Some("http://127.0.0.1:1/v1".into()),
            temperature: Some(0.1),
            ..LlmSettings::default()
        };
        let cheaper = LlmSettings {
            model: Some("small".into()),
            ..LlmSettings::default()
        };
        let merged = cheaper.merged_over(&base);
        assert_eq!(merged.provider, Some(ProviderKind::OpenAi));
        assert_eq!(merged.model.as_deref(), Some("small"));
        assert_eq!(merged.base_url, base.base_url);
        assert_eq!(merged.temperature, Some(0.1));
    }

    #[test]
    fn an_override_naming_another_provider_drops_the_model_and_url() {
        let base = LlmSettings {
            provider: Some(ProviderKind::OpenAi),
            model: Some("gpt".into()),
            base_url: Some("http://127.0.0.1:1/v1".into()),
            timeout_secs: Some(30),
            ..LlmSettings::default()
        };
        let other = LlmSettings {
            provider: Some(ProviderKind::Anthropic),
            model: Some("claude".into()),
            ..LlmSettings::default()
        };
        let merged = other.merged_over(&base);
        assert_eq!(merged.model.as_deref(), Some("claude"));
        assert_eq!(merged.base_url, None);
        assert_eq!(merged.timeout_secs, Some(30));
        let deterministic = LlmSettings {
            provider: Some(ProviderKind::Deterministic),
            ..LlmSettings::default()
        }
        .merged_over(&base);
        assert!(
            deterministic
                .resolve("llm", ProviderKind::Deterministic, &no_environment)
                .is_ok()
        );
    }

    #[test]
    fn nothing_configured_resolves_to_the_default() {
        let resolved = LlmSettings::default()
            .resolve("llm", ProviderKind::Deterministic, &no_environment)
            .expect("default");
        assert_eq!(resolved.kind, ProviderKind::Deterministic);
        let replay = LlmSettings::default()
            .resolve("llm", ProviderKind::Replay, &no_environment)
            .expect("default");
        assert!(matches!(replay.backend, ResolvedBackend::Replay(None)));
    }

    #[test]
    fn a_missing_key_is_an_error_naming_the_variable_not_a_value() {
        let anthropic = LlmSettings {
            provider: Some(ProviderKind::Anthropic),
            model: Some("claude".into()),
            ..LlmSettings::default()
        };
        let error = anthropic
            .resolve("llm", ProviderKind::Deterministic, &no_environment)
            .expect_err("no key");
        assert_eq!(error.field, "llm.provider");
        assert!(error.message.contains("ANTHROPIC_API_KEY"), "{error}");
        let resolved = anthropic
            .resolve("llm", ProviderKind::Deterministic, &keyed)
            .expect("keyed");
        let shown = format!("{resolved:?} {}", resolved.describe());
        assert!(!shown.contains("sk-test"), "{shown}");
        let openai = LlmSettings {
            provider: Some(ProviderKind::OpenAi),
            model: Some("gpt".into()),
            ..LlmSettings::default()
        };
        assert!(
            openai
                .resolve("llm", ProviderKind::Deterministic, &no_environment)
                .expect_err("no key")
                .message
                .contains("OPENAI_API_KEY")
        );
    }

    #[test]
    fn a_local_openai_compatible_server_needs_no_key() {
        let local = LlmSettings {
            provider: Some(ProviderKind::OpenAi),
            model: Some("qwen".into()),
            base_url: Some("http://localhost:11434/v1".into()),
            timeout_secs: Some(7),
            temperature: Some(0.3),
            ..LlmSettings::default()
        };
        let resolved = local
            .resolve("llm", ProviderKind::Deterministic, &no_environment)
            .expect("no key needed");
        let ResolvedBackend::Http(config) = resolved.backend else {
            panic!("an HTTP provider");
        };
        assert_eq!(config.base_url, "http://localhost:11434/v1");
        assert_eq!(config.api_key, None);
        assert_eq!(config.total_timeout, Duration::from_secs(7));
        assert_eq!(config.temperature, Some(0.3));
    }

    #[test]
    fn a_remote_provider_needs_a_model_and_others_refuse_one() {
        let no_model = LlmSettings {
            provider: Some(ProviderKind::OpenAi),
            base_url: Some("http://localhost:8080/v1".into()),
            ..LlmSettings::default()
        };
        assert_eq!(
            no_model
                .resolve("llm", ProviderKind::Deterministic, &keyed)
                .expect_err("no model")
                .field,
            "llm.model"
        );
        let deterministic_model = LlmSettings {
            model: Some("x".into()),
            ..LlmSettings::default()
        };
        assert_eq!(
            deterministic_model
                .resolve("llm", ProviderKind::Deterministic, &keyed)
                .expect_err("unused")
                .field,
            "llm.model"
        );
        let stray_replay = LlmSettings {
            provider: Some(ProviderKind::Deterministic),
            replay_file: Some("r.json".into()),
            ..LlmSettings::default()
        };
        assert_eq!(
            stray_replay
                .resolve("llm", ProviderKind::Deterministic, &keyed)
                .expect_err("unused")
                .field,
            "llm.replay_file"
        );
    }

    #[test]
    fn provider_names_round_trip() {
        for name in ProviderKind::NAMES {
            let kind: ProviderKind = name.parse().expect("known");
            assert_eq!(kind.name(), name);
        }
        assert!("gemini".parse::<ProviderKind>().is_err());
    }
}
