//! Confinement: the one place that builds every process Ralph starts to run
//! code a proposal controls (SPEC §16) — command checks, the `command`
//! implementer, and Claude Code and Codex.
//!
//! Every such process gets a scrubbed environment (an allow-list; never a
//! model, GitHub, AWS, Sentry or Alpaca credential, except that an agent
//! keeps its own provider's key) and, where bubblewrap works, runs inside
//! it: the filesystem read-only but for the worktree, the build's target
//! and cache directories and a private `/tmp`; a private `/run`; its own
//! PID, IPC and user namespaces and session; credential files in the home
//! directory hidden; and, for checks, no network.
//!
//! Whether bubblewrap works is decided once per loop, by running a trivial
//! command through it; when it does not, the loop says so once and runs
//! with the scrubbed environment only. `"sandbox": {"kind": "none"}` in
//! `.ralph/config.json` turns bubblewrap off.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::agents::Agent;

mod bubblewrap;
mod environment;

pub use bubblewrap::{Mounts, bubblewrap_arguments};
pub use environment::{is_credential, scrubbed_environment};

/// How long the bubblewrap probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// `sandbox` in `.ralph/config.json`: `{"kind": "bubblewrap"}` or
/// `{"kind": "none"}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sandbox {
    /// Run untrusted processes inside bubblewrap where it works (default).
    #[default]
    Bubblewrap,
    /// Never use bubblewrap; the environment is still scrubbed.
    None,
}

impl Sandbox {
    /// The `sandbox` section of `config` (read from `path`, for messages);
    /// the default when it is left out.
    pub fn from_config(
        config: &ralph_marketplace::Config,
        path: &Path,
    ) -> Result<Sandbox, ralph_marketplace::ConfigError> {
        let Some(section) = &config.sandbox else {
            return Ok(Sandbox::default());
        };
        serde_path_to_error::deserialize(section)
            .map(|section: Section| section.kind)
            .map_err(|error| {
                let inner = error.path().to_string();
                let field = if inner == "." || inner == "?" {
                    "sandbox".to_owned()
                } else {
                    format!("sandbox.{inner}")
                };
                ralph_marketplace::ConfigError::Invalid {
                    path: path.to_owned(),
                    field,
                    message: error.into_inner().to_string(),
                }
            })
    }
}

/// The `sandbox` section as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    kind: Sandbox,
}

/// Whom a process runs for: decides its environment and its network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A command check: no network, no credential.
    Check,
    /// The `command` implementer: network, no credential.
    Implementer,
    /// Claude Code or Codex: network and its own provider's credential.
    Agent(Agent),
}

impl Role {
    fn network(self) -> bool {
        !matches!(self, Role::Check)
    }
}

/// How this loop's untrusted processes run, as the loop reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxKind {
    /// Inside bubblewrap.
    Bubblewrap,
    /// Bubblewrap was wanted but is missing or does not work here.
    Unsandboxed,
    /// Turned off in the config.
    Off,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    Bubblewrap { program: PathBuf },
    Unsandboxed { reason: String },
    Off,
}

/// What the process needs beyond its program and arguments.
#[derive(Clone, Copy, Debug)]
pub struct Launch<'a> {
    pub role: Role,
    /// Where it runs (the worktree): writable.
    pub directory: &'a Path,
    /// Files it must read that the sandbox would hide (a prompt in `/tmp`).
    pub read_only: &'a [PathBuf],
}

/// Builds every untrusted process of one loop.
#[derive(Clone, Debug)]
pub struct Confinement {
    mode: Mode,
    /// Ralph's own environment, read once.
    environment: Vec<(OsString, OsString)>,
    repository: PathBuf,
    /// Set when the user asked the loop to stop (Ctrl-C, SIGTERM): a
    /// running agent is ended at once instead of at its timeout.
    stop: Arc<AtomicBool>,
}

