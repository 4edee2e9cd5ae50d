//! `ralph plugin list|inspect|new`, driven through the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Repository, ralph_in, text};
use serde_json::{Value, json};

/// The keys of every `plugin list --json` entry, in order.
const LIST_KEYS: [&str; 14] = [
    "role",
    "kind",
    "check",
    "world",
    "name",
    "version",
    "description",
    "source",
    "argv",
    "category",
    "timeout_seconds",
    "capabilities",
    "limits",
    "error",
];

/// The keys of `plugin inspect --json`.
const INSPECT_KEYS: [&str; 8] = [
    "world",
    "contract_version",
    "name",
    "version",
    "description",
    "capabilities",
    "imports",
    "exports",
];

/// The smallest valid component: the header of an empty component, which
/// implements no world.
const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

fn bundled_bytes(name: &str) -> &'static [u8] {
    ralph_plugins_bundle::find(name)
        .unwrap_or_else(|| panic!("{name} is not bundled"))
        .bytes
}

/// Sets the given sections of the repository's `.ralph/config.json`.
fn configure(repository: &Repository, sections: Value) {
    let path = repository.path().join(".ralph/config.json");
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read config")).expect("config JSON");
    for (key, value) in sections.as_object().expect("sections are an object") {
        config[key] = value.clone();
    }
    std::fs::write(&path, config.to_string()).expect("write config");
}

/// Copies a bundled plugin into the repository at `relative`.
fn install(repository: &Repository, relative: &str, bundled: &str) {
    let path = repository.path().join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bundled_bytes(bundled)).expect("write component");
}

fn list_json(repository: &Repository) -> (Output, Vec<Value>) {
    let output = repository.ralph(&["plugin", "list", "--json"]);
    let entries: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("list --json is not an array: {error}"));
    (output, entries)
}

fn entry<'a>(entries: &'a [Value], role: &str) -> &'a Value {
    entries
        .iter()
        .find(|entry| entry["role"] == role)
        .unwrap_or_else(|| panic!("no entry with role {role}"))
}

fn assert_fits_80_columns(stdout: &str) {
    for line in stdout.lines() {
        assert!(line.chars().count() <= 80, "line over 80 columns: {line:?}");
    }
}

