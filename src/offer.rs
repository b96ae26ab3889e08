//! Personalised offers: a targeted coupon (a catalogue reward's, given, not bought) issued
//! once per customer when a rule over their purchase history first holds: bought a product
//! or category N times, no order for a while, or their Nth order.

use crate::error::At;
use crate::spec::OfferSpec;
use crate::context::Tx;
use crate::error::Result;
use crate::event::Order;
use crate::product::Match;
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
    pub fn check(o: OfferSpec, at: &At, known: &dyn Fn(&At, &str, Option<String>) -> Result<Option<String>>) -> Result<Offer> {
        if o.id.is_empty() {
            return Err(at.err("id", "must not be empty"));
        }
        let reward = known(at, "reward", Some(o.reward))?.unwrap_or_default();
        let w = o.when;
        let wa = at.key("when");
        let mut rules = Vec::new();
        if let Some(b) = w.bought {
            let ba = wa.key("bought");
            let mut matches = Match::default();
            let (sku, product, category) = (b.sku.is_some() as u8, b.product_id.is_some() as u8, b.category.is_some() as u8);
            if sku + product + category != 1 {
                return Err(ba.err("sku", "give exactly one of sku, product_id, category"));
            }
            let times = b.times.unwrap_or(1);
            if times <= 0 {
                return Err(ba.err("times", "must be a positive number"));
            }
            matches.skus.extend(b.sku);
            matches.product_ids.extend(b.product_id);
            matches.categories.extend(b.category);
            rules.push(When::Bought { matches, times });
        }
        if let Some(d) = wa.parsed("no_order_for", w.no_order_for.as_deref(), &Duration::parse)? {
            if d == Duration::default() {
                return Err(wa.err("no_order_for", "must be longer than zero"));
            }
            rules.push(When::NoOrderFor(d));
        }
        if let Some(n) = w.nth_order {
            if n <= 0 {
                return Err(wa.err("nth_order", "must be a positive number"));
            }
            rules.push(When::NthOrder(n));
        }
        let when = match rules.len() {
            1 => rules.remove(0),
            _ => return Err(wa.err("bought", "give exactly one of bought, no_order_for, nth_order")),
        };
        Ok(Offer { id: o.id, when, reward })
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
