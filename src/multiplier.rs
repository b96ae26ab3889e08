//! What multiplies a line's points when an order is placed: the product rule that matches
//! it, the campaigns running at that moment, the tier's earn perk and the customer's chosen
//! day. `apply` and `quote` both use this, so a cart preview shows what the order earns.

use crate::campaign::{self, Campaign};
use crate::event::Line;
use crate::ledger::Account;
use crate::product;
use crate::program::Program;
use crate::ratio::Ratio;

pub struct Multipliers<'p> {
    program: &'p Program,
    running: Vec<&'p Campaign>,
    /// Tier perk x chosen day: applies to every line and to shipping.
    base: Ratio,
    base_rules: Vec<String>,
}

fn times(a: Ratio, text: &str) -> Ratio {
    Ratio::parse_decimal(text).ok().and_then(|m| a.checked_mul(m)).unwrap_or(a)
}

impl<'p> Multipliers<'p> {
    pub fn new(program: &'p Program, account: &Account, at: i64) -> Multipliers<'p> {
        let zone = &program.zone;
        let tier = account.tier.as_deref();
        let running = program.campaigns.iter().filter(|c| c.active(zone, at, tier, account.joined)).collect();
        let (mut base, mut base_rules) = (Ratio::int(1), Vec::new());
        if let Some(level) = program.tiers.as_ref().and_then(|t| t.level(tier)) {
            if let Some(m) = &level.perks.multiplier {
                base = times(base, m);
                base_rules.push(format!("tier:{}", level.name));
            }
            if let (Some(m), Some(day)) = (&level.perks.chosen_day_multiplier, account.chosen_day) {
                if zone.local_date(at) == day {
                    base = times(base, m);
                    base_rules.push("chosen_day".to_string());
                }
            }
        }
        if let Some(plan) = crate::membership::active(program, account.membership.as_ref(), at).filter(|p| p.perks.multiplier.is_some()) {
            base = times(base, plan.perks.multiplier.as_deref().unwrap_or("1"));
            base_rules.push(format!("membership:{}", plan.id));
        }
        Multipliers { program, running, base, base_rules }
    }

    /// Each line's multiplier (product rule x campaigns x base), none when every line's is
    /// the base (`base`), and every rule that fired on any line, once each, in order: one
    /// pass over the lines, each rule's name made once.
    pub fn lines(&self, lines: &[Line]) -> (Vec<Ratio>, Vec<String>) {
        // No product rules and no campaign running (most programs, most of the time): every
        // line gets the base, as the general case below would compute it (1 x 1 x base).
        if self.program.earn.rules.is_empty() && self.running.is_empty() {
            let rules = if self.base.is_zero() || lines.is_empty() { Vec::new() } else { self.base_rules.clone() };
            return (Vec::new(), rules);
        }
        let mut ratios = Vec::with_capacity(lines.len());
        let mut all: Vec<String> = Vec::new();
        for l in lines {
            let (product, rule) = product::line_multiplier(&self.program.earn.rules, l);
            let (campaigns, applied) = campaign::line_multiplier(&self.running, self.program.stacking, l);
            let m = product.checked_mul(campaigns).and_then(|m| m.checked_mul(self.base)).unwrap_or(product);
            let named = rule.map(|r| format!("product:{}", r.name)).into_iter().chain(applied.iter().map(|c| format!("campaign:{}", c.id)));
            for r in named {
                if !all.contains(&r) {
                    all.push(r);
                }
            }
            if !m.is_zero() {
                for r in &self.base_rules {
                    if !all.contains(r) {
                        all.push(r.clone());
                    }
                }
            }
            ratios.push(m);
        }
        (ratios, all)
    }

    pub fn base(&self) -> Ratio {
        self.base
    }
}
