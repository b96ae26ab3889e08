//! Pay with points at checkout: `points` points are worth `value` money, spent in whole
//! steps, within a minimum, a maximum and a share of the order. `quote` shows the most a cart
//! allows; the order commits what the customer chose (`order.points_spent`), and a refund or
//! cancellation gives back the share of points that paid for what was returned.

use crate::spec::PayWithPointsSpec;
use crate::earn::OrderRecord;
use crate::context::Tx;
use crate::error::{At, Error, Result};
use crate::ledger::EntryKind;
use crate::ratio::{Ratio, Rounding};


#[derive(Debug, Clone)]
pub struct PayWithPoints {
    pub points: i64,
    /// What `points` points are worth, in minor units.
    pub value: i64,
    pub min_points: i64,
    pub max_points: Option<i64>,
    /// At most this percent of the order's goods.
    pub max_share: Option<Ratio>,
}

/// What a cart allows: the most points and the discount they give, or why none.
#[derive(Debug, Clone, Default)]
pub struct Allowance {
    pub points: i64,
    pub discount: i64,
    pub reason: Option<String>,
}

impl PayWithPoints {
    pub fn check(o: PayWithPointsSpec, at: &At, exponent: u32) -> Result<PayWithPoints> {
        if o.points <= 0 {
            return Err(at.err("points", "must be a positive number of points"));
        }
        let value = crate::money::parse_amount(&o.value, exponent).map_err(|m| at.err("value", m))?;
        if value <= 0 {
            return Err(at.err("value", "must be above zero"));
        }
        let min_points = o.min_points.unwrap_or(0);
        if min_points < 0 || o.max_points.is_some_and(|m| m < min_points.max(o.points)) {
            return Err(at.err("max_points", "must be at least min_points and one step of points"));
        }
        let max_share = at.parsed("max_share", o.max_share.as_deref(), &Ratio::parse_decimal)?;
        if max_share.is_some_and(|s| s.is_zero() || s > Ratio::int(100)) {
            return Err(at.err("max_share", "must be a percent above 0 and at most 100"));
        }
        Ok(PayWithPoints { points: o.points, value, min_points, max_points: o.max_points, max_share })
    }

    /// What `points` points are worth, in minor units, floored (towards minus infinity for
    /// a debt): the liability a balance represents.
    pub fn value_of(&self, points: i64) -> i64 {
        // i128: points x minor units per step can pass i64 for large programs.
        (points as i128 * self.value as i128).div_euclid(self.points as i128) as i64
    }

    /// The most points a customer with `spendable` points may spend on `goods` (minor units).
    pub fn allowance(&self, spendable: i64, goods: i64) -> Allowance {
        let cap = match self.max_share {
            Some(s) => s.percent_of(goods),
            None => goods,
        };
        let steps = [spendable / self.points, cap / self.value, self.max_points.map_or(i64::MAX, |m| m / self.points)].into_iter().min().unwrap_or(0).max(0);
        let points = steps * self.points;
        if points == 0 || points < self.min_points {
            let reason = if spendable < self.min_points.max(self.points) {
                format!("needs at least {} points", self.min_points.max(self.points))
            } else {
                "the order is too small to pay with points".to_string()
            };
            return Allowance { points: 0, discount: 0, reason: Some(reason) };
        }
        Allowance { points, discount: steps * self.value, reason: None }
    }
}

/// Debits the points an order was paid with, after checking them against the same allowance
/// the quote showed.
pub fn spend(tx: &mut Tx, order_id: &str, points: i64, goods: i64) -> Result<()> {
    if points == 0 {
        return Ok(());
    }
    let p = tx.program.pay_with_points.as_ref().ok_or_else(|| Error::event("order.points_spent", "the program has no pay_with_points"))?;
    if points % p.points != 0 {
        return Err(Error::event("order.points_spent", format!("{points} is not a whole number of steps of {} points", p.points)));
    }
    let spendable = if tx.account.debt > 0 { 0 } else { tx.account.spendable() };
    let allowed = p.allowance(spendable, goods);
    if points > allowed.points || points < p.min_points {
        let why = allowed.reason.unwrap_or_else(|| format!("at most {} points on this order", allowed.points));
        return Err(Error::event("order.points_spent", format!("{points} points cannot pay for this order: {why}")));
    }
    let takes = tx.account.debit(points, false).0;
    tx.account.totals.redeemed += points;
    let rule = format!("pay_with_points:{} points = {}", p.points, tx.program.format_amount(p.value));
    tx.push_entry(EntryKind::Redeem, -points, "paid with points", tx.at, |e| {
        e.lots = takes;
        e.order_id = Some(order_id.to_string());
        e.rules = vec![rule];
    });
    Ok(())
}

/// After a refund or cancellation: gives back the points that paid for what was returned,
/// in proportion to the goods refunded, never more than were spent.
pub fn give_back(tx: &mut Tx, rec: &mut OrderRecord) {
    if rec.points_spent == 0 {
        return;
    }
    let kept = rec.goods_share_kept().unwrap_or_default();
    let keep = Ratio::int(rec.points_spent).checked_mul(kept).and_then(|r| r.round(Rounding::Ceil)).unwrap_or(0);
    let owed = rec.points_spent - keep - rec.points_returned;
    if owed > 0 {
        rec.points_returned += owed;
        let order_id = rec.id.clone();
        crate::expiry::restore(tx, owed, "points paid back".into(), |e| e.order_id = Some(order_id));
    }
}
