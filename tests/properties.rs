//! Property tests of the ledger invariants over random histories: the balance always equals
//! the sum of the entries, lots never go negative, refunds never reverse more than was
//! earned, re-applying an event changes nothing, and replaying a history rebuilds the same
//! state byte for byte.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use common::ToJson;
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
enum Step {
    Order { customer: u8, lines: Vec<(i64, u32, u32)> },
    RefundLines { order: usize, line: usize, qty: i64 },
    RefundAmount { order: usize, cents: u32 },
    Cancel { order: usize },
    Adjust { customer: u8, points: i64 },
    Redeem { customer: u8 },
    UseCoupon { customer: u8 },
    Tick { days: u32 },
    Redeliver { back: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..3, prop::collection::vec((1i64..4, 1u32..50_000, 0u32..3_000), 1..4)).prop_map(|(customer, lines)| Step::Order { customer, lines }),
        2 => (0usize..20, 0usize..3, 1i64..3).prop_map(|(order, line, qty)| Step::RefundLines { order, line, qty }),
        1 => (0usize..20, 1u32..60_000).prop_map(|(order, cents)| Step::RefundAmount { order, cents }),
        1 => (0usize..20).prop_map(|order| Step::Cancel { order }),
        1 => (0u8..3, -3_000i64..3_000).prop_filter("non-zero", |(_, p)| *p != 0).prop_map(|(customer, points)| Step::Adjust { customer, points }),
        1 => (0u8..3).prop_map(|customer| Step::Redeem { customer }),
        1 => (0u8..3).prop_map(|customer| Step::UseCoupon { customer }),
        2 => (1u32..120).prop_map(|days| Step::Tick { days }),
        2 => (0usize..10).prop_map(|back| Step::Redeliver { back }),
    ]
}

fn program(policy: &str, mode: &str) -> Value {
    let mut p = seed_program();
    p["negative_balance"] = json!(policy);
    p["expiry"] = json!({"mode": mode, "after": "P6M", "warn_before": ["P1M", "P7D"]});
    p["rewards"] = json!([
        {"id": "auto", "auto": true, "points": 5000, "coupon": {"type": "percent", "value": "10", "valid_for": "P30D"}},
        {"id": "ship", "points": 700, "coupon": {"type": "free_shipping", "valid_for": "P14D"}}
    ]);
    p
}

fn at(day: u32) -> String {
    let t = ms("2026-01-01T10:00:00+01:00") + day as i64 * 86_400_000;
    loyalty_engine::time::format_instant(t, 0)
}

