//! Bindings for `ralph:plugin@0.1.0` and their conversions to host types.
//!
//! 0.1.0 defined the host imports, which no later version has changed: their
//! implementations are here (and in the integration modules), on 0.1.0's
//! generated interfaces, which later versions reuse.

use crate::capabilities::{self, UnknownCapability};
use crate::integrations::IntegrationError;
use crate::logging::{self, Level};
use crate::sandbox::SandboxState;
use crate::types as host;

mod alpaca;
mod aws;
mod http_get;
mod sentry;

/// The `bidder` world; owns the shared interfaces.
pub mod bidder {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.0",
        world: "ralph:plugin/bidder@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

/// The `specialist` world, sharing the bidder world's interfaces.
pub mod specialist {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.0",
        world: "ralph:plugin/specialist@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ralph:plugin/types": super::bidder::ralph::plugin::types,
            "ralph:plugin/log": super::bidder::ralph::plugin::log,
            "ralph:plugin/repository": super::bidder::ralph::plugin::repository,
            "ralph:plugin/consult": super::bidder::ralph::plugin::consult,
            "ralph:plugin/model": super::bidder::ralph::plugin::model,
            "ralph:plugin/aws": super::bidder::ralph::plugin::aws,
            "ralph:plugin/sentry": super::bidder::ralph::plugin::sentry,
            "ralph:plugin/alpaca": super::bidder::ralph::plugin::alpaca,
            "ralph:plugin/http-get": super::bidder::ralph::plugin::http_get,
        },
    });
}

/// The `check` world, sharing the bidder world's interfaces.
pub mod check {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.0",
        world: "ralph:plugin/check@0.1.0",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ralph:plugin/types": super::bidder::ralph::plugin::types,
            "ralph:plugin/log": super::bidder::ralph::plugin::log,
            "ralph:plugin/repository": super::bidder::ralph::plugin::repository,
            "ralph:plugin/model": super::bidder::ralph::plugin::model,
        },
    });
}

pub use bidder::ralph::plugin::types as wit;
use bidder::ralph::plugin::{consult, log, model, repository};

impl log::Host for SandboxState {
    async fn log(
        &mut self,
        level: log::Level,
        message: String,
        fields: Vec<log::Field>,
    ) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|field| (field.key, field.value))
            .collect();
        let count = self.call.log_messages;
        self.call.log_messages = count.saturating_add(1);
        logging::log_counted(self.call.plugin.who(), count, level, &message, &fields);
        Ok(())
    }
}

impl repository::Host for SandboxState {
    async fn read_file(
        &mut self,
        path: String,
    ) -> wasmtime::Result<Result<String, wit::PluginError>> {
        Ok(crate::repository::read_file_for(&self.call, &path).map_err(Into::into))
    }

    async fn list_files(
        &mut self,
        directory: String,
    ) -> wasmtime::Result<Result<Vec<String>, wit::PluginError>> {
        Ok(crate::repository::list_files_for(&self.call, &directory).map_err(Into::into))
    }
}

impl consult::Host for SandboxState {
    async fn consult(
        &mut self,
        specialist: String,
        question: String,
    ) -> wasmtime::Result<Result<String, wit::PluginError>> {
        Ok(
            crate::consult::consult(&mut self.call, &specialist, question)
                .await
                .map_err(Into::into),
        )
    }
}

impl model::Host for SandboxState {
    async fn complete(
        &mut self,
        request: model::CompletionRequest,
    ) -> wasmtime::Result<Result<model::Completion, wit::PluginError>> {
        let request = host::CompletionRequest {
            system: request.system,
            prompt: request.prompt,
            max_tokens: request.max_tokens,
        };
        Ok(crate::model::complete(&mut self.call, request)
            .await
            .map(|completion| model::Completion {
                text: completion.text,
                usage: model::TokenUsage {
                    input_tokens: completion.usage.input_tokens,
                    output_tokens: completion.usage.output_tokens,
                },
            })
            .map_err(Into::into))
    }
}

impl From<IntegrationError> for wit::IntegrationError {
    fn from(error: IntegrationError) -> Self {
        match error {
            IntegrationError::Denied(text) => Self::Denied(text),
            IntegrationError::RateLimited(text) => Self::RateLimited(text),
            IntegrationError::InvalidRequest(text) => Self::InvalidRequest(text),
            IntegrationError::NotConfigured(text) => Self::NotConfigured(text),
            IntegrationError::Failed(text) => Self::Failed(text),
        }
    }
}

impl From<host::GuestError> for wit::PluginError {
    fn from(error: host::GuestError) -> Self {
        match error {
            host::GuestError::Denied(text) => Self::Denied(text),
            host::GuestError::NotFound(text) => Self::NotFound(text),
            host::GuestError::InvalidRequest(text) => Self::InvalidRequest(text),
            host::GuestError::LimitExceeded(text) => Self::LimitExceeded(text),
            host::GuestError::Failed(text) => Self::Failed(text),
        }
    }
}

convert_unchanged_types!(wit, round_context_added: []);

/// The plugin's metadata: 0.1.0 names capabilities with strings, each of
/// which must be one this host knows.
pub(crate) fn metadata(metadata: wit::Metadata) -> Result<host::Metadata, UnknownCapability> {
    Ok(host::Metadata {
        capabilities: capabilities::parse_requested(&metadata.capabilities)?,
        name: metadata.name,
        version: metadata.version,
        description: metadata.description,
    })
}
