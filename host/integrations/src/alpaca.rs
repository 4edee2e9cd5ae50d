//! Alpaca: the trading account, open positions and orders, read-only.
//!
//! `GET /v2/account`, `/v2/positions` and `/v2/orders`, with
//! `APCA_API_KEY_ID` and `APCA_API_SECRET_KEY` as headers. Paper trading
//! unless the config says `"live": true`. The account number is not part of
//! what plugins get.

use ralph_runtime::integrations::{
    AlpacaAccount, AlpacaOrder, AlpacaPosition, IntegrationError, OrderStatus,
};
use reqwest::Client;
use serde::Deserialize;

use crate::config::AlpacaConfig;
use crate::environment::{APCA_API_KEY_ID, APCA_API_SECRET_KEY, Environment};
use crate::transport::{check_limit, headers, json_answer, request_failed, typed};

/// The most orders one call returns (Alpaca's own limit).
pub const MAX_ORDERS: u32 = 500;

const SERVICE: &str = "alpaca";

/// Reads one Alpaca account.
pub struct Alpaca {
    client: Client,
    endpoint: String,
    paper: bool,
    keys: Option<(String, String)>,
}

impl Alpaca {
    pub fn new(client: Client, config: &AlpacaConfig, environment: &Environment) -> Self {
        let keys = match (
            environment.get(APCA_API_KEY_ID),
            environment.get(APCA_API_SECRET_KEY),
        ) {
            (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
            _ => None,
        };
        Self {
            client,
            endpoint: config.endpoint().to_owned(),
            paper: !config.live,
            keys,
        }
    }

    pub async fn account(&self) -> Result<AlpacaAccount, IntegrationError> {
        let answer: AccountAnswer = typed(SERVICE, self.get(&["v2", "account"], &[]).await?)?;
        Ok(AlpacaAccount {
            status: answer.status,
            currency: answer.currency,
            cash: answer.cash,
            portfolio_value: answer.portfolio_value,
            buying_power: answer.buying_power,
            trading_blocked: answer.trading_blocked,
            paper: self.paper,
        })
    }

    pub async fn positions(&self) -> Result<Vec<AlpacaPosition>, IntegrationError> {
        let answer: Vec<PositionAnswer> =
            typed(SERVICE, self.get(&["v2", "positions"], &[]).await?)?;
        Ok(answer
            .into_iter()
            .map(|position| AlpacaPosition {
                symbol: position.symbol,
                qty: position.qty,
                side: position.side,
                market_value: position.market_value.unwrap_or_default(),
                unrealized_pl: position.unrealized_pl.unwrap_or_default(),
            })
            .collect())
    }

    pub async fn orders(
        &self,
        status: OrderStatus,
        limit: u32,
    ) -> Result<Vec<AlpacaOrder>, IntegrationError> {
        let limit = check_limit(limit, MAX_ORDERS)?;
        let status = match status {
            OrderStatus::Open => "open",
            OrderStatus::Closed => "closed",
            OrderStatus::All => "all",
        };
        let limit_text = limit.to_string();
        let answer: Vec<OrderAnswer> = typed(
            SERVICE,
            self.get(
                &["v2", "orders"],
                &[("status", status), ("limit", &limit_text)],
            )
            .await?,
        )?;
        Ok(answer
            .into_iter()
            .take(limit as usize)
            .map(|order| AlpacaOrder {
                id: order.id,
                symbol: order.symbol,
                qty: order.qty.unwrap_or_default(),
                side: order.side,
                order_type: order.order_type,
                status: order.status,
                submitted_at: order.submitted_at.unwrap_or_default(),
            })
            .collect())
    }

    async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value, IntegrationError> {
        let (key_id, secret) = self.keys.as_ref().ok_or_else(|| {
            IntegrationError::NotConfigured(
                "alpaca: no keys; set APCA_API_KEY_ID and APCA_API_SECRET_KEY".to_owned(),
            )
        })?;
        let not_configured = || {
            IntegrationError::NotConfigured(format!(
                "alpaca: `{}` cannot be a base URL",
                self.endpoint
            ))
        };
        let mut url = url::Url::parse(&self.endpoint).map_err(|_| not_configured())?;
        url.path_segments_mut()
            .map_err(|()| not_configured())?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let response = self
            .client
            .get(url)
            .headers(headers(
                &[("apca-api-key-id", key_id), ("apca-api-secret-key", secret)],
                SERVICE,
            )?)
            .send()
            .await
            .map_err(|error| request_failed(SERVICE, error))?;
        json_answer(SERVICE, response).await
    }
}

#[derive(Deserialize)]
struct AccountAnswer {
    #[serde(default)]
    status: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    cash: String,
    #[serde(default)]
    portfolio_value: String,
    #[serde(default)]
    buying_power: String,
    #[serde(default)]
    trading_blocked: bool,
}

#[derive(Deserialize)]
struct PositionAnswer {
    symbol: String,
    #[serde(default)]
    qty: String,
    #[serde(default)]
    side: String,
    market_value: Option<String>,
    unrealized_pl: Option<String>,
}

#[derive(Deserialize)]
struct OrderAnswer {
    id: String,
    #[serde(default)]
    symbol: String,
    qty: Option<String>,
    #[serde(default)]
    side: String,
    #[serde(default, rename = "type")]
    order_type: String,
    #[serde(default)]
    status: String,
    submitted_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_keys_are_not_configured() {
        let client = crate::transport::client(std::time::Duration::from_secs(1)).expect("client");
        let environment = Environment::from_pairs([(APCA_API_KEY_ID, "id")]);
        let alpaca = Alpaca::new(client, &AlpacaConfig::default(), &environment);
        let error = alpaca.account().await.expect_err("no secret");
        assert!(
            matches!(error, IntegrationError::NotConfigured(ref text) if text.contains("APCA_API_SECRET_KEY"))
        );
        assert!(matches!(
            alpaca.orders(OrderStatus::All, 0).await,
            Err(IntegrationError::InvalidRequest(_))
        ));
    }

    #[test]
    fn paper_is_the_default() {
        let client = crate::transport::client(std::time::Duration::from_secs(1)).expect("client");
        let alpaca = Alpaca::new(client, &AlpacaConfig::default(), &Environment::default());
        assert!(alpaca.paper);
        assert_eq!(alpaca.endpoint, crate::config::ALPACA_PAPER_URL);
    }
}
