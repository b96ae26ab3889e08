//! The WebAssembly boundary, and the only file that knows wasm-bindgen. Every export does the
//! same three steps: decode JSON input, call the core, encode JSON output. Errors become JS
//! `Error`s whose message is `{"code","path","message"}` JSON; the JS shim turns that into a
//! `LoyaltyError`. JSON strings cross the boundary because one `JSON.parse` in JS is faster
//! than building objects field by field, and ids and i64 points survive it unchanged.

use crate::decode::{self, Path};
use crate::earn::OrderRecord;
use crate::engine::Engine as Core;
use crate::error::Error;
use crate::event::Event;
use crate::ledger::Account;
use crate::time::Zone;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

fn js_error(e: Error) -> JsError {
    let body = serde_json::json!({ "code": e.code, "path": e.path, "message": e.message });
    JsError::new(&body.to_string())
}

fn encode<T: Serialize>(v: &T) -> Result<String, JsError> {
    serde_json::to_string(v).map_err(|e| js_error(Error::new("internal", "", e.to_string())))
}

/// Reads an optional JSON input with `read`: the empty string means "none".
fn decode<T>(json: &str, read: impl Fn(&Value, Path) -> Result<T, Error>) -> Result<Option<T>, JsError> {
    if json.is_empty() {
        return Ok(None);
    }
    let v = decode::parse("invalid_state", json).map_err(js_error)?;
    read(&v, Path::Root("")).map(Some).map_err(js_error)
}

/// Reads a JSON object of id -> item (accounts by customer, orders by id).
fn decode_map<T>(json: &str, read: impl Fn(&Value, Path) -> Result<T, Error>) -> Result<HashMap<String, T>, JsError> {
    decode(json, |v, p| decode::map("invalid_state", v, p, &read)).map(|m| m.unwrap_or_default().into_iter().collect())
}

/// A loyalty program compiled once. Use it through `createEngine` in `loyalty-engine`.
///
/// ```js
/// const engine = new Engine(programJson, zoneJson, "coupon-secret");
/// const outcome = JSON.parse(engine.apply("", "", eventJson));
/// ```
#[wasm_bindgen]
pub struct Engine(Core);

#[wasm_bindgen]
impl Engine {
    /// Validates the program; `zone` is the offset table of its time zone ("" for UTC).
    ///
    /// ```js
    /// new Engine('{"id":"demo","currency":"EUR","timezone":"UTC","earn":{"points_per_unit":"10"}}', "", "secret")
    /// ```
    #[wasm_bindgen(constructor)]
    pub fn new(program: &str, zone: &str, secret: &str) -> Result<Engine, JsError> {
        let zone = if zone.is_empty() { None } else { Some(Zone::parse(zone).map_err(js_error)?) };
        Core::new(program, zone, secret.as_bytes()).map(Engine).map_err(js_error)
    }

    /// Applies one event to an account state ("" for a new account) and the record of the
    /// order the event names ("" if none). Returns the outcome JSON.
    ///
    /// ```js
    /// const { state, order, entries, effects } = JSON.parse(engine.apply(stateJson, "", eventJson));
    /// ```
    pub fn apply(&self, state: &str, order: &str, event: &str) -> Result<String, JsError> {
        let state = decode(state, Account::read)?;
        let order = decode(order, OrderRecord::read)?;
        let event = self.0.parse_event(event).map_err(js_error)?;
        encode(&self.0.apply(state, order, &event).map_err(js_error)?)
    }

    /// Applies an array of events to many accounts in one call: `states` maps customer to
    /// state, `orders` maps order id to record (both "" when empty).
    ///
    /// ```js
    /// const { states, orders, entries, effects } = JSON.parse(engine.applyBatch("", "", eventsJson));
    /// ```
    #[wasm_bindgen(js_name = applyBatch)]
    pub fn apply_batch(&self, states: &str, orders: &str, events: &str) -> Result<String, JsError> {
        let states = decode_map(states, Account::read)?;
        let orders = decode_map(orders, OrderRecord::read)?;
        let events = Event::parse_many(events, &self.0.program).map_err(js_error)?;
        encode(&self.0.apply_batch(states, orders, &events).map_err(js_error)?)
    }

    /// What a cart would earn and what the customer's coupons take off it.
    ///
    /// ```js
    /// const { points, coupons } = JSON.parse(engine.quote(stateJson, cartJson));
    /// ```
    pub fn quote(&self, state: &str, cart: &str) -> Result<String, JsError> {
        let state = decode(state, Account::read)?;
        encode(&self.0.quote(state.as_ref(), cart).map_err(js_error)?)
    }

    /// The account view (balance, pending, tier, next expiry, coupons) of a state.
    ///
    /// ```js
    /// const view = JSON.parse(engine.view(stateJson));
    /// ```
    pub fn view(&self, state: &str) -> Result<String, JsError> {
        let state = decode(state, Account::read)?.ok_or_else(|| js_error(Error::new("invalid_state", "", "a state is required")))?;
        encode(&self.0.view(&state))
    }
}
