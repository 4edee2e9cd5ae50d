//! Alpaca through the gateway, against a loopback stand-in.

use std::sync::Arc;

use crate::common::{Answer, Server, Setup, caller, runtime_with_specialist};
use ralph_integrations::NonInteractive;
use ralph_integrations::audit::AuditStatus;
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::{IntegrationCall, IntegrationReply, OrderStatus};
use serde_json::json;

const KEY_ID: &str = "PKPLANTEDKEYID0123456";
const SECRET: &str = "planted/alpaca+secret/key0123456789abcdef";
const ACCOUNT_NUMBER: &str = "PA3X7Q9Z1K2M";

async fn server() -> Server {
    Server::start(|request| {
        if request.header("apca-api-key-id") != Some(KEY_ID)
            || request.header("apca-api-secret-key") != Some(SECRET)
        {
            return Answer::text(403, r#"{"message": "forbidden."}"#);
        }
        match request.target.as_str() {
            "/v2/account" => Answer::json(json!({
                "id": "904837e3-3b76-47ec-b432-046db621571b",
                "account_number": ACCOUNT_NUMBER,
                "status": "ACTIVE", "currency": "USD", "cash": "4000.32",
                "portfolio_value": "10320.5", "buying_power": "8000.64",
                "trading_blocked": false, "pattern_day_trader": false
            })),
            "/v2/positions" => Answer::json(json!([{
                "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415", "symbol": "AAPL",
                "exchange": "NASDAQ", "qty": "5", "side": "long", "market_value": "950.00",
                "unrealized_pl": "12.50", "avg_entry_price": "187.5"
            }])),
            "/v2/orders?status=closed&limit=2" => Answer::json(json!([
                {"id": "o-1", "client_order_id": format!("note for {ACCOUNT_NUMBER}"),
                 "symbol": "AAPL", "qty": "5", "side": "buy", "type": "market",
                 "status": "filled", "submitted_at": "2026-11-20T14:30:00Z"},
                {"id": "o-2", "symbol": "MSFT", "qty": null, "notional": "100", "side": "sell",
                 "type": "limit", "status": "canceled", "submitted_at": "2026-11-20T15:00:00Z"}
            ])),
            _ => Answer::text(
                404,
                &json!({"message": format!("account {ACCOUNT_NUMBER} has no such resource")})
                    .to_string(),
            ),
        }
    })
    .await
}

fn setup(server: &Server) -> Setup {
    let setup = Setup::new(
        json!({
            "alpaca": {"base_url": server.origin()},
            "redact": {"account_numbers": [ACCOUNT_NUMBER]}
        }),
        &[("APCA_API_KEY_ID", KEY_ID), ("APCA_API_SECRET_KEY", SECRET)],
        Arc::new(NonInteractive),
    );
    setup.approve("portfolio", &["alpaca"]);
    setup
}

#[tokio::test]
async fn the_account_is_read_with_both_key_headers_without_its_number() {
    let server = server().await;
    let setup = setup(&server);
    let reply = setup
        .gateway
        .perform(
            &caller("portfolio", &[Capability::Alpaca], 10),
            IntegrationCall::AlpacaAccount,
        )
        .await
        .expect("account");
    let IntegrationReply::AlpacaAccount(account) = &reply else {
        panic!("wrong reply: {reply:?}");
    };
    assert_eq!(account.status, "ACTIVE");
    assert_eq!(account.cash, "4000.32");
    assert_eq!(account.buying_power, "8000.64");
    assert!(account.paper, "not live unless configured");
    assert!(
        !serde_json::to_string(&reply)
            .expect("json")
            .contains(ACCOUNT_NUMBER)
    );
    assert_eq!(server.requests()[0].method, "GET");
}

#[tokio::test]
async fn positions_and_orders_are_mapped() {
    let server = server().await;
    let setup = setup(&server);
    let caller = caller("portfolio", &[Capability::Alpaca], 10);
    let reply = setup
        .gateway
        .perform(&caller, IntegrationCall::AlpacaPositions)
        .await
        .expect("positions");
    let IntegrationReply::AlpacaPositions { positions } = reply else {
        panic!("wrong reply: {reply:?}");
    };
    assert_eq!(positions[0].symbol, "AAPL");
    assert_eq!(positions[0].unrealized_pl, "12.50");
    let reply = setup
        .gateway
        .perform(
            &caller,
            IntegrationCall::AlpacaOrders {
                status: OrderStatus::Closed,
                limit: 2,
            },
        )
        .await
        .expect("orders");
    let IntegrationReply::AlpacaOrders { orders } = reply else {
        panic!("wrong reply: {reply:?}");
    };
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0].order_type, "market");
    assert_eq!(orders[1].qty, "", "a notional order has no quantity");
    assert_eq!(orders[1].status, "canceled");
}

