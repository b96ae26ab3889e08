//! Personalised offers: a targeted coupon (a catalogue reward's, given, not bought) issued
//! once per customer when a rule over their purchase history first holds: bought a product
//! or category N times, no order for a while, or their Nth order.

use crate::decode::{Obj, Path};
use crate::engine::Tx;
use crate::error::Result;
use crate::event::Order;
use crate::json::Value;
use crate::product::{Match, MATCH_FIELDS};
use crate::time::Duration;

#[derive(Debug, Clone)]
pub struct Offer {
    pub id: String,
    pub when: When,
    pub reward: String,
}

#[derive(Debug, Clone)]
pub enum When {
    /// Units bought of lines matching one sku, product_id or category.
    Bought { matches: Match, times: i64 },
    NoOrderFor(Duration),
    NthOrder(i64),
}

impl Offer {
    pub fn read(v: &Value, path: Path, known: &dyn Fn(&Obj, &str) -> Result<Option<String>>) -> Result<Offer> {
        let o = Obj::new("invalid_program", v, path, &["id", "when", "reward"])?;
        let s = crate::sink::Sink::default();
        let id = s.take(o.str("id"));
        if id.is_empty() {
            return Err(s.first_or(o.err("id", "must not be empty")));
        }
        let reward = known(&o, "reward")?.ok_or_else(|| s.first_or(o.err("reward", "is required")))?;
        let w = o.obj("when", &["bought", "no_order_for", "nth_order"])?;
        let mut rules = Vec::new();
        if let Some(b) = s.take(w.opt_obj("bought", &["sku", "product_id", "category", "times"])) {
            let set: Vec<&str> = MATCH_FIELDS.iter().copied().filter(|k| b.get(k).is_some()).collect();
            let [field] = set[..] else { return Err(b.err("sku", "give exactly one of sku, product_id, category")) };
            let times = s.take(b.int_or("times", 1));
            if times <= 0 {
                return Err(s.first_or(b.err("times", "must be a positive number")));
            }
            let (value, mut matches) = (s.take(b.str(field)), Match::default());
            match field {
                "sku" => matches.skus.push(value),
                "product_id" => matches.product_ids.push(value),
                _ => matches.categories.push(value),
            }
            rules.push(When::Bought { matches, times });
        }
        if let Some(d) = s.take(w.parsed("no_order_for", Duration::parse)) {
            if d == Duration::default() {
                return Err(s.first_or(w.err("no_order_for", "must be longer than zero")));
            }
            rules.push(When::NoOrderFor(d));
        }
        if let Some(n) = s.take(w.opt_int("nth_order")) {
            if n <= 0 {
                return Err(s.first_or(w.err("nth_order", "must be a positive number")));
            }
            rules.push(When::NthOrder(n));
        }
        let when = match rules.len() {
            1 => rules.remove(0),
            _ => return Err(w.err("bought", "give exactly one of bought, no_order_for, nth_order")),
        };
        s.finish(Offer { id, when, reward })
    }
}

fn issue(tx: &mut Tx, offer: &Offer) {
    tx.account.offers.push(offer.id.clone());
    if let Some(r) = tx.program.reward(&offer.reward) {
        crate::reward::gift(tx, r);
    }
}

/// After an order is placed (and counted): purchase counts grow, and offers whose rule now
/// holds are issued.
pub fn on_order(tx: &mut Tx, order: &Order) {
    let program = tx.program;
    // The newest order placed: an older one arriving late does not move it back.
    tx.account.last_order = tx.account.last_order.max(Some(tx.at));
    for offer in &program.offers {
        if tx.account.offers.contains(&offer.id) {
            continue;
        }
        let holds = match &offer.when {
            When::Bought { matches, times } => {
                let units: i64 = order.lines.iter().filter(|l| matches.matches(l)).map(|l| l.quantity).sum();
                let bought = &mut tx.account.bought;
                let n = match bought.iter_mut().find(|b| b.0 == offer.id) {
                    Some(b) => {
                        b.1 += units;
                        b.1
                    }
                    None if units > 0 => {
                        bought.push((offer.id.clone(), units));
                        units
                    }
                    None => 0,
                };
                n >= *times
            }
            When::NthOrder(n) => tx.account.lifetime.orders == *n,
            When::NoOrderFor(_) => false,
        };
        if holds {
            tx.account.bought.retain(|b| b.0 != offer.id);
            issue(tx, offer);
        }
    }
}

fn winback_due(tx: &Tx, offer: &Offer) -> Option<i64> {
    let When::NoOrderFor(d) = &offer.when else { return None };
    let last = tx.account.last_order?;
    Some(tx.program.zone.reached(last, d))
}

/// Win-back offers whose quiet period has passed by `now`.
pub fn advance(tx: &mut Tx, now: i64) {
    let program = tx.program;
    for offer in &program.offers {
        if !tx.account.offers.contains(&offer.id) && winback_due(tx, offer).is_some_and(|d| d <= now) {
            issue(tx, offer);
        }
    }
}

pub fn next_due(tx: &Tx) -> Option<i64> {
    tx.program.offers.iter().filter(|o| !tx.account.offers.contains(&o.id)).filter_map(|o| winback_due(tx, o)).min()
}
