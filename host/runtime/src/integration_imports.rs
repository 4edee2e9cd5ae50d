//! What every integration import (`aws`, `sentry`, `alpaca`, `http-get`)
//! does before and after the [`IntegrationHost`](crate::integrations::IntegrationHost):
//! refuse oversized requests, say who is calling, and refuse oversized
//! replies. Whether the plugin may make the call at all (requested and
//! approved) is the host's decision, so that it can audit denials too.
//!
//! The per-version binding modules convert the WIT arguments into an
//! [`IntegrationCall`] and the [`IntegrationReply`] back into WIT records.

use crate::integrations::{Caller, IntegrationCall, IntegrationError, IntegrationReply};
use crate::sandbox::SandboxState;

/// The longest text argument accepted (a cluster, a query, a URL), in bytes.
pub const TEXT_LIMIT_BYTES: usize = 64 * 1024;
/// The most ECS services one `describe-services` call may name, as in ECS.
pub const SERVICES_LIMIT: usize = 10;
/// The largest `limit` argument accepted.
pub const ITEMS_LIMIT: u32 = 1000;
/// The largest reply handed to a plugin, in bytes of its JSON form.
pub const REPLY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// Refuses a call whose arguments are too large, before the host sees it.
pub fn check_request(call: &IntegrationCall) -> Result<(), IntegrationError> {
    let (texts, items): (Vec<(&str, &str)>, Option<u32>) = match call {
        IntegrationCall::EcsDescribeServices { cluster, services } => {
            if services.len() > SERVICES_LIMIT {
                return Err(IntegrationError::InvalidRequest(format!(
                    "{} services named; describe-services takes at most {SERVICES_LIMIT}",
                    services.len()
                )));
            }
            let mut texts = vec![("cluster", cluster.as_str())];
            texts.extend(services.iter().map(|service| ("service", service.as_str())));
            (texts, None)
        }
        IntegrationCall::LogsDescribeLogStreams {
            log_group,
            prefix,
            limit,
        } => {
            let mut texts = vec![("log-group", log_group.as_str())];
            texts.extend(prefix.as_deref().map(|prefix| ("prefix", prefix)));
            (texts, Some(*limit))
        }
        IntegrationCall::LogsGetLogEvents {
            log_group,
            log_stream,
            limit,
            ..
        } => (
            vec![
                ("log-group", log_group.as_str()),
                ("log-stream", log_stream.as_str()),
            ],
            Some(*limit),
        ),
        IntegrationCall::SentryIssues { query, limit } => (
            query
                .as_deref()
                .map(|query| ("query", query))
                .into_iter()
                .collect(),
            Some(*limit),
        ),
        IntegrationCall::SentryLatestEvents { issue_id, limit } => {
            (vec![("issue-id", issue_id.as_str())], Some(*limit))
        }
        IntegrationCall::AlpacaAccount | IntegrationCall::AlpacaPositions => (Vec::new(), None),
        IntegrationCall::AlpacaOrders { limit, .. } => (Vec::new(), Some(*limit)),
        IntegrationCall::HttpGet { url } => (vec![("url", url.as_str())], None),
    };
    if let Some((name, text)) = texts
        .into_iter()
        .find(|(_, text)| text.len() > TEXT_LIMIT_BYTES)
    {
        return Err(IntegrationError::InvalidRequest(format!(
            "the {name} is {} bytes, more than {TEXT_LIMIT_BYTES}",
            text.len()
        )));
    }
    match items {
        Some(limit) if limit > ITEMS_LIMIT => Err(IntegrationError::InvalidRequest(format!(
            "the limit is {limit}, more than {ITEMS_LIMIT}"
        ))),
        _ => Ok(()),
    }
}

/// Refuses a reply too large to hand to a plugin.
fn check_reply(reply: &IntegrationReply) -> Result<(), IntegrationError> {
    let size = serde_json::to_vec(reply)
        .map_err(|error| IntegrationError::Failed(format!("unreadable reply: {error}")))?
        .len();
    if size > REPLY_LIMIT_BYTES {
        return Err(IntegrationError::Failed(format!(
            "the reply is {size} bytes, more than {REPLY_LIMIT_BYTES}; ask for fewer items"
        )));
    }
    Ok(())
}

