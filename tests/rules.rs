//! One test per rule of the engine core, on the seed program unless a rule needs another.
mod common;

use common::*;
use loyalty_engine::engine::Effect;
use loyalty_engine::ledger::EntryKind;
use serde_json::{json, Value};

fn notifications(h: &Harness, trigger: &str) -> Vec<Value> {
    h.effects.iter().filter(|e| e["type"] == "notify" && e["trigger"] == trigger).cloned().collect()
}

#[test]
fn seed_program_earns_rewards_warns_and_expires() {
    let mut h = Harness::seed();
    let out = h.ok(order("o1", "2026-01-10T12:00:00+01:00", "c1", "EUR", &[("l1", 2, "129.90", "10.00")]));
    assert_eq!(out.entries[0].points, 2498, "floor(249.80 x 10)");
    assert_eq!(out.entries[0].rules, vec!["earn:10 points per EUR", "rounding:floor"]);
    let out = h.ok(eur("o2", "2026-02-01T12:00:00+01:00", "c1", "300.00"));
    // 5498 points reach the 5000 threshold: debited at once, coupon issued.
    let kinds: Vec<_> = out.entries.iter().map(|e| (e.kind, e.points, e.balance_after)).collect();
    assert_eq!(kinds, vec![(EntryKind::Earn, 3000, 5498), (EntryKind::Redeem, -5000, 498)]);
    let coupon = match &out.effects[0] {
        Effect::CouponIssued { coupon, .. } => coupon.clone(),
        e => panic!("expected coupon.issued, got {e:?}"),
    };
    assert!(coupon.code.starts_with("LOY-") && coupon.code.len() == 18, "{}", coupon.code);
    assert_eq!(coupon.value.as_deref(), Some("10"));
    assert_eq!(coupon.min_order.as_deref(), Some("100.00"));
    assert_eq!(coupon.expires_at.as_deref(), Some("2026-03-03T23:59:59.999+01:00"), "30 days, end of the local day");
    let rewards = notifications(&h, "reward_earned");
    assert_eq!(rewards.len(), 1);
    assert_eq!(rewards[0]["channels"], json!(["email", "push"]));
    assert_eq!(rewards[0]["data"]["coupon"]["code"], json!(&*coupon.code));

    let v = h.view("c1");
    assert_eq!(v.balance, 498);
    let next = v.next_expiry.unwrap();
    assert_eq!((next.points, next.at.as_str()), (498, "2027-02-01T23:59:59.999+01:00"), "12 months after the last order");

    // Warnings: P2M before is due 2026-12-01; several passed at once send only the nearest.
    h.tick("2026-11-30T23:00:00+01:00");
    assert!(notifications(&h, "points_expiring").is_empty());
    h.tick("2026-12-01T00:00:00+01:00");
    let w = notifications(&h, "points_expiring");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["data"]["points"], 498);
    assert_eq!(w[0]["data"]["expires_on"], "2027-02-01");
    h.tick("2026-12-02T00:00:00+01:00");
    assert_eq!(notifications(&h, "points_expiring").len(), 1, "each warning once");
    h.tick("2027-01-26T09:00:00+01:00");
    assert_eq!(notifications(&h, "points_expiring").len(), 2, "P1M, P14D and P7D all passed: one warning");
    h.tick("2027-01-31T09:00:00+01:00");
    assert_eq!(notifications(&h, "points_expiring").len(), 2);

    // Still valid on the last local day, gone the next.
    h.tick("2027-02-01T23:59:59+01:00");
    assert_eq!(h.balance("c1"), 498);
    let out = h.tick("2027-02-02T00:00:00+01:00").remove(0);
    assert_eq!(h.balance("c1"), 0);
    assert_eq!(out.entries[0].kind, EntryKind::Expire);
    assert_eq!(out.entries[0].at, "2027-02-01T23:59:59.999+01:00");
    assert_eq!(out.entries[0].lots.iter().map(|t| t.points).sum::<i64>(), 498, "the expiry names the lots it took");
    assert!(h.view("c1").next_expiry.is_none());
}

