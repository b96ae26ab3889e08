//! Product rules: which lines earn and at what multiplier, matched by SKU, product id or
//! category (gift cards earn nothing, shoes earn double). The first matching rule wins, so
//! the merchant orders them from specific to general.

use crate::decode::{Obj, Path};
use crate::error::Result;
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
    pub fn read(o: &Obj) -> Result<Match> {
        let m = Match { skus: o.str_list("sku")?, product_ids: o.str_list("product_id")?, categories: o.str_list("category")? };
        if m.is_all() {
            return Err(o.err("sku", "name at least one sku, product_id or category"));
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

pub const MATCH_FIELDS: &[&str] = &["sku", "product_id", "category"];

impl Rule {
    /// Reads `{name?, match: {sku, product_id, category}, multiplier | exclude: true}`.
    pub fn read(code: &'static str, v: &crate::json::Value, path: Path) -> Result<Rule> {
        let r = Obj::new(code, v, path, &["name", "match", "multiplier", "exclude"])?;
        let matches = Match::read(&r.obj("match", MATCH_FIELDS)?)?;
        let exclude = r.bool_or("exclude", false)?;
        let multiplier = r.parsed("multiplier", Ratio::parse_decimal)?;
        let multiplier = match (exclude, multiplier) {
            (true, None) => None,
            (false, Some(m)) => Some(m),
            (true, Some(_)) => return Err(r.err("multiplier", "an excluding rule takes no multiplier")),
            (false, None) => return Err(r.err("multiplier", "is required unless the rule has exclude: true")),
        };
        Ok(Rule { name: r.opt_str("name")?.unwrap_or_else(|| path.render()), matches, multiplier })
    }
}

/// The multiplier product rules give a line (0 when excluded) and the rule that decided it.
pub fn line_multiplier<'r>(rules: &'r [Rule], l: &Line) -> (Ratio, Option<&'r Rule>) {
    match rules.iter().find(|r| r.matches.matches(l)) {
        Some(r) => (r.multiplier.unwrap_or_default(), Some(r)),
        None => (Ratio::int(1), None),
    }
}
