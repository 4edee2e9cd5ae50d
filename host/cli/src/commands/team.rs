//! `ralph marketplace leases` and `ralph marketplace sync`: many machines
//! (SPEC §15, docs/team.md).

use ralph_broker::lease::{self, LeaseKind, Listed, RemoteLeases};
use ralph_broker::sync::{SyncError, Synced};
use ralph_broker::team::{TeamSettings, has_remote};
use ralph_marketplace::Layout;

use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, outln};

fn settings(layout: &Layout) -> Result<TeamSettings, Failure> {
    TeamSettings::of(layout).map_err(Failure::bad_input)
}

pub fn leases(layout: &Layout, json: bool) -> Outcome {
    let settings = settings(layout)?;
    let remote = settings
        .lease_remote(layout)
        .map_err(|message| Failure::message(Exit::BadInput, message))?;
    let listed: Vec<Listed> = match &remote {
        Some(remote) => {
            let leases = RemoteLeases::new(layout, remote, settings.lease_duration, None);
            lease::list_remote(&leases).map_err(|message| {
                Failure::message(
                    Exit::Problems,
                    format!("cannot read the leases on `{remote}`: {message}"),
                )
            })?
        }
        None => lease::list_local(layout).map_err(|error| {
            Failure::message(
                Exit::Problems,
                format!("{}: {error}", layout.display(&layout.locks_dir())),
            )
        })?,
    };
    if json {
        output::json_line(&serde_json::to_string(&listed).map_err(Failure::problem)?);
        return Ok(Exit::Success);
    }
    let place = match &remote {
        Some(remote) => format!("on the remote `{remote}`"),
        None => format!("in {} (no remote)", layout.display(&layout.locks_dir())),
    };
    if listed.is_empty() {
        outln!("no leases {place}");
        return Ok(Exit::Success);
    }
    outln!("leases {place}:");
    for entry in &listed {
        let who = match (&entry.holder, &entry.unreadable) {
            (Some(holder), _) => holder.to_string(),
            (None, Some(reason)) => format!("unreadable: {reason}"),
            (None, None) => "unknown".to_owned(),
        };
        let state = match (entry.expired, entry.kind) {
            (true, LeaseKind::Remote) => "  [expired: the next loop takes it over]",
            (true, LeaseKind::Local) => "  [stale: its process is gone]",
            (false, _) => "",
        };
        outln!("  #{:<5} {who}{state}", entry.issue);
    }
    Ok(Exit::Success)
}

pub fn sync(layout: &Layout, json: bool) -> Outcome {
    let settings = settings(layout)?;
    let remote = &settings.remote;
    if !has_remote(layout.repository(), remote) {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "this repository has no git remote `{remote}` to sync with (`git remote -v` lists them); add it (`git remote add {remote} URL`) or name another in `team.remote` of {}",
                layout.display(&layout.config_file())
            ),
        ));
    }
    let synced = ralph_broker::sync::sync(layout, remote).map_err(|error| match error {
        SyncError::Refused(message) => Failure::message(Exit::BadInput, message),
        SyncError::Failed(message) => Failure::message(Exit::Problems, message),
    })?;
    if json {
        output::json_line(&serde_json::to_string(&synced).map_err(Failure::problem)?);
        return Ok(Exit::Success);
    }
    describe(&synced);
    Ok(Exit::Success)
}

fn plural(count: u64, word: &str) -> String {
    format!("{count} {word}{}", if count == 1 { "" } else { "s" })
}

fn describe(synced: &Synced) {
    let Synced {
        remote,
        branch,
        committed,
        events,
        commit,
        received,
        pushed,
        push_attempts,
    } = synced;
    match commit {
        Some(commit) => {
            let others = committed.len() - events;
            let short = commit.get(..12).unwrap_or(commit);
            if others > 0 {
                outln!(
                    "Committed {} and {} as {short}",
                    plural(*events as u64, "new event"),
                    plural(others as u64, "issue or pull-request record")
                );
            } else {
                outln!(
                    "Committed {} as {short}",
                    plural(*events as u64, "new event")
                );
            }
        }
        None => outln!("Nothing new to commit"),
    }
    if *received > 0 {
        outln!(
            "Rebased on {remote}/{branch}: {} from other clones",
            plural(*received, "commit")
        );
    }
    if *push_attempts == 0 {
        outln!("Up to date with {remote}/{branch}");
    } else if *push_attempts == 1 {
        outln!("Pushed {} to {remote} {branch}", plural(*pushed, "commit"));
    } else {
        outln!(
            "Pushed {} to {remote} {branch} after {} refused because other clones pushed first",
            plural(*pushed, "commit"),
            plural(u64::from(push_attempts - 1), "try")
        );
    }
}
