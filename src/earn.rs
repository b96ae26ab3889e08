//! Earning on orders and reversing on refunds. The earn is recorded per line with the exact
//! (unrounded) points, the rate and the rounding that applied; a refund reverses
//! `earned - points(on what remains)` from that record, never from today's rules, so any
//! sequence of partial refunds reverses at most what was earned.

use crate::decode::{Obj, Path};
use crate::error::{Error, Result};
use crate::event::{Order, Refund};
use crate::program::Program;
use crate::ratio::{Ratio, Rounding, ZERO};

/// What an order earned and what has been refunded since: stored by the host per order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub id: String,
    pub customer: String,
    /// The event that placed it.
    pub event: String,
    pub at: i64,
    pub rate: String,
    pub rounding: Rounding,
    /// The product rules, campaigns and tier perks that set the lines' multipliers.
    pub rules: Vec<String>,
    /// The fraction carried in from earlier orders (`earn.carry_remainder`).
    pub carry_in: Ratio,
    pub lines: Vec<LineEarn>,
    /// What the customer paid (minor units), the base for refunds by amount.
    pub total: i64,
    pub earned: i64,
    pub reversed: i64,
    pub refunded_amount: i64,
    pub cancelled: bool,
    /// The points are still pending (inside the return window).
    pub pending: bool,
    /// The referrer this order (a referred friend's first) paid a referral to.
    pub referrer: Option<String>,
    /// Points the customer paid with, and how many came back on refunds.
    pub points_spent: i64,
    pub points_returned: i64,
    /// The goods counted towards a membership dividend.
    pub member: bool,
}

/// One line's share of an order's earn. Shipping, when it earns, is a line with id `shipping`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineEarn {
    pub id: String,
    pub quantity: i64,
    /// The money the points were computed on (minor units, after discounts and tax rules).
    pub basis: Ratio,
    /// Exact points before rounding.
    pub points: Ratio,
    /// Product rule x campaigns x tier, as it applied when the order was placed.
    pub multiplier: Ratio,
    pub refunded: i64,
}

pub const SHIPPING_LINE: &str = "shipping";

/// The exact earn of an order: per-line exact points and the money they were computed on.
pub struct Computed {
    pub lines: Vec<LineEarn>,
    pub exact: Ratio,
    pub total: i64,
}

pub fn overflow(path: &str) -> Error {
    Error::event(path, "amounts are too large to compute points on")
}

/// Computes the exact points an order (or a cart) earns under the program, before rounding,
/// with each line's multiplier (product rules, campaigns, tier; one per line, in order, or
/// none when each line's is `base`) and shipping's, `base`. `goods` is `order.goods()`,
/// which the caller has already checked.
pub fn compute(program: &Program, order: &Order, goods: i64, rate: Ratio, multipliers: &[Ratio], base: Ratio) -> Result<Computed> {
    let e = &program.earn;
    let total = goods.checked_add(order.shipping).and_then(|t| t.checked_add(if order.taxes_included { 0 } else { order.tax })).ok_or_else(|| overflow("order"))?;
    // Tax is one order-level amount; lines carry it in proportion to their net.
    let tax_factor = match (order.taxes_included, e.include_tax) {
        (true, false) if goods > 0 => Ratio::new((goods - order.tax.min(goods)) as i128, goods as i128),
        (false, true) if goods > 0 => Ratio::new(goods as i128 + order.tax as i128, goods as i128),
        _ => Some(Ratio::int(1)),
    }
    .ok_or_else(|| overflow("tax"))?;
    // Points per minor unit: rate per major unit scaled by the currency exponent.
    let per_minor = rate.checked_mul(Ratio::new(1, 10i128.pow(program.exponent)).unwrap_or_default()).ok_or_else(|| overflow("earn"))?;
    let mut lines = Vec::with_capacity(order.lines.len() + 1);
    let mut exact = ZERO;
    for (i, l) in order.lines.iter().enumerate() {
        let m = multipliers.get(i).copied().unwrap_or(base);
        let basis = Ratio::int(l.net()).checked_mul(tax_factor).ok_or_else(|| overflow("order.lines"))?;
        let points = basis.checked_mul(per_minor).and_then(|p| p.checked_mul(m)).ok_or_else(|| overflow("order.lines"))?;
        exact = exact.checked_add(points).ok_or_else(|| overflow("order.lines"))?;
        lines.push(LineEarn { id: l.id.to_string(), quantity: l.quantity, basis, points, multiplier: m, refunded: 0 });
    }
    if e.include_shipping && order.shipping > 0 {
        let basis = Ratio::int(order.shipping);
        let points = basis.checked_mul(per_minor).and_then(|p| p.checked_mul(base)).ok_or_else(|| overflow("order.shipping"))?;
        exact = exact.checked_add(points).ok_or_else(|| overflow("order.shipping"))?;
        lines.push(LineEarn { id: SHIPPING_LINE.into(), quantity: 1, basis, points, multiplier: base, refunded: 0 });
    }
    Ok(Computed { lines, exact, total })
}

