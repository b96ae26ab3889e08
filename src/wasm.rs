//! The WebAssembly boundary, and the only file that knows wasm-bindgen. Every export that
//! runs the rules does the same three steps: decode JSON input, call the core, encode JSON
//! output (`input` only hands over a buffer). Errors become JS
//! `Error`s whose message is `{"code","path","message"}` JSON; the JS shim turns that into a
//! `LoyaltyError`. JSON strings cross the boundary because one `JSON.parse` in JS is faster
//! than building objects field by field, and ids and i64 points survive it unchanged.
//!
//! The exports that write the ledger (`apply`, `applyBatch` and their `…Input` forms) are
//! built only with the `ledger` feature, into the Node module: they mint coupon codes with
//! the program secret, which a storefront never holds. The checkout module has what a
//! browser runs: the program, quotes and views.

#[cfg(feature = "ledger")]
use crate::earn::OrderRecord;
use crate::cache::StateCache;
use crate::engine::Engine as Core;
use crate::error::Error;
#[cfg(feature = "ledger")]
use crate::event::Event;
use crate::ledger::Account;
use crate::time::Zone;
use std::cell::RefCell;
#[cfg(feature = "ledger")]
use {serde::de::DeserializeOwned, std::collections::HashMap};
use wasm_bindgen::prelude::*;

/// The wasm allocator: Talc, not Rust's default dlmalloc, which is slower on a replay's many
/// short-lived allocations and has more code.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn js_error(e: Error) -> JsError {
    let body = serde_json::json!({ "code": e.code, "path": e.path, "message": e.message });
    JsError::new(&body.to_string())
}

/// The JSON text of an output.
fn encode<T: serde::Serialize>(v: &T) -> String {
    // Writing to a String fails only if a Serialize impl does, and ours never do.
    serde_json::to_string(v).unwrap_or_default()
}

/// Reads an optional JSON input with `read`: the empty string means "none".
fn decode<T>(json: &str, read: impl Fn(&str) -> Result<T, Error>) -> Result<Option<T>, JsError> {
    if json.is_empty() {
        return Ok(None);
    }
    read(json).map(Some).map_err(js_error)
}

#[cfg(feature = "ledger")]
/// Reads a JSON object of id -> item (accounts by customer, orders by id, coupons issued by
/// reward), each checked by `check`.
fn decode_map<T: DeserializeOwned>(code: &'static str, json: &str, check: impl Fn(&T) -> Result<(), Error>) -> Result<HashMap<String, T>, JsError> {
    let map = decode(json, |j| crate::error::from_json::<HashMap<String, T>>(code, j))?.unwrap_or_default();
    for (id, v) in &map {
        check(v).map_err(|e| js_error(e.within(id)))?;
    }
    Ok(map)
}

/// A count in a map of reward id to coupons issued.
#[cfg(feature = "ledger")]
fn count(n: &i64) -> Result<(), Error> {
    if *n < 0 {
        return Err(Error::new("invalid_context", "", "expected a count of coupons (a whole number, not negative)"));
    }
    Ok(())
}

/// A loyalty program compiled once. Use it through `createEngine` in `loyalty-engine`.
///
/// ```js
/// const engine = new Engine(programJson, zoneJson, "coupon-secret");
/// const [state, order, rest] = engine.apply("", "", eventJson, "").split("\n"); // Node module
/// const { points, coupons } = JSON.parse(engine.quote(stateJson, cartJson));
/// ```
#[wasm_bindgen]
pub struct Engine(Core, RefCell<StateCache>, RefCell<Vec<u8>>);

/// The engine of a program JSON, its zone table JSON ("" for UTC) and the coupon secret.
fn core(program: &str, zone: &str, secret: &str) -> Result<Core, Error> {
    let zone = if zone.is_empty() { None } else { Some(Zone::parse(zone)?) };
    Core::new(program, zone, secret.as_bytes())
}

impl Engine {
    /// `f` of the four byte runs of the given lengths in the input buffer.
    fn with_input(&self, lens: [usize; 4], f: impl Fn([&[u8]; 4]) -> Result<String, JsError>) -> Result<String, JsError> {
        // `f` never calls `input`, the one borrower of the buffer for writing.
        let bytes = self.2.borrow();
        let mut parts: [&[u8]; 4] = [b""; 4];
        let mut at = 0;
        for (p, len) in parts.iter_mut().zip(lens) {
            *p = bytes.get(at..at + len).unwrap_or(b"\0");
            at += len;
        }
        f(parts)
    }

    /// A state from its JSON: from the cache when this engine wrote exactly that text.
    fn state(&self, json: &[u8]) -> Result<Option<Account>, JsError> {
        if json.is_empty() {
            return Ok(None);
        }
        if let Some(a) = self.1.borrow_mut().get(json) {
            return Ok(Some(a));
        }
        decode(text(json), Account::parse)
    }

