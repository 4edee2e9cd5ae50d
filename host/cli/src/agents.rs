//! The agent definitions Ralph ships, installed by `ralph marketplace setup`
//! into `.claude/agents/`. The repository's own `.claude/agents/` is their
//! source.

pub const AGENTS: &[(&str, &str)] = &[
    (
        "broker.md",
        include_str!("../../../.claude/agents/broker.md"),
    ),
    (
        "bidder.md",
        include_str!("../../../.claude/agents/bidder.md"),
    ),
    (
        "specialist.md",
        include_str!("../../../.claude/agents/specialist.md"),
    ),
];