#[test]
fn every_order_renews_rolling_validity_and_restarts_warnings() {
    let mut h = Harness::seed();
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "10.00"));
    h.tick("2026-11-11T00:00:00+01:00");
    assert_eq!(notifications(&h, "points_expiring").len(), 1);
    h.ok(eur("o2", "2026-11-20T12:00:00+01:00", "c1", "10.00"));
    let v = h.view("c1");
    assert_eq!(v.next_expiry.unwrap().at, "2027-11-20T23:59:59.999+01:00", "the old points are renewed too");
    assert_eq!(h.states["c1"].next_due, Some(ms("2027-09-20T00:00:00+02:00")), "next warning, 2 months before");
    h.tick("2027-01-11T00:00:00+01:00");
    assert_eq!(h.balance("c1"), 200, "nothing expired on the old date");
    h.tick("2027-09-20T00:00:00+02:00");
    assert_eq!(notifications(&h, "points_expiring").len(), 2, "warnings start afresh for the new date");
}

#[test]
fn per_lot_expiry_takes_each_lot_on_its_own_date() {
    let mut p = seed_program();
    p["expiry"] = json!({"mode": "per_lot", "after": "P6M", "warn_before": ["P7D"]});
    let mut h = Harness::new(&p);
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "10.00"));
    h.ok(eur("o2", "2026-02-10T12:00:00+01:00", "c1", "20.00"));
    let v = h.view("c1");
    assert_eq!((v.next_expiry.as_ref().unwrap().points, v.next_expiry.unwrap().at.as_str()), (100, "2026-07-10T23:59:59.999+02:00"));
    // A spend takes the soonest-expiring lot first.
    h.ok(json!({"id": "adj", "type": "points.adjusted", "at": "2026-03-01T00:00:00+01:00", "customer": "c1", "points": -50, "reason": "correction", "by": "staff"}));
    h.tick("2026-07-04T00:00:00+02:00");
    assert_eq!(notifications(&h, "points_expiring")[0]["data"]["points"], 50, "7 days before");
    h.tick("2026-07-11T00:00:00+02:00");
    assert_eq!(h.balance("c1"), 200, "only the first lot's 50 left expired");
    assert_eq!(h.ledger.last().unwrap().points, -50);
    h.tick("2026-08-04T00:00:00+02:00");
    h.tick("2026-08-11T00:00:00+02:00");
    assert_eq!(h.balance("c1"), 0);
    assert_eq!(notifications(&h, "points_expiring").len(), 2, "one warning per expiry date");
}

#[test]
fn expiry_follows_the_local_day_across_dst() {
    let mut h = Harness::seed();
    // 23:30 UTC on March 29 is already March 30 in Oslo (CEST, +2).
    h.ok(eur("o1", "2026-03-29T22:30:00Z", "c1", "10.00"));
    assert_eq!(h.view("c1").next_expiry.unwrap().at, "2027-03-30T23:59:59.999+02:00");
    // An order in winter time expires in summer time: still the end of the local day.
    h.ok(eur("o2", "2026-03-28T22:30:00Z", "c2", "10.00"));
    assert_eq!(h.view("c2").next_expiry.unwrap().at, "2027-03-28T23:59:59.999+02:00");
    h.tick("2027-03-28T21:59:59Z");
    assert_eq!(h.balance("c2"), 100);
    h.tick("2027-03-28T22:00:00Z");
    assert_eq!(h.balance("c2"), 0, "midnight local is 22:00 UTC in summer");
}

