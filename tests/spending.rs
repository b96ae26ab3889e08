//! Spending and programs (docs/spending.md): the rewards catalogue, pay with points,
//! memberships, donations, offers and coalitions, each with its edge cases, on the seed
//! program plus the rule under test. The harness checks balance = sum of entries, lots and
//! the state round trip after every event.
mod common;

use common::*;
use loyalty_engine::ledger::{CouponStatus, EntryKind};
use serde_json::{json, Value};

fn with(patch: Value) -> Value {
    let mut p = seed_program();
    for (k, v) in patch.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn adjust(id: &str, at: &str, customer: &str, points: i64) -> Value {
    json!({"id": id, "type": "points.adjusted", "at": at, "customer": customer, "points": points, "reason": "test", "by": "staff"})
}

fn event(id: &str, kind: &str, at: &str, customer: &str, fields: Value) -> Value {
    let mut e = json!({"id": id, "type": kind, "at": at, "customer": customer});
    for (k, v) in fields.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn catalogue() -> Value {
    with(json!({"rewards": [
        {"id": "5-off", "points": 500, "coupon": {"type": "fixed", "value": "5.00"}, "limit": {"count": 2, "per": "month"}},
        {"id": "tote", "points": 1500, "stock": 2, "coupon": {"type": "free_product", "product": "TOTE-01", "valid_for": "P30D"}},
        {"id": "10pct", "auto": true, "points": 5000, "coupon": {"type": "percent", "value": "10"}}
    ]}))
}

fn skipped(h: &mut Harness, e: Value) -> String {
    h.ok(e).skipped.expect("the event should be skipped")
}

#[test]
fn catalogue_rewards_respect_the_per_customer_limit_per_month() {
    let mut h = Harness::new(&catalogue());
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 4000));
    h.ok(event("r1", "reward.redeemed", "2026-01-06T10:00:00Z", "c1", json!({"reward": "5-off"})));
    h.ok(event("r2", "reward.redeemed", "2026-01-20T10:00:00Z", "c1", json!({"reward": "5-off"})));
    let why = skipped(&mut h, event("r3", "reward.redeemed", "2026-01-31T22:00:00Z", "c1", json!({"reward": "5-off"})));
    assert!(why.contains("at most 2 per month"), "{why}");
    assert_eq!(h.balance("c1"), 3000);
    // 2026-01-31T23:30Z is already February in Oslo: a new month, a new allowance.
    h.ok(event("r4", "reward.redeemed", "2026-01-31T23:30:00Z", "c1", json!({"reward": "5-off"})));
    assert_eq!(h.balance("c1"), 2500);
    assert_eq!(h.states["c1"].coupons.len(), 3);
}

#[test]
fn stock_is_shared_by_all_customers_and_cancelling_gives_it_back() {
    let mut h = Harness::new(&catalogue());
    for c in ["c1", "c2", "c3"] {
        h.ok(adjust(&format!("a-{c}"), "2026-01-05T10:00:00Z", c, 2000));
    }
    h.ok(event("t1", "reward.redeemed", "2026-01-06T10:00:00Z", "c1", json!({"reward": "tote"})));
    h.ok(event("t2", "reward.redeemed", "2026-01-06T11:00:00Z", "c2", json!({"reward": "tote"})));
    let why = skipped(&mut h, event("t3", "reward.redeemed", "2026-01-06T12:00:00Z", "c3", json!({"reward": "tote"})));
    assert!(why.contains("out of stock"), "{why}");
    assert_eq!(h.balance("c3"), 2000, "a refused redemption debits nothing");
    // c1 cancels the unused coupon: the 1500 points and one unit of stock come back.
    let code = h.states["c1"].coupons[0].code.to_string();
    let out = h.ok(event("x1", "coupon.cancelled", "2026-01-07T10:00:00Z", "c1", json!({"code": code})));
    assert_eq!(out.entries.len(), 1);
    assert_eq!((out.entries[0].kind, out.entries[0].points), (EntryKind::Restore, 1500));
    assert_eq!(h.balance("c1"), 2000);
    assert_eq!(h.states["c1"].coupons[0].status, CouponStatus::Cancelled);
    assert_eq!(h.stock["tote"], 1);
    h.ok(event("t4", "reward.redeemed", "2026-01-07T12:00:00Z", "c3", json!({"reward": "tote"})));
    assert_eq!(h.balance("c3"), 500);
    // A cancelled coupon cannot be cancelled again, nor used.
    let why = skipped(&mut h, event("x2", "coupon.cancelled", "2026-01-07T13:00:00Z", "c1", json!({"code": code})));
    assert!(why.contains("is cancelled"), "{why}");
    let why = skipped(&mut h, event("u1", "coupon.used", "2026-01-07T13:00:00Z", "c1", json!({"code": code, "order_id": "o9"})));
    assert!(why.contains("is cancelled"), "{why}");
    assert_eq!(h.balance("c1"), 2000);
}

