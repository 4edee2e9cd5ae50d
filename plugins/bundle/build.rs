//! Builds every bundled plugin for wasm32-wasip2 and embeds it.

use ralph_guest_build::{Guest, build_and_write};

fn main() {
    let guests = [
        Guest::new("smallest-change", "plugins/bidders/smallest-change"),
        Guest::new("tests-first", "plugins/bidders/tests-first"),
        Guest::new("persona-planner", "plugins/bidders/persona-planner"),
        Guest::new("rust-conventions", "plugins/specialists/rust-conventions"),
        Guest::new("change-risk", "plugins/specialists/change-risk"),
        Guest::new("infrastructure", "plugins/specialists/infrastructure"),
        Guest::new("risk", "plugins/specialists/risk"),
        Guest::new("trading", "plugins/specialists/trading"),
        Guest::new("diff-size", "plugins/checks/diff-size"),
        Guest::new("secrets", "plugins/checks/secrets"),
        Guest::new("debug-markers", "plugins/checks/debug-markers"),
    ];
    build_and_write(&guests, "bundle.rs", true);
}
