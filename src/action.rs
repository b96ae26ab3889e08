//! Ways to earn besides buying: signup, newsletter, review, birthday, social follow and
//! share, and the merchant's own actions. Each gives points, within limits per customer per
//! day, week, month, year or lifetime, and each `ref` counts once.

use crate::error::At;
use crate::spec::ActionSpec;
use crate::context::Tx;
use crate::error::{Error, Result};
use crate::ledger::REFS;
use crate::program::Trigger;
use crate::time::Date;

#[derive(Debug, Clone)]
pub struct ActionRule {
    pub name: String,
    pub points: i64,
    /// Most times per local day, ISO week, month, year and lifetime.
    pub limits: [Option<i64>; 5],
}

pub const PERIODS: [&str; 5] = ["day", "week", "month", "year", "lifetime"];
/// Actions the engine runs itself: their names are not the merchant's to configure.
pub const RESERVED: &[&str] = &["referral", "referral_qualified", "referral_reversed", "choose_day"];

impl ActionRule {
    pub fn check(name: &str, a: ActionSpec, at: &At) -> Result<ActionRule> {
        if RESERVED.contains(&name) {
            return Err(at.err("", format!("\"{name}\" is run by the engine and cannot be configured here")));
        }
        if a.points <= 0 {
            return Err(at.err("points", "must be a positive number of points"));
        }
        let mut limits = [None; 5];
        if let Some(l) = a.limits {
            for (i, n) in [l.day, l.week, l.month, l.year, l.lifetime].into_iter().enumerate() {
                if n.is_some_and(|n| n <= 0) {
                    return Err(at.key("limits").err(PERIODS[i], "must be a positive number of times"));
                }
                limits[i] = n;
            }
        }
        // A birthday comes once a year whatever the merchant says.
        if name == "birthday" && limits[3].is_none_or(|n| n > 1) {
            limits[3] = Some(1);
        }
        Ok(ActionRule { name: name.to_string(), points: a.points, limits })
    }
}

/// How often a customer did an action, per current period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub action: String,
    /// `[period key, times]` for day, week, month and year, then `[0, lifetime times]`.
    pub periods: [[i64; 2]; 5],
}

/// The period keys of a local day: the day, the Monday of its ISO week, its month, its year.
fn keys(d: Date) -> [i64; 5] {
    let monday = d.0 - (d.weekday() as i64 - 1);
    [d.0, monday, d.month_index(), d.ymd().0, 0]
}

/// Why the action may not earn now, if a limit is reached.
pub fn limit_reached(counts: &[Counts], rule: &ActionRule, on: Date) -> Option<String> {
    let c = counts.iter().find(|c| c.action == rule.name)?;
    let k = keys(on);
    (0..5).find_map(|i| {
        let max = rule.limits[i]?;
        let done = if c.periods[i][0] == k[i] { c.periods[i][1] } else { 0 };
        (done >= max).then(|| format!("limit reached: {} at most {max} per {}", rule.name, PERIODS[i]))
    })
}

pub fn count(counts: &mut Vec<Counts>, action: &str, on: Date) {
    let k = keys(on);
    let c = match counts.iter().position(|c| c.action == action) {
        Some(i) => &mut counts[i],
        None => {
            counts.push(Counts { action: action.to_string(), periods: [[0; 2]; 5] });
            counts.last_mut().unwrap_or_else(|| unreachable!())
        }
    };
    for (period, key) in c.periods.iter_mut().zip(k) {
        if period[0] != key {
            *period = [key, 0];
        }
        period[1] += 1;
    }
}

/// Whether `on` is the birthday `mm_dd` ("03-14"); Feb 29 birthdays fall on Feb 28 in other years.
pub fn is_birthday(mm_dd: &str, on: Date) -> std::result::Result<bool, String> {
    let bad = || format!("\"{mm_dd}\" is not a birthday like \"03-14\"");
    let (m, d) = mm_dd.split_once('-').ok_or_else(bad)?;
    let (m, d): (u32, u32) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    Date::from_ymd(2000, m, d).ok_or_else(bad)?; // 2000 is a leap year: Feb 29 is valid
    let (y, om, od) = on.ymd();
    let d = if (m, d) == (2, 29) && Date::from_ymd(y, 2, 29).is_none() { 28 } else { d };
    Ok((om, od) == (m, d))
}

