//! Bounds on points, so no sum of points can overflow an i64 and no single event can make
//! unbounded work (a huge order crossing a threshold reward a million times).
//!
//! Every event adds or takes at most `EVENT_POINTS`, and after every event the balance, the
//! pending points, the debt and every running total stay within `BALANCE`: so each `+=` on
//! them adds at most a few `EVENT_POINTS` to a value within `BALANCE`, far below `i64::MAX`.

use crate::error::{Error, Result};
use crate::ledger::Account;

/// The most points one event may award, deduct or adjust.
pub const EVENT_POINTS: i64 = 1_000_000_000_000;
/// The largest balance, pending amount, debt or lifetime total an account may reach.
pub const BALANCE: i64 = 1_000_000_000_000_000;
/// The most coupons threshold rewards may issue in one event.
pub const REWARDS_PER_EVENT: i64 = 100;

/// `points` (at `path`) within what one event may move.
pub fn event_points(path: &str, points: i64) -> Result<()> {
    if points.checked_abs().is_none_or(|p| p > EVENT_POINTS) {
        return Err(Error::new("points_out_of_range", path, format!("{points} points: one event may move at most {EVENT_POINTS}")));
    }
    Ok(())
}

/// The error of an amount whose points do not even fit a number.
pub fn too_many(path: &str) -> Error {
    Error::new("points_out_of_range", path, format!("earns more points than one event may move ({EVENT_POINTS})"))
}

/// The account after an event: every amount within `BALANCE`.
pub fn account(a: &Account) -> Result<()> {
    let t = &a.totals;
    let amounts = [
        ("balance", a.balance),
        ("pending", a.pending),
        ("debt", a.debt),
        ("totals.earned", t.earned),
        ("totals.reversed", t.reversed),
        ("totals.redeemed", t.redeemed),
        ("totals.expired", t.expired),
        ("totals.adjusted", t.adjusted),
        ("totals.forgiven", t.forgiven),
        ("totals.donated", t.donated),
        ("totals.restored", t.restored),
    ];
    for (name, v) in amounts {
        if v.checked_abs().is_none_or(|v| v > BALANCE) {
            return Err(Error::new("points_out_of_range", name, format!("the account's {name} would be {v} points, beyond the {BALANCE} an account may hold")));
        }
    }
    Ok(())
}
