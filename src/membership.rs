//! Paid memberships: plans with a fee and a period (month, year, lifetime) whose perks apply
//! while the membership runs: percent off and free shipping at checkout, a points multiplier,
//! a monthly reward, and an annual dividend (a share of the calendar year's spend made as a
//! member, back as a coupon). Billing is the platform's; the events say what happened.

use crate::error::At;
use crate::spec::PlanSpec;
use crate::context::{Effect, Tx};
use crate::error::Result;
use crate::program::{CouponKind, CouponRule, Reward};
use crate::ratio::Ratio;
use crate::time::{Date, Duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month,
    Year,
    Lifetime,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: String,
    pub name: Option<String>,
    pub fee: i64,
    pub period: Period,
    pub perks: crate::tier::Perks,
    pub monthly_reward: Option<String>,
    /// Percent of the year's member spend paid back.
    pub dividend: Option<Ratio>,
    pub dividend_valid_for: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    /// Paid through `until`, then it ends: no renewal will come.
    Cancelled,
    Lapsed,
}

/// A customer's membership.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub plan: String,
    pub status: Status,
    pub since: i64,
    /// The end of the paid period (UTC ms, exclusive); `None` for lifetime plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// When the next monthly reward is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gift_at: Option<i64>,
    /// The local year whose member spend `spend` counts towards the dividend.
    pub year: i64,
    #[serde(default)]
    pub spend: i64,
    /// Fees paid so far, in minor units.
    #[serde(default)]
    pub fees: i64,
}


impl Plan {
    pub fn check(p: PlanSpec, at: &At, exponent: u32, known: &dyn Fn(&At, &str, Option<String>) -> Result<Option<String>>) -> Result<Plan> {
        if p.id.is_empty() {
            return Err(at.err("id", "must not be empty"));
        }
        let fee = crate::money::parse_amount(&p.fee, exponent).map_err(|m| at.err("fee", m))?;
        let mut perks = crate::tier::Perks::default();
        let mut monthly_reward = None;
        if let Some(k) = p.perks {
            let ka = at.key("perks");
            crate::tier::check_perk(&ka, "percent_off", k.percent_off.as_deref(), true, Some(100))?;
            crate::tier::check_perk(&ka, "multiplier", k.multiplier.as_deref(), true, Some(1000))?;
            #[cfg(not(feature = "status"))]
            if k.multiplier.is_some() {
                return Err(ka.err("multiplier", "needs the engine's status rules (multipliers), which this build leaves out"));
            }
            perks.percent_off = k.percent_off;
            perks.multiplier = k.multiplier;
            perks.free_shipping = k.free_shipping.unwrap_or(false);
            monthly_reward = known(&ka, "monthly_reward", k.monthly_reward)?;
        }
        let (mut dividend, mut dividend_valid_for) = (None, None);
        if let Some(d) = p.dividend {
            let da = at.key("dividend");
            let r = Ratio::parse_decimal(&d.percent).map_err(|m| da.err("percent", m))?;
            if r.is_zero() || r > Ratio::int(100) {
                return Err(da.err("percent", "must be above 0 and at most 100"));
            }
            dividend = Some(r);
            dividend_valid_for = da.parsed("valid_for", d.valid_for.as_deref(), &Duration::parse)?;
        }
        Ok(Plan { id: p.id, name: p.name, fee, period: p.period, perks, monthly_reward, dividend, dividend_valid_for })
    }
}

/// The end of a period that starts at `from`: the start of the same local day a month or a
/// year later.
fn period_end(tx: &Tx, from: i64, period: Period) -> Option<i64> {
    let n = match period {
        Period::Month => 1,
        Period::Year => 12,
        Period::Lifetime => return None,
    };
    let z = &tx.program.zone;
    Some(z.start_of_day(z.local_date(from).add(&Duration::months(n), 1)))
}

