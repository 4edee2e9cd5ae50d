//! The `consult` host import: a plugin asks a loaded specialist, named by
//! its id (its config entry's, never the name its metadata reports), a
//! question. Needs the `consult` capability.
//!
//! The model usage of a consultation is charged to the plugin that asked
//! (and so on up the chain, to the bidder whose call it is), whether or not
//! the specialist answered; a caller's token allowance passes down the
//! chain, less what the caller has used.
//!
//! Consultations nest at most [`Services::consult_depth`] plugins deep and
//! never in a cycle, so a specialist that consults in a loop is contained.
//!
//! [`Services::consult_depth`]: crate::runtime::Services

use crate::capabilities::{self, Capability};
use crate::sandbox::CallContext;
use crate::types::GuestError;

/// `consult` for a plugin call.
pub(crate) async fn consult(
    call: &mut CallContext,
    specialist: &str,
    question: String,
) -> Result<String, GuestError> {
    capabilities::authorize(
        call.plugin.who(),
        &call.plugin.capabilities,
        Capability::Consult,
    )
    .map_err(|denied| GuestError::Denied(denied.0.name().to_owned()))?;
    if call.chain.iter().any(|id| id == specialist) {
        let path = [call.chain.as_slice(), &[specialist.to_owned()]]
            .concat()
            .join(" -> ");
        tracing::warn!(plugin = %call.plugin.who(), %path, "Refused a consultation cycle");
        return Err(GuestError::LimitExceeded(format!(
            "consultation cycle: {path}"
        )));
    }
    if call.chain.len() >= call.services.consult_depth {
        return Err(GuestError::LimitExceeded(format!(
            "consultations nest at most {} plugins deep",
            call.services.consult_depth
        )));
    }
    let target = call
        .services
        .specialist(specialist)
        .ok_or_else(|| GuestError::NotFound(format!("no specialist with the id `{specialist}`")))?;
    let mut chain = call.chain.clone();
    chain.push(specialist.to_owned());
    let services = call.services.clone();
    let left = call
        .token_allowance
        .map(|allowance| allowance.saturating_sub(call.usage.total_tokens()));
    let metered = services
        .ask_in_chain(target, question, chain, call.root.clone(), left)
        .await;
    // The specialist's usage is charged to the caller, also when it failed.
    call.usage.add(metered.usage);
    match metered.result {
        Ok(outcome) => Ok(outcome.value),
        Err(error) => Err(GuestError::Failed(error.to_string())),
    }
}
