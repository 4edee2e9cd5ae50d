//! Scripted test bidder `c`.

const LETTER: &str = "c";

include!("../../scripted.rs");