#[test]
fn partial_refunds_reverse_exactly_and_never_more_than_earned() {
    let mut h = Harness::seed();
    // 3 x 33.33 with 0.10 discount: 99.89 -> 998.9 points -> 998.
    h.ok(order("o1", "2026-01-10T12:00:00+01:00", "c1", "EUR", &[("a", 3, "33.33", "0.10"), ("b", 1, "0.05", "0")]));
    assert_eq!(h.balance("c1"), 999, "998.9 + 0.5 = 999.4 -> 999");
    let refund = |n: u32, qty: i64| json!({"id": format!("r{n}"), "type": "order.refunded", "at": "2026-01-20T12:00:00+01:00", "order_id": "o1", "lines": [{"id": "a", "quantity": qty}]});
    // One unit of a: a keeps 2/3 of 998.9 = 665.93 + 0.5 = 666.43 -> 666: reverse 333.
    assert_eq!(h.ok(refund(1, 1)).entries[0].points, -333);
    assert_eq!(h.ok(refund(2, 1)).entries[0].points, -333);
    // The last unit reverses what is left of a's share, so the sum is exact.
    assert_eq!(h.ok(refund(3, 1)).entries[0].points, -333);
    assert_eq!(h.balance("c1"), 0, "what remains (0.5) rounds to 0");
    let err = h.send(refund(4, 1)).unwrap_err();
    assert_eq!(err.path, "lines[0].quantity");
    assert!(err.message.contains("0 units"), "{err}");
    assert_eq!(h.orders["o1"].reversed, 999);
}

#[test]
fn refunds_by_amount_and_cancellations() {
    let mut h = Harness::seed();
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "200.00"));
    let out = h.ok(json!({"id": "r1", "type": "order.refunded", "at": "2026-01-11T12:00:00+01:00", "order_id": "o1", "amount": "50.00"}));
    assert_eq!(out.entries[0].points, -500);
    assert_eq!(out.entries[0].order_id.as_deref(), Some("o1"));
    let out = h.ok(json!({"id": "c1", "type": "order.cancelled", "at": "2026-01-12T12:00:00+01:00", "order_id": "o1"}));
    assert_eq!(out.entries[0].points, -1500, "cancel reverses the rest");
    let out = h.ok(json!({"id": "c2", "type": "order.cancelled", "at": "2026-01-12T12:00:00+01:00", "order_id": "o1"}));
    assert!(out.entries.is_empty() && out.skipped.is_some(), "a second cancel reverses nothing");
    let out = h.ok(json!({"id": "r2", "type": "order.refunded", "at": "2026-01-12T12:00:00+01:00", "customer": "c1", "order_id": "unknown", "amount": "5.00"}));
    assert!(out.skipped.unwrap().contains("not in the ledger"));
    assert_eq!(h.balance("c1"), 0);
}

#[test]
fn refunds_use_the_rules_recorded_at_earn_time() {
    let mut h = Harness::seed();
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "100.00"));
    // The merchant doubles the rate; the old order still reverses at the old rate.
    let mut p = seed_program();
    p["earn"]["points_per_unit"] = json!("20");
    h.engine = engine(&p).unwrap();
    let out = h.ok(json!({"id": "x", "type": "order.cancelled", "at": "2026-02-01T12:00:00+01:00", "order_id": "o1"}));
    assert_eq!(out.entries[0].points, -1000);
}

#[test]
fn negative_balance_allow_carries_debt_and_clamp_forgives() {
    let mut h = Harness::seed();
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "600.00")); // 6000 -> coupon, 1000 left
    h.ok(json!({"id": "x", "type": "order.cancelled", "at": "2026-01-11T12:00:00+01:00", "order_id": "o1"}));
    assert_eq!(h.balance("c1"), -5000, "allow: the coupon's points become debt");
    let out = h.ok(eur("o2", "2026-01-12T12:00:00+01:00", "c1", "100.00"));
    assert_eq!(out.entries[0].balance_after, -4000, "later earns pay it back");
    assert!(out.effects.iter().all(|e| !matches!(e, Effect::CouponIssued { .. })));

    let mut p = seed_program();
    p["negative_balance"] = json!("clamp");
    let mut h = Harness::new(&p);
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "600.00"));
    let out = h.ok(json!({"id": "x", "type": "order.cancelled", "at": "2026-01-11T12:00:00+01:00", "order_id": "o1"}));
    assert_eq!((out.entries[0].points, out.entries[0].forgiven), (-1000, 5000));
    assert_eq!(h.balance("c1"), 0);
    assert_eq!(h.states["c1"].totals.forgiven, 5000);
}

