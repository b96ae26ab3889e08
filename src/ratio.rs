//! Exact fractions of points. Earning multiplies money by decimal rates and multipliers;
//! keeping the exact value per line is what lets a refund reverse precisely what was earned,
//! and rounding happens once per order, never per line.

use crate::money::mul;
use std::cmp::Ordering;

/// `num / den` with `den > 0`, always reduced. Serialised as `"num/den"` (JSON numbers would
/// lose precision in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    num: i128,
    den: i128,
}

pub const ZERO: Ratio = Ratio { num: 0, den: 1 };
const ONE: Ratio = Ratio { num: 1, den: 1 };

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    Floor,
    Round,
    Ceil,
}

/// Binary GCD of two u64: shifts and subtractions, no division.
fn gcd64(mut x: u64, mut y: u64) -> u64 {
    if x == 0 || y == 0 {
        return x | y;
    }
    // Whole numbers (denominator 1) are the common case, and the loop below would take one
    // step per bit of the other value to find 1.
    if x == 1 || y == 1 {
        return 1;
    }
    let shift = (x | y).trailing_zeros();
    x >>= x.trailing_zeros();
    loop {
        y >>= y.trailing_zeros();
        if x > y {
            std::mem::swap(&mut x, &mut y);
        }
        y -= x;
        if y == 0 {
            return x << shift;
        }
    }
}

/// Binary GCD, with a u64 fast path, because 128-bit division is slow (emulated in wasm).
fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    if a == 0 || b == 0 {
        return (a | b) as i128;
    }
    if a <= u64::MAX as u128 && b <= u64::MAX as u128 {
        return gcd64(a as u64, b as u64) as i128;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return (a << shift) as i128;
        }
    }
}

/// `str::parse::<i128>` (an optional sign, then digits), without its generic code.
fn parse_i128(s: &str) -> Option<i128> {
    let (neg, digits) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        b => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i128 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // Built on the sign's side so that i128::MIN parses.
        n = n.checked_mul(10)?;
        n = if neg { n.checked_sub(d as i128)? } else { n.checked_add(d as i128)? };
    }
    Some(n)
}

/// `an/ad + bn/bd` in i64 (denominators positive, fractions reduced); `None` when a step
/// overflows i64, for the i128 path to redo. (`checked_div` only to spare the panic paths:
/// the divisors are never zero.)
fn add64(an: i64, ad: i64, bn: i64, bd: i64) -> Option<Ratio> {
    let g = gcd64(ad as u64, bd as u64) as i64;
    let (ad_g, bd_g) = (ad.checked_div(g)?, bd.checked_div(g)?);
    let den = mul(ad_g, bd)?;
    let num = mul(an, bd_g)?.checked_add(mul(bn, ad_g)?)?;
    // With coprime denominators (whole numbers among them) the sum is already reduced: a
    // prime of `ad` divides `an * bd` not at all and `bn * ad` wholly (Knuth, 4.5.1).
    if g == 1 {
        return Some(Ratio { num: num as i128, den: den as i128 });
    }
    let g = gcd64(num.unsigned_abs(), den as u64) as i64;
    Some(Ratio { num: num.checked_div(g)? as i128, den: den.checked_div(g)? as i128 })
}

/// `an/ad x bn/bd` in i64, or `None` on overflow. Cross-reducing two reduced fractions
/// leaves a reduced product, so no final GCD is needed.
fn mul64(an: i64, ad: i64, bn: i64, bd: i64) -> Option<Ratio> {
    let g1 = gcd64(an.unsigned_abs(), bd as u64) as i64;
    let g2 = gcd64(bn.unsigned_abs(), ad as u64) as i64;
    let num = mul(an.checked_div(g1)?, bn.checked_div(g2)?)?;
    Some(Ratio { num: num as i128, den: mul(ad.checked_div(g2)?, bd.checked_div(g1)?)? as i128 })
}

impl Rounding {
    pub fn name(self) -> &'static str {
        match self {
            Rounding::Floor => "floor",
            Rounding::Round => "round",
            Rounding::Ceil => "ceil",
        }
    }
}

