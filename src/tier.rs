//! Tiers (Bronze, Silver, Gold...): customers qualify by spend, points earned or order count
//! over their lifetime, the calendar year or a rolling 12 months. An upgrade happens at once;
//! a tier is then held until its period ends (plus a retention period or grace days), and
//! only then re-evaluated, so a refund or a change of thresholds never drops a tier mid-period.

use crate::error::At;
use crate::spec::{Threshold, TiersSpec};
use crate::context::{Effect, Tx};
use crate::program::Trigger;
use crate::error::Result;
use crate::ratio::Ratio;
use crate::time::{Date, Duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Money spent on goods (minor units), net of discounts and refunds.
    Spend,
    /// Points earned on orders (before any redemption).
    Points,
    Orders,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Lifetime,
    CalendarYear,
    #[serde(rename = "rolling_12m")]
    Rolling12m,
}

#[derive(Debug, Clone)]
pub struct Tiers {
    pub basis: Basis,
    pub window: Window,
    /// Extra whole periods a tier is kept after the one it was reached in.
    pub retain_periods: i64,
    pub grace_days: i64,
    /// Lowest first; the first level's threshold is where everyone starts when it is zero.
    pub levels: Vec<Level>,
}

#[derive(Debug, Clone)]
pub struct Level {
    pub name: String,
    pub threshold: i64,
    pub perks: Perks,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Perks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_off: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub free_shipping: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_reward: Option<String>,
    /// Multiplier on the one day a year the customer picks (`action.completed` `choose_day`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_day_multiplier: Option<String>,
}

/// Checks a perk's decimal (`percent_off`, a multiplier), kept as written: it must parse,
/// be nonzero when `above_zero` and at most `max` when given. Tiers and membership plans
/// share it with their own limits.
pub fn check_perk(at: &At, key: &str, text: Option<&str>, above_zero: bool, max: Option<i64>) -> Result<()> {
    let Some(t) = text else { return Ok(()) };
    let r = Ratio::parse_decimal(t).map_err(|m| at.err(key, m))?;
    if (above_zero && r.is_zero()) || max.is_some_and(|m| r > Ratio::int(m)) {
        return Err(at.err(key, match (above_zero, max) {
            (true, Some(m)) => format!("must be above 0 and at most {m}"),
            (false, Some(m)) => format!("must be at most {m}"),
            _ => "must be above zero".to_string(),
        }));
    }
    Ok(())
}

impl Tiers {
    /// Checks `tiers`: `{basis, window, retention: {periods, grace_days}, levels: [...]}`.
    /// `amount` parses a spend threshold in the program currency.
    pub fn check(t: TiersSpec, at: &At, amount: &dyn Fn(&str) -> std::result::Result<i64, String>, rewards: &[String]) -> Result<Tiers> {
        let basis = t.basis;
        let window = t.window.unwrap_or(Window::Lifetime);
        let (mut retain_periods, mut grace_days) = (0, 0);
        if let Some(r) = t.retention {
            let ra = at.key("retention");
            retain_periods = r.periods.unwrap_or(0);
            grace_days = r.grace_days.unwrap_or(0);
            if !(0..=10).contains(&retain_periods) {
                return Err(ra.err("periods", "must be from 0 to 10"));
            }
            if !(0..=3660).contains(&grace_days) {
                return Err(ra.err("grace_days", "must be from 0 to 3660"));
            }
        }
        let mut levels: Vec<Level> = Vec::new();
        for (i, l) in t.levels.unwrap_or_default().into_iter().enumerate() {
            let la = at.item("levels", i);
            let name = l.name;
            if name.is_empty() || levels.iter().any(|x| x.name == name) {
                return Err(la.err("name", format!("\"{name}\" must be a unique, non-empty name")));
            }
            let threshold = match (basis, l.threshold) {
                (Basis::Spend, Some(Threshold::Amount(s))) => amount(&s).map_err(|m| la.err("threshold", m))?,
                (Basis::Spend, Some(Threshold::Count(_))) => return Err(la.err("threshold", "expected a string, found a number")),
                (Basis::Spend, None) => return Err(la.err("threshold", "is required (an amount like \"500.00\")")),
                (_, Some(Threshold::Count(n))) => n,
                (_, None) => return Err(la.err("threshold", "is required")),
                (_, Some(Threshold::Amount(_))) => return Err(la.err("threshold", "expected a whole number, found a string")),
            };
            if threshold < 0 || levels.last().is_some_and(|p| p.threshold >= threshold) {
                return Err(la.err("threshold", "levels must go up: each threshold above the one before"));
            }
            let mut perks = Perks::default();
            if let Some(p) = l.perks {
                let pa = la.key("perks");
                check_perk(&pa, "multiplier", p.multiplier.as_deref(), true, None)?;
                check_perk(&pa, "chosen_day_multiplier", p.chosen_day_multiplier.as_deref(), true, None)?;
                check_perk(&pa, "percent_off", p.percent_off.as_deref(), false, Some(100))?;
                if let Some(r) = p.entry_reward.as_ref().filter(|r| !rewards.contains(r)) {
                    return Err(pa.err("entry_reward", format!("unknown reward \"{r}\"")));
                }
                perks = Perks { multiplier: p.multiplier, percent_off: p.percent_off, free_shipping: p.free_shipping.unwrap_or(false), entry_reward: p.entry_reward, chosen_day_multiplier: p.chosen_day_multiplier };
            }
            levels.push(Level { name, threshold, perks });
        }
        if levels.is_empty() {
            return Err(at.err("levels", "needs at least one level"));
        }
        Ok(Tiers { basis, window, retain_periods, grace_days, levels })
    }