impl OrderRecord {
    /// Reads a stored order record (the JSON `encode.rs` writes).
    pub fn read(v: &crate::json::Value, path: Path) -> Result<OrderRecord> {
        const FIELDS: &[&str] = &[
            "id", "customer", "event", "at", "rate", "rules", "rounding", "carry_in", "lines", "total", "earned", "reversed", "refunded_amount", "cancelled",
            "pending", "referrer", "points_spent", "points_returned", "member",
        ];
        let o = Obj::new("invalid_state", v, path, FIELDS)?;
        let s = crate::sink::Sink::default();
        let ratio = |o: &Obj, k: &str| s.take(o.parsed(k, Ratio::parse_fraction)).ok_or_else(|| s.first_or(o.err(k, "is required")));
        let mut lines = Vec::new();
        for (p, l) in s.take(o.list("lines")) {
            let l = Obj::new("invalid_state", l, p, &["id", "quantity", "basis", "points", "multiplier", "refunded"])?;
            let quantity = s.take(l.int("quantity"));
            let refunded = s.take(l.int_or("refunded", 0));
            if quantity <= 0 || !(0..=quantity).contains(&refunded) {
                return Err(s.first_or(l.err("refunded", "must be within 0..=quantity (and quantity positive)")));
            }
            lines.push(LineEarn { id: s.take(l.str("id")), quantity, basis: ratio(&l, "basis")?, points: ratio(&l, "points")?, multiplier: ratio(&l, "multiplier")?, refunded });
        }
        let rec = OrderRecord {
            id: s.take(o.str("id")),
            customer: s.take(o.str("customer")),
            event: s.take(o.str("event")),
            at: s.take(o.int("at")),
            rate: s.take(o.str("rate")),
            rules: s.take(o.str_list("rules")),
            rounding: s.take(o.one_of("rounding", crate::program::ROUNDINGS)).ok_or_else(|| s.first_or(o.err("rounding", "is required")))?,
            carry_in: s.take(o.parsed("carry_in", Ratio::parse_fraction)).unwrap_or_default(),
            lines,
            total: s.take(o.int("total")),
            earned: s.take(o.int("earned")),
            reversed: s.take(o.int_or("reversed", 0)),
            refunded_amount: s.take(o.int_or("refunded_amount", 0)),
            cancelled: s.take(o.bool_or("cancelled", false)),
            pending: s.take(o.bool_or("pending", false)),
            referrer: s.take(o.opt_str("referrer")),
            points_spent: s.take(o.int_or("points_spent", 0)),
            points_returned: s.take(o.int_or("points_returned", 0)),
            member: s.take(o.bool_or("member", false)),
        };
        if !(0..=rec.points_spent).contains(&rec.points_returned) {
            return Err(s.first_or(o.err("points_returned", "must be within 0..=points_spent")));
        }
        if rec.reversed < 0 || rec.reversed > rec.earned {
            return Err(s.first_or(o.err("reversed", "must be within 0..=earned")));
        }
        s.finish(rec)
    }

