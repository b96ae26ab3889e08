//! The JSON the engine writes: one hand-written `write_json` per output type, with fields in
//! the order, names and omissions serde's derive used (declaration order; optional fields
//! left out when empty where marked). Notification data and derived events keep serde_json's
//! `json!` layout: keys sorted.

use crate::earn::{LineEarn, OrderRecord};
use crate::engine::{Batch, CouponView, Effect, Outcome, Quote, Skipped, View};
use crate::json::{Out, ToJson};
use crate::ledger::{Account, Coupon, CouponStatus, Entry, EntryKind, Lot, PendingLot, Take};
use crate::program::{Channel, CouponKind};
use crate::ratio::Ratio;
use crate::reward::CouponQuote;
use crate::tier::{Month, Perks};
use crate::time::Date;

pub fn coupon_kind(k: CouponKind) -> &'static str {
    match k {
        CouponKind::Percent => "percent",
        CouponKind::Fixed => "fixed",
        CouponKind::FreeShipping => "free_shipping",
        CouponKind::FreeProduct => "free_product",
    }
}

fn entry_kind(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Earn => "earn",
        EntryKind::Reverse => "reverse",
        EntryKind::Redeem => "redeem",
        EntryKind::Expire => "expire",
        EntryKind::Adjust => "adjust",
        EntryKind::Pending => "pending",
        EntryKind::Release => "release",
        EntryKind::Donate => "donate",
        EntryKind::Restore => "restore",
    }
}

fn channel(c: Channel) -> &'static str {
    match c {
        Channel::Email => "email",
        Channel::Push => "push",
        Channel::Sms => "sms",
        Channel::Webhook => "webhook",
    }
}

fn status(s: CouponStatus) -> &'static str {
    s.name()
}

impl Date {
    /// `yyyy-mm-dd` for years 0 to 9999, made on the stack (states carry several dates);
    /// `None` beyond, where `Display` writes the year's sign and digits.
    pub(crate) fn ascii(self) -> Option<[u8; 10]> {
        let (y, m, d) = self.ymd();
        if !(0..=9999).contains(&y) {
            return None;
        }
        let mut b = *b"0000-00-00";
        for (at, n) in [(0, y as u32 / 100), (2, y as u32 % 100), (5, m), (8, d)] {
            b[at] = b'0' + (n / 10 % 10) as u8;
            b[at + 1] = b'0' + (n % 10) as u8;
        }
        Some(b)
    }

    /// `yyyy-mm-dd`, as `Display` writes it, without the formatting machinery.
    pub fn text(self) -> String {
        match self.ascii() {
            // Only ASCII digits and dashes were written.
            Some(b) => std::str::from_utf8(&b).unwrap_or("").to_string(),
            None => self.to_string(),
        }
    }
}

fn k_date(o: &mut Out, k: &str, d: Option<Date>) {
    if let Some(d) = d {
        k_day(o, k, d);
    }
}

/// `k: "yyyy-mm-dd"`, with no String made for the common years.
fn k_day(o: &mut Out, k: &str, d: Date) {
    match d.ascii() {
        Some(b) => o.k_str(k, std::str::from_utf8(&b).unwrap_or("")),
        None => o.k_str(k, &d.text()),
    }
}

fn k_ratio(o: &mut Out, k: &str, r: &Ratio) {
    let (num, den) = r.parts();
    o.k_fraction(k, num, den);
}

