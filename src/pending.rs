//! Pending points: what an order earns waits out the program's return window before it can
//! be spent. A refund inside the window cancels pending points without debt; the tick
//! releases the rest into ordinary lots.

use crate::context::Tx;
use crate::ledger::{EntryKind, PendingLot};

/// Holds an order's points until the return window ends (`Zone::after`: through the local
/// day it reaches, or to the instant for a time-only window like `PT72H`).
/// Returns false when the program has no window (the points are credited at once).
pub fn hold(tx: &mut Tx, order_id: &str, points: i64, at: i64, expires_at: Option<i64>) -> bool {
    let Some(window) = tx.program.pending else { return false };
    let release_at = tx.program.zone.after(at, &window);
    tx.account.pending += points;
    tx.account.pending_lots.push(PendingLot { id: tx.event_id.to_string(), order_id: order_id.to_string(), points, release_at, expires_at });
    tx.push_entry(EntryKind::Pending, 0, "order placed: pending the return window", tx.at, |e| {
        e.pending = points;
        e.order_id = Some(order_id.to_string());
    });
    true
}

/// Cancels up to `points` still pending for an order; returns how many it cancelled.
pub fn cancel(tx: &mut Tx, order_id: &str, points: i64) -> i64 {
    let Some(i) = tx.account.pending_lots.iter().position(|l| l.order_id == order_id) else { return 0 };
    let n = tx.account.pending_lots[i].points.min(points);
    tx.account.pending_lots[i].points -= n;
    if tx.account.pending_lots[i].points == 0 {
        tx.account.pending_lots.remove(i);
    }
    tx.account.pending -= n;
    n
}

/// Whether an order's points are still pending.
pub fn is_pending(tx: &Tx, order_id: &str) -> bool {
    tx.account.pending_lots.iter().any(|l| l.order_id == order_id)
}

/// Releases every pending lot whose window ended by `now` into a spendable lot.
pub fn release_due(tx: &mut Tx, now: i64) {
    let (due, keep): (Vec<PendingLot>, Vec<PendingLot>) = tx.account.pending_lots.drain(..).partition(|l| l.release_at <= now);
    tx.account.pending_lots = keep;
    for l in due {
        tx.account.pending -= l.points;
        tx.account.credit(&l.id, l.points, l.release_at, l.expires_at);
        tx.account.totals.earned += l.points;
        tx.push_entry(EntryKind::Release, l.points, "return window over", l.release_at, |e| {
            e.pending = -l.points;
            e.order_id = Some(l.order_id.clone());
        });
    }
}

pub fn next_due(tx: &Tx) -> Option<i64> {
    tx.account.pending_lots.iter().map(|l| l.release_at).min()
}
