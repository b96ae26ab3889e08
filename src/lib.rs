//! loyalty-engine: the rules of a loyalty program as a pure function,
//! `apply(program, state, event) -> { state, entries, effects }`.
//!
//! The core modules know nothing of WebAssembly; `wasm` is the one boundary file.

pub mod decode;
pub mod earn;
pub mod engine;
pub mod error;
pub mod event;
pub mod expiry;
pub mod ledger;
pub mod money;
pub mod program;
pub mod ratio;
pub mod reward;
pub mod time;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use engine::{Engine, Outcome, View};
pub use error::Error;
