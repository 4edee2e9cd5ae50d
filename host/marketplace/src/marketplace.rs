//! One repository's marketplace: its config, event log and cached state,
//! opened together. This is what the CLI and the loop use.

use crate::cache::{self, Staleness};
use crate::config::{Config, ConfigError};
use crate::event::{Event, EventError};
use crate::fold::fold;
use crate::layout::Layout;
use crate::state::State;
use crate::store::{Appended, EventStore, MAX_EVENT_BYTES, StoreError};
use crate::summary::{self, Summary};
use crate::usage::{self, UsageReport};

/// An opened marketplace: a validated config and its event store.
#[derive(Clone, Debug)]
pub struct Marketplace {
    layout: Layout,
    config: Config,
    config_digest: String,
    store: EventStore,
}

/// Where a loaded state came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The cache, proven fresh by the directory stamp alone.
    StampedCache,
    /// The cache, proven fresh by listing the event names.
    ListedCache,
    /// A fold of every event file.
    Fold,
}

/// The state and how it was obtained.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub state: State,
    /// The exact JSON of the state (`marketplace.json`).
    pub json: String,
    pub source: Source,
    /// Set when the cache could not be written (the state is still right).
    pub cache_warning: Option<String>,
}

/// How the cache compares with the events, for `verify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheHealth {
    Fresh,
    /// Out of date; the next `status` rebuilds it. Not an error.
    Stale(Staleness),
    /// Claims to be fresh but holds a different state than the events fold
    /// to: an error.
    Wrong,
}