impl Confinement {
    /// Decides how untrusted processes run for the repository at
    /// `repository`: probes bubblewrap unless `sandbox` is `none`.
    pub fn new(sandbox: Sandbox, repository: &Path) -> Confinement {
        protect_own_environment();
        let environment: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        let mode = match sandbox {
            Sandbox::None => Mode::Off,
            Sandbox::Bubblewrap => match probe(&environment) {
                Ok(program) => Mode::Bubblewrap { program },
                Err(reason) => Mode::Unsandboxed { reason },
            },
        };
        if let Mode::Unsandboxed { reason } = &mode {
            tracing::warn!(%reason, "Checks run unsandboxed");
        }
        Confinement {
            mode,
            environment,
            repository: repository.to_owned(),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Ends the processes it runs when `stop` is set.
    pub fn stopping_on(mut self, stop: Arc<AtomicBool>) -> Confinement {
        self.stop = stop;
        self
    }

    /// True once the user asked the loop to stop.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Like [`Confinement::new`] with `environment` instead of Ralph's own
    /// (for tests).
    pub fn with_environment(
        sandbox: Sandbox,
        repository: &Path,
        environment: Vec<(OsString, OsString)>,
    ) -> Confinement {
        let mut confinement = Confinement::new(sandbox, repository);
        confinement.environment = environment;
        confinement
    }

    /// Whether bubblewrap confines the processes.
    pub fn kind(&self) -> SandboxKind {
        match self.mode {
            Mode::Bubblewrap { .. } => SandboxKind::Bubblewrap,
            Mode::Unsandboxed { .. } => SandboxKind::Unsandboxed,
            Mode::Off => SandboxKind::Off,
        }
    }

    /// One plain sentence saying how checks and agents run.
    pub fn describe(&self) -> String {
        match &self.mode {
            Mode::Bubblewrap { program } => format!(
                "checks and agents run inside bubblewrap (`{}`): the filesystem read-only except the worktree, the target and cache directories, a private /tmp; checks without network; a scrubbed environment",
                program.display()
            ),
            Mode::Unsandboxed { reason } => format!(
                "checks run unsandboxed: {reason}; only the environment is scrubbed, so a change's code can write anywhere you can and use the network (install the Debian package `bubblewrap`, as scripts/setup does, or set `\"sandbox\": {{\"kind\": \"none\"}}` to accept this)"
            ),
            Mode::Off => "checks run unsandboxed: the sandbox is off (`sandbox.kind` is `none` in .ralph/config.json); only the environment is scrubbed".to_owned(),
        }
    }

    /// The environment a process for `role` gets.
    pub fn environment(&self, role: Role) -> Vec<(OsString, OsString)> {
        let mut environment = scrubbed_environment(&self.environment, role);
        if matches!(self.mode, Mode::Bubblewrap { .. }) {
            // Inside, /tmp is private and whatever TMPDIR named is hidden.
            environment.retain(|(name, _)| name != "TMPDIR");
            environment.push(("TMPDIR".into(), "/tmp".into()));
        }
        environment
    }

    /// The process running `program` with `arguments` for `launch`, not yet
    /// started: standard input null, output piped, in a process group of
    /// its own (so [`crate::checks::kill_group`] ends all of it).
    pub fn command(
        &self,
        program: &str,
        arguments: &[String],
        launch: &Launch<'_>,
    ) -> std::io::Result<Command> {
        let environment = self.environment(launch.role);
        let mut command = match &self.mode {
            Mode::Bubblewrap {
                program: bubblewrap,
            } => {
                // Found on the host, so a missing tool is "cannot run", not
                // bubblewrap's own failure.
                let resolved = resolve(program, launch.directory, path_of(&environment))?;
                let mounts = self.mounts(launch, &resolved);
                let mut command = Command::new(bubblewrap);
                command.args(bubblewrap_arguments(
                    &mounts,
                    resolved.as_os_str(),
                    arguments,
                ));
                command
            }
            Mode::Unsandboxed { .. } | Mode::Off => {
                let mut command = Command::new(program);
                command.args(arguments);
                command
            }
        };
        command
            .env_clear()
            .envs(environment)
            .current_dir(launch.directory)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        Ok(command)
    }

    /// What bubblewrap mounts for `launch`, running `program`.
    fn mounts(&self, launch: &Launch<'_>, program: &Path) -> Mounts {
        let home = variable(&self.environment, "HOME").map(PathBuf::from);
        let canonical = |path: &Path| std::fs::canonicalize(path).ok();
        let directory = canonical(launch.directory).unwrap_or_else(|| launch.directory.to_owned());
        let repository = canonical(&self.repository);
        let mut protected = vec![directory.join(".git")];
        protected.extend(repository.iter().map(|repository| repository.join(".git")));
        if let Some(home) = &home {
            protected.push(home.clone());
            protected.push(home.join(".cache").join("ralph"));
        }
        protected.push(cargo_home(&self.environment).join("bin"));
        let writable = writable_paths(&self.environment, launch.role)
            .into_iter()
            .filter_map(|path| canonical(&path))
            .filter(|path| safe_to_write(path, &protected, home.as_deref()))
            .collect();
        let mut masked_directories = Vec::new();
        let mut masked_files = Vec::new();
        if let Some(home) = &home {
            for path in masked_paths(home, launch.role) {
                match std::fs::metadata(&path) {
                    Ok(metadata) if metadata.is_dir() => masked_directories.push(path),
                    Ok(_) => masked_files.push(path),
                    Err(_) => {}
                }
            }
        }
        let mut hidden = vec![PathBuf::from("/run")];
        if std::fs::symlink_metadata("/var/run").is_ok_and(|metadata| metadata.is_dir()) {
            hidden.push(PathBuf::from("/var/run"));
        }
        let mut restored = Vec::new();
        if launch.role.network() {
            // The resolver's configuration often lives under /run.
            if let Some(resolver) = canonical(Path::new("/etc/resolv.conf"))
                .filter(|path| hidden.iter().any(|hidden| path.starts_with(hidden)))
                .and_then(|path| path.parent().map(Path::to_owned))
            {
                restored.push(resolver);
            }
        }
        let mut read_only: Vec<PathBuf> = launch
            .read_only
            .iter()
            .filter_map(|path| canonical(path))
            .collect();
        let hidden_by_sandbox = |path: &Path| {
            path.starts_with("/tmp") || hidden.iter().any(|hidden| path.starts_with(hidden))
        };
        if let Some(program) = canonical(program)
            .filter(|path| hidden_by_sandbox(path) && !path.starts_with(&directory))
        {
            read_only.push(program);
        }
        let git_file = Some(directory.join(".git")).filter(|path| path.exists());
        Mounts {
            network: launch.role.network(),
            hidden,
            restored,
            repository,
            masked_directories,
            masked_files,
            directory,
            git_file,
            writable,
            read_only,
        }
    }
}

/// Makes Ralph's own process undumpable, so a process it starts (even
/// unsandboxed) cannot read Ralph's environment through
/// `/proc/<pid>/environ` or attach to it.
fn protect_own_environment() {
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(%error, "Cannot protect Ralph's environment from the processes it starts");
    }
}

/// Finds `bwrap` on Ralph's `PATH` and runs a trivial command through it
/// with the namespaces the checks use.
fn probe(environment: &[(OsString, OsString)]) -> Result<PathBuf, String> {
    let path = variable(environment, "PATH").unwrap_or_default();
    let Some(program) = find_on_path("bwrap", path) else {
        return Err("bubblewrap is not installed (no `bwrap` on PATH)".to_owned());
    };
    let mut command = Command::new(&program);
    command
        .args([
            "--die-with-parent",
            "--new-session",
            "--unshare-all",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--",
            "/bin/sh",
            "-c",
            "exit 0",
        ])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|error| format!("bubblewrap (`{}`) cannot start: {error}", program.display()))?;
    let stderr = child.stderr.take().map(|stream| {
        std::thread::spawn(move || crate::checks::read_tail(stream, crate::checks::OUTPUT_LIMIT))
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() >= PROBE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "did not finish within {} s",
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(error) => break Err(error.to_string()),
        }
    };
    let stderr = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    let detail = stderr.lines().rev().find(|line| !line.trim().is_empty());
    match status {
        Ok(status) if status.success() => Ok(program),
        Ok(status) => Err(format!(
            "bubblewrap (`{}`) cannot create its namespaces here ({}: {})",
            program.display(),
            status,
            detail.unwrap_or("no message").trim()
        )),
        Err(error) => Err(format!(
            "bubblewrap (`{}`) cannot run a trivial command: {error}",
            program.display()
        )),
    }
}

