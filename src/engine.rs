//! The pure function at the heart of it all:
//! `apply(program, state, event) -> { state, entries, effects }`. No clock, no randomness,
//! no I/O: all time comes from the event, so cart, webhook, admin preview and a replay of
//! years of history give the same answer.

use crate::earn::{self, OrderRecord};
use crate::error::{Error, Result};
use crate::event::{Body, Event, Order, Refund};
use crate::expiry;
use crate::status::{self, Multipliers};
use crate::ledger::{Account, CouponStatus, Entry, EntryKind};
use crate::program::{NegativeBalance, Program, Trigger};
use crate::ratio::Ratio;
use crate::reward::{self, CouponQuote};
use crate::time::Zone;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::HashMap;

// The rules' context, where it was first declared: `engine::Effect` and the others stay valid.
pub use crate::context::{CouponView, Effect};
use crate::context::{joined, Tx};

/// A program compiled once and applied to many events.
pub struct Engine {
    pub program: Program,
    /// The coupon codes' HMAC, keyed with the program secret.
    key: crate::context::Key,
}

/// What one event did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Outcome {
    pub state: Account,
    /// The order record this event created or changed, for the host to store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderRecord>,
    pub entries: Vec<Entry>,
    pub effects: Vec<Effect>,
    /// The event was applied before: nothing changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "schema", schemars(extend("const" = true)))]
    pub duplicate: bool,
    /// Why the event changed nothing, when it is a business outcome and not an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// An outcome but its state and order record: what wasm `apply` writes after their texts.
#[derive(Serialize)]
struct Rest<'a> {
    entries: &'a [Entry],
    effects: &'a [Effect],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a str>,
}

impl Outcome {
    /// The outcome as wasm `apply` returns it, three texts in one: the state's JSON, a
    /// newline, the order record's JSON ("" if none), a newline, then the rest
    /// (`{"entries":…,"effects":…}`). JSON text never holds a raw newline, so the host splits
    /// at the first two, keeps the state and order texts as they are (to store, or to pass
    /// back) and parses only what it reads. Returns the text and the state's length.
    pub fn write_parts(&self) -> (String, usize) {
        let mut out = Vec::new();
        let rest = Rest { entries: &self.entries, effects: &self.effects, duplicate: self.duplicate, skipped: self.skipped.as_deref() };
        // Writing to a Vec fails only if a Serialize impl does, and ours never do.
        let _ = serde_json::to_writer(&mut out, &self.state);
        let state = out.len();
        out.push(b'\n');
        if let Some(r) = &self.order {
            let _ = serde_json::to_writer(&mut out, r);
        }
        out.push(b'\n');
        let _ = serde_json::to_writer(&mut out, &rest);
        // serde_json writes UTF-8.
        (String::from_utf8(out).unwrap_or_default(), state)
    }
}

/// The account as the admin API, the widget and the replay CLI show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct View {
    pub customer: String,
    pub balance: i64,
    pub pending: i64,
    pub tier: Option<String>,
    pub next_expiry: Option<NextExpiry>,
    pub coupons: Vec<CouponView>,
    /// Where the customer stands towards the next tier, when the program has tiers.
    pub tier_progress: Option<TierProgress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MembershipView {
    pub plan: String,
    pub status: crate::membership::Status,
    /// Paid until (the last instant), none for lifetime plans.
    pub until: Option<String>,
}

/// Qualifying activity in the tier window as of the account's last event, and what the
/// next level needs: amounts as decimal strings for spend, counts for points and orders.
// The `schemars` attributes say what the `Serialize` below writes.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TierProgress {
    #[cfg_attr(feature = "schema", schemars(with = "crate::tier::Basis"))]
    pub basis: &'static str,
    #[cfg_attr(feature = "schema", schemars(with = "AmountOrCount"))]
    pub current: i64,
    pub next_tier: Option<String>,
    #[cfg_attr(feature = "schema", schemars(with = "AmountOrCount"))]
    pub needed: i64,
    /// The currency exponent when the basis is spend (money), to print amounts.
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub exponent: Option<u32>,
}

