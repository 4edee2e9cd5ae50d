//! Every lineup in `examples/lineups/` is a valid config for the loop: it
//! is read through the loop's own config loading, with the keys its
//! providers need present.

use std::path::{Path, PathBuf};

use ralph_broker::llm::LlmOptions;
use ralph_broker::loop_config::LoopConfig;
use ralph_marketplace::Layout;

fn lineups() -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lineups");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .expect("examples/lineups")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    files
}

/// Keys for every provider, none of them real.
fn with_keys(name: &str) -> Option<String> {
    name.ends_with("_API_KEY")
        .then(|| "sk-test-not-a-real-key".to_owned())
}

fn read(config: &str) -> Result<LoopConfig, String> {
    let directory = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(directory.path().join(".ralph")).expect("mkdir");
    std::fs::write(directory.path().join(".ralph/config.json"), config).expect("write");
    let options = LlmOptions {
        environment: with_keys,
        ..LlmOptions::default()
    };
    LoopConfig::read(&Layout::new(directory.path()), &options).map_err(|error| error.to_string())
}

#[test]
fn every_lineup_in_the_examples_is_a_config_the_loop_accepts() {
    let files = lineups();
    assert!(!files.is_empty(), "examples/lineups has no .json file");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let config = read(&text).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        assert!(
            config.lineup.bidders.len() >= 2,
            "{}: a lineup has bidders",
            file.display()
        );
    }
}

#[test]
fn the_three_providers_lineup_gives_one_plugin_two_models() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lineups/three-providers.json"),
    )
    .expect("read");
    let config = read(&text).expect("valid");
    let plugin_of = |id: &str| {
        config
            .lineup
            .bidders
            .iter()
            .find(|(bidder, _)| bidder == id)
            .map(|(_, entry)| entry.source.label())
            .expect("bidder")
    };
    assert_eq!(plugin_of("bidder_1"), plugin_of("bidder_4"));
    let model_of = |id: &str| {
        config
            .lineup
            .bidders
            .iter()
            .find(|(bidder, _)| bidder == id)
            .and_then(|(_, entry)| entry.llm.as_ref())
            .and_then(|llm| llm.model.clone())
    };
    assert_eq!(model_of("bidder_1"), None, "the top-level model");
    assert_eq!(model_of("bidder_4").as_deref(), Some("gpt-4.1-mini"));
}

#[test]
fn a_lineup_with_a_mistake_is_refused_naming_the_field() {
    let error = read(
        r#"{"num_bots": 2, "bidders": {
            "bidder_1": {"plugin": "bundled:smallest-change"},
            "bidder_2": {"plugin": "bundled:smallest-change", "llm": {"provider": "gemini"}}}}"#,
    )
    .err()
    .expect("refused");
    assert!(error.contains("bidders.bidder_2.llm"), "{error}");
}
