//! Which model answers whom: the `llm` section of `.ralph/config.json`, the
//! per-plugin overrides (`bidders.<id>.llm`, `specialists[i].llm`), the
//! `model` implementer's (`implementer.llm`) and the command line's,
//! resolved once, before the issue is touched.
//!
//! Precedence, highest first: a plugin's own override, then the command
//! line's flags, then the top-level section, then the default (the
//! deterministic stand-in for `loop`, the recorded replay for `demo`). The
//! flags change the top-level section, and with it every plugin that does
//! not override the same field.

use std::path::Path;
use std::sync::Arc;

use ralph_marketplace::{Config, ConfigError};
use ralph_models::{
    Backend, BuiltinReplay, LlmSettings, ProviderKind, RedactingProvider, RoutingProvider,
    SettingsError, Unavailable, build_provider, process_environment,
};
use ralph_runtime::{ModelProvider, Recording, RecordingProvider};

use crate::implementer::Implementer;
use crate::judge::{JudgeKind, JudgeSettings};
use crate::plugins::Lineup;

/// What the caller adds to the config.
#[derive(Clone, Debug)]
pub struct LlmOptions {
    /// From the command line; merged over the top-level `llm` section.
    pub overrides: LlmSettings,
    /// The provider when neither the config nor the command line names one.
    pub default: ProviderKind,
    /// What `replay` answers from without a `replay_file` (the demo's).
    pub builtin_replay: Option<BuiltinReplay>,
    /// Where API keys are read from: the process's environment, except in
    /// tests.
    pub environment: fn(&str) -> Option<String>,
}

impl Default for LlmOptions {
    fn default() -> Self {
        Self {
            overrides: LlmSettings::default(),
            default: ProviderKind::Deterministic,
            builtin_replay: None,
            environment: process_environment,
        }
    }
}

/// Every provider a loop uses.
pub struct Models {
    routing: Arc<RoutingProvider>,
    /// What the runtime calls: the router, recorded when asked.
    plugins: Arc<dyn ModelProvider>,
    implementer_backend: Arc<Backend>,
    /// What the `model` implementer calls: its backend, recorded when asked.
    implementer: Arc<dyn ModelProvider>,
    /// Each configured plugin's provider, by plugin id (a bidder id or a
    /// specialist's id).
    by_entry: Vec<(String, Arc<Backend>)>,
    /// The top-level section's provider (what an entry without its own
    /// `llm` uses).
    default_backend: Arc<Backend>,
    recording: Option<Arc<Recording>>,
    /// The top-level model name, for pricing.
    model: Option<String>,
    /// The model judge (`scoring.judge: "model"`): its backend, and what
    /// scoring calls (redacted, recorded when asked).
    judge: Option<(Arc<Backend>, Arc<dyn ModelProvider>)>,
}

/// Providers already built, one per distinct settings, so plugins with the
/// same settings share one (and its circuit breaker).
struct Built<'a> {
    repository: &'a Path,
    options: &'a LlmOptions,
    backends: Vec<(LlmSettings, Arc<Backend>)>,
}

impl Built<'_> {
    fn backend(
        &mut self,
        settings: &LlmSettings,
        prefix: &str,
    ) -> Result<Arc<Backend>, SettingsError> {
        if let Some((_, backend)) = self.backends.iter().find(|(known, _)| known == settings) {
            return Ok(backend.clone());
        }
        let resolved = settings.resolve(prefix, self.options.default, &self.options.environment)?;
        let backend = build_provider(
            &resolved,
            self.repository,
            self.options.builtin_replay.as_ref(),
        )
        .map_err(|message| SettingsError {
            field: prefix.to_owned(),
            message,
        })?;
        tracing::info!(settings = prefix, provider = %resolved.describe(), "Model provider ready");
        let backend = Arc::new(backend);
        self.backends.push((settings.clone(), backend.clone()));
        Ok(backend)
    }
}

