//! loyalty-engine: the rules of a loyalty program as a pure function,
//! `apply(program, state, event) -> { state, entries, effects }`.
//!
//! The core modules know nothing of WebAssembly; `wasm` is the one boundary file.

pub mod action;
pub mod cache;
pub mod campaign;
pub mod context;
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
pub mod sink;
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

/// A stable insertion sort by key. Most lists the engine sorts are short (lots, rewards,
/// campaigns, months, an object's keys), and core's sorts cost ~2-3 KB of wasm per call site.
/// It is quadratic: a long list (a batch tick's due accounts) should use `sort_by`, whose
/// comparison borrows, not a key that allocates.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a) < key(b))
}

/// A stable insertion sort by `less` (a strict order), for lists whose key would have to be
/// cloned to be compared.
pub fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}
pub use error::Error;