#[test]
fn a_stock_limited_reward_needs_the_hosts_count() {
    let h = Harness::new(&catalogue());
    let e = h.engine.parse_event(&event("t1", "reward.redeemed", "2026-01-06T10:00:00Z", "c1", json!({"reward": "tote"})).to_string()).unwrap();
    let err = h.engine.apply(None, None, &e).unwrap_err();
    assert_eq!((err.code, err.path.as_str()), ("invalid_context", "stock"));
}

#[test]
fn a_used_coupon_cannot_be_cancelled_and_keeps_its_points() {
    let mut h = Harness::new(&catalogue());
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 600));
    h.ok(event("r1", "reward.redeemed", "2026-01-06T10:00:00Z", "c1", json!({"reward": "5-off"})));
    let code = h.states["c1"].coupons[0].code.to_string();
    h.ok(event("u1", "coupon.used", "2026-01-07T10:00:00Z", "c1", json!({"code": code, "order_id": "o1"})));
    let why = skipped(&mut h, event("x1", "coupon.cancelled", "2026-01-07T11:00:00Z", "c1", json!({"code": code})));
    assert!(why.contains("is used"), "{why}");
    assert_eq!(h.balance("c1"), 100);
}

#[test]
fn a_free_product_coupon_takes_one_unit_of_the_cheapest_matching_line() {
    let mut h = Harness::new(&catalogue());
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 1500));
    h.ok(event("t1", "reward.redeemed", "2026-01-06T10:00:00Z", "c1", json!({"reward": "tote"})));
    let cart = json!({"at": "2026-01-07T10:00:00Z", "currency": "EUR", "lines": [
        {"id": "a", "sku": "TOTE-01", "quantity": 2, "unit_price": "12.00", "discount": "4.00"},
        {"id": "b", "sku": "MUG", "quantity": 1, "unit_price": "30.00"}]});
    let q = h.engine.quote(Some(&h.states["c1"]), &cart.to_string()).unwrap();
    assert_eq!((q.coupons[0].usable, q.coupons[0].discount.as_str()), (true, "10.00"));
    let no_tote = json!({"at": "2026-01-07T10:00:00Z", "currency": "EUR", "lines": [{"id": "b", "sku": "MUG", "quantity": 1, "unit_price": "30.00"}]});
    let q = h.engine.quote(Some(&h.states["c1"]), &no_tote.to_string()).unwrap();
    assert_eq!(q.coupons[0].reason.as_deref(), Some("the cart has no TOTE-01"));
    let view = h.view("c1");
    assert_eq!(view.coupons[0].value.as_deref(), Some("TOTE-01"));
}

fn pay_program() -> Value {
    with(json!({"rewards": [], "pay_with_points": {"points": 100, "value": "1.00", "min_points": 500, "max_points": 5000, "max_share": "50"}}))
}

fn paid_order(id: &str, at: &str, customer: &str, amount: &str, spent: i64) -> Value {
    let mut e = eur(id, at, customer, amount);
    e["order"]["points_spent"] = json!(spent);
    e
}

