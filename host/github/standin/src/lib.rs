//! A stateful GitHub REST stand-in for tests, on loopback.
//!
//! [`StandIn::start`] serves one repository on `127.0.0.1:0` from a thread
//! of its own, so sync tests and any tokio runtime can use it. It speaks
//! GitHub's JSON for what Ralph's client uses, checks the token (401 with
//! GitHub's body otherwise), answers 404 for unknown repositories, issues
//! and routes and 422 for invalid input, pages lists with `Link` headers,
//! and answers conditional GETs with `304`. Tests seed and read its state,
//! inject rate-limit faults, and read every request it received — which
//! [`openapi::validate`] checks against GitHub's OpenAPI description.

pub mod openapi;
pub mod record;
mod routes;
mod schema;
mod server;
pub mod state;

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

pub use record::RecordedRequest;
pub use server::FaultKind;
use server::{Fault, Shared, lock};
use state::{CommentRecord, IssueRecord, ReviewCommentRecord, ReviewRecord, State};

/// The stand-in's repository and users.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    pub token: String,
    pub owner: String,
    pub name: String,
    /// The token's user (an admin of the repository).
    pub login: String,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            token: "standin-token-0123456789".to_owned(),
            owner: "octo-org".to_owned(),
            name: "hello-world".to_owned(),
            login: "ralph-bot".to_owned(),
        }
    }
}

/// An issue to seed.
#[derive(Clone, Debug, Default)]
pub struct SeedIssue<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub labels: &'a [&'a str],
    /// Who opened it and added its labels (the token's user when empty).
    pub author: &'a str,
}

/// A running stand-in; stops when dropped.
pub struct StandIn {
    address: SocketAddr,
    config: StandInConfig,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Starts a stand-in with [`StandInConfig::default`].
    pub fn start() -> StandIn {
        StandIn::start_with(StandInConfig::default())
    }

