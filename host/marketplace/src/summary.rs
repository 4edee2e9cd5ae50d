//! What `ralph marketplace status` shows besides the state: the model usage
//! totals and the newest events, cached in `.ralph/summary.json` so that
//! `status` never reads the whole log.
//!
//! The cache holds the digest of the event names it was computed from and
//! the config's digest. It is fresh under the same rule as the state's cache
//! (SPEC §2.5, [`crate::cache`]): when the state's version is proven current
//! by the directory stamp, a summary with the version's names digest is
//! current too; otherwise the names are listed and their digest compared.
//! A stale or unreadable summary is never used, and deleting it is safe.

use serde::{Deserialize, Serialize};

use crate::cache::{self, names_digest};
use crate::event::Event;
use crate::layout::Layout;
use crate::store::{EventStore, StoreError};
use crate::usage::UsageReport;

/// 1: the first layout of `summary.json`.
const FORMAT: u32 = 1;
/// How many of the newest events the summary keeps.
pub const RECENT: usize = 20;

/// The usage totals over the whole log and the newest valid events.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub usage: UsageReport,
    /// The newest [`RECENT`] valid events of known bidders, oldest first.
    pub recent: Vec<Event>,
    /// Set when the summary could not be cached (it is still right).
    pub cache_warning: Option<String>,
}

/// What `summary.json` holds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: u32,
    names_digest: String,
    config_digest: String,
    usage: UsageReport,
    /// The file names of [`Summary::recent`], oldest first.
    recent: Vec<String>,
}

/// Reads the summary cached for the event names whose digest is
/// `names_digest`, if it is there, whole and for this config. Its recent
/// events are read from their files (events are never modified).
pub(crate) fn cached(
    layout: &Layout,
    store: &EventStore,
    config_digest: &str,
    names_digest: &str,
) -> Option<Summary> {
    let bytes = cache::read_cache_file(&layout.summary_file()).ok()?;
    let stored: Stored = serde_json::from_slice(&bytes).ok()?;
    if stored.format != FORMAT
        || stored.config_digest != config_digest
        || stored.names_digest != names_digest
    {
        return None;
    }
    let recent = store
        .read(&stored.recent)
        .into_iter()
        .map(|file| file.event.ok())
        .collect::<Option<Vec<Event>>>()?;
    Some(Summary {
        usage: stored.usage,
        recent,
        cache_warning: None,
    })
}

/// Computes the summary from every event file in `files` (sorted names;
/// `digest_lines` is what the names digest is taken over) and caches it.
pub(crate) fn compute(
    layout: &Layout,
    store: &EventStore,
    config_digest: &str,
    bot_ids: &[String],
    files: &[String],
    digest_lines: &[String],
) -> Summary {
    let mut usage = UsageReport::new(bot_ids.iter().map(String::as_str), None);
    let read = store.map_files(files, |name, bytes| {
        let bytes = bytes.ok()?;
        Some((name.to_owned(), bytes.to_vec(), Event::parse(bytes).ok()))
    });
    let mut events: Vec<(String, Event)> = Vec::new();
    // Added up in file-name order so the sums of costs never depend on
    // thread timing.
    for (name, bytes, event) in read.into_iter().flatten() {
        usage.add_file(&name, &bytes);
        if let Some(event) = event
            && bot_ids.contains(&event.bot_id)
        {
            events.push((name, event));
        }
    }
    events.sort_by(|(left_name, left), (right_name, right)| {
        left.time
            .cmp(&right.time)
            .then_with(|| left_name.cmp(right_name))
    });
    let events = events.split_off(events.len().saturating_sub(RECENT));
    let stored = Stored {
        format: FORMAT,
        names_digest: names_digest(digest_lines),
        config_digest: config_digest.to_owned(),
        usage,
        recent: events.iter().map(|(name, _)| name.clone()).collect(),
    };
    let cache_warning = write(layout, &stored)
        .err()
        .map(|error| format!("could not write the summary cache: {error}"));
    Summary {
        usage: stored.usage,
        recent: events.into_iter().map(|(_, event)| event).collect(),
        cache_warning,
    }
}

/// Extends the summary cached for the names digest `before` by one
/// appended event file (`name`, `bytes`) that sorts after every other one,
/// by name and by time, and caches it for the names digest `after`. False
/// (nothing written) when no summary is cached for `before`; the next
/// `status` computes it.
pub(crate) fn extend(
    layout: &Layout,
    config_digest: &str,
    before: &str,
    after: &str,
    name: &str,
    bytes: &[u8],
) -> Result<bool, StoreError> {
    let Some(mut stored) = cache::read_cache_file(&layout.summary_file())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
        .filter(|stored| {
            stored.format == FORMAT
                && stored.config_digest == config_digest
                && stored.names_digest == before
        })
    else {
        return Ok(false);
    };
    stored.usage.add_file(name, bytes);
    stored.recent.push(name.to_owned());
    let excess = stored.recent.len().saturating_sub(RECENT);
    stored.recent.drain(..excess);
    stored.names_digest = after.to_owned();
    write(layout, &stored)?;
    Ok(true)
}

fn write(layout: &Layout, stored: &Stored) -> Result<(), StoreError> {
    let mut json = serde_json::to_vec(stored).unwrap_or_default();
    json.push(b'\n');
    cache::replace_file(layout, &layout.summary_file(), &json)
}
