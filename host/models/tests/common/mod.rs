//! A small HTTP/1.1 server on loopback that answers from a script and
//! records every request it gets.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ralph_models::{ApiKey, ProviderConfig, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete answer.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Promises `Content-Length` bytes, sends fewer, and closes.
    Truncated { sent: String, promised: usize },
    /// Reads the request and never answers (until the client gives up).
    Silent,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::Answer {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: body.to_string(),
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self::Answer {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: body.to_owned(),
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Self::Answer {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Self::Answer {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

pub struct TestServer {
    pub base_url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Answers requests with `replies` in order; the last one repeats.
    pub async fn start(replies: Vec<Reply>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(replies)));
        let task = tokio::spawn({
            let recorded = Arc::clone(&recorded);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let recorded = Arc::clone(&recorded);
                    let script = Arc::clone(&script);
                    tokio::spawn(async move {
                        let _ = serve(stream, recorded, script).await;
                    });
                }
            }
        });
        Ok(Self {
            base_url: format!("http://{address}"),
            recorded,
            task,
        })
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn next_reply(script: &Mutex<VecDeque<Reply>>) -> Reply {
    let Ok(mut script) = script.lock() else {
        return Reply::Silent;
    };
    if script.len() > 1 {
        script.pop_front().unwrap_or(Reply::Silent)
    } else {
        script.front().cloned().unwrap_or(Reply::Silent)
    }
}

async fn serve(
    mut stream: TcpStream,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
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
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    if let Ok(mut recorded) = recorded.lock() {
        recorded.push(Recorded {
            method,
            path,
            headers,
            body,
        });
    }
    match next_reply(&script) {
        Reply::Answer {
            status,
            headers,
            body,
        } => {
            let mut response = format!(
                "HTTP/1.1 {status} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&body);
            stream.write_all(response.as_bytes()).await?;
        }
        Reply::Truncated { sent, promised } => {
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {promised}\r\nconnection: close\r\n\r\n{sent}"
            );
            stream.write_all(response.as_bytes()).await?;
        }
        Reply::Silent => {
            // Hold the connection open, answering nothing.
            tokio::time::sleep(Duration::from_secs(3_600)).await;
        }
    }
    stream.shutdown().await
}

pub const KEY: &str = "sk-test-key-that-must-never-leak";

/// A configuration for the server with short, test-sized waits.
pub fn config(base_url: &str, key: Option<&str>) -> ProviderConfig {
    let mut config =
        ProviderConfig::local("test-model", base_url).with_api_key(key.map(ApiKey::new));
    config.connect_timeout = Duration::from_secs(2);
    config.total_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_total_wait: Duration::from_secs(3),
    };
    config.breaker_threshold = 2;
    config
}

pub fn request() -> ralph_runtime::CompletionRequest {
    ralph_runtime::CompletionRequest {
        system: Some("You are terse.".to_owned()),
        prompt: "Plan the change.".to_owned(),
        max_tokens: 64,
    }
}