/// Why an event could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{source_name}: {error}")]
    Invalid {
        source_name: String,
        error: EventError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Marketplace {
    /// Opens the marketplace of the repository at `layout`, reading and
    /// validating its config.
    pub fn open(layout: Layout) -> Result<Marketplace, ConfigError> {
        let path = layout.config_file();
        let bytes = crate::config::read_bytes(&path)?;
        let config = Config::from_slice(&bytes).map_err(|error| error.at(&path))?;
        Ok(Marketplace {
            store: EventStore::new(&layout),
            config_digest: cache::digest(&bytes),
            config,
            layout,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// The current state: from the cache when it is provably fresh,
    /// otherwise folded from the events (and the cache rewritten).
    pub fn state(&self) -> Result<Loaded, StoreError> {
        let cached = cache::read_cached(&self.layout, &self.config_digest);
        if let Ok(cached) = &cached
            && cached.proven
        {
            return Ok(Loaded {
                state: cached.state.clone(),
                json: cached.state_json.clone(),
                source: Source::StampedCache,
                cache_warning: None,
            });
        }
        let stamp = cache::take_stamp(&self.layout.tmp_dir(), self.store.events_dir());
        let listing = self.store.list()?;
        let names = listing.digest_lines();
        if let Ok(cached) = cached
            && cached.matches_names(&names)
        {
            let cache_warning = cache::restamp(&self.layout, &cached, stamp)
                .err()
                .map(|error| format!("could not update the cache stamp: {error}"));
            return Ok(Loaded {
                state: cached.state,
                json: cached.state_json,
                source: Source::ListedCache,
                cache_warning,
            });
        }
        let state = fold(&self.config, self.store.read_listing(&listing));
        let cache_warning = cache::write(&self.layout, &state, &names, &self.config_digest, stamp)
            .err()
            .map(|error| format!("could not write the cache: {error}"));
        Ok(Loaded {
            json: state.to_json(),
            state,
            source: Source::Fold,
            cache_warning,
        })
    }

    /// Folds every event file, ignoring and leaving the cache alone.
    pub fn fold_from_disk(&self) -> Result<State, StoreError> {
        let listing = self.store.list()?;
        Ok(fold(&self.config, self.store.read_listing(&listing)))
    }

    /// Compares the cache with a fresh fold of the events.
    pub fn cache_health(&self, folded: &State) -> Result<CacheHealth, StoreError> {
        let cached = match cache::read_cached(&self.layout, &self.config_digest) {
            Ok(cached) => cached,
            Err(staleness) => return Ok(CacheHealth::Stale(staleness)),
        };
        let names = self.store.list()?.digest_lines();
        if !cached.proven && !cached.matches_names(&names) {
            return Ok(CacheHealth::Stale(Staleness::EventsChanged));
        }
        if cached.state_json == folded.to_json() {
            Ok(CacheHealth::Fresh)
        } else {
            Ok(CacheHealth::Wrong)
        }
    }

    /// The model usage recorded in the events, per bidder and overall,
    /// limited to `issue` if given. Computed apart from the state.
    pub fn usage(&self, issue: Option<u64>) -> Result<UsageReport, StoreError> {
        let names = self.store.list()?.files;
        let bot_ids = self.config.bot_ids();
        let mut report = UsageReport::new(bot_ids.iter().map(String::as_str), issue);
        // Read in parallel, added up in file-name order so the sums of
        // costs never depend on thread timing.
        let files = self.store.map_files(&names, |name, bytes| {
            bytes.ok().and_then(|bytes| usage::read_file(name, bytes))
        });
        for read in files.into_iter().flatten() {
            report.add_read(read);
        }
        Ok(report)
    }

    /// The meta-analysis of the log (SPEC §12), over its last `last`
    /// implementations when given. Every event file is read in name order
    /// (its timestamp comes first); a file that cannot be read or has none
    /// of the fields the analysis reads is passed over, as the fold would.
    pub fn analyze(
        &self,
        last: Option<usize>,
    ) -> Result<Result<crate::analysis::Analysis, crate::analysis::TooFew>, StoreError> {
        let mut names = self.store.list()?.files;
        names.sort();
        let records: Vec<crate::analysis::Record> = self
            .store
            .map_files(&names, |_, bytes| {
                bytes.ok().and_then(crate::analysis::Record::read)
            })
            .into_iter()
            .flatten()
            .collect();
        Ok(crate::analysis::analyze(
            &records,
            last,
            &self.config.scoring_weights,
        ))
    }

    /// The usage totals over the whole log and the newest events, for
    /// `status`: from `.ralph/summary.json` when it is current (without
    /// listing the events when the state's cache proves them unchanged),
    /// otherwise computed from every event and cached.
    pub fn summary(&self) -> Result<Summary, StoreError> {
        if let Ok(state) = cache::read_cached(&self.layout, &self.config_digest)
            && state.proven
            && let Some(found) = summary::cached(
                &self.layout,
                &self.store,
                &self.config_digest,
                &state.version.names_digest,
            )
        {
            return Ok(found);
        }
        let listing = self.store.list()?;
        let lines = listing.digest_lines();
        if let Some(found) = summary::cached(
            &self.layout,
            &self.store,
            &self.config_digest,
            &cache::names_digest(&lines),
        ) {
            return Ok(found);
        }
        Ok(summary::compute(
            &self.layout,
            &self.store,
            &self.config_digest,
            &self.config.bot_ids(),
            &listing.files,
            &lines,
        ))
    }

    /// Validates one event (`source_name` names where it came from, for
    /// messages) and appends it to the log with its timestamp in canonical
    /// form. Refused, naming the source: more than [`MAX_EVENT_BYTES`]
    /// (as given or as it would be written), an invalid field, an unknown
    /// bot. An event whose content is already in the log is not written
    /// again (see [`EventStore::append`]); `already_recorded` says so.
    pub fn record(&self, source_name: &str, bytes: &[u8]) -> Result<Appended, RecordError> {
        let invalid = |error| RecordError::Invalid {
            source_name: source_name.to_owned(),
            error,
        };
        if bytes.len() as u64 > MAX_EVENT_BYTES {
            return Err(invalid(EventError {
                field: None,
                message: format!(
                    "the event is over the limit of {MAX_EVENT_BYTES} bytes for an event file"
                ),
            }));
        }
        let event = Event::parse(bytes).map_err(invalid)?;
        usage::parse(bytes).map_err(invalid)?;
        if self.config.bot_index(&event.bot_id).is_none() {
            return Err(invalid(EventError {
                field: Some("bot_id".into()),
                message: format!(
                    "unknown bot {:?} (this marketplace has bidder_1 to bidder_{})",
                    event.bot_id, self.config.num_bots
                ),
            }));
        }
        let document: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
            .map_err(|error| {
                invalid(EventError {
                    field: None,
                    message: format!("invalid JSON: {error}"),
                })
            })?;
        let _lock = self.lock_appends()?;
        let proven = cache::read_cached(&self.layout, &self.config_digest)
            .ok()
            .filter(|cached| cached.proven);
        match self.store.append(&event, &document) {
            Err(StoreError::TooLarge { size, .. }) => Err(invalid(EventError {
                field: None,
                message: format!(
                    "the event would be written as {size} bytes, over the limit of {MAX_EVENT_BYTES} bytes for an event file"
                ),
            })),
            Ok(appended) => {
                if let Some(cached) = proven {
                    // The event is in the log whatever happens to the caches;
                    // one left stale is rebuilt by the next reader.
                    if let Err(error) = self.extend_caches(&cached, &appended) {
                        tracing::warn!(%error, "Could not extend the caches with the new event; the next read rebuilds them");
                    }
                }
                Ok(appended)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Takes the lock every append of Ralph's holds (blocking while another
    /// process appends).
    fn lock_appends(&self) -> Result<std::fs::File, StoreError> {
        let path = self.layout.events_lock_file();
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        crate::lock::wait_for(&path).map_err(io)
    }

    /// After an append, keeps the caches that were proven fresh before it
    /// fresh without a listing (see [`cache::extend`]): when the directory
    /// had not changed since they were proven and the event sorts after
    /// every other one. Otherwise they are left stale.
    fn extend_caches(&self, cached: &cache::Cached, appended: &Appended) -> Result<(), StoreError> {
        let Some(change) = appended.directory.filter(|change| {
            !appended.already_recorded
                && cached
                    .version
                    .stamp
                    .is_some_and(|stamp| stamp.same_directory(&change.before))
        }) else {
            return Ok(());
        };
        let Some((file, bytes)) = self.store.read_with_bytes(&appended.file_name) else {
            return Ok(());
        };
        let Some(state) = file
            .event
            .ok()
            .and_then(|event| crate::fold::extend(&self.config, &cached.state, &event))
        else {
            return Ok(());
        };
        let stamp = cache::stamp_after_append(
            &self.layout.tmp_dir(),
            self.store.events_dir(),
            &change.after,
        );
        let Some(version) =
            cache::extend(&self.layout, cached, &state, &appended.file_name, stamp)?
        else {
            return Ok(());
        };
        summary::extend(
            &self.layout,
            &self.config_digest,
            &cached.version.names_digest,
            &version.names_digest,
            &appended.file_name,
            &bytes,
        )?;
        Ok(())
    }
}