/// The end of the day a paid period ends on: renewals are billed that day.
fn grace_end(tx: &Tx, until: i64) -> i64 {
    let z = &tx.program.zone;
    z.end_of_day(z.local_date(until))
}

fn year_of(tx: &Tx, at: i64) -> i64 {
    tx.program.zone.local_date(at).ymd().0
}

/// The plan the customer is a member of at `at`, with its perks.
pub fn active<'p>(program: &'p crate::program::Program, m: Option<&Membership>, at: i64) -> Option<&'p Plan> {
    let m = m.filter(|m| m.status != Status::Lapsed && m.until.is_none_or(|u| at < u))?;
    program.plan(&m.plan)
}

/// `membership.started`, `.renewed` and `.cancelled`: returns why nothing changed, if so.
pub fn change(tx: &mut Tx, kind: &str, plan_id: &str) -> Result<Option<String>> {
    let plan = tx.program.plan(plan_id).ok_or_else(|| crate::reward::unknown("plan", plan_id, "the program has", tx.program.plans.iter().map(|p| p.id.as_str()).collect()))?;
    let at = tx.at;
    // Until it lapses (the day after the paid period, a day's grace for the renewal to
    // arrive) a membership is current: a renewal extends it from its end.
    let current = tx.account.membership.clone().filter(|m| m.plan == plan.id && m.status != Status::Lapsed);
    match (kind, current) {
        ("membership.cancelled", None) => return Ok(Some(format!("no running membership of {plan_id} to cancel"))),
        ("membership.cancelled", Some(m)) if m.status == Status::Cancelled => return Ok(Some(format!("{plan_id} is already cancelled"))),
        ("membership.cancelled", Some(mut m)) => {
            m.status = Status::Cancelled;
            tx.account.membership = Some(m);
        }
        ("membership.renewed", Some(m)) if m.until.is_none() => return Ok(Some(format!("{plan_id} is a lifetime membership"))),
        ("membership.renewed", Some(mut m)) => {
            // A renewal extends the paid period from its end, so renewing early loses nothing.
            m.until = m.until.and_then(|u| period_end(tx, u, plan.period));
            m.status = Status::Active;
            m.fees += plan.fee;
            tx.account.membership = Some(m);
        }
        // Only `membership.started` is left with a running membership (event.rs has no other kind).
        (_, Some(_)) => return Ok(Some(format!("already a member of {plan_id}"))),
        // Starting, or renewing a lapsed membership, begins a new period now.
        (_, None) => {
            let year = year_of(tx, at);
            let old = tx.account.membership.take();
            let (y, spend) = old.as_ref().map_or((year, 0), |o| (o.year, o.spend));
            tx.account.membership = Some(Membership {
                plan: plan.id.clone(),
                status: Status::Active,
                since: at,
                until: period_end(tx, at, plan.period),
                gift_at: plan.monthly_reward.as_ref().map(|_| at),
                year: y,
                spend,
                fees: old.map_or(0, |o| o.fees) + plan.fee,
            });
        }
    }
    // The first monthly reward comes from the advance `apply` runs after every event.
    changed(tx);
    Ok(None)
}

fn changed(tx: &mut Tx) {
    if let Some(m) = &tx.account.membership {
        let until = m.until.map(|u| tx.program.zone.format(u - 1));
        let fee = tx.program.plan(&m.plan).map_or(0, |p| p.fee);
        tx.effects.push(Effect::MembershipChanged { customer: tx.account.customer.clone(), plan: m.plan.clone(), status: m.status, until, fee: tx.program.format_amount(fee) });
    }
}

