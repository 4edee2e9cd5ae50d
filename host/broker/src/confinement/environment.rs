//! The scrubbed environment of an untrusted process: an allow-list, and
//! never a credential but an agent's own (docs/loop.md, "Sandbox").

use std::ffi::OsString;

use super::Role;
use crate::agents::Agent;

/// Variables every untrusted process keeps, by exact name.
const KEPT: &[&str] = &[
    // The session.
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "TMPDIR",
    "NO_COLOR",
    // Rust.
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "CARGO_TARGET_DIR",
    "CARGO_INCREMENTAL",
    "CARGO_NET_OFFLINE",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTDOC",
    "RUST_BACKTRACE",
    "RUST_MIN_STACK",
    // C toolchains that build scripts call.
    "CC",
    "CXX",
    "AR",
    "CFLAGS",
    "CXXFLAGS",
    "LDFLAGS",
    "PKG_CONFIG_PATH",
    // Go, Python, Node, Java.
    "GOPATH",
    "GOCACHE",
    "GOMODCACHE",
    "GOROOT",
    "GOFLAGS",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "NODE_PATH",
    "JAVA_HOME",
];

/// Variables every untrusted process keeps, by prefix.
const KEPT_PREFIXES: &[&str] = &["LC_", "CARGO_BUILD_", "CARGO_TERM_"];

/// Variables processes with network keep (proxies, certificates).
const NETWORK: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
];

/// Name parts that mark a credential: such a variable is never kept unless
/// it is an agent's own (below), whatever list it matched.
const CREDENTIAL_PARTS: &[&str] = &[
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "AUTH",
    "SESSION",
    "COOKIE",
    "PRIVATE",
];

/// Prefixes of the services whose variables are never kept.
const CREDENTIAL_PREFIXES: &[&str] = &[
    "AWS_",
    "GITHUB_",
    "GH_",
    "SENTRY_",
    "ALPACA_",
    "APCA_",
    "ANTHROPIC_",
    "OPENAI_",
    "RALPH_",
];

/// What an agent keeps of its own provider: exact names, then prefixes.
fn own_variables(role: Role) -> (&'static [&'static str], &'static [&'static str]) {
    match role {
        Role::Agent(Agent::ClaudeCode) => (
            &[
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_BASE_URL",
                "ANTHROPIC_MODEL",
                "CLAUDE_CONFIG_DIR",
            ],
            &["CLAUDE_CODE_"],
        ),
        Role::Agent(Agent::Codex) => (&["OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_HOME"], &[]),
        Role::Check | Role::Implementer => (&[], &[]),
    }
}

/// Whether a variable's name marks it as a credential.
pub fn is_credential(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    CREDENTIAL_PARTS.iter().any(|part| upper.contains(part))
        || CREDENTIAL_PREFIXES
            .iter()
            .any(|prefix| upper.starts_with(prefix))
}

fn is_kept(name: &str, role: Role) -> bool {
    let (exact, prefixes) = own_variables(role);
    if exact.contains(&name) || prefixes.iter().any(|prefix| name.starts_with(prefix)) {
        return true;
    }
    if is_credential(name) {
        return false;
    }
    KEPT.contains(&name)
        || KEPT_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        || (role.network() && NETWORK.contains(&name))
}

/// The allow-listed part of `environment` for `role`. A kept variable whose
/// value holds the value of a dropped credential is dropped too.
pub fn scrubbed_environment(
    environment: &[(OsString, OsString)],
    role: Role,
) -> Vec<(OsString, OsString)> {
    let named = |(name, value): &(OsString, OsString)| {
        name.to_str().map(|name| (name.to_owned(), value.clone()))
    };
    let (kept, dropped): (Vec<_>, Vec<_>) = environment
        .iter()
        .filter_map(named)
        .partition(|(name, _)| is_kept(name, role));
    let secrets: Vec<Vec<u8>> = dropped
        .iter()
        .filter(|(name, _)| is_credential(name))
        .map(|(_, value)| value.as_encoded_bytes().to_vec())
        .filter(|value| value.len() >= 8)
        .collect();
    kept.into_iter()
        .filter(|(_, value)| {
            let value = value.as_encoded_bytes();
            !secrets
                .iter()
                .any(|secret| value.windows(secret.len()).any(|window| window == secret))
        })
        .map(|(name, value)| (OsString::from(name), value))
        .collect()
}

