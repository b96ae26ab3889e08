//! The program as the merchant writes it (DESIGN.md, "Program"): each shape declared once,
//! here, as serde types. Reading them (`error::from_json`) refuses unknown keys and wrong
//! types with the JSON path; `Program::check` then does what serde cannot (amounts in the
//! program's currency, durations, rewards that must exist) and builds the rules' types.
//! A `null` reads as absent, as it always has.

use crate::campaign::Stacking;
use crate::membership::Period;
use crate::program::{CouponKind, ExpiryMode, NegativeBalance};
use crate::ratio::Rounding;
use crate::tier::{Basis, Window};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    pub id: String,
    pub name: Option<String>,
    /// ISO 4217 code: amounts are decimal strings in it.
    pub currency: String,
    /// IANA time zone: day boundaries are local days there.
    pub timezone: String,
    pub earn: EarnSpec,
    pub expiry: Option<ExpirySpec>,
    pub rewards: Option<Vec<RewardSpec>>,
    pub negative_balance: Option<NegativeBalance>,
    /// Channels (email, push, sms, webhook) per trigger.
    #[serde(default, deserialize_with = "ordered")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<std::collections::BTreeMap<crate::program::Trigger, Vec<crate::program::Channel>>>"))]
    pub notifications: Option<Vec<(String, Vec<String>)>>,
    /// Ways to earn besides buying, by action name.
    #[serde(default, deserialize_with = "ordered")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<std::collections::BTreeMap<String, ActionSpec>>"))]
    pub actions: Option<Vec<(String, ActionSpec)>>,
    pub referral: Option<ReferralSpec>,
    pub tiers: Option<TiersSpec>,
    pub campaigns: Option<Vec<CampaignSpec>>,
    pub campaign_stacking: Option<Stacking>,
    pub pending: Option<PendingSpec>,
    pub pay_with_points: Option<PayWithPointsSpec>,
    pub memberships: Option<Vec<PlanSpec>>,
    pub donations: Option<DonationsSpec>,
    pub offers: Option<Vec<OfferSpec>>,
    pub brands: Option<Vec<BrandSpec>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EarnSpec {
    /// Points per major currency unit, a plain decimal ("10", "0.5").
    pub points_per_unit: String,
    pub rounding: Option<Rounding>,
    pub include_shipping: Option<bool>,
    pub include_tax: Option<bool>,
    pub carry_remainder: Option<bool>,
    pub min_order: Option<String>,
    pub rules: Option<Vec<ProductRuleSpec>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpirySpec {
    pub mode: ExpiryMode,
    /// An ISO 8601 duration of whole days, months or years ("P12M").
    pub after: String,
    pub warn_before: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RewardSpec {
    pub id: String,
    pub name: Option<String>,
    pub auto: Option<bool>,
    pub points: i64,
    pub coupon: CouponSpec,
    pub stock: Option<i64>,
    pub limit: Option<LimitSpec>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CouponSpec {
    #[serde(rename = "type")]
    pub kind: CouponKind,
    pub value: Option<String>,
    pub min_order: Option<String>,
    pub max_discount: Option<String>,
    pub valid_for: Option<String>,
    pub product: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    pub count: i64,
    /// day, week, month, year or lifetime.
    pub per: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    pub points: i64,
    pub limits: Option<LimitsSpec>,
}

/// Most times per period.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    pub day: Option<i64>,
    pub week: Option<i64>,
    pub month: Option<i64>,
    pub year: Option<i64>,
    pub lifetime: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReferralSpec {
    pub referrer_points: i64,
    pub friend_reward: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TiersSpec {
    pub basis: Basis,
    pub window: Option<Window>,
    pub retention: Option<RetentionSpec>,
    pub levels: Option<Vec<LevelSpec>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RetentionSpec {
    pub periods: Option<i64>,
    pub grace_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    pub name: String,
    /// An amount ("500.00") for the spend basis, a count for points and orders.
    pub threshold: Option<Threshold>,
    pub perks: Option<TierPerksSpec>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TierPerksSpec {
    pub multiplier: Option<String>,
    pub percent_off: Option<String>,
    pub free_shipping: Option<bool>,
    pub entry_reward: Option<String>,
    pub chosen_day_multiplier: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    pub id: String,
    pub multiplier: String,
    /// Local dates ("2026-12-24"), inclusive.
    pub from: Option<String>,
    pub until: Option<String>,
    /// ISO weekdays, 1 = Monday.
    pub weekdays: Option<Vec<i64>>,
    pub hours: Option<HoursSpec>,
    pub tiers: Option<Vec<String>>,
    #[serde(rename = "match")]
    pub matches: Option<MatchSpec>,
    pub joined_within_days: Option<i64>,
    pub priority: Option<i64>,
    pub exclusive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HoursSpec {
    /// Local times ("18:30").
    pub from: String,
    pub until: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    pub sku: Option<Vec<String>>,
    pub product_id: Option<Vec<String>>,
    pub category: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductRuleSpec {
    pub name: Option<String>,
    #[serde(rename = "match")]
    pub matches: MatchSpec,
    pub multiplier: Option<String>,
    pub exclude: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PendingSpec {
    pub window: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PayWithPointsSpec {
    pub points: i64,
    pub value: String,
    pub min_points: Option<i64>,
    pub max_points: Option<i64>,
    pub max_share: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    pub id: String,
    pub name: Option<String>,
    pub fee: String,
    pub period: Period,
    pub perks: Option<PlanPerksSpec>,
    pub dividend: Option<DividendSpec>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanPerksSpec {
    pub percent_off: Option<String>,
    pub free_shipping: Option<bool>,
    pub multiplier: Option<String>,
    pub monthly_reward: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DividendSpec {
    pub percent: String,
    pub valid_for: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DonationsSpec {
    pub charities: Option<Vec<CharitySpec>>,
    pub min_points: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CharitySpec {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OfferSpec {
    pub id: String,
    pub when: WhenSpec,
    pub reward: String,
}

/// Exactly one of the three.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WhenSpec {
    pub bought: Option<BoughtSpec>,
    pub no_order_for: Option<String>,
    pub nth_order: Option<i64>,
}

/// Exactly one of sku, product_id, category.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BoughtSpec {
    pub sku: Option<String>,
    pub product_id: Option<String>,
    pub category: Option<String>,
    pub times: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BrandSpec {
    pub id: String,
    pub name: Option<String>,
    pub points_per_unit: Option<String>,
}

/// A level's threshold: an amount or a count, checked against the tiers' basis.
#[derive(Debug)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), serde(untagged))]
pub enum Threshold {
    Amount(String),
    Count(i64),
}

/// By hand: serde's untagged enums buffer the value and lose the position of an error.
impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Threshold, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Threshold;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an amount string or a whole number")
            }
            fn visit_str<E>(self, s: &str) -> Result<Threshold, E> {
                Ok(Threshold::Amount(s.to_string()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Threshold, E> {
                Ok(Threshold::Count(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Threshold, E> {
                i64::try_from(n).map(Threshold::Count).map_err(|_| E::custom("is too large"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object read as its entries in the order written (a null as absent).
fn ordered<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Vec<(String, T)>>, D::Error> {
    struct Entries<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Entries<T> {
        type Value = Option<Vec<(String, T)>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(e) = m.next_entry()? {
                out.push(e);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(Entries(std::marker::PhantomData))
}