impl Models {
    /// Resolves and builds every provider; errors name the file (`path`)
    /// and the field. Files are relative to `repository`.
    pub fn from_config(
        config: &Config,
        path: &Path,
        repository: &Path,
        lineup: &Lineup,
        implementer: &Implementer,
        options: &LlmOptions,
    ) -> Result<Models, ConfigError> {
        let invalid = |error: SettingsError| ConfigError::Invalid {
            path: path.to_owned(),
            field: error.field,
            message: error.message,
        };
        let written = match &config.llm {
            Some(section) => LlmSettings::from_value(section, "llm").map_err(invalid)?,
            None => LlmSettings::default(),
        };
        let top = options.overrides.merged_over(&written);
        let mut built = Built {
            repository,
            options,
            backends: Vec::new(),
        };
        let default = built.backend(&top, "llm").map_err(invalid)?;
        let mut by_entry = Vec::new();
        let plugin_overrides =
            lineup
                .bidders
                .iter()
                .map(|(id, entry)| (format!("bidders.{id}"), id.clone(), entry))
                .chain(lineup.specialists.iter().enumerate().map(|(index, entry)| {
                    (format!("specialists[{index}]"), entry.id.clone(), entry)
                }));
        for (field, key, entry) in plugin_overrides {
            let backend = match &entry.llm {
                None => default.clone(),
                Some(own) => {
                    let prefix = format!("{field}.llm");
                    if own.record_file.is_some() {
                        return Err(invalid(SettingsError {
                            field: format!("{prefix}.record_file"),
                            message: "a recording is made for the whole run: set it in the top-level llm section or pass --llm-record".to_owned(),
                        }));
                    }
                    built
                        .backend(&own.merged_over(&top), &prefix)
                        .map_err(invalid)?
                }
            };
            by_entry.push((key, backend));
        }
        let implementer_backend = match implementer.llm() {
            Some(own) => {
                if own.record_file.is_some() {
                    return Err(invalid(SettingsError {
                        field: "implementer.llm.record_file".to_owned(),
                        message: "a recording is made for the whole run: set it in the top-level llm section or pass --llm-record".to_owned(),
                    }));
                }
                built
                    .backend(&own.merged_over(&top), "implementer.llm")
                    .map_err(invalid)?
            }
            None => default.clone(),
        };
        let judge_settings = JudgeSettings::from_config(config, path)?;
        let judge_backend = match (judge_settings.kind, &judge_settings.llm) {
            (JudgeKind::Heuristic, _) => None,
            (JudgeKind::Model, None) => Some(default.clone()),
            (JudgeKind::Model, Some(own)) => Some(
                built
                    .backend(&own.merged_over(&top), "scoring.llm")
                    .map_err(invalid)?,
            ),
        };
        let default_for_entries = default.clone();
        let routing = Arc::new(RoutingProvider::new(default));
        // Completions are routed by plugin id, which is unique in the
        // lineup, so two bidders running one plugin may differ.
        for (id, backend) in &by_entry {
            routing.route(id, backend.clone()).map_err(|message| {
                invalid(SettingsError {
                    field: "llm".to_owned(),
                    message,
                })
            })?;
        }
        // Redacted first, so neither a plugin, the implementer nor a
        // recording ever holds a secret the host knows.
        let mut plugins: Arc<dyn ModelProvider> =
            Arc::new(RedactingProvider::host(routing.clone()));
        let mut implementer: Arc<dyn ModelProvider> =
            Arc::new(RedactingProvider::host(implementer_backend.clone()));
        let mut recording = None;
        if let Some(file) = &top.record_file {
            let note = "Recorded by `ralph` from a live run: each plugin's answers in order, replayable with the replay provider.";
            let started = Recording::create(&repository.join(file), note).map_err(|error| {
                invalid(SettingsError {
                    field: "llm.record_file".to_owned(),
                    message: error.message,
                })
            })?;
            plugins = Arc::new(RecordingProvider::new(plugins, started.clone()));
            implementer = Arc::new(RecordingProvider::new(implementer, started.clone()));
            recording = Some(started);
        }
        let judge = judge_backend.map(|backend| {
            let mut provider: Arc<dyn ModelProvider> =
                Arc::new(RedactingProvider::host(backend.clone()));
            if let Some(started) = &recording {
                provider = Arc::new(RecordingProvider::new(provider, started.clone()));
            }
            (backend, provider)
        });
        Ok(Models {
            judge,
            model: top.model.clone(),
            routing,
            plugins,
            implementer_backend,
            implementer,
            by_entry,
            default_backend: default_for_entries,
            recording,
        })
    }

    /// The top-level model name (after the command line's overrides), by
    /// which completions are priced.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// What answers the plugins that have no `llm` section of their own,
    /// and whether it is a stand-in (the deterministic one, or a replay)
    /// rather than a real model.
    pub fn plugins_provider(&self) -> (&str, bool) {
        (
            self.default_backend.description(),
            self.default_backend.model().is_none(),
        )
    }

    /// The model an entry's own `llm` section makes it use (a bidder id or
    /// a specialist's id), for pricing its calls; `None` when it uses the
    /// top-level provider, or a stand-in.
    pub fn own_model(&self, id: &str) -> Option<&str> {
        let (_, backend) = self.by_entry.iter().find(|(entry, _)| entry == id)?;
        if Arc::ptr_eq(backend, &self.default_backend) {
            return None;
        }
        backend.model()
    }

    /// The model the `model` implementer's own `llm` section makes it use.
    pub fn implementer_model(&self) -> Option<&str> {
        if Arc::ptr_eq(&self.implementer_backend, &self.default_backend) {
            return None;
        }
        self.implementer_backend.model()
    }

