//! Rewards and their coupons: threshold rewards issued automatically when spendable points
//! reach them, catalogue rewards on request, deterministic readable codes, and the discount a
//! coupon gives on a cart.

use crate::context::{key, CouponView, Effect, Key, Tx};
use crate::event::Order;
use crate::ledger::{Coupon, CouponStatus, EntryKind};
use crate::program::{CouponKind, Reward, Trigger};
use crate::ratio::Ratio;
use hmac::Mac;

/// Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `LOY-XXXX-XXXX-XXXX`: HMAC-SHA256 of the program secret over the event id and the
/// coupon's position in it, so re-applying an event reproduces the code and nobody without
/// the secret can guess one. 60 bits keep collisions negligible across millions of coupons.
pub fn code(secret: &[u8], event_id: &str, n: usize) -> String {
    keyed_code(&key(secret), event_id, n)
}

pub fn keyed_code(key: &Key, event_id: &str, n: usize) -> String {
    let mut mac = key.clone();
    mac.update(event_id.as_bytes());
    mac.update(b"\x1f");
    mac.update(n.to_string().as_bytes());
    let bytes = mac.finalize().into_bytes();
    let mut bits = u64::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]);
    let mut out = String::from("LOY");
    for i in 0..12 {
        if i % 4 == 0 {
            out.push('-');
        }
        out.push(ALPHABET[(bits >> 59) as usize] as char);
        bits <<= 5;
    }
    out
}

/// Debits a reward's points and issues its coupon, with the effects the host acts on.
pub fn issue(tx: &mut Tx, reward: &Reward) {
    coupon(tx, reward, true);
}

/// Issues a reward's coupon as a gift (a tier's entry reward, a referred friend's welcome):
/// no points change hands, so no ledger entry is written.
pub fn gift(tx: &mut Tx, reward: &Reward) {
    coupon(tx, reward, false);
}

fn coupon(tx: &mut Tx, reward: &Reward, debit: bool) {
    let points = if debit { reward.points } else { 0 };
    let takes = if debit { tx.account.debit(points, false).0 } else { vec![] };
    tx.account.totals.redeemed += points;
    tx.coupons_issued += 1;
    let code = keyed_code(tx.key, tx.event_id, tx.coupons_issued);
    let c = &reward.coupon;
    let expires_at = c.valid_for.map(|d| tx.program.zone.after(tx.at, &d));
    let coupon = Coupon {
        code: crate::ledger::name(&code),
        reward: crate::ledger::name(&reward.id),
        kind: c.kind,
        // A free product coupon's value is the product it gives.
        value: c.value_text.as_deref().or(c.product.as_deref()).map(crate::ledger::name),
        min_order: c.min_order,
        max_discount: c.max_discount,
        points,
        issued_at: tx.at,
        expires_at,
        status: CouponStatus::Issued,
        order_id: None,
    };
    // What the host is told of the coupon, only if it is told (see `Tx::detail`).
    let view = tx.detail.then(|| tx.coupon_view(&coupon));
    tx.account.coupons.push(coupon);
    if debit {
        // The entry's words are written only if the entry is (see `Tx::detail`).
        let reason = if tx.detail { format!("reward {}", reward.id) } else { String::new() };
        tx.push_entry(EntryKind::Redeem, -points, reason, tx.at, |e| {
            e.lots = takes;
            e.coupon = Some(code.clone());
            e.rules = vec![format!("reward:{}:{points} points", reward.id)];
        });
    }
    let customer = tx.account.customer.clone();
    let Some(view) = view else {
        let coupon = CouponView { code: String::new(), kind: c.kind, value: None, min_order: None, max_discount: None, expires_at: None, status: CouponStatus::Issued, reward: String::new() };
        tx.effects.push(Effect::CouponIssued { customer, reward: reward.id.clone(), points, coupon });
        return;
    };
    // The notification's copy of the coupon is made only when the program sends one.
    let coupon = tx.program.channels(Trigger::RewardEarned).map(|_| serde_json::to_value(&view).unwrap_or_default());
    tx.effects.push(Effect::CouponIssued { customer, reward: reward.id.clone(), points, coupon: view });
    let name = reward.name.as_deref().unwrap_or(&reward.id);
    let balance = tx.account.balance;
    tx.notify(Trigger::RewardEarned, || vec![("reward", reward.id.as_str().into()), ("reward_name", name.into()), ("coupon", coupon.unwrap_or_default()), ("balance", balance.into())]);
}