#[test]
fn quote_shows_what_points_can_pay_within_steps_minimum_maximum_and_share() {
    let mut h = Harness::new(&pay_program());
    let cart = |amount: &str| json!({"at": "2026-02-01T10:00:00Z", "currency": "EUR", "lines": [{"id": "l1", "quantity": 1, "unit_price": amount}]}).to_string();
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 2_345));
    // 2345 points: 23 steps; half of 30.00 is 15.00 = 15 steps.
    let q = h.engine.quote(Some(&h.states["c1"]), &cart("30.00")).unwrap().pay_with_points.unwrap();
    assert_eq!((q.points, q.discount), (1500, 1500));
    // Half of 200.00 is 100 steps, but the balance allows 23.
    let q = h.engine.quote(Some(&h.states["c1"]), &cart("200.00")).unwrap().pay_with_points.unwrap();
    assert_eq!((q.points, q.discount), (2300, 2300));
    // Half of 8.00 is 4 steps: below the 500-point minimum.
    let q = h.engine.quote(Some(&h.states["c1"]), &cart("8.00")).unwrap().pay_with_points.unwrap();
    assert_eq!(q.points, 0);
    assert_eq!(q.reason.as_deref(), Some("the order is too small to pay with points"));
    h.ok(adjust("a2", "2026-01-06T10:00:00Z", "c1", 10_000));
    assert_eq!(h.balance("c1"), 12_345);
    // The maximum caps it at 5000 points.
    let q = h.engine.quote(Some(&h.states["c1"]), &cart("500.00")).unwrap().pay_with_points.unwrap();
    assert_eq!((q.points, q.discount), (5000, 5000));
}

#[test]
fn an_order_commits_its_points_and_a_refund_gives_back_the_returned_share() {
    let mut h = Harness::new(&pay_program());
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 3_000));
    // 100.00 order, 2000 points (20.00) paid; it earns 10 points per euro on the lines.
    let out = h.ok(paid_order("o1", "2026-01-06T10:00:00Z", "c1", "100.00", 2000));
    assert_eq!(out.entries.iter().map(|e| (e.kind, e.points)).collect::<Vec<_>>(), vec![(EntryKind::Redeem, -2000), (EntryKind::Earn, 1000)]);
    assert_eq!(h.balance("c1"), 2000);
    assert_eq!(h.states["c1"].totals.redeemed, 2000);
    // A quarter refunded: a quarter of the points paid come back, 250 points of earn go.
    h.ok(json!({"id": "rf1", "type": "order.refunded", "at": "2026-01-07T10:00:00Z", "order_id": "o1", "amount": "25.00"}));
    assert_eq!(h.orders["o1"].points_returned, 500);
    assert_eq!(h.balance("c1"), 2000 + 500 - 250);
    // Cancelling the rest gives back the other 1500, never more than was spent.
    h.ok(json!({"id": "cx1", "type": "order.cancelled", "at": "2026-01-08T10:00:00Z", "order_id": "o1"}));
    assert_eq!(h.orders["o1"].points_returned, 2000);
    assert_eq!(h.balance("c1"), 3000);
    assert_eq!(h.states["c1"].totals.restored, 2000);
}

#[test]
fn points_spent_beyond_the_allowance_are_refused_and_change_nothing() {
    let mut h = Harness::new(&pay_program());
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 3_000));
    for (spent, needle) in [(2_050, "steps of 100"), (400, "cannot pay"), (2_000, "at most 1000")] {
        let err = h.send(paid_order("o1", "2026-01-06T10:00:00Z", "c1", "20.00", spent)).unwrap_err();
        assert_eq!(err.path, "order.points_spent");
        assert!(err.message.contains(needle), "{spent}: {}", err.message);
    }
    let err = h.send(paid_order("o2", "2026-01-06T10:00:00Z", "c1", "200.00", 4_000)).unwrap_err();
    assert!(err.message.contains("at most 3000"), "{}", err.message);
    // The engine is pure: a refused event leaves no trace, so the same event ids, sent again
    // within the allowance, are applied in full (not taken for duplicates).
    let out = h.ok(paid_order("o1", "2026-01-06T10:00:00Z", "c1", "20.00", 1_000));
    assert_eq!(out.entries.iter().map(|e| (e.kind, e.points)).collect::<Vec<_>>(), vec![(EntryKind::Redeem, -1000), (EntryKind::Earn, 200)]);
    h.ok(paid_order("o2", "2026-01-06T10:00:00Z", "c1", "200.00", 2_000));
    assert_eq!(h.balance("c1"), 3000 - 1000 + 200 - 2000 + 2000);
    assert_eq!(h.orders["o2"].points_spent, 2000);
}

