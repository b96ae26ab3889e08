//! The simulation against the engine applied event by event: same totals, ticks that reach
//! exactly the due accounts, referrals applied right after their event, bad lines named.
mod common;

use common::*;
use loyalty_engine::earn::OrderRecord;
use loyalty_engine::engine::Effect;
use loyalty_engine::event::Body;
use loyalty_engine::ledger::Account;
use loyalty_engine::simulate::Simulation;
use loyalty_engine::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;

fn simulation(program: &Value) -> Simulation {
    Simulation::new(engine(program).unwrap())
}

/// The report of a whole history fed in one chunk.
fn report(program: &Value, events: &[Value]) -> Value {
    let mut sim = simulation(program);
    sim.feed(&jsonl(events)).unwrap();
    serde_json::from_str(&sim.finish().unwrap()).unwrap()
}

/// A deterministic history: orders of 3 lines, refunds of a line, cancellations,
/// redemptions and a daily tick without a customer, over `days`.
fn history(customers: usize, days: i64) -> Vec<Value> {
    let mut seed: u64 = 7;
    let mut rnd = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let start = ms("2026-01-01T00:00:00Z");
    let iso = |t: i64| {
        let s = start / 1000 + t;
        let (d, r) = (s.div_euclid(86_400), s.rem_euclid(86_400));
        let date = loyalty_engine::time::Date(d);
        format!("{}T{:02}:{:02}:{:02}Z", date, r / 3600, r % 3600 / 60, r % 60)
    };
    let mut out = vec![];
    // Order id, line l2 units refunded so far, cancelled: refunding more is an error.
    let mut orders: Vec<(String, u8, bool)> = vec![];
    for day in 0..days {
        for k in 0..(customers as u64 / 3).max(1) {
            // The active half of the customers moves on over time, so old points expire.
            let c = format!("c{}", rnd(customers as u64 / 2) as i64 + day * customers as i64 / 2 / days);
            let t = day * 86_400 + 3600 + k as i64 * 60;
            let pick = rnd(orders.len().max(1) as u64) as usize;
            match rnd(40) {
                0 if !orders.is_empty() => {
                    let (o, refunded, cancelled) = &mut orders[pick];
                    if *cancelled || *refunded == 2 {
                        continue;
                    }
                    *refunded += 1;
                    out.push(json!({"id": format!("rf{day}-{k}"), "type": "order.refunded", "at": iso(t), "order_id": o, "lines": [{"id": "l2", "quantity": 1}]}));
                }
                1 if !orders.is_empty() => {
                    let (o, _, cancelled) = &mut orders[pick];
                    *cancelled = true;
                    out.push(json!({"id": format!("cx{day}-{k}"), "type": "order.cancelled", "at": iso(t), "order_id": o}));
                }
                2 | 3 => out.push(json!({"id": format!("rd{day}-{k}"), "type": "reward.redeemed", "at": iso(t), "customer": c, "reward": "threshold-10pct"})),
                _ => {
                    let id = format!("o{day}-{k}");
                    let price = |n: u64| format!("{}.{:02}", 5 + n / 100, n % 100);
                    out.push(json!({"id": format!("ev-{id}"), "type": "order.placed", "at": iso(t), "customer": c, "order": {"id": id, "currency": "EUR", "lines": [
                        {"id": "l1", "sku": "TEE", "quantity": 1 + rnd(3), "unit_price": price(rnd(8000)), "discount": "1.00"},
                        {"id": "l2", "sku": "MUG", "quantity": 2, "unit_price": price(rnd(3000))},
                        {"id": "l3", "sku": "CAP", "quantity": 1, "unit_price": price(rnd(20000))}]}}));
                    orders.push((id, 0, false));
                }
            }
        }
        out.push(json!({"id": format!("tick-{day}"), "type": "clock.tick", "at": iso(day * 86_400 + 23 * 3600)}));
    }
    out
}

