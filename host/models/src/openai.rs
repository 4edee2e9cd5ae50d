//! OpenAI-compatible chat completions: `POST {base_url}/chat/completions`.

use ralph_runtime::{Completion, CompletionRequest, TokenUsage};
use serde::Deserialize;
use serde_json::json;

use crate::config::{ApiKey, ProviderConfig};
use crate::error::ModelError;
use crate::http::{Header, Transport};

const PROVIDER: &str = "openai";

/// Completes prompts with an OpenAI-compatible chat completions endpoint.
///
/// The base URL includes the API version, as the OpenAI clients expect:
/// `https://api.openai.com/v1`, or `http://127.0.0.1:11434/v1` for Ollama;
/// the provider appends `/chat/completions`. `Authorization: Bearer` is sent
/// only when a key is configured, so local servers work without one.
pub struct OpenAiProvider {
    transport: Transport,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

impl OpenAiProvider {
    /// A provider for `config`; without a key no `Authorization` is sent.
    pub fn new(config: ProviderConfig) -> Result<Self, ModelError> {
        let headers = config
            .api_key
            .as_ref()
            .map(ApiKey::expose)
            .map(|key| Header {
                name: "authorization",
                value: format!("Bearer {key}"),
                sensitive: true,
            })
            .into_iter()
            .collect();
        Ok(Self {
            transport: Transport::new(PROVIDER, config, headers)?,
        })
    }

    /// A provider for `model` on OpenAI's public API, keyed by
    /// `OPENAI_API_KEY` when it is set.
    pub fn from_environment(model: impl Into<String>) -> Result<Self, ModelError> {
        Self::new(ProviderConfig::openai(model))
    }

    /// Completes `request`, with this crate's error.
    pub async fn complete_request(
        &self,
        request: &CompletionRequest,
    ) -> Result<Completion, ModelError> {
        self.transport
            .guarded(async {
                let config = self.transport.config();
                let mut messages = Vec::new();
                if let Some(system) = &request.system {
                    messages.push(json!({ "role": "system", "content": system }));
                }
                messages.push(json!({ "role": "user", "content": request.prompt }));
                let body = json!({
                    "model": config.model,
                    "max_tokens": request.max_tokens,
                    "messages": messages,
                });
                let response = self.transport.exchange("/chat/completions", body).await?;
                self.read(response)
            })
            .await
    }

    /// The model's context window in tokens, when the server says: vLLM's
    /// `max_model_len` or LM Studio's and OpenRouter's `context_length` in
    /// `GET {base_url}/models`, else llama.cpp's `n_ctx` in `GET /props` at
    /// the server's root. `None` when it does not (OpenAI's own API).
    pub async fn context_window(&self) -> Option<u32> {
        let config = self.transport.config();
        if let Some(models) = self.transport.probe(&config.endpoint("/models")).await {
            let entries = models["data"].as_array().cloned().unwrap_or_default();
            let entry = entries
                .iter()
                .find(|entry| entry["id"] == config.model.as_str())
                .or_else(|| (entries.len() == 1).then(|| &entries[0]));
            if let Some(entry) = entry {
                let window = ["max_model_len", "context_length", "context_window"]
                    .iter()
                    .find_map(|field| entry[field].as_u64());
                if let Some(window) = window {
                    return u32::try_from(window).ok();
                }
            }
        }
        let root = config.base_url.trim_end_matches('/');
        let root = root.strip_suffix("/v1").unwrap_or(root);
        let props = self.transport.probe(&format!("{root}/props")).await?;
        props["default_generation_settings"]["n_ctx"]
            .as_u64()
            .or_else(|| props["n_ctx"].as_u64())
            .and_then(|window| u32::try_from(window).ok())
    }

    fn read(&self, response: ChatResponse) -> Result<Completion, ModelError> {
        // Some local servers omit usage; zero is then the honest count.
        let usage = response
            .usage
            .map_or(TokenUsage::default(), |usage| TokenUsage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
            });
        let text = response
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message.content)
            .filter(|text| !text.is_empty())
            .ok_or_else(|| self.transport.no_text(usage))?;
        Ok(Completion { text, usage })
    }
}

crate::http::http_provider!(OpenAiProvider);
