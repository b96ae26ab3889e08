//! Store events in their canonical shape (DESIGN.md, "Events"), parsed and checked against
//! the program before any rule runs, so a bad event changes nothing.

use crate::error::Result;
use crate::program::Program;
use crate::time::parse_instant;
use crate::decode::{self, Obj, Path};
use crate::json::Value;

/// An event checked against the program: amounts in minor units, time in UTC milliseconds.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub at: i64,
    pub customer: Option<String>,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum Body {
    OrderPlaced(Order),
    OrderRefunded { order_id: String, refund: Refund },
    OrderCancelled { order_id: String },
    ActionCompleted { action: String, reference: Option<String> },
    PointsAdjusted { points: i64, reason: String, by: String },
    RewardRedeemed { reward: String },
    CouponUsed { code: String, order_id: Option<String> },
    CouponCancelled { code: String },
    /// `membership.started`, `.renewed` or `.cancelled` (the event type).
    Membership { kind: &'static str, plan: String },
    PointsDonated { charity: String, points: i64 },
    ClockTick,
}

#[derive(Debug, Clone)]
pub enum Refund {
    Lines(Vec<(String, i64)>),
    Amount(i64),
}

/// An order (or a cart, for quotes) with amounts in minor units.
#[derive(Debug, Clone, Default)]
pub struct Order {
    pub id: String,
    pub lines: Vec<Line>,
    pub shipping: i64,
    pub tax: i64,
    pub taxes_included: bool,
    pub coupon_codes: Vec<String>,
    /// Coalition programs: the brand (shop) the order was placed with.
    pub brand: Option<String>,
    /// Points the customer paid with (pay with points).
    pub points_spent: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Line {
    pub id: String,
    pub sku: Option<String>,
    pub product_id: Option<String>,
    pub categories: Vec<String>,
    pub quantity: i64,
    pub unit_price: i64,
    pub discount: i64,
}

impl Order {
    /// What the customer pays for the goods: every line's net, before shipping and tax;
    /// `None` past i64 (each line fits, their sum need not).
    pub fn goods(&self) -> Option<i64> {
        self.lines.iter().try_fold(0i64, |sum, l| sum.checked_add(l.net()))
    }
}

impl Line {
    /// What the customer pays for the line: price times quantity less its discount.
    pub fn net(&self) -> i64 {
        self.unit_price * self.quantity - self.discount
    }
}

pub const TYPES: &str = "order.placed, order.refunded, order.cancelled, action.completed, points.adjusted, reward.redeemed, coupon.used, coupon.cancelled, membership.started, membership.renewed, membership.cancelled, points.donated, clock.tick";

const EVENT_FIELDS: &[&str] = &["id", "type", "at", "customer", "order", "order_id", "lines", "amount", "action", "ref", "points", "reason", "by", "reward", "code", "plan", "charity"];
const ORDER_FIELDS: &[&str] = &["id", "currency", "lines", "shipping", "tax", "taxes_included", "coupon_codes", "brand", "points_spent"];
const CART_FIELDS: &[&str] = &["at", "id", "currency", "lines", "shipping", "tax", "taxes_included", "coupon_codes", "brand"];
const LINE_FIELDS: &[&str] = &["id", "sku", "product_id", "categories", "quantity", "unit_price", "discount"];

impl Event {
    pub fn parse(json: &str, program: &Program) -> Result<Event> {
        Event::read(&decode::parse("invalid_event", json)?, Path::Root(""), program)
    }

    /// Parses a JSON array of events, naming the index of a bad one (`[3].order.currency`).
    pub fn parse_many(json: &str, program: &Program) -> Result<Vec<Event>> {
        decode::items("invalid_event", &decode::parse("invalid_event", json)?, Path::Root(""), |v, p| Event::read(v, p, program))
    }

    fn read(v: &Value, path: Path, program: &Program) -> Result<Event> {
        let w = Obj::new("invalid_event", v, path, EVENT_FIELDS)?;
        let s = crate::sink::Sink::default();
        let id = s.take(w.str("id"));
        if id.is_empty() {
            return Err(s.first_or(w.err("id", "must not be empty")));
        }
        let kind = s.take(w.text("type"));
        let customer = s.take(w.opt_str("customer"));
        let at = s.take(w.parsed("at", parse_instant)).ok_or_else(|| s.first_or(w.err("at", "is required")))?;
        let need = |key: &str| -> Result<String> { s.take(w.opt_str(key)).ok_or_else(|| s.first_or(w.err(key, format!("is required for {kind}")))) };
        s.check()?;
        let body = match kind {
            "order.placed" => Body::OrderPlaced(order(&w.obj("order", ORDER_FIELDS)?, program)?),
            "order.refunded" => {
                let refund = match (s.take(w.opt_list("lines")), s.take(w.opt_str("amount"))) {
                    (Some(lines), None) => Refund::Lines(refund_lines(&w, lines)?),
                    (None, Some(_)) => Refund::Amount(amount(&w, "amount", program)?),
                    _ => return Err(w.err("lines", "order.refunded needs either lines or amount")),
                };
                Body::OrderRefunded { order_id: need("order_id")?, refund }
            }
            "order.cancelled" => Body::OrderCancelled { order_id: need("order_id")? },
            "action.completed" => Body::ActionCompleted { action: need("action")?, reference: s.take(w.opt_str("ref")) },
            "points.adjusted" => {
                let points = s.take(w.opt_int("points")).ok_or_else(|| s.first_or(w.err("points", "is required for points.adjusted")))?;
                if points == 0 {
                    return Err(s.first_or(w.err("points", "must not be zero")));
                }
                let reason = need("reason")?;
                if reason.trim().is_empty() {
                    return Err(s.first_or(w.err("reason", "must not be empty")));
                }
                Body::PointsAdjusted { points, reason, by: need("by")? }
            }
            "reward.redeemed" => Body::RewardRedeemed { reward: need("reward")? },
            "coupon.used" => Body::CouponUsed { code: need("code")?, order_id: s.take(w.opt_str("order_id")) },
            "coupon.cancelled" => Body::CouponCancelled { code: need("code")? },
            "membership.started" => Body::Membership { kind: "membership.started", plan: need("plan")? },
            "membership.renewed" => Body::Membership { kind: "membership.renewed", plan: need("plan")? },
            "membership.cancelled" => Body::Membership { kind: "membership.cancelled", plan: need("plan")? },
            "points.donated" => {
                let points = s.take(w.opt_int("points")).ok_or_else(|| s.first_or(w.err("points", "is required for points.donated")))?;
                if points <= 0 {
                    return Err(s.first_or(w.err("points", "must be a positive number of points")));
                }
                Body::PointsDonated { charity: need("charity")?, points }
            }
            "clock.tick" => Body::ClockTick,
            other => return Err(w.err("type", format!("unknown event type \"{other}\", expected one of {TYPES}"))),
        };
        if customer.as_deref() == Some("") {
            return Err(s.first_or(w.err("customer", "must not be empty")));
        }
        let needs_customer = !matches!(body, Body::ClockTick | Body::OrderRefunded { .. } | Body::OrderCancelled { .. });
        if needs_customer && customer.is_none() {
            return Err(s.first_or(w.err("customer", format!("is required for {kind}"))));
        }
        s.finish(Event { id, at, customer, body })
    }

    /// The order this event reads or writes, which the host loads for it.
    pub fn order_id(&self) -> Option<&str> {
        match &self.body {
            Body::OrderPlaced(o) => Some(&o.id),
            Body::OrderRefunded { order_id, .. } | Body::OrderCancelled { order_id } => Some(order_id),
            _ => None,
        }
    }
}

fn amount(o: &Obj, key: &str, program: &Program) -> Result<i64> {
    Ok(o.parsed(key, |s| crate::money::parse_amount(s, program.exponent))?.unwrap_or(0))
}

fn refund_lines(w: &Obj, lines: Vec<(Path, &Value)>) -> Result<Vec<(String, i64)>> {
    if lines.is_empty() {
        return Err(w.err("lines", "must not be empty (use amount for a refund without lines)"));
    }
    lines
        .into_iter()
        .map(|(path, v)| {
            let l = Obj::new("invalid_event", v, path, &["id", "quantity"])?;
            let quantity = l.int("quantity")?;
            if quantity <= 0 {
                return Err(l.err("quantity", "must be a positive whole number"));
            }
            Ok((l.str("id")?, quantity))
        })
        .collect()
}

/// Checks an order or cart against the program currency and converts its amounts.
fn order(o: &Obj, program: &Program) -> Result<Order> {
    let s = crate::sink::Sink::default();
    let currency = s.take(o.text("currency"));
    if currency != program.currency {
        return Err(s.first_or(o.err("currency", format!("\"{currency}\" but the program is in {}", program.currency))));
    }
    let mut lines: Vec<Line> = Vec::new();
    for (path, v) in s.take(o.list("lines")) {
        let l = Obj::new(o.code(), v, path, LINE_FIELDS)?;
        let quantity = s.take(l.int("quantity"));
        if !(1..=1_000_000).contains(&quantity) {
            return Err(s.first_or(l.err("quantity", "must be a whole number from 1 to 1000000")));
        }
        let unit_price = s.take(l.parsed("unit_price", |s| crate::money::parse_amount(s, program.exponent))).ok_or_else(|| s.first_or(l.err("unit_price", "is required")))?;
        let discount = amount(&l, "discount", program)?;
        let gross = unit_price.checked_mul(quantity).ok_or_else(|| s.first_or(l.err("unit_price", "is too large")))?;
        if discount > gross {
            return Err(s.first_or(l.err("discount", "is larger than the line's price times quantity")));
        }
        let id = s.take(l.str("id"));
        if lines.iter().any(|x| x.id == id) {
            return Err(s.first_or(l.err("id", format!("duplicate line id \"{id}\""))));
        }
        lines.push(Line { id, sku: s.take(l.opt_str("sku")), product_id: s.take(l.opt_str("product_id")), categories: s.take(l.str_list("categories")), quantity, unit_price, discount });
    }
    s.finish(Order {
        id: s.take(o.opt_str("id")).unwrap_or_else(|| "cart".into()),
        lines,
        shipping: amount(o, "shipping", program)?,
        tax: amount(o, "tax", program)?,
        taxes_included: s.take(o.bool_or("taxes_included", false)),
        coupon_codes: s.take(o.str_list("coupon_codes")),
        brand: match s.take(o.opt_str("brand")) {
            Some(b) if !program.brands.iter().any(|x| x.id == b) => {
                let known: Vec<&str> = program.brands.iter().map(|x| x.id.as_str()).collect();
                return Err(s.first_or(o.err("brand", format!("unknown brand \"{b}\" (the program has {})", if known.is_empty() { "no brands".to_string() } else { known.join(", ") }))));
            }
            b => b,
        },
        points_spent: match s.take(o.opt_int("points_spent")) {
            Some(n) if n < 0 => return Err(o.err("points_spent", "must not be negative")),
            n => n.unwrap_or(0),
        },
    })
}


/// A cart for `quote`: an order's shape plus the time to quote at.
pub fn parse_cart(json: &str, program: &Program) -> Result<(i64, Order)> {
    let v = decode::parse("invalid_cart", json)?;
    let c = Obj::new("invalid_cart", &v, Path::Root(""), CART_FIELDS)?;
    let at = c.parsed("at", parse_instant)?.ok_or_else(|| c.err("at", "is required"))?;
    Ok((at, order(&c, program)?))
}