#[test]
fn zero_and_three_decimal_currencies() {
    let mut p = seed_program();
    p["currency"] = json!("JPY");
    p["earn"]["points_per_unit"] = json!("0.01");
    p["rewards"] = json!([{"id": "r", "auto": true, "points": 500, "coupon": {"type": "fixed", "value": "1000", "min_order": "5000"}}]);
    let mut h = Harness::new(&p);
    h.ok(order("o1", "2026-01-10T12:00:00+09:00", "c1", "JPY", &[("l1", 1, "14090", "0")]));
    assert_eq!(h.balance("c1"), 140, "1 point per 100 yen, floored");
    let bad = h.send(order("o2", "2026-01-10T12:00:00+09:00", "c1", "JPY", &[("l1", 1, "14090.5", "0")])).unwrap_err();
    assert_eq!(bad.path, "order.lines[0].unit_price");
    assert!(bad.message.contains("allows 0"), "{bad}");

    p["currency"] = json!("KWD");
    p["earn"]["points_per_unit"] = json!("1");
    p["earn"]["rounding"] = json!("round");
    p["rewards"] = json!([]);
    let mut h = Harness::new(&p);
    h.ok(order("o1", "2026-01-10T12:00:00+03:00", "c1", "KWD", &[("l1", 2, "1.250", "0.001")]));
    assert_eq!(h.balance("c1"), 2, "2.499 rounds to 2");
    assert_eq!(h.orders["o1"].total, 2499, "fils, not cents");
    let bad = h.send(order("o2", "2026-01-10T12:00:00+03:00", "c1", "EUR", &[("l1", 1, "1.00", "0")])).unwrap_err();
    assert_eq!((bad.code, bad.path.as_str()), ("invalid_event", "order.currency"));
}

#[test]
fn taxes_and_shipping_follow_the_program_options() {
    let mut h = Harness::seed();
    let mut e = eur("o1", "2026-01-10T12:00:00+01:00", "c1", "125.00");
    e["order"]["tax"] = json!("25.00");
    e["order"]["taxes_included"] = json!(true);
    e["order"]["shipping"] = json!("9.90");
    h.ok(e.clone());
    assert_eq!(h.balance("c1"), 1000, "tax taken out of prices that include it; shipping excluded");

    let mut p = seed_program();
    p["earn"]["include_shipping"] = json!(true);
    p["earn"]["include_tax"] = json!(true);
    let mut h = Harness::new(&p);
    h.ok(e.clone());
    assert_eq!(h.balance("c1"), 1349, "125.00 + 9.90 shipping");
    e["order"]["id"] = json!("o2");
    e["id"] = json!("ev-o2");
    e["order"]["taxes_included"] = json!(false);
    h.ok(e);
    assert_eq!(h.balance("c1"), 1349 + 1599, "125.00 + 25.00 tax + 9.90 shipping");
}

#[test]
fn carried_remainders_add_up_across_orders() {
    let mut p = seed_program();
    p["earn"]["points_per_unit"] = json!("1");
    p["earn"]["carry_remainder"] = json!(true);
    let mut h = Harness::new(&p);
    for i in 0..4 {
        h.ok(eur(&format!("o{i}"), "2026-01-10T12:00:00+01:00", "c1", "2.50"));
    }
    assert_eq!(h.balance("c1"), 10, "4 x 2.5 points: no half point lost");
    p["earn"]["rounding"] = json!("round");
    let err = engine(&p).err().unwrap();
    assert_eq!(err.path, "earn.carry_remainder");
}

#[test]
fn redelivered_events_change_nothing() {
    let mut h = Harness::seed();
    let e = eur("o1", "2026-01-10T12:00:00+01:00", "c1", "100.00");
    h.ok(e.clone());
    let before = h.states["c1"].clone();
    let again = h.ok(e);
    assert!(again.duplicate && again.entries.is_empty() && again.effects.is_empty());
    assert_eq!(h.states["c1"], before);
    // The same order under another event id (orders/create then orders/paid) earns once.
    let mut other = eur("o1", "2026-01-10T12:05:00+01:00", "c1", "100.00");
    other["id"] = json!("another-delivery");
    let out = h.ok(other);
    assert!(out.entries.is_empty() && out.skipped.unwrap().contains("already recorded"));
    assert_eq!(h.balance("c1"), 1000);
}

