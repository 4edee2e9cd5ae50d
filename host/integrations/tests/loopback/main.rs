//! The gateway end to end against servers the tests start on 127.0.0.1,
//! one test binary for every loopback test (`aws.rs`, against moto, is its
//! own, behind the `moto` feature).

#[path = "../common/mod.rs"]
mod common;

mod alpaca;
mod gateway;
mod http_get;
mod sentry;