fn iso(ms: i64) -> String {
    let s = ms / 1000;
    format!("{}T{:02}:{:02}:{:02}Z", loyalty_engine::time::Date(s.div_euclid(86_400)), s.rem_euclid(86_400) / 3600, s % 3600 / 60, s % 60)
}

fn jsonl(events: &[Value]) -> Vec<u8> {
    events.iter().map(|e| e.to_string() + "\n").collect::<String>().into_bytes()
}

/// The engine applied one event at a time, as a host with every account at hand would:
/// a tick without a customer goes to each account due by then, derived events at once.
fn one_by_one(engine: &Engine, events: &[Value]) -> (HashMap<String, Account>, HashMap<String, i64>) {
    let mut states: HashMap<String, Account> = HashMap::new();
    let mut orders: HashMap<String, OrderRecord> = HashMap::new();
    let mut coupons: HashMap<String, i64> = HashMap::new();
    let mut queue: Vec<String> = events.iter().rev().map(|e| e.to_string()).collect();
    while let Some(text) = queue.pop() {
        let e = engine.parse_event(&text).unwrap();
        let order = e.order_id().and_then(|id| orders.get(id)).cloned();
        let customers: Vec<String> = match (&e.customer, &e.body, &order) {
            (Some(c), _, _) => vec![c.clone()],
            (None, Body::ClockTick, _) => states.values().filter(|s| s.next_due.is_some_and(|d| d <= e.at)).map(|s| s.customer.clone()).collect(),
            (None, _, Some(o)) => vec![o.customer.clone()],
            (None, _, None) => vec![],
        };
        let mut derived = vec![];
        for c in customers {
            let order = order.clone().filter(|o| o.customer == c);
            let out = engine.apply(states.remove(&c), order, &e).unwrap();
            if let Some(o) = out.order {
                orders.insert(o.id.clone(), o);
            }
            for effect in out.effects {
                match effect {
                    Effect::CouponIssued { reward, .. } => *coupons.entry(reward).or_default() += 1,
                    Effect::Event { event } => derived.push(event.to_string()),
                    _ => {}
                }
            }
            states.insert(c, out.state);
        }
        queue.extend(derived.into_iter().rev());
    }
    (states, coupons)
}

/// The whole history through `Engine::apply_batch`, and the coupons it issued per reward.
fn batch(program: &Value, events: &[Value]) -> (loyalty_engine::engine::Batch, HashMap<String, i64>) {
    let engine = engine(program).unwrap();
    let all: Vec<_> = events.iter().map(|e| engine.parse_event(&e.to_string()).unwrap()).collect();
    let batch = engine.apply_batch(HashMap::new(), HashMap::new(), &all).unwrap();
    let mut coupons = HashMap::new();
    for e in &batch.effects {
        if let Effect::CouponIssued { reward, .. } = e {
            *coupons.entry(reward.clone()).or_default() += 1;
        }
    }
    (batch, coupons)
}

fn assert_same(r: &Value, states: &HashMap<String, Account>, coupons: &HashMap<String, i64>) {
    let sum = |f: fn(&Account) -> i64| states.values().map(f).sum::<i64>();
    assert_eq!(r["customers"], states.len());
    assert_eq!(r["points"], json!({
        "issued": sum(|a| a.totals.earned), "adjusted": sum(|a| a.totals.adjusted), "redeemed": sum(|a| a.totals.redeemed),
        "expired": sum(|a| a.totals.expired), "reversed": sum(|a| a.totals.reversed), "forgiven": sum(|a| a.totals.forgiven),
        "donated": sum(|a| a.totals.donated), "restored": sum(|a| a.totals.restored), "outstanding": sum(|a| a.balance), "pending": sum(|a| a.pending),
    }));
    assert_eq!(r["rewards"], json!(coupons));
    assert_eq!(r["coupons"], coupons.values().sum::<i64>());
}