#[test]
fn coupons_are_deterministic_used_once_and_expire() {
    let run = || {
        let mut h = Harness::seed();
        h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "500.00"));
        h
    };
    let (mut h, h2) = (run(), run());
    let code = h.states["c1"].coupons[0].code.to_string();
    assert_eq!(*code, *h2.states["c1"].coupons[0].code, "same secret and event: same code");
    let other = loyalty_engine::reward::code(b"another-secret", "ev-o1", 1);
    assert_ne!(code, other, "the secret keys the code");

    let used = json!({"id": "u1", "type": "coupon.used", "at": "2026-01-20T12:00:00+01:00", "customer": "c1", "code": code, "order_id": "o9"});
    let out = h.ok(used.clone());
    assert!(matches!(&out.effects[0], Effect::CouponUsed { .. }));
    let mut again = used;
    again["id"] = json!("u2");
    assert!(h.ok(again).skipped.unwrap().contains("is used"));

    let mut h = run();
    h.tick("2026-02-09T23:59:00+01:00");
    assert_eq!(h.view("c1").coupons[0].status, loyalty_engine::ledger::CouponStatus::Issued);
    h.tick("2026-02-10T00:00:00+01:00");
    assert_eq!(h.view("c1").coupons[0].status, loyalty_engine::ledger::CouponStatus::Expired);
}

#[test]
fn manual_adjustments_both_ways() {
    let mut h = Harness::seed();
    let out = h.ok(json!({"id": "a1", "type": "points.adjusted", "at": "2026-01-10T12:00:00+01:00", "customer": "c1", "points": 250, "reason": "goodwill", "by": "anna"}));
    assert_eq!((out.entries[0].kind, out.entries[0].by.as_deref(), &*out.entries[0].reason), (EntryKind::Adjust, Some("anna"), "goodwill"));
    h.ok(json!({"id": "a2", "type": "points.adjusted", "at": "2026-01-10T12:00:00+01:00", "customer": "c1", "points": -50, "reason": "typo", "by": "anna"}));
    assert_eq!(h.balance("c1"), 200);
    let err = h.send(json!({"id": "a3", "type": "points.adjusted", "at": "2026-01-10T12:00:00+01:00", "customer": "c1", "points": 5, "reason": " ", "by": "anna"})).unwrap_err();
    assert_eq!(err.path, "reason");
}

#[test]
fn catalogue_rewards_are_redeemed_on_request() {
    let mut p = seed_program();
    p["rewards"] = json!([{"id": "ship", "auto": false, "points": 300, "coupon": {"type": "free_shipping", "valid_for": "P14D"}}]);
    let mut h = Harness::new(&p);
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "20.00"));
    let out = h.ok(json!({"id": "x1", "type": "reward.redeemed", "at": "2026-01-11T12:00:00+01:00", "customer": "c1", "reward": "ship"}));
    assert!(out.skipped.unwrap().contains("not enough points"), "a business outcome, not an error");
    h.ok(eur("o2", "2026-01-12T12:00:00+01:00", "c1", "20.00"));
    let out = h.ok(json!({"id": "x2", "type": "reward.redeemed", "at": "2026-01-13T12:00:00+01:00", "customer": "c1", "reward": "ship"}));
    assert_eq!(out.entries[0].points, -300);
    let err = h.send(json!({"id": "x3", "type": "reward.redeemed", "at": "2026-01-13T12:00:00+01:00", "customer": "c1", "reward": "nope"})).unwrap_err();
    assert_eq!(err.path, "reward");
}

