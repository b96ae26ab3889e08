//! What hostile or mistaken input cannot do: unbounded work, overflowing points, a loyalty
//! code used at checkout left valid.
mod common;

use common::*;
use loyalty_engine::engine::Effect;
use serde_json::json;

fn adjust(id: &str, customer: &str, points: i64) -> serde_json::Value {
    json!({"id": id, "type": "points.adjusted", "at": "2026-03-01T12:00:00+01:00", "customer": customer, "points": points, "reason": "test", "by": "staff"})
}

#[test]
fn a_huge_order_is_refused_quickly_and_changes_nothing() {
    let mut h = Harness::seed();
    // 92,233,720,368,547,758.07 EUR: an uncapped coupon loop once trapped the wasm on it.
    let err = h.send(order("o1", "2026-03-01T12:00:00+01:00", "c1", "EUR", &[("l1", 1, "92233720368547758.07", "0.00")])).unwrap_err();
    assert_eq!((err.code, err.path.as_str()), ("points_out_of_range", "order"), "{err:?}");
    // 200M EUR earns 2e9 points: 400,000 coupons of 5000 points is beyond the per-event cap.
    let err = h.send(eur("o2", "2026-03-01T12:00:00+01:00", "c1", "200000000.00")).unwrap_err();
    assert_eq!(err.code, "too_many_rewards", "{err:?}");
    assert!(err.message.contains("at most 100"), "{}", err.message);
    assert!(!h.states.contains_key("c1"), "nothing was written for c1");
    // Up to the cap it issues, as many as the balance buys in one go.
    let out = h.ok(eur("o3", "2026-03-01T12:00:00+01:00", "c1", "50000.00"));
    let coupons = out.effects.iter().filter(|e| matches!(e, Effect::CouponIssued { .. })).count();
    assert_eq!((coupons, h.balance("c1")), (100, 0));
}

#[test]
fn points_never_overflow() {
    let mut h = Harness::seed();
    let err = h.send(adjust("a1", "c1", 9_000_000_000_000_000_000)).unwrap_err();
    assert_eq!((err.code, err.path.as_str()), ("points_out_of_range", "points"));
    let err = h.send(adjust("a2", "c1", i64::MIN)).unwrap_err();
    assert_eq!((err.code, err.path.as_str()), ("points_out_of_range", "points"));
    // Many maximal adjustments stop at the account's bound with an error, never wrap.
    let program = json!({"id": "p", "currency": "EUR", "timezone": "UTC", "earn": {"points_per_unit": "1"}, "rewards": []});
    let mut h = Harness::new(&program);
    let mut refused = None;
    for i in 0..1100 {
        match h.send(adjust(&format!("a{i}"), "c1", 1_000_000_000_000)) {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let e = refused.expect("the bound is reached");
    assert_eq!((e.code, e.path.as_str()), ("points_out_of_range", "balance"));
    assert_eq!(h.balance("c1"), 1_000_000_000_000_000, "the last accepted balance stands");
}

#[test]
fn an_order_with_a_loyalty_code_marks_the_coupon_used() {
    let mut h = Harness::seed();
    let out = h.ok(eur("o1", "2026-03-01T12:00:00+01:00", "c1", "500.00"));
    let code = match &out.effects[0] {
        Effect::CouponIssued { coupon, .. } => coupon.code.clone(),
        e => panic!("{e:?}"),
    };
    let mut next = eur("o2", "2026-03-05T12:00:00+01:00", "c1", "150.00");
    next["order"]["coupon_codes"] = json!(["WELCOME10", code.to_lowercase()]);
    let out = h.ok(next);
    let used: Vec<_> = out.effects.iter().filter_map(|e| match e { Effect::CouponUsed { code, order_id, .. } => Some((code.clone(), order_id.clone())), _ => None }).collect();
    assert_eq!(used, vec![(code.clone(), Some("o2".to_string()))]);
    let v = h.view("c1");
    let c = v.coupons.iter().find(|c| c.code == code).unwrap();
    assert_eq!(c.status.name(), "used");
    // Another customer's order naming the code uses nothing.
    let mut other = eur("o3", "2026-03-06T12:00:00+01:00", "c2", "150.00");
    other["order"]["coupon_codes"] = json!([code]);
    let out = h.ok(other);
    assert!(!out.effects.iter().any(|e| matches!(e, Effect::CouponUsed { .. })));
}
