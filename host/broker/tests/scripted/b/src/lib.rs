//! Scripted test bidder `b`.

const LETTER: &str = "b";

include!("../../scripted.rs");