#[test]
fn totals_equal_the_events_applied_one_by_one_whatever_the_chunks() {
    let program = seed_program();
    let events = history(30, 500);
    let (states, coupons) = one_by_one(&engine(&program).unwrap(), &events);
    let r = report(&program, &events);
    assert_same(&r, &states, &coupons);
    assert_eq!(r["events"], events.len());
    // The history exercises every total, or the comparison proves little.
    let p = &r["points"];
    assert!(["issued", "redeemed", "expired", "reversed"].iter().all(|k| p[k].as_i64().unwrap() > 0), "{r}");
    assert!(r["coupons"].as_i64().unwrap() > 10, "{r}");

    // Chunks that cut lines anywhere, and a last line without its newline, change nothing.
    let bytes = jsonl(&events);
    let mut chunked = simulation(&program);
    for c in bytes[..bytes.len() - 1].chunks(997) {
        chunked.feed(c).unwrap();
    }
    assert_eq!(serde_json::from_str::<Value>(&chunked.finish().unwrap()).unwrap(), r);
}

#[test]
fn totals_equal_apply_batch_over_the_whole_history() {
    let program = seed_program();
    let events = history(20, 400);
    let (batch, coupons) = batch(&program, &events);
    let r = report(&program, &events);
    assert_same(&r, &batch.states, &coupons);
    assert_eq!(r["skipped"], batch.skipped.len());
}

#[test]
fn a_tick_without_a_customer_reaches_the_due_accounts_only() {
    // c1 earns in January, c2 in June: by the next February only c1's points have expired.
    let events = [
        eur("o1", "2026-01-10T12:00:00+01:00", "c1", "10.00"),
        eur("o2", "2026-06-10T12:00:00+02:00", "c2", "20.00"),
        json!({"id": "t1", "type": "clock.tick", "at": "2027-02-01T00:00:00+01:00"}),
    ];
    let r = report(&seed_program(), &events);
    let p = &r["points"];
    assert_eq!((&p["issued"], &p["expired"], &p["outstanding"]), (&json!(300), &json!(100), &json!(200)));
    // Applied: two orders, and the tick once, on c1 (c2 is not due).
    assert_eq!(r["applied"], 3);
}

#[test]
fn a_tick_still_reaches_an_account_after_the_due_index_is_rebuilt() {
    // Daily orders move c0's rolling expiry and leave stale index entries; past 1,026 the
    // index is rebuilt from the accounts, here during the last order, c0's own event.
    let day = ms("2026-01-10T12:00:00Z");
    let mut events: Vec<Value> = (0..1097).map(|i| eur(&format!("o{i}"), &iso(day + i * 86_400_000), "c0", "1.00")).collect();
    events.push(json!({"id": "t1", "type": "clock.tick", "at": "2031-01-01T00:00:00Z"}));
    let r = report(&seed_program(), &events);
    let p = &r["points"];
    let n = events.len() as i64 - 1;
    assert_eq!((&p["issued"], &p["redeemed"]), (&json!(n * 10), &json!(n * 10 / 5000 * 5000)));
    assert_eq!((&p["expired"], &p["outstanding"]), (&json!(n * 10 % 5000), &json!(0)), "the tick reached c0: {r}");
}