/// Time-driven membership work up to `now`: monthly rewards, the dividend of a year that
/// ended, and the lapse of a period that ended without renewal.
pub fn advance(tx: &mut Tx, now: i64) {
    let Some(m) = tx.account.membership.clone() else { return };
    let program = tx.program;
    let Some(plan) = program.plan(&m.plan) else { return };
    let mut m = m;
    if let (Some(r), Some(mut at)) = (plan.monthly_reward.as_deref().and_then(|id| program.reward(id)), m.gift_at) {
        while at <= now && m.until.is_none_or(|u| at < u) && m.status != Status::Lapsed {
            crate::reward::gift(tx, r);
            at = period_end(tx, at, Period::Month).unwrap_or(i64::MAX);
        }
        m.gift_at = Some(at);
    }
    let year = year_of(tx, now);
    if m.year < year {
        if let Some(pct) = plan.dividend {
            let amount = pct.percent_of(m.spend);
            if amount > 0 {
                let reward = Reward {
                    id: format!("dividend:{}:{}", plan.id, m.year),
                    name: Some(format!("{} dividend {}", plan.name.as_deref().unwrap_or(&plan.id), m.year)),
                    auto: false,
                    points: 0,
                    coupon: CouponRule {
                        kind: CouponKind::Fixed,
                        value_text: Some(program.format_amount(amount)),
                        min_order: None,
                        max_discount: None,
                        valid_for: plan.dividend_valid_for,
                        product: None,
                    },
                    stock: None,
                    limit: None,
                };
                crate::reward::gift(tx, &reward);
            }
        }
        (m.year, m.spend) = (year, 0);
    }
    let lapse = m.status != Status::Lapsed && m.until.is_some_and(|u| grace_end(tx, u) <= now);
    if lapse {
        m.status = Status::Lapsed;
    }
    tx.account.membership = Some(m);
    if lapse {
        changed(tx);
    }
}

/// Counts an order's goods towards the year's dividend while a member; true if it counted.
pub fn on_order(tx: &mut Tx, order: &crate::earn::OrderRecord) -> bool {
    let at = tx.at;
    if active(tx.program, tx.account.membership.as_ref(), at).is_none_or(|p| p.dividend.is_none()) {
        return false;
    }
    // The goods are only worked out for a member earning a dividend.
    if let Some(m) = tx.account.membership.as_mut() {
        m.spend += order.spend_now();
    }
    true
}

/// A refund of a member order placed this dividend year takes its spend back out.
pub fn on_refund(tx: &mut Tx, order_at: i64, spend_refunded: i64) {
    let year = year_of(tx, order_at);
    if let Some(m) = tx.account.membership.as_mut().filter(|m| m.year == year) {
        m.spend = (m.spend - spend_refunded).max(0);
    }
}

/// When the membership next needs a tick: a monthly reward, the new year, the lapse.
pub fn next_due(tx: &Tx) -> Option<i64> {
    let m = tx.account.membership.as_ref()?;
    let plan = tx.program.plan(&m.plan)?;
    let z = &tx.program.zone;
    let running = m.status != Status::Lapsed;
    // A lapsed member still gets the dividend of the year's member spend.
    let new_year = (plan.dividend.is_some() && m.spend > 0).then(|| z.start_of_day(Date::from_ymd(m.year + 1, 1, 1).unwrap_or(Date(0))));
    let gift = m.gift_at.filter(|_| running && plan.monthly_reward.is_some());
    [gift, new_year, m.until.filter(|_| running).map(|u| grace_end(tx, u))].into_iter().flatten().min()
}

/// The checkout perks of a tier and a plan together: the larger percent off, free shipping
/// from either, and the tier's other perks.
pub fn best_perks(tier: Option<&crate::tier::Perks>, plan: Option<&crate::tier::Perks>) -> crate::tier::Perks {
    let mut p = tier.cloned().unwrap_or_default();
    if let Some(m) = plan {
        let pct = |t: &Option<String>| t.as_deref().and_then(|v| Ratio::parse_decimal(v).ok()).unwrap_or_default();
        if pct(&m.percent_off) > pct(&p.percent_off) {
            p.percent_off = m.percent_off.clone();
        }
        p.free_shipping |= m.free_shipping;
    }
    p
}
