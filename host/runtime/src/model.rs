//! The `model` host import: `complete` routed to the runtime's
//! [`ModelProvider`](crate::provider::ModelProvider). Needs the `complete`
//! capability; usage is charged to the calling plugin's call.
//!
//! A call with a token allowance (a bidder's cap for its round) is refused
//! with `limit-exceeded`, before it reaches the provider, when the tokens
//! already charged plus an estimate of this one could pass the allowance.
//! The estimate is the answer's `max-tokens` plus the prompt at
//! [`BYTES_PER_TOKEN`] bytes a token; what the provider reports is charged.

use crate::capabilities::{self, Capability};
use crate::sandbox::CallContext;
use crate::types::{Completion, CompletionRequest, GuestError};

/// The longest prompt plus system text accepted, in bytes.
pub const PROMPT_LIMIT_BYTES: usize = 512 * 1024;

/// The bytes of prompt counted as one token when estimating a request.
pub const BYTES_PER_TOKEN: usize = 4;

/// The tokens a request could use: its prompt and system text estimated at
/// [`BYTES_PER_TOKEN`] bytes a token, plus the most its answer may use.
pub fn estimated_tokens(request: &CompletionRequest) -> u64 {
    let bytes = request.prompt.len() + request.system.as_ref().map_or(0, String::len);
    let input = u64::try_from(bytes.div_ceil(BYTES_PER_TOKEN)).unwrap_or(u64::MAX);
    input.saturating_add(u64::from(request.max_tokens))
}

/// Refuses a request that could take the call past its allowance.
fn check_allowance(call: &CallContext, request: &CompletionRequest) -> Result<(), GuestError> {
    let Some(allowance) = call.token_allowance else {
        return Ok(());
    };
    let used = call.usage.total_tokens();
    let estimate = estimated_tokens(request);
    if used.saturating_add(estimate) > allowance {
        tracing::warn!(plugin = %call.plugin.who(), used, estimate, allowance, "Refused a completion over the token allowance");
        return Err(GuestError::LimitExceeded(format!(
            "this completion could use about {estimate} tokens and {used} of the \
             allowance of {allowance} tokens are used"
        )));
    }
    Ok(())
}

/// `complete` for a plugin call.
pub(crate) async fn complete(
    call: &mut CallContext,
    request: CompletionRequest,
) -> Result<Completion, GuestError> {
    capabilities::authorize(
        call.plugin.who(),
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
    check_allowance(call, &request)?;
    let provider = call.services.provider.clone();
    let caller = crate::provider::ModelCaller {
        id: call.plugin.id.as_deref(),
        name: &call.plugin.name,
    };
    let completion = match provider.complete_for(caller, request).await {
        Ok(completion) => completion,
        Err(error) => {
            // Answered unusably: the call was made, so it is metered.
            if let Some(usage) = error.answered {
                call.usage.charge(usage);
            }
            return Err(GuestError::Failed(error.to_string()));
        }
    };
    call.usage.charge(completion.usage);
    Ok(completion)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_estimated_at_four_bytes_a_token_plus_its_answer() {
        let request = CompletionRequest {
            system: Some("You plan changes.".to_owned()),
            prompt: "plan the change".to_owned(),
            max_tokens: 20,
        };
        assert_eq!(estimated_tokens(&request), 8 + 20);
        let bare = CompletionRequest {
            system: None,
            prompt: "x".to_owned(),
            max_tokens: 0,
        };
        assert_eq!(estimated_tokens(&bare), 1, "a started token counts");
    }
}