/// The error (at field `what`) of an event naming something the program lacks: `unknown <what> "<id>"
/// (<has> a, b, c)`, `has` saying where the known ids are ("the catalogue has").
pub fn unknown(what: &str, id: &str, has: &str, known: Vec<&str>) -> crate::error::Error {
    crate::error::Error::event(what, format!("unknown {what} \"{id}\" ({has} {})", known.join(", ")))
}

/// `reward.redeemed`: issues a catalogue reward for its points, within the customer's limit
/// and the program's stock; returns why not, if so.
pub fn redeem(tx: &mut Tx, id: &str) -> crate::error::Result<Option<String>> {
    let program = tx.program;
    let r = program.reward(id).ok_or_else(|| unknown("reward", id, "the catalogue has", program.rewards.iter().map(|r| r.id.as_str()).collect()))?;
    let on = program.zone.local_date(tx.at);
    if let Some(why) = r.limit.as_ref().and_then(|l| crate::action::limit_reached(&tx.account.redeemed, l, on)) {
        return Ok(Some(why));
    }
    if let Some(stock) = r.stock {
        let issued = tx.stock.ok_or_else(|| crate::error::Error::new("invalid_context", "stock", format!("reward \"{id}\" has a stock: the count of its coupons issued is required")))?;
        if issued.get(id).copied().unwrap_or(0) >= stock {
            return Ok(Some(format!("out of stock: all {stock} of {id} are taken")));
        }
    }
    if tx.account.debt > 0 || tx.account.spendable() < r.points {
        return Ok(Some(format!("not enough points: {id} needs {}, the balance is {}", r.points, tx.account.balance)));
    }
    if r.limit.is_some() {
        crate::action::count(&mut tx.account.redeemed, id, on);
    }
    issue(tx, r);
    Ok(None)
}

/// `coupon.cancelled`: withdraws an unused coupon and gives a catalogue reward's points back.
/// A threshold (`auto`) reward's are not: they would reach the threshold and issue it again.
pub fn cancel(tx: &mut Tx, code: &str) -> Option<String> {
    let customer = tx.account.customer.clone();
    let c = match tx.account.issued_coupon_mut(code) {
        Ok(c) => c,
        Err(why) => return Some(why),
    };
    c.status = CouponStatus::Cancelled;
    let (points, reward) = (c.points, c.reward.to_string());
    let auto = tx.program.reward(&reward).is_some_and(|r| r.auto);
    let points = if auto { 0 } else { points };
    if points > 0 {
        crate::expiry::restore(tx, points, "coupon cancelled".into(), |e| e.coupon = Some(code.to_string()));
    }
    tx.effects.push(Effect::CouponCancelled { customer, code: code.to_string(), reward, points });
    None
}

/// Keeps the program-wide count of stock-limited rewards' coupons up to date.
pub fn count_stock(program: &crate::program::Program, stock: &mut std::collections::HashMap<String, i64>, effects: &[Effect]) {
    for e in effects {
        let (reward, n) = match e {
            Effect::CouponIssued { reward, .. } => (reward, 1),
            Effect::CouponCancelled { reward, .. } => (reward, -1),
            _ => continue,
        };
        if program.reward(reward).is_some_and(|r| r.stock.is_some()) {
            *stock.entry(reward.clone()).or_insert(0) += n;
        }
    }
}

/// Issues every automatic reward the spendable balance reaches, biggest first. How many a
/// balance buys is a division, not a loop to the end of the balance: beyond
/// `limits::REWARDS_PER_EVENT` coupons the event is refused (a typo'd price, not a purchase).
pub fn issue_thresholds(tx: &mut Tx) -> crate::error::Result<()> {
    // Issuing debits without debt, so an account in debt stays in debt for the whole loop.
    if tx.account.debt > 0 {
        return Ok(());
    }
    let program = tx.program;
    let mut issued = 0;
    // Reward points are positive (the program's check).
    for reward in program.rewards.iter().filter(|r| r.auto) {
        let n = tx.account.spendable() / reward.points;
        issued += n;
        if issued > crate::limits::REWARDS_PER_EVENT {
            return Err(crate::error::Error::new(
                "too_many_rewards",
                "",
                format!("this event would issue {issued} threshold coupons: one event may issue at most {}", crate::limits::REWARDS_PER_EVENT),
            ));
        }
        for _ in 0..n {
            issue(tx, reward);
        }
    }
    Ok(())
}

