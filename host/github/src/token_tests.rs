use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::*;

fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

/// A fake `gh` that prints `output` and exits with `code`.
fn fake_gh(directory: &Path, output: &str, code: i32) -> PathBuf {
    let path = directory.join("gh");
    fs::write(
        &path,
        format!("#!/bin/sh\n[ \"$1 $2\" = \"auth token\" ] || exit 9\nprintf '%s' '{output}'\nexit {code}\n"),
    )
    .expect("write the fake gh");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("make it executable");
    path
}

#[test]
fn github_token_comes_first() {
    let found = discover_with(
        &environment(&[("GITHUB_TOKEN", "first"), ("GH_TOKEN", "second")]),
        None,
    )
    .expect("a token");
    assert_eq!(found.token.expose(), "first");
    assert_eq!(found.origin, TokenOrigin::GithubTokenVariable);
    assert_eq!(
        found.origin.to_string(),
        "the GITHUB_TOKEN environment variable"
    );
}

#[test]
fn gh_token_is_next_and_an_empty_github_token_does_not_count() {
    let found = discover_with(
        &environment(&[("GITHUB_TOKEN", "  "), ("GH_TOKEN", "second\n")]),
        None,
    )
    .expect("a token");
    assert_eq!(found.token.expose(), "second");
    assert_eq!(found.origin, TokenOrigin::GhTokenVariable);
}

#[test]
fn gh_auth_token_is_last() {
    let directory = tempfile::tempdir().expect("tempdir");
    let gh = fake_gh(directory.path(), "from-gh\n", 0);
    let found = discover_with(&environment(&[]), Some(&gh)).expect("a token");
    assert_eq!(found.token.expose(), "from-gh");
    assert_eq!(found.origin, TokenOrigin::GhAuthToken);
}

#[test]
fn a_failing_or_silent_gh_gives_no_token() {
    let directory = tempfile::tempdir().expect("tempdir");
    let failing = fake_gh(directory.path(), "not-a-token", 1);
    let error = discover_with(&environment(&[]), Some(&failing)).expect_err("failed gh");
    assert_eq!(error, NoToken { gh_found: true });
    let silent = fake_gh(directory.path(), "", 0);
    assert!(discover_with(&environment(&[]), Some(&silent)).is_err());
}

#[test]
fn no_token_and_no_gh_says_how_to_get_one() {
    let error = discover_with(&environment(&[]), None).expect_err("nothing");
    let message = error.to_string();
    assert!(message.contains("GITHUB_TOKEN"), "{message}");
    assert!(message.contains("gh auth login"), "{message}");
    assert!(message.contains("not on PATH"), "{message}");
}

#[test]
fn gh_is_found_on_path() {
    let directory = tempfile::tempdir().expect("tempdir");
    let gh = fake_gh(directory.path(), "x", 0);
    let path = std::env::join_paths([Path::new("/nonexistent"), directory.path()]).expect("a PATH");
    assert_eq!(find_on_path("gh", &path), Some(gh));
    assert_eq!(find_on_path("not-gh", &path), None);
}

#[test]
fn the_token_never_shows_in_debug_or_display() {
    let token = Token::new("ghp_secretvalue");
    let credentials = Credentials {
        token: token.clone(),
        origin: TokenOrigin::Given,
    };
    for text in [
        format!("{token:?}"),
        format!("{token}"),
        format!("{credentials:?}"),
    ] {
        assert!(!text.contains("secretvalue"), "{text}");
    }
}
