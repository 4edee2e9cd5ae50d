//! Generated bindings, one module per released version of the contract.
//!
//! Each version module converts its generated types into the host's types in
//! [`crate::types`] so nothing else depends on generated code.

pub mod v0_1_0;
