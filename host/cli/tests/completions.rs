//! `ralph completions SHELL`: shell completion scripts.

mod common;

use common::{ralph_in, text};

#[test]
fn the_bash_script_is_valid_bash_and_completes_the_commands() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = ralph_in(directory.path(), &["completions", "bash"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let script = text(&output.stdout);
    for word in ["marketplace", "loop", "clean", "--llm-provider"] {
        assert!(script.contains(word), "{word} is not completed");
    }
    let file = directory.path().join("ralph.bash");
    std::fs::write(&file, &script).expect("write");
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash runs");
    assert!(checked.status.success(), "{}", text(&checked.stderr));
}

#[test]
fn an_unknown_shell_is_refused_naming_the_known_ones() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = ralph_in(directory.path(), &["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("zsh"),
        "{}",
        text(&output.stderr)
    );
}