// How `TierProgress` writes `current` and `needed`: an amount for spend, else a count.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(untagged, inline)]
#[allow(dead_code)]
enum AmountOrCount {
    Amount(String),
    Count(i64),
}

/// Spend is money, written as decimal strings like every amount; points and orders count.
impl Serialize for TierProgress {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("TierProgress", 4)?;
        o.serialize_field("basis", self.basis)?;
        let amount = |v: i64| match self.exponent {
            Some(exp) => Value::from(crate::money::format_amount(v, exp)),
            None => Value::from(v),
        };
        o.serialize_field("current", &amount(self.current))?;
        o.serialize_field("next_tier", &self.next_tier)?;
        o.serialize_field("needed", &amount(self.needed))?;
        o.end()
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NextExpiry {
    pub points: i64,
    pub at: String,
}

/// A cart preview: what it would earn, the perks and coupons it can use.
// The `schemars` attributes say what the `Serialize` below writes.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Quote {
    pub points: i64,
    /// The product rules, campaigns and tier perks that multiply the cart's points.
    pub rules: Vec<String>,
    /// The customer's tier perks (a standing percent off, free shipping) for the checkout.
    pub perks: crate::tier::Perks,
    pub coupons: Vec<CouponQuote>,
    /// The most points the customer can pay with on this cart, when the program allows it.
    #[cfg_attr(feature = "schema", schemars(with = "Option<PayQuote<'static>>", skip_serializing_if = "Option::is_none"))]
    pub pay_with_points: Option<crate::pay::Allowance>,
    /// The currency exponent, to write the discount as an amount.
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub exponent: u32,
}

/// A quote's `pay_with_points`: the points, the discount they pay as an amount, and why
/// none when none.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct PayQuote<'a> {
    points: i64,
    discount: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// The discount points pay is an amount: a decimal string like every amount.
impl Serialize for Quote {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("Quote", 5)?;
        o.serialize_field("points", &self.points)?;
        o.serialize_field("rules", &self.rules)?;
        o.serialize_field("perks", &self.perks)?;
        o.serialize_field("coupons", &self.coupons)?;
        if let Some(p) = &self.pay_with_points {
            o.serialize_field("pay_with_points", &PayQuote { points: p.points, discount: crate::money::format_amount(p.discount, self.exponent), reason: p.reason.as_deref() })?;
        }
        o.end()
    }
}

/// Many events at once: the changed accounts and orders, and everything they wrote.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Batch {
    pub states: HashMap<String, Account>,
    pub orders: HashMap<String, OrderRecord>,
    pub entries: Vec<Entry>,
    pub effects: Vec<Effect>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Skipped {
    pub event: String,
    pub reason: String,
}

/// What an order earns before its carry-in (`Engine::earning`).
struct Earning<'p> {
    /// Every line's net, the base for `earn.min_order` and paying with points.
    goods: i64,
    /// The rate's text as the program (or the order's brand) gives it, for the records.
    rate_text: &'p str,
    below_minimum: bool,
    computed: earn::Computed,
    /// The product rules, campaigns and tier perks that multiplied the lines.
    rules: Vec<String>,
}

/// Time-driven work due by `now`: expired lots and coupons, released pending points and
/// tiers whose period ended.
fn advance(tx: &mut Tx, now: i64) {
    expiry::expire_due(tx, now);
    reward::expire_coupons(tx, now);
    status::advance(tx, now);
    crate::membership::advance(tx, now);
    crate::offer::advance(tx, now);
}

impl Engine {
    /// Builds an engine from program JSON. `zone` is the offset table of the program's time
    /// zone (UTC needs none); `secret` keys the coupon codes.
    pub fn new(program_json: &str, zone: Option<Zone>, secret: &[u8]) -> Result<Engine> {
        let program = Program::parse(program_json, zone)?;
        let key = crate::context::key(if secret.is_empty() { program.id.as_bytes() } else { secret });
        Ok(Engine { program, key })
    }

