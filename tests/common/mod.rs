//! Test harness: an engine plus the in-memory bookkeeping a host does (accounts, order
//! records, the ledger), checking the ledger invariants after every event.
#![allow(dead_code)]

use loyalty_engine::earn::OrderRecord;
use loyalty_engine::ledger::{Account, Entry};
use loyalty_engine::time::{parse_instant, Date, Zone};
use loyalty_engine::{Engine, Error, Outcome, View};
use serde_json::{json, Value};
use std::collections::HashMap;

pub mod schema;

/// The JSON text a host stores and reads back: serde_json over the engine's derives.
pub trait ToJson {
    fn to_json(&self) -> String;
}
impl<T: serde::Serialize + ?Sized> ToJson for T {
    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap()
    }
}

/// EU summer time (last Sunday of March to last Sunday of October, 01:00 UTC), the rule
/// Europe/Oslo has followed since 1996; the JS shim reads the same from Intl.
pub fn eu_zone(name: &str, standard: i32) -> Zone {
    let last_sunday = |y: i64, m: u32| {
        let last = Date::from_ymd(y, m, 31).unwrap();
        // 1970-01-01 was a Thursday: weekday 0 = Monday.
        let weekday = (last.0 + 3).rem_euclid(7);
        (last.0 - (weekday - 6).rem_euclid(7)) * 86_400 + 3600
    };
    let mut changes = vec![];
    for y in 1996..2038 {
        changes.push((last_sunday(y, 3), standard + 3600));
        changes.push((last_sunday(y, 10), standard));
    }
    Zone { name: name.into(), offset: standard, changes }
}

pub fn zone_for(name: &str) -> Option<Zone> {
    match name {
        "Europe/Oslo" | "Europe/Berlin" | "Europe/Paris" => Some(eu_zone(name, 3600)),
        _ => None, // UTC, or a zone the engine must refuse for want of a table
    }
}

pub fn seed_program() -> Value {
    serde_json::from_str(include_str!("../../presets/seed.json")).unwrap()
}

pub fn engine(program: &Value) -> Result<Engine, Error> {
    let zone = zone_for(program["timezone"].as_str().unwrap_or("UTC"));
    Engine::new(&program.to_string(), zone, b"test-secret")
}

pub struct Harness {
    pub engine: Engine,
    pub states: HashMap<String, Account>,
    pub orders: HashMap<String, OrderRecord>,
    pub ledger: Vec<Entry>,
    pub effects: Vec<Value>,
    /// Coupons issued per stock-limited reward, as a host counts them.
    pub stock: HashMap<String, i64>,
}

impl Harness {
    pub fn new(program: &Value) -> Harness {
        Harness { engine: engine(program).expect("program is valid"), states: HashMap::new(), orders: HashMap::new(), ledger: vec![], effects: vec![], stock: HashMap::new() }
    }
    pub fn seed() -> Harness {
        Harness::new(&seed_program())
    }

    /// Applies an event as a host would, checking the invariants afterwards.
    pub fn send(&mut self, event: Value) -> Result<Outcome, Error> {
        let e = self.engine.parse_event(&event.to_string())?;
        let order = e.order_id().and_then(|id| self.orders.get(id)).cloned();
        let customer = e.customer.clone().or_else(|| order.as_ref().map(|o| o.customer.clone())).expect("customer");
        let before = self.states.get(&customer).cloned();
        let out = self.engine.apply_with(before, order, &e, Some(&self.stock))?;
        loyalty_engine::reward::count_stock(&self.engine.program, &mut self.stock, &out.effects);
        if let Some(o) = &out.order {
            self.orders.insert(o.id.clone(), o.clone());
        }
        self.ledger.extend(out.entries.iter().cloned());
        self.effects.extend(out.effects.iter().map(|x| serde_json::from_str::<Value>(&x.to_json()).unwrap()));
        self.states.insert(customer.clone(), out.state.clone());
        self.check(&customer);
        self.check_schemas(&out, &customer, &event);
        // Events the engine asks for on other accounts (a referrer's reward) follow at once.
        for e in &out.effects {
            if let loyalty_engine::engine::Effect::Event { event, .. } = e {
                self.send(event.clone())?;
            }
        }
        Ok(out)
    }

    pub fn ok(&mut self, event: Value) -> Outcome {
        self.send(event).unwrap_or_else(|e| panic!("event failed: {e}"))
    }

    /// Ticks every known account at `at`.
    pub fn tick(&mut self, at: &str) -> Vec<Outcome> {
        let mut customers: Vec<String> = self.states.keys().cloned().collect();
        customers.sort();
        customers.iter().map(|c| self.ok(json!({"id": format!("tick-{at}"), "type": "clock.tick", "at": at, "customer": c}))).collect()
    }

    pub fn check(&self, customer: &str) {
        let s = &self.states[customer];
        let sum: i64 = self.ledger.iter().filter(|e| e.customer == customer).map(|e| e.points).sum();
        assert_eq!(s.balance, sum, "balance must equal the sum of the ledger entries");
        assert!(s.lots.iter().all(|l| l.remaining > 0 && l.remaining <= l.points), "lots never go negative");
        let held: i64 = s.lots.iter().map(|l| l.remaining).sum();
        assert_eq!(held - s.debt, s.balance, "balance = lots - debt");
        for o in self.orders.values() {
            assert!(o.reversed >= 0 && o.reversed <= o.earned, "order {} reversed {} of {}", o.id, o.reversed, o.earned);
        }
        // The stored form reads back to the same account.
        let text = s.to_json();
        assert_eq!(&Account::parse(&text).unwrap(), s, "state must round-trip through JSON");
        // And the text is what serde_json would read and write back unchanged.
        let again: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&again).unwrap().len(), text.len());
    }

    /// What the engine wrote for an event, and the account's view and a quote after it, are
    /// what the generated response schemas say.
    fn check_schemas(&self, out: &Outcome, customer: &str, event: &Value) {
        schema::check("outcome", out);
        let state = &self.states[customer];
        schema::check("account-view", &self.engine.view(state));
        let cart = json!({ "at": event["at"], "currency": self.engine.program.currency, "lines": [{ "id": "l1", "quantity": 2, "unit_price": "40" }], "shipping": "5" });
        if let Ok(q) = self.engine.quote(Some(state), &cart.to_string()) {
            schema::check("quote", &q);
        }
    }

    pub fn view(&self, customer: &str) -> View {
        self.engine.view(&self.states[customer])
    }
    pub fn balance(&self, customer: &str) -> i64 {
        self.states[customer].balance
    }
}

/// An `order.placed` event with lines given as (id, quantity, unit_price, discount).
pub fn order(id: &str, at: &str, customer: &str, currency: &str, lines: &[(&str, i64, &str, &str)]) -> Value {
    let lines: Vec<Value> = lines.iter().map(|(l, q, p, d)| json!({"id": l, "quantity": q, "unit_price": p, "discount": d})).collect();
    json!({"id": format!("ev-{id}"), "type": "order.placed", "at": at, "customer": customer,
           "order": {"id": id, "currency": currency, "lines": lines}})
}

pub fn eur(id: &str, at: &str, customer: &str, amount: &str) -> Value {
    order(id, at, customer, "EUR", &[("l1", 1, amount, "0")])
}

pub fn ms(s: &str) -> i64 {
    parse_instant(s).unwrap()
}
