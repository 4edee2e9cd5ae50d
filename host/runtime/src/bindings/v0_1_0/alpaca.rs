//! The `alpaca` import: the trading account, positions and orders, read-only.

use super::bidder::ralph::plugin::alpaca;
use super::bidder::ralph::plugin::types::IntegrationError;
use crate::integration_imports::{self, mismatched};
use crate::integrations::{IntegrationCall, IntegrationReply, OrderStatus};
use crate::sandbox::SandboxState;

type Answer<T> = wasmtime::Result<Result<T, IntegrationError>>;

impl alpaca::Host for SandboxState {
    async fn account(&mut self) -> Answer<alpaca::AlpacaAccount> {
        let call = IntegrationCall::AlpacaAccount;
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::AlpacaAccount(account)) => Ok(alpaca::AlpacaAccount {
                status: account.status,
                currency: account.currency,
                cash: account.cash,
                portfolio_value: account.portfolio_value,
                buying_power: account.buying_power,
                trading_blocked: account.trading_blocked,
                paper: account.paper,
            }),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }

    async fn positions(&mut self) -> Answer<Vec<alpaca::AlpacaPosition>> {
        let call = IntegrationCall::AlpacaPositions;
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::AlpacaPositions { positions }) => Ok(positions
                .into_iter()
                .map(|position| alpaca::AlpacaPosition {
                    symbol: position.symbol,
                    qty: position.qty,
                    side: position.side,
                    market_value: position.market_value,
                    unrealized_pl: position.unrealized_pl,
                })
                .collect()),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }

    async fn orders(
        &mut self,
        status: alpaca::OrderStatus,
        limit: u32,
    ) -> Answer<Vec<alpaca::AlpacaOrder>> {
        let status = match status {
            alpaca::OrderStatus::Open => OrderStatus::Open,
            alpaca::OrderStatus::Closed => OrderStatus::Closed,
            alpaca::OrderStatus::All => OrderStatus::All,
        };
        let call = IntegrationCall::AlpacaOrders { status, limit };
        let operation = call.operation();
        Ok(match integration_imports::perform(self, call).await {
            Ok(IntegrationReply::AlpacaOrders { orders }) => Ok(orders
                .into_iter()
                .map(|order| alpaca::AlpacaOrder {
                    id: order.id,
                    symbol: order.symbol,
                    qty: order.qty,
                    side: order.side,
                    order_type: order.order_type,
                    status: order.status,
                    submitted_at: order.submitted_at,
                })
                .collect()),
            Ok(other) => Err(mismatched(operation, &other).into()),
            Err(error) => Err(error.into()),
        })
    }
}