    /// What the runtime calls for every plugin's `complete`.
    pub fn plugins(&self) -> Arc<dyn ModelProvider> {
        self.plugins.clone()
    }

    /// What the model judge calls, when `scoring.judge` is `model`.
    pub fn judge(&self) -> Option<&dyn ModelProvider> {
        self.judge.as_ref().map(|(_, provider)| provider.as_ref())
    }

    /// The model the judge's calls are priced by: its own `scoring.llm`
    /// model, else the top-level one.
    pub fn judge_model(&self) -> Option<&str> {
        let (backend, _) = self.judge.as_ref()?;
        if Arc::ptr_eq(backend, &self.default_backend) {
            return self.model();
        }
        backend.model()
    }

    /// Why the judge's provider cannot be used this round, if it cannot.
    pub fn judge_unavailable(&self) -> Option<Unavailable> {
        self.judge.as_ref()?.0.unavailable()
    }

    /// What the `model` implementer calls.
    pub fn implementer(&self) -> &dyn ModelProvider {
        self.implementer.as_ref()
    }

    /// Where answers are recorded, if they are.
    pub fn recording(&self) -> Option<&Path> {
        self.recording.as_deref().map(Recording::path)
    }

    /// A new round: every provider's circuit breaker closes, and a past
    /// usage limit is forgotten.
    pub fn new_round(&self) {
        self.routing.new_round();
        self.implementer_backend.new_round();
        if let Some((backend, _)) = &self.judge {
            backend.new_round();
        }
    }

    /// Whether the provider of the plugin configured as `key` (a bidder id)
    /// made a call wait for its usage limit this round.
    pub fn waited_for_usage_limit(&self, key: &str) -> bool {
        self.by_entry
            .iter()
            .find(|(known, _)| known == key)
            .is_some_and(|(_, backend)| backend.waited_for_usage_limit())
    }

    /// Why the plugins' providers cannot be used this round, if they cannot.
    pub fn plugins_unavailable(&self) -> Option<Unavailable> {
        self.routing.unavailable()
    }

    /// The implementer's model's context window, when its server says.
    pub async fn implementer_context_window(&self) -> Option<u32> {
        self.implementer_backend.context_window().await
    }