impl ToJson for Account {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("customer", &self.customer);
        o.k_int("balance", self.balance);
        o.k_int("pending", self.pending);
        o.k_int("debt", self.debt);
        o.k_list("lots", &self.lots);
        k_date(o, "rolling_until", self.rolling_until);
        if let Some(w) = &self.warned {
            o.key("warned");
            o.open();
            k_day(o, "until", w.until);
            o.k_int("done", w.done as i64);
            o.close();
        }
        o.k_list("coupons", &self.coupons);
        if !self.carry.is_zero() {
            k_ratio(o, "carry", &self.carry);
        }
        o.k_some_str("tier", self.tier.as_deref());
        o.k_int("clock", self.clock);
        o.key("seq");
        match i64::try_from(self.seq) {
            Ok(n) => o.int(n),
            Err(_) => o.raw(&self.seq.to_string()),
        }
        o.k_strs("recent", &self.recent);
        let t = &self.totals;
        o.key("totals");
        o.open();
        o.k_int("earned", t.earned);
        o.k_int("reversed", t.reversed);
        o.k_int("redeemed", t.redeemed);
        o.k_int("expired", t.expired);
        o.k_int("adjusted", t.adjusted);
        o.k_int("forgiven", t.forgiven);
        // Written only when used, so states from before spending existed stay byte for byte.
        if t.donated != 0 {
            o.k_int("donated", t.donated);
        }
        if t.restored != 0 {
            o.k_int("restored", t.restored);
        }
        o.close();
        o.k_some_int("next_due", self.next_due);
        k_date(o, "joined", self.joined);
        k_date(o, "tier_until", self.tier_until);
        if !self.months.is_empty() {
            o.k_list("months", &self.months);
        }
        o.key("lifetime");
        self.lifetime.write_json(o);
        if !self.actions.is_empty() {
            k_counts(o, "actions", &self.actions);
        }
        if !self.refs.is_empty() {
            o.k_strs("refs", &self.refs);
        }
        o.k_some_str("referred_by", self.referred_by.as_deref());
        if !self.pending_lots.is_empty() {
            o.k_list("pending_lots", &self.pending_lots);
        }
        k_date(o, "chosen_day", self.chosen_day);
        if !self.redeemed.is_empty() {
            k_counts(o, "redeemed", &self.redeemed);
        }
        if let Some(m) = &self.membership {
            o.key("membership");
            o.open();
            o.k_str("plan", &m.plan);
            o.k_str("status", m.status.name());
            o.k_int("since", m.since);
            o.k_some_int("until", m.until);
            o.k_some_int("gift_at", m.gift_at);
            o.k_int("year", m.year);
            o.k_int("spend", m.spend);
            o.k_int("fees", m.fees);
            o.close();
        }
        if !self.offers.is_empty() {
            o.k_strs("offers", &self.offers);
        }
        if !self.bought.is_empty() {
            o.key("bought");
            o.open_array();
            for (id, n) in &self.bought {
                o.item();
                o.open_array();
                o.item();
                o.str(id);
                o.item();
                o.int(*n);
                o.close_array();
            }
            o.close_array();
        }
        o.k_some_int("last_order", self.last_order);
        o.close();
    }
}

fn k_counts(o: &mut Out, k: &str, counts: &[crate::action::Counts]) {
    o.key(k);
    o.open_array();
    for c in counts {
        o.item();
        o.open();
        o.k_str("action", &c.action);
        o.key("periods");
        o.open_array();
        for p in &c.periods {
            o.item();
            o.open_array();
            o.item();
            o.int(p[0]);
            o.item();
            o.int(p[1]);
            o.close_array();
        }
        o.close_array();
        o.close();
    }
    o.close_array();
}

impl ToJson for Month {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_int("month", self.month);
        o.k_int("spend", self.spend);
        o.k_int("points", self.points);
        o.k_int("orders", self.orders);
        o.close();
    }
}

impl ToJson for Lot {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("id", &self.id);
        o.k_int("points", self.points);
        o.k_int("remaining", self.remaining);
        o.k_int("at", self.at);
        o.k_some_int("expires_at", self.expires_at);
        o.close();
    }
}

impl ToJson for PendingLot {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("id", &self.id);
        o.k_str("order_id", &self.order_id);
        o.k_int("points", self.points);
        o.k_int("release_at", self.release_at);
        o.k_some_int("expires_at", self.expires_at);
        o.close();
    }
}

impl ToJson for Coupon {
    fn write_json(&self, o: &mut Out) {
        coupon_terms(self, o);
        o.k_str("status", status(self.status));
        o.k_some_str("order_id", self.order_id.as_deref());
        o.close();
    }
}