#[test]
fn quotes_use_the_same_rules_as_apply() {
    let mut h = Harness::seed();
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "520.00"));
    let cart = json!({"at": "2026-01-15T12:00:00+01:00", "currency": "EUR", "lines": [{"id": "l1", "quantity": 2, "unit_price": "60.00", "discount": "5.00"}], "shipping": "4.90"});
    let q = h.engine.quote(Some(&h.states["c1"]), &cart.to_string()).unwrap();
    assert_eq!(q.points, 1150);
    assert_eq!(q.coupons.len(), 1);
    assert!(q.coupons[0].usable);
    assert_eq!(q.coupons[0].discount, "11.50", "10% of 115.00");
    let small = json!({"at": "2026-01-15T12:00:00+01:00", "currency": "EUR", "lines": [{"id": "l1", "quantity": 1, "unit_price": "60.00"}]});
    let q = h.engine.quote(Some(&h.states["c1"]), &small.to_string()).unwrap();
    assert!(!q.coupons[0].usable);
    assert_eq!(q.coupons[0].reason.as_deref(), Some("the order must be at least 100.00"));
    // The quote matches what the order then earns.
    let mut e = eur("o2", "2026-01-15T12:00:00+01:00", "c1", "60.00");
    e["order"]["lines"] = cart["lines"].clone();
    assert_eq!(h.ok(e).entries[0].points, 1150);
    let err = h.engine.quote(None, r#"{"at":"2026-01-15T12:00:00+01:00","currency":"EUR","lines":[{"id":"l1","quantity":1}]}"#).unwrap_err();
    assert_eq!((err.code, err.path.as_str()), ("invalid_cart", "lines[0].unit_price"));
    let huge = r#"{"at":"2026-01-15T12:00:00+01:00","currency":"EUR","lines":[{"id":"a","quantity":1,"unit_price":"50000000000000000.00"},{"id":"b","quantity":1,"unit_price":"50000000000000000.00"}]}"#;
    assert_eq!(h.engine.quote(None, huge).unwrap_err().code, "invalid_cart", "goods past i64 are an error, not a wrapped total");
}

#[test]
fn bad_programs_name_the_path() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"rewards": [{"id": "r", "points": 10, "coupon": {"type": "percnt", "value": "10"}}]}), "rewards[0].coupon.type", "unknown variant \"percnt\", expected one of percent, fixed, free_shipping"),
        (json!({"rewards": [{"id": "r", "points": 10, "coupon": {"type": "percent", "value": "110"}}]}), "rewards[0].coupon.value", "at most 100"),
        (json!({"earn": {"points_per_unit": "-1"}}), "earn.points_per_unit", "plain decimal"),
        (json!({"currency": "EURO"}), "currency", "unknown ISO 4217"),
        (json!({"timezone": "Mars/Olympus"}), "timezone", "unknown time zone"),
        (json!({"expiry": {"mode": "rolling", "after": "12 months"}}), "expiry.after", "ISO 8601"),
        (json!({"expiry": {"mode": "rolling", "after": "P1Y", "warn_before": ["P1M", "1 week"]}}), "expiry.warn_before[1]", "ISO 8601"),
        (json!({"earn": {"points_per_unit": "10", "bonus": 2}}), "earn.bonus", "unknown field"),
        (json!({"rewards": [{"id": "r", "points": 10, "coupon": {"type": "fixed", "value": "5.001"}}]}), "rewards[0].coupon.value", "decimals"),
        (json!({"rewards": [{"id": "r", "points": "10", "coupon": {"type": "free_shipping"}}]}), "rewards[0].points", "expected a whole number, found a string"),
        (json!({"notifications": {"reward_earned": ["pigeon"]}}), "notifications.reward_earned[0]", "unknown channel"),
        (json!({"negative_balance": "sometimes"}), "negative_balance", "unknown variant"),
    ];
    for (patch, path, msg) in cases {
        let mut p = seed_program();
        for (k, v) in patch.as_object().unwrap() {
            p[k] = v.clone();
        }
        let err = engine(&p).err().unwrap_or_else(|| panic!("{patch} must be refused"));
        assert_eq!((err.code, err.path.as_str()), ("invalid_program", path), "{patch}");
        assert!(err.message.contains(msg), "{path}: {}", err.message);
    }
    let err = loyalty_engine::Engine::new("{\"id\": \"x\",", None, b"").err().unwrap();
    assert_eq!(err.code, "invalid_program");
}

