//! Scripted test bidder `a`.

const LETTER: &str = "a";

include!("../../scripted.rs");
