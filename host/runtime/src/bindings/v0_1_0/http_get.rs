//! The `http-get` import: GET requests to allow-listed hosts.

use super::bidder::ralph::plugin::http_get;
use super::bidder::ralph::plugin::types::IntegrationError;
use crate::integration_imports::{self, mismatched};
use crate::integrations::{IntegrationCall, IntegrationReply};
use crate::sandbox::SandboxState;

impl http_get::Host for SandboxState {
    async fn get(
        &mut self,
        url: String,
    ) -> wasmtime::Result<Result<http_get::HttpResponse, IntegrationError>> {
        let call = IntegrationCall::HttpGet { url };
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::Http(response)) => Ok(http_get::HttpResponse {
                status: response.status,
                content_type: response.content_type,
                body: response.body,
                truncated: response.truncated,
            }),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }
}