/// Runs the steps, checking invariants after each; returns the events that were applied.
fn run(h: &mut Harness, steps: &[Step]) -> Vec<Value> {
    let mut applied: Vec<Value> = vec![];
    let mut orders: Vec<(String, usize)> = vec![];
    let mut day = 0;
    for (i, s) in steps.iter().enumerate() {
        day += 1;
        let id = format!("e{i}");
        let event = match s {
            Step::Order { customer, lines } => {
                let oid = format!("o{i}");
                orders.push((oid.clone(), lines.len()));
                let lines: Vec<Value> = lines
                    .iter()
                    .enumerate()
                    .map(|(n, (q, cents, disc))| {
                        let gross = *q as u32 * cents;
                        json!({"id": format!("l{n}"), "quantity": q, "unit_price": format!("{}.{:02}", cents / 100, cents % 100),
                               "discount": format!("{}.{:02}", disc.min(&gross) / 100, disc.min(&gross) % 100)})
                    })
                    .collect();
                json!({"id": id, "type": "order.placed", "at": at(day), "customer": format!("c{customer}"), "order": {"id": oid, "currency": "EUR", "lines": lines}})
            }
            Step::RefundLines { order, line, qty } if !orders.is_empty() => {
                let (oid, n) = &orders[order % orders.len()];
                json!({"id": id, "type": "order.refunded", "at": at(day), "order_id": oid, "lines": [{"id": format!("l{}", line % n), "quantity": qty}]})
            }
            Step::RefundAmount { order, cents } if !orders.is_empty() => {
                let (oid, _) = &orders[order % orders.len()];
                json!({"id": id, "type": "order.refunded", "at": at(day), "order_id": oid, "amount": format!("{}.{:02}", cents / 100, cents % 100)})
            }
            Step::Cancel { order } if !orders.is_empty() => {
                json!({"id": id, "type": "order.cancelled", "at": at(day), "order_id": orders[order % orders.len()].0})
            }
            Step::Adjust { customer, points } => {
                json!({"id": id, "type": "points.adjusted", "at": at(day), "customer": format!("c{customer}"), "points": points, "reason": "test", "by": "prop"})
            }
            Step::Redeem { customer } => json!({"id": id, "type": "reward.redeemed", "at": at(day), "customer": format!("c{customer}"), "reward": "ship"}),
            Step::UseCoupon { customer } => {
                let code = h.states.get(&format!("c{customer}")).and_then(|s| s.coupons.first()).map(|c| c.code.to_string()).unwrap_or_else(|| "LOY-NONE".into());
                json!({"id": id, "type": "coupon.used", "at": at(day), "customer": format!("c{customer}"), "code": code})
            }
            Step::Tick { days } => {
                day += days;
                let mut ticked = vec![];
                for c in ["c0", "c1", "c2"] {
                    if h.states.contains_key(c) {
                        let e = json!({"id": format!("{id}-{c}"), "type": "clock.tick", "at": at(day), "customer": c});
                        h.ok(e.clone());
                        ticked.push(e);
                    }
                }
                applied.extend(ticked);
                continue;
            }
            Step::Redeliver { back } if !applied.is_empty() => {
                let e = applied[applied.len() - 1 - back % applied.len().min(10)].clone();
                let customer = e["customer"].as_str().map(String::from).or_else(|| {
                    let oid = e["order_id"].as_str()?;
                    h.orders.get(oid).map(|o| o.customer.clone())
                });
                let before = customer.as_ref().and_then(|c| h.states.get(c)).cloned();
                let ledger = h.ledger.len();
                let out = h.ok(e.clone());
                if e["type"] != "clock.tick" {
                    assert!(out.duplicate || out.skipped.is_some(), "a redelivery must be recognised: {e}");
                }
                assert_eq!(h.ledger.len(), ledger, "a redelivery writes no entries: {e}");
                assert_eq!(customer.and_then(|c| h.states.get(&c).cloned()).map(|s| s.balance), before.map(|s| s.balance));
                continue;
            }
            _ => continue,
        };
        // Errors are allowed (a refund of more units than remain): they must change nothing.
        let before = (h.states.clone(), h.orders.clone(), h.ledger.len());
        match h.send(event.clone()) {
            Ok(_) => applied.push(event),
            Err(_) => assert_eq!((h.states.clone(), h.orders.clone(), h.ledger.len()), before, "an error changed state"),
        }
    }
    applied
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn ledger_invariants_hold(steps in prop::collection::vec(step(), 1..60), clamp in any::<bool>(), per_lot in any::<bool>()) {
        let p = program(if clamp { "clamp" } else { "allow" }, if per_lot { "per_lot" } else { "rolling" });
        let mut h = Harness::new(&p);
        let applied = run(&mut h, &steps);
        for (c, s) in &h.states {
            let earned: i64 = h.ledger.iter().filter(|e| &e.customer == c && e.points > 0).map(|e| e.points).sum();
            prop_assert!(s.totals.reversed <= s.totals.earned, "reversed {} > earned {}", s.totals.reversed, s.totals.earned);
            prop_assert!(earned >= s.totals.earned);
            if clamp {
                prop_assert!(s.debt == 0 && s.balance >= 0, "clamp never leaves debt");
            }
        }
        // Rebuilding every account from its events gives the same state, byte for byte.
        let mut again = Harness::new(&p);
        for e in applied {
            again.ok(e);
        }
        for (c, s) in &h.states {
            prop_assert_eq!(s.to_json(), again.states[c].to_json());
        }
    }
}
