//! Answers what the Alpaca account looks like (status, whether trading is
//! blocked, cash), its positions and its open orders; warns when a proposal
//! changes trading code while orders are open or trading is blocked.
//!
//! Trading code is any file with a path word starting with one of
//! [`TRADING_MARKERS`].

use ralph_plugin_sdk::alpaca::{self, AlpacaAccount, OrderStatus};
use ralph_plugin_sdk::{
    Capability, Finding, IntegrationError, PluginError, Proposal, Severity, Specialist,
    changed_paths, finding,
};

struct Trading;

/// Open orders read for an answer or a review.
const ORDERS_READ: u32 = 50;
/// Word beginnings, lower-case, that mark trading code when a word of its
/// path starts with one (`orders.rs` does, `border.rs` does not).
const TRADING_MARKERS: &[&str] = &[
    "trading",
    "trade",
    "order",
    "strateg",
    "portfolio",
    "position",
    "broker",
    "alpaca",
    "execution",
];

fn unavailable(what: &str, error: &IntegrationError) -> String {
    format!(
        "I could not read the {what} from Alpaca ({}): {}",
        error.kind(),
        error.message()
    )
}

fn describe_account(account: &AlpacaAccount) -> String {
    format!(
        "Account {} ({}), {}: cash {}, portfolio value {}, buying power {}; trading {}.",
        account.status,
        if account.paper { "paper" } else { "live" },
        account.currency,
        account.cash,
        account.portfolio_value,
        account.buying_power,
        if account.trading_blocked {
            "is BLOCKED"
        } else {
            "is allowed"
        }
    )
}

fn account_answer() -> String {
    alpaca::account().map_or_else(
        |error| unavailable("account", &error),
        |account| describe_account(&account),
    )
}

fn positions_answer() -> String {
    match alpaca::positions() {
        Err(error) => unavailable("positions", &error),
        Ok(positions) if positions.is_empty() => "No open positions.".to_owned(),
        Ok(positions) => {
            let mut answer = format!("{} position(s):", positions.len());
            for position in &positions {
                answer.push_str(&format!(
                    "\n- {} {} {} (market value {}, unrealised P/L {})",
                    position.symbol,
                    position.side,
                    position.qty,
                    position.market_value,
                    position.unrealized_pl
                ));
            }
            answer
        }
    }
}

fn orders_answer() -> String {
    match alpaca::orders(OrderStatus::Open, ORDERS_READ) {
        Err(error) => unavailable("open orders", &error),
        Ok(orders) if orders.is_empty() => "No open orders.".to_owned(),
        Ok(orders) => {
            let mut answer = format!("{} open order(s):", orders.len());
            for order in &orders {
                answer.push_str(&format!(
                    "\n- {} {} {} {} ({}, submitted {})",
                    order.side,
                    order.qty,
                    order.symbol,
                    order.order_type,
                    order.status,
                    order.submitted_at
                ));
            }
            answer
        }
    }
}

fn is_trading_code(path: &str) -> bool {
    path.to_lowercase()
        .split(|character: char| !character.is_ascii_alphanumeric())
        .any(|word| {
            TRADING_MARKERS
                .iter()
                .any(|marker| word.starts_with(marker))
        })
}

impl Specialist for Trading {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Alpaca]
    }

    fn ask(_question: String) -> Result<String, PluginError> {
        Ok([account_answer(), positions_answer(), orders_answer()].join("\n"))
    }

    fn review(proposal: Proposal) -> Result<Vec<Finding>, PluginError> {
        let files = changed_paths(&proposal, is_trading_code);
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let mut risks = Vec::new();
        let mut unknown = Vec::new();
        match alpaca::account() {
            Ok(account) if account.trading_blocked => {
                risks.push("trading is blocked on the account".to_owned())
            }
            Ok(_) => {}
            Err(error) => unknown.push(unavailable("account", &error)),
        }
        match alpaca::orders(OrderStatus::Open, ORDERS_READ) {
            Ok(orders) if !orders.is_empty() => {
                let symbols: Vec<&str> = orders.iter().map(|order| order.symbol.as_str()).collect();
                risks.push(format!(
                    "{} order(s) are open ({})",
                    orders.len(),
                    symbols.join(", ")
                ));
            }
            Ok(_) => {}
            Err(error) => unknown.push(unavailable("open orders", &error)),
        }
        let mut findings: Vec<Finding> = if risks.is_empty() {
            Vec::new()
        } else {
            files
                .iter()
                .map(|file| {
                    finding(
                        Severity::Warning,
                        Some(file.clone()),
                        format!(
                            "Changes trading code while {}; deploy it only when that is settled.",
                            risks.join(" and ")
                        ),
                    )
                })
                .collect()
        };
        if !unknown.is_empty() {
            findings.push(finding(
                Severity::Info,
                None,
                format!("Touches trading code; {}.", unknown.join("; ")),
            ));
        } else if findings.is_empty() {
            findings.push(finding(
                Severity::Info,
                None,
                "Touches trading code; no orders are open and trading is allowed.".to_owned(),
            ));
        }
        Ok(findings)
    }
}

ralph_plugin_sdk::export_specialist!(Trading);