#[tokio::test]
async fn keys_and_the_account_number_never_reach_the_audit_log() {
    let server = server().await;
    let setup = setup(&server);
    let caller = caller("portfolio", &[Capability::Alpaca], 10);
    for call in [
        IntegrationCall::AlpacaAccount,
        IntegrationCall::AlpacaOrders {
            status: OrderStatus::Closed,
            limit: 2,
        },
        IntegrationCall::AlpacaOrders {
            status: OrderStatus::Open,
            limit: 1,
        },
    ] {
        let outcome = setup.gateway.perform(&caller, call).await;
        let shown = format!("{outcome:?}");
        if let Err(error) = &outcome {
            assert!(
                error.to_string().contains("account [REDACTED] has no such"),
                "{error}"
            );
        }
        assert!(
            !shown.contains(ACCOUNT_NUMBER) && !shown.contains(SECRET),
            "{shown}"
        );
    }
    let audit = setup.audit_text();
    for secret in [KEY_ID, SECRET, ACCOUNT_NUMBER] {
        assert!(!audit.contains(secret), "{secret} in {audit}");
    }
    assert_eq!(setup.audit().len(), 3);
}

/// The bundled `trading` specialist asks through the runtime and the
/// gateway; the server's planted account number and the keys never reach
/// its answer.
#[tokio::test]
async fn the_trading_specialist_reads_the_account_through_the_gateway() {
    let server = Server::start(|request| {
        if request.header("apca-api-key-id") != Some(KEY_ID) {
            return Answer::text(403, r#"{"message": "forbidden."}"#);
        }
        if request.target == "/v2/account" {
            return Answer::json(json!({
                "account_number": ACCOUNT_NUMBER, "status": "ACTIVE", "currency": "USD",
                "cash": "4000.32", "portfolio_value": "10320.5", "buying_power": "8000.64",
                "trading_blocked": false
            }));
        }
        if request.target == "/v2/positions" {
            return Answer::json(json!([{"symbol": "AAPL", "qty": "5", "side": "long",
                "market_value": "950.00", "unrealized_pl": "12.50"}]));
        }
        if request.target.starts_with("/v2/orders?status=open") {
            return Answer::json(json!([{"id": "o-9", "symbol": "MSFT", "qty": "3",
                "side": "buy", "type": "limit", "status": "new",
                "client_order_id": format!("for {ACCOUNT_NUMBER}"),
                "submitted_at": "2026-11-21T09:00:00Z"}]));
        }
        Answer::text(404, "{}")
    })
    .await;
    let setup = setup(&server);
    setup.approve("trading", &["alpaca"]);
    let runtime = runtime_with_specialist(&setup, "trading").await;

    let answer = runtime
        .ask("trading", "How is the account?")
        .await
        .expect("an answer")
        .value;
    assert!(answer.contains("Account ACTIVE (paper), USD"), "{answer}");
    assert!(answer.contains("AAPL long 5"), "{answer}");
    assert!(answer.contains("buy 3 MSFT limit"), "{answer}");
    for secret in [ACCOUNT_NUMBER, KEY_ID, SECRET] {
        assert!(!answer.contains(secret), "{answer}");
    }
    let audit = setup.audit();
    assert_eq!(audit.len(), 3, "{audit:?}");
    assert!(
        audit
            .iter()
            .all(|entry| entry.plugin == "trading" && entry.status == AuditStatus::Ok)
    );
    let text = setup.audit_text();
    assert!(
        !text.contains(ACCOUNT_NUMBER) && !text.contains(SECRET),
        "{text}"
    );
}

/// Without an approval and without a terminal, the specialist's calls are
/// denied and audited, nothing reaches the server, and the plugin's answer
/// says how to grant.
#[tokio::test]
async fn an_unapproved_specialist_is_denied_before_the_server_and_told_how_to_grant() {
    let server = server().await;
    let setup = setup(&server);
    let runtime = runtime_with_specialist(&setup, "trading").await;
    let answer = runtime
        .ask("trading", "How is the account?")
        .await
        .expect("an answer, not a trap")
        .value;
    assert!(
        answer.contains("ralph permissions grant trading alpaca"),
        "{answer}"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    let audit = setup.audit();
    assert!(!audit.is_empty());
    assert!(
        audit
            .iter()
            .all(|entry| entry.plugin == "trading" && entry.status == AuditStatus::Denied)
    );
}
