//! Lots expire at the end of a local day in the program's time zone; warnings go out at the
//! program's offsets before that day. `rolling` mode gives all lots one date that every
//! order renews; `per_lot` gives each lot its own.

use crate::context::Tx;
use crate::ledger::{Entry, EntryKind, Reason, Warned};
use crate::program::{ExpiryMode, Trigger};
use crate::time::{Date, Duration, Zone};

/// The next expiry: its exclusive end instant, local date and the points it takes.
pub fn next(tx: &Tx) -> Option<(i64, Date, i64)> {
    let x = tx.program.expiry.as_ref()?;
    let held = |pred: &dyn Fn(i64) -> bool| -> i64 {
        tx.account.lots.iter().filter(|l| pred(l.expires_at.unwrap_or(i64::MAX))).map(|l| l.remaining).sum()
    };
    match x.mode {
        ExpiryMode::Rolling => {
            let d = tx.account.rolling_until?;
            let points = held(&|_| true);
            (points > 0).then(|| (tx.program.zone.end_of_day(d), d, points))
        }
        ExpiryMode::PerLot => {
            let end = tx.account.lots.iter().filter_map(|l| l.expires_at).min()?;
            let d = tx.program.zone.local_date(end - 1);
            Some((end, d, held(&|e| e == end)))
        }
    }
}

/// Credits points that are not an order's (actions, referrals): a lot that expires like any
/// other but does not renew rolling validity (only orders do).
pub fn grant(tx: &mut Tx, points: i64, reason: Reason, rules: Vec<String>) {
    tx.account.totals.earned += points;
    lot(tx, EntryKind::Earn, points, reason, |e| e.rules = rules);
}

/// Credits points given back (a cancelled coupon, a returned order's points) as a new lot
/// that expires like a grant.
pub fn restore(tx: &mut Tx, points: i64, reason: Reason, fill: impl FnOnce(&mut Entry)) {
    tx.account.totals.restored += points;
    lot(tx, EntryKind::Restore, points, reason, fill);
}

fn lot(tx: &mut Tx, kind: EntryKind, points: i64, reason: Reason, fill: impl FnOnce(&mut Entry)) {
    let expires = on_grant(tx);
    tx.account.credit(tx.event_id, points, tx.at, expires);
    tx.push_entry(kind, points, reason, tx.at, fill);
}

/// The validity of points credited now that are not an order's: as earned points in
/// `per_lot` mode; in `rolling` mode the account's date holds, unless there is none yet.
pub fn on_grant(tx: &mut Tx) -> Option<i64> {
    match tx.program.expiry.as_ref().map(|x| x.mode) {
        Some(ExpiryMode::Rolling) if tx.account.rolling_until.is_some() => None,
        _ => on_earn(tx, tx.at),
    }
}

/// The validity of points earned at `at`: their exclusive end in `per_lot` mode; in
/// `rolling` mode none (the account's date, pushed out to cover them, holds for all).
pub fn on_earn(tx: &mut Tx, at: i64) -> Option<i64> {
    let x = tx.program.expiry.as_ref()?;
    let until = tx.program.zone.local_date(at).add(&x.after, 1);
    match x.mode {
        ExpiryMode::PerLot => Some(tx.program.zone.end_of_day(until)),
        ExpiryMode::Rolling => {
            // An order placed out of order (an old webhook) never shortens validity.
            if tx.account.rolling_until.is_none_or(|d| d < until) {
                tx.account.rolling_until = Some(until);
            }
            None
        }
    }
}

/// Expires every lot whose validity ended by `now`. Each expiry is one entry per expiry
/// instant, dated at that instant and naming the lots it took.
pub fn expire_due(tx: &mut Tx, now: i64) {
    // Rolling lots all end when the day after `rolling_until` starts: while that is plainly
    // still ahead (the usual case) there is nothing to do.
    let rolling = tx.program.expiry.as_ref().is_some_and(|x| x.mode == ExpiryMode::Rolling);
    if rolling && tx.account.rolling_until.is_some_and(|d| now < Zone::earliest_start(d.next())) {
        return;
    }
    while let Some((end, _, points)) = next(tx) {
        if end > now {
            break;
        }
        let mut takes = Vec::new();
        let mut left = Vec::with_capacity(tx.account.lots.len());
        for lot in tx.account.lots.drain(..) {
            if lot.expires_at.unwrap_or(end) <= end {
                takes.push(crate::ledger::Take { lot: lot.id, points: lot.remaining });
            } else {
                left.push(lot);
            }
        }
        tx.account.lots = left;
        tx.account.balance -= points;
        tx.account.totals.expired += points;
        if tx.account.lots.is_empty() {
            tx.account.rolling_until = None;
        }
        tx.push_entry(EntryKind::Expire, -points, "points expired", end - 1, |e| e.lots = takes);
        let (zone, balance) = (&tx.program.zone, tx.account.balance);
        tx.notify(Trigger::PointsExpired, || vec![("points", points.into()), ("expired_at", zone.format(end - 1).into()), ("balance", balance.into())]);
    }
}

/// The instant warning `i` (farthest first) is due for an expiry on local date `d`.
fn warning_due(tx: &Tx, d: Date, i: usize) -> Option<i64> {
    let w = tx.program.expiry.as_ref()?.warn_before.get(i)?;
    Some(tx.program.zone.start_of_day(d.add(w, -1)))
}

/// Sends the nearest warning that has come due for the next expiry and was not sent yet.
/// When several offsets passed at once, only the nearest goes out; a new expiry date (a
/// renewal, or the next lot) starts the warnings afresh.
pub fn warn_due(tx: &mut Tx, now: i64) {
    let Some((end, date, points)) = next(tx) else {
        tx.account.warned = None;
        return;
    };
    let done = match &tx.account.warned {
        Some(w) if w.until == date => w.done,
        _ => 0,
    };
    let count = tx.program.expiry.as_ref().map_or(0, |x| x.warn_before.len());
    // No warning is due before the farthest one could be (a month is at most 31 days): far
    // from the expiry (the usual case) none of them needs its exact instant.
    let farthest = tx.program.expiry.as_ref().and_then(|x| x.warn_before.first()).map_or(0, Duration::max_days);
    let far = now < Zone::earliest_start(Date(date.0 - farthest));
    let passed = if far { None } else { (done..count).rev().find(|&i| warning_due(tx, date, i).is_some_and(|t| t <= now)) };
    tx.account.warned = Some(Warned { until: date, done: passed.map_or(done, |i| i + 1) });
    if passed.is_some() {
        let (zone, balance) = (&tx.program.zone, tx.account.balance);
        tx.notify(Trigger::PointsExpiring, || {
            vec![("points", points.into()), ("expires_at", zone.format(end - 1).into()), ("expires_on", date.text().into()), ("balance", balance.into())]
        });
    }
}

/// The next instant expiry needs attention: an expiry or a warning not yet sent.
pub fn next_due(tx: &Tx) -> Option<i64> {
    let (end, date, _) = next(tx)?;
    let done = tx.account.warned.as_ref().filter(|w| w.until == date).map_or(0, |w| w.done);
    let warn = warning_due(tx, date, done);
    Some(warn.map_or(end, |w| w.min(end)))
}