    /// `apply` of texts; `event` reads the event once state and order are read, so an error
    /// names the first bad part in the order they are given.
    #[cfg(feature = "ledger")]
    fn apply_state(&self, state: &[u8], order: &str, event: impl FnOnce() -> Result<Event, Error>, stock: &str) -> Result<String, JsError> {
        let state = self.state(state)?;
        let order = decode(order, OrderRecord::parse)?;
        let event = event().map_err(js_error)?;
        let stock = (!stock.is_empty()).then(|| decode_map("invalid_context", stock, count)).transpose()?;
        let out = self.0.apply_with(state, order, &event, stock.as_ref()).map_err(js_error)?;
        let (text, state) = out.write_parts();
        // The cache keeps the account itself (`out` is done with) and a copy of its text.
        self.1.borrow_mut().put(text.get(..state).unwrap_or_default(), out.state);
        Ok(text)
    }

    fn quote_state(&self, state: &[u8], cart: &str) -> Result<String, JsError> {
        let state = self.state(state)?;
        Ok(encode(&self.0.quote(state.as_ref(), cart).map_err(js_error)?))
    }
}

/// A part of the input as text. One that is not UTF-8 (or past the end) reads as a NUL: a
/// JSON syntax error of the part it stands for, named as usual.
fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("\u{0}")
}

#[wasm_bindgen]
impl Engine {
    /// Validates the program; `zone` is the offset table of its time zone ("" for UTC).
    ///
    /// ```js
    /// new Engine('{"id":"demo","currency":"EUR","timezone":"UTC","earn":{"points_per_unit":"10"}}', "", "secret")
    /// ```
    #[wasm_bindgen(constructor)]
    pub fn new(program: &str, zone: &str, secret: &str) -> Result<Engine, JsError> {
        core(program, zone, secret).map(|c| Engine(c, RefCell::default(), RefCell::default())).map_err(js_error)
    }

    /// Room for `len` bytes of input in the wasm memory: the host writes the UTF-8 of the
    /// texts of an `…Input` call there, one after another, with `TextEncoder.encodeInto`
    /// (native, where passing a `&str` copies it char by char in JS: 4 us for a 1.6 KB state).
    pub fn input(&self, len: usize) -> *mut u8 {
        let mut b = self.2.borrow_mut();
        if b.len() < len {
            b.resize(len, 0);
        }
        b.as_mut_ptr()
    }

    /// `quote` of the texts in the input: the byte lengths of state and cart.
    #[wasm_bindgen(js_name = quoteInput)]
    pub fn quote_input(&self, state: usize, cart: usize) -> Result<String, JsError> {
        self.with_input([state, cart, 0, 0], |[s, c, _, _]| self.quote_state(s, text(c)))
    }

    /// What a cart would earn and what the customer's coupons take off it.
    ///
    /// ```js
    /// const { points, coupons } = JSON.parse(engine.quote(stateJson, cartJson));
    /// ```
    pub fn quote(&self, state: &str, cart: &str) -> Result<String, JsError> {
        self.quote_state(state.as_bytes(), cart)
    }

    /// The account view (balance, pending, tier, next expiry, coupons) of a state.
    ///
    /// ```js
    /// const view = JSON.parse(engine.view(stateJson));
    /// ```
    pub fn view(&self, state: &str) -> Result<String, JsError> {
        let state = self.state(state.as_bytes())?.ok_or_else(|| js_error(Error::new("invalid_state", "", "a state is required")))?;
        Ok(encode(&self.0.view(&state)))
    }
}

/// The exports that write the ledger: the Node module's only (see the top of this file).
#[cfg(feature = "ledger")]
#[wasm_bindgen]
impl Engine {
    /// Applies one event to an account state ("" for a new account) and the record of the
    /// order the event names ("" if none); `stock` maps stock-limited reward ids to the
    /// coupons issued so far program-wide ("" if not counted). Returns three texts in one
    /// (see `Outcome::write_parts`): the new state's JSON, a newline, the order record's JSON
    /// ("" if none), a newline, and the rest of the outcome. A host that stores the texts
    /// never parses them, and the engine knows its own state text when it comes back.
    ///
    /// ```js
    /// const [stateJson, orderJson, rest] = engine.apply(stateJson, "", eventJson, "").split("\n");
    /// const { entries, effects } = JSON.parse(rest);
    /// ```
    pub fn apply(&self, state: &str, order: &str, event: &str, stock: &str) -> Result<String, JsError> {
        self.apply_state(state.as_bytes(), order, || self.0.parse_event(event), stock)
    }

    /// `apply` of the texts in the input: the byte lengths of state, order, event and stock.
    #[wasm_bindgen(js_name = applyInput)]
    pub fn apply_input(&self, state: usize, order: usize, event: usize, stock: usize) -> Result<String, JsError> {
        // The state stays bytes: a cache hit needs no UTF-8 check.
        self.with_input([state, order, event, stock], |[s, o, e, k]| self.apply_state(s, text(o), || self.0.parse_event(text(e)), text(k)))
    }