fn variable<'a>(environment: &'a [(OsString, OsString)], name: &str) -> Option<&'a OsStr> {
    environment
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_os_str())
}

fn path_of(environment: &[(OsString, OsString)]) -> &OsStr {
    variable(environment, "PATH").unwrap_or_default()
}

fn find_on_path(program: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|directory| directory.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The program as bubblewrap will run it: a bare name found on `path`, a
/// relative path taken from `directory`.
fn resolve(program: &str, directory: &Path, path: &OsStr) -> std::io::Result<PathBuf> {
    if program.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the program is empty",
        ));
    }
    if program.contains('/') {
        let resolved = directory.join(program);
        return if resolved.exists() {
            Ok(resolved)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} does not exist", resolved.display()),
            ))
        };
    }
    find_on_path(program, path).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not found on the PATH it is given",
        )
    })
}

fn cargo_home(environment: &[(OsString, OsString)]) -> PathBuf {
    variable(environment, "CARGO_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| variable(environment, "HOME").map(|home| Path::new(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/nonexistent/.cargo"))
}

/// The directories (and files) besides the worktree a process may write:
/// the build's target directory and caches, and an agent's own state.
fn writable_paths(environment: &[(OsString, OsString)], role: Role) -> Vec<PathBuf> {
    let absolute = |name: &str| {
        variable(environment, name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    let home = variable(environment, "HOME").map(PathBuf::from);
    let in_home = |parts: &[&str]| {
        home.as_ref().map(|home| {
            parts
                .iter()
                .fold(home.clone(), |path, part| path.join(part))
        })
    };
    let cargo = cargo_home(environment);
    let mut paths = vec![cargo.join("registry"), cargo.join("git")];
    paths.extend(absolute("CARGO_TARGET_DIR"));
    paths.extend(absolute("GOCACHE").or_else(|| in_home(&[".cache", "go-build"])));
    paths.extend(
        absolute("GOMODCACHE")
            .or_else(|| absolute("GOPATH").map(|path| path.join("pkg").join("mod")))
            .or_else(|| in_home(&["go", "pkg", "mod"])),
    );
    match role {
        Role::Agent(Agent::ClaudeCode) => {
            paths.extend(absolute("CLAUDE_CONFIG_DIR").or_else(|| in_home(&[".claude"])));
            paths.extend(in_home(&[".claude.json"]));
        }
        Role::Agent(Agent::Codex) => {
            paths.extend(absolute("CODEX_HOME").or_else(|| in_home(&[".codex"])));
        }
        Role::Check | Role::Implementer => {}
    }
    paths
}

/// A writable path may not be `/`, hold one of `protected` (the home
/// directory, the repository's and the worktree's `.git`, Ralph's
/// compiled-plugin cache, `CARGO_HOME/bin`) or lie inside one of them but
/// the home directory.
fn safe_to_write(path: &Path, protected: &[PathBuf], home: Option<&Path>) -> bool {
    path != Path::new("/")
        && !protected
            .iter()
            .any(|protected| protected.starts_with(path))
        && !protected
            .iter()
            .filter(|protected| Some(protected.as_path()) != home)
            .any(|protected| path.starts_with(protected))
}

/// Credential files and directories in the home directory a process does
/// not see (an agent sees its own).
fn masked_paths(home: &Path, role: Role) -> Vec<PathBuf> {
    let mut names = vec![
        ".ssh",
        ".aws",
        ".azure",
        ".docker",
        ".kube",
        ".gnupg",
        ".netrc",
        ".git-credentials",
        ".pypirc",
        ".npmrc",
        ".config/gh",
        ".config/gcloud",
        ".config/hub",
        ".cargo/credentials",
        ".cargo/credentials.toml",
    ];
    if role != Role::Agent(Agent::ClaudeCode) {
        names.extend([".claude", ".claude.json"]);
    }
    if role != Role::Agent(Agent::Codex) {
        names.push(".codex");
    }
    names.into_iter().map(|name| home.join(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use environment::tests::{environment, users_environment};

    #[test]
    fn a_cache_may_be_writable_but_never_the_home_a_git_directory_or_cargos_bin() {
        let home = Path::new("/home/user");
        let protected = [
            home.to_owned(),
            home.join(".cache/ralph"),
            home.join(".cargo/bin"),
            PathBuf::from("/work/repo/.git"),
        ];
        let safe = |path: &str| safe_to_write(Path::new(path), &protected, Some(home));
        assert!(safe("/home/user/.cargo/registry"));
        assert!(safe("/home/user/.cache/go-build"));
        assert!(safe("/work/target"));
        for unsafe_path in [
            "/",
            "/home",
            "/home/user",
            "/home/user/.cache",
            "/home/user/.cache/ralph/plugins",
            "/home/user/.cargo",
            "/home/user/.cargo/bin",
            "/work",
            "/work/repo",
            "/work/repo/.git/hooks",
        ] {
            assert!(!safe(unsafe_path), "{unsafe_path} must stay read-only");
        }
    }

    #[test]
    fn the_writable_caches_are_cargos_registry_and_git_not_all_of_cargo_home() {
        let paths = writable_paths(&users_environment(), Role::Check);
        assert!(paths.contains(&PathBuf::from("/home/user/.cargo/registry")));
        assert!(paths.contains(&PathBuf::from("/home/user/.cargo/git")));
        assert!(!paths.contains(&PathBuf::from("/home/user/.cargo")));
        assert!(
            !paths
                .iter()
                .any(|path| path.starts_with("/home/user/.claude"))
        );
        let claude = writable_paths(&users_environment(), Role::Agent(Agent::ClaudeCode));
        assert!(claude.contains(&PathBuf::from("/home/user/.claude")));
    }

    #[test]
    fn credential_files_are_hidden_except_an_agents_own() {
        let home = Path::new("/home/user");
        let check = masked_paths(home, Role::Check);
        for hidden in [".ssh", ".aws", ".config/gh", ".netrc", ".claude", ".codex"] {
            assert!(check.contains(&home.join(hidden)), "{hidden}");
        }
        let claude = masked_paths(home, Role::Agent(Agent::ClaudeCode));
        assert!(!claude.contains(&home.join(".claude")));
        assert!(claude.contains(&home.join(".codex")));
    }

    #[test]
    fn the_sandbox_config_is_bubblewrap_by_default_none_when_off_and_nothing_else() {
        let parse = |json: &str| {
            let config: ralph_marketplace::Config =
                serde_json::from_str(json).expect("a marketplace config");
            Sandbox::from_config(&config, Path::new(".ralph/config.json"))
        };
        assert_eq!(parse("{}").expect("default"), Sandbox::Bubblewrap);
        assert_eq!(
            parse(r#"{"sandbox": {"kind": "bubblewrap"}}"#).expect("bubblewrap"),
            Sandbox::Bubblewrap
        );
        assert_eq!(
            parse(r#"{"sandbox": {"kind": "none"}}"#).expect("none"),
            Sandbox::None
        );
        for bad in [
            r#"{"sandbox": {"kind": "docker"}}"#,
            r#"{"sandbox": {"kind": "none", "network": true}}"#,
            r#"{"sandbox": "none"}"#,
        ] {
            let error = parse(bad).expect_err(bad).to_string();
            assert!(
                error.contains(".ralph/config.json") && error.contains("sandbox"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn a_sandbox_turned_off_says_so_and_runs_the_command_directly() {
        let directory = tempfile::tempdir().expect("temp dir");
        let confinement = Confinement::new(Sandbox::None, directory.path());
        assert_eq!(confinement.kind(), SandboxKind::Off);
        assert!(
            confinement
                .describe()
                .starts_with("checks run unsandboxed: the sandbox is off")
        );
        let launch = Launch {
            role: Role::Check,
            directory: directory.path(),
            read_only: &[],
        };
        let command = confinement
            .command("sh", &["-c".to_owned(), "true".to_owned()], &launch)
            .expect("a command");
        assert_eq!(command.get_program(), "sh");
    }

    #[test]
    fn without_bwrap_on_path_the_sandbox_is_reported_missing() {
        let empty = tempfile::tempdir().expect("temp dir");
        let reason = probe(&environment(&[(
            "PATH",
            empty.path().to_str().expect("a UTF-8 path"),
        )]))
        .expect_err("no bwrap there");
        assert!(
            reason.starts_with("bubblewrap is not installed"),
            "{reason}"
        );
    }
}