/// `order.placed` naming loyalty codes among its `coupon_codes`: each of this customer's
/// issued coupons it names is used by this order. Platforms compare codes without case.
pub fn use_codes(tx: &mut Tx, codes: &[String], order_id: &str) {
    for code in codes {
        if let Some(i) = tx.account.coupons.iter().position(|c| c.status == CouponStatus::Issued && c.code.eq_ignore_ascii_case(code)) {
            mark_used(tx, i, Some(order_id.to_string()));
        }
    }
}

/// Marks the account's coupon at `index` used by `order_id`, with the effect the host acts on.
pub fn mark_used(tx: &mut Tx, index: usize, order_id: Option<String>) {
    let c = &mut tx.account.coupons[index];
    c.status = CouponStatus::Used;
    c.order_id = order_id.clone();
    let code = c.code.to_string();
    tx.effects.push(Effect::CouponUsed { customer: tx.account.customer.clone(), code, order_id });
}

/// Marks coupons whose validity ended by `now` as expired.
pub fn expire_coupons(tx: &mut Tx, now: i64) {
    let a = &mut tx.account;
    for c in a.coupons.iter_mut() {
        if c.status == CouponStatus::Issued && c.expires_at.is_some_and(|e| e <= now) {
            c.status = CouponStatus::Expired;
            tx.effects.push(Effect::CouponExpired { customer: a.customer.clone(), code: c.code.to_string() });
        }
    }
    // Settled coupons stay visible for 90 days, then live on only in the ledger and the store.
    let keep_after = now - 90 * 86_400_000;
    tx.account.coupons.retain(|c| c.status == CouponStatus::Issued || c.expires_at.unwrap_or(i64::MAX) > keep_after);
}

/// The next instant a coupon expires.
pub fn next_due(tx: &Tx) -> Option<i64> {
    tx.account.coupons.iter().filter(|c| c.status == CouponStatus::Issued).filter_map(|c| c.expires_at).min()
}

/// What a coupon does for a cart: its discount, or why it cannot be used.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CouponQuote {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: CouponKind,
    pub usable: bool,
    pub discount: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The discount a coupon gives on a cart at `at`, in minor units, or why it gives none.
pub fn discount(c: &Coupon, cart: &Order, at: i64, exponent: u32) -> Result<i64, String> {
    match c.status {
        CouponStatus::Used => return Err("already used".into()),
        CouponStatus::Expired => return Err("expired".into()),
        CouponStatus::Cancelled => return Err("cancelled".into()),
        CouponStatus::Issued => {}
    }
    if c.expires_at.is_some_and(|e| e <= at) {
        return Err("expired".into());
    }
    let goods = cart.goods().ok_or("the order total is out of range")?;
    if let Some(min) = c.min_order.filter(|m| goods < *m) {
        return Err(format!("the order must be at least {}", crate::money::format_amount(min, exponent)));
    }
    let raw = match c.kind {
        CouponKind::Percent => {
            let pct = c.value.as_deref().and_then(|v| Ratio::parse_decimal(v).ok()).unwrap_or_default();
            pct.percent_of(goods)
        }
        CouponKind::Fixed => c.value.as_deref().and_then(|v| crate::money::parse_amount(v, exponent).ok()).unwrap_or(0).min(goods),
        CouponKind::FreeShipping => cart.shipping,
        // One unit of the cheapest matching line, at what the customer pays for it.
        CouponKind::FreeProduct => {
            let p = c.value.as_deref();
            let unit = cart.lines.iter().filter(|l| l.sku.as_deref() == p || l.product_id.as_deref() == p).map(|l| l.net() / l.quantity).min();
            unit.ok_or_else(|| format!("the cart has no {}", p.unwrap_or_default()))?
        }
    };
    Ok(c.max_discount.map_or(raw, |m| raw.min(m)))
}