#[test]
fn list_shows_the_default_lineup_and_its_json_parses() {
    let repository = Repository::set_up();
    let output = repository.ralph(&["plugin", "list"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        stdout.starts_with("3 bidders, 2 specialists, 3 checks from .ralph/config.json"),
        "{stdout}"
    );
    for name in [
        "smallest-change",
        "tests-first",
        "persona-planner",
        "rust-conventions",
        "change-risk",
        "diff-size",
        "secrets",
        "debug-markers",
    ] {
        assert!(
            stdout.contains(&format!("bundled:{name}")),
            "{name}: {stdout}"
        );
    }
    assert!(!stdout.contains("warning"), "{stdout}");
    assert_fits_80_columns(&stdout);

    let (output, entries) = list_json(&repository);
    assert_eq!(output.status.code(), Some(0));
    let roles: Vec<&str> = entries
        .iter()
        .map(|entry| entry["role"].as_str().expect("role is a string"))
        .collect();
    assert_eq!(
        roles,
        [
            "bidder_1",
            "bidder_2",
            "bidder_3",
            "specialist",
            "specialist",
            "check",
            "check",
            "check"
        ]
    );
    for entry in &entries {
        let keys: Vec<&str> = entry
            .as_object()
            .expect("entries are objects")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = LIST_KEYS.to_vec();
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert!(entry["error"].is_null(), "{entry}");
    }
    let first = entry(&entries, "bidder_1");
    assert_eq!(first["name"], "smallest-change");
    assert_eq!(first["world"], "bidder");
    assert_eq!(first["source"], "bundled:smallest-change");
    assert_eq!(first["version"], "0.1.0");
    assert_eq!(
        first["capabilities"]["effective"],
        json!(["repository", "complete"])
    );
    assert_eq!(
        first["limits"],
        json!({"memory_mib": 256, "deadline_ms": 60000, "output_kib": 1024})
    );
}

#[test]
fn list_caches_compiled_components_in_the_users_cache_not_the_repository() {
    let repository = Repository::set_up();
    configure(&repository, json!({"specialists": [], "checks": []}));
    let cache = tempfile::tempdir().expect("temp dir");
    let output = repository
        .command(&["plugin", "list"])
        .env("RALPH_CACHE_DIR", cache.path())
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let cached = std::fs::read_dir(cache.path())
        .expect("the cache directory exists")
        .count();
    assert_eq!(cached, 3, "one entry per distinct bidder component");
    assert!(!repository.path().join(".ralph/cache").exists());
}

#[test]
fn list_shows_a_configured_file_plugin_and_command_checks() {
    let repository = Repository::set_up();
    install(&repository, ".ralph/plugins/mine.wasm", "tests-first");
    configure(
        &repository,
        json!({
            "bidders": {
                "bidder_1": {"plugin": "bundled:smallest-change", "grants": ["repository"]},
                "bidder_2": {"plugin": ".ralph/plugins/mine.wasm", "grants": ["consult"],
                             "limits": {"deadline_ms": 500, "memory_mib": 64}},
                "bidder_3": {"plugin": "bundled:tests-first", "grants": ["consult"]}
            },
            "specialists": [],
            "checks": [{"name": "format", "argv": ["cargo", "fmt", "--check"],
                        "category": "format"}]
        }),
    );
    let output = repository.ralph(&["plugin", "list"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.contains(".ralph/plugins/mine.wasm"), "{stdout}");
    assert!(stdout.contains("runs: cargo fmt --check"), "{stdout}");
    assert!(
        stdout.contains("category format, timeout 600 s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("limits: memory 64 MiB, deadline 500 ms, output 1 MiB"),
        "{stdout}"
    );
    assert_fits_80_columns(&stdout);

    let (_, entries) = list_json(&repository);
    let mine = entry(&entries, "bidder_2");
    assert_eq!(mine["kind"], "plugin");
    assert_eq!(mine["source"], ".ralph/plugins/mine.wasm");
    assert_eq!(mine["name"], "tests-first");
    assert_eq!(mine["capabilities"]["granted"], json!(["consult"]));
    assert_eq!(mine["limits"]["deadline_ms"], 500);
    assert_eq!(mine["limits"]["memory_mib"], 64);
    let format = entry(&entries, "check");
    assert_eq!(format["kind"], "command");
    assert_eq!(format["check"], "format");
    assert_eq!(format["argv"], json!(["cargo", "fmt", "--check"]));
    assert_eq!(format["category"], "format");
    assert!(format["world"].is_null());
}

#[test]
fn a_plugin_that_fails_to_load_is_listed_with_its_error_and_exits_1() {
    let repository = Repository::set_up();
    configure(
        &repository,
        json!({
            "bidders": {
                "bidder_1": {"plugin": "bundled:smallest-change"},
                "bidder_2": {"plugin": ".ralph/plugins/absent.wasm"},
                "bidder_3": {"plugin": "bundled:tests-first"}
            },
            "specialists": [],
            "checks": []
        }),
    );
    let output = repository.ralph(&["plugin", "list"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error: cannot read plugin"), "{stdout}");
    assert!(stdout.contains("absent.wasm"), "{stdout}");
    assert!(
        stdout.contains("1 of 3 plugins failed to load."),
        "{stdout}"
    );
    assert!(
        stdout.contains("tests-first"),
        "the bidders after it are listed"
    );
    assert_fits_80_columns(&stdout);

    let (output, entries) = list_json(&repository);
    assert_eq!(output.status.code(), Some(1));
    let absent = entry(&entries, "bidder_2");
    assert!(absent["name"].is_null());
    assert!(absent["capabilities"]["requested"].is_null());
    let error = absent["error"].as_str().expect("an error message");
    assert!(error.contains("absent.wasm"), "{error}");
    assert_eq!(entry(&entries, "bidder_3")["name"], "tests-first");
}

#[test]
fn a_file_that_is_not_a_component_is_listed_with_its_error() {
    let repository = Repository::set_up();
    std::fs::create_dir_all(repository.path().join(".ralph/plugins")).expect("mkdir");
    std::fs::write(
        repository.path().join(".ralph/plugins/garbage.wasm"),
        b"not wasm",
    )
    .expect("write");
    configure(
        &repository,
        json!({"specialists": [{"plugin": ".ralph/plugins/garbage.wasm"}], "checks": []}),
    );
    let (output, entries) = list_json(&repository);
    assert_eq!(output.status.code(), Some(1));
    let error = entry(&entries, "specialist")["error"]
        .as_str()
        .expect("an error message");
    assert!(error.contains(".ralph/plugins/garbage.wasm"), "{error}");
    assert!(
        error.contains("not a valid WebAssembly component"),
        "{error}"
    );
}

#[test]
fn a_component_of_the_wrong_world_is_listed_with_what_is_missing() {
    let repository = Repository::set_up();
    install(&repository, ".ralph/plugins/check.wasm", "secrets");
    configure(
        &repository,
        json!({
            "bidders": {
                "bidder_1": {"plugin": ".ralph/plugins/check.wasm"},
                "bidder_2": {"plugin": "bundled:tests-first"},
                "bidder_3": {"plugin": "bundled:tests-first"}
            },
            "specialists": [],
            "checks": []
        }),
    );
    let (output, entries) = list_json(&repository);
    assert_eq!(output.status.code(), Some(1));
    let error = entry(&entries, "bidder_1")["error"]
        .as_str()
        .expect("an error message");
    assert!(
        error.contains(".ralph/plugins/check.wasm does not implement the `bidder` world"),
        "{error}"
    );
    assert!(
        error.contains("propose"),
        "names the missing export: {error}"
    );
}

#[test]
fn a_bad_plugin_config_exits_2_naming_the_file_and_field() {
    let repository = Repository::set_up();
    configure(
        &repository,
        json!({"bidders": {
            "bidder_1": {"plugin": "bundled:nope"},
            "bidder_2": {"plugin": "bundled:tests-first"},
            "bidder_3": {"plugin": "bundled:tests-first"}
        }}),
    );
    let output = repository.ralph(&["plugin", "list"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(".ralph/config.json"), "{stderr}");
    assert!(stderr.contains("bidders.bidder_1.plugin"), "{stderr}");
    assert!(output.stdout.is_empty());

    configure(
        &repository,
        json!({"bidders": null, "checks": [{"name": "t", "argv": ["true"], "category": "vibes"}]}),
    );
    let output = repository.ralph(&["plugin", "list", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("checks[0].category"));

    configure(&repository, json!({"bidders": 3, "checks": null}));
    let output = repository.ralph(&["plugin", "list"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("field `bidders`"), "{stderr}");
}

#[test]
fn list_without_a_marketplace_exits_2_and_says_to_run_setup() {
    let repository = Repository::empty();
    let output = repository.ralph(&["plugin", "list"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("ralph marketplace setup"));
}

#[test]
fn a_capability_requested_but_not_granted_is_flagged() {
    let repository = Repository::set_up();
    configure(
        &repository,
        json!({
            "bidders": {
                "bidder_1": {"plugin": "bundled:persona-planner", "grants": ["repository"]},
                "bidder_2": {"plugin": "bundled:tests-first",
                             "grants": ["repository", "consult", "complete"]},
                "bidder_3": {"plugin": "bundled:smallest-change", "grants": ["repository", "complete"]}
            },
            "specialists": [],
            "checks": []
        }),
    );
    let output = repository.ralph(&["plugin", "list"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        stdout.contains("warning: complete requested but not granted; calls to it will be denied"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("warning:").count(), 1, "{stdout}");
    assert_fits_80_columns(&stdout);

    let (_, entries) = list_json(&repository);
    let planner = entry(&entries, "bidder_1");
    assert_eq!(
        planner["capabilities"],
        json!({
            "requested": ["repository", "complete"],
            "granted": ["repository"],
            "effective": ["repository"],
            "not_granted": ["complete"]
        })
    );
    assert_eq!(
        entry(&entries, "bidder_2")["capabilities"]["not_granted"],
        json!([])
    );
}

#[test]
fn inspect_reports_a_bundled_plugin_written_to_a_file() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("secrets.wasm");
    std::fs::write(&file, bundled_bytes("secrets")).expect("write");
    let file_argument = file.to_str().expect("a UTF-8 path");

    let output = ralph_in(
        directory.path(),
        &["plugin", "inspect", file_argument, "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("inspect --json is JSON");
    let keys: Vec<&str> = report
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = INSPECT_KEYS.to_vec();
    expected.sort_unstable();
    let mut sorted_keys = keys;
    sorted_keys.sort_unstable();
    assert_eq!(sorted_keys, expected);
    assert_eq!(report["world"], "check");
    assert_eq!(report["contract_version"], "0.2.0");
    assert_eq!(report["name"], "secrets");
    assert_eq!(report["exports"], json!(["metadata", "run"]));
    assert!(
        report["imports"]
            .as_array()
            .expect("imports")
            .contains(&json!("ralph:plugin/types@0.2.0"))
    );

    let output = ralph_in(directory.path(), &["plugin", "inspect", "secrets.wasm"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.starts_with("secrets 0.1.0 (check)"), "{stdout}");
    assert!(
        stdout.contains("\ncontract: ralph:plugin@0.2.0\n"),
        "{stdout}"
    );
    assert!(stdout.contains("exports:\n  metadata\n  run\n"), "{stdout}");
}

#[test]
fn inspect_accepts_a_bundled_name() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = ralph_in(
        directory.path(),
        &["plugin", "inspect", "bundled:persona-planner", "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["world"], "bidder");
    assert_eq!(report["name"], "persona-planner");
    assert_eq!(report["capabilities"], json!(["repository", "complete"]));

    let output = ralph_in(directory.path(), &["plugin", "inspect", "bundled:nope"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("bundled:nope"), "{stderr}");
    assert!(
        stderr.contains("smallest-change"),
        "lists what is bundled: {stderr}"
    );
}

#[test]
fn inspect_uses_the_users_cache() {
    let repository = Repository::set_up();
    let cache = tempfile::tempdir().expect("temp dir");
    let output = repository
        .command(&["plugin", "inspect", "bundled:diff-size"])
        .env("RALPH_CACHE_DIR", cache.path())
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let cached = std::fs::read_dir(cache.path())
        .expect("the cache directory exists")
        .count();
    assert_eq!(cached, 1);
    assert!(!repository.path().join(".ralph/cache").exists());
}

#[test]
fn a_cache_directory_inside_the_repository_is_refused_with_a_warning() {
    let repository = Repository::set_up();
    let inside = repository.path().join(".ralph/cache/plugins");
    let output = repository
        .command(&["-v", "plugin", "inspect", "bundled:diff-size"])
        .env("RALPH_CACHE_DIR", &inside)
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("Not caching compiled plugins"), "{stderr}");
    assert!(stderr.contains("inside the repository"), "{stderr}");
    assert!(!inside.exists(), "nothing is created inside the repository");
}

#[test]
fn inspect_refuses_bytes_that_are_not_a_component_naming_the_file() {
    let directory = tempfile::tempdir().expect("temp dir");
    std::fs::write(directory.path().join("garbage.wasm"), b"\x7fELF garbage").expect("write");
    let output = ralph_in(directory.path(), &["plugin", "inspect", "garbage.wasm"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("garbage.wasm"), "{stderr}");
    assert!(
        stderr.contains("not a valid WebAssembly component"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn inspect_refuses_a_component_of_no_world_naming_what_is_missing() {
    let directory = tempfile::tempdir().expect("temp dir");
    std::fs::write(directory.path().join("empty.wasm"), EMPTY_COMPONENT).expect("write");
    let output = ralph_in(
        directory.path(),
        &["plugin", "inspect", "empty.wasm", "--json"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("empty.wasm"), "{stderr}");
    assert!(
        stderr.contains("missing the exports of any world"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn inspect_of_a_missing_file_exits_2_naming_it() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = ralph_in(directory.path(), &["plugin", "inspect", "absent.wasm"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("absent.wasm: cannot read the component"),
        "{stderr}"
    );
}

#[test]
fn new_creates_a_crate_of_each_kind_and_refuses_an_existing_directory() {
    let directory = tempfile::tempdir().expect("temp dir");
    let parent = directory.path().join("plugins");
    let parent_argument = parent.to_str().expect("a UTF-8 path");
    for (kind, name, export) in [
        ("bidder", "my-bidder", "export_bidder!"),
        ("specialist", "my-specialist", "export_specialist!"),
        ("check", "my-check", "export_check!"),
    ] {
        let output = ralph_in(
            directory.path(),
            &[
                "plugin",
                "new",
                "--kind",
                kind,
                name,
                "--dir",
                parent_argument,
            ],
        );
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let crate_directory = parent.join(name);
        let manifest =
            std::fs::read_to_string(crate_directory.join("Cargo.toml")).expect("Cargo.toml");
        assert!(
            manifest.contains(&format!("features = [\"{kind}\"]")),
            "{manifest}"
        );
        assert!(manifest.contains("plugins/sdk"), "{manifest}");
        let source =
            std::fs::read_to_string(crate_directory.join("src/lib.rs")).expect("src/lib.rs");
        assert!(source.contains(export), "{source}");
        assert!(
            stdout.contains("cargo build --target wasm32-wasip2 --release"),
            "{stdout}"
        );
        let artifact = format!(
            "ralph plugin inspect target/wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        );
        assert!(stdout.contains(&artifact), "{stdout}");
        assert_fits_80_columns(&stdout.replace(&crate_directory.display().to_string(), "DIR"));

        let before = std::fs::read(crate_directory.join("src/lib.rs")).expect("read");
        let output = ralph_in(
            directory.path(),
            &[
                "plugin",
                "new",
                "--kind",
                kind,
                name,
                "--dir",
                parent_argument,
            ],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&crate_directory.display().to_string()),
            "{stderr}"
        );
        assert!(stderr.contains("already exists"), "{stderr}");
        assert_eq!(
            std::fs::read(crate_directory.join("src/lib.rs")).expect("read"),
            before
        );
    }
}

#[test]
fn new_refuses_a_bad_name_and_an_sdk_directory_without_a_crate() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = ralph_in(
        directory.path(),
        &["plugin", "new", "--kind", "check", "My_Check"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("My_Check"));
    assert!(!directory.path().join("My_Check").exists());

    let output = ralph_in(
        directory.path(),
        &[
            "plugin", "new", "--kind", "check", "my-check", "--sdk", "nowhere",
        ],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--sdk nowhere"), "{stderr}");
    assert!(!directory.path().join("my-check").exists());

    let output = ralph_in(
        directory.path(),
        &["plugin", "new", "--kind", "oracle", "x"],
    );
    assert_eq!(output.status.code(), Some(2));
}

/// The workspace's SDK, as `--sdk` would name it.
fn source_tree_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/sdk")
        .canonicalize()
        .expect("the SDK is in the source tree")
}

#[test]
fn new_with_sdk_writes_that_path_into_the_manifest() {
    let directory = tempfile::tempdir().expect("temp dir");
    let sdk = source_tree_sdk();
    let output = ralph_in(
        directory.path(),
        &[
            "plugin",
            "new",
            "--kind",
            "specialist",
            "helper",
            "--sdk",
            sdk.to_str().expect("a UTF-8 path"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let manifest =
        std::fs::read_to_string(directory.path().join("helper/Cargo.toml")).expect("Cargo.toml");
    assert!(
        manifest.contains(&format!("path = {:?}", sdk.display().to_string())),
        "{manifest}"
    );
}

/// Builds the crate in `crate_directory` for `wasm32-wasip2`, as a user would.
fn build_plugin(crate_directory: &Path, target_directory: &Path) {
    if let Err(error) = ralph_guest_build::build_standalone(crate_directory, target_directory) {
        panic!("{error}");
    }
}

#[test]
fn a_scaffolded_bidder_builds_and_passes_inspect() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = ralph_in(
        directory.path(),
        &["plugin", "new", "--kind", "bidder", "fresh-bidder"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-new-target");
    build_plugin(&directory.path().join("fresh-bidder"), &target);
    let artifact = target.join("wasm32-wasip2/release/fresh_bidder.wasm");
    let output = ralph_in(
        directory.path(),
        &[
            "plugin",
            "inspect",
            artifact.to_str().expect("a UTF-8 path"),
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["world"], "bidder");
    assert_eq!(report["name"], "fresh-bidder");
    assert_eq!(report["version"], "0.1.0");
    assert_eq!(report["contract_version"], "0.2.0");
    assert_eq!(report["exports"], json!(["metadata", "propose"]));
}

#[test]
fn plugin_new_reports_what_it_made_as_json() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = common::ralph_in(
        directory.path(),
        &["plugin", "new", "--kind", "check", "json-check", "--json"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        common::text(&output.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(made["name"], "json-check");
    assert_eq!(
        made["component"],
        "target/wasm32-wasip2/release/json_check.wasm"
    );
    assert!(directory.path().join("json-check/Cargo.toml").is_file());
}
