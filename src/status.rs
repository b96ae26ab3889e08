//! Earning and status rules beyond points per purchase: ways to earn, referrals, product
//! rules, tiers, campaigns and pending points. They are built with the `status` feature, which
//! is on by default and in the shipped wasm. `--no-default-features` builds the engine without
//! them: the engine calls these hooks, which then do nothing, and a program that uses them is
//! refused, naming the field.

use crate::earn::OrderRecord;
use crate::context::Tx;
use crate::error::Result;
#[cfg(not(feature = "status"))]
use crate::{ledger::Account, program::Program};

#[cfg(feature = "status")]
pub use crate::multiplier::Multipliers;

/// Without the feature every line earns at the program's rate.
#[cfg(not(feature = "status"))]
pub struct Multipliers;

#[cfg(not(feature = "status"))]
impl Multipliers {
    pub fn new(_: &Program, _: &Account, _: i64) -> Multipliers {
        Multipliers
    }
    /// Every line earns at the program's rate (the `base` multiplier), and no rule fires.
    pub fn lines(&self, _: &[crate::event::Line]) -> (Vec<crate::ratio::Ratio>, Vec<String>) {
        (vec![], vec![])
    }
    pub fn base(&self) -> crate::ratio::Ratio {
        crate::ratio::Ratio::int(1)
    }
}

/// Time-driven status work: pending points released, tiers whose period ended.
pub fn advance(tx: &mut Tx, now: i64) {
    #[cfg(feature = "status")]
    {
        crate::pending::release_due(tx, now);
        crate::tier::settle(tx, now);
    }
    let _ = (tx, now);
}

pub fn action(tx: &mut Tx, action: &str, reference: Option<&str>) -> Result<Option<String>> {
    #[cfg(feature = "status")]
    return crate::action::complete(tx, action, reference);
    #[cfg(not(feature = "status"))]
    {
        let _ = (tx, reference);
        Ok(Some(format!("the program has no earning rule for action \"{action}\"")))
    }
}

pub fn next_due(tx: &Tx) -> Option<i64> {
    #[cfg(feature = "status")]
    return [crate::pending::next_due(tx), crate::tier::next_due(tx)].into_iter().flatten().min();
    #[cfg(not(feature = "status"))]
    {
        let _ = tx;
        None
    }
}

/// Holds an order's points for the return window; false when they are credited at once.
pub fn hold(tx: &mut Tx, order_id: &str, points: i64, at: i64, expires_at: Option<i64>) -> bool {
    #[cfg(feature = "status")]
    return crate::pending::hold(tx, order_id, points, at, expires_at);
    #[cfg(not(feature = "status"))]
    {
        let _ = (tx, order_id, points, at, expires_at);
        false
    }
}

/// After an order earned: a referred friend's first order pays the referrer (through an
/// event for the referrer's account), and the order counts towards tiers.
pub fn on_order(tx: &mut Tx, record: &mut OrderRecord) {
    #[cfg(feature = "status")]
    if tx.account.lifetime.orders == 0 {
        if let Some(r) = tx.account.referred_by.take() {
            tx.effects.push(crate::context::Effect::Event { event: crate::action::referral_event(tx, &r, false) });
            record.referrer = Some(r);
        }
    }
    activity(tx, record.at, record.spend_now(), record.earned, 1);
}

/// Lifetime totals for every build (a referral needs "first order"); tiers need more.
fn activity(tx: &mut Tx, at: i64, spend: i64, points: i64, orders: i64) {
    let l = &mut tx.account.lifetime;
    (l.spend, l.points, l.orders) = (l.spend + spend, l.points + points, l.orders + orders);
    #[cfg(feature = "status")]
    crate::tier::on_activity(tx, at, spend, points, orders);
    #[cfg(not(feature = "status"))]
    let _ = at;
}

/// Before a refund's reversal: cancels what is still pending for the order (no debt) and
/// returns how much that was; afterwards tiers shrink and a refunded first order takes its
/// referral back.
pub fn on_refund(tx: &mut Tx, before: &OrderRecord, rec: &mut OrderRecord, owed: i64) -> i64 {
    #[cfg(feature = "status")]
    {
        let from_pending = if rec.pending { crate::pending::cancel(tx, &rec.id, owed) } else { 0 };
        rec.pending = crate::pending::is_pending(tx, &rec.id);
        activity(tx, tx.at, rec.spend_now() - before.spend_now(), -owed, 0);
        if rec.points_now() == Some(0) {
            if let Some(r) = rec.referrer.take() {
                tx.effects.push(crate::context::Effect::Event { event: crate::action::referral_event(tx, &r, true) });
            }
        }
        from_pending
    }
    #[cfg(not(feature = "status"))]
    {
        activity(tx, tx.at, rec.spend_now() - before.spend_now(), -owed, 0);
        0
    }
}
