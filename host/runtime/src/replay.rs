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
//!
//! [`RecordingProvider`] writes such a file from a live run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::provider::{ModelProvider, ProviderError};
use crate::types::{Completion, CompletionRequest, TokenUsage};

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ReplayFile {
    /// A note saying what the recording is (shown nowhere; for readers).
    replay: String,
    responses: Vec<Recorded>,
}

#[derive(Clone, Deserialize, Serialize)]
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
            ProviderError::new(format!("{}: not a replay file: {error}", source.display()))
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
            .map_err(|error| ProviderError::new(format!("{}: {error}", path.display())))?;
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
                ProviderError::new(format!(
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

/// A replay file being written: every answer is appended and the whole
/// file is rewritten atomically at once, so an interrupted run keeps every
/// answer it got.
pub struct Recording {
    path: PathBuf,
    file: Mutex<ReplayFile>,
}

impl Recording {
    /// Starts a recording at `path` and writes it (empty) at once, so a path
    /// that cannot be written fails before any model is called. `note` says
    /// where the answers come from.
    pub fn create(path: &Path, note: &str) -> Result<Arc<Recording>, ProviderError> {
        let recording = Recording {
            path: path.to_owned(),
            file: Mutex::new(ReplayFile {
                replay: note.to_owned(),
                responses: Vec::new(),
            }),
        };
        {
            let file = recording.lock();
            recording.write(&file)?;
        }
        Ok(Arc::new(recording))
    }

    /// Where the recording is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReplayFile> {
        self.file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, caller: &str, completion: &Completion) -> Result<(), ProviderError> {
        let mut file = self.lock();
        file.responses.push(Recorded {
            caller: caller.to_owned(),
            text: completion.text.clone(),
            input_tokens: completion.usage.input_tokens,
            output_tokens: completion.usage.output_tokens,
        });
        self.write(&file)
    }

    fn write(&self, file: &ReplayFile) -> Result<(), ProviderError> {
        let failed = |error: &dyn std::fmt::Display| {
            ProviderError::new(format!("{}: {error}", self.path.display()))
        };
        let mut text = serde_json::to_string_pretty(file).map_err(|error| failed(&error))?;
        text.push('\n');
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let temporary =
            tempfile::NamedTempFile::new_in(directory).map_err(|error| failed(&error))?;
        std::fs::write(temporary.path(), text).map_err(|error| failed(&error))?;
        temporary
            .persist(&self.path)
            .map_err(|error| failed(&error.error))?;
        Ok(())
    }
}

/// Answers from `inner` and records every answer, per caller, in the format
/// [`ReplayProvider`] reads. Failed calls are not recorded.
pub struct RecordingProvider {
    inner: Arc<dyn ModelProvider>,
    recording: Arc<Recording>,
}

impl RecordingProvider {
    /// Records `inner`'s answers into `recording` (which several providers
    /// may share).
    pub fn new(inner: Arc<dyn ModelProvider>, recording: Arc<Recording>) -> Self {
        Self { inner, recording }
    }
}

impl ModelProvider for RecordingProvider {
    fn complete<'a>(
        &'a self,
        caller: &'a str,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        self.complete_for(
            crate::provider::ModelCaller {
                id: None,
                name: caller,
            },
            request,
        )
    }

    /// Records under the caller's display name, as replays read it, and
    /// hands the caller on whole, so a router behind still routes by id.
    fn complete_for<'a>(
        &'a self,
        caller: crate::provider::ModelCaller<'a>,
        request: CompletionRequest,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let completion = self.inner.complete_for(caller, request).await?;
            let caller = caller.name;
            if let Err(error) = self.recording.push(caller, &completion) {
                // The answer is good; losing it from the recording must not
                // cost the plugin its turn.
                tracing::error!(%error, "Could not record a model answer");
            }
            Ok(completion)
        })
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
            error.message.contains("demo.json") && error.message.contains("no more"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_recording_replays_the_same_answers_per_caller() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("recorded.json");
        let recording = Recording::create(&path, "test").expect("create");
        let empty = ReplayProvider::open(&path).expect("an empty recording is a replay");
        assert!(empty.complete("a", request()).await.is_err());
        let live: Arc<dyn ModelProvider> = Arc::new(crate::DeterministicProvider::new());
        let recorder = RecordingProvider::new(live.clone(), recording);
        let mut prompts = Vec::new();
        for (caller, prompt) in [("a", "one"), ("b", "two"), ("a", "three")] {
            let mut asked = request();
            asked.prompt = prompt.to_owned();
            let answer = recorder.complete(caller, asked).await.expect("answer");
            prompts.push((caller, answer));
        }
        // Written after every call: readable now, without any flush or drop.
        let replay = ReplayProvider::open(&path).expect("replay");
        for (caller, answer) in prompts {
            assert_eq!(
                replay.complete(caller, request()).await.expect("replayed"),
                answer
            );
        }
        assert!(replay.complete("a", request()).await.is_err());
    }

    #[test]
    fn a_recording_that_cannot_be_written_fails_at_once() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("missing/dir/recorded.json");
        let error = Recording::create(&path, "test").err().expect("unwritable");
        assert!(error.message.contains("recorded.json"), "{error}");
    }

    #[test]
    fn a_bad_replay_file_names_itself() {
        let error = ReplayProvider::from_json(Path::new("bad.json"), "{")
            .err()
            .expect("bad");
        assert!(error.message.contains("bad.json"));
    }
}
