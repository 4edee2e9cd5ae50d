//! A small OpenAI-compatible (or Anthropic-shaped) HTTP/1.1 server on
//! loopback, for driving the real binary against a "model": it answers each
//! request with what the test's responder returns, and keeps every request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// How the server answers one request.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A chat completion whose message is `text`.
    pub fn chat(text: &str) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: serde_json::json!({
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 120, "completion_tokens": 40}
            })
            .to_string(),
        }
    }

    pub fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Responder = dyn Fn(usize, &Request) -> Reply + Send + Sync;

pub struct ChatServer {
    /// `http://127.0.0.1:PORT`, without a path.
    pub base_url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl ChatServer {
    /// Answers the n-th request (from 0) with `responder(n, request)`.
    pub fn start(responder: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let address = listener.local_addr().expect("address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let responder: Arc<Responder> = Arc::new(responder);
        let shared = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let requests = Arc::clone(&shared);
                let responder = Arc::clone(&responder);
                std::thread::spawn(move || serve(stream, &requests, responder.as_ref()));
            }
        });
        ChatServer {
            base_url: format!("http://{address}"),
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The model calls among the requests: chat completions (or messages),
    /// not the `GET /models` and `GET /props` probes of a context window.
    pub fn chats(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|request| {
                request.path.ends_with("/chat/completions") || request.path.ends_with("/messages")
            })
            .collect()
    }
}

fn serve(stream: TcpStream, requests: &Mutex<Vec<Request>>, responder: &Responder) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Request {
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    };
    let index = {
        let Ok(mut requests) = requests.lock() else {
            return;
        };
        requests.push(request.clone());
        requests.len() - 1
    };
    let reply = responder(index, &request);
    let mut response = format!(
        "HTTP/1.1 {} Test\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&reply.body);
    let _ = writer.write_all(response.as_bytes());
    let _ = writer.flush();
}
