//! The engine through its wasm boundary, run in Node by wasm-bindgen-test: JSON in and out,
//! errors as real JS `Error`s carrying code and path, and no panic on bad input.
#![cfg(target_arch = "wasm32")]

use loyalty_engine::wasm::Engine;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

const SEED: &str = include_str!("../presets/seed.json");

fn utc_seed() -> String {
    let mut p: Value = serde_json::from_str(SEED).unwrap();
    p["timezone"] = json!("UTC");
    p.to_string()
}

/// The `{code, path, message}` a boundary error carries, read from a real JS Error.
fn error_of(e: wasm_bindgen::JsError) -> Value {
    let v: JsValue = e.into();
    assert!(v.is_instance_of::<js_sys::Error>(), "errors must be JS Error objects");
    let msg: String = js_sys::Error::from(v).message().into();
    serde_json::from_str(&msg).unwrap()
}

fn order(id: &str, amount: &str) -> String {
    json!({"id": format!("ev-{id}"), "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": "c1",
           "order": {"id": id, "currency": "EUR", "lines": [{"id": "l1", "quantity": 1, "unit_price": amount}]}})
    .to_string()
}

#[wasm_bindgen_test]
fn applies_events_and_round_trips_state() {
    let engine = Engine::new(&utc_seed(), "", "secret").unwrap();
    // `apply` returns the state's text, the order record's and the rest of the outcome, a
    // line each; the rest holds neither state nor order.
    let apply = |state: &str, event: &str| -> (Value, String, String) {
        let text = engine.apply(state, "", event, "").unwrap();
        let [state, order, rest]: [&str; 3] = text.split('\n').collect::<Vec<_>>().try_into().unwrap();
        let out: Value = serde_json::from_str(rest).unwrap();
        assert!(out.get("state").is_none() && out.get("order").is_none());
        (out, state.to_string(), order.to_string())
    };
    let order_id = |o: &str| serde_json::from_str::<Value>(o).unwrap()["id"].clone();
    let (out, state, record) = apply("", &order("o1", "300.00"));
    assert_eq!(order_id(&record), "o1");
    assert_eq!(out["entries"][0]["points"], 3000);
    let balance = |s: &str| serde_json::from_str::<Value>(s).unwrap()["balance"].clone();
    assert_eq!(balance(&state), 3000);
    let (out, state, record) = apply(&state, &order("o2", "250.00"));
    assert_eq!(order_id(&record), "o2");
    assert_eq!(balance(&state), 500, "5500 reached the 5000 reward");
    assert_eq!(out["effects"][0]["type"], "coupon.issued");
    let view: Value = serde_json::from_str(&engine.view(&state).unwrap()).unwrap();
    assert_eq!(view["coupons"][0]["value"], "10");
    // The state re-encoded by a host (here serde_json, same bytes) and the engine's own text.
    let reencoded = serde_json::from_str::<Value>(&state).unwrap().to_string();
    let (again, same, record) = apply(&reencoded, &order("o2", "250.00"));
    assert_eq!(again["duplicate"], true);
    assert_eq!(record, "", "a redelivery makes no order record");
    assert_eq!(same, state);
}

#[wasm_bindgen_test]
fn batches_many_events_in_one_call() {
    let engine = Engine::new(&utc_seed(), "", "secret").unwrap();
    let events: Vec<Value> = (0..100).map(|i| serde_json::from_str(&order(&format!("o{i}"), "10.00")).unwrap()).collect();
    let out: Value = serde_json::from_str(&engine.apply_batch("", "", &Value::Array(events).to_string(), "").unwrap()).unwrap();
    assert_eq!(out["states"]["c1"]["balance"], 0, "100 x 100 points: two 5000-point rewards");
    assert_eq!(out["entries"].as_array().unwrap().len(), 102);
    assert_eq!(out["effects"].as_array().unwrap().iter().filter(|e| e["type"] == "coupon.issued").count(), 2);
}