impl Ratio {
    /// `None` when the denominator is zero or the value overflows.
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        let sign = if den < 0 { -1 } else { 1 };
        Some(Ratio { num: sign * num / g, den: sign * den / g })
    }
    pub fn int(n: i64) -> Ratio {
        Ratio { num: n as i128, den: 1 }
    }
    /// Parses a plain non-negative decimal (`"10"`, `"0.01"`, `"1.5"`).
    pub fn parse_decimal(s: &str) -> Result<Ratio, String> {
        let (units, frac) = crate::money::parse_decimal(s)?;
        if units.len() + frac.len() > 30 {
            return Err(format!("\"{s}\" has too many digits"));
        }
        let num = crate::money::digits_value(&[units, frac]).and_then(|n| i128::try_from(n).ok());
        let num = num.ok_or_else(|| format!("\"{s}\" is too large"))?;
        Ratio::new(num, 10i128.pow(frac.len() as u32)).ok_or_else(|| format!("\"{s}\" is invalid"))
    }
    /// Parses the stored form `"num/den"` (or a whole number).
    pub fn parse_fraction(s: &str) -> Result<Ratio, String> {
        let (n, d) = s.split_once('/').unwrap_or((s, "1"));
        let bad = || format!("invalid fraction \"{s}\"");
        Ratio::new(parse_i128(n).ok_or_else(bad)?, parse_i128(d).ok_or_else(bad)?).ok_or_else(bad)
    }
    pub fn is_zero(self) -> bool {
        self.num == 0
    }
    /// Numerator and (positive) denominator, reduced: `new` of them gives the same ratio.
    pub fn parts(self) -> (i128, i128) {
        (self.num, self.den)
    }
    /// Both parts as i64, when they fit: the fast path of the arithmetic below. Points and
    /// money stay far below 2^63, and i128 is slow everywhere (emulated in wasm), so the i128
    /// code only runs when an i64 step would overflow; both give the same reduced result.
    fn small(self) -> Option<(i64, i64)> {
        Some((i64::try_from(self.num).ok()?, i64::try_from(self.den).ok()?))
    }
    pub fn checked_add(self, o: Ratio) -> Option<Ratio> {
        if let (Some((an, ad)), Some((bn, bd))) = (self.small(), o.small()) {
            if let Some(r) = add64(an, ad, bn, bd) {
                return Some(r);
            }
        }
        let g = gcd(self.den, o.den).max(1);
        let den = (self.den / g).checked_mul(o.den)?;
        let num = self.num.checked_mul(o.den / g)?.checked_add(o.num.checked_mul(self.den / g)?)?;
        Ratio::new(num, den)
    }
    pub fn checked_sub(self, o: Ratio) -> Option<Ratio> {
        self.checked_add(Ratio { num: -o.num, den: o.den })
    }
    pub fn checked_mul(self, o: Ratio) -> Option<Ratio> {
        // Times one (no tax factor, no multiplier) is the usual case.
        if o == ONE {
            return Some(self);
        }
        if let (Some((an, ad)), Some((bn, bd))) = (self.small(), o.small()) {
            if let Some(r) = mul64(an, ad, bn, bd) {
                return Some(r);
            }
        }
        // Cross-reduce first so the products stay small.
        let g1 = gcd(self.num, o.den).max(1);
        let g2 = gcd(o.num, self.den).max(1);
        let num = (self.num / g1).checked_mul(o.num / g2)?;
        let den = (self.den / g2).checked_mul(o.den / g1)?;
        Ratio::new(num, den)
    }
    pub fn max(self, o: Ratio) -> Ratio {
        if self >= o { self } else { o }
    }
    pub fn floor(self) -> i128 {
        match self.small().and_then(|(n, d)| n.checked_div_euclid(d)) {
            Some(f) => f as i128,
            None => self.num.div_euclid(self.den),
        }
    }
    pub fn ceil(self) -> i128 {
        -((-self.num).div_euclid(self.den))
    }
    /// Half away from zero, the way shoppers expect 0.5 to round.
    pub fn round_half_up(self) -> i128 {
        let twice = Ratio { num: self.num * 2 + self.den, den: self.den * 2 };
        twice.floor()
    }
    /// `floor(self% of amount)`, 0 when it overflows: a percent coupon's discount, the
    /// pay-with-points cap, a membership dividend, all in minor units.
    pub fn percent_of(self, amount: i64) -> i64 {
        Ratio::int(amount).checked_mul(self).and_then(|r| r.checked_mul(Ratio::new(1, 100)?)).and_then(|r| r.round(Rounding::Floor)).unwrap_or(0)
    }
    pub fn round(self, mode: Rounding) -> Option<i64> {
        let n = match mode {
            Rounding::Floor => self.floor(),
            Rounding::Ceil => self.ceil(),
            Rounding::Round => self.round_half_up(),
        };
        i64::try_from(n).ok()
    }
}