fn membership_program() -> Value {
    let mut p = with(json!({
        "rewards": [{"id": "monthly-5", "points": 1, "coupon": {"type": "fixed", "value": "5.00", "valid_for": "P1M"}}],
        "memberships": [
            {"id": "plus", "name": "Plus", "fee": "5.00", "period": "month",
             "perks": {"percent_off": "10", "free_shipping": true, "multiplier": "2", "monthly_reward": "monthly-5"},
             "dividend": {"percent": "10"}},
            {"id": "life", "fee": "30.00", "period": "lifetime", "dividend": {"percent": "10", "valid_for": "P1Y"}}
        ]
    }));
    if !cfg!(feature = "status") {
        // Multipliers are status rules, which that build leaves out.
        p["memberships"][0]["perks"].as_object_mut().unwrap().remove("multiplier");
    }
    p
}

fn member(id: &str, kind: &str, at: &str, customer: &str, plan: &str) -> Value {
    event(id, &format!("membership.{kind}"), at, customer, json!({"plan": plan}))
}

#[test]
#[cfg(feature = "status")] // the plan's points multiplier
fn a_monthly_membership_gives_perks_and_a_reward_each_month_then_lapses() {
    let mut h = Harness::new(&membership_program());
    let out = h.ok(member("m1", "started", "2026-01-15T10:00:00Z", "c1", "plus"));
    // The first monthly reward at the start.
    assert_eq!(h.states["c1"].coupons.len(), 1);
    assert!(out.effects.iter().any(|e| matches!(e, loyalty_engine::engine::Effect::MembershipChanged { .. })));
    // Double points while a member.
    h.ok(eur("o1", "2026-01-20T10:00:00Z", "c1", "50.00"));
    assert_eq!(h.balance("c1"), 1000);
    let cart = json!({"at": "2026-01-21T10:00:00Z", "currency": "EUR", "lines": [{"id": "l1", "quantity": 1, "unit_price": "10.00"}]}).to_string();
    let q = h.engine.quote(Some(&h.states["c1"]), &cart).unwrap();
    assert_eq!((q.perks.percent_off.as_deref(), q.perks.free_shipping, q.points), (Some("10"), true, 200));
    // The paid month ends at the start of 2026-02-15 in Oslo; a renewal may still come that
    // day, and the perks stop meanwhile.
    h.tick("2026-02-15T12:00:00Z");
    assert_eq!(h.states["c1"].membership.as_ref().unwrap().status, loyalty_engine::membership::Status::Active);
    let q = h.engine.quote(Some(&h.states["c1"]), &cart.replace("2026-01-21", "2026-02-15")).unwrap();
    assert_eq!(q.points, 100);
    // None came: it lapses at the end of that day, with no reward for a month not paid.
    h.tick("2026-02-15T23:00:00Z");
    let s = &h.states["c1"];
    assert_eq!(s.coupons.len(), 1, "no reward at the anniversary of a period that ended");
    assert_eq!(s.membership.as_ref().unwrap().status, loyalty_engine::membership::Status::Lapsed);
    h.ok(eur("o2", "2026-02-16T10:00:00Z", "c1", "50.00"));
    assert_eq!(h.balance("c1"), 1500, "single points after the lapse");
}