    pub fn parse_event(&self, json: &str) -> Result<Event> {
        Event::parse(json, &self.program)
    }

    /// Applies one event to an account (None: a new one) and the order it names, if the host
    /// has a record of it.
    pub fn apply(&self, state: Option<Account>, order: Option<OrderRecord>, event: &Event) -> Result<Outcome> {
        self.apply_with(state, order, event, None)
    }

    /// `apply` with the program-wide count of coupons issued per stock-limited reward.
    pub fn apply_with(&self, state: Option<Account>, order: Option<OrderRecord>, event: &Event, stock: Option<&HashMap<String, i64>>) -> Result<Outcome> {
        self.apply_detail(state, order, event, stock, true)
    }

    /// `apply_with`, with the entries' and effects' detail only if `detail` (see `Tx`).
    pub fn apply_detail(&self, state: Option<Account>, order: Option<OrderRecord>, event: &Event, stock: Option<&HashMap<String, i64>>, detail: bool) -> Result<Outcome> {
        // Borrowed from the event when it names the customer (nearly always): no copy.
        let customer: std::borrow::Cow<str> = match (&event.customer, &state, &order) {
            (Some(c), _, _) => c.into(),
            (None, Some(s), _) => s.customer.clone().into(),
            (None, None, Some(o)) => o.customer.clone().into(),
            (None, None, None) => return Err(Error::event("customer", "is required (no account or order record names one)")),
        };
        let account = state.unwrap_or_else(|| Account::new(&customer));
        if account.customer != *customer {
            return Err(Error::new("invalid_state", "customer", format!("state is for \"{}\", the event for \"{customer}\"", account.customer)));
        }
        account.check().map_err(|m| Error::new("invalid_state", "", m))?;
        // A state from elsewhere is held to the same bounds as one this engine wrote.
        crate::limits::account(&account)?;
        if let Some(o) = &order {
            if Some(o.id.as_str()) != event.order_id() || o.customer != *customer {
                return Err(Error::new("invalid_state", "order", format!("the record of order \"{}\" for \"{}\" does not belong to this event", o.id, o.customer)));
            }
        }
        if account.seen(&event.id) {
            return Ok(Outcome { state: account, order: None, entries: vec![], effects: vec![], duplicate: true, skipped: None });
        }
        let mut tx = Tx { program: &self.program, key: &self.key, account, event_id: &event.id, at: event.at, entries: vec![], effects: vec![], coupons_issued: 0, stock, detail };
        let (order, skipped) = self.run(&mut tx, order, event)?;
        crate::limits::account(&tx.account)?;
        Ok(Outcome { state: tx.account, order, entries: tx.entries, effects: tx.effects, duplicate: false, skipped })
    }

