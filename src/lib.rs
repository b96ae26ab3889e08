//! loyalty-engine: the rules of a loyalty program as a pure function,
//! `apply(program, state, event) -> { state, entries, effects }`.
//!
//! The core modules know nothing of WebAssembly; `wasm` is the one boundary file.

pub mod action;
pub mod cache;
pub mod campaign;
pub mod decode;
pub mod donation;
pub mod encode;
pub mod earn;
pub mod engine;
pub mod error;
pub mod event;
pub mod expiry;
pub mod json;
pub mod ledger;
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
pub mod sink;
#[cfg(any(feature = "simulate", not(target_arch = "wasm32")))]
pub mod simulate;
pub mod status;
pub mod tier;
pub mod time;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use engine::{Engine, Outcome, View};

/// A stable insertion sort by key. Every list the engine sorts is short (lots, rewards,
/// campaigns, months), and core's sorts cost ~2-3 KB of wasm per call site.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && key(&v[j - 1]) > key(&v[j]) {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}
pub use error::Error;
