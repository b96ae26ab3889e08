//! The account and its append-only entries. Earned points form lots; every debit consumes
//! lots soonest-expiry first, then oldest, and records the lots it took, so an expiry, a
//! reversal or a redemption always names the points it touched. `balance` is derived from
//! lots and debt and equals the sum of all entries.

use crate::decode::{Obj, Path};
use crate::error::{Error, Result as Res};
use crate::program::CouponKind;
use crate::ratio::Ratio;
use crate::action::Counts;
use crate::tier::Month;
use crate::time::Date;

/// One customer's account: what the host stores between events.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Account {
    pub customer: String,
    /// Spendable points: the lots' remaining points less the debt.
    pub balance: i64,
    /// Points inside the return window: not spendable until the tick releases them.
    pub pending: i64,
    /// Points owed after reversals beyond the balance (policy `allow`); earns repay it first.
    pub debt: i64,
    pub lots: Vec<Lot>,
    /// The shared expiry date of all lots in `rolling` mode.
    pub rolling_until: Option<Date>,
    /// Expiry warnings already sent for the coming expiry date.
    pub warned: Option<Warned>,
    pub coupons: Vec<Coupon>,
    /// Fractional points carried to the next order (`earn.carry_remainder`).
    pub carry: Ratio,
    pub tier: Option<String>,
    /// The latest event time seen (UTC ms): time never runs backwards for an account.
    pub clock: i64,
    /// How many entries the account has: entry ids are `customer:seq`-free and stable.
    pub seq: u64,
    /// The latest event ids applied, newest last, so a redelivery is a no-op.
    pub recent: Vec<String>,
    pub totals: Totals,
    /// When this account next needs a `clock.tick` (UTC ms): the host indexes it.
    pub next_due: Option<i64>,
    /// The local day of the account's first event (or signup): "new member" campaigns.
    pub joined: Option<Date>,
    /// The last local day the tier is held before it is re-evaluated.
    pub tier_until: Option<Date>,
    /// Qualifying activity per local month (recent months) and over the lifetime.
    pub months: Vec<Month>,
    pub lifetime: Month,
    /// Ways-to-earn counts per period.
    pub actions: Vec<Counts>,
    /// `action:ref` keys already counted (the latest `REFS`).
    pub refs: Vec<String>,
    /// Who referred this customer, until their first order settles it.
    pub referred_by: Option<String>,
    pub pending_lots: Vec<PendingLot>,
    /// The day this year the customer picked for the tier's bonus multiplier.
    pub chosen_day: Option<Date>,
    /// Catalogue redemptions per period, for rewards with a per-customer limit.
    pub redeemed: Vec<Counts>,
    pub membership: Option<crate::membership::Membership>,
    /// Offers already issued (each once per customer).
    pub offers: Vec<String>,
    /// Units bought so far towards `bought` offers: `(offer id, units)`.
    pub bought: Vec<(String, i64)>,
    pub last_order: Option<i64>,
}

/// How many action refs an account remembers; the store's unique event ids cover the rest.
pub const REFS: usize = 100;

/// Points from an order waiting out the return window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLot {
    /// The id of the event that earned it.
    pub id: String,
    pub order_id: String,
    pub points: i64,
    /// When the points become spendable (UTC ms).
    pub release_at: i64,
    pub expires_at: Option<i64>,
}

/// How many event ids an account remembers. Order events are also deduplicated by the
/// order record and every event by the store's unique event id; this covers the rest.
pub const RECENT: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub earned: i64,
    pub reversed: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub adjusted: i64,
    pub forgiven: i64,
    pub donated: i64,
    pub restored: i64,
}

/// Text that never changes once made (a coupon's code, reward and value; a lot's id, also
/// named by the debits that take from it): cloning an account, as every apply on a cached
/// state does, shares it instead of copying it (an old account holds many coupons and lots).
pub type Name = std::rc::Rc<str>;