#[test]
fn bad_events_name_the_path_and_change_nothing() {
    let mut h = Harness::seed();
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "10.00"));
    let before = h.states.clone();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10", "customer": "c1"}), "at"),
        (json!({"id": "e", "type": "order.shipped", "at": "2026-01-10T12:00:00Z", "customer": "c1"}), "type"),
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": "c1"}), "order"),
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": 17, "order": {}}), "customer"),
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": "c1", "order": {"id": "o2", "currency": "EUR", "lines": [{"id": "a", "quantity": 1, "unit_price": 9.99}]}}), "order.lines[0].unit_price"),
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": "c1", "order": {"id": "o2", "currency": "EUR", "lines": [{"id": "a", "quantity": 1, "unit_price": "9.99", "discount": "10.00"}]}}), "order.lines[0].discount"),
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": "c1", "order": {"id": "o2", "currency": "EUR", "lines": [{"id": "a", "quantity": 0, "unit_price": "9.99"}]}}), "order.lines[0].quantity"),
        // Each line fits in i64, their sum does not: an error, not a wrapped (release) total.
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": "c1", "order": {"id": "o2", "currency": "EUR", "lines": [{"id": "a", "quantity": 1, "unit_price": "50000000000000000.00"}, {"id": "b", "quantity": 1, "unit_price": "50000000000000000.00"}]}}), "order.lines"),
        (json!({"id": "e", "type": "order.placed", "at": "2026-01-10T12:00:00Z", "customer": "c1", "order": {"id": "o2", "currency": "EUR", "lines": [{"id": "a", "quantity": 1, "unit_price": "50000000000000000.00"}], "shipping": "50000000000000000.00"}}), "order"),
        (json!({"id": "e", "type": "order.refunded", "at": "2026-01-10T12:00:00Z", "order_id": "o1", "lines": [{"id": "nope", "quantity": 1}]}), "lines[0].id"),
        (json!({"id": "e", "type": "order.refunded", "at": "2026-01-10T12:00:00Z", "order_id": "o1"}), "lines"),
        (json!({"id": "e", "type": "points.adjusted", "at": "2026-01-10T12:00:00Z", "customer": "c1", "points": 1.5, "reason": "x", "by": "y"}), "points"),
        (json!({"id": "e", "type": "points.adjusted", "at": "2026-01-10T12:00:00Z", "customer": "c1", "points": 5, "reason": "x", "by": "y", "note": 1}), "note"),
    ];
    for (e, path) in cases {
        let err = h.send(e.clone()).expect_err(&e.to_string());
        assert_eq!((err.code, err.path.as_str()), ("invalid_event", path), "{e}: {err}");
    }
    assert_eq!(h.states, before, "no error changed any state");
}

#[test]
fn batches_apply_like_single_events() {
    let mut h = Harness::seed();
    let events = vec![
        eur("o1", "2026-01-10T12:00:00+01:00", "c1", "300.00"),
        eur("o2", "2026-01-11T12:00:00+01:00", "c2", "100.00"),
        eur("o3", "2026-01-12T12:00:00+01:00", "c1", "250.00"),
        json!({"id": "r1", "type": "order.refunded", "at": "2026-01-13T12:00:00+01:00", "order_id": "o2", "amount": "40.00"}),
        json!({"id": "t1", "type": "clock.tick", "at": "2027-02-01T00:00:00+01:00"}),
    ];
    let parsed = loyalty_engine::event::Event::parse_many(&Value::Array(events.clone()).to_string(), &h.engine.program).unwrap();
    let batch = h.engine.apply_batch(Default::default(), Default::default(), &parsed).unwrap();
    for e in &events[..4] {
        h.ok(e.clone());
    }
    h.tick("2027-02-01T00:00:00+01:00");
    for c in ["c1", "c2"] {
        assert_eq!(batch.states[c].balance, h.states[c].balance, "{c}");
        assert_eq!(batch.states[c].coupons, h.states[c].coupons, "{c}");
    }
    assert_eq!(batch.states["c2"].balance, 0, "expired by the tick");
    let bad = loyalty_engine::event::Event::parse_many(r#"[{"id":"x","type":"clock.tick","at":"2026-01-01T00:00:00Z"},{"id":"y","type":"nope","at":"2026-01-01T00:00:00Z"}]"#, &h.engine.program).unwrap_err();
    assert_eq!(bad.path, "[1].type");
}
