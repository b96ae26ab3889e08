//! The context every rule works in: one event's work in progress on one account (`Tx`),
//! and what the rules hand back to the host (`Effect`). The rule modules sit on this module
//! and the engine sits on them: nothing here, and no rule, imports the engine.

use crate::ledger::{Account, CouponStatus, Entry, EntryKind, Reason};
use crate::program::{Channel, NegativeBalance, Program, Trigger};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// The HMAC keyed with the program secret: made once per engine, so a coupon code costs two
/// SHA-256 blocks instead of four.
pub type Key = Hmac<Sha256>;

pub fn key(secret: &[u8]) -> Key {
    // HMAC accepts keys of any length, so this never fails.
    <Key as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

/// What the host must do after committing an event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type")]
pub enum Effect {
    #[serde(rename = "coupon.issued")]
    CouponIssued { customer: String, reward: String, points: i64, coupon: CouponView },
    #[serde(rename = "coupon.used")]
    CouponUsed { customer: String, code: String, order_id: Option<String> },
    #[serde(rename = "coupon.expired")]
    CouponExpired { customer: String, code: String },
    /// An unused coupon withdrawn: its `points` came back, and the reward's stock with it.
    #[serde(rename = "coupon.cancelled")]
    CouponCancelled { customer: String, code: String, reward: String, points: i64 },
    #[serde(rename = "membership.changed")]
    MembershipChanged { customer: String, plan: String, status: crate::membership::Status, until: Option<String>, fee: String },
    #[serde(rename = "tier.changed")]
    TierChanged { customer: String, from: Option<String>, to: String, reason: String },
    /// An event the host must apply to another account (a referrer's reward): idempotent
    /// by its id, so applying it more than once is harmless.
    #[serde(rename = "event")]
    Event {
        #[cfg_attr(feature = "schema", schemars(schema_with = "crate::event::union::schema"))]
        event: Value,
    },
    /// `key` is unique per notification, so a dispatcher can deliver each exactly once.
    /// `data`'s keys are sorted (a `serde_json` map).
    #[serde(rename = "notify")]
    Notify {
        key: String,
        trigger: Trigger,
        customer: String,
        channels: Vec<Channel>,
        #[cfg_attr(feature = "schema", schemars(with = "serde_json::Map<String, Value>"))]
        data: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CouponView {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: crate::program::CouponKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_order: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_discount: Option<String>,
    pub expires_at: Option<String>,
    pub status: CouponStatus,
    pub reward: String,
}

/// `parts` in one string: `format!` without the formatting machinery (slow in wasm), and
/// `concat` without its generic code.
pub fn joined(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// One event's work in progress on one account.
pub struct Tx<'a> {
    pub program: &'a Program,
    /// Keys the coupon codes.
    pub key: &'a Key,
    pub account: Account,
    pub event_id: &'a str,
    pub at: i64,
    pub entries: Vec<Entry>,
    pub effects: Vec<Effect>,
    pub coupons_issued: usize,
    /// Coupons issued so far per stock-limited reward, program-wide, as the host counts them;
    /// `None` when the host gave no counts.
    pub stock: Option<&'a HashMap<String, i64>>,
    /// Whether entries and effects carry their detail. A simulation only sums the state and
    /// counts coupons, so it turns this off: entries are then only counted (`seq`),
    /// notifications are not written, and a coupon's effect names its reward and points but
    /// not the coupon. The rules run the same either way.
    pub detail: bool,
}

impl Tx<'_> {
    pub fn at_text(&self) -> String {
        self.program.zone.format(self.at)
    }

    /// Appends a ledger entry dated at the instant `at` (UTC ms) after the account has
    /// changed, so `balance_after` is exact.
    pub fn push_entry(&mut self, kind: EntryKind, points: i64, reason: impl Into<Reason>, at: i64, fill: impl FnOnce(&mut Entry)) {
        if let Some(e) = self.entry(kind, points, reason.into(), at) {
            fill(e);
        }
    }

    /// The body of `push_entry`, kept out of its per-closure copies (each would carry
    /// its own copy in the wasm). Without `detail` the entry is only counted.
    #[inline(never)]
    fn entry(&mut self, kind: EntryKind, points: i64, reason: Reason, at: i64) -> Option<&mut Entry> {
        self.account.seq += 1;
        if !self.detail {
            return None;
        }
        let mut id = String::with_capacity(self.event_id.len() + 3);
        id.push_str(self.event_id);
        id.push('#');
        crate::money::push_digits(&mut id, self.entries.len() as u128, 1);
        self.entries.push(Entry {
            id,
            event: self.event_id.to_string(),
            customer: self.account.customer.clone(),
            kind,
            points,
            balance_after: self.account.balance,
            at: self.program.zone.stamp(at),
            reason,
            rules: vec![],
            lots: vec![],
            order_id: None,
            coupon: None,
            forgiven: 0,
            pending: 0,
            by: None,
            charity: None,
        });
        self.entries.last_mut()
    }

    /// Emits a notification if the program sends this trigger on any channel: only then is
    /// its `data` made, with `customer` and `program` added.
    #[inline]
    pub fn notify(&mut self, trigger: Trigger, data: impl FnOnce() -> Vec<(&'static str, Value)>) {
        let program = self.program;
        if let Some(channels) = program.channels(trigger).filter(|_| self.detail) {
            self.push_notify(trigger, channels, data());
        }
    }

    fn push_notify(&mut self, trigger: Trigger, channels: &[Channel], data: Vec<(&str, Value)>) {
        let mut all: serde_json::Map<String, Value> = data.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        all.insert("customer".into(), self.account.customer.clone().into());
        all.insert("program".into(), self.program.name.as_deref().unwrap_or(&self.program.id).into());
        let data = Value::Object(all);
        let n = self.effects.iter().filter(|e| matches!(e, Effect::Notify { .. })).count();
        self.effects.push(Effect::Notify {
            key: format!("{}:{}:{n}", self.event_id, trigger.name()),
            trigger,
            customer: self.account.customer.clone(),
            channels: channels.to_vec(),
            data,
        });
    }

    pub fn coupon_view(&self, c: &crate::ledger::Coupon) -> CouponView {
        let amount = |m: Option<i64>| m.map(|m| self.program.format_amount(m));
        CouponView {
            code: c.code.to_string(),
            kind: c.kind,
            value: c.value.as_deref().map(String::from),
            min_order: amount(c.min_order),
            max_discount: amount(c.max_discount),
            expires_at: c.expires_at.map(|e| self.program.zone.format(e - 1)),
            status: c.status,
            reward: c.reward.to_string(),
        }
    }

    /// Debits a reversal under the program's negative-balance policy.
    pub fn reverse(&mut self, owed: i64, order_id: Option<&str>, reason: Reason) {
        if owed == 0 {
            return;
        }
        let allow = self.program.negative_balance == NegativeBalance::Allow;
        let (takes, forgiven) = self.account.debit(owed, allow);
        let taken = owed - forgiven;
        self.account.totals.reversed += taken;
        self.account.totals.forgiven += forgiven;
        self.push_entry(EntryKind::Reverse, -taken, reason, self.at, |e| {
            e.lots = takes;
            e.order_id = order_id.map(String::from);
            e.forgiven = forgiven;
        });
    }
}
