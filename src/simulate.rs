//! A whole history replayed under one program, in memory: accounts and order records stay
//! here across calls, events arrive as raw JSONL bytes in chunks of any size, and every event
//! goes through `Engine::apply` (the rules live there and only there). What comes out is the
//! program's totals: points issued, redeemed, expired, reversed, outstanding, rewards issued.

mod packed;

use crate::engine::{Effect, Engine};
use crate::error::{Error, Result};
use crate::event::{Body, Event};
use crate::json::Out;
use crate::ledger::Account;
use std::cmp::Reverse;
use packed::Packed;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (rustc's): std's SipHash guards tables against keys chosen by an attacker, which a
/// replay of the merchant's own history does not need, and it was 3.5% of the run.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7cc1_b727_220a_95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Map<V> = HashMap<String, V, BuildHasherDefault<Fx>>;

pub struct Simulation {
    engine: Engine,
    /// Accounts in the order first seen, found by customer through `index`: the due heap
    /// and the table hold a number, not a copy of the customer id.
    accounts: Vec<Account>,
    index: Map<usize>,
    /// Every order of the history, packed (most are never read again), by order id.
    orders: HashSet<Packed, BuildHasherDefault<Fx>>,
    /// Where a record is packed before it is copied out at its exact size.
    packing: Vec<u8>,
    /// `(next_due, account)`, soonest first, so a `clock.tick` reaches the due accounts
    /// without scanning them all. Entries go stale when an account's `next_due` moves; they
    /// are dropped when popped. (A heap, not a BTreeSet: a fraction of the wasm bytes.)
    due: BinaryHeap<Reverse<(i64, usize)>>,
    /// The bytes after the last newline fed so far: the start of the next line.
    partial: Vec<u8>,
    line: u64,
    events: u64,
    /// Accounts an event was applied to: a tick counts once per account it reaches.
    applied: u64,
    skipped: u64,
    /// Coupons issued per reward id, in the order first seen.
    rewards: Vec<(String, i64)>,
    /// Coupons out per stock-limited reward, program-wide, as `Engine::apply_batch_with`
    /// keeps it: what a redemption checks the reward's `stock` against.
    stock: HashMap<String, i64>,
    failed: bool,
}

/// The point totals of the report, summed over the accounts at the end: `outstanding` is
/// the spendable points held (balances net of debt), `pending` those still held back.
pub const POINTS: [&str; 10] = ["issued", "adjusted", "redeemed", "expired", "reversed", "forgiven", "donated", "restored", "outstanding", "pending"];

/// The position of the first newline in `b`.
fn newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

impl Simulation {
    pub fn new(engine: Engine) -> Simulation {
        Simulation {
            engine,
            accounts: Vec::new(),
            index: Map::default(),
            orders: HashSet::default(),
            packing: Vec::new(),
            due: BinaryHeap::new(),
            partial: Vec::new(),
            line: 0,
            events: 0,
            applied: 0,
            skipped: 0,
            rewards: Vec::new(),
            stock: HashMap::new(),
            failed: false,
        }
    }

    /// Applies every complete line in `bytes`; an incomplete last line waits for the next
    /// chunk. Returns the number of events read so far. After an error the simulation is
    /// spent: every later call repeats that it failed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<u64> {
        if self.failed {
            return Err(Error::new("failed", "", "the simulation stopped at an earlier error"));
        }
        let r = self.feed_lines(bytes);
        self.failed = r.is_err();
        r.map(|()| self.events)
    }

    fn feed_lines(&mut self, bytes: &[u8]) -> Result<()> {
        // Chunks are appended whole: one copy of each byte buys the simplest split.
        self.partial.extend_from_slice(bytes);
        let Some(last) = self.partial.iter().rposition(|&b| b == b'\n') else { return Ok(()) };
        let mut buf = std::mem::take(&mut self.partial);
        let mut rest = &buf[..=last];
        while let Some(n) = newline(rest) {
            self.line(&rest[..n])?;
            rest = &rest[n + 1..];
        }
        buf.copy_within(last + 1.., 0);
        buf.truncate(buf.len() - last - 1);
        self.partial = buf;
        Ok(())
    }

    /// One JSONL line: blank lines are skipped, anything else is an event.
    fn line(&mut self, bytes: &[u8]) -> Result<()> {
        self.line += 1;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.events += 1;
        let n = self.line;
        let at_line = |e: Error| Error { path: format!("line {n}{}{}", if e.path.is_empty() { "" } else { ": " }, e.path), ..e };
        let text = std::str::from_utf8(bytes).map_err(|_| at_line(Error::event("", "not UTF-8")))?;
        let event = self.engine.parse_event(text).map_err(at_line)?;
        self.run(&event).map_err(at_line)
    }

    /// An event, then the events the engine derives from it for other accounts (referrals),
    /// depth first, as `apply_batch` runs them.
    fn run(&mut self, event: &Event) -> Result<()> {
        for e in self.event(event)? {
            self.run(&e)?;
        }
        Ok(())
    }

    /// Applies one event to the accounts it concerns, as `Engine::apply_batch` routes it.
    fn event(&mut self, event: &Event) -> Result<Vec<Event>> {
        let mut derived = Vec::new();
        match (&event.body, &event.customer) {
            (_, Some(c)) => self.apply(c, event, &mut derived)?,
            (Body::ClockTick, None) => {
                let mut due = Vec::new();
                while self.due.peek().is_some_and(|Reverse((d, _))| *d <= event.at) {
                    let Some(Reverse((d, i))) = self.due.pop() else { break };
                    // Copies of one valid entry are equal, so they pop one after another.
                    if self.accounts[i].next_due == Some(d) && due.last() != Some(&(d, i)) {
                        due.push((d, i));
                    }
                }
                // In (due, customer) order, as a replay of the same ticks runs them. Keys are
                // unique (one entry per account), so an unstable sort gives the same order;
                // core's sort is fine here, this module is not in the checkout wasm.
                let accounts = &self.accounts;
                due.sort_unstable_by(|&(d, i), &(e, j)| (d, &accounts[i].customer).cmp(&(e, &accounts[j].customer)));
                for (_, i) in due {
                    let c = self.accounts[i].customer.clone();
                    self.apply(&c, event, &mut derived)?;
                }
            }
            _ => match event.order_id().and_then(|id| self.orders.get(id)) {
                Some(o) => {
                    let c = o.customer().to_string();
                    self.apply(&c, event, &mut derived)?;
                }
                None => self.skipped += 1,
            },
        }
        Ok(derived)
    }

    fn apply(&mut self, customer: &String, event: &Event, derived: &mut Vec<Event>) -> Result<()> {
        let known = self.index.get(customer).copied();
        // Taken out in place and put back: the table is not touched again.
        let state = known.map(|i| std::mem::take(&mut self.accounts[i]));
        let order = event.order_id().and_then(|id| self.orders.get(id)).filter(|o| o.customer() == customer).map(Packed::unpack);
        let before = state.as_ref().and_then(|s| s.next_due);
        // Entries and notifications are not kept: they are not written either.
        let out = self.engine.apply_detail(state, order, event, Some(&self.stock), false)?;
        crate::reward::count_stock(&self.engine.program, &mut self.stock, &out.effects);
        self.applied += 1;
        self.skipped += out.skipped.is_some() as u64;
        if let Some(o) = out.order {
            self.orders.replace(Packed::new(&o, &mut self.packing));
        }
        for effect in out.effects {
            match effect {
                Effect::CouponIssued { reward, .. } => match self.rewards.iter_mut().find(|(r, _)| *r == reward) {
                    Some((_, n)) => *n += 1,
                    None => self.rewards.push((reward, 1)),
                },
                Effect::Event { event } => derived.push(self.engine.parse_event(&event)?),
                _ => {}
            }
        }
        let i = known.unwrap_or_else(|| {
            self.index.insert(customer.clone(), self.accounts.len());
            self.accounts.push(Account::default());
            self.accounts.len() - 1
        });
        // A tick may have popped this account's entry: index it again even if unchanged.
        let moved = out.state.next_due != before || known.is_none() || matches!(event.body, Body::ClockTick);
        if let Some(d) = out.state.next_due.filter(|_| moved) {
            self.due.push(Reverse((d, i)));
        }
        self.accounts[i] = out.state;
        // Stale entries pile up (each order moves a rolling expiry): rebuild the index from
        // the accounts once they outnumber them, so memory stays in proportion.
        if self.due.len() > 2 * self.accounts.len() + 1024 {
            self.due = self.accounts.iter().enumerate().filter_map(|(i, a)| Some(Reverse((a.next_due?, i)))).collect();
        }
        Ok(())
    }

    /// Applies a last line without a newline and sums the accounts into the report:
    /// `{program, currency, events, applied, skipped, customers, points: {POINTS...},
    /// rewards: {id: coupons issued}, coupons, liability: {points, value}}`; `value` is what
    /// the outstanding points are worth at the program's `pay_with_points` rate, floored to
    /// the minor unit (null without one).
    pub fn finish(&mut self) -> Result<String> {
        // A newline completes a last line that had none (and is a blank line otherwise).
        self.feed(b"\n")?;
        let mut sums = [0i64; POINTS.len()];
        for a in &self.accounts {
            let t = &a.totals;
            for (s, v) in sums.iter_mut().zip([t.earned, t.adjusted, t.redeemed, t.expired, t.reversed, t.forgiven, t.donated, t.restored, a.balance, a.pending]) {
                *s += v;
            }
        }
        let p = &self.engine.program;
        let mut o = Out::new();
        o.open();
        o.k_str("program", &p.id);
        o.k_str("currency", &p.currency);
        for (k, n) in [("events", self.events), ("applied", self.applied), ("skipped", self.skipped), ("customers", self.accounts.len() as u64)] {
            o.k_int(k, n as i64);
        }
        o.key("points");
        o.open();
        for (k, n) in POINTS.iter().zip(sums) {
            o.k_int(k, n);
        }
        o.close();
        o.key("rewards");
        o.open();
        for (id, n) in &self.rewards {
            o.key_escaped(id);
            o.int(*n);
        }
        o.close();
        o.k_int("coupons", self.rewards.iter().map(|r| r.1).sum());
        o.key("liability");
        o.open();
        o.k_int("points", sums[8]);
        o.key("value");
        match &p.pay_with_points {
            Some(pay) => o.str(&p.format_amount(pay.value_of(sums[8]))),
            None => o.null(),
        }
        o.close();
        o.close();
        Ok(o.0)
    }
}

#[cfg(test)]
mod tests {
    use super::newline;

    #[test]
    fn finds_the_first_newline() {
        let mut line = vec![b'x'; 40];
        assert_eq!(newline(&line), None);
        for at in 0..40 {
            line[at] = b'\n';
            assert_eq!(newline(&line), Some(at));
            line[39] = b'\n';
            assert_eq!(newline(&line), Some(at));
            line[at] = 0x8a; // the newline's bits with the high one set: not a newline
            assert_eq!(newline(&line), (at != 39).then_some(39));
            line[at] = b'x';
            line[39] = b'x';
        }
        assert_eq!(newline(b""), None);
        assert_eq!(newline(b"ab\n"), Some(2));
    }
}