#[test]
#[cfg(feature = "status")] // the plan's points multiplier
fn renewing_across_the_period_boundary_extends_from_the_end_and_keeps_the_rewards_coming() {
    let mut h = Harness::new(&membership_program());
    h.ok(member("m1", "started", "2026-01-31T10:00:00Z", "c1", "plus"));
    h.ok(member("m2", "renewed", "2026-02-27T10:00:00Z", "c1", "plus"));
    let m = h.states["c1"].membership.clone().unwrap();
    // Jan 31 + 1 month = Feb 28 (clamped), + 1 month = Mar 28, local midnight in Oslo.
    assert_eq!(m.until, Some(ms("2026-03-27T23:00:00Z")));
    assert_eq!(m.fees, 1000);
    h.tick("2026-03-01T00:00:00Z");
    assert_eq!(h.states["c1"].coupons.len(), 2, "the reward of the second month");
    assert_eq!(h.states["c1"].membership.as_ref().unwrap().status, loyalty_engine::membership::Status::Active);
    // Cancelled: the perks last to the end of the paid period, then it lapses.
    h.ok(member("m3", "cancelled", "2026-03-10T10:00:00Z", "c1", "plus"));
    h.ok(eur("o1", "2026-03-20T10:00:00Z", "c1", "10.00"));
    assert_eq!(h.balance("c1"), 200);
    h.tick("2026-03-28T10:00:00Z");
    assert_eq!(h.states["c1"].membership.as_ref().unwrap().status, loyalty_engine::membership::Status::Cancelled);
    h.tick("2026-03-28T23:00:00Z");
    assert_eq!(h.states["c1"].membership.as_ref().unwrap().status, loyalty_engine::membership::Status::Lapsed);
    // Renewing a lapsed membership starts a new period now.
    h.ok(member("m4", "renewed", "2026-04-02T10:00:00Z", "c1", "plus"));
    let m = h.states["c1"].membership.clone().unwrap();
    assert_eq!((m.status, m.since, m.fees), (loyalty_engine::membership::Status::Active, ms("2026-04-02T10:00:00Z"), 1500));
    let why = skipped(&mut h, member("m5", "started", "2026-04-03T10:00:00Z", "c1", "plus"));
    assert!(why.contains("already a member"), "{why}");
}

#[test]
fn the_annual_dividend_pays_back_the_member_spend_of_the_year_less_refunds() {
    let mut h = Harness::new(&membership_program());
    h.ok(eur("o0", "2026-02-01T10:00:00Z", "c1", "80.00")); // before joining: not counted
    h.ok(member("m1", "started", "2026-03-01T10:00:00Z", "c1", "life"));
    h.ok(eur("o1", "2026-04-01T10:00:00Z", "c1", "123.45"));
    h.ok(eur("o2", "2026-12-31T22:00:00Z", "c1", "100.00")); // 23:00 in Oslo: still 2026
    h.ok(json!({"id": "rf", "type": "order.refunded", "at": "2026-12-31T22:30:00Z", "order_id": "o2", "amount": "40.00"}));
    assert_eq!(h.states["c1"].next_due, Some(ms("2026-12-31T23:00:00Z")), "the new year is due");
    h.tick("2026-12-31T23:00:00Z");
    let c = &h.states["c1"].coupons;
    assert_eq!(c.len(), 1);
    // 10% of 123.45 + 60.00 = 18.345 → 18.34, a fixed coupon valid a year.
    assert_eq!((c[0].value.as_deref(), &*c[0].reward), (Some("18.34"), "dividend:life:2026"));
    h.tick("2027-01-02T00:00:00Z");
    assert_eq!(h.states["c1"].coupons.len(), 1, "one dividend per year");
    let why = skipped(&mut h, member("m2", "renewed", "2027-01-03T10:00:00Z", "c1", "life"));
    assert!(why.contains("lifetime"), "{why}");
}

#[test]
fn unknown_plans_and_charities_are_errors_naming_the_field() {
    let mut h = Harness::new(&membership_program());
    let err = h.send(member("m1", "started", "2026-03-01T10:00:00Z", "c1", "gold")).unwrap_err();
    assert_eq!(err.path, "plan");
    let err = h.send(event("d1", "points.donated", "2026-03-01T10:00:00Z", "c1", json!({"charity": "x", "points": 5}))).unwrap_err();
    assert_eq!(err.path, "charity");
}