    pub fn rank(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.name == name)
    }

    pub fn level(&self, name: Option<&str>) -> Option<&Level> {
        name.and_then(|n| self.rank(n)).map(|i| &self.levels[i])
    }

    /// The highest level a qualifying value reaches.
    pub fn qualifying(&self, value: i64) -> Option<usize> {
        self.levels.iter().rposition(|l| l.threshold <= value)
    }

    /// The last local day a tier reached on `on` is held: the end of its period, extended by
    /// the retention periods and grace days. `None` holds it for good (lifetime window).
    pub fn held_until(&self, on: Date) -> Option<Date> {
        let (y, m, _) = on.ymd();
        let end = match self.window {
            Window::Lifetime => return None,
            Window::CalendarYear => Date::from_ymd(y + self.retain_periods, 12, 31)?,
            Window::Rolling12m => Date::from_ymd(y, m, 1)?.add(&Duration::months(12 * (1 + self.retain_periods)), 1).add(&Duration { days: 1, ..Default::default() }, -1),
        };
        Some(Date(end.0 + self.grace_days))
    }
}

/// Qualifying activity per local month, so any window can be summed without the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Month {
    /// `yyyy * 12 + (month - 1)`.
    pub month: i64,
    pub spend: i64,
    pub points: i64,
    pub orders: i64,
}


/// Months kept: enough for a rolling 12 months and the calendar year before.
pub const MONTHS_KEPT: i64 = 24;

/// Adds activity to the month of `on`, dropping months no window can reach any more.
pub fn record(months: &mut Vec<Month>, on: Date, spend: i64, points: i64, orders: i64) {
    let m = on.month_index();
    match months.iter_mut().find(|x| x.month == m) {
        Some(x) => {
            x.spend += spend;
            x.points += points;
            x.orders += orders;
        }
        None => {
            months.push(Month { month: m, spend, points, orders });
            months.sort_by_key(|x| x.month);
        }
    }
    let newest = months.last().map_or(m, |x| x.month);
    months.retain(|x| x.month > newest - MONTHS_KEPT);
}

/// The qualifying value on local day `on` from monthly activity plus lifetime totals.
pub fn value(t: &Tiers, months: &[Month], lifetime: &Month, on: Date) -> i64 {
    let pick = |x: &Month| match t.basis {
        Basis::Spend => x.spend,
        Basis::Points => x.points,
        Basis::Orders => x.orders,
    };
    let now = on.month_index();
    match t.window {
        Window::Lifetime => pick(lifetime),
        Window::CalendarYear => months.iter().filter(|x| x.month.div_euclid(12) == now.div_euclid(12) && x.month <= now).map(pick).sum(),
        Window::Rolling12m => months.iter().filter(|x| x.month > now - 12 && x.month <= now).map(pick).sum(),
    }
}

/// Records qualifying activity on the local day of `at`, then upgrades at once if a higher
/// level is reached (and extends the hold of a level requalified for). The lifetime totals
/// (kept for every program: a referral needs "first order") are already counted
/// (`status::activity`); the months only when tiers need them.
pub fn on_activity(tx: &mut Tx, at: i64, spend: i64, points: i64, orders: i64) {
    if tx.program.tiers.is_none() {
        return;
    }
    let on = tx.program.zone.local_date(at);
    record(&mut tx.account.months, on, spend, points, orders);
    upgrade(tx, on);
}

fn upgrade(tx: &mut Tx, on: Date) {
    let Some(t) = tx.program.tiers.as_ref() else { return };
    let Some(q) = t.qualifying(value(t, &tx.account.months, &tx.account.lifetime, on)) else { return };
    let current = tx.account.tier.as_deref().map(|n| t.rank(n));
    match current {
        // A tier the program no longer has is kept until its period ends.
        Some(None) => {}
        Some(Some(r)) if q < r => {}
        Some(Some(r)) if q == r => {
            let until = hold(t, q, on);
            if until > tx.account.tier_until {
                tx.account.tier_until = until;
            }
        }
        _ => change(tx, q, on, "qualified"),
    }
}

/// Held until the end of the period, or for good for a level everyone starts at.
fn hold(t: &Tiers, level: usize, on: Date) -> Option<Date> {
    if t.levels[level].threshold == 0 { None } else { t.held_until(on) }
}