#[cfg(feature = "status")]
#[test]
fn referrals_pay_the_referrer_right_after_the_friends_order() {
    let mut program = seed_program();
    program["referral"] = json!({"referrer_points": 1000, "friend_reward": "welcome"});
    program["rewards"].as_array_mut().unwrap().push(json!({"id": "welcome", "points": 1, "coupon": {"type": "fixed", "value": "10.00", "valid_for": "P60D"}}));
    let events = [
        eur("o0", "2026-01-01T10:00:00+01:00", "alice", "1.00"),
        json!({"id": "ref1", "type": "action.completed", "at": "2026-01-02T10:00:00+01:00", "customer": "bob", "action": "referral", "ref": "alice"}),
        eur("o1", "2026-01-03T10:00:00+01:00", "bob", "50.00"),
        // Alice can spend the referral points on the very next event.
        json!({"id": "rd1", "type": "reward.redeemed", "at": "2026-01-03T10:00:01+01:00", "customer": "alice", "reward": "welcome"}),
    ];
    let (states, coupons) = one_by_one(&engine(&program).unwrap(), &events);
    let r = report(&program, &events);
    assert_same(&r, &states, &coupons);
    assert_eq!(r["points"]["issued"], 10 + 1000 + 500);
    assert_eq!(r["rewards"], json!({"welcome": 2}), "bob's welcome gift and alice's redemption");
    assert_eq!(r["points"]["redeemed"], 1);
}

#[test]
fn a_bad_line_names_its_line_number_and_field() {
    let program = seed_program();
    let mut sim = simulation(&program);
    let good = eur("o1", "2026-01-10T12:00:00+01:00", "c1", "10.00").to_string();
    let bad = good.replace("\"EUR\"", "\"USD\"").replace("ev-o1", "ev-o2");
    let err = sim.feed(format!("{good}\n\n{bad}\n").as_bytes()).unwrap_err();
    assert_eq!(err.code, "invalid_event");
    assert_eq!(err.path, "line 3: order.currency", "{err}");
    assert!(sim.feed(b"\n").is_err() && sim.finish().is_err(), "a failed simulation stays failed");

    let mut sim = simulation(&program);
    let err = sim.feed(b"{\"id\":\"x\",\n").and_then(|_| sim.feed(b"{oops\n")).unwrap_err();
    assert!(err.path.starts_with("line 1"), "{err}");
    let mut sim = simulation(&program);
    sim.feed(good.as_bytes()).unwrap();
    let err = sim.feed(b"\n{\"id\":\"t\",\"type\":\"clock.tock\",\"at\":\"2026-01-11T00:00:00Z\"}").and_then(|_| sim.finish().map(|_| 0)).unwrap_err();
    assert_eq!(err.path, "line 2: type", "a last line without a newline is read too");
}

#[test]
fn the_report_lists_every_total_even_when_nothing_happened() {
    let r = report(&seed_program(), &[eur("o1", "2026-01-10T12:00:00+01:00", "c1", "123.45")]);
    assert_eq!(r, json!({"program": "demo", "currency": "EUR", "events": 1, "applied": 1, "skipped": 0, "customers": 1,
        "points": {"issued": 1234, "adjusted": 0, "redeemed": 0, "expired": 0, "reversed": 0, "forgiven": 0, "donated": 0, "restored": 0, "outstanding": 1234, "pending": 0},
        "rewards": {}, "coupons": 0, "liability": {"points": 1234, "value": null}}));
}

#[test]
fn donated_and_given_back_points_are_reported() {
    let mut program = seed_program();
    program["donations"] = json!({"charities": [{"id": "trees", "name": "Trees for All"}]});
    program["rewards"].as_array_mut().unwrap().push(json!({"id": "five-off", "name": "5 off", "points": 500, "coupon": {"type": "fixed", "value": "5.00", "valid_for": "P30D"}}));
    let mut events = vec![
        eur("o1", "2026-01-10T12:00:00+01:00", "c1", "100.00"),
        json!({"id": "d1", "type": "points.donated", "at": "2026-01-11T12:00:00+01:00", "customer": "c1", "charity": "trees", "points": 200}),
        json!({"id": "r1", "type": "reward.redeemed", "at": "2026-01-12T12:00:00+01:00", "customer": "c1", "reward": "five-off"}),
    ];
    let (states, _) = one_by_one(&engine(&program).unwrap(), &events);
    let code = states["c1"].coupons[0].code.to_string();
    events.push(json!({"id": "x1", "type": "coupon.cancelled", "at": "2026-01-13T12:00:00+01:00", "customer": "c1", "code": code}));
    let (states, coupons) = one_by_one(&engine(&program).unwrap(), &events);
    let r = report(&program, &events);
    assert_same(&r, &states, &coupons);
    let p = &r["points"];
    assert_eq!((&p["issued"], &p["donated"], &p["redeemed"], &p["restored"], &p["outstanding"]), (&json!(1000), &json!(200), &json!(500), &json!(500), &json!(800)));
}