/// A coupon's object up to `status`: `{` and the members that never change.
fn coupon_terms(c: &Coupon, o: &mut Out) {
    o.open();
    o.k_str("code", &c.code);
    o.k_str("reward", &c.reward);
    o.k_str("type", coupon_kind(c.kind));
    o.k_some_str("value", c.value.as_deref());
    o.k_some_int("min_order", c.min_order);
    o.k_some_int("max_discount", c.max_discount);
    o.k_int("points", c.points);
    o.k_int("issued_at", c.issued_at);
    o.k_some_int("expires_at", c.expires_at);
}

impl ToJson for Take {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("lot", &self.lot);
        o.k_int("points", self.points);
        o.close();
    }
}

impl ToJson for Entry {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("id", &self.id);
        o.k_str("event", &self.event);
        o.k_str("customer", &self.customer);
        o.k_str("type", entry_kind(self.kind));
        o.k_int("points", self.points);
        o.k_int("balance_after", self.balance_after);
        o.k_str("at", &self.at);
        o.k_str("reason", &self.reason);
        if !self.rules.is_empty() {
            o.k_strs("rules", &self.rules);
        }
        if !self.lots.is_empty() {
            o.k_list("lots", &self.lots);
        }
        o.k_some_str("order_id", self.order_id.as_deref());
        o.k_some_str("coupon", self.coupon.as_deref());
        if self.forgiven != 0 {
            o.k_int("forgiven", self.forgiven);
        }
        if self.pending != 0 {
            o.k_int("pending", self.pending);
        }
        o.k_some_str("by", self.by.as_deref());
        o.k_some_str("charity", self.charity.as_deref());
        o.close();
    }
}

impl ToJson for OrderRecord {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("id", &self.id);
        o.k_str("customer", &self.customer);
        o.k_str("event", &self.event);
        o.k_int("at", self.at);
        o.k_str("rate", &self.rate);
        o.k_str("rounding", self.rounding.name());
        if !self.rules.is_empty() {
            o.k_strs("rules", &self.rules);
        }
        k_ratio(o, "carry_in", &self.carry_in);
        o.k_list("lines", &self.lines);
        o.k_int("total", self.total);
        o.k_int("earned", self.earned);
        o.k_int("reversed", self.reversed);
        o.k_int("refunded_amount", self.refunded_amount);
        o.k_bool("cancelled", self.cancelled);
        if self.pending {
            o.k_bool("pending", true);
        }
        o.k_some_str("referrer", self.referrer.as_deref());
        if self.points_spent != 0 {
            o.k_int("points_spent", self.points_spent);
            o.k_int("points_returned", self.points_returned);
        }
        if self.member {
            o.k_bool("member", true);
        }
        o.close();
    }
}

impl ToJson for LineEarn {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("id", &self.id);
        o.k_int("quantity", self.quantity);
        k_ratio(o, "basis", &self.basis);
        k_ratio(o, "points", &self.points);
        k_ratio(o, "multiplier", &self.multiplier);
        o.k_int("refunded", self.refunded);
        o.close();
    }
}

impl ToJson for CouponView {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("code", &self.code);
        o.k_str("type", coupon_kind(self.kind));
        o.k_some_str("value", self.value.as_deref());
        o.k_some_str("min_order", self.min_order.as_deref());
        o.k_some_str("max_discount", self.max_discount.as_deref());
        o.k_opt_str("expires_at", self.expires_at.as_deref());
        o.k_str("status", status(self.status));
        o.k_str("reward", &self.reward);
        o.close();
    }
}

impl CouponView {
    /// The view as `json!` wrote it into notification data: keys sorted.
    pub fn sorted_json(&self) -> String {
        let mut o = Out::new();
        o.open();
        o.k_str("code", &self.code);
        o.k_opt_str("expires_at", self.expires_at.as_deref());
        o.k_some_str("max_discount", self.max_discount.as_deref());
        o.k_some_str("min_order", self.min_order.as_deref());
        o.k_str("reward", &self.reward);
        o.k_str("status", status(self.status));
        o.k_str("type", coupon_kind(self.kind));
        o.k_some_str("value", self.value.as_deref());
        o.close();
        o.0
    }
}