    /// `applyBatch` of the texts in the input: the byte lengths of states, orders, events, stock.
    #[wasm_bindgen(js_name = applyBatchInput)]
    pub fn apply_batch_input(&self, states: usize, orders: usize, events: usize, stock: usize) -> Result<String, JsError> {
        self.with_input([states, orders, events, stock], |[s, o, e, k]| self.apply_batch(text(s), text(o), text(e), text(k)))
    }

    /// Applies an array of events to many accounts in one call: `states` maps customer to
    /// state, `orders` maps order id to record, `stock` reward id to coupons issued (all ""
    /// when empty).
    ///
    /// ```js
    /// const { states, orders, entries, effects } = JSON.parse(engine.applyBatch("", "", eventsJson, ""));
    /// ```
    #[wasm_bindgen(js_name = applyBatch)]
    pub fn apply_batch(&self, states: &str, orders: &str, events: &str, stock: &str) -> Result<String, JsError> {
        let states = decode_map("invalid_state", states, |a: &Account| a.check().map_err(|m| Error::new("invalid_state", "", m)))?;
        let orders = decode_map("invalid_state", orders, OrderRecord::check)?;
        let stock = decode_map("invalid_context", stock, count)?;
        let events = Event::parse_many(events, &self.0.program).map_err(js_error)?;
        Ok(encode(&self.0.apply_batch_with(states, orders, &events, stock).map_err(js_error)?))
    }
}

/// The same calls with JS objects crossing through serde-wasm-bindgen instead of JSON text,
/// built into the Node module for `npm run bench`, which measures both ways for each call.
/// The shim uses JSON text: it measured faster each way (figures in the README), and a
/// syntax or type error in text keeps the JSON path of the field it is in.
#[cfg(feature = "objects")]
#[wasm_bindgen]
impl Engine {
    /// `view`, returning the view as an object.
    #[wasm_bindgen(js_name = viewObject)]
    pub fn view_object(&self, state: &str) -> Result<JsValue, JsError> {
        let state = self.state(state.as_bytes())?.ok_or_else(|| js_error(Error::new("invalid_state", "", "a state is required")))?;
        to_object(&self.0.view(&state))
    }

    /// `quote`, returning the quote as an object.
    #[wasm_bindgen(js_name = quoteObject)]
    pub fn quote_object(&self, state: &str, cart: &str) -> Result<JsValue, JsError> {
        let state = self.state(state.as_bytes())?;
        to_object(&self.0.quote(state.as_ref(), cart).map_err(js_error)?)
    }

    /// `apply` with the event given as an object, read by serde-wasm-bindgen.
    #[wasm_bindgen(js_name = applyObject)]
    pub fn apply_object(&self, state: &str, order: &str, event: JsValue, stock: &str) -> Result<String, JsError> {
        let read = || Event::check(serde_wasm_bindgen::from_value(event).map_err(|e| Error::new("invalid_event", "", e.to_string()))?, &self.0.program);
        self.apply_state(state.as_bytes(), order, read, stock)
    }
}

/// An output as a JS object: maps as plain objects, `None` as `null`, as `JSON.parse` makes them.
#[cfg(feature = "objects")]
fn to_object<T: serde::Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// A history replayed under one program, kept in memory: feed it the raw bytes of a JSONL
/// file in chunks of any size (lines may straddle chunks), then `finish` for the totals.
/// Use it through `simulate` in `loyalty-engine`.
///
/// ```js
/// const sim = new Simulation(programJson, zoneJson, "coupon-secret");
/// for await (const chunk of createReadStream("history.jsonl")) sim.feed(chunk);
/// const report = JSON.parse(sim.finish()); // { points: { issued, redeemed, ... }, rewards, ... }
/// ```
///
/// Built only with the `simulate` feature, into the Node module (`pkg/node/`) for
/// `loyalty simulate`.
#[cfg(feature = "simulate")]
#[wasm_bindgen]
pub struct Simulation(crate::simulate::Simulation, usize);

#[cfg(feature = "simulate")]
#[wasm_bindgen]
impl Simulation {
    /// Validates the program as `new Engine` does.
    #[wasm_bindgen(constructor)]
    pub fn new(program: &str, zone: &str, secret: &str) -> Result<Simulation, JsError> {
        core(program, zone, secret).map(|c| Simulation(crate::simulate::Simulation::new(c), 0)).map_err(js_error)
    }

    /// Applies the complete lines in `bytes`; returns how many events were read so far.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<f64, JsError> {
        // V8 runs a full GC after every growth of a wasm memory, and the allocator grows it a
        // few pages at a time: once it has grown, 64 MB allocated and freed at once leave it
        // room for the next few million allocations.
        let pages = core::arch::wasm32::memory_size(0);
        if pages != self.1 {
            drop(Vec::<u8>::with_capacity(64 << 20));
            self.1 = core::arch::wasm32::memory_size(0);
        }
        self.0.feed(bytes).map(|n| n as f64).map_err(js_error)
    }

    /// Applies a last line without a newline; returns the report JSON.
    pub fn finish(&mut self) -> Result<String, JsError> {
        self.0.finish().map_err(js_error)
    }
}