/// Environments for tests, shared with the confinement's own tests.
#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `pairs` as an environment.
    pub(crate) fn environment(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)))
            .collect()
    }

    fn names(environment: &[(OsString, OsString)]) -> Vec<String> {
        let mut names: Vec<String> = environment
            .iter()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// What a user's shell typically holds, secrets included.
    pub(crate) fn users_environment() -> Vec<(OsString, OsString)> {
        environment(&[
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/home/user"),
            ("LANG", "C.UTF-8"),
            ("LC_ALL", "C.UTF-8"),
            ("CARGO_HOME", "/home/user/.cargo"),
            ("CARGO_TERM_COLOR", "always"),
            ("RUSTFLAGS", "-D warnings"),
            ("ANTHROPIC_API_KEY", "sk-ant-planted-secret"),
            ("OPENAI_API_KEY", "sk-openai-planted-secret"),
            ("AWS_SECRET_ACCESS_KEY", "aws-planted-secret"),
            ("AWS_ACCESS_KEY_ID", "AKIAPLANTED"),
            ("GITHUB_TOKEN", "ghp_planted_secret"),
            ("GH_TOKEN", "ghp_planted_other"),
            ("SENTRY_AUTH_TOKEN", "sentry-planted-secret"),
            ("ALPACA_API_SECRET_KEY", "alpaca-planted-secret"),
            ("APCA_API_KEY_ID", "alpaca-planted-id"),
            ("CARGO_REGISTRIES_CRATES_IO_TOKEN", "cargo-planted-secret"),
            ("CARGO_BUILD_TOKEN", "cargo-build-planted-secret"),
            ("HTTPS_PROXY", "http://proxy.local:3128"),
            ("SSH_AUTH_SOCK", "/tmp/ssh-agent.sock"),
            ("EDITOR", "vim"),
        ])
    }

    #[test]
    fn a_check_keeps_only_the_allow_list_and_no_credential() {
        let kept = scrubbed_environment(&users_environment(), Role::Check);
        assert_eq!(
            names(&kept),
            [
                "CARGO_HOME",
                "CARGO_TERM_COLOR",
                "HOME",
                "LANG",
                "LC_ALL",
                "PATH",
                "RUSTFLAGS"
            ]
        );
    }

    #[test]
    fn a_credential_is_dropped_even_when_its_name_matches_an_allowed_pattern() {
        let kept = scrubbed_environment(
            &environment(&[
                ("CARGO_BUILD_TOKEN", "x"),
                ("CARGO_TERM_SECRET", "x"),
                ("LC_PASSWORD", "x"),
                ("CARGO_BUILD_JOBS", "2"),
            ]),
            Role::Check,
        );
        assert_eq!(names(&kept), ["CARGO_BUILD_JOBS"]);
    }

    #[test]
    fn an_allowed_variable_holding_a_secret_value_is_dropped() {
        let kept = scrubbed_environment(
            &environment(&[
                ("GITHUB_TOKEN", "ghp_planted_secret"),
                ("RUSTFLAGS", "--cfg x=ghp_planted_secret"),
                ("PATH", "/bin"),
            ]),
            Role::Check,
        );
        assert_eq!(names(&kept), ["PATH"]);
    }

    #[test]
    fn an_agent_keeps_only_its_own_providers_credential_and_the_network_settings() {
        let claude = scrubbed_environment(&users_environment(), Role::Agent(Agent::ClaudeCode));
        let claude = names(&claude);
        assert!(claude.contains(&"ANTHROPIC_API_KEY".to_owned()));
        assert!(claude.contains(&"HTTPS_PROXY".to_owned()));
        let codex = names(&scrubbed_environment(
            &users_environment(),
            Role::Agent(Agent::Codex),
        ));
        assert!(codex.contains(&"OPENAI_API_KEY".to_owned()));
        for (agent, names) in [("claude", &claude), ("codex", &codex)] {
            for forbidden in [
                "AWS_SECRET_ACCESS_KEY",
                "AWS_ACCESS_KEY_ID",
                "GITHUB_TOKEN",
                "GH_TOKEN",
                "SENTRY_AUTH_TOKEN",
                "ALPACA_API_SECRET_KEY",
                "APCA_API_KEY_ID",
                "CARGO_REGISTRIES_CRATES_IO_TOKEN",
                "SSH_AUTH_SOCK",
            ] {
                assert!(
                    !names.contains(&forbidden.to_owned()),
                    "{agent}: {forbidden}"
                );
            }
        }
        assert!(!claude.contains(&"OPENAI_API_KEY".to_owned()));
        assert!(!codex.contains(&"ANTHROPIC_API_KEY".to_owned()));
        let implementer = names(&scrubbed_environment(
            &users_environment(),
            Role::Implementer,
        ));
        assert!(implementer.contains(&"HTTPS_PROXY".to_owned()));
        assert!(!implementer.iter().any(|name| is_credential(name)));
    }

    #[test]
    fn a_check_gets_no_proxy_settings() {
        let kept = names(&scrubbed_environment(&users_environment(), Role::Check));
        assert!(!kept.contains(&"HTTPS_PROXY".to_owned()));
    }
}