impl ToJson for Perks {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_some_str("multiplier", self.multiplier.as_deref());
        o.k_some_str("percent_off", self.percent_off.as_deref());
        if self.free_shipping {
            o.k_bool("free_shipping", true);
        }
        o.k_some_str("entry_reward", self.entry_reward.as_deref());
        o.k_some_str("chosen_day_multiplier", self.chosen_day_multiplier.as_deref());
        o.close();
    }
}

impl Perks {
    /// The perks as `json!` wrote them into notification data: keys sorted.
    pub fn sorted_json(&self) -> String {
        let mut o = Out::new();
        o.open();
        o.k_some_str("chosen_day_multiplier", self.chosen_day_multiplier.as_deref());
        o.k_some_str("entry_reward", self.entry_reward.as_deref());
        if self.free_shipping {
            o.k_bool("free_shipping", true);
        }
        o.k_some_str("multiplier", self.multiplier.as_deref());
        o.k_some_str("percent_off", self.percent_off.as_deref());
        o.close();
        o.0
    }
}

impl ToJson for Effect {
    fn write_json(&self, o: &mut Out) {
        o.open();
        match self {
            Effect::CouponIssued { customer, reward, points, coupon } => {
                o.k_str("type", "coupon.issued");
                o.k_str("customer", customer);
                o.k_str("reward", reward);
                o.k_int("points", *points);
                o.key("coupon");
                coupon.write_json(o);
            }
            Effect::CouponUsed { customer, code, order_id } => {
                o.k_str("type", "coupon.used");
                o.k_str("customer", customer);
                o.k_str("code", code);
                o.k_opt_str("order_id", order_id.as_deref());
            }
            Effect::CouponExpired { customer, code } => {
                o.k_str("type", "coupon.expired");
                o.k_str("customer", customer);
                o.k_str("code", code);
            }
            Effect::CouponCancelled { customer, code, reward, points } => {
                o.k_str("type", "coupon.cancelled");
                o.k_str("customer", customer);
                o.k_str("code", code);
                o.k_str("reward", reward);
                o.k_int("points", *points);
            }
            Effect::MembershipChanged { customer, plan, status, until, fee } => {
                o.k_str("type", "membership.changed");
                o.k_str("customer", customer);
                o.k_str("plan", plan);
                o.k_str("status", status.name());
                o.k_opt_str("until", until.as_deref());
                o.k_str("fee", fee);
            }
            Effect::TierChanged { customer, from, to, reason } => {
                o.k_str("type", "tier.changed");
                o.k_str("customer", customer);
                o.k_opt_str("from", from.as_deref());
                o.k_str("to", to);
                o.k_str("reason", reason);
            }
            Effect::Event { event } => {
                o.k_str("type", "event");
                o.key("event");
                o.raw(event);
            }
            Effect::Notify { key, trigger, customer, channels, data } => {
                o.k_str("type", "notify");
                o.k_str("key", key);
                o.k_str("trigger", trigger.name());
                o.k_str("customer", customer);
                o.key("channels");
                o.open_array();
                for c in channels {
                    o.item();
                    o.str(channel(*c));
                }
                o.close_array();
                o.key("data");
                o.raw(data);
            }
        }
        o.close();
    }
}

