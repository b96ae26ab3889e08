//! The merchant's program: parsed once, validated once, then read by every rule. Unknown
//! keys and impossible values are errors naming the JSON path.

use crate::action::ActionRule;
use crate::campaign::{Campaign, Stacking};
use crate::error::{At, Result};
use crate::spec::ProgramSpec;
use crate::money;
use crate::product;
use crate::ratio::{Ratio, Rounding};
use crate::tier::Tiers;
use crate::time::{Duration, Zone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExpiryMode {
    /// Every order renews the validity of all points.
    Rolling,
    /// Each lot expires on its own date.
    PerLot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum NegativeBalance {
    /// The balance may go below zero; later earns pay the debt back.
    Allow,
    /// Reversals stop at zero and the excess is forgiven (and recorded).
    Clamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CouponKind {
    Percent,
    Fixed,
    FreeShipping,
    FreeProduct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), serde(rename_all = "snake_case"))]
pub enum Trigger {
    PointsEarned,
    RewardEarned,
    PointsExpiring,
    PointsExpired,
    TierChanged,
    Welcome,
    Referral,
}

pub const TRIGGERS: &[(&str, Trigger)] = &[
    ("points_earned", Trigger::PointsEarned),
    ("reward_earned", Trigger::RewardEarned),
    ("points_expiring", Trigger::PointsExpiring),
    ("points_expired", Trigger::PointsExpired),
    ("tier_changed", Trigger::TierChanged),
    ("welcome", Trigger::Welcome),
    ("referral", Trigger::Referral),
];
const CHANNELS: &[(&str, Channel)] = &[("email", Channel::Email), ("push", Channel::Push), ("sms", Channel::Sms), ("webhook", Channel::Webhook)];
pub const COUPON_KINDS: &[(&str, CouponKind)] =
    &[("percent", CouponKind::Percent), ("fixed", CouponKind::Fixed), ("free_shipping", CouponKind::FreeShipping), ("free_product", CouponKind::FreeProduct)];
pub const ROUNDINGS: &[(&str, Rounding)] = &[("floor", Rounding::Floor), ("round", Rounding::Round), ("ceil", Rounding::Ceil)];

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::PointsEarned => "points_earned",
            Trigger::RewardEarned => "reward_earned",
            Trigger::PointsExpiring => "points_expiring",
            Trigger::PointsExpired => "points_expired",
            Trigger::TierChanged => "tier_changed",
            Trigger::Welcome => "welcome",
            Trigger::Referral => "referral",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", serde(rename_all = "snake_case"))]
pub enum Channel {
    Email,
    Push,
    Sms,
    Webhook,
}

/// The validated program the rules read.
#[derive(Debug, Clone)]
pub struct Program {
    pub id: String,
    pub name: Option<String>,
    pub currency: String,
    pub exponent: u32,
    pub zone: Zone,
    pub earn: Earn,
    pub expiry: Option<Expiry>,
    pub rewards: Vec<Reward>,
    pub negative_balance: NegativeBalance,
    /// Channels per trigger, for the triggers the program sends.
    pub notifications: Vec<(Trigger, Vec<Channel>)>,
    pub actions: Vec<ActionRule>,
    pub referral: Option<Referral>,
    pub tiers: Option<Tiers>,
    /// Sorted by priority, highest first.
    pub campaigns: Vec<Campaign>,
    pub stacking: Stacking,
    /// How long order points stay pending (the return window).
    pub pending: Option<Duration>,
    pub pay_with_points: Option<crate::pay::PayWithPoints>,
    pub plans: Vec<crate::membership::Plan>,
    pub donations: Option<crate::donation::Donations>,
    pub offers: Vec<crate::offer::Offer>,
    /// Coalition brands, each with its own earn rate (the program's when `None`).
    pub brands: Vec<Brand>,
}

#[derive(Debug, Clone)]
pub struct Brand {
    pub id: String,
    pub rate: Option<(Ratio, String)>,
}

#[derive(Debug, Clone)]
pub struct Referral {
    pub referrer_points: i64,
    /// The catalogue reward whose coupon the referred friend gets.
    pub friend_reward: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Earn {
    /// Points per major currency unit, exact.
    pub rate: Ratio,
    pub rate_text: String,
    pub rounding: Rounding,
    pub include_shipping: bool,
    pub include_tax: bool,
    pub carry_remainder: bool,
    /// Orders below this (goods after discounts) earn nothing.
    pub min_order: Option<i64>,
    pub rules: Vec<product::Rule>,
}

#[derive(Debug, Clone)]
pub struct Expiry {
    pub mode: ExpiryMode,
    pub after: Duration,
    /// Warning offsets sorted farthest first (P2M, P1M, P14D, P7D).
    pub warn_before: Vec<Duration>,
}

#[derive(Debug, Clone)]
pub struct Reward {
    pub id: String,
    pub name: Option<String>,
    pub auto: bool,
    pub points: i64,
    pub coupon: CouponRule,
    /// Coupons the program may issue for it in all, across customers.
    pub stock: Option<i64>,
    /// How often one customer may redeem it per period (day, week, month, year, lifetime).
    pub limit: Option<crate::action::ActionRule>,
}

#[derive(Debug, Clone)]
pub struct CouponRule {
    pub kind: CouponKind,
    /// Percent as an exact ratio (10 = 10%), or a fixed amount in minor units.
    pub value_text: Option<String>,
    pub min_order: Option<i64>,
    pub max_discount: Option<i64>,
    pub valid_for: Option<Duration>,
    /// The SKU or product id a `free_product` coupon gives one unit of.
    pub product: Option<String>,
}

impl Program {
    /// Parses and validates a program. `zone` is the offset table of `timezone` (UTC needs none).
    pub fn parse(json: &str, zone: Option<Zone>) -> Result<Program> {
        Program::check(crate::error::from_json("invalid_program", json)?, zone)
    }

    /// Checks what serde cannot (amounts in the currency, durations, known rewards, the zone)
    /// and builds the rules' types.
    pub fn check(p: ProgramSpec, zone: Option<Zone>) -> Result<Program> {
        let at = At::new("invalid_program", "");
        #[cfg(not(feature = "status"))]
        {
            let used = [
                ("actions", p.actions.is_some()),
                ("referral", p.referral.is_some()),
                ("tiers", p.tiers.is_some()),
                ("campaigns", p.campaigns.is_some()),
                ("campaign_stacking", p.campaign_stacking.is_some()),
                ("pending", p.pending.is_some()),
            ];
            if let Some((k, _)) = used.into_iter().find(|u| u.1) {
                return Err(at.err(k, "needs the engine's status rules (ways to earn, referrals, tiers, campaigns, pending points), which this build leaves out"));
            }
        }
        if p.id.is_empty() {
            return Err(at.err("id", "must not be empty"));
        }
        let currency = p.currency;
        let exponent = money::exponent(&currency).ok_or_else(|| at.err("currency", format!("unknown ISO 4217 currency \"{currency}\"")))?;
        let timezone = p.timezone;
        let zone = match zone {
            Some(z) if z.name == timezone => {
                z.validate().map_err(|m| at.err("timezone", m))?;
                z
            }
            Some(z) => return Err(at.err("timezone", format!("\"{timezone}\" but the zone table given is for \"{}\"", z.name))),
            None if matches!(timezone.as_str(), "UTC" | "Etc/UTC") => Zone { name: timezone.clone(), ..Zone::utc() },
            None => return Err(at.err("timezone", format!("unknown time zone \"{timezone}\" (no offset table was given for it)"))),
        };
        let amount = |at: &At, key: &str, v: &Option<String>| at.parsed(key, v.as_deref(), &|s| money::parse_amount(s, exponent));
        let duration = |at: &At, key: &str, v: &Option<String>| at.parsed(key, v.as_deref(), &Duration::parse);

        let e = p.earn;
        let ea = at.key("earn");
        let rate = Ratio::parse_decimal(&e.points_per_unit).map_err(|m| ea.err("points_per_unit", m))?;
        let rounding = e.rounding.unwrap_or(Rounding::Floor);
        let carry_remainder = e.carry_remainder.unwrap_or(false);
        if carry_remainder && rounding != Rounding::Floor {
            return Err(ea.err("carry_remainder", "needs rounding \"floor\" (the carried remainder is what floor drops)"));
        }
        #[cfg(not(feature = "status"))]
        if let Some(k) = [("min_order", e.min_order.is_some()), ("rules", e.rules.is_some())].into_iter().find(|u| u.1).map(|u| u.0) {
            return Err(ea.err(k, "needs the engine's status rules (product rules), which this build leaves out"));
        }
        let mut rules = Vec::new();
        for (i, r) in e.rules.unwrap_or_default().into_iter().enumerate() {
            rules.push(product::Rule::check(r, &ea.item("rules", i))?);
        }
        let earn = Earn {
            rate,
            rate_text: e.points_per_unit,
            rounding,
            include_shipping: e.include_shipping.unwrap_or(false),
            include_tax: e.include_tax.unwrap_or(false),
            carry_remainder,
            min_order: amount(&ea, "min_order", &e.min_order)?,
            rules,
        };

        let expiry = match p.expiry {
            None => None,
            Some(x) => {
                let xa = at.key("expiry");
                let after = Duration::parse(&x.after).map_err(|m| xa.err("after", m))?;
                if after == Duration::default() || after.ms != 0 {
                    return Err(xa.err("after", "must be a whole number of days, months or years"));
                }
                let mut warn = Vec::new();
                for (i, w) in x.warn_before.unwrap_or_default().iter().enumerate() {
                    let wa = xa.item("warn_before", i);
                    let d = Duration::parse(w).map_err(|m| wa.err("", m))?;
                    if d == Duration::default() || d.ms != 0 {
                        return Err(wa.err("", "must be a whole number of days, weeks or months"));
                    }
                    warn.push(d);
                }
                // Farthest first: a duration in months is longer than any in days below 28.
                crate::sort_by_key(&mut warn, |w| std::cmp::Reverse(w.max_days()));
                warn.dedup();
                Some(Expiry { mode: x.mode, after, warn_before: warn })
            }
        };

        let mut rewards: Vec<Reward> = Vec::new();
        for (i, r) in p.rewards.unwrap_or_default().into_iter().enumerate() {
            let ra = at.item("rewards", i);
            if r.id.is_empty() {
                return Err(ra.err("id", "must not be empty"));
            }
            if rewards.iter().any(|x| x.id == r.id) {
                return Err(ra.err("id", format!("duplicate reward id \"{}\"", r.id)));
            }
            if r.points <= 0 {
                return Err(ra.err("points", "must be a positive number of points"));
            }
            let c = r.coupon;
            let ca = ra.key("coupon");
            let kind = c.kind;
            // The value is checked here and kept as text: coupons carry it as written.
            match (kind, &c.value) {
                (CouponKind::Percent, Some(v)) => {
                    let pc = Ratio::parse_decimal(v).map_err(|m| ca.err("value", m))?;
                    if pc.is_zero() || pc > Ratio::int(100) {
                        return Err(ca.err("value", format!("percent \"{v}\" must be above 0 and at most 100")));
                    }
                }
                (CouponKind::Fixed, Some(_)) => {
                    if amount(&ca, "value", &c.value)? == Some(0) {
                        return Err(ca.err("value", "must be above zero"));
                    }
                }
                (CouponKind::FreeShipping | CouponKind::FreeProduct, None) => {}
                (CouponKind::FreeShipping | CouponKind::FreeProduct, Some(_)) => return Err(ca.err("value", "free_shipping and free_product take no value")),
                (_, None) => return Err(ca.err("value", "is required for percent and fixed coupons")),
            }
            if (kind == CouponKind::FreeProduct) != c.product.is_some() {
                return Err(ca.err("product", "is required for free_product coupons, and only for them"));
            }
            if r.stock.is_some_and(|n| n < 0) {
                return Err(ra.err("stock", "must not be negative"));
            }
            let limit = match r.limit {
                None => None,
                Some(l) => {
                    let la = ra.key("limit");
                    if l.count <= 0 {
                        return Err(la.err("count", "must be a positive number of times"));
                    }
                    let per = crate::action::PERIODS.iter().position(|p| *p == l.per);
                    let i = per.ok_or_else(|| la.err("per", format!("unknown period \"{}\", expected one of day, week, month, year, lifetime", l.per)))?;
                    let mut limits = [None; 5];
                    limits[i] = Some(l.count);
                    Some(crate::action::ActionRule { name: r.id.clone(), points: 0, limits })
                }
            };
            let coupon = CouponRule {
                kind,
                min_order: amount(&ca, "min_order", &c.min_order)?,
                max_discount: amount(&ca, "max_discount", &c.max_discount)?,
                valid_for: duration(&ca, "valid_for", &c.valid_for)?,
                value_text: c.value,
                product: c.product,
            };
            rewards.push(Reward { stock: r.stock, limit, id: r.id, name: r.name, auto: r.auto.unwrap_or(false), points: r.points, coupon });
        }
        // Auto rewards are tried biggest first, so a balance that reaches two thresholds at
        // once earns the larger reward.
        crate::sort_by_key(&mut rewards, |r| std::cmp::Reverse(r.points));

        let mut notifications = Vec::new();
        if let Some(n) = p.notifications {
            let na = at.key("notifications");
            // An object, not a struct: one reader for every trigger.
            if let Some((k, _)) = n.iter().find(|(k, _)| !TRIGGERS.iter().any(|t| t.0 == k)) {
                let all: Vec<&str> = TRIGGERS.iter().map(|t| t.0).collect();
                return Err(na.err(k, format!("unknown field \"{k}\", expected one of {}", all.join(", "))));
            }
            for (name, trigger) in TRIGGERS {
                let mut channels = Vec::new();
                let list = n.iter().rev().find(|(k, _)| k == name).map(|(_, l)| l.as_slice()).unwrap_or_default();
                for (i, c) in list.iter().enumerate() {
                    let ch = CHANNELS.iter().find(|x| x.0 == c).map(|x| x.1);
                    channels.push(ch.ok_or_else(|| na.item(name, i).err("", format!("unknown channel \"{c}\", expected one of email, push, sms, webhook")))?);
                }
                if !channels.is_empty() {
                    notifications.push((*trigger, channels));
                }
            }
        }

        let reward_ids: Vec<String> = rewards.iter().map(|r| r.id.clone()).collect();
        let known = |at: &At, key: &str, id: Option<String>| known_reward(&reward_ids, at, key, id);
        #[cfg(feature = "status")]
        let (actions, referral, tiers, campaigns, stacking, pending) = {
            let mut actions = Vec::new();
            for (name, a) in p.actions.unwrap_or_default() {
                actions.push(ActionRule::check(&name, a, &at.key("actions").key(&name))?);
            }
            let referral = match p.referral {
                None => None,
                Some(r) => {
                    if r.referrer_points < 0 {
                        return Err(at.key("referral").err("referrer_points", "must not be negative"));
                    }
                    Some(Referral { referrer_points: r.referrer_points, friend_reward: known(&at.key("referral"), "friend_reward", r.friend_reward)? })
                }
            };
            let tiers = match p.tiers {
                None => None,
                Some(t) => Some(Tiers::check(t, &at.key("tiers"), &|s| money::parse_amount(s, exponent), &reward_ids)?),
            };
            let mut campaigns: Vec<Campaign> = Vec::new();
            for (i, c) in p.campaigns.unwrap_or_default().into_iter().enumerate() {
                campaigns.push(Campaign::check(c, &at.item("campaigns", i))?);
            }
            crate::sort_by_key(&mut campaigns, |c| std::cmp::Reverse(c.priority));
            let pending = match p.pending {
                None => None,
                Some(w) => Some(Duration::parse(&w.window).map_err(|m| at.key("pending").err("window", m))?),
            };
            (actions, referral, tiers, campaigns, p.campaign_stacking.unwrap_or(Stacking::Multiply), pending)
        };
        #[cfg(not(feature = "status"))]
        let (actions, referral, tiers, campaigns, stacking, pending) = (Vec::new(), None, None, Vec::new(), Stacking::Multiply, None);

        let pay_with_points = match p.pay_with_points {
            None => None,
            Some(o) => Some(crate::pay::PayWithPoints::check(o, &at.key("pay_with_points"), exponent)?),
        };
        let mut plans = Vec::new();
        for (i, v) in p.memberships.unwrap_or_default().into_iter().enumerate() {
            plans.push(crate::membership::Plan::check(v, &at.item("memberships", i), exponent, &known)?);
        }
        if let Some(i) = (1..plans.len()).find(|&i| plans[..i].iter().any(|x| x.id == plans[i].id)) {
            return Err(at.item("memberships", i).err("id", format!("duplicate plan id \"{}\"", plans[i].id)));
        }
        let donations = match p.donations {
            None => None,
            Some(o) => Some(crate::donation::Donations::check(o, &at.key("donations"))?),
        };
        let mut offers = Vec::new();
        for (i, v) in p.offers.unwrap_or_default().into_iter().enumerate() {
            offers.push(crate::offer::Offer::check(v, &at.item("offers", i), &known)?);
        }
        let mut brands: Vec<Brand> = Vec::new();
        for (i, b) in p.brands.unwrap_or_default().into_iter().enumerate() {
            let ba = at.item("brands", i);
            if b.id.is_empty() || brands.iter().any(|x| x.id == b.id) {
                return Err(ba.err("id", format!("must be a unique, non-empty brand id (\"{}\")", b.id)));
            }
            let rate = match b.points_per_unit {
                None => None,
                Some(t) => Some((Ratio::parse_decimal(&t).map_err(|m| ba.err("points_per_unit", m))?, t)),
            };
            brands.push(Brand { id: b.id, rate });
        }

        Ok(Program {
            pay_with_points,
            plans,
            donations,
            offers,
            brands,
            actions,
            referral,
            tiers,
            campaigns,
            stacking,
            pending,
            id: p.id,
            name: p.name,
            currency,
            exponent,
            zone,
            earn,
            expiry,
            rewards,
            negative_balance: p.negative_balance.unwrap_or(NegativeBalance::Allow),
            notifications,
        })
    }

    pub fn reward(&self, id: &str) -> Option<&Reward> {
        self.rewards.iter().find(|r| r.id == id)
    }

    pub fn plan(&self, id: &str) -> Option<&crate::membership::Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    pub fn channels(&self, t: Trigger) -> Option<&[Channel]> {
        self.notifications.iter().find(|n| n.0 == t).map(|n| n.1.as_slice())
    }

    pub fn format_amount(&self, minor: i64) -> String {
        money::format_amount(minor, self.exponent)
    }
}

/// `id`, read at `key`, unless it names none of the program's rewards.
fn known_reward(reward_ids: &[String], at: &At, key: &str, id: Option<String>) -> Result<Option<String>> {
    match id {
        Some(r) if !reward_ids.contains(&r) => Err(at.err(key, format!("unknown reward \"{r}\""))),
        id => Ok(id),
    }
}
