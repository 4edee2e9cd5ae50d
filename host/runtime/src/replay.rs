//! A provider that replays recorded model responses instead of calling a
//! model: what makes Ralph's demo run offline and without a key.
//!
//! A replay file holds responses per caller, answered in order:
//!
//! ```json
//! {"replay": "Recorded responses for the demo; no live model is called.",
//!  "responses": [{"caller": "persona-planner", "text": "...",
//!                 "input_tokens": 812, "output_tokens": 240}]}
//! ```
//!
//! The n-th `complete` call from a plugin gets the n-th response recorded
//! for it; a call past the last is an error naming the file and the caller.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::future::BoxFuture;
use serde::Deserialize;

use crate::provider::{ModelProvider, ProviderError};
use crate::types::{Completion, CompletionRequest, TokenUsage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayFile {
    /// A note saying what the recording is (shown nowhere; for readers).
    #[allow(dead_code)]
    replay: String,
    responses: Vec<Recorded>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recorded {
    caller: String,
    text: String,
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
}

/// Answers `complete` from a recording.
pub struct ReplayProvider {
    source: PathBuf,
    queues: Mutex<HashMap<String, std::collections::VecDeque<Recorded>>>,
}

impl ReplayProvider {
    /// Reads a replay from `text`; `source` names it in messages.
    pub fn from_json(source: &Path, text: &str) -> Result<ReplayProvider, ProviderError> {
        let file: ReplayFile = serde_json::from_str(text).map_err(|error| {
            ProviderError(format!("{}: not a replay file: {error}", source.display()))
        })?;
        let mut queues: HashMap<String, std::collections::VecDeque<Recorded>> = HashMap::new();
        for response in file.responses {
            queues
                .entry(response.caller.clone())
                .or_default()
                .push_back(response);
        }
        Ok(ReplayProvider {
            source: source.to_owned(),
            queues: Mutex::new(queues),
        })
    }

    /// Reads the replay file at `path`.
    pub fn open(path: &Path) -> Result<ReplayProvider, ProviderError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ProviderError(format!("{}: {error}", path.display())))?;
        ReplayProvider::from_json(path, &text)
    }

    fn next(&self, caller: &str) -> Result<Recorded, ProviderError> {
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queues
            .get_mut(caller)
            .and_then(std::collections::VecDeque::pop_front)
            .ok_or_else(|| {
                ProviderError(format!(
                    "{}: no more recorded responses for {caller}",
                    self.source.display()
                ))
            })
    }
}

impl ModelProvider for ReplayProvider {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        _request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        let result = self.next(caller).map(|recorded| Completion {
            text: recorded.text,
            usage: TokenUsage {
                input_tokens: recorded.input_tokens,
                output_tokens: recorded.output_tokens,
            },
        });
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CompletionRequest {
        CompletionRequest {
            system: None,
            prompt: "plan".into(),
            max_tokens: 10,
        }
    }

    #[tokio::test]
    async fn responses_are_replayed_in_order_per_caller() {
        let replay = ReplayProvider::from_json(
            Path::new("demo.json"),
            r#"{"replay": "test", "responses": [
                {"caller": "a", "text": "first", "output_tokens": 3},
                {"caller": "b", "text": "other"},
                {"caller": "a", "text": "second"}]}"#,
        )
        .expect("valid");
        let first = replay.complete("a", request()).await.expect("first");
        assert_eq!(first.text, "first");
        assert_eq!(first.usage.output_tokens, 3);
        assert_eq!(
            replay.complete("b", request()).await.expect("b").text,
            "other"
        );
        assert_eq!(
            replay.complete("a", request()).await.expect("second").text,
            "second"
        );
        let error = replay
            .complete("a", request())
            .await
            .expect_err("exhausted");
        assert!(
            error.0.contains("demo.json") && error.0.contains("no more"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_replay_file_names_itself() {
        let error = ReplayProvider::from_json(Path::new("bad.json"), "{")
            .err()
            .expect("bad");
        assert!(error.0.contains("bad.json"));
    }
}