impl ToJson for View {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("customer", &self.customer);
        o.k_int("balance", self.balance);
        o.k_int("pending", self.pending);
        o.k_opt_str("tier", self.tier.as_deref());
        o.key("next_expiry");
        match &self.next_expiry {
            None => o.null(),
            Some(n) => {
                o.open();
                o.k_int("points", n.points);
                o.k_str("at", &n.at);
                o.close();
            }
        }
        o.k_list("coupons", &self.coupons);
        o.key("tier_progress");
        match &self.tier_progress {
            None => o.null(),
            Some(p) => {
                o.open();
                o.k_str("basis", p.basis);
                // Spend is money: decimal strings like every amount; points and orders count.
                let amount = |o: &mut Out, k: &str, v: i64| match p.exponent {
                    Some(exp) => o.k_str(k, &crate::money::format_amount(v, exp)),
                    None => o.k_int(k, v),
                };
                amount(o, "current", p.current);
                o.k_opt_str("next_tier", p.next_tier.as_deref());
                amount(o, "needed", p.needed);
                o.close();
            }
        }
        if let Some((plan, status, until)) = &self.membership {
            o.key("membership");
            o.open();
            o.k_str("plan", plan);
            o.k_str("status", status);
            o.k_opt_str("until", until.as_deref());
            o.close();
        }
        o.close();
    }
}

impl ToJson for CouponQuote {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("code", &self.code);
        o.k_str("type", coupon_kind(self.kind));
        o.k_bool("usable", self.usable);
        o.k_str("discount", &self.discount);
        o.k_some_str("reason", self.reason.as_deref());
        o.close();
    }
}

impl ToJson for Quote {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_int("points", self.points);
        o.k_strs("rules", &self.rules);
        o.key("perks");
        self.perks.write_json(o);
        o.k_list("coupons", &self.coupons);
        if let Some(p) = &self.pay_with_points {
            o.key("pay_with_points");
            o.open();
            o.k_int("points", p.points);
            o.k_str("discount", &crate::money::format_amount(p.discount, self.exponent));
            o.k_some_str("reason", p.reason.as_deref());
            o.close();
        }
        o.close();
    }
}

impl ToJson for Skipped {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.k_str("event", &self.event);
        o.k_str("reason", &self.reason);
        o.close();
    }
}

fn k_map<T: ToJson>(o: &mut Out, k: &str, m: &std::collections::HashMap<String, T>) {
    o.key(k);
    o.open();
    for (id, v) in m {
        o.key_escaped(id);
        v.write_json(o);
    }
    o.close();
}

impl ToJson for Batch {
    fn write_json(&self, o: &mut Out) {
        o.open();
        k_map(o, "states", &self.states);
        k_map(o, "orders", &self.orders);
        o.k_list("entries", &self.entries);
        o.k_list("effects", &self.effects);
        o.k_list("skipped", &self.skipped);
        o.close();
    }
}

impl Outcome {
    /// The outcome as wasm `apply` returns it, three texts in one: the state's JSON, a
    /// newline, the order record's JSON ("" if none), a newline, then the rest
    /// (`{"entries":…,"effects":…}`). The JSON written here never holds a raw newline, so
    /// the host splits at the first two, keeps the state and order texts as they are (to
    /// store, or to pass back) and parses only what it reads. Returns the text and the
    /// state's length; `room` sizes the buffer (about the old state's size plus a few entries).
    pub fn write_parts(&self, room: usize) -> (String, usize) {
        let mut o = Out::with_capacity(room);
        self.state.write_json(&mut o);
        let state = o.0.len();
        o.0.push('\n');
        if let Some(r) = &self.order {
            r.write_json(&mut o);
        }
        o.0.push('\n');
        o.open();
        self.write_rest(&mut o);
        (o.0, state)
    }

    /// The outcome's keys but `state` and `order` (`"entries":…,"effects":…`), and the
    /// closing brace, into an object already opened.
    fn write_rest(&self, o: &mut Out) {
        o.k_list("entries", &self.entries);
        o.k_list("effects", &self.effects);
        if self.duplicate {
            o.k_bool("duplicate", true);
        }
        o.k_some_str("skipped", self.skipped.as_deref());
        o.close();
    }
}

impl ToJson for Outcome {
    fn write_json(&self, o: &mut Out) {
        o.open();
        o.key("state");
        self.state.write_json(o);
        if let Some(r) = &self.order {
            o.key("order");
            r.write_json(o);
        }
        self.write_rest(o);
    }
}