#[wasm_bindgen_test]
fn bad_input_is_a_js_error_with_code_and_path() {
    let bad = utc_seed().replace("\"percent\"", "\"percnt\"");
    let e = error_of(Engine::new(&bad, "", "").err().unwrap());
    assert_eq!(e["code"], "invalid_program");
    assert_eq!(e["path"], "rewards[0].coupon.type");
    let e = error_of(Engine::new(SEED, "", "").err().unwrap());
    assert_eq!(e["path"], "timezone", "Europe/Oslo needs its offset table");

    let engine = Engine::new(&utc_seed(), "", "secret").unwrap();
    let e = error_of(engine.apply("", "", "{\"id\":1}", "").unwrap_err());
    assert_eq!((e["code"].as_str(), e["path"].as_str()), (Some("invalid_event"), Some("id")));
    let e = error_of(engine.apply("{\"customer\":\"c1\",\"balance\":5}", "", &order("o1", "1.00"), "").unwrap_err());
    assert_eq!(e["code"], "invalid_state", "a state whose balance disagrees with its lots is refused");
    let e = error_of(engine.apply("", "", "not json", "").unwrap_err());
    assert_eq!(e["code"], "invalid_event");
    // After every error the instance still works: nothing panicked.
    assert!(engine.apply("", "", &order("o9", "1.00"), "").is_ok());
}

#[wasm_bindgen_test]
fn quotes_carts() {
    let engine = Engine::new(&utc_seed(), "", "secret").unwrap();
    let cart = json!({"at": "2026-01-10T12:00:00Z", "currency": "EUR", "lines": [{"id": "a", "quantity": 3, "unit_price": "19.99"}]});
    let q: Value = serde_json::from_str(&engine.quote("", &cart.to_string()).unwrap()).unwrap();
    assert_eq!(q["points"], 599);
}

/// Writes `texts` one after another where `Engine::input` says, as the JS shim does with
/// `TextEncoder.encodeInto`; returns their byte lengths.
fn write_input(engine: &Engine, texts: [&str; 4]) -> [usize; 4] {
    let room: usize = texts.iter().map(|t| t.len()).sum();
    let at = engine.input(room);
    let mut used = 0;
    texts.map(|t| {
        // SAFETY: `input` made room for all of them, and nothing else runs meanwhile.
        unsafe { std::ptr::copy_nonoverlapping(t.as_ptr(), at.add(used), t.len()) };
        used += t.len();
        t.len()
    })
}

#[wasm_bindgen_test]
fn inputs_written_into_the_wasm_memory_apply_as_strings_do() {
    let engine = Engine::new(&utc_seed(), "", "secret").unwrap();
    let first = engine.apply("", "", &order("o1", "300.00"), "").unwrap();
    let state = first.split('\n').next().unwrap().to_string();
    // The same event on the same state, once as strings and once through the input.
    let by_str = engine.apply(&state, "", &order("o2", "250.00"), "").unwrap();
    let [s, o, e, k] = write_input(&engine, [&state, "", &order("o2", "250.00"), ""]);
    assert_eq!(engine.apply_input(s, o, e, k).unwrap(), by_str);

    // Lengths past what was written read as bad JSON of that part, never a panic.
    let [s, o, _, k] = write_input(&engine, [&state, "", "{}", ""]);
    let err = error_of(engine.apply_input(s, o, 10_000, k).unwrap_err());
    assert_eq!(err["code"], "invalid_event");
    let err = error_of(engine.apply_input(s + 10_000, o, 2, k).unwrap_err());
    assert_eq!(err["code"], "invalid_state");
    // And the engine still works.
    let [s, o, e, k] = write_input(&engine, ["", "", &order("o9", "1.00"), ""]);
    assert!(engine.apply_input(s, o, e, k).is_ok());
}

/// The serde-wasm-bindgen twins the bench compares give what the text calls give.
#[cfg(feature = "objects")]
#[wasm_bindgen_test]
fn objects_cross_as_the_texts_do() {
    let engine = Engine::new(&utc_seed(), "", "secret").unwrap();
    let event = order("o1", "300.00");
    let by_text = engine.apply("", "", &event, "").unwrap();
    let by_object = engine.apply_object("", "", js_sys::JSON::parse(&event).unwrap(), "").unwrap();
    assert_eq!(by_object, by_text);
    let state = by_text.split('\n').next().unwrap();
    let view: Value = serde_json::from_str(&engine.view(state).unwrap()).unwrap();
    let view_object: Value = serde_json::from_str(&String::from(js_sys::JSON::stringify(&engine.view_object(state).unwrap()).unwrap())).unwrap();
    assert_eq!(view_object, view);
    let bad = js_sys::JSON::parse(r#"{"id":"e","type":"order.placed","at":"2026-01-10T12:00:00Z","customer":"c1","order":{"id":"o2","currency":"EUR","lines":[{"id":"l1","quantity":"one","unit_price":"1.00"}]}}"#).unwrap();
    assert_eq!(error_of(engine.apply_object(state, "", bad, "").unwrap_err())["code"], "invalid_event");
}