fn donation_program() -> Value {
    with(json!({"donations": {"charities": [{"id": "trees", "name": "One Tree Planted"}, {"id": "sea"}], "min_points": 100}}))
}

#[test]
fn donations_debit_points_per_charity_and_refuse_what_the_balance_lacks() {
    let mut h = Harness::new(&donation_program());
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 1000));
    let out = h.ok(event("d1", "points.donated", "2026-01-06T10:00:00Z", "c1", json!({"charity": "trees", "points": 300})));
    assert_eq!((out.entries[0].kind, out.entries[0].points, out.entries[0].charity.as_deref()), (EntryKind::Donate, -300, Some("trees")));
    assert_eq!(out.entries[0].reason, "donation to One Tree Planted");
    h.ok(event("d2", "points.donated", "2026-01-06T11:00:00Z", "c1", json!({"charity": "sea", "points": 700})));
    let why = skipped(&mut h, event("d3", "points.donated", "2026-01-06T12:00:00Z", "c1", json!({"charity": "sea", "points": 100})));
    assert!(why.contains("not enough points"), "{why}");
    let err = h.send(event("d4", "points.donated", "2026-01-06T12:00:00Z", "c1", json!({"charity": "sea", "points": 50}))).unwrap_err();
    assert_eq!(err.path, "points");
    let per_charity = |id: &str| -> i64 { h.ledger.iter().filter(|e| e.charity.as_deref() == Some(id)).map(|e| -e.points).sum() };
    assert_eq!((per_charity("trees"), per_charity("sea")), (300, 700));
    assert_eq!((h.balance("c1"), h.states["c1"].totals.donated), (0, 1000));
}

fn offer_program() -> Value {
    with(json!({
        "rewards": [{"id": "gift", "points": 1, "coupon": {"type": "fixed", "value": "10.00", "valid_for": "P30D"}}],
        "offers": [
            {"id": "boots", "when": {"bought": {"category": "boots", "times": 3}}, "reward": "gift"},
            {"id": "winback", "when": {"no_order_for": "P90D"}, "reward": "gift"},
            {"id": "third", "when": {"nth_order": 3}, "reward": "gift"}
        ]
    }))
}

fn boots(id: &str, at: &str, qty: i64) -> Value {
    json!({"id": format!("ev-{id}"), "type": "order.placed", "at": at, "customer": "c1", "order": {"id": id, "currency": "EUR",
           "lines": [{"id": "l1", "categories": ["boots"], "quantity": qty, "unit_price": "10.00"}]}})
}

fn offers_issued(h: &Harness) -> Vec<String> {
    h.states["c1"].offers.clone()
}

#[test]
fn offers_are_issued_once_when_their_rule_first_holds() {
    let mut h = Harness::new(&offer_program());
    h.ok(boots("o1", "2026-01-01T10:00:00Z", 2));
    assert!(offers_issued(&h).is_empty());
    h.ok(boots("o2", "2026-01-10T10:00:00Z", 1));
    assert_eq!(offers_issued(&h), vec!["boots"]);
    h.ok(boots("o3", "2026-01-20T10:00:00Z", 5));
    assert_eq!(offers_issued(&h), vec!["boots", "third"], "the third order; boots not again");
    assert_eq!(h.states["c1"].coupons.len(), 2);
    assert_eq!(h.balance("c1"), 800, "offers are gifts: no points debited");
    // 90 days after the last order (2026-01-20 local) is due at the start of 2026-04-20.
    h.tick("2026-04-19T21:59:00Z");
    assert_eq!(offers_issued(&h).len(), 2);
    h.tick("2026-04-19T22:00:00Z");
    assert_eq!(offers_issued(&h), vec!["boots", "third", "winback"]);
    h.ok(boots("o4", "2026-05-01T10:00:00Z", 1));
    h.tick("2026-12-01T00:00:00Z");
    let issued = h.effects.iter().filter(|e| e["type"] == "coupon.issued").count();
    assert_eq!((offers_issued(&h).len(), issued), (3, 3), "each offer once only");
}

