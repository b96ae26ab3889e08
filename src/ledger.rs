//! The account and its append-only entries. Earned points form lots; every debit consumes
//! lots soonest-expiry first, then oldest, and records the lots it took, so an expiry, a
//! reversal or a redemption always names the points it touched. `balance` is derived from
//! lots and debt and equals the sum of all entries.

use crate::error::Result as Res;
use crate::program::CouponKind;
use crate::ratio::Ratio;
use crate::action::Counts;
use crate::tier::Month;
use crate::time::Date;
use serde::{Deserialize, Serialize};

/// One customer's account: what the host stores between events, as JSON text. Optional
/// parts are left out when empty, so states from before a part existed stay byte for byte.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub customer: String,
    /// Spendable points: the lots' remaining points less the debt.
    pub balance: i64,
    /// Points inside the return window: not spendable until the tick releases them.
    #[serde(default)]
    pub pending: i64,
    /// Points owed after reversals beyond the balance (policy `allow`); earns repay it first.
    #[serde(default)]
    pub debt: i64,
    #[serde(default)]
    pub lots: Vec<Lot>,
    /// The shared expiry date of all lots in `rolling` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_until: Option<Date>,
    /// Expiry warnings already sent for the coming expiry date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned: Option<Warned>,
    #[serde(default)]
    pub coupons: Vec<Coupon>,
    /// Fractional points carried to the next order (`earn.carry_remainder`).
    #[serde(default, skip_serializing_if = "crate::ratio::fraction::is_zero", with = "crate::ratio::fraction")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::ratio::fraction::Text"))]
    pub carry: Ratio,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The latest event time seen (UTC ms): time never runs backwards for an account.
    #[serde(default)]
    pub clock: i64,
    /// How many entries the account has: entry ids are `customer:seq`-free and stable.
    #[serde(default)]
    pub seq: u64,
    /// The latest event ids applied, newest last, so a redelivery is a no-op.
    #[serde(default)]
    pub recent: Vec<String>,
    #[serde(default)]
    pub totals: Totals,
    /// When this account next needs a `clock.tick` (UTC ms): the host indexes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<i64>,
    /// The local day of the account's first event (or signup): "new member" campaigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined: Option<Date>,
    /// The last local day the tier is held before it is re-evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_until: Option<Date>,
    /// Qualifying activity per local month (recent months) and over the lifetime.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<Month>,
    #[serde(default)]
    pub lifetime: Month,
    /// Ways-to-earn counts per period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Counts>,
    /// `action:ref` keys already counted (the latest `REFS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// Who referred this customer, until their first order settles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_by: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_lots: Vec<PendingLot>,
    /// The day this year the customer picked for the tier's bonus multiplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_day: Option<Date>,
    /// Catalogue redemptions per period, for rewards with a per-customer limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redeemed: Vec<Counts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<crate::membership::Membership>,
    /// Offers already issued (each once per customer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<String>,
    /// Units bought so far towards `bought` offers: `(offer id, units)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bought: Vec<(String, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_order: Option<i64>,
}

/// How many action refs an account remembers; the store's unique event ids cover the rest.
pub const REFS: usize = 100;

/// Points from an order waiting out the return window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PendingLot {
    /// The id of the event that earned it.
    pub id: String,
    pub order_id: String,
    pub points: i64,
    /// When the points become spendable (UTC ms).
    pub release_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// How many event ids an account remembers. Order events are also deduplicated by the
/// order record and every event by the store's unique event id; this covers the rest.
pub const RECENT: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Totals {
    pub earned: i64,
    pub reversed: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub adjusted: i64,
    pub forgiven: i64,
    // Written only when used, so states from before spending existed stay byte for byte.
    #[serde(skip_serializing_if = "is_zero")]
    pub donated: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub restored: i64,
}

pub(crate) fn is_zero(n: &i64) -> bool {
    *n == 0
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Lot {
    /// The id of the event that earned it: shared by the account's every copy (each apply
    /// on a cached state makes one) and by the debits that name the lot.
    pub id: Name,
    pub points: i64,
    pub remaining: i64,
    /// When it was earned (UTC ms).
    pub at: i64,
    /// Exclusive end of validity in `per_lot` mode (UTC ms); rolling lots use the account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Warned {
    /// The expiry date the warnings are about.
    pub until: Date,
    /// How many of the program's warning offsets (farthest first) are done.
    pub done: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Coupon {
    pub code: Name,
    pub reward: Name,
    #[serde(rename = "type")]
    pub kind: CouponKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_discount: Option<i64>,
    pub points: i64,
    pub issued_at: i64,
    /// Exclusive end of validity (UTC ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub status: CouponStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Entry {
    /// `event id` + `#` + position within the event: stable across replays.
    pub id: String,
    pub event: String,
    pub customer: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    pub points: i64,
    pub balance_after: i64,
    pub at: crate::time::Stamp,
    pub reason: Reason,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lots: Vec<Take>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon: Option<String>,
    /// Points a clamped reversal could not take and forgave.
    #[serde(skip_serializing_if = "is_zero")]
    pub forgiven: i64,
    /// Change of pending points (which `points` and the balance do not include).
    #[serde(skip_serializing_if = "is_zero")]
    pub pending: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charity: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
        self.lots.sort_by_key(|l| (l.expires_at.unwrap_or(i64::MAX), l.at));
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

impl Account {
    /// Reads a stored account (the JSON its `Serialize` writes), checking its invariants.
    pub fn parse(json: &str) -> Res<Account> {
        let account: Account = crate::error::from_json("invalid_state", json)?;
        account.check().map_err(|m| crate::Error::new("invalid_state", "", m))?;
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
    fn a_coupon_is_written_with_its_status_after_its_terms() {
        let mut c = Coupon {
            code: name("LOY-AAAA-BBBB-CCCC"), reward: name("r\"1"), kind: CouponKind::Percent, value: Some(name("10")),
            min_order: Some(10_000), max_discount: None, points: 5000, issued_at: -1, expires_at: Some(1_769_036_400_000),
            status: CouponStatus::Issued, order_id: None,
        };
        let first = serde_json::to_string(&c).unwrap();
        assert_eq!(first, r#"{"code":"LOY-AAAA-BBBB-CCCC","reward":"r\"1","type":"percent","value":"10","min_order":10000,"points":5000,"issued_at":-1,"expires_at":1769036400000,"status":"issued"}"#);
        c.status = CouponStatus::Used;
        c.order_id = Some("o-9".into());
        assert_eq!(serde_json::to_string(&c).unwrap(), first.replace(r#""status":"issued"}"#, r#""status":"used","order_id":"o-9"}"#));
        assert_eq!(serde_json::from_str::<Coupon>(&first).unwrap().status, CouponStatus::Issued);
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
    fn clamped_debit_reports_what_it_could_not_take() {
        let mut a = Account::new("c1");
        a.credit("e1", 10, 1, None);
        let (_, left) = a.debit(25, false);
        assert_eq!((left, a.balance, a.debt), (15, 0, 0));
    }
}
