//! Campaigns: bonus multipliers in windows of local dates, weekdays and hours, optionally
//! only for some tiers, products or the first days after a customer joined. When several
//! apply, the program's stacking rule decides: multiply them, or take the best one; an
//! exclusive campaign shuts out those of lower priority.

use crate::error::{At, Result};
use crate::spec::CampaignSpec;
use crate::event::Line;
use crate::product::Match;
use crate::ratio::Ratio;
use crate::time::{Date, Zone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stacking {
    Multiply,
    BestOf,
}


#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: String,
    pub multiplier: Ratio,
    pub from: Option<Date>,
    pub until: Option<Date>,
    /// ISO weekdays, 1 = Monday.
    pub weekdays: Vec<u32>,
    /// Local minutes of the day, `[start, end)`.
    pub hours: Option<(i64, i64)>,
    pub tiers: Vec<String>,
    pub matches: Match,
    /// Only within this many days after the customer joined.
    pub joined_within_days: Option<i64>,
    pub priority: i64,
    pub exclusive: bool,
}

fn minutes(s: &str) -> std::result::Result<i64, String> {
    let bad = || format!("\"{s}\" is not a local time like \"18:30\"");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || h * 60 + m > 24 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Campaign {
    pub fn check(c: CampaignSpec, at: &At) -> Result<Campaign> {
        let multiplier = Ratio::parse_decimal(&c.multiplier).map_err(|m| at.err("multiplier", m))?;
        if multiplier.is_zero() {
            return Err(at.err("multiplier", "must be above zero"));
        }
        let date = |k: &str, v: &Option<String>| at.parsed(k, v.as_deref(), &|s| Date::parse(s).ok_or_else(|| format!("\"{s}\" is not a date like \"2026-12-24\"")));
        let (from, until) = (date("from", &c.from)?, date("until", &c.until)?);
        if let (Some(f), Some(u)) = (from, until) {
            if u < f {
                return Err(at.err("until", "is before from"));
            }
        }
        let mut weekdays = Vec::new();
        for (i, d) in c.weekdays.unwrap_or_default().into_iter().enumerate() {
            match d {
                1..=7 => weekdays.push(d as u32),
                _ => return Err(at.item("weekdays", i).err("", "expected a weekday from 1 (Monday) to 7 (Sunday)")),
            }
        }
        let hours = match c.hours {
            None => None,
            Some(h) => {
                let ha = at.key("hours");
                let f = minutes(&h.from).map_err(|m| ha.err("from", m))?;
                let u = minutes(&h.until).map_err(|m| ha.err("until", m))?;
                if u <= f {
                    return Err(ha.err("until", "must be after from"));
                }
                Some((f, u))
            }
        };
        let matches = match c.matches {
            Some(m) => Match::check(m, &at.key("match"))?,
            None => Match::default(),
        };
        if c.joined_within_days.is_some_and(|d| d <= 0) {
            return Err(at.err("joined_within_days", "must be a positive number of days"));
        }
        Ok(Campaign {
            id: c.id,
            multiplier,
            from,
            until,
            weekdays,
            hours,
            tiers: c.tiers.unwrap_or_default(),
            matches,
            joined_within_days: c.joined_within_days,
            priority: c.priority.unwrap_or(0),
            exclusive: c.exclusive.unwrap_or(false),
        })
    }

    /// Whether the campaign runs at `at` (UTC ms) for a customer of `tier` who joined on `joined`.
    pub fn active(&self, zone: &Zone, at: i64, tier: Option<&str>, joined: Option<Date>) -> bool {
        let local = at + zone.offset_at(at) as i64 * 1000;
        let day = Date(local.div_euclid(86_400_000));
        let minute = local.rem_euclid(86_400_000) / 60_000;
        self.from.is_none_or(|f| day >= f)
            && self.until.is_none_or(|u| day <= u)
            && (self.weekdays.is_empty() || self.weekdays.contains(&day.weekday()))
            && self.hours.is_none_or(|(f, u)| minute >= f && minute < u)
            && (self.tiers.is_empty() || tier.is_some_and(|t| self.tiers.iter().any(|x| x == t)))
            && self.joined_within_days.is_none_or(|n| joined.is_some_and(|j| day.0 - j.0 < n && day >= j))
    }
}

/// The combined campaign multiplier for a line, and the campaigns that gave it.
/// `running` must be sorted by priority, highest first.
pub fn line_multiplier<'c>(running: &[&'c Campaign], stacking: Stacking, l: &Line) -> (Ratio, Vec<&'c Campaign>) {
    let mut applied: Vec<&Campaign> = Vec::new();
    for c in running.iter().filter(|c| c.matches.matches(l)) {
        applied.push(c);
        if c.exclusive {
            break;
        }
    }
    match stacking {
        Stacking::Multiply => {
            let m = applied.iter().try_fold(Ratio::int(1), |acc, c| acc.checked_mul(c.multiplier)).unwrap_or(Ratio::int(1));
            (m, applied)
        }
        Stacking::BestOf => match applied.iter().copied().max_by(|a, b| a.multiplier.cmp(&b.multiplier).then(b.priority.cmp(&a.priority))) {
            Some(best) => (best.multiplier, vec![best]),
            None => (Ratio::int(1), vec![]),
        },
    }
}
