//! Builds plugin crates for `wasm32-wasip2` from a build script, the way
//! wasmtime's `test-programs` artifacts are built.
//!
//! Each plugin is built by a nested `cargo build` in its own invocation (so
//! the SDK's world features are not unified across plugins) into a separate
//! target directory (a nested cargo on the outer target directory would wait
//! for the outer build's lock forever). Flags the outer build leaks into the
//! environment are removed so the guests build the same way every time.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every plugin is built for.
pub const TARGET: &str = "wasm32-wasip2";
/// The cargo profile plugins are built with (see the workspace `Cargo.toml`).
pub const PROFILE: &str = "guest";

/// Variables an outer build sets that must not reach the nested one.
const LEAKED_VARIABLES: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WRAPPER",
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_SHOW_ENV",
    "CARGO_LLVM_COV_TARGET_DIR",
    "LLVM_PROFILE_FILE",
    "RUSTDOCFLAGS",
    "CARGO_INCREMENTAL",
    "CARGO_PRIMARY_PACKAGE",
];

/// One plugin crate to build.
#[derive(Debug, Clone)]
pub struct Guest {
    /// The package name, as in its `Cargo.toml`.
    pub package: String,
    /// Its directory, relative to the workspace root.
    pub directory: PathBuf,
}

impl Guest {
    /// A guest named `package` in `directory` (relative to the workspace).
    pub fn new(package: &str, directory: impl Into<PathBuf>) -> Self {
        Self {
            package: package.to_owned(),
            directory: directory.into(),
        }
    }

    /// The constant name for this guest: `smallest-change` → `SMALLEST_CHANGE`.
    pub fn constant_name(&self) -> String {
        self.package.replace('-', "_").to_uppercase()
    }
}

/// A built guest component.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The guest it came from.
    pub guest: Guest,
    /// The `.wasm` component.
    pub path: PathBuf,
}

/// The workspace root, found from the calling crate's manifest directory.
pub fn workspace_root() -> Result<PathBuf, String> {
    let manifest = env::var("CARGO_MANIFEST_DIR").map_err(|error| error.to_string())?;
    Path::new(&manifest)
        .ancestors()
        .find(|directory| {
            std::fs::read_to_string(directory.join("Cargo.toml"))
                .is_ok_and(|text| text.contains("[workspace]"))
        })
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no workspace Cargo.toml above {manifest}"))
}

/// The directory guests are built in: `guests` next to the outer build's
/// profile directories, shared by every build script that builds guests.
pub fn guest_target_dir() -> Result<PathBuf, String> {
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|error| error.to_string())?);
    let build = out
        .ancestors()
        .find(|directory| directory.file_name().is_some_and(|name| name == "build"))
        .ok_or_else(|| format!("OUT_DIR {} is not inside a target directory", out.display()))?;
    let target = build
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("OUT_DIR {} is too shallow", out.display()))?;
    Ok(target.join("guests"))
}

fn check_target_installed() -> Result<(), String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|error| format!("cannot run {rustc}: {error}"))?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let target_library = Path::new(&sysroot).join("lib/rustlib").join(TARGET);
    if target_library.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "the `{TARGET}` target is not installed; run `rustup target add {TARGET}`"
        ))
    }
}

/// Builds the standalone plugin crate in `crate_directory` for
/// `wasm32-wasip2` (release, offline) into `target_directory`, as a plugin
/// author would; the environment a build script or test inherits is cleaned
/// first.
pub fn build_standalone(crate_directory: &Path, target_directory: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(crate_directory)
        .args([
            "build",
            "--quiet",
            "--offline",
            "--release",
            "--target",
            "wasm32-wasip2",
        ])
        .arg("--target-dir")
        .arg(target_directory);
    remove_leaked_environment(&mut command);
    let status = command
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building {} failed: {status}",
            crate_directory.display()
        ))
    }
}

/// Removes from `command` the variables an outer cargo build (or a coverage
/// or lint wrapper) sets that would change how a nested build compiles:
/// flags, wrappers, target and profile overrides.
pub fn remove_leaked_environment(command: &mut Command) {
    for variable in LEAKED_VARIABLES {
        command.env_remove(variable);
    }
    for (variable, _) in env::vars_os() {
        let name = variable.to_string_lossy();
        let target_flags = name.starts_with("CARGO_TARGET_") && name.ends_with("_RUSTFLAGS");
        if target_flags || name.starts_with("CARGO_PROFILE_") || name.starts_with("CARGO_CFG_") {
            command.env_remove(&variable);
        }
    }
}

/// Builds every guest and returns their components, printing the
/// `rerun-if-changed` lines for their sources, the SDK and the WIT.
pub fn build(guests: &[Guest]) -> Result<Vec<Artifact>, String> {
    check_target_installed()?;
    let root = workspace_root()?;
    let target_dir = guest_target_dir()?;
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for watched in ["wit", "plugins/sdk", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let mut artifacts = Vec::new();
    for guest in guests {
        println!(
            "cargo:rerun-if-changed={}",
            root.join(&guest.directory).display()
        );
        let mut command = Command::new(&cargo);
        command
            .current_dir(&root)
            .args([
                "build",
                "--quiet",
                "--target",
                TARGET,
                "--profile",
                PROFILE,
                "-p",
            ])
            .arg(&guest.package)
            .arg("--target-dir")
            .arg(&target_dir);
        remove_leaked_environment(&mut command);
        let status = command
            .status()
            .map_err(|error| format!("cannot run {cargo}: {error}"))?;
        if !status.success() {
            return Err(format!(
                "building plugin `{}` for {TARGET} failed ({status})",
                guest.package
            ));
        }
        let file = format!("{}.wasm", guest.package.replace('-', "_"));
        let path = target_dir.join(TARGET).join(PROFILE).join(file);
        if !path.is_file() {
            return Err(format!("the build did not produce {}", path.display()));
        }
        artifacts.push(Artifact {
            guest: guest.clone(),
            path,
        });
    }
    Ok(artifacts)
}

/// Rust source declaring, for every artifact, `NAME_PATH: &str` and, when
/// `embed` is set, `NAME: &[u8]` with the component's bytes.
pub fn constants(artifacts: &[Artifact], embed: bool) -> String {
    let mut source = String::new();
    for artifact in artifacts {
        let name = artifact.guest.constant_name();
        let path = artifact.path.display().to_string();
        let _ = writeln!(
            source,
            "/// The built `{}` component's path.\npub const {name}_PATH: &str = {path:?};",
            artifact.guest.package
        );
        if embed {
            let _ = writeln!(
                source,
                "/// The built `{}` component.\npub const {name}: &[u8] = include_bytes!({path:?});",
                artifact.guest.package
            );
        }
    }
    source
}

/// Builds the guests and writes [`constants`] to `OUT_DIR/<file>`; on failure
/// prints the error and exits, as a build script should.
pub fn build_and_write(guests: &[Guest], file: &str, embed: bool) {
    let result = build(guests).and_then(|artifacts| {
        let out = env::var("OUT_DIR").map_err(|error| error.to_string())?;
        std::fs::write(Path::new(&out).join(file), constants(&artifacts, embed))
            .map_err(|error| format!("cannot write {file}: {error}"))
    });
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
