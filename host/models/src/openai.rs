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

    fn read(&self, response: ChatResponse) -> Result<Completion, ModelError> {
        let text = response
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message.content)
            .filter(|text| !text.is_empty())
            .ok_or_else(|| self.transport.no_text())?;
        // Some local servers omit usage; zero is then the honest count.
        let usage = response
            .usage
            .map_or(TokenUsage::default(), |usage| TokenUsage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
            });
        Ok(Completion { text, usage })
    }
}

crate::http::http_provider!(OpenAiProvider);