#[test]
fn a_new_order_postpones_the_winback_offer() {
    let mut h = Harness::new(&offer_program());
    h.ok(boots("o1", "2026-01-01T10:00:00Z", 1));
    h.ok(boots("o2", "2026-03-01T10:00:00Z", 1));
    h.tick("2026-04-15T00:00:00Z");
    assert!(offers_issued(&h).is_empty());
    h.tick("2026-06-01T00:00:00Z");
    assert_eq!(offers_issued(&h), vec!["winback"]);
}

fn coalition() -> Value {
    with(json!({"brands": [{"id": "pb", "name": "Pottery Barn", "points_per_unit": "3"}, {"id": "we", "name": "West Elm"}]}))
}

#[test]
fn a_coalition_earns_per_brand_into_one_balance_and_refunds_use_the_brand_rate() {
    let mut h = Harness::new(&coalition());
    let mut o = eur("o1", "2026-01-01T10:00:00Z", "c1", "100.00");
    o["order"]["brand"] = json!("pb");
    h.ok(o);
    let mut o = eur("o2", "2026-01-02T10:00:00Z", "c1", "100.00");
    o["order"]["brand"] = json!("we");
    h.ok(o);
    h.ok(eur("o3", "2026-01-03T10:00:00Z", "c1", "10.00"));
    assert_eq!(h.balance("c1"), 300 + 1000 + 100);
    assert_eq!(h.orders["o1"].rate, "3");
    h.ok(json!({"id": "rf", "type": "order.refunded", "at": "2026-01-04T10:00:00Z", "order_id": "o1", "amount": "50.00"}));
    assert_eq!(h.balance("c1"), 150 + 1000 + 100);
    let mut o = eur("o4", "2026-01-05T10:00:00Z", "c1", "10.00");
    o["order"]["brand"] = json!("ws");
    let err = h.send(o).unwrap_err();
    assert_eq!(err.path, "order.brand");
    assert!(err.message.contains("pb, we"), "{}", err.message);
}

#[test]
fn bad_spending_programs_name_the_path() {
    let cases = [
        (json!({"pay_with_points": {"points": 0, "value": "1.00"}}), "pay_with_points.points"),
        (json!({"pay_with_points": {"points": 100, "value": "1.001"}}), "pay_with_points.value"),
        (json!({"pay_with_points": {"points": 100, "value": "1.00", "max_share": "150"}}), "pay_with_points.max_share"),
        (json!({"memberships": [{"id": "p", "fee": "5.00", "period": "weekly"}]}), "memberships[0].period"),
        (json!({"memberships": [{"id": "p", "fee": "5.00", "period": "month", "perks": {"monthly_reward": "nope"}}]}), "memberships[0].perks.monthly_reward"),
        (json!({"memberships": [{"id": "p", "fee": "5.00", "period": "month"}, {"id": "p", "fee": "1.00", "period": "year"}]}), "memberships[1].id"),
        (json!({"donations": {"charities": []}}), "donations.charities"),
        (json!({"offers": [{"id": "o", "when": {"nth_order": 2, "no_order_for": "P1D"}, "reward": "threshold-10pct"}]}), "offers[0].when.bought"),
        (json!({"offers": [{"id": "o", "when": {"bought": {"sku": "A", "category": "B"}}, "reward": "threshold-10pct"}]}), "offers[0].when.bought.sku"),
        (json!({"brands": [{"id": "a"}, {"id": "a"}]}), "brands[1].id"),
        (json!({"rewards": [{"id": "r", "points": 5, "coupon": {"type": "free_product"}}]}), "rewards[0].coupon.product"),
        (json!({"rewards": [{"id": "r", "points": 5, "coupon": {"type": "fixed", "value": "1.00"}, "limit": {"count": 1, "per": "fortnight"}}]}), "rewards[0].limit.per"),
    ];
    for (patch, path) in cases {
        let err = engine(&with(patch.clone())).err().unwrap_or_else(|| panic!("{patch} should be refused"));
        assert_eq!(err.path, path, "{patch}: {}", err.message);
    }
}