fn change(tx: &mut Tx, to: usize, on: Date, reason: &str) {
    let Some(t) = tx.program.tiers.as_ref() else { return };
    let level = &t.levels[to];
    let from = tx.account.tier.replace(level.name.clone());
    tx.account.tier_until = hold(t, to, on);
    // Starting at the free bottom level is not news.
    if from.is_none() && level.threshold == 0 {
        return;
    }
    tx.effects.push(Effect::TierChanged { customer: tx.account.customer.clone(), from: from.clone(), to: level.name.clone(), reason: reason.to_string() });
    tx.notify(Trigger::TierChanged, || vec![("from", from.as_deref().into()), ("to", level.name.as_str().into()), ("reason", reason.into()), ("perks", serde_json::to_value(&level.perks).unwrap_or_default())]);
    let up = from.as_deref().and_then(|f| t.rank(f)).is_none_or(|r| r < to);
    if let (true, Some(id)) = (up, level.perks.entry_reward.as_ref()) {
        if let Some(r) = tx.program.reward(id) {
            crate::reward::gift(tx, r);
        }
    }
}

/// At the end of a tier's hold, the tier is what the current period's activity reaches:
/// the same or higher is held for another period, lower is a downgrade.
pub fn settle(tx: &mut Tx, now: i64) {
    let Some(t) = tx.program.tiers.as_ref() else { return };
    let today = tx.program.zone.local_date(now);
    if tx.account.tier.is_none() {
        return upgrade(tx, today);
    }
    if tx.account.tier_until.is_none_or(|u| tx.program.zone.end_of_day(u) > now) {
        return;
    }
    let q = t.qualifying(value(t, &tx.account.months, &tx.account.lifetime, today));
    let current = tx.account.tier.as_deref().and_then(|n| t.rank(n));
    match q {
        Some(q) if Some(q) == current => tx.account.tier_until = hold(t, q, today),
        Some(q) => change(tx, q, today, "period ended"),
        None => {
            let from = tx.account.tier.take();
            tx.account.tier_until = None;
            tx.effects.push(Effect::TierChanged { customer: tx.account.customer.clone(), from: from.clone(), to: String::new(), reason: "period ended".into() });
        }
    }
}

pub fn next_due(tx: &Tx) -> Option<i64> {
    tx.account.tier_until.map(|d| tx.program.zone.end_of_day(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers(window: Window, retain: i64, grace: i64) -> Tiers {
        let level = |name: &str, threshold| Level { name: name.into(), threshold, perks: Perks::default() };
        Tiers { basis: Basis::Spend, window, retain_periods: retain, grace_days: grace, levels: vec![level("Bronze", 0), level("Silver", 50_000), level("Gold", 150_000)] }
    }
    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn windows_sum_the_right_months() {
        let mut months = vec![];
        record(&mut months, d("2025-12-15"), 40_000, 400, 1);
        record(&mut months, d("2026-01-10"), 30_000, 300, 1);
        record(&mut months, d("2026-01-20"), 5_000, 50, 1);
        let life = Month { spend: 75_000, points: 750, orders: 3, ..Default::default() };
        assert_eq!(value(&tiers(Window::CalendarYear, 0, 0), &months, &life, d("2026-02-01")), 35_000);
        assert_eq!(value(&tiers(Window::Rolling12m, 0, 0), &months, &life, d("2026-02-01")), 75_000);
        assert_eq!(value(&tiers(Window::Rolling12m, 0, 0), &months, &life, d("2026-12-01")), 35_000, "Dec 2025 left the window");
        assert_eq!(value(&tiers(Window::Lifetime, 0, 0), &months, &life, d("2030-01-01")), 75_000);
        record(&mut months, d("2028-06-01"), 1, 1, 1);
        assert!(months.iter().all(|m| m.month > d("2028-06-01").month_index() - MONTHS_KEPT), "old months dropped");
    }

    #[test]
    fn tiers_are_held_to_the_end_of_their_period() {
        assert_eq!(tiers(Window::CalendarYear, 0, 0).held_until(d("2026-03-10")), Some(d("2026-12-31")));
        assert_eq!(tiers(Window::CalendarYear, 1, 0).held_until(d("2026-03-10")), Some(d("2027-12-31")), "retained through the next year");
        assert_eq!(tiers(Window::CalendarYear, 0, 30).held_until(d("2026-03-10")), Some(d("2027-01-30")), "30 grace days");
        assert_eq!(tiers(Window::Rolling12m, 0, 0).held_until(d("2026-03-10")), Some(d("2027-02-28")));
        assert_eq!(tiers(Window::Lifetime, 0, 0).held_until(d("2026-03-10")), None);
        let t = tiers(Window::Lifetime, 0, 0);
        assert_eq!((t.qualifying(0), t.qualifying(49_999), t.qualifying(50_000), t.qualifying(10_000_000)), (Some(0), Some(0), Some(1), Some(2)));
    }
}
