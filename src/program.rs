//! The merchant's program: parsed once, validated once, then read by every rule. Unknown
//! keys and impossible values are errors naming the JSON path.

use crate::action::ActionRule;
use crate::campaign::{Campaign, Stacking};
#[cfg(feature = "status")]
use crate::campaign::STACKINGS;
use crate::decode::{Obj, Path};
use crate::error::{Error, Result};
use crate::money;
use crate::product;
use crate::ratio::{Ratio, Rounding};
use crate::tier::Tiers;
use crate::time::{Duration, Zone};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryMode {
    /// Every order renews the validity of all points.
    Rolling,
    /// Each lot expires on its own date.
    PerLot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegativeBalance {
    /// The balance may go below zero; later earns pay the debt back.
    Allow,
    /// Reversals stop at zero and the excess is forgiven (and recorded).
    Clamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponKind {
    Percent,
    Fixed,
    FreeShipping,
    FreeProduct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
const EXPIRY_MODES: &[(&str, ExpiryMode)] = &[("rolling", ExpiryMode::Rolling), ("per_lot", ExpiryMode::PerLot)];
const NEGATIVE: &[(&str, NegativeBalance)] = &[("allow", NegativeBalance::Allow), ("clamp", NegativeBalance::Clamp)];

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
        let v = crate::decode::parse("invalid_program", json)?;
        const FIELDS: &[&str] = &[
            "id", "name", "currency", "timezone", "earn", "expiry", "rewards", "negative_balance", "notifications",
            "actions", "referral", "tiers", "campaigns", "campaign_stacking", "pending", "pay_with_points", "memberships", "donations", "offers",
            "brands",
        ];
        #[cfg(not(feature = "status"))]
        if let Some(k) = ["actions", "referral", "tiers", "campaigns", "campaign_stacking", "pending"].into_iter().find(|k| v.get(*k).is_some()) {
            return Err(Error::program(k, "needs the engine's status rules (ways to earn, referrals, tiers, campaigns, pending points), which this build leaves out"));
        }
        let p = Obj::new("invalid_program", &v, Path::Root(""), FIELDS)?;
        let s = crate::sink::Sink::default();
        let id = s.take(p.str("id"));
        if id.is_empty() {
            return Err(s.first_or(p.err("id", "must not be empty")));
        }
        let currency = s.take(p.str("currency"));
        let exponent = money::exponent(&currency).ok_or_else(|| s.first_or(p.err("currency", format!("unknown ISO 4217 currency \"{currency}\""))))?;
        let timezone = s.take(p.str("timezone"));
        let zone = match zone {
            Some(z) if z.name == timezone => {
                z.validate().map_err(|m| s.first_or(p.err("timezone", m)))?;
                z
            }
            Some(z) => return Err(p.err("timezone", format!("\"{timezone}\" but the zone table given is for \"{}\"", z.name))),
            None if matches!(timezone.as_str(), "UTC" | "Etc/UTC") => Zone { name: timezone.clone(), ..Zone::utc() },
            None => return Err(p.err("timezone", format!("unknown time zone \"{timezone}\" (no offset table was given for it)"))),
        };
        let amount = |o: &Obj, key: &str| o.parsed(key, |s| money::parse_amount(s, exponent));
        let duration = |o: &Obj, key: &str| o.parsed(key, Duration::parse);

        let e = p.obj("earn", &["points_per_unit", "rounding", "include_shipping", "include_tax", "carry_remainder", "min_order", "rules"])?;
        let rate_text = s.take(e.str("points_per_unit"));
        let rate = Ratio::parse_decimal(&rate_text).map_err(|m| s.first_or(e.err("points_per_unit", m)))?;
        let rounding = s.take(e.one_of("rounding", ROUNDINGS)).unwrap_or(Rounding::Floor);
        let carry_remainder = s.take(e.bool_or("carry_remainder", false));
        if carry_remainder && rounding != Rounding::Floor {
            return Err(s.first_or(e.err("carry_remainder", "needs rounding \"floor\" (the carried remainder is what floor drops)")));
        }
        let earn = Earn {
            rate,
            rate_text,
            rounding,
            include_shipping: s.take(e.bool_or("include_shipping", false)),
            include_tax: s.take(e.bool_or("include_tax", false)),
            carry_remainder,
            min_order: None,
            rules: Vec::new(),
        };
        #[cfg(feature = "status")]
        let earn = Earn {
            min_order: amount(&e, "min_order")?,
            rules: s.take(e.list("rules")).into_iter().map(|(path, r)| product::Rule::read("invalid_program", r, path)).collect::<Result<_>>()?,
            ..earn
        };
        #[cfg(not(feature = "status"))]
        if let Some(k) = ["min_order", "rules"].into_iter().find(|k| e.get(k).is_some()) {
            return Err(s.first_or(e.err(k, "needs the engine's status rules (product rules), which this build leaves out")));
        }

        let expiry = match s.take(p.opt_obj("expiry", &["mode", "after", "warn_before"])) {
            None => None,
            Some(x) => {
                let mode = s.take(x.one_of("mode", EXPIRY_MODES)).ok_or_else(|| s.first_or(x.err("mode", "is required")))?;
                let after = duration(&x, "after")?.ok_or_else(|| s.first_or(x.err("after", "is required")))?;
                if after == Duration::default() || after.ms != 0 {
                    return Err(s.first_or(x.err("after", "must be a whole number of days, months or years")));
                }
                let mut warn = Vec::new();
                for (path, w) in s.take(x.list("warn_before")) {
                    let d = w.as_str().ok_or_else(|| s.first_or(Error::program(path.render(), "expected a duration string like \"P7D\"")))?;
                    let d = Duration::parse(d).map_err(|m| s.first_or(Error::program(path.render(), m)))?;
                    if d == Duration::default() || d.ms != 0 {
                        return Err(s.first_or(Error::program(path.render(), "must be a whole number of days, weeks or months")));
                    }
                    warn.push(d);
                }
                // Farthest first: a duration in months is longer than any in days below 28.
                crate::sort_by_key(&mut warn, |w| std::cmp::Reverse(w.max_days()));
                warn.dedup();
                Some(Expiry { mode, after, warn_before: warn })
            }
        };

        let mut rewards: Vec<Reward> = Vec::new();
        for (path, rv) in s.take(p.list("rewards")) {
            let r = Obj::new("invalid_program", rv, path, &["id", "name", "auto", "points", "coupon", "stock", "limit"])?;
            let rid = s.take(r.str("id"));
            if rid.is_empty() {
                return Err(s.first_or(r.err("id", "must not be empty")));
            }
            if rewards.iter().any(|x| x.id == rid) {
                return Err(s.first_or(r.err("id", format!("duplicate reward id \"{rid}\""))));
            }
            let points = s.take(r.int("points"));
            if points <= 0 {
                return Err(s.first_or(r.err("points", "must be a positive number of points")));
            }
            let c = r.obj("coupon", &["type", "value", "min_order", "max_discount", "valid_for", "product"])?;
            let kind = s.take(c.one_of("type", COUPON_KINDS)).ok_or_else(|| s.first_or(c.err("type", "is required")))?;
            let value_text = s.take(c.opt_str("value"));
            // The value is checked here and kept as text: coupons carry it as written.
            match (kind, &value_text) {
                (CouponKind::Percent, Some(v)) => {
                    let pc = Ratio::parse_decimal(v).map_err(|m| s.first_or(c.err("value", m)))?;
                    if pc.is_zero() || pc > Ratio::int(100) {
                        return Err(s.first_or(c.err("value", format!("percent \"{v}\" must be above 0 and at most 100"))));
                    }
                }
                (CouponKind::Fixed, Some(_)) => {
                    if amount(&c, "value")? == Some(0) {
                        return Err(s.first_or(c.err("value", "must be above zero")));
                    }
                }
                (CouponKind::FreeShipping | CouponKind::FreeProduct, None) => {}
                (CouponKind::FreeShipping | CouponKind::FreeProduct, Some(_)) => return Err(c.err("value", "free_shipping and free_product take no value")),
                (_, None) => return Err(c.err("value", "is required for percent and fixed coupons")),
            }
            let product = s.take(c.opt_str("product"));
            if (kind == CouponKind::FreeProduct) != product.is_some() {
                return Err(s.first_or(c.err("product", "is required for free_product coupons, and only for them")));
            }
            let stock = s.take(r.opt_int("stock"));
            if stock.is_some_and(|n| n < 0) {
                return Err(s.first_or(r.err("stock", "must not be negative")));
            }
            let limit = match s.take(r.opt_obj("limit", &["count", "per"])) {
                None => None,
                Some(l) => {
                    let count = s.take(l.int("count"));
                    if count <= 0 {
                        return Err(s.first_or(l.err("count", "must be a positive number of times")));
                    }
                    let per = s.take(l.str("per"));
                    let i = crate::action::PERIODS.iter().position(|p| *p == per).ok_or_else(|| s.first_or(l.err("per", format!("unknown period \"{per}\", expected one of day, week, month, year, lifetime"))))?;
                    let mut limits = [None; 5];
                    limits[i] = Some(count);
                    Some(crate::action::ActionRule { name: rid.clone(), points: 0, limits })
                }
            };
            rewards.push(Reward {
                stock,
                limit,
                id: rid,
                name: s.take(r.opt_str("name")),
                auto: s.take(r.bool_or("auto", false)),
                points,
                coupon: CouponRule {
                    kind,
                    value_text,
                    min_order: amount(&c, "min_order")?,
                    max_discount: amount(&c, "max_discount")?,
                    valid_for: duration(&c, "valid_for")?,
                    product,
                },
            });
        }
        // Auto rewards are tried biggest first, so a balance that reaches two thresholds at
        // once earns the larger reward.
        crate::sort_by_key(&mut rewards, |r| std::cmp::Reverse(r.points));

        let mut notifications = Vec::new();
        if let Some(n) = s.take(p.opt_obj("notifications", &TRIGGERS.iter().map(|t| t.0).collect::<Vec<_>>())) {
            for (name, trigger) in TRIGGERS {
                let mut channels = Vec::new();
                for (path, c) in s.take(n.list(name)) {
                    let name = c.as_str().unwrap_or_default();
                    let ch = CHANNELS.iter().find(|x| x.0 == name).map(|x| x.1).ok_or_else(|| s.first_or({
                        Error::program(path.render(), format!("unknown channel {c}, expected one of email, push, sms, webhook"))
                    }))?;
                    channels.push(ch);
                }
                if !channels.is_empty() {
                    notifications.push((*trigger, channels));
                }
            }
        }

        let reward_ids: Vec<String> = rewards.iter().map(|r| r.id.clone()).collect();
        #[cfg(feature = "status")]
        let (actions, referral, tiers, campaigns, stacking, pending) = status_rules(&p, &reward_ids, exponent)?;
        #[cfg(not(feature = "status"))]
        let (actions, referral, tiers, campaigns, stacking, pending) = (Vec::new(), None, None, Vec::new(), Stacking::Multiply, None);

        let known = |o: &Obj, key: &str| known_reward(&reward_ids, o, key, s.take(o.opt_str(key)));
        let pay_with_points = match s.take(p.opt_obj("pay_with_points", crate::pay::FIELDS)) {
            None => None,
            Some(o) => Some(crate::pay::PayWithPoints::read(&o, exponent)?),
        };
        let plans = s.take(p.list("memberships")).into_iter().map(|(path, v)| crate::membership::Plan::read(v, path, exponent, &known)).collect::<Result<Vec<_>>>()?;
        if let Some(i) = (1..plans.len()).find(|&i| plans[..i].iter().any(|x| x.id == plans[i].id)) {
            return Err(s.first_or(Error::program(format!("memberships[{i}].id"), format!("duplicate plan id \"{}\"", plans[i].id))));
        }
        let donations = match s.take(p.opt_obj("donations", &["charities", "min_points"])) {
            None => None,
            Some(o) => Some(crate::donation::Donations::read(&o)?),
        };
        let offers = s.take(p.list("offers")).into_iter().map(|(path, v)| crate::offer::Offer::read(v, path, &known)).collect::<Result<Vec<_>>>()?;
        let mut brands: Vec<Brand> = Vec::new();
        for (path, v) in s.take(p.list("brands")) {
            let b = Obj::new("invalid_program", v, path, &["id", "name", "points_per_unit"])?;
            let id = s.take(b.str("id"));
            if id.is_empty() || brands.iter().any(|x| x.id == id) {
                return Err(s.first_or(b.err("id", format!("must be a unique, non-empty brand id (\"{id}\")"))));
            }
            s.take(b.opt_str("name"));
            let rate = match s.take(b.opt_str("points_per_unit")) {
                None => None,
                Some(t) => Some((Ratio::parse_decimal(&t).map_err(|m| s.first_or(b.err("points_per_unit", m)))?, t)),
            };
            brands.push(Brand { id, rate });
        }

        s.finish(Program {
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
            id,
            name: s.take(p.opt_str("name")),
            currency,
            exponent,
            zone,
            earn,
            expiry,
            rewards,
            negative_balance: s.take(p.one_of("negative_balance", NEGATIVE)).unwrap_or(NegativeBalance::Allow),
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

/// `id`, read at `key` of `o`, unless it names none of the program's rewards.
fn known_reward(reward_ids: &[String], o: &Obj, key: &str, id: Option<String>) -> Result<Option<String>> {
    match id {
        Some(r) if !reward_ids.contains(&r) => Err(o.err(key, format!("unknown reward \"{r}\""))),
        id => Ok(id),
    }
}

/// Reads the status rules: ways to earn, referrals, tiers, campaigns and pending points.
#[cfg(feature = "status")]
#[allow(clippy::type_complexity)]
fn status_rules(p: &Obj, reward_ids: &[String], exponent: u32) -> Result<(Vec<ActionRule>, Option<Referral>, Option<Tiers>, Vec<Campaign>, Stacking, Option<Duration>)> {
    let known = |o: &Obj, key: &str| known_reward(reward_ids, o, key, o.opt_str(key)?);
    let mut actions = Vec::new();
    if let Some(a) = p.get("actions") {
        let path = Path::Key(&p.here(), "actions");
        let map = a.as_object().ok_or_else(|| Error::program(path.render(), "expected an object of action name to rule"))?;
        for (name, v) in map {
            actions.push(ActionRule::read("invalid_program", name, v, Path::Key(&path, name))?);
        }
    }
    let referral = match p.opt_obj("referral", &["referrer_points", "friend_reward"])? {
        None => None,
        Some(r) => {
            let points = r.int("referrer_points")?;
            if points < 0 {
                return Err(r.err("referrer_points", "must not be negative"));
            }
            Some(Referral { referrer_points: points, friend_reward: known(&r, "friend_reward")? })
        }
    };
    let exponent_amount = |s: &str| money::parse_amount(s, exponent);
    let tiers = match p.opt_obj("tiers", &["basis", "window", "retention", "levels"])? {
        None => None,
        Some(t) => Some(Tiers::read(&t, &exponent_amount, &reward_ids)?),
    };
    let mut campaigns: Vec<Campaign> = p.list("campaigns")?.into_iter().map(|(path, c)| Campaign::read("invalid_program", c, path)).collect::<Result<_>>()?;
    crate::sort_by_key(&mut campaigns, |c| std::cmp::Reverse(c.priority));
    let pending = match p.opt_obj("pending", &["window"])? {
        None => None,
        Some(w) => Some(w.parsed("window", Duration::parse)?.ok_or_else(|| w.err("window", "is required"))?),
    };

    let stacking = p.one_of("campaign_stacking", STACKINGS)?.unwrap_or(Stacking::Multiply);
    Ok((actions, referral, tiers, campaigns, stacking, pending))
}