/// `s` as a `Name`: one call rather than the conversion inlined at every site.
#[inline(never)]
pub fn name(s: &str) -> Name {
    Name::from(s)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// The id of the event that earned it: shared by the account's every copy (each apply
    /// on a cached state makes one) and by the debits that name the lot.
    pub id: Name,
    pub points: i64,
    pub remaining: i64,
    /// When it was earned (UTC ms).
    pub at: i64,
    /// Exclusive end of validity in `per_lot` mode (UTC ms); rolling lots use the account's.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warned {
    /// The expiry date the warnings are about.
    pub until: Date,
    /// How many of the program's warning offsets (farthest first) are done.
    pub done: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub code: Name,
    pub reward: Name,
    pub kind: CouponKind,
    pub value: Option<Name>,
    pub min_order: Option<i64>,
    pub max_discount: Option<i64>,
    pub points: i64,
    pub issued_at: i64,
    /// Exclusive end of validity (UTC ms).
    pub expires_at: Option<i64>,
    pub status: CouponStatus,
    pub order_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponStatus {
    Issued,
    Used,
    Expired,
    Cancelled,
}

impl CouponStatus {
    pub fn name(self) -> &'static str {
        match self {
            CouponStatus::Issued => "issued",
            CouponStatus::Used => "used",
            CouponStatus::Expired => "expired",
            CouponStatus::Cancelled => "cancelled",
        }
    }
}

/// An append-only ledger row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `event id` + `#` + position within the event: stable across replays.
    pub id: String,
    pub event: String,
    pub customer: String,
    pub kind: EntryKind,
    pub points: i64,
    pub balance_after: i64,
    pub at: crate::time::Stamp,
    pub reason: Reason,
    pub rules: Vec<String>,
    pub lots: Vec<Take>,
    pub order_id: Option<String>,
    pub coupon: Option<String>,
    /// Points a clamped reversal could not take and forgave.
    pub forgiven: i64,
    /// Change of pending points (which `points` and the balance do not include).
    pub pending: i64,
    pub by: Option<String>,
    pub charity: Option<String>,
}


#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Earn,
    Reverse,
    Redeem,
    Expire,
    Adjust,
    /// Points earned but held for the return window: `pending` says how many.
    Pending,
    /// Pending points becoming spendable.
    Release,
    /// Points given to a charity (`charity` names it).
    Donate,
    /// Points given back: a cancelled coupon, a returned order's points.
    Restore,
}

/// Why an entry was written: nearly always a fixed phrase, borrowed rather than copied
/// into every entry.
pub type Reason = std::borrow::Cow<'static, str>;

/// Points taken from one lot by a debit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub lot: Name,
    pub points: i64,
}

/// Appends `item`, first dropping the oldest entry when the list holds `cap` already.
pub fn push_bounded(list: &mut Vec<String>, item: String, cap: usize) {
    if list.len() >= cap {
        list.remove(0);
    }
    list.push(item);
}

impl Account {
    pub fn new(customer: &str) -> Account {
        Account { customer: customer.to_string(), ..Default::default() }
    }

    /// Adds a lot, paying any debt first. Returns the points that went to debt.
    pub fn credit(&mut self, lot_id: &str, points: i64, at: i64, expires_at: Option<i64>) -> i64 {
        let to_debt = points.min(self.debt).max(0);
        self.debt -= to_debt;
        self.balance += points;
        if points - to_debt > 0 {
            self.lots.push(Lot { id: name(lot_id), points, remaining: points - to_debt, at, expires_at });
        }
        to_debt
    }

    /// Debits up to `points` from lots, soonest expiry first, then oldest. With `allow_debt`
    /// the shortfall becomes debt; otherwise it is returned as not taken.
    pub fn debit(&mut self, points: i64, allow_debt: bool) -> (Vec<Take>, i64) {
        crate::sort_by_key(&mut self.lots, |l| (l.expires_at.unwrap_or(i64::MAX), l.at));
        let mut left = points;
        let mut takes = Vec::new();
        for lot in self.lots.iter_mut() {
            if left == 0 {
                break;
            }
            let n = lot.remaining.min(left);
            if n > 0 {
                lot.remaining -= n;
                left -= n;
                takes.push(Take { lot: lot.id.clone(), points: n });
            }
        }
        self.lots.retain(|l| l.remaining > 0);
        let taken = points - left;
        self.balance -= taken;
        if allow_debt && left > 0 {
            self.debt += left;
            self.balance -= left;
            left = 0;
        }
        (takes, left)
    }

    /// Spendable points held in lots (the balance when there is no debt).
    pub fn spendable(&self) -> i64 {
        self.balance.max(0)
    }

    /// This customer's coupon `code` while it can still be used or cancelled, or why not
    /// (the reason an event on it is skipped).
    pub fn issued_coupon_mut(&mut self, code: &str) -> Result<&mut Coupon, String> {
        let i = self.issued_coupon_index(code)?;
        Ok(&mut self.coupons[i])
    }

