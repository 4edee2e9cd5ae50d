//! The Anthropic Messages API: `POST {base_url}/v1/messages`.

use ralph_runtime::{Completion, CompletionRequest, TokenUsage};
use serde::Deserialize;
use serde_json::json;

use crate::config::{ApiKey, ProviderConfig};
use crate::error::ModelError;
use crate::http::{Header, Transport};

const PROVIDER: &str = "anthropic";
const API_VERSION: &str = "2023-06-01";

/// Completes prompts with Anthropic's Messages API.
///
/// The base URL is the service root (`https://api.anthropic.com`); the
/// provider appends `/v1/messages`.
pub struct AnthropicProvider {
    transport: Transport,
}

#[derive(Deserialize)]
struct MessagesResponse {
    content: Vec<ContentBlock>,
    usage: Usage,
}

#[derive(Deserialize)]
struct ContentBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    input_tokens: u32,
    output_tokens: u32,
}

impl AnthropicProvider {
    /// A provider for `config`, which must carry a key (see
    /// [`ProviderConfig::anthropic`], which reads `ANTHROPIC_API_KEY`).
    pub fn new(config: ProviderConfig) -> Result<Self, ModelError> {
        let key = config
            .api_key
            .as_ref()
            .map(ApiKey::expose)
            .ok_or(ModelError::MissingKey {
                provider: PROVIDER,
                variable: "ANTHROPIC_API_KEY",
            })?
            .to_owned();
        let headers = vec![
            Header {
                name: "x-api-key",
                value: key,
                sensitive: true,
            },
            Header {
                name: "anthropic-version",
                value: API_VERSION.to_owned(),
                sensitive: false,
            },
        ];
        Ok(Self {
            transport: Transport::new(PROVIDER, config, headers)?,
        })
    }

    /// A provider for `model` on Anthropic's public API, keyed by
    /// `ANTHROPIC_API_KEY`.
    pub fn from_environment(model: impl Into<String>) -> Result<Self, ModelError> {
        Self::new(ProviderConfig::anthropic(model))
    }

    /// Completes `request`, with this crate's error.
    pub async fn complete_request(
        &self,
        request: &CompletionRequest,
    ) -> Result<Completion, ModelError> {
        self.transport
            .guarded(async {
                let config = self.transport.config();
                let mut body = json!({
                    "model": config.model,
                    "max_tokens": request.max_tokens,
                    "messages": [{ "role": "user", "content": request.prompt }],
                });
                if let Some(system) = &request.system {
                    body["system"] = json!(system);
                }
                let response = self.transport.exchange("/v1/messages", body).await?;
                self.read(response)
            })
            .await
    }

    fn read(&self, response: MessagesResponse) -> Result<Completion, ModelError> {
        let text: String = response
            .content
            .into_iter()
            .filter(|block| block.kind == "text")
            .filter_map(|block| block.text)
            .collect();
        let usage = TokenUsage {
            input_tokens: response.usage.input_tokens,
            output_tokens: response.usage.output_tokens,
        };
        if text.is_empty() {
            return Err(self.transport.no_text(usage));
        }
        Ok(Completion { text, usage })
    }
}

crate::http::http_provider!(AnthropicProvider);
