//! `ralph marketplace verify`: everything wrong with a marketplace's log
//! and cache, in one report.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::fold::fold;
use crate::marketplace::{CacheHealth, Marketplace};
use crate::state::ExcludedEvent;
use crate::store::StoreError;

/// What `verify` found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Event files folded.
    pub event_count: u64,
    /// Files left out of the fold, with the reason (unknown bots included).
    pub excluded_events: Vec<ExcludedEvent>,
    /// Bot ids named by otherwise valid events that the config does not
    /// have, with how many events name each.
    pub unknown_bots: BTreeMap<String, u64>,
    /// `fresh`, `stale` or `wrong`.
    pub cache: &'static str,
    /// Why the cache is stale or wrong, when it is.
    pub cache_detail: Option<String>,
}

impl Report {
    /// True when nothing is wrong: no excluded files and no wrong cache. A
    /// stale cache is normal (the next `status` rebuilds it).
    pub fn is_clean(&self) -> bool {
        self.excluded_events.is_empty() && self.cache != "wrong"
    }
}

/// Folds every event file and compares the cache with the result.
pub fn verify(marketplace: &Marketplace) -> Result<Report, StoreError> {
    let listing = marketplace.store().list()?;
    let files = marketplace.store().read_listing(&listing);
    let mut unknown_bots = BTreeMap::new();
    for file in &files {
        if let Ok(event) = &file.event
            && marketplace.config().bot_index(&event.bot_id).is_none()
        {
            *unknown_bots.entry(event.bot_id.clone()).or_insert(0) += 1;
        }
    }
    let state = fold(marketplace.config(), files);
    let (cache, cache_detail) = match marketplace.cache_health(&state)? {
        CacheHealth::Fresh => ("fresh", None),
        CacheHealth::Stale(reason) => ("stale", Some(reason.to_string())),
        CacheHealth::Wrong => (
            "wrong",
            Some("the cache claims to be fresh but differs from the events".to_owned()),
        ),
    };
    Ok(Report {
        event_count: state.event_count,
        excluded_events: state.excluded_events,
        unknown_bots,
        cache,
        cache_detail,
    })
}
