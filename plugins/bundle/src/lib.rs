//! The plugins that ship with Ralph, embedded in the binary.
//!
//! The build script compiles each plugin crate under `plugins/` for
//! `wasm32-wasip2`; this crate exposes the components' bytes and paths.

include!(concat!(env!("OUT_DIR"), "/bundle.rs"));

/// Which world a bundled plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Proposes plans.
    Bidder,
    /// Answers questions and reviews proposals.
    Specialist,
    /// Verifies changes.
    Check,
}

/// One bundled plugin.
#[derive(Debug, Clone, Copy)]
pub struct BundledPlugin {
    /// Its name, as its metadata reports it.
    pub name: &'static str,
    /// Its world.
    pub kind: Kind,
    /// The capabilities it asks for, by name; grant them to use it fully
    /// (integrations such as `aws` are approved with `ralph permissions`).
    pub capabilities: &'static [&'static str],
    /// The component.
    pub bytes: &'static [u8],
}

/// Every bundled plugin.
pub const ALL: &[BundledPlugin] = &[
    BundledPlugin {
        name: "smallest-change",
        kind: Kind::Bidder,
        capabilities: &["repository", "complete"],
        bytes: SMALLEST_CHANGE,
    },
    BundledPlugin {
        name: "tests-first",
        kind: Kind::Bidder,
        capabilities: &["repository", "consult", "complete"],
        bytes: TESTS_FIRST,
    },
    BundledPlugin {
        name: "persona-planner",
        kind: Kind::Bidder,
        capabilities: &["repository", "complete"],
        bytes: PERSONA_PLANNER,
    },
    BundledPlugin {
        name: "rust-conventions",
        kind: Kind::Specialist,
        capabilities: &["repository"],
        bytes: RUST_CONVENTIONS,
    },
    BundledPlugin {
        name: "change-risk",
        kind: Kind::Specialist,
        capabilities: &["repository"],
        bytes: CHANGE_RISK,
    },
    BundledPlugin {
        name: "infrastructure",
        kind: Kind::Specialist,
        capabilities: &["aws", "repository"],
        bytes: INFRASTRUCTURE,
    },
    BundledPlugin {
        name: "risk",
        kind: Kind::Specialist,
        capabilities: &["sentry"],
        bytes: RISK,
    },
    BundledPlugin {
        name: "trading",
        kind: Kind::Specialist,
        capabilities: &["alpaca"],
        bytes: TRADING,
    },
    BundledPlugin {
        name: "diff-size",
        kind: Kind::Check,
        capabilities: &[],
        bytes: DIFF_SIZE,
    },
    BundledPlugin {
        name: "secrets",
        kind: Kind::Check,
        capabilities: &[],
        bytes: SECRETS,
    },
    BundledPlugin {
        name: "debug-markers",
        kind: Kind::Check,
        capabilities: &[],
        bytes: DEBUG_MARKERS,
    },
];

/// The bundled plugin named `name`.
pub fn find(name: &str) -> Option<&'static BundledPlugin> {
    ALL.iter().find(|plugin| plugin.name == name)
}