    /// Starts a stand-in on `127.0.0.1:0`. Panics when it cannot (tests
    /// only).
    #[allow(clippy::expect_used)]
    pub fn start_with(config: StandInConfig) -> StandIn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the stand-in's address");
        let shared = Arc::new(Shared {
            token: config.token.clone(),
            state: Mutex::new(State::new(&config.owner, &config.name, &config.login)),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            mutation_hold: Mutex::new(Duration::ZERO),
            mutations_in_flight: AtomicUsize::new(0),
            base: format!("http://{address}"),
        });
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = axum::Router::new()
            .fallback(server::handle)
            .with_state(Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("github-standin".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the stand-in's runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .expect("the stand-in's thread");
        StandIn {
            address,
            config,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`: the client's `api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn config(&self) -> &StandInConfig {
        &self.config
    }

    /// `OWNER/NAME`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.config.owner, self.config.name)
    }

    /// Reads or changes the state directly.
    pub fn with_state<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        change(&mut lock(&self.shared.state))
    }

    /// Seeds an issue (its labels added by its author, with events); its
    /// number.
    pub fn seed_issue(&self, seed: &SeedIssue<'_>) -> u64 {
        self.with_state(|state| {
            let number = state.next_number();
            let author = if seed.author.is_empty() {
                state.login.clone()
            } else {
                seed.author.to_owned()
            };
            state.issues.insert(
                number,
                IssueRecord {
                    number,
                    title: seed.title.to_owned(),
                    body: Some(seed.body.to_owned()),
                    state: "open".to_owned(),
                    labels: Vec::new(),
                    author: author.clone(),
                    assignees: Vec::new(),
                    pull: None,
                    events: Vec::new(),
                    comments: Vec::new(),
                },
            );
            for label in seed.labels {
                state.add_label(number, label, &author);
            }
            number
        })
    }

    /// Seeds a label of the repository.
    pub fn seed_label(&self, name: &str, color: &str, description: &str) {
        self.with_state(|state| {
            let id = state.next_id();
            state.labels.push(state::LabelRecord {
                id,
                name: name.to_owned(),
                color: color.to_owned(),
                description: Some(description.to_owned()),
            });
        });
    }

    /// Makes `login` a collaborator with `permission` (`admin`,
    /// `maintain`, `write`, `triage`, `read` or `none`).
    pub fn add_collaborator(&self, login: &str, permission: &str) {
        self.with_state(|state| {
            state
                .collaborators
                .insert(login.to_owned(), permission.to_owned());
        });
    }

    /// `actor` adds `label` to issue `number` (a `labeled` event).
    pub fn add_label_as(&self, number: u64, label: &str, actor: &str) {
        self.with_state(|state| state.add_label(number, label, actor));
    }

    /// `actor` removes `label` from issue `number` (an `unlabeled` event).
    pub fn remove_label_as(&self, number: u64, label: &str, actor: &str) {
        self.with_state(|state| state.remove_label(number, label, actor));
    }

    /// Someone else replaces issue `number`'s body.
    pub fn edit_body(&self, number: u64, body: &str) {
        self.with_state(|state| {
            if let Some(issue) = state.issues.get_mut(&number) {
                issue.body = Some(body.to_owned());
            }
        });
    }

    /// `author` comments on issue or pull request `number`; the id.
    pub fn add_comment_as(&self, number: u64, author: &str, body: &str) -> u64 {
        self.with_state(|state| {
            let id = state.next_id();
            if let Some(issue) = state.issues.get_mut(&number) {
                issue.comments.push(CommentRecord {
                    id,
                    author: author.to_owned(),
                    body: body.to_owned(),
                });
            }
            id
        })
    }

    /// Opens a pull request by the token's user; its number.
    pub fn seed_pull(&self, title: &str, head: &str, base: &str) -> u64 {
        self.with_state(|state| routes::seed_pull(state, title, None, head, base))
    }

    /// `author` comments on line `line` of `path` in pull request `pull`
    /// (a reply when `in_reply_to` is given); the id.
    pub fn add_review_comment_as(
        &self,
        pull: u64,
        author: &str,
        body: &str,
        path: &str,
        in_reply_to: Option<u64>,
    ) -> u64 {
        self.with_state(|state| {
            let id = state.next_id();
            state.review_comments.push(ReviewCommentRecord {
                id,
                pull,
                author: author.to_owned(),
                body: body.to_owned(),
                path: path.to_owned(),
                line: Some(3),
                in_reply_to,
            });
            id
        })
    }

    /// `author` reviews pull request `pull` (`state` e.g.
    /// `CHANGES_REQUESTED`, `APPROVED`, `COMMENTED`); the id.
    pub fn add_review_as(&self, pull: u64, author: &str, state_name: &str, body: &str) -> u64 {
        self.with_state(|state| {
            let id = state.next_id();
            state.reviews.push(ReviewRecord {
                id,
                pull,
                author: author.to_owned(),
                state: state_name.to_owned(),
                body: body.to_owned(),
            });
            id
        })
    }

    /// The next `count` requests `METHOD path` (the path exactly as sent)
    /// get `kind`.
    pub fn fail_next(&self, method: &str, path: &str, count: u32, kind: FaultKind) {
        lock(&self.shared.faults).push(Fault {
            method: method.to_owned(),
            path: path.to_owned(),
            remaining: count,
            kind,
        });
    }

    /// A primary limit whose reset is an hour away.
    pub fn primary_limit_for_an_hour() -> FaultKind {
        FaultKind::PrimaryLimit {
            reset: SystemTime::now() + Duration::from_secs(3600),
        }
    }

    /// Holds every mutation this long before answering, so that two sent
    /// at once are seen overlapping.
    pub fn hold_mutations(&self, hold: Duration) {
        *lock(&self.shared.mutation_hold) = hold;
    }

    /// Issue or pull request `number` as it is now.
    pub fn issue(&self, number: u64) -> Option<IssueRecord> {
        self.with_state(|state| state.issues.get(&number).cloned())
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many mutations came while another was being answered.
    pub fn overlapping_mutations(&self) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.overlapped)
            .count()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