    /// Why the implementer's provider cannot be used this round, if it cannot.
    pub fn implementer_unavailable(&self) -> Option<Unavailable> {
        self.implementer_backend.unavailable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ralph_runtime::CompletionRequest;

    fn models(json: &str, options: &LlmOptions) -> Result<Models, ConfigError> {
        let config = Config::from_slice(json.as_bytes()).expect("marketplace config");
        let path = Path::new(".ralph/config.json");
        let lineup = Lineup::from_config(&config, path)?;
        let implementer = Implementer::from_config(&config, path)?;
        Models::from_config(
            &config,
            path,
            Path::new("."),
            &lineup,
            &implementer,
            options,
        )
    }

    fn field_of(json: &str) -> String {
        match models(json, &LlmOptions::default()) {
            Err(ConfigError::Invalid { field, .. }) => field,
            Err(other) => panic!("expected a field error, got {other}"),
            Ok(_) => panic!("expected a field error, got a valid config"),
        }
    }

    fn request() -> CompletionRequest {
        CompletionRequest {
            system: None,
            prompt: "plan".into(),
            max_tokens: 10,
        }
    }

    fn replay_of(answers: &[(&str, &str)]) -> BuiltinReplay {
        let responses: Vec<serde_json::Value> = answers
            .iter()
            .map(|(caller, text)| serde_json::json!({"caller": caller, "text": text}))
            .collect();
        BuiltinReplay {
            name: "built-in.json".into(),
            text: serde_json::json!({"replay": "test", "responses": responses}).to_string(),
        }
    }

    #[test]
    fn errors_in_every_llm_section_name_their_field() {
        assert_eq!(
            field_of(r#"{"llm": {"temperature": "hot"}}"#),
            "llm.temperature"
        );
        assert_eq!(
            field_of(
                r#"{"num_bots": 2, "bidders": {"bidder_2": {"plugin": "bundled:tests-first"},
                    "bidder_1": {"plugin": "bundled:persona-planner",
                    "llm": {"provider": "openai", "base_url": "http://127.0.0.1:1/v1"}}}}"#
            ),
            "bidders.bidder_1.llm.model"
        );
        assert_eq!(
            field_of(
                r#"{"num_bots": 2, "bidders": {"bidder_2": {"plugin": "bundled:tests-first"},
                    "bidder_1": {"plugin": "bundled:persona-planner",
                    "llm": {"record_file": "x.json"}}}}"#
            ),
            "bidders.bidder_1.llm.record_file"
        );
        assert_eq!(
            field_of(r#"{"implementer": {"kind": "model", "llm": {"timeout_secs": 0}}}"#),
            "implementer.llm.timeout_secs"
        );
        assert_eq!(
            field_of(r#"{"llm": {"provider": "replay"}}"#),
            "llm",
            "a replay without a file and without a built-in replay"
        );
    }

    #[tokio::test]
    async fn each_plugin_is_answered_by_its_own_provider() {
        let options = LlmOptions {
            default: ProviderKind::Replay,
            builtin_replay: Some(replay_of(&[
                ("planner", "replayed"),
                ("implementer", "diff"),
            ])),
            ..LlmOptions::default()
        };
        let models = models(
            r#"{"num_bots": 2, "bidders": {
                "bidder_1": {"plugin": "bundled:persona-planner"},
                "bidder_2": {"plugin": "bundled:tests-first", "llm": {"provider": "deterministic"}}}}"#,
            &options,
        )
        .expect("valid");
        let plugins = models.plugins();
        let caller = |id, name| ralph_runtime::ModelCaller { id: Some(id), name };
        assert_eq!(
            plugins
                .complete_for(caller("bidder_1", "planner"), request())
                .await
                .expect("replayed")
                .text,
            "replayed"
        );
        let tester = plugins
            .complete_for(caller("bidder_2", "tester"), request())
            .await
            .expect("answered");
        assert!(
            tester.text.starts_with("Deterministic answer"),
            "{}",
            tester.text
        );
        assert_eq!(
            models
                .implementer()
                .complete("implementer", request())
                .await
                .expect("the default replay")
                .text,
            "diff"
        );
    }

    #[test]
    fn command_line_overrides_reach_plugins_without_their_own() {
        let options = LlmOptions {
            overrides: LlmSettings {
                provider: Some(ProviderKind::Deterministic),
                ..LlmSettings::default()
            },
            ..LlmOptions::default()
        };
        // The config's replay is replaced by the flag's provider...
        let models = models(
            r#"{"llm": {"provider": "replay", "replay_file": "missing.json"}}"#,
            &options,
        );
        assert!(models.is_ok(), "the replay file is never read");
        // ...but a plugin's own override still wins.
        let own = r#"{"num_bots": 2, "bidders": {"bidder_2": {"plugin": "bundled:tests-first"},
            "bidder_1": {"plugin": "bundled:persona-planner",
            "llm": {"provider": "replay", "replay_file": "missing.json"}}}}"#;
        let Err(ConfigError::Invalid { field, message, .. }) = self::models(own, &options) else {
            panic!("the bidder's own replay is read");
        };
        assert_eq!(field, "bidders.bidder_1.llm");
        assert!(message.contains("missing.json"), "{message}");
    }

    #[tokio::test]
    async fn completions_are_routed_by_plugin_id_not_by_the_name_a_plugin_reports() {
        let options = LlmOptions {
            default: ProviderKind::Replay,
            builtin_replay: Some(replay_of(&[("persona-planner", "replayed")])),
            ..LlmOptions::default()
        };
        // Two bidders running one plugin may have their own settings.
        let models = models(
            r#"{"num_bots": 2, "bidders": {
                "bidder_1": {"plugin": "bundled:persona-planner"},
                "bidder_2": {"plugin": "bundled:persona-planner",
                             "llm": {"provider": "deterministic"}}}}"#,
            &options,
        )
        .expect("two bidders with one plugin and their own settings");
        let plugins = models.plugins();
        let caller = |id| ralph_runtime::ModelCaller {
            id: Some(id),
            name: "persona-planner",
        };
        let second = plugins
            .complete_for(caller("bidder_2"), request())
            .await
            .expect("answered");
        assert!(
            second.text.starts_with("Deterministic answer"),
            "{}",
            second.text
        );
        assert_eq!(
            plugins
                .complete_for(caller("bidder_1"), request())
                .await
                .expect("replayed")
                .text,
            "replayed",
            "the same name from another entry takes that entry's provider"
        );
    }

    #[tokio::test]
    async fn a_recording_holds_every_answer_in_the_replay_format() {
        let directory = tempfile::tempdir().expect("temp dir");
        let config =
            Config::from_slice(br#"{"llm": {"record_file": "answers.json"}}"#).expect("config");
        let path = Path::new(".ralph/config.json");
        let models = Models::from_config(
            &config,
            path,
            directory.path(),
            &Lineup::from_config(&config, path).expect("lineup"),
            &Implementer::Patch,
            &LlmOptions::default(),
        )
        .expect("valid");
        let answer = models
            .plugins()
            .complete("planner", request())
            .await
            .expect("answer");
        let recorded = directory.path().join("answers.json");
        assert_eq!(models.recording(), Some(recorded.as_path()));
        let replay = ralph_runtime::ReplayProvider::open(&recorded).expect("replayable");
        assert_eq!(
            replay
                .complete("planner", request())
                .await
                .expect("replayed"),
            answer
        );
    }
}
