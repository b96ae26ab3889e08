//! loyalty-engine: the rules of a loyalty program as a pure function,
//! `apply(program, state, event) -> { state, entries, effects }`.
//!
//! The core modules know nothing of WebAssembly; `wasm` is the one boundary file.

/// The JSON Schema of a type written as text: `text_schema!(Date, "LocalDate", {"format": "date"})`
/// gives `{"type": "string", "format": "date"}` under that name, inlined where it is used.
#[cfg(feature = "schema")]
macro_rules! text_schema {
    ($ty:ty, $name:literal, { $($k:literal : $v:literal),* }) => {
        impl schemars::JsonSchema for $ty {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", $($k: $v),* })
            }
        }
    };
}

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
pub mod simulate;
pub mod spec;
pub mod status;
pub mod tier;
pub mod time;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use engine::{Engine, Outcome, View};

pub use error::Error;
