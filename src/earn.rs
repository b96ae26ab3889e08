//! Earning on orders and reversing on refunds. The earn is recorded per line with the exact
//! (unrounded) points, the rate and the rounding that applied; a refund reverses
//! `earned - points(on what remains)` from that record, never from today's rules, so any
//! sequence of partial refunds reverses at most what was earned.

use crate::error::{Error, Result};
use crate::event::{Order, Refund};
use crate::program::Program;
use crate::ratio::{Ratio, Rounding, ZERO};
use serde::{Deserialize, Serialize};

/// What an order earned and what has been refunded since: stored by the host per order, as
/// JSON text. Optional parts are left out when empty, as records from before them were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderRecord {
    pub id: String,
    pub customer: String,
    /// The event that placed it.
    pub event: String,
    pub at: i64,
    pub rate: String,
    pub rounding: Rounding,
    /// The product rules, campaigns and tier perks that set the lines' multipliers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// The fraction carried in from earlier orders (`earn.carry_remainder`).
    #[serde(default, with = "crate::ratio::fraction")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::ratio::fraction::Text"))]
    pub carry_in: Ratio,
    #[serde(default)]
    pub lines: Vec<LineEarn>,
    /// What the customer paid (minor units), the base for refunds by amount.
    pub total: i64,
    pub earned: i64,
    #[serde(default)]
    pub reversed: i64,
    #[serde(default)]
    pub refunded_amount: i64,
    #[serde(default)]
    pub cancelled: bool,
    /// The points are still pending (inside the return window).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "schema", schemars(extend("const" = true)))]
    pub pending: bool,
    /// The referrer this order (a referred friend's first) paid a referral to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// Points the customer paid with, and how many came back on refunds.
    #[serde(default, skip_serializing_if = "crate::ledger::is_zero")]
    pub points_spent: i64,
    #[serde(default, skip_serializing_if = "crate::ledger::is_zero")]
    pub points_returned: i64,
    /// The goods counted towards a membership dividend.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "schema", schemars(extend("const" = true)))]
    pub member: bool,
}

/// One line's share of an order's earn. Shipping, when it earns, is a line with id `shipping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LineEarn {
    pub id: String,
    pub quantity: i64,
    /// The money the points were computed on (minor units, after discounts and tax rules).
    #[serde(with = "crate::ratio::fraction")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::ratio::fraction::Text"))]
    pub basis: Ratio,
    /// Exact points before rounding.
    #[serde(with = "crate::ratio::fraction")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::ratio::fraction::Text"))]
    pub points: Ratio,
    /// Product rule x campaigns x tier, as it applied when the order was placed.
    #[serde(with = "crate::ratio::fraction")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::ratio::fraction::Text"))]
    pub multiplier: Ratio,
    #[serde(default)]
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
    /// Reads a stored order record (the JSON its `Serialize` writes), checking its bounds.
    pub fn parse(json: &str) -> Result<OrderRecord> {
        let rec: OrderRecord = crate::error::from_json("invalid_state", json)?;
        rec.check()?;
        Ok(rec)
    }

    /// The bounds a stored record must keep for refunds to stay within what was earned.
    pub fn check(&self) -> Result<()> {
        let err = |path: String, m: &str| Err(Error::new("invalid_state", path, m));
        for (i, l) in self.lines.iter().enumerate() {
            if l.quantity <= 0 || !(0..=l.quantity).contains(&l.refunded) {
                return err(format!("lines[{i}].refunded"), "must be within 0..=quantity (and quantity positive)");
            }
        }
        if !(0..=self.points_spent).contains(&self.points_returned) {
            return err("points_returned".into(), "must be within 0..=points_spent");
        }
        if self.reversed < 0 || self.reversed > self.earned {
            return err("reversed".into(), "must be within 0..=earned");
        }
        Ok(())
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