    /// The rules for one event; returns the changed order record and a skip reason.
    fn run(&self, tx: &mut Tx, order: Option<OrderRecord>, event: &Event) -> Result<(Option<OrderRecord>, Option<String>)> {
        let now = tx.account.clock.max(event.at);
        if tx.account.joined.is_none() {
            tx.account.joined = Some(self.program.zone.local_date(event.at));
        }
        advance(tx, now);
        let mut changed = None;
        let mut skipped = None;
        match &event.body {
            Body::OrderPlaced(o) => match order {
                Some(_) => skipped = Some(format!("order {} is already recorded", o.id)),
                None => {
                    reward::use_codes(tx, &o.coupon_codes, &o.id);
                    let (rec, why) = self.earn(tx, o, event)?;
                    changed = Some(rec);
                    skipped = why;
                }
            },
            Body::OrderRefunded { order_id, refund } => match order {
                None => skipped = Some(format!("order {order_id} is not in the ledger: nothing to reverse")),
                Some(mut rec) => {
                    let before = rec.clone();
                    let owed = rec.refund(refund)?;
                    let reason = match refund {
                        Refund::Lines(_) => "refund of lines",
                        Refund::Amount(_) => "refund by amount",
                    };
                    self.settle_refund(tx, &before, &mut rec, owed, reason);
                    changed = Some(rec);
                }
            },
            Body::OrderCancelled { order_id } => match order {
                None => skipped = Some(format!("order {order_id} is not in the ledger: nothing to reverse")),
                Some(rec) if rec.cancelled => skipped = Some(format!("order {order_id} is already cancelled")),
                Some(mut rec) => {
                    let before = rec.clone();
                    let owed = rec.cancel()?;
                    self.settle_refund(tx, &before, &mut rec, owed, "order cancelled");
                    changed = Some(rec);
                }
            },
            Body::ActionCompleted { action, reference } => skipped = status::action(tx, action, reference.as_deref())?,
            Body::PointsAdjusted { points, reason, by } => self.adjust(tx, *points, reason, by)?,
            Body::RewardRedeemed { reward } => skipped = reward::redeem(tx, reward)?,
            Body::CouponCancelled { code } => skipped = reward::cancel(tx, code),
            Body::Membership { kind, plan } => skipped = crate::membership::change(tx, kind, plan)?,
            Body::PointsDonated { charity, points } => skipped = crate::donation::donate(tx, charity, *points)?,
            Body::CouponUsed { code, order_id } => match tx.account.issued_coupon_index(code) {
                Err(why) => skipped = Some(why),
                Ok(i) => reward::mark_used(tx, i, order_id.clone()),
            },
            Body::ClockTick => {}
        }
        reward::issue_thresholds(tx)?;
        // A late event (an old webhook) can add points whose validity already ended by the
        // account's clock: expire them now, so the state is always fully advanced to `now`
        // and a later redelivery of an old tick finds nothing to do.
        advance(tx, now);
        expiry::warn_due(tx, now);
        if !matches!(event.body, Body::ClockTick) {
            tx.account.remember(&event.id);
        }
        tx.account.clock = now;
        tx.account.next_due = [expiry::next_due(tx), reward::next_due(tx), status::next_due(tx), crate::membership::next_due(tx), crate::offer::next_due(tx)]
            .into_iter()
            .flatten()
            .min();
        Ok((changed, skipped))
    }