    /// Where this customer's issued coupon `code` is, or why it cannot be used.
    pub fn issued_coupon_index(&self, code: &str) -> Result<usize, String> {
        match self.coupons.iter().position(|c| *c.code == *code) {
            None => Err(format!("coupon {code} is not one of this customer's")),
            Some(i) if self.coupons[i].status != CouponStatus::Issued => Err(format!("coupon {code} is {}", self.coupons[i].status.name())),
            Some(i) => Ok(i),
        }
    }

    pub fn remember(&mut self, event_id: &str) {
        push_bounded(&mut self.recent, event_id.to_string(), RECENT);
    }

    pub fn seen(&self, event_id: &str) -> bool {
        self.recent.iter().any(|id| id == event_id)
    }

    /// Checks the invariants a stored state must satisfy before rules run on it.
    pub fn check(&self) -> Result<(), String> {
        if self.lots.iter().any(|l| l.remaining <= 0 || l.remaining > l.points) {
            return Err("lots: a lot's remaining points must be within 1..=points".into());
        }
        let held: i64 = self.lots.iter().map(|l| l.remaining).sum();
        if self.debt < 0 || held - self.debt != self.balance {
            return Err(format!("balance: {} does not equal the lots' {} less debt {}", self.balance, held, self.debt));
        }
        if self.pending_lots.iter().any(|l| l.points <= 0) || self.pending_lots.iter().map(|l| l.points).sum::<i64>() != self.pending {
            return Err(format!("pending: {} does not equal the pending lots", self.pending));
        }
        Ok(())
    }
}

const STATUSES: &[(&str, CouponStatus)] =
    &[("issued", CouponStatus::Issued), ("used", CouponStatus::Used), ("expired", CouponStatus::Expired), ("cancelled", CouponStatus::Cancelled)];

fn date(s: &str) -> std::result::Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("invalid date \"{s}\""))
}

fn month(v: &crate::json::Value, path: Path) -> Res<Month> {
    let m = Obj::new("invalid_state", v, path, &["month", "spend", "points", "orders"])?;
    Ok(Month { month: m.int_or("month", 0)?, spend: m.int_or("spend", 0)?, points: m.int_or("points", 0)?, orders: m.int_or("orders", 0)? })
}

/// Reads per-period counts (ways to earn, catalogue redemptions).
fn counts(a: &Obj, key: &str) -> Res<Vec<Counts>> {
    a.list(key)?
        .into_iter()
        .map(|(p, c)| {
            let c = Obj::new("invalid_state", c, p, &["action", "periods"])?;
            let mut periods = [[0i64; 2]; 5];
            for (i, (pp, pair)) in c.list("periods")?.into_iter().take(5).enumerate() {
                let pair = pair.as_array().filter(|a| a.len() == 2).ok_or_else(|| state_err(&pp.render(), "expected [key, times]".into()))?;
                periods[i] = [pair[0].as_i64().unwrap_or(0), pair[1].as_i64().unwrap_or(0)];
            }
            Ok(Counts { action: c.str("action")?, periods })
        })
        .collect::<Res<_>>()
}

fn state_err(path: &str, m: String) -> Error {
    Error::new("invalid_state", path, m)
}