#[test]
fn a_stock_limited_reward_is_counted_across_the_replay() {
    // Three customers ask for a reward with a stock of 2: the third is refused, not the replay.
    let mut program = seed_program();
    program["rewards"].as_array_mut().unwrap().push(json!({"id": "tote", "points": 100, "stock": 2, "coupon": {"type": "free_product", "product": "TOTE-01", "valid_for": "P30D"}}));
    let mut events = vec![];
    for c in ["c1", "c2", "c3"] {
        events.push(eur(&format!("o-{c}"), "2026-01-10T12:00:00+01:00", c, "50.00"));
        events.push(json!({"id": format!("r-{c}"), "type": "reward.redeemed", "at": "2026-01-11T12:00:00+01:00", "customer": c, "reward": "tote"}));
    }
    let (batch, coupons) = batch(&program, &events);
    assert_eq!(coupons, HashMap::from([("tote".to_string(), 2)]));
    let r = report(&program, &events);
    assert_same(&r, &batch.states, &coupons);
    assert_eq!(r["skipped"], batch.skipped.len());
    assert_eq!(r["skipped"], 1, "the third redemption is out of stock: {r}");
}

/// `Simulation` applies without detail: the same rules must leave the same states and order
/// records, and issue the same coupons, as `apply` with every entry and notification.
#[test]
fn without_detail_states_records_and_coupons_are_the_same() {
    let engine = engine(&seed_program()).unwrap();
    let (mut full, mut lean): (HashMap<String, Account>, HashMap<String, Account>) = Default::default();
    let mut orders: HashMap<String, OrderRecord> = HashMap::new();
    let coupons = |o: &loyalty_engine::Outcome| -> Vec<(String, i64)> {
        o.effects.iter().filter_map(|e| match e {
            Effect::CouponIssued { reward, points, .. } => Some((reward.clone(), *points)),
            _ => None,
        }).collect()
    };
    let (mut entries, mut issued) = (0, 0);
    for e in history(30, 500) {
        let e = engine.parse_event(&e.to_string()).unwrap();
        let customers: Vec<String> = match (&e.customer, &e.body) {
            (Some(c), _) => vec![c.clone()],
            (None, Body::ClockTick) => full.values().filter(|s| s.next_due.is_some_and(|d| d <= e.at)).map(|s| s.customer.clone()).collect(),
            (None, _) => e.order_id().and_then(|id| orders.get(id)).map(|o| o.customer.clone()).into_iter().collect(),
        };
        for c in customers {
            let order = e.order_id().and_then(|id| orders.get(id)).filter(|o| o.customer == c).cloned();
            let a = engine.apply(full.remove(&c), order.clone(), &e).unwrap();
            let b = engine.apply_detail(lean.remove(&c), order, &e, None, false).unwrap();
            assert_eq!((&a.state, &a.order, &a.skipped), (&b.state, &b.order, &b.skipped), "event {}", e.id);
            assert_eq!(coupons(&a), coupons(&b));
            assert!(b.entries.is_empty() && !b.effects.iter().any(|e| matches!(e, Effect::Notify { .. })));
            (entries, issued) = (entries + a.entries.len(), issued + coupons(&a).len());
            if let Some(o) = a.order {
                orders.insert(o.id.clone(), o);
            }
            full.insert(c.clone(), a.state);
            lean.insert(c, b.state);
        }
    }
    assert!(entries > 1000 && issued > 10, "{entries} entries, {issued} coupons");
}