    /// What an order (or a cart) earns before its carry-in, as `apply` books it: below
    /// `earn.min_order` every line earns zero and no rule applies.
    fn earning(&self, o: &Order, m: &Multipliers) -> Result<Earning<'_>> {
        let goods = o.goods().ok_or_else(|| earn::overflow("order.lines"))?;
        let below_minimum = self.program.earn.min_order.is_some_and(|min| goods < min);
        let (multipliers, rules, base) = if below_minimum {
            (Vec::new(), Vec::new(), Ratio::default())
        } else {
            let (multipliers, rules) = m.lines(&o.lines);
            (multipliers, rules, m.base())
        };
        let (rate, rate_text) = self.rate(o);
        let computed = earn::compute(&self.program, o, goods, rate, &multipliers, base)?;
        Ok(Earning { goods, rate_text, below_minimum, computed, rules })
    }

    /// The points of an exact earn plus the fraction carried in, rounded by the program's
    /// rule; and that sum, whose fraction carries on.
    fn points(&self, exact: Ratio, carry_in: Ratio) -> Result<(i64, Ratio)> {
        let with_carry = exact.checked_add(carry_in).ok_or_else(|| Error::event("order", "too large"))?;
        let points = with_carry.round(self.program.earn.rounding).ok_or_else(|| crate::limits::too_many("order"))?;
        Ok((points, with_carry))
    }

    fn earn(&self, tx: &mut Tx, o: &Order, event: &Event) -> Result<(OrderRecord, Option<String>)> {
        let e = &self.program.earn;
        let m = Multipliers::new(&self.program, &tx.account, event.at);
        let Earning { goods, rate_text, below_minimum, computed: c, rules } = self.earning(o, &m)?;
        // Points paid with are debited before the order's own points arrive.
        crate::pay::spend(tx, &o.id, o.points_spent, goods)?;
        let carry_in = if e.carry_remainder && !below_minimum { tx.account.carry } else { Ratio::default() };
        let (points, with_carry) = self.points(c.exact, carry_in)?;
        crate::limits::event_points("order", points)?;
        if e.carry_remainder && !below_minimum {
            tx.account.carry = with_carry.checked_sub(Ratio::int(points)).unwrap_or_default();
        }
        let expires = expiry::on_earn(tx, event.at);
        let mut held = false;
        if points > 0 {
            held = status::hold(tx, &o.id, points, event.at, expires);
            if !held {
                tx.account.credit(&event.id, points, event.at, expires);
                tx.account.totals.earned += points;
                tx.push_entry(EntryKind::Earn, points, "order placed", tx.at, |en| {
                    en.order_id = Some(o.id.clone());
                    en.rules = Vec::with_capacity(2 + rules.len());
                    en.rules.push(joined(&["earn:", rate_text, " points per ", &self.program.currency]));
                    en.rules.push(joined(&["rounding:", e.rounding.name()]));
                    en.rules.extend(rules.iter().cloned());
                });
            }
            let balance = tx.account.balance;
            tx.notify(Trigger::PointsEarned, || vec![("points", points.into()), ("order_id", o.id.as_str().into()), ("balance", balance.into()), ("pending", held.into())]);
        }
        let mut record = OrderRecord {
            id: o.id.clone(),
            customer: tx.account.customer.clone(),
            event: event.id.clone(),
            at: event.at,
            rate: rate_text.to_string(),
            rounding: e.rounding,
            rules,
            carry_in,
            lines: c.lines,
            total: c.total,
            earned: points,
            reversed: 0,
            refunded_amount: 0,
            cancelled: false,
            pending: held,
            referrer: None,
            points_spent: o.points_spent,
            points_returned: 0,
            member: false,
        };
        status::on_order(tx, &mut record);
        record.member = crate::membership::on_order(tx, &record);
        crate::offer::on_order(tx, o);
        let skipped = below_minimum.then(|| format!("the order is below the minimum of {} for earning", self.program.format_amount(e.min_order.unwrap_or(0))));
        Ok((record, skipped))
    }

    /// Books what a refund or cancellation reverses: pending points first (no debt), then
    /// spendable points; tier activity shrinks with it, and a refunded first order takes
    /// its referral back.
    fn settle_refund(&self, tx: &mut Tx, before: &OrderRecord, rec: &mut OrderRecord, owed: i64, reason: &'static str) {
        let from_pending = status::on_refund(tx, before, rec, owed);
        if from_pending > 0 {
            tx.push_entry(EntryKind::Reverse, 0, reason, tx.at, |e| {
                e.pending = -from_pending;
                e.order_id = Some(rec.id.clone());
            });
        }
        tx.reverse(owed - from_pending, Some(&rec.id), reason.into());
        crate::pay::give_back(tx, rec);
        if rec.member {
            crate::membership::on_refund(tx, rec.at, before.spend_now() - rec.spend_now());
        }
    }

    /// The earn rate of an order: its brand's in a coalition, else the program's.
    fn rate<'s>(&'s self, o: &Order) -> (Ratio, &'s str) {
        let brand = self.program.brands.iter().find(|b| Some(&b.id) == o.brand.as_ref()).and_then(|b| b.rate.as_ref());
        brand.map_or((self.program.earn.rate, self.program.earn.rate_text.as_str()), |(r, t)| (*r, t.as_str()))
    }

    fn adjust(&self, tx: &mut Tx, points: i64, reason: &str, by: &str) -> Result<()> {
        crate::limits::event_points("points", points)?;
        let takes = if points > 0 {
            let expires = expiry::on_grant(tx);
            tx.account.credit(tx.event_id, points, tx.at, expires);
            vec![]
        } else {
            let allow = self.program.negative_balance == NegativeBalance::Allow;
            if !allow && tx.account.spendable() < -points {
                return Err(Error::event("points", format!("deducting {} exceeds the balance of {}", -points, tx.account.balance)));
            }
            tx.account.debit(-points, allow).0
        };
        tx.account.totals.adjusted += points;
        tx.push_entry(EntryKind::Adjust, points, reason.to_string(), tx.at, |e| {
            e.lots = takes;
            e.by = Some(by.to_string());
        });
        Ok(())
    }

    /// Applies events in order to many accounts. Accounts and orders the events need come
    /// from `states` and `orders` (missing ones start empty); a `clock.tick` reaches every
    /// account in `states` that is due. Fails whole, naming the event, or returns every
    /// change.
    pub fn apply_batch(&self, states: HashMap<String, Account>, orders: HashMap<String, OrderRecord>, events: &[Event]) -> Result<Batch> {
        self.apply_batch_with(states, orders, events, HashMap::new())
    }

    /// `apply_batch` starting from the program-wide count of coupons issued per
    /// stock-limited reward (missing rewards count from zero), kept up to date as it goes.
    pub fn apply_batch_with(&self, mut states: HashMap<String, Account>, mut orders: HashMap<String, OrderRecord>, events: &[Event], mut stock: HashMap<String, i64>) -> Result<Batch> {
        let mut out = Batch::default();
        let mut changed_orders = Vec::new();
        // The customers whose state changed. A map of the type `stock` already is, not a
        // HashSet: each hash table type costs ~1.5 KB of wasm.
        let mut changed_states: HashMap<String, i64> = HashMap::new();
        // Events the engine derives for other accounts (referrals) run right after the event
        // that asked for them, as a host would apply them: a stack, next on top.
        let mut stack: Vec<Event> = Vec::new();
        for (i, input) in events.iter().enumerate() {
            let mut next: Option<Event> = None;
            loop {
                let owned = next.take();
                let event = owned.as_ref().unwrap_or(input);
                let customers: Vec<String> = match (&event.body, &event.customer) {
                    (_, Some(c)) => vec![c.clone()],
                    (Body::ClockTick, None) => {
                        let mut due: Vec<String> = states.iter().filter(|(_, s)| s.next_due.is_some_and(|d| d <= event.at)).map(|(k, _)| k.clone()).collect();
                        due.sort();
                        due
                    }
                    _ => match event.order_id().and_then(|id| orders.get(id)) {
                        Some(o) => vec![o.customer.clone()],
                        None => {
                            out.skipped.push(Skipped { event: event.id.clone(), reason: "no customer and no known order".into() });
                            vec![]
                        }
                    },
                };
                let mut derived = Vec::new();
                for customer in customers {
                    let state = states.remove(&customer);
                    let order = event.order_id().and_then(|id| orders.get(id)).filter(|o| o.customer == customer).cloned();
                    let r = self.apply_with(state, order, event, Some(&stock)).map_err(|e| e.within(&format!("[{i}]")))?;
                    reward::count_stock(&self.program, &mut stock, &r.effects);
                    if let Some(o) = r.order {
                        changed_orders.push(o.id.clone());
                        orders.insert(o.id.clone(), o);
                    }
                    if let Some(reason) = r.skipped {
                        out.skipped.push(Skipped { event: event.id.clone(), reason });
                    }
                    out.entries.extend(r.entries);
                    for effect in r.effects {
                        match effect {
                            Effect::Event { event } => derived.push(self.parse_event(&event.to_string()).map_err(|e| e.within(&format!("[{i}]")))?),
                            other => out.effects.push(other),
                        }
                    }
                    changed_states.insert(customer.clone(), 0);
                    states.insert(customer, r.state);
                }
                stack.extend(derived.into_iter().rev());
                next = stack.pop();
                if next.is_none() {
                    break;
                }
            }
        }
        for (c, _) in changed_states {
            if let Some(s) = states.remove(&c) {
                out.states.insert(c, s);
            }
        }
        for id in changed_orders {
            if let Some(o) = orders.remove(&id) {
                out.orders.insert(id, o);
            }
        }
        Ok(out)
    }

    /// The account view of DESIGN.md.
    pub fn view(&self, state: &Account) -> View {
        let tx = self.peek(state);
        View {
            customer: state.customer.clone(),
            balance: state.balance,
            pending: state.pending,
            tier: state.tier.clone(),
            next_expiry: expiry::next(&tx).map(|(end, _, points)| NextExpiry { points, at: self.program.zone.format(end - 1) }),
            coupons: state.coupons.iter().map(|c| tx.coupon_view(c)).collect(),
            tier_progress: self.tier_progress(state),
            membership: state.membership.as_ref().map(|m| MembershipView { plan: m.plan.clone(), status: m.status, until: m.until.map(|u| self.program.zone.format(u - 1)) }),
        }
    }

    fn tier_progress(&self, state: &Account) -> Option<TierProgress> {
        let t = self.program.tiers.as_ref()?;
        let on = self.program.zone.local_date(state.clock);
        let current = crate::tier::value(t, &state.months, &state.lifetime, on);
        let next = t.levels.iter().find(|l| l.threshold > current);
        let basis = match t.basis {
            crate::tier::Basis::Spend => "spend",
            crate::tier::Basis::Points => "points",
            crate::tier::Basis::Orders => "orders",
        };
        let exponent = (basis == "spend").then_some(self.program.exponent);
        Some(TierProgress { basis, current, next_tier: next.map(|l| l.name.clone()), needed: next.map_or(0, |l| l.threshold - current), exponent })
    }

    /// What a cart would earn and what each of the customer's coupons would take off it,
    /// by the same code `apply` uses.
    pub fn quote(&self, state: Option<&Account>, cart_json: &str) -> Result<Quote> {
        let (at, cart) = crate::event::parse_cart(cart_json, &self.program)?;
        let empty = Account::default();
        let m = Multipliers::new(&self.program, state.unwrap_or(&empty), at);
        let Earning { goods, below_minimum, computed: c, rules, .. } = self.earning(&cart, &m).map_err(|e| Error { code: "invalid_cart", ..e })?;
        let carry = match state {
            Some(s) if self.program.earn.carry_remainder => s.carry,
            _ => Ratio::default(),
        };
        // A quote earns nothing where an order could not be booked.
        let points = if below_minimum { 0 } else { self.points(c.exact, carry).map_or(0, |(p, _)| p) };
        // Below the minimum a cart still shows the rules that would multiply its points.
        let rules = if below_minimum { m.lines(&cart.lines).1 } else { rules };
        let tier = self.program.tiers.as_ref().and_then(|t| t.level(state.and_then(|s| s.tier.as_deref()))).map(|l| &l.perks);
        let plan = crate::membership::active(&self.program, state.and_then(|s| s.membership.as_ref()), at).map(|p| &p.perks);
        let perks = crate::membership::best_perks(tier, plan);
        let pay_with_points = self.program.pay_with_points.as_ref().map(|p| {
            let spendable = state.filter(|s| s.debt == 0).map_or(0, |s| s.spendable());
            p.allowance(spendable, goods)
        });
        let coupons = state
            .map(|s| {
                s.coupons
                    .iter()
                    .filter(|c| c.status == CouponStatus::Issued)
                    .map(|c| {
                        let d = reward::discount(c, &cart, at, self.program.exponent);
                        CouponQuote {
                            code: c.code.to_string(),
                            kind: c.kind,
                            usable: d.is_ok(),
                            discount: self.program.format_amount(*d.as_ref().unwrap_or(&0)),
                            reason: d.err(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Quote { points, rules, perks, coupons, pay_with_points, exponent: self.program.exponent })
    }

    fn peek(&self, state: &Account) -> Tx<'_> {
        Tx { program: &self.program, key: &self.key, account: state.clone(), event_id: "", at: state.clock, entries: vec![], effects: vec![], coupons_issued: 0, stock: None, detail: true }
    }
}
