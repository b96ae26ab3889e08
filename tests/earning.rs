#![cfg(feature = "status")]
//! Earning and status (ways to earn, referrals, product rules, tiers, campaigns, pending
//! points): one test per rule and its edge cases, on the seed program plus the rule.
mod common;

use common::*;
use loyalty_engine::ledger::EntryKind;
use serde_json::{json, Value};

fn with(patch: Value) -> Value {
    let mut p = seed_program();
    for (k, v) in patch.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn action(id: &str, at: &str, customer: &str, name: &str, reference: Option<&str>) -> Value {
    let mut e = json!({"id": id, "type": "action.completed", "at": at, "customer": customer, "action": name});
    if let Some(r) = reference {
        e["ref"] = json!(r);
    }
    e
}

fn line_order(id: &str, at: &str, customer: &str, lines: Value) -> Value {
    json!({"id": format!("ev-{id}"), "type": "order.placed", "at": at, "customer": customer, "order": {"id": id, "currency": "EUR", "lines": lines}})
}

fn refund_all(id: &str, at: &str, order: &str) -> Value {
    json!({"id": id, "type": "order.cancelled", "at": at, "order_id": order})
}

#[test]
fn actions_earn_within_their_limits() {
    let p = with(json!({"actions": {
        "signup": {"points": 200, "limits": {"lifetime": 1}},
        "review": {"points": 50, "limits": {"day": 1, "month": 2}},
        "quiz": {"points": 25}
    }}));
    let mut h = Harness::new(&p);
    assert_eq!(h.ok(action("a1", "2026-01-05T10:00:00+01:00", "c1", "signup", None)).entries[0].points, 200);
    let again = h.ok(action("a2", "2026-01-06T10:00:00+01:00", "c1", "signup", None));
    assert_eq!(again.skipped.as_deref(), Some("limit reached: signup at most 1 per lifetime"));
    h.ok(action("r1", "2026-01-05T10:00:00+01:00", "c1", "review", Some("rev-1")));
    let same_day = h.ok(action("r2", "2026-01-05T23:30:00+01:00", "c1", "review", Some("rev-2")));
    assert!(same_day.skipped.unwrap().contains("1 per day"));
    // 23:30 UTC is already the next local day in Oslo.
    assert!(h.ok(action("r3", "2026-01-05T23:30:00Z", "c1", "review", Some("rev-3"))).skipped.is_none());
    assert!(h.ok(action("r4", "2026-01-20T10:00:00+01:00", "c1", "review", Some("rev-4"))).skipped.unwrap().contains("2 per month"));
    let dup = h.ok(action("r5", "2026-02-01T10:00:00+01:00", "c1", "review", Some("rev-1")));
    assert!(dup.skipped.unwrap().contains("already counted"), "a ref counts once");
    assert_eq!(h.ok(action("q1", "2026-02-01T10:00:00+01:00", "c1", "quiz", None)).entries[0].rules, vec!["action:quiz"]);
    assert!(h.ok(action("x1", "2026-02-01T10:00:00+01:00", "c1", "tiktok", None)).skipped.unwrap().contains("no earning rule"));
    assert_eq!(h.balance("c1"), 200 + 50 + 50 + 25);
    let err = engine(&with(json!({"actions": {"referral": {"points": 5}}}))).err().unwrap();
    assert_eq!(err.path, "actions.referral");
}

#[test]
fn birthdays_earn_once_a_year_on_the_local_date() {
    let mut h = Harness::new(&with(json!({"actions": {"birthday": {"points": 500}}})));
    let not_today = h.ok(action("b0", "2026-03-13T12:00:00+01:00", "c1", "birthday", Some("03-14")));
    assert!(not_today.skipped.unwrap().contains("birthday"));
    // 23:30 UTC on March 13 is March 14 in Oslo.
    assert_eq!(h.ok(action("b1", "2026-03-13T23:30:00Z", "c1", "birthday", Some("03-14"))).entries[0].points, 500);
    assert!(h.ok(action("b2", "2026-03-14T20:00:00+01:00", "c1", "birthday", Some("03-14"))).skipped.is_some(), "once a year");
    assert!(h.ok(action("b3", "2027-03-14T20:00:00+01:00", "c1", "birthday", Some("03-14"))).skipped.is_none(), "and again next year");
    assert_eq!(h.send(action("b4", "2027-03-14T20:00:00+01:00", "c2", "birthday", Some("14.03."))).unwrap_err().path, "ref");
}

#[test]
fn referrals_pay_the_referrer_on_the_friends_first_paid_order() {
    let mut p = with(json!({"referral": {"referrer_points": 1000, "friend_reward": "welcome"}}));
    p["rewards"].as_array_mut().unwrap().push(json!({"id": "welcome", "points": 1, "coupon": {"type": "fixed", "value": "10.00", "valid_for": "P60D"}}));
    let mut h = Harness::new(&p);
    h.ok(eur("o0", "2026-01-01T10:00:00+01:00", "alice", "1.00"));
    let out = h.ok(action("ref1", "2026-01-02T10:00:00+01:00", "bob", "referral", Some("alice")));
    assert_eq!(h.view("bob").coupons[0].value.as_deref(), Some("10.00"), "the friend gets the welcome coupon");
    assert!(out.entries.is_empty(), "a gift costs the friend no points");
    assert_eq!(h.balance("alice"), 10, "nothing for alice before bob's order");
    h.ok(eur("o1", "2026-01-03T10:00:00+01:00", "bob", "50.00"));
    assert_eq!(h.balance("alice"), 1010, "bob's first order pays alice");
    h.ok(eur("o2", "2026-01-04T10:00:00+01:00", "bob", "50.00"));
    assert_eq!(h.balance("alice"), 1010, "only the first order");
    h.ok(refund_all("x1", "2026-01-05T10:00:00+01:00", "o1"));
    assert_eq!(h.balance("alice"), 10, "refunding it takes the referral back");
    let own = h.ok(action("ref2", "2026-01-02T10:00:00+01:00", "carol", "referral", Some("carol")));
    assert!(own.skipped.unwrap().contains("self-referral"));
    let late = h.ok(action("ref3", "2026-01-06T10:00:00+01:00", "bob", "referral", Some("carol")));
    assert!(late.skipped.is_some(), "an existing customer cannot be referred");
}

#[test]
fn product_rules_exclude_and_multiply_and_orders_need_a_minimum() {
    let mut p = seed_program();
    p["earn"]["min_order"] = json!("20.00");
    p["earn"]["rules"] = json!([
        {"name": "gift cards", "match": {"category": ["gift-card"]}, "exclude": true},
        {"match": {"sku": ["RUN-1"]}, "multiplier": "3"},
        {"match": {"category": ["shoes"]}, "multiplier": "2"}
    ]);
    let mut h = Harness::new(&p);
    let out = h.ok(line_order("o1", "2026-01-05T10:00:00+01:00", "c1", json!([
        {"id": "g", "quantity": 1, "unit_price": "50.00", "categories": ["gift-card"]},
        {"id": "s", "quantity": 1, "unit_price": "40.00", "categories": ["shoes"]},
        {"id": "r", "sku": "RUN-1", "quantity": 1, "unit_price": "10.00", "categories": ["shoes"]},
        {"id": "t", "quantity": 1, "unit_price": "5.00"}
    ])));
    assert_eq!(out.entries[0].points, 800 + 300 + 50, "gift card 0, shoes x2, RUN-1 x3 (first match), rest x1");
    assert!(out.entries[0].rules.iter().any(|r| r == "product:gift cards"), "{:?}", out.entries[0].rules);
    let small = h.ok(line_order("o2", "2026-01-05T10:00:00+01:00", "c1", json!([{"id": "t", "quantity": 1, "unit_price": "19.99"}])));
    assert!(small.entries.is_empty() && small.skipped.unwrap().contains("minimum"));
    // A refund of the doubled line reverses the doubled points.
    let r = h.ok(json!({"id": "rf", "type": "order.refunded", "at": "2026-01-06T10:00:00+01:00", "order_id": "o1", "lines": [{"id": "s", "quantity": 1}]}));
    assert_eq!(r.entries[0].points, -800);
}

fn tier_program(retention: Value) -> Value {
    let mut p = with(json!({"tiers": {"basis": "spend", "window": "calendar_year", "retention": retention, "levels": [
        {"name": "Bronze", "threshold": "0"},
        {"name": "Silver", "threshold": "500.00", "perks": {"multiplier": "1.5", "percent_off": "5"}},
        {"name": "Gold", "threshold": "1500.00", "perks": {"multiplier": "2", "free_shipping": true, "entry_reward": "gold-gift", "chosen_day_multiplier": "3"}}
    ]}}));
    p["rewards"].as_array_mut().unwrap().push(json!({"id": "gold-gift", "points": 1, "coupon": {"type": "free_shipping"}}));
    p["rewards"][0]["auto"] = json!(false);
    p
}

#[test]
fn tiers_upgrade_at_once_and_earn_at_the_tier_of_the_time() {
    let mut h = Harness::new(&tier_program(json!({})));
    h.ok(eur("o1", "2026-02-01T10:00:00+01:00", "c1", "400.00"));
    assert_eq!(h.view("c1").tier.as_deref(), Some("Bronze"));
    let out = h.ok(eur("o2", "2026-03-01T10:00:00+01:00", "c1", "200.00"));
    assert_eq!(out.entries[0].points, 2000, "earned at Bronze; the upgrade follows the order");
    assert_eq!(h.view("c1").tier.as_deref(), Some("Silver"));
    assert!(h.effects.iter().any(|e| e["type"] == "tier.changed" && e["to"] == "Silver"));
    let out = h.ok(eur("o3", "2026-03-02T10:00:00+01:00", "c1", "100.00"));
    assert_eq!(out.entries[0].points, 1500, "x1.5 at Silver");
    // A refund after the upgrade reverses what the order earned, at Silver's multiplier.
    let r = h.ok(refund_all("x3", "2026-03-03T10:00:00+01:00", "o3"));
    assert_eq!(r.entries[0].points, -1500);
    assert_eq!(h.view("c1").tier.as_deref(), Some("Silver"), "a refund does not drop the tier mid-period");
    let p = h.view("c1").tier_progress.unwrap();
    assert_eq!((p.current, p.next_tier.as_deref(), p.needed), (60_000, Some("Gold"), 90_000), "600.00 spent, 900.00 to Gold");
    h.ok(eur("o4", "2026-04-01T10:00:00+01:00", "c1", "1000.00"));
    assert_eq!(h.view("c1").tier.as_deref(), Some("Gold"));
    assert_eq!(h.view("c1").tier_progress.unwrap().next_tier, None, "the top");
    assert_eq!(h.view("c1").coupons.iter().filter(|c| c.reward == "gold-gift").count(), 1, "entry reward on reaching Gold");
}

#[test]
fn tiers_fall_only_when_the_period_ends() {
    let mut h = Harness::new(&tier_program(json!({})));
    h.ok(eur("o1", "2026-05-01T10:00:00+02:00", "c1", "600.00"));
    assert_eq!(h.view("c1").tier.as_deref(), Some("Silver"));
    h.tick("2026-12-31T23:59:00+01:00");
    assert_eq!(h.view("c1").tier.as_deref(), Some("Silver"));
    h.tick("2027-01-01T00:00:00+01:00");
    assert_eq!(h.view("c1").tier.as_deref(), Some("Bronze"), "no retention: a new year starts from the bottom");

    let mut h = Harness::new(&tier_program(json!({"periods": 1})));
    h.ok(eur("o1", "2026-05-01T10:00:00+02:00", "c1", "600.00"));
    h.tick("2027-06-01T00:00:00+02:00");
    assert_eq!(h.view("c1").tier.as_deref(), Some("Silver"), "kept through the next year");
    h.tick("2028-01-01T00:00:00+01:00");
    assert_eq!(h.view("c1").tier.as_deref(), Some("Bronze"));

    let mut h = Harness::new(&tier_program(json!({"grace_days": 30})));
    h.ok(eur("o1", "2026-05-01T10:00:00+02:00", "c1", "600.00"));
    h.ok(eur("o2", "2027-01-15T10:00:00+01:00", "c1", "500.00"));
    h.tick("2027-01-31T00:00:00+01:00");
    assert_eq!(h.view("c1").tier.as_deref(), Some("Silver"), "requalified within the grace days");
}

#[test]
fn changing_thresholds_never_silently_drops_a_tier() {
    let mut h = Harness::new(&tier_program(json!({})));
    h.ok(eur("o1", "2026-05-01T10:00:00+02:00", "c1", "600.00"));
    let mut p = tier_program(json!({}));
    p["tiers"]["levels"][1]["threshold"] = json!("800.00");
    h.engine = engine(&p).unwrap();
    h.ok(eur("o2", "2026-05-02T10:00:00+02:00", "c1", "10.00"));
    assert_eq!(h.view("c1").tier.as_deref(), Some("Silver"), "kept until the period ends");
}

#[test]
fn campaigns_apply_in_their_local_windows_and_stack_as_configured() {
    let campaigns = json!([
        {"id": "weekend", "multiplier": "2", "weekdays": [6, 7]},
        {"id": "happy-hour", "multiplier": "3", "hours": {"from": "18:00", "until": "20:00"}, "priority": 5},
        {"id": "shoes", "multiplier": "1.5", "match": {"category": ["shoes"]}, "from": "2026-04-01", "until": "2026-04-30"}
    ]);
    let mut h = Harness::new(&with(json!({"campaigns": campaigns, "campaign_stacking": "multiply"})));
    // Saturday 2026-03-28, 18:30 in Oslo: weekend x happy hour.
    assert_eq!(h.ok(eur("o1", "2026-03-28T18:30:00+01:00", "c1", "10.00")).entries[0].points, 600);
    // Sunday 2026-03-29 19:59 CEST (the DST day): still in the window.
    assert_eq!(h.ok(eur("o2", "2026-03-29T17:59:00Z", "c1", "10.00")).entries[0].points, 600);
    assert_eq!(h.ok(eur("o3", "2026-03-29T18:00:00Z", "c1", "10.00")).entries[0].points, 200, "20:00 CEST: happy hour over");
    // Monday 2026-03-30, 10:00: none.
    assert_eq!(h.ok(eur("o4", "2026-03-30T10:00:00+02:00", "c1", "10.00")).entries[0].points, 100);
    let out = h.ok(line_order("o5", "2026-04-30T23:30:00+02:00", "c1", json!([{"id": "s", "quantity": 1, "unit_price": "10.00", "categories": ["shoes"]}, {"id": "t", "quantity": 1, "unit_price": "10.00"}])));
    assert_eq!(out.entries[0].points, 150 + 100, "the shoes campaign covers shoes only, through April 30 local");
    assert!(out.entries[0].rules.iter().any(|r| r == "campaign:shoes"));

    let mut h = Harness::new(&with(json!({"campaigns": campaigns, "campaign_stacking": "best_of"})));
    assert_eq!(h.ok(eur("o1", "2026-03-28T18:30:00+01:00", "c1", "10.00")).entries[0].points, 300, "best of x2 and x3");

    let exclusive = json!([{"id": "vip", "multiplier": "2", "priority": 10, "exclusive": true}, {"id": "weekend", "multiplier": "2", "weekdays": [6, 7]}]);
    let mut h = Harness::new(&with(json!({"campaigns": exclusive})));
    assert_eq!(h.ok(eur("o1", "2026-03-28T12:00:00+01:00", "c1", "10.00")).entries[0].points, 200, "an exclusive campaign shuts out lower ones");
}

#[test]
fn new_member_and_tier_campaigns_and_a_chosen_triple_points_day() {
    let mut p = tier_program(json!({}));
    p["campaigns"] = json!([
        {"id": "welcome-double", "multiplier": "2", "joined_within_days": 30},
        {"id": "gold-weekend", "multiplier": "1.5", "tiers": ["Gold"], "weekdays": [6, 7]}
    ]);
    let mut h = Harness::new(&p);
    h.ok(action("s", "2026-01-01T10:00:00+01:00", "c1", "signup", None));
    assert_eq!(h.ok(eur("o1", "2026-01-30T10:00:00+01:00", "c1", "10.00")).entries[0].points, 200, "day 29 after joining");
    assert_eq!(h.ok(eur("o2", "2026-01-31T10:00:00+01:00", "c1", "10.00")).entries[0].points, 100, "day 30: over");
    h.ok(eur("o3", "2026-02-02T10:00:00+01:00", "c1", "1500.00"));
    assert_eq!(h.view("c1").tier.as_deref(), Some("Gold"));
    // Saturday, Gold: x2 tier and x1.5 campaign.
    assert_eq!(h.ok(eur("o4", "2026-02-07T10:00:00+01:00", "c1", "10.00")).entries[0].points, 300);
    // Gold picks one day a year for triple points.
    h.ok(action("day", "2026-02-08T10:00:00+01:00", "c1", "choose_day", Some("2026-02-10")));
    assert_eq!(h.ok(eur("o5", "2026-02-10T10:00:00+01:00", "c1", "10.00")).entries[0].points, 600, "x2 tier x3 chosen day");
    assert_eq!(h.ok(eur("o6", "2026-02-11T10:00:00+01:00", "c1", "10.00")).entries[0].points, 200);
    let again = h.ok(action("day2", "2026-02-12T10:00:00+01:00", "c1", "choose_day", Some("2026-03-01")));
    assert!(again.skipped.unwrap().contains("once a year"));
}

#[test]
fn pending_points_wait_for_the_return_window() {
    let mut h = Harness::new(&with(json!({"pending": {"window": "P14D"}})));
    let out = h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "100.00"));
    assert_eq!((out.entries[0].kind, out.entries[0].points, out.entries[0].pending), (EntryKind::Pending, 0, 1000));
    assert_eq!((h.balance("c1"), h.view("c1").pending), (0, 1000), "pending points cannot be spent");
    h.ok(eur("o2", "2026-01-11T12:00:00+01:00", "c1", "50.00"));
    // A refund inside the window cancels pending points without debt.
    let r = h.ok(refund_all("x1", "2026-01-12T12:00:00+01:00", "o1"));
    assert_eq!((r.entries[0].points, r.entries[0].pending), (0, -1000));
    assert_eq!((h.balance("c1"), h.view("c1").pending), (0, 500));
    h.tick("2026-01-25T23:59:00+01:00");
    assert_eq!(h.balance("c1"), 0, "o2 releases at the end of its 14th local day");
    let out = h.tick("2026-01-26T00:00:00+01:00").remove(0);
    assert_eq!((out.entries[0].kind, out.entries[0].points), (EntryKind::Release, 500));
    assert_eq!((h.balance("c1"), h.view("c1").pending), (500, 0));
    // After the window a refund is an ordinary reversal.
    assert_eq!(h.ok(refund_all("x2", "2026-02-01T12:00:00+01:00", "o2")).entries[0].points, -500);
}

#[test]
fn a_return_window_with_a_time_part_is_counted_in_hours() {
    // PT72H is three days to the minute, not the end of the order's own day.
    let mut h = Harness::new(&with(json!({"pending": {"window": "PT72H"}})));
    h.ok(eur("o1", "2026-01-10T12:00:00+01:00", "c1", "100.00"));
    h.tick("2026-01-13T11:59:00+01:00");
    assert_eq!((h.balance("c1"), h.view("c1").pending), (0, 1000), "still inside the 72 hours");
    let out = h.tick("2026-01-13T12:00:00+01:00").remove(0);
    assert_eq!((out.entries[0].kind, out.entries[0].points), (EntryKind::Release, 1000));
}
