//! The `model` host import: `complete` routed to the runtime's
//! [`ModelProvider`](crate::provider::ModelProvider). Needs the `complete`
//! capability; usage is charged to the calling plugin's call.

use crate::capabilities::{self, Capability};
use crate::sandbox::CallContext;
use crate::types::{Completion, CompletionRequest, GuestError};

/// The longest prompt plus system text accepted, in bytes.
pub const PROMPT_LIMIT_BYTES: usize = 512 * 1024;

/// `complete` for a plugin call.
pub(crate) async fn complete(
    call: &mut CallContext,
    request: CompletionRequest,
) -> Result<Completion, GuestError> {
    capabilities::authorize(
        &call.plugin.name,
        &call.plugin.capabilities,
        Capability::Complete,
    )
    .map_err(|denied| GuestError::Denied(denied.0.name().to_owned()))?;
    let size = request.prompt.len() + request.system.as_ref().map_or(0, String::len);
    if size > PROMPT_LIMIT_BYTES {
        return Err(GuestError::LimitExceeded(format!(
            "the prompt is {size} bytes, more than {PROMPT_LIMIT_BYTES}"
        )));
    }
    let provider = call.services.provider.clone();
    let completion = provider
        .complete(&call.plugin.name, request)
        .await
        .map_err(|error| GuestError::Failed(error.to_string()))?;
    call.usage.add(completion.usage);
    Ok(completion)
}
