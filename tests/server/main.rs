//! The native server's integration tests: one test binary, a module per
//! concern (each test binary compiles the shared helpers, embeds the models
//! and links the crate and its dependencies once; nine of them cost a cold
//! build minutes).
#![cfg(not(target_arch = "wasm32"))]

#[path = "../common/mod.rs"]
mod common;

mod access;
mod drain;
mod faults;
mod hostile;
mod metrics;
mod openapi;
mod rest;
mod socket;
mod verify;