impl Account {
    /// Reads a stored account (the JSON `Serialize` writes), checking its invariants.
    pub fn read(v: &crate::json::Value, path: Path) -> Res<Account> {
        const FIELDS: &[&str] = &[
            "customer", "balance", "pending", "debt", "lots", "rolling_until", "warned", "coupons", "carry", "tier", "clock", "seq", "recent", "totals",
            "next_due", "joined", "tier_until", "months", "lifetime", "actions", "refs", "referred_by", "pending_lots", "chosen_day", "redeemed",
            "membership", "offers", "bought", "last_order",
        ];
        let a = Obj::new("invalid_state", v, path, FIELDS)?;
        let s = crate::sink::Sink::default();
        // Filled field by field, in the order errors are reported, rather than as one struct
        // literal: a literal's every `?` drops the fields built so far, which cost ~5 KB of wasm.
        let mut account = Account::default();
        let lots = &mut account.lots;
        for (p, l) in s.take(a.list("lots")) {
            let l = Obj::new("invalid_state", l, p, &["id", "points", "remaining", "at", "expires_at"])?;
            lots.push(Lot { id: name(&s.take(l.str("id"))), points: s.take(l.int("points")), remaining: s.take(l.int("remaining")), at: s.take(l.int("at")), expires_at: s.take(l.opt_int("expires_at")) });
        }
        let coupons = &mut account.coupons;
        for (p, c) in s.take(a.list("coupons")) {
            const CF: &[&str] = &["code", "reward", "type", "value", "min_order", "max_discount", "points", "issued_at", "expires_at", "status", "order_id"];
            let c = Obj::new("invalid_state", c, p, CF)?;
            coupons.push(Coupon {
                code: name(&s.take(c.str("code"))),
                reward: name(&s.take(c.str("reward"))),
                kind: s.take(c.one_of("type", crate::program::COUPON_KINDS)).ok_or_else(|| s.first_or(c.err("type", "is required")))?,
                value: s.take(c.opt_str("value")).as_deref().map(name),
                min_order: s.take(c.opt_int("min_order")),
                max_discount: s.take(c.opt_int("max_discount")),
                points: s.take(c.int("points")),
                issued_at: s.take(c.int("issued_at")),
                expires_at: s.take(c.opt_int("expires_at")),
                status: s.take(c.one_of("status", STATUSES)).ok_or_else(|| s.first_or(c.err("status", "is required")))?,
                order_id: s.take(c.opt_str("order_id")),
            });
        }
        account.warned = match s.take(a.opt_obj("warned", &["until", "done"])) {
            None => None,
            Some(w) => Some(Warned {
                until: s.take(w.parsed("until", date)).ok_or_else(|| s.first_or(w.err("until", "is required")))?,
                done: usize::try_from(s.take(w.int("done"))).map_err(|_| s.first_or(w.err("done", "must not be negative")))?,
            }),
        };
        account.totals = match s.take(a.opt_obj("totals", &["earned", "reversed", "redeemed", "expired", "adjusted", "forgiven", "donated", "restored"])) {
            None => Totals::default(),
            Some(t) => Totals {
                earned: s.take(t.int_or("earned", 0)),
                reversed: s.take(t.int_or("reversed", 0)),
                redeemed: s.take(t.int_or("redeemed", 0)),
                expired: s.take(t.int_or("expired", 0)),
                adjusted: s.take(t.int_or("adjusted", 0)),
                forgiven: s.take(t.int_or("forgiven", 0)),
                donated: s.take(t.int_or("donated", 0)),
                restored: s.take(t.int_or("restored", 0)),
            },
        };
        account.customer = s.take(a.str("customer"));
        account.balance = s.take(a.int("balance"));
        account.pending = s.take(a.int_or("pending", 0));
        account.debt = s.take(a.int_or("debt", 0));
        account.rolling_until = s.take(a.parsed("rolling_until", date));
        account.carry = s.take(a.parsed("carry", Ratio::parse_fraction)).unwrap_or_default();
        account.tier = s.take(a.opt_str("tier"));
        account.clock = s.take(a.int_or("clock", 0));
        account.seq = u64::try_from(s.take(a.int_or("seq", 0))).map_err(|_| s.first_or(a.err("seq", "must not be negative")))?;
        // As stored, however many: `remember` drops the oldest only once there are `RECENT`.
        account.recent = s.take(a.str_list("recent"));
        account.next_due = s.take(a.opt_int("next_due"));
        account.joined = s.take(a.parsed("joined", date));
        account.tier_until = s.take(a.parsed("tier_until", date));
        account.months = s.take(a.list("months")).into_iter().map(|(p, m)| month(m, p)).collect::<Res<_>>()?;
        account.lifetime = match a.get("lifetime") {
            Some(m) => month(m, Path::Key(&a.here(), "lifetime"))?,
            None => Month::default(),
        };
        account.actions = counts(&a, "actions")?;
        account.redeemed = counts(&a, "redeemed")?;
        account.membership = match s.take(a.opt_obj("membership", &["plan", "status", "since", "until", "gift_at", "year", "spend", "fees"])) {
            None => None,
            Some(m) => Some(crate::membership::Membership {
                plan: s.take(m.str("plan")),
                status: s.take(m.one_of("status", crate::membership::STATUSES)).ok_or_else(|| s.first_or(m.err("status", "is required")))?,
                since: s.take(m.int("since")),
                until: s.take(m.opt_int("until")),
                gift_at: s.take(m.opt_int("gift_at")),
                year: s.take(m.int("year")),
                spend: s.take(m.int_or("spend", 0)),
                fees: s.take(m.int_or("fees", 0)),
            }),
        };
        account.offers = s.take(a.str_list("offers"));
        for (p, b) in s.take(a.list("bought")) {
            let pair = b.as_array().filter(|x| x.len() == 2).ok_or_else(|| s.first_or(state_err(&p.render(), "expected [offer, units]".into())))?;
            account.bought.push((pair[0].as_str().unwrap_or_default().to_string(), pair[1].as_i64().unwrap_or(0)));
        }
        account.last_order = s.take(a.opt_int("last_order"));
        account.refs = s.take(a.str_list("refs"));
        account.referred_by = s.take(a.opt_str("referred_by"));
        account.pending_lots = a
            .list("pending_lots")?
            .into_iter()
            .map(|(p, l)| {
                let l = Obj::new("invalid_state", l, p, &["id", "order_id", "points", "release_at", "expires_at"])?;
                Ok(PendingLot { id: s.take(l.str("id")), order_id: s.take(l.str("order_id")), points: s.take(l.int("points")), release_at: s.take(l.int("release_at")), expires_at: s.take(l.opt_int("expires_at")) })
            })
            .collect::<Res<_>>()?;
        account.chosen_day = s.take(a.parsed("chosen_day", date));
        let account = s.finish(account)?;
        account.check().map_err(|m| s.first_or(state_err(&path.render(), m)))?;
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debits_take_soonest_expiry_then_oldest() {
        let mut a = Account::new("c1");
        a.credit("e1", 100, 1, Some(500));
        a.credit("e2", 100, 2, Some(300));
        a.credit("e3", 100, 3, None);
        let (takes, left) = a.debit(150, false);
        assert_eq!(left, 0);
        assert_eq!(takes, vec![Take { lot: "e2".into(), points: 100 }, Take { lot: "e1".into(), points: 50 }]);
        assert_eq!(a.balance, 150);
        assert!(a.check().is_ok());
    }

    #[test]
    fn debt_is_repaid_by_later_earns() {
        let mut a = Account::new("c1");
        a.credit("e1", 10, 1, None);
        let (_, left) = a.debit(25, true);
        assert_eq!((left, a.balance, a.debt), (0, -15, 15));
        assert_eq!(a.credit("e2", 20, 2, None), 15);
        assert_eq!((a.balance, a.debt, a.lots[0].remaining), (5, 0, 5));
        assert!(a.check().is_ok());
    }

    #[test]
    fn recent_ids_drop_the_oldest_at_the_cap() {
        let mut a = Account::new("c1");
        for i in 0..RECENT + 2 {
            a.remember(&format!("e{i}"));
        }
        assert_eq!(a.recent.len(), RECENT);
        assert!(!a.seen("e0") && !a.seen("e1") && a.seen("e2") && a.seen(&format!("e{}", RECENT + 1)));
    }

    #[test]
    fn a_coupon_is_written_with_its_status_after_its_terms() {
        use crate::json::ToJson;
        let mut c = Coupon {
            code: name("LOY-AAAA-BBBB-CCCC"), reward: name("r\"1"), kind: CouponKind::Percent, value: Some(name("10")),
            min_order: Some(10_000), max_discount: None, points: 5000, issued_at: -1, expires_at: Some(1_769_036_400_000),
            status: CouponStatus::Issued, order_id: None,
        };
        let first = c.to_json();
        assert_eq!(first, r#"{"code":"LOY-AAAA-BBBB-CCCC","reward":"r\"1","type":"percent","value":"10","min_order":10000,"points":5000,"issued_at":-1,"expires_at":1769036400000,"status":"issued"}"#);
        c.status = CouponStatus::Used;
        c.order_id = Some("o-9".into());
        assert_eq!(c.to_json(), first.replace(r#""status":"issued"}"#, r#""status":"used","order_id":"o-9"}"#));
    }

    #[test]
    fn clamped_debit_reports_what_it_could_not_take() {
        let mut a = Account::new("c1");
        a.credit("e1", 10, 1, None);
        let (_, left) = a.debit(25, false);
        assert_eq!((left, a.balance, a.debt), (15, 0, 0));
    }
}
