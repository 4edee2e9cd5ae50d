//! What the integration tests share: a loopback HTTP server that answers
//! through a handler and records every request, and a gateway in a
//! temporary repository.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ralph_integrations::audit::AuditEntry;
use ralph_integrations::gateway::Paths;
use ralph_integrations::{Approver, AuditLog, Environment, Gateway, IntegrationsConfig};
use ralph_runtime::capabilities::Capability;
use ralph_runtime::integrations::Caller;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(value: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: value.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn redirect(location: &str) -> Self {
        Self {
            status: 302,
            headers: vec![("location".to_owned(), location.to_owned())],
            body: Vec::new(),
        }
    }
}

type Handler = dyn Fn(&Recorded) -> Answer + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 with a free port.
pub struct Server {
    pub port: u16,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(handler: impl Fn(&Recorded) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = tokio::spawn({
            let recorded = Arc::clone(&recorded);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let recorded = Arc::clone(&recorded);
                    let handler = Arc::clone(&handler);
                    tokio::spawn(async move {
                        let _ = serve(stream, recorded, handler).await;
                    });
                }
            }
        });
        Self {
            port,
            recorded,
            task,
        }
    }

    /// `http://localhost:PORT`: a name, since IP-literal URLs are refused.
    pub fn origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    handler: Arc<Handler>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break position + 4;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let request = Recorded {
        method: request_line.next().unwrap_or_default().to_owned(),
        target: request_line.next().unwrap_or_default().to_owned(),
        headers: lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
            .collect(),
    };
    let answer = handler(&request);
    if let Ok(mut recorded) = recorded.lock() {
        recorded.push(request);
    }
    let mut response = format!(
        "HTTP/1.1 {} Test\r\ncontent-length: {}\r\nconnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    stream.write_all(response.as_bytes()).await?;
    stream.write_all(&answer.body).await?;
    stream.shutdown().await
}

/// A temporary repository with a gateway.
pub struct Setup {
    pub directory: tempfile::TempDir,
    pub gateway: Arc<Gateway>,
}

impl Setup {
    /// A gateway for `config` with `environment`, asking `approver`.
    pub fn new(
        config: serde_json::Value,
        environment: &[(&str, &str)],
        approver: Arc<dyn Approver>,
    ) -> Self {
        let directory = tempfile::tempdir().expect("temp dir");
        let config = IntegrationsConfig::from_value(Some(&config)).expect("valid config");
        let gateway = Gateway::new(
            config,
            &Environment::from_pairs(environment.iter().copied()),
            Paths {
                approvals_file: directory.path().join(".ralph/approvals.json"),
                audit_dir: directory.path().join(".ralph/audit"),
            },
            approver,
        )
        .expect("gateway");
        Self {
            directory,
            gateway: Arc::new(gateway),
        }
    }

    /// Writes `.ralph/approvals.json` approving `capabilities` for `plugin`.
    pub fn approve(&self, plugin: &str, capabilities: &[&str]) {
        let path = self.approvals_file();
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let approvals = serde_json::json!({"version": 1, "approvals": {plugin: capabilities}});
        std::fs::write(path, approvals.to_string()).expect("write approvals");
    }

    pub fn approvals_file(&self) -> PathBuf {
        self.directory.path().join(".ralph/approvals.json")
    }

    /// Every audit entry, failing on a bad line.
    pub fn audit(&self) -> Vec<AuditEntry> {
        let read = AuditLog::new(self.directory.path().join(".ralph/audit"))
            .read(None)
            .expect("read audit");
        assert!(read.bad_lines.is_empty(), "{:?}", read.bad_lines);
        read.entries
    }

    /// The audit log's raw text, every day.
    pub fn audit_text(&self) -> String {
        let directory = self.directory.path().join(".ralph/audit");
        let mut text = String::new();
        for entry in std::fs::read_dir(directory).expect("audit dir") {
            text.push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("read"));
        }
        text
    }
}

/// The component digest of the callers [`caller`] makes.
pub const CALLER_DIGEST: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

/// A caller loaded from the config entry `plugin` (and reporting that name)
/// requesting `capabilities`, with `seconds` to run.
pub fn caller(plugin: &str, capabilities: &[Capability], seconds: u64) -> Caller {
    Caller {
        id: Some(plugin.to_owned()),
        digest: CALLER_DIGEST.to_owned(),
        name: plugin.to_owned(),
        requested: capabilities.iter().copied().collect::<BTreeSet<_>>(),
        deadline: Instant::now() + Duration::from_secs(seconds),
    }
}

/// A runtime for `setup`'s repository whose integration calls go to its
/// gateway, with the bundled specialist `name` loaded (its integration
/// capabilities are approved, or not, by `setup`, never granted here).
pub async fn runtime_with_specialist(setup: &Setup, name: &str) -> ralph_runtime::Runtime {
    use ralph_runtime::{Limits, Runtime, RuntimeOptions};
    let runtime = Runtime::new(
        RuntimeOptions::new(setup.directory.path()).with_integrations(setup.gateway.clone()),
    )
    .expect("runtime");
    let plugin = ralph_plugins_bundle::find(name).expect("bundled");
    let grants = plugin
        .capabilities
        .iter()
        .filter_map(|name| name.parse::<Capability>().ok())
        .filter(|capability| !capability.is_integration());
    runtime
        .load_specialist(
            name,
            std::path::Path::new(name),
            plugin.bytes,
            grants,
            Limits {
                deadline: Duration::from_secs(30),
                ..Limits::default()
            },
        )
        .await
        .expect("load the specialist");
    runtime
}