/// Performs `call` for the plugin whose store holds `state`: checks its size,
/// hands it to the runtime's integration host with the plugin's identity
/// (config entry id and component digest; the name only for display), the
/// capabilities it requested and the call's deadline, and checks the reply.
pub(crate) async fn perform(
    state: &mut SandboxState,
    call: IntegrationCall,
) -> Result<IntegrationReply, IntegrationError> {
    let plugin = &state.call.plugin;
    let operation = call.operation();
    if let Err(error) = check_request(&call) {
        tracing::warn!(plugin = %plugin.who(), operation, %error, "Refused an integration call");
        return Err(error);
    }
    let caller = Caller {
        id: plugin.id.clone(),
        digest: plugin.digest.clone(),
        name: plugin.name.clone(),
        requested: plugin.capabilities.requested().clone(),
        deadline: state.deadline,
    };
    let host = state.call.services.integrations.clone();
    let reply = host.call(&caller, call).await?;
    check_reply(&reply)?;
    Ok(reply)
}

/// The error for a reply whose variant does not answer the call: a fault of
/// the host, reported to the plugin as `failed` rather than trapping it.
pub fn mismatched(operation: &str, reply: &IntegrationReply) -> IntegrationError {
    let kind = serde_json::to_value(reply)
        .ok()
        .and_then(|value| value.get("kind")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    tracing::error!(
        operation,
        kind,
        "An integration host answered the wrong call"
    );
    IntegrationError::Failed(format!(
        "the host answered {operation} with an unexpected `{kind}` reply"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::OrderStatus;

    #[test]
    fn a_request_within_the_limits_passes() {
        let call = IntegrationCall::EcsDescribeServices {
            cluster: "prod".to_owned(),
            services: vec!["api".to_owned(); SERVICES_LIMIT],
        };
        assert_eq!(check_request(&call), Ok(()));
        assert_eq!(check_request(&IntegrationCall::AlpacaAccount), Ok(()));
    }

    #[test]
    fn more_than_ten_services_are_refused() {
        let call = IntegrationCall::EcsDescribeServices {
            cluster: "prod".to_owned(),
            services: vec!["api".to_owned(); SERVICES_LIMIT + 1],
        };
        assert!(matches!(
            check_request(&call),
            Err(IntegrationError::InvalidRequest(message)) if message.contains("11 services")
        ));
    }

    #[test]
    fn an_over_long_text_argument_is_refused_by_name() {
        let long = "x".repeat(TEXT_LIMIT_BYTES + 1);
        let calls = [
            (IntegrationCall::HttpGet { url: long.clone() }, "the url"),
            (
                IntegrationCall::SentryIssues {
                    query: Some(long.clone()),
                    limit: 5,
                },
                "the query",
            ),
            (
                IntegrationCall::LogsGetLogEvents {
                    log_group: "g".to_owned(),
                    log_stream: long,
                    start_time_ms: None,
                    limit: 5,
                },
                "the log-stream",
            ),
        ];
        for (call, name) in calls {
            match check_request(&call) {
                Err(IntegrationError::InvalidRequest(message)) => {
                    assert!(message.starts_with(name), "{message}")
                }
                other => panic!("{call:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn a_limit_over_a_thousand_is_refused() {
        let call = IntegrationCall::AlpacaOrders {
            status: OrderStatus::Open,
            limit: ITEMS_LIMIT + 1,
        };
        assert!(matches!(
            check_request(&call),
            Err(IntegrationError::InvalidRequest(_))
        ));
    }

    #[test]
    fn an_oversized_reply_fails() {
        let huge = IntegrationReply::Http(crate::integrations::HttpResponse {
            status: 200,
            content_type: None,
            body: "x".repeat(REPLY_LIMIT_BYTES),
            truncated: false,
        });
        assert!(matches!(
            check_reply(&huge),
            Err(IntegrationError::Failed(_))
        ));
    }

    #[test]
    fn a_mismatched_reply_names_the_operation_and_the_reply() {
        let reply = IntegrationReply::AlpacaPositions { positions: vec![] };
        let error = mismatched("ecs:DescribeServices", &reply);
        assert_eq!(
            error,
            IntegrationError::Failed(
                "the host answered ecs:DescribeServices with an unexpected `alpaca-positions` reply"
                    .to_owned()
            )
        );
    }
}