#[test]
fn cancelling_a_threshold_coupon_gives_no_points_back() {
    let mut h = Harness::new(&catalogue());
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 5200));
    assert_eq!(h.balance("c1"), 200, "the 10% threshold reward took 5000");
    let code = h.states["c1"].coupons[0].code.to_string();
    let out = h.ok(event("x1", "coupon.cancelled", "2026-01-06T10:00:00Z", "c1", json!({"code": code})));
    assert!(out.entries.is_empty());
    assert_eq!((h.balance("c1"), h.states["c1"].coupons.len()), (200, 1), "no points back, no new coupon");
}

#[test]
fn points_are_valued_at_the_pay_with_points_rate_floored_to_the_minor_unit() {
    use loyalty_engine::money::format_amount;
    use loyalty_engine::pay::PayWithPoints;
    let rate = |points, value| PayWithPoints { points, value, min_points: 0, max_points: None, max_share: None };
    let eur = rate(100, 100); // 100 points = 1.00
    assert_eq!(format_amount(eur.value_of(123_456), 2), "1234.56");
    assert_eq!(format_amount(eur.value_of(99), 2), "0.99");
    assert_eq!(format_amount(eur.value_of(-250), 2), "-2.50");
    assert_eq!(format_amount(rate(300, 100).value_of(100), 2), "0.33");
    assert_eq!(format_amount(rate(3, 10).value_of(1000), 3), "3.333"); // KWD 0.010
    assert_eq!(format_amount(rate(1, 5).value_of(7), 0), "35"); // JPY 5
}

#[test]
fn a_validity_with_days_and_hours_counts_both() {
    // P1DT12H from 11:00 local on the 6th reaches 23:00 on the 7th: valid through that day.
    let mut h = Harness::new(&with(json!({"rewards": [{"id": "r", "points": 100, "coupon": {"type": "fixed", "value": "1.00", "valid_for": "P1DT12H"}}]})));
    h.ok(adjust("a1", "2026-01-05T10:00:00Z", "c1", 500));
    h.ok(event("r1", "reward.redeemed", "2026-01-06T10:00:00Z", "c1", json!({"reward": "r"})));
    assert_eq!(h.states["c1"].coupons[0].expires_at, Some(ms("2026-01-08T00:00:00+01:00")));
}

#[test]
fn a_quiet_period_with_days_and_hours_counts_both() {
    // P1DT12H after 14:00 local on the 1st reaches 02:00 on the 3rd: due as the 3rd begins.
    let mut h = Harness::new(&with(json!({
        "rewards": [{"id": "gift", "points": 1, "coupon": {"type": "fixed", "value": "10.00", "valid_for": "P30D"}}],
        "offers": [{"id": "winback", "when": {"no_order_for": "P1DT12H"}, "reward": "gift"}]
    })));
    h.ok(eur("o1", "2026-01-01T14:00:00+01:00", "c1", "10.00"));
    h.tick("2026-01-02T23:59:00+01:00");
    assert!(h.states["c1"].offers.is_empty(), "36 hours have not passed");
    h.tick("2026-01-03T00:00:00+01:00");
    assert_eq!(h.states["c1"].offers, vec!["winback"]);
}

#[test]
fn a_late_older_order_does_not_move_the_last_order_back() {
    let mut h = Harness::new(&offer_program());
    h.ok(boots("o1", "2026-03-01T10:00:00Z", 1));
    // An order of January arrives late: the last order is still March's.
    h.ok(boots("o0", "2026-01-01T10:00:00Z", 1));
    assert_eq!(h.states["c1"].last_order, Some(ms("2026-03-01T10:00:00Z")));
    h.tick("2026-04-15T00:00:00Z");
    assert!(offers_issued(&h).is_empty(), "90 days have not passed since March 1st");
    h.tick("2026-06-01T00:00:00Z");
    assert_eq!(offers_issued(&h), vec!["winback"]);
}