/// Runs `action.completed`. Returns why it earned nothing, when that is a business outcome.
pub fn complete(tx: &mut Tx, action: &str, reference: Option<&str>) -> Result<Option<String>> {
    let today = tx.program.zone.local_date(tx.at);
    let customer = tx.account.customer.clone();
    let need_ref = || reference.ok_or_else(|| Error::event("ref", format!("is required for action {action}")));
    match action {
        "referral" => {
            let program = tx.program;
            let Some(referral) = program.referral.as_ref() else { return Ok(Some("the program has no referral rule".into())) };
            let referrer = need_ref()?;
            if referrer == customer {
                return Ok(Some("self-referral earns nothing".into()));
            }
            if tx.account.referred_by.is_some() || tx.account.lifetime.orders > 0 {
                return Ok(Some("already a customer: only new customers can be referred".into()));
            }
            tx.account.referred_by = Some(referrer.to_string());
            if let Some(r) = referral.friend_reward.as_deref().and_then(|id| program.reward(id)) {
                crate::reward::gift(tx, r);
            }
            tx.notify(Trigger::Referral, || vec![("referrer", referrer.into()), ("role", "friend".into())]);
            Ok(None)
        }
        "referral_qualified" | "referral_reversed" => {
            let friend = need_ref()?;
            let points = tx.program.referral.as_ref().map_or(0, |r| r.referrer_points);
            let qualified = format!("referral_qualified:{friend}");
            let key = format!("{action}:{friend}");
            if tx.account.refs.contains(&key) || (action == "referral_reversed" && !tx.account.refs.contains(&qualified)) {
                return Ok(Some(format!("referral of {friend} already settled")));
            }
            remember(tx, key);
            if points == 0 {
                return Ok(None);
            }
            if action == "referral_qualified" {
                crate::expiry::grant(tx, points, format!("referral: {friend}'s first order").into(), vec!["referral".into()]);
                tx.notify(Trigger::Referral, || vec![("friend", friend.into()), ("role", "referrer".into()), ("points", points.into())]);
            } else {
                tx.reverse(points, None, format!("referral: {friend}'s first order refunded").into());
            }
            Ok(None)
        }
        "choose_day" => {
            let perk = tx.program.tiers.as_ref().and_then(|t| t.level(tx.account.tier.as_deref())).and_then(|l| l.perks.chosen_day_multiplier.clone());
            if perk.is_none() {
                return Ok(Some("the customer's tier has no chosen-day perk".into()));
            }
            let day = Date::parse(need_ref()?).ok_or_else(|| Error::event("ref", "expected the chosen day as YYYY-MM-DD"))?;
            if day < today || day.ymd().0 != today.ymd().0 {
                return Err(Error::event("ref", format!("{day} must be today or later this year")));
            }
            if tx.account.chosen_day.is_some_and(|d| d.ymd().0 == today.ymd().0) {
                return Ok(Some("a bonus day can be chosen once a year".into()));
            }
            tx.account.chosen_day = Some(day);
            Ok(None)
        }
        _ => {
            let program = tx.program;
            let Some(rule) = program.actions.iter().find(|r| r.name == action) else {
                return Ok(Some(format!("the program has no earning rule for action \"{action}\"")));
            };
            if action == "birthday" {
                let mm_dd = need_ref()?;
                if !is_birthday(mm_dd, today).map_err(|m| Error::event("ref", m))? {
                    return Ok(Some(format!("{today} is not the birthday {mm_dd} in the program's time zone")));
                }
            }
            let key = reference.filter(|_| action != "birthday").map(|r| format!("{action}:{r}"));
            if key.as_ref().is_some_and(|k| tx.account.refs.contains(k)) {
                return Ok(Some(format!("{action} {} already counted", reference.unwrap_or_default())));
            }
            if let Some(why) = limit_reached(&tx.account.actions, rule, today) {
                return Ok(Some(why));
            }
            count(&mut tx.account.actions, action, today);
            if let Some(k) = key {
                remember(tx, k);
            }
            crate::expiry::grant(tx, rule.points, format!("action {action}").into(), vec![format!("action:{action}")]);
            Ok(None)
        }
    }
}

fn remember(tx: &mut Tx, key: String) {
    crate::ledger::push_bounded(&mut tx.account.refs, key, REFS);
}

/// The event a referred friend's first order sends to the referrer's account (or, when it
/// is refunded, the one that takes the referral back).
pub fn referral_event(tx: &Tx, referrer: &str, reversed: bool) -> serde_json::Value {
    let (what, action) = if reversed { ("reversed", "referral_reversed") } else { ("qualified", "referral_qualified") };
    let id = format!("referral:{}:{what}", tx.account.customer);
    let at = tx.at_text();
    serde_json::json!({ "id": id, "type": "action.completed", "at": at, "customer": referrer, "action": action, "ref": tx.account.customer })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(limits: [Option<i64>; 5]) -> ActionRule {
        ActionRule { name: "review".into(), points: 50, limits }
    }
    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn limits_count_per_period() {
        let r = rule([Some(1), None, Some(2), None, Some(3)]);
        let mut c = vec![];
        assert!(limit_reached(&c, &r, d("2026-01-05")).is_none());
        count(&mut c, "review", d("2026-01-05"));
        assert_eq!(limit_reached(&c, &r, d("2026-01-05")).unwrap(), "limit reached: review at most 1 per day");
        assert!(limit_reached(&c, &r, d("2026-01-06")).is_none(), "a new day");
        count(&mut c, "review", d("2026-01-06"));
        assert_eq!(limit_reached(&c, &r, d("2026-01-20")).unwrap(), "limit reached: review at most 2 per month");
        count(&mut c, "review", d("2026-02-01"));
        assert_eq!(limit_reached(&c, &r, d("2026-03-01")).unwrap(), "limit reached: review at most 3 per lifetime");
    }

    #[test]
    fn weeks_start_on_monday() {
        let r = rule([None, Some(1), None, None, None]);
        let mut c = vec![];
        count(&mut c, "review", d("2026-01-04")); // a Sunday
        assert!(limit_reached(&c, &r, d("2026-01-05")).is_none(), "Monday starts a new week");
        count(&mut c, "review", d("2026-01-05"));
        assert!(limit_reached(&c, &r, d("2026-01-11")).is_some(), "Sunday is the same ISO week");
    }

    #[test]
    fn birthdays() {
        assert_eq!(is_birthday("03-14", d("2026-03-14")), Ok(true));
        assert_eq!(is_birthday("03-14", d("2026-03-15")), Ok(false));
        assert_eq!(is_birthday("02-29", d("2027-02-28")), Ok(true));
        assert_eq!(is_birthday("02-29", d("2028-02-28")), Ok(false));
        assert!(is_birthday("13-01", d("2026-01-01")).is_err());
    }
}
