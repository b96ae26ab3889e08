//! Campaigns: bonus multipliers in windows of local dates, weekdays and hours, optionally
//! only for some tiers, products or the first days after a customer joined. When several
//! apply, the program's stacking rule decides: multiply them, or take the best one; an
//! exclusive campaign shuts out those of lower priority.

use crate::decode::{Obj, Path};
use crate::error::Result;
use crate::event::Line;
use crate::product::{Match, MATCH_FIELDS};
use crate::ratio::Ratio;
use crate::time::{Date, Zone};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stacking {
    Multiply,
    BestOf,
}

pub const STACKINGS: &[(&str, Stacking)] = &[("multiply", Stacking::Multiply), ("best_of", Stacking::BestOf)];

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
    pub fn read(code: &'static str, v: &crate::json::Value, path: Path) -> Result<Campaign> {
        const FIELDS: &[&str] = &["id", "multiplier", "from", "until", "weekdays", "hours", "tiers", "match", "joined_within_days", "priority", "exclusive"];
        let c = Obj::new(code, v, path, FIELDS)?;
        let multiplier = Ratio::parse_decimal(&c.str("multiplier")?).map_err(|m| c.err("multiplier", m))?;
        if multiplier.is_zero() {
            return Err(c.err("multiplier", "must be above zero"));
        }
        let date = |k: &str| c.parsed(k, |s| Date::parse(s).ok_or_else(|| format!("\"{s}\" is not a date like \"2026-12-24\"")));
        let (from, until) = (date("from")?, date("until")?);
        if let (Some(f), Some(u)) = (from, until) {
            if u < f {
                return Err(c.err("until", "is before from"));
            }
        }
        let mut weekdays = Vec::new();
        for (p, d) in c.list("weekdays")? {
            match d.as_i64() {
                Some(n @ 1..=7) => weekdays.push(n as u32),
                _ => return Err(crate::error::Error::new(code, p.render(), "expected a weekday from 1 (Monday) to 7 (Sunday)")),
            }
        }
        let hours = match c.opt_obj("hours", &["from", "until"])? {
            None => None,
            Some(h) => {
                let f = h.parsed("from", minutes)?.ok_or_else(|| h.err("from", "is required"))?;
                let u = h.parsed("until", minutes)?.ok_or_else(|| h.err("until", "is required"))?;
                if u <= f {
                    return Err(h.err("until", "must be after from"));
                }
                Some((f, u))
            }
        };
        let matches = match c.opt_obj("match", MATCH_FIELDS)? {
            Some(m) => Match::read(&m)?,
            None => Match::default(),
        };
        let joined_within_days = c.opt_int("joined_within_days")?;
        if joined_within_days.is_some_and(|d| d <= 0) {
            return Err(c.err("joined_within_days", "must be a positive number of days"));
        }
        Ok(Campaign {
            id: c.str("id")?,
            multiplier,
            from,
            until,
            weekdays,
            hours,
            tiers: c.str_list("tiers")?,
            matches,
            joined_within_days,
            priority: c.int_or("priority", 0)?,
            exclusive: c.bool_or("exclusive", false)?,
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
