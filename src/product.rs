//! Product rules: which lines earn and at what multiplier, matched by SKU, product id or
//! category (gift cards earn nothing, shoes earn double). The first matching rule wins, so
//! the merchant orders them from specific to general.

use crate::error::{At, Result};
use crate::spec::{MatchSpec, ProductRuleSpec};
use crate::event::Line;
use crate::ratio::Ratio;

/// Lines a rule or campaign applies to: any listed SKU, product id or category.
#[derive(Debug, Clone, Default)]
pub struct Match {
    pub skus: Vec<String>,
    pub product_ids: Vec<String>,
    pub categories: Vec<String>,
}

impl Match {
    pub fn check(m: MatchSpec, at: &At) -> Result<Match> {
        let m = Match { skus: m.sku.unwrap_or_default(), product_ids: m.product_id.unwrap_or_default(), categories: m.category.unwrap_or_default() };
        if m.is_all() {
            return Err(at.err("sku", "name at least one sku, product_id or category"));
        }
        Ok(m)
    }

    /// An empty match means every line.
    pub fn is_all(&self) -> bool {
        self.skus.is_empty() && self.product_ids.is_empty() && self.categories.is_empty()
    }

    pub fn matches(&self, l: &Line) -> bool {
        self.is_all()
            || l.sku.as_deref().is_some_and(|s| self.skus.iter().any(|x| x == s))
            || l.product_id.as_deref().is_some_and(|p| self.product_ids.iter().any(|x| x == p))
            || l.categories.iter().any(|c| self.categories.iter().any(|x| *x == **c))
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub matches: Match,
    /// `None` excludes the line from earning.
    pub multiplier: Option<Ratio>,
}

impl Rule {
    /// Checks `{name?, match: {sku, product_id, category}, multiplier | exclude: true}`.
    pub fn check(r: ProductRuleSpec, at: &At) -> Result<Rule> {
        let matches = Match::check(r.matches, &at.key("match"))?;
        let multiplier = at.parsed("multiplier", r.multiplier.as_deref(), &Ratio::parse_decimal)?;
        let multiplier = match (r.exclude.unwrap_or(false), multiplier) {
            (true, None) => None,
            (false, Some(m)) => Some(m),
            (true, Some(_)) => return Err(at.err("multiplier", "an excluding rule takes no multiplier")),
            (false, None) => return Err(at.err("multiplier", "is required unless the rule has exclude: true")),
        };
        Ok(Rule { name: r.name.unwrap_or_else(|| at.path.clone()), matches, multiplier })
    }
}

/// The multiplier product rules give a line (0 when excluded) and the rule that decided it.
pub fn line_multiplier<'r>(rules: &'r [Rule], l: &Line) -> (Ratio, Option<&'r Rule>) {
    match rules.iter().find(|r| r.matches.matches(l)) {
        Some(r) => (r.multiplier.unwrap_or_default(), Some(r)),
        None => (Ratio::int(1), None),
    }
}