    /// Exact points on what the customer still keeps: unrefunded units of each line, less
    /// the share of refunds by amount.
    fn remaining_exact(&self) -> Option<Ratio> {
        self.kept(|l| Some(l.points))
    }

    /// What the customer keeps of a per-line quantity (`pick` gives it, `None` skips the line).
    fn kept(&self, pick: impl Fn(&LineEarn) -> Option<Ratio>) -> Option<Ratio> {
        if self.cancelled {
            return Some(ZERO);
        }
        let mut all = ZERO;
        for v in self.lines.iter().filter_map(&pick) {
            all = all.checked_add(v)?;
        }
        // A line with nothing refunded is kept whole: no need to multiply by q/q, nor to sum
        // again when no line was refunded (a new order's spend).
        let whole = |l: &LineEarn| l.refunded == 0 && l.quantity > 0;
        let mut kept = all;
        if !self.lines.iter().all(whole) {
            kept = ZERO;
            for l in &self.lines {
                let Some(v) = pick(l) else { continue };
                let v_kept = if whole(l) { v } else { v.checked_mul(Ratio::new((l.quantity - l.refunded) as i128, l.quantity as i128)?)? };
                kept = kept.checked_add(v_kept)?;
            }
        }
        if self.refunded_amount > 0 && self.total > 0 {
            let share = Ratio::new(self.refunded_amount.min(self.total) as i128, self.total as i128)?;
            kept = kept.checked_sub(all.checked_mul(share)?)?;
        }
        Some(kept.max(ZERO))
    }

    /// The spend the order still counts towards tiers: goods after discounts (and tax rules),
    /// not shipping, less what was refunded.
    pub fn spend_now(&self) -> i64 {
        self.kept(|l| (l.id != SHIPPING_LINE).then_some(l.basis)).and_then(|k| k.round(Rounding::Floor)).unwrap_or(0)
    }

    /// The share of the order's goods the customer keeps after refunds (0 when cancelled).
    pub fn goods_share_kept(&self) -> Option<Ratio> {
        let all = self.lines.iter().filter(|l| l.id != SHIPPING_LINE).try_fold(ZERO, |a, l| a.checked_add(l.basis))?.round(Rounding::Floor)?;
        match (all, self.cancelled) {
            (_, true) => Some(ZERO),
            (0, false) => Some(Ratio::int(1)),
            _ => Ratio::new(self.spend_now() as i128, all as i128),
        }
    }

    /// Points the order should hold now, rounded the way it was earned.
    pub fn points_now(&self) -> Option<i64> {
        let kept = self.remaining_exact()?;
        if kept.is_zero() {
            return Some(0);
        }
        kept.checked_add(self.carry_in)?.round(self.rounding)
    }

    /// Records a refund and returns the points it reverses now (never negative, and all
    /// reversals together never exceed what was earned).
    pub fn refund(&mut self, refund: &Refund) -> Result<i64> {
        match refund {
            Refund::Lines(lines) => {
                let mut next = self.lines.clone();
                for (i, (id, qty)) in lines.iter().enumerate() {
                    let path = format!("lines[{i}]");
                    let l = next
                        .iter_mut()
                        .find(|l| &l.id == id && l.id != SHIPPING_LINE)
                        .ok_or_else(|| Error::event(format!("{path}.id"), format!("\"{id}\" is not a line of order {}", self.id)))?;
                    if l.refunded + qty > l.quantity {
                        return Err(Error::event(
                            format!("{path}.quantity"),
                            format!("{qty} exceeds the {} units of line \"{id}\" not yet refunded", l.quantity - l.refunded),
                        ));
                    }
                    l.refunded += qty;
                }
                self.lines = next;
            }
            Refund::Amount(a) => self.refunded_amount = self.refunded_amount.saturating_add(*a),
        }
        self.settle()
    }

    pub fn cancel(&mut self) -> Result<i64> {
        self.cancelled = true;
        self.settle()
    }

    fn settle(&mut self) -> Result<i64> {
        let now = self.points_now().ok_or_else(|| overflow("order"))?;
        let owed = (self.earned - now - self.reversed).max(0);
        self.reversed += owed;
        Ok(owed)
    }
}