impl Default for Ratio {
    fn default() -> Self {
        ZERO
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ratio {
    fn cmp(&self, o: &Self) -> Ordering {
        // Whole numbers (mostly) compare by numerator: no 128-bit products, which wasm
        // makes in software.
        if self.den == 1 && o.den == 1 {
            return self.num.cmp(&o.num);
        }
        // Values in this engine stay far below the i128 range, so cross products fit.
        (self.num.saturating_mul(o.den)).cmp(&o.num.saturating_mul(self.den))
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl Ratio {
    /// The stored form (`Display`): `num` or `num/den`, without the formatting machinery.
    pub fn text(&self) -> String {
        let mut s = String::new();
        if self.num < 0 {
            s.push('-');
        }
        crate::money::push_digits(&mut s, self.num.unsigned_abs(), 1);
        if self.den != 1 {
            s.push('/');
            crate::money::push_digits(&mut s, self.den.unsigned_abs(), 1);
        }
        s
    }
}

/// A ratio stored as its exact text (`num` or `num/den`): `#[serde(with = "fraction")]`.
pub mod fraction {
    use super::Ratio;

    pub fn serialize<S: serde::Serializer>(r: &Ratio, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&r.text())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Ratio, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Ratio::parse_fraction(&s).map_err(serde::de::Error::custom)
    }

    pub fn is_zero(r: &Ratio) -> bool {
        r.is_zero()
    }

    /// The schema of a ratio's text, for `#[schemars(with = "fraction::Text")]` beside
    /// `#[serde(with = "fraction")]` (schemars cannot see through a serde module).
    #[cfg(feature = "schema")]
    pub struct Text;

    #[cfg(feature = "schema")]
    text_schema!(Text, "Fraction", { "pattern": "^-?[0-9]+(/[0-9]+)?$", "description": "An exact fraction, `num` or `num/den`." });

    use serde::Deserialize;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact() {
        let a = Ratio::parse_decimal("0.1").unwrap();
        let b = Ratio::parse_decimal("0.2").unwrap();
        assert_eq!(a.checked_add(b), Ratio::parse_decimal("0.3").ok());
        assert_eq!(Ratio::new(10, 4).unwrap().to_string(), "5/2");
        assert_eq!(Ratio::new(3, -6).unwrap().to_string(), "-1/2");
    }

    #[test]
    fn gcd_matches_euclid() {
        let euclid = |mut a: i128, mut b: i128| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a.abs()
        };
        for (a, b) in [(0, 5), (5, 0), (12, 18), (-12, 18), (1 << 70, 6 << 60), (999_983, 1_000_003), (i64::MAX as i128, 3)] {
            assert_eq!(gcd(a, b), euclid(a, b), "gcd({a}, {b})");
        }
    }

    #[test]
    fn rounding_modes() {
        let r = |n, d| Ratio::new(n, d).unwrap();
        assert_eq!(r(5, 2).round(Rounding::Floor), Some(2));
        assert_eq!(r(5, 2).round(Rounding::Round), Some(3));
        assert_eq!(r(5, 2).round(Rounding::Ceil), Some(3));
        assert_eq!(r(9, 4).round(Rounding::Round), Some(2));
        assert_eq!(r(-5, 2).round(Rounding::Floor), Some(-3));
        assert_eq!(r(4, 2).round(Rounding::Ceil), Some(2));
    }

    #[test]
    fn text_round_trip() {
        let r = Ratio::new(7, 3).unwrap();
        assert_eq!(r.text(), "7/3");
        assert_eq!(Ratio::new(-14, 2).unwrap().text(), "-7");
        assert_eq!(Ratio::parse_fraction("7/3"), Ok(r));
        assert!(Ratio::parse_fraction("1/0").is_err());
        assert!(Ratio::parse_fraction("x").is_err());
        // parse_i128 accepts exactly what `str::parse::<i128>` does.
        let max = i128::MAX.to_string();
        let min = i128::MIN.to_string();
        let over = "170141183460469231731687303715884105728";
        for t in ["0", "7", "+7", "-7", "-0", "007", "", "+", "-", "+-1", "1 ", " 1", "1e3", "1.0", "x", &max, &min, over, "-170141183460469231731687303715884105729"] {
            assert_eq!(parse_i128(t), t.parse::<i128>().ok(), "{t:?}");
        }
    }

    #[test]
    fn text_is_display_of_num_and_den() {
        for (n, d) in [(0, 1), (5, 1), (-5, 1), (7, 3), (-7, 3), (i128::MAX, 1), (i128::MIN + 1, 1), (i128::MAX, 2), (-(1i128 << 100), 3)] {
            let r = Ratio::new(n, d).unwrap();
            let want = if r.den == 1 { format!("{}", r.num) } else { format!("{}/{}", r.num, r.den) };
            assert_eq!((r.text(), r.to_string()), (want.clone(), want));
        }
    }

    /// The i128 arithmetic the i64 fast paths must agree with, as it was before them.
    fn slow_add(a: Ratio, b: Ratio) -> Option<Ratio> {
        let g = gcd(a.den, b.den).max(1);
        let den = (a.den / g).checked_mul(b.den)?;
        Ratio::new(a.num.checked_mul(b.den / g)?.checked_add(b.num.checked_mul(a.den / g)?)?, den)
    }
    fn slow_mul(a: Ratio, b: Ratio) -> Option<Ratio> {
        let (g1, g2) = (gcd(a.num, b.den).max(1), gcd(b.num, a.den).max(1));
        Ratio::new((a.num / g1).checked_mul(b.num / g2)?, (a.den / g2).checked_mul(b.den / g1)?)
    }

    #[test]
    fn fast_paths_match_i128_near_overflow() {
        let m = i64::MAX as i128;
        let parts: Vec<i128> = vec![
            0, 1, 2, 3, 7, 10, 100, 1000, 999_983, 1 << 31, (1 << 32) + 1, 3i128.pow(39), 10i128.pow(18), 1 << 62, (1 << 62) - 1,
            m - 1, m, m + 1, m + 2, 1 << 64, 3 * (1 << 62), 6_700_417 * 641, 2 * 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23 * 29 * 31 * 37 * 41 * 43 * 47,
        ];
        let mut all = Vec::new();
        for &n in &parts {
            for &d in &parts {
                for n in [n, -n, -n - 1] {
                    if let Some(r) = Ratio::new(n, d) {
                        all.push(r);
                    }
                }
            }
        }
        for &a in &all {
            assert_eq!(a.floor(), a.num.div_euclid(a.den), "{a}");
            assert_eq!(a.ceil(), -((-a.num).div_euclid(a.den)), "{a}");
            if a.num.checked_mul(2).and_then(|n| n.checked_add(a.den)).is_some() && a.den.checked_mul(2).is_some() {
                assert_eq!(a.round_half_up(), (a.num * 2 + a.den).div_euclid(a.den * 2), "{a}");
            }
            for &b in &all {
                assert_eq!(a.checked_add(b), slow_add(a, b), "{a} + {b}");
                assert_eq!(a.checked_mul(b), slow_mul(a, b), "{a} x {b}");
                assert_eq!(a.cmp(&b), a.num.saturating_mul(b.den).cmp(&b.num.saturating_mul(a.den)), "{a} <=> {b}");
            }
        }
    }
}
