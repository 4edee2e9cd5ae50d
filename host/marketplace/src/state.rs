//! The marketplace state: what the event log folds to (SPEC §2.3, §2.6).
//!
//! Serialised exactly as `marketplace.json` and `ralph marketplace status
//! --json`: bots in their configured order, then the totals.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One bidder's standing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotState {
    pub weight: f64,
    pub efficiency: f64,
    pub successes: u64,
    pub failures: u64,
    pub allocation: u64,
    /// Its successes and failures per issue type (SPEC §13), from the
    /// events that name one; left out while there are none.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub by_type: crate::specialization::ByType,
}

/// An event file left out of the fold, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludedEvent {
    pub file: String,
    pub reason: String,
}

/// The folded state of the whole marketplace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub bots: Bots,
    pub total_budget_pool: u64,
    pub rounds_completed: u64,
    pub event_count: u64,
    pub excluded_events: Vec<ExcludedEvent>,
    pub last_updated: Option<String>,
}

/// The bidders in their configured order (`bidder_1`, `bidder_2`, …),
/// serialised as a JSON object that keeps that order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bots(pub Vec<(String, BotState)>);

impl State {
    /// The state as pretty JSON with a final newline: the exact bytes of
    /// `marketplace.json` and of `status --json`.
    pub fn to_json(&self) -> String {
        // Serialising plain numbers, strings and vectors cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Looks a bidder up by id.
    pub fn bot(&self, id: &str) -> Option<&BotState> {
        self.bots
            .0
            .iter()
            .find(|(name, _)| name == id)
            .map(|(_, bot)| bot)
    }
}

impl Serialize for Bots {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (id, bot) in &self.0 {
            map.serialize_entry(id, bot)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Bots {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedBots;

        impl<'de> Visitor<'de> for OrderedBots {
            type Value = Bots;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object of bidder states")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Bots, A::Error> {
                let mut bots = Vec::new();
                while let Some(entry) = access.next_entry::<String, BotState>()? {
                    bots.push(entry);
                }
                Ok(Bots(bots))
            }
        }

        deserializer.deserialize_map(OrderedBots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        let bot = |weight, allocation| BotState {
            weight,
            efficiency: 0.5,
            successes: 0,
            failures: 0,
            allocation,
            by_type: Default::default(),
        };
        State {
            bots: Bots(vec![
                ("bidder_2".to_owned(), bot(0.5, 15)),
                ("bidder_10".to_owned(), bot(0.25, 8)),
                ("bidder_1".to_owned(), bot(0.25, 7)),
            ]),
            total_budget_pool: 30,
            rounds_completed: 0,
            event_count: 0,
            excluded_events: vec![],
            last_updated: None,
        }
    }

    #[test]
    fn bots_keep_their_order_through_json() {
        let state = sample();
        let json = state.to_json();
        let order: Vec<usize> = ["bidder_2", "bidder_10", "bidder_1"]
            .iter()
            .map(|id| json.find(&format!("\"{id}\"")).expect("present"))
            .collect();
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{json}");
        let back: State = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, state);
    }

    #[test]
    fn the_json_has_the_spec_keys() {
        let value: serde_json::Value = serde_json::from_str(&sample().to_json()).expect("json");
        let keys: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "bots",
            "total_budget_pool",
            "rounds_completed",
            "event_count",
            "excluded_events",
            "last_updated",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        assert!(value["last_updated"].is_null());
        assert_eq!(value["bots"]["bidder_2"]["allocation"], 15);
    }
}
