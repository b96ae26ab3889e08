//! loyalty-engine: the rules of a loyalty program as a pure function,
//! `apply(program, state, event) -> { state, entries, effects }`.
//!
//! The core modules know nothing of WebAssembly; `wasm` is the one boundary file.

pub mod action;
pub mod cache;
pub mod campaign;
pub mod context;
pub mod donation;
pub mod earn;
pub mod engine;
pub mod error;
pub mod event;
pub mod expiry;
pub mod ledger;
pub mod limits;
pub mod membership;
pub mod money;
pub mod multiplier;
pub mod offer;
pub mod pay;
pub mod product;
pub mod pending;
pub mod program;
pub mod ratio;
pub mod reward;
#[cfg(any(feature = "simulate", not(target_arch = "wasm32")))]
pub mod simulate;
pub mod spec;
pub mod status;
pub mod tier;
pub mod time;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use engine::{Engine, Outcome, View};

/// The wasm allocator: Talc, not Rust's default dlmalloc, which took ~25% of a wasm replay
/// (a million events make tens of millions of short-lived allocations; with Talc one program
/// replays in ~8.3 s instead of ~11 s), and whose code is 7 KB larger.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub use error::Error;
