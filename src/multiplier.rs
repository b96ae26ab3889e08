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

    /// A line's multiplier and the rules that set it.
    pub fn line(&self, l: &Line) -> (Ratio, Vec<String>) {
        // No product rules and no campaign running (most programs, most of the time): every
        // line gets the base, as the general case below would compute it (1 x 1 x base).
        if self.program.earn.rules.is_empty() && self.running.is_empty() {
            return (self.base, if self.base.is_zero() { Vec::new() } else { self.base_rules.clone() });
        }
        let (product, rule) = product::line_multiplier(&self.program.earn.rules, l);
        let (campaigns, applied) = campaign::line_multiplier(&self.running, self.program.stacking, l);
        let m = product.checked_mul(campaigns).and_then(|m| m.checked_mul(self.base)).unwrap_or(product);
        let mut rules: Vec<String> = rule.map(|r| format!("product:{}", r.name)).into_iter().collect();
        rules.extend(applied.iter().map(|c| format!("campaign:{}", c.id)));
        if !m.is_zero() {
            rules.extend(self.base_rules.iter().cloned());
        }
        (m, rules)
    }

    pub fn shipping(&self) -> Ratio {
        self.base
    }

    /// Every rule that fired on any line, once each, in order.
    pub fn rules(&self, lines: &[Line]) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for l in lines {
            for r in self.line(l).1 {
                if !all.contains(&r) {
                    all.push(r);
                }
            }
        }
        all
    }
}
