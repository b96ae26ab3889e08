//! Store events in their canonical shape (DESIGN.md, "Events"), parsed and checked against
//! the program before any rule runs, so a bad event changes nothing.

use crate::error::{Error, Result};
use crate::program::Program;
use crate::time::parse_instant;
use serde::Deserialize;

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

/// An event as it arrives (DESIGN.md, "Events"): one flat object whose `type` says which of
/// the optional fields it needs (`LoyaltyEvent` lists them per type). Amounts stay text until
/// checked against the program.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub customer: Option<String>,
    pub order: Option<OrderIn>,
    pub order_id: Option<String>,
    pub lines: Option<Vec<RefundLineIn>>,
    pub amount: Option<String>,
    pub action: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub points: Option<i64>,
    pub reason: Option<String>,
    pub by: Option<String>,
    pub reward: Option<String>,
    pub code: Option<String>,
    pub plan: Option<String>,
    pub charity: Option<String>,
}

#[cfg_attr(test, derive(serde::Serialize))]
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    pub id: Option<String>,
    pub currency: String,
    pub lines: Option<Vec<LineIn>>,
    pub shipping: Option<String>,
    pub tax: Option<String>,
    pub taxes_included: Option<bool>,
    pub coupon_codes: Option<Vec<String>>,
    /// Coalition programs: the brand (shop) the order was placed with.
    pub brand: Option<String>,
    pub points_spent: Option<i64>,
}

/// A cart for `quote`: an order's shape (without points spent) plus the time to quote at.
/// Its fields repeat `OrderIn`'s because serde cannot flatten into a struct that refuses
/// unknown fields; `parse_cart` reads it as that order.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CartIn {
    pub at: String,
    pub id: Option<String>,
    pub currency: String,
    pub lines: Option<Vec<LineIn>>,
    pub shipping: Option<String>,
    pub tax: Option<String>,
    pub taxes_included: Option<bool>,
    pub coupon_codes: Option<Vec<String>>,
    pub brand: Option<String>,
}

#[cfg_attr(test, derive(serde::Serialize))]
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    pub id: String,
    pub sku: Option<String>,
    pub product_id: Option<String>,
    pub categories: Option<Vec<String>>,
    pub quantity: i64,
    pub unit_price: String,
    pub discount: Option<String>,
}

#[cfg_attr(test, derive(serde::Serialize))]
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundLineIn {
    pub id: String,
    pub quantity: i64,
}

/// The events as a union by `type`, each variant with exactly the fields `Event::check` reads
/// for it (required or optional as it reads them), where `EventIn` is the one flat object
/// serde reads. For the schema and TypeScript (`LoyaltyEvent`) only: the parser stays on
/// `EventIn`, so its errors and their paths do not change. The test below parses every
/// variant with the real parser.
#[cfg(any(test, feature = "schema"))]
pub mod union {
    use super::{OrderIn, RefundLineIn};

    /// An event as it arrives (DESIGN.md, "Events"): `type` says which fields it has.
    #[cfg_attr(test, derive(serde::Serialize))]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[serde(tag = "type")]
    pub enum LoyaltyEvent {
        #[serde(rename = "order.placed")]
        OrderPlaced { id: String, at: String, customer: String, order: OrderIn },
        /// A refund of some lines (quantities per line id).
        #[serde(rename = "order.refunded")]
        OrderRefundedLines { id: String, at: String, customer: Option<String>, order_id: String, lines: Vec<RefundLineIn> },
        /// A refund by amount, for refunds without lines.
        #[serde(rename = "order.refunded")]
        OrderRefundedAmount { id: String, at: String, customer: Option<String>, order_id: String, amount: String },
        #[serde(rename = "order.cancelled")]
        OrderCancelled { id: String, at: String, customer: Option<String>, order_id: String },
        #[serde(rename = "action.completed")]
        ActionCompleted {
            id: String,
            at: String,
            customer: String,
            action: String,
            #[serde(rename = "ref")]
            reference: Option<String>,
        },
        #[serde(rename = "points.adjusted")]
        PointsAdjusted { id: String, at: String, customer: String, points: i64, reason: String, by: String },
        #[serde(rename = "reward.redeemed")]
        RewardRedeemed { id: String, at: String, customer: String, reward: String },
        #[serde(rename = "coupon.used")]
        CouponUsed { id: String, at: String, customer: String, code: String, order_id: Option<String> },
        /// Withdraws an unused coupon: its points come back.
        #[serde(rename = "coupon.cancelled")]
        CouponCancelled { id: String, at: String, customer: String, code: String },
        #[serde(rename = "membership.started")]
        MembershipStarted { id: String, at: String, customer: String, plan: String },
        #[serde(rename = "membership.renewed")]
        MembershipRenewed { id: String, at: String, customer: String, plan: String },
        #[serde(rename = "membership.cancelled")]
        MembershipCancelled { id: String, at: String, customer: String, plan: String },
        #[serde(rename = "points.donated")]
        PointsDonated { id: String, at: String, customer: String, charity: String, points: i64 },
        /// Without `customer`, the host ticks every due account.
        #[serde(rename = "clock.tick")]
        ClockTick { id: String, at: String, customer: Option<String> },
    }

    /// The union's schema inside an output's (an `event` effect): events are input, so their
    /// schema is the deserialize contract's whichever contract the output is written under.
    #[cfg(feature = "schema")]
    pub fn schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut input = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let s = input.subschema_for::<LoyaltyEvent>();
        g.definitions_mut().extend(input.take_definitions(true));
        s
    }
}

impl Event {
    pub fn parse(json: &str, program: &Program) -> Result<Event> {
        Event::check(crate::error::from_json("invalid_event", json)?, program)
    }

    /// Parses a JSON array of events, naming the index of a bad one (`[3].order.currency`).
    pub fn parse_many(json: &str, program: &Program) -> Result<Vec<Event>> {
        let events: Vec<EventIn> = crate::error::from_json("invalid_event", json)?;
        let mut out = Vec::with_capacity(events.len());
        for (i, e) in events.into_iter().enumerate() {
            out.push(Event::check(e, program).map_err(|e| e.within(&format!("[{i}]")))?);
        }
        Ok(out)
    }

    /// Checks what serde cannot: the fields each type needs, amounts in the program currency.
    pub fn check(w: EventIn, program: &Program) -> Result<Event> {
        let err = |key: &str, msg: String| Error::event(key, msg);
        if w.id.is_empty() {
            return Err(Error::event("id", "must not be empty"));
        }
        let kind = w.kind.as_str();
        let at = parse_instant(&w.at).map_err(|m| err("at", m))?;
        let need = |key: &str, v: Option<String>| v.ok_or_else(|| err(key, format!("is required for {kind}")));
        let body = match kind {
            "order.placed" => {
                let o = w.order.ok_or_else(|| Error::event("order", "is required"))?;
                Body::OrderPlaced(order(o, program, "invalid_event").map_err(|e| e.within("order"))?)
            }
            "order.refunded" => {
                let refund = match (w.lines, &w.amount) {
                    (Some(lines), None) => Refund::Lines(refund_lines(lines)?),
                    (None, Some(a)) => Refund::Amount(crate::money::parse_amount(a, program.exponent).map_err(|m| err("amount", m))?),
                    _ => return Err(Error::event("lines", "order.refunded needs either lines or amount")),
                };
                Body::OrderRefunded { order_id: need("order_id", w.order_id)?, refund }
            }
            "order.cancelled" => Body::OrderCancelled { order_id: need("order_id", w.order_id)? },
            "action.completed" => Body::ActionCompleted { action: need("action", w.action)?, reference: w.reference },
            "points.adjusted" => {
                let points = w.points.ok_or_else(|| Error::event("points", "is required for points.adjusted"))?;
                if points == 0 {
                    return Err(Error::event("points", "must not be zero"));
                }
                let reason = need("reason", w.reason)?;
                if reason.trim().is_empty() {
                    return Err(Error::event("reason", "must not be empty"));
                }
                Body::PointsAdjusted { points, reason, by: need("by", w.by)? }
            }
            "reward.redeemed" => Body::RewardRedeemed { reward: need("reward", w.reward)? },
            "coupon.used" => Body::CouponUsed { code: need("code", w.code)?, order_id: w.order_id },
            "coupon.cancelled" => Body::CouponCancelled { code: need("code", w.code)? },
            "membership.started" => Body::Membership { kind: "membership.started", plan: need("plan", w.plan)? },
            "membership.renewed" => Body::Membership { kind: "membership.renewed", plan: need("plan", w.plan)? },
            "membership.cancelled" => Body::Membership { kind: "membership.cancelled", plan: need("plan", w.plan)? },
            "points.donated" => {
                let points = w.points.ok_or_else(|| Error::event("points", "is required for points.donated"))?;
                if points <= 0 {
                    return Err(Error::event("points", "must be a positive number of points"));
                }
                Body::PointsDonated { charity: need("charity", w.charity)?, points }
            }
            "clock.tick" => Body::ClockTick,
            other => return Err(err("type", format!("unknown event type \"{other}\", expected one of {TYPES}"))),
        };
        if w.customer.as_deref() == Some("") {
            return Err(Error::event("customer", "must not be empty"));
        }
        let needs_customer = !matches!(body, Body::ClockTick | Body::OrderRefunded { .. } | Body::OrderCancelled { .. });
        if needs_customer && w.customer.is_none() {
            return Err(err("customer", format!("is required for {kind}")));
        }
        Ok(Event { id: w.id, at, customer: w.customer, body })
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

fn refund_lines(lines: Vec<RefundLineIn>) -> Result<Vec<(String, i64)>> {
    if lines.is_empty() {
        return Err(Error::event("lines", "must not be empty (use amount for a refund without lines)"));
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.into_iter().enumerate() {
        if l.quantity <= 0 {
            return Err(Error::event(format!("lines[{i}].quantity"), "must be a positive whole number"));
        }
        out.push((l.id, l.quantity));
    }
    Ok(out)
}

/// Checks an order or cart against the program currency and converts its amounts.
fn order(o: OrderIn, program: &Program, code: &'static str) -> Result<Order> {
    let err = |key: String, msg: String| Error::new(code, key, msg);
    let amount = |key: &str, v: &Option<String>| -> Result<i64> {
        v.as_deref().map_or(Ok(0), |s| crate::money::parse_amount(s, program.exponent).map_err(|m| err(key.to_string(), m)))
    };
    if o.currency != program.currency {
        return Err(err("currency".into(), format!("\"{}\" but the program is in {}", o.currency, program.currency)));
    }
    let mut lines: Vec<Line> = Vec::new();
    for (i, l) in o.lines.unwrap_or_default().into_iter().enumerate() {
        let at = |key: &str| format!("lines[{i}].{key}");
        if !(1..=1_000_000).contains(&l.quantity) {
            return Err(err(at("quantity"), "must be a whole number from 1 to 1000000".into()));
        }
        let unit_price = crate::money::parse_amount(&l.unit_price, program.exponent).map_err(|m| err(at("unit_price"), m))?;
        let discount = amount(&at("discount"), &l.discount)?;
        let gross = crate::money::mul(unit_price, l.quantity).ok_or_else(|| err(at("unit_price"), "is too large".into()))?;
        if discount > gross {
            return Err(err(at("discount"), "is larger than the line's price times quantity".into()));
        }
        if lines.iter().any(|x| x.id == l.id) {
            return Err(err(at("id"), format!("duplicate line id \"{}\"", l.id)));
        }
        lines.push(Line { id: l.id, sku: l.sku, product_id: l.product_id, categories: l.categories.unwrap_or_default(), quantity: l.quantity, unit_price, discount });
    }
    let brand = match o.brand {
        Some(b) if !program.brands.iter().any(|x| x.id == b) => {
            let known: Vec<&str> = program.brands.iter().map(|x| x.id.as_str()).collect();
            return Err(err("brand".into(), format!("unknown brand \"{b}\" (the program has {})", if known.is_empty() { "no brands".to_string() } else { known.join(", ") })));
        }
        b => b,
    };
    if o.points_spent.is_some_and(|n| n < 0) {
        return Err(err("points_spent".into(), "must not be negative".into()));
    }
    Ok(Order {
        id: o.id.unwrap_or_else(|| "cart".into()),
        lines,
        shipping: amount("shipping", &o.shipping)?,
        tax: amount("tax", &o.tax)?,
        taxes_included: o.taxes_included.unwrap_or(false),
        coupon_codes: o.coupon_codes.unwrap_or_default(),
        brand,
        points_spent: o.points_spent.unwrap_or(0),
    })
}

/// A cart for `quote`: an order's shape plus the time to quote at.
pub fn parse_cart(json: &str, program: &Program) -> Result<(i64, Order)> {
    let c: CartIn = crate::error::from_json("invalid_cart", json)?;
    let at = parse_instant(&c.at).map_err(|m| Error::new("invalid_cart", "at", m))?;
    let o = OrderIn { id: c.id, currency: c.currency, lines: c.lines, shipping: c.shipping, tax: c.tax, taxes_included: c.taxes_included, coupon_codes: c.coupon_codes, brand: c.brand, points_spent: None };
    Ok((at, order(o, program, "invalid_cart")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        let p = r#"{"id":"t","name":"T","currency":"EUR","timezone":"UTC","earn":{"points_per_unit":"1"},"brands":[{"id":"pb"},{"id":"we"}]}"#;
        Program::parse(p, None).unwrap()
    }

    const HOT: &str = r#"{"id":"n0","type":"order.placed","at":"2026-01-05T10:00:00.000Z","customer":"c1","order":{"id":"o1","currency":"EUR","shipping":"4.90","lines":[{"id":"l1","sku":"TEE","product_id":"1001","categories":["apparel","sale"],"quantity":2,"unit_price":"24.90","discount":"2.00"},{"id":"l2","sku":"MUG","quantity":1,"unit_price":"12.50"}]}}"#;

    fn hot(from: &str, to: &str) -> String {
        assert!(HOT.contains(from), "{from}");
        HOT.replacen(from, to, 1)
    }

    /// Errors keep their code and JSON path, whether serde or a check found them.
    #[test]
    fn errors_name_the_field() {
        let p = program();
        let err = |json: &str| Event::parse(json, &p).unwrap_err();
        let cases = [
            (hot(r#""currency":"EUR""#, r#""currency":"EUR","x":{"y":{"z":1}}"#), "order.x", "unknown field \"x\", expected one of id, currency, lines, shipping, tax, taxes_included, coupon_codes, brand, points_spent"),
            (hot(r#""sku":"TEE""#, r#""sku":"TEE","size":"M""#), "order.lines[0].size", ""),
            (hot(r#""discount":"2.00""#, r#""discount":"49.81""#), "order.lines[0].discount", "is larger than the line's price times quantity"),
            (hot(r#""id":"l2""#, r#""id":"l1""#), "order.lines[1].id", "duplicate line id \"l1\""),
            (hot(r#""quantity":2"#, r#""quantity":2,"categories":["a",]"#).replacen(r#","categories":["apparel","sale"]"#, "", 1), "order.lines[0].categories[1]", "trailing comma"),
            (hot(r#""quantity":2"#, r#""quantity":"2""#), "order.lines[0].quantity", ""),
            (hot(r#""currency":"EUR""#, r#""currency":"USD""#), "order.currency", ""),
            (hot(r#""id":"n0""#, r#""id":"""#), "id", "must not be empty"),
            (hot(r#","customer":"c1""#, ""), "customer", "is required for order.placed"),
            (hot(r#""currency":"EUR","#, ""), "order.currency", "is required"),
            (hot(r#""type":"order.placed""#, r#""type":"order.shipped""#), "type", ""),
        ];
        for (json, path, msg) in &cases {
            let e = err(json);
            assert_eq!((e.code, e.path.as_str()), ("invalid_event", *path), "{json}: {e}");
            assert!(e.message.starts_with(msg), "{json}: {e}");
        }
        let batch = format!("[{HOT},{}]", hot(r#""currency":"EUR""#, r#""currency":"USD""#));
        assert_eq!(Event::parse_many(&batch, &p).unwrap_err().path, "[1].order.currency");
        let batch = format!("[{HOT},{}]", hot(r#""sku":"TEE""#, r#""sku":"TEE","size":"M""#));
        assert_eq!(Event::parse_many(&batch, &p).unwrap_err().path, "[1].order.lines[0].size");
        let e = Event::parse(&hot(r#""sku":"MUG""#, r#""sku":null,"product_id":null"#), &p).unwrap();
        let Body::OrderPlaced(o) = &e.body else { panic!() };
        assert_eq!((o.lines[1].sku.as_deref(), o.lines[0].categories.len()), (None, 2));
    }

    /// Every variant of the event union (`union::LoyaltyEvent`, the schema and TypeScript
    /// `LoyaltyEvent`) parses with the real parser into its type, with its optional fields
    /// given, null or left out; and the parser needs each of its required fields.
    #[test]
    fn the_event_union_is_what_the_parser_reads() {
        use union::LoyaltyEvent as U;
        let p = program();
        let s = || "x".to_string();
        let (id, at) = (s, || "2026-01-05T10:00:00Z".to_string());
        let order = || OrderIn { id: Some("o1".into()), currency: "EUR".into(), lines: None, shipping: None, tax: None, taxes_included: None, coupon_codes: None, brand: None, points_spent: None };
        // Each variant twice: optional fields given, then null (`None`).
        let mut all = Vec::new();
        for some in [true, false] {
            let opt = |v: &str| some.then(|| v.to_string());
            all.extend([
                U::OrderPlaced { id: id(), at: at(), customer: s(), order: order() },
                U::OrderRefundedLines { id: id(), at: at(), customer: opt("c"), order_id: s(), lines: vec![RefundLineIn { id: s(), quantity: 1 }] },
                U::OrderRefundedAmount { id: id(), at: at(), customer: opt("c"), order_id: s(), amount: "1.00".into() },
                U::OrderCancelled { id: id(), at: at(), customer: opt("c"), order_id: s() },
                U::ActionCompleted { id: id(), at: at(), customer: s(), action: s(), reference: opt("r") },
                U::PointsAdjusted { id: id(), at: at(), customer: s(), points: -5, reason: s(), by: s() },
                U::RewardRedeemed { id: id(), at: at(), customer: s(), reward: s() },
                U::CouponUsed { id: id(), at: at(), customer: s(), code: s(), order_id: opt("o") },
                U::CouponCancelled { id: id(), at: at(), customer: s(), code: s() },
                U::MembershipStarted { id: id(), at: at(), customer: s(), plan: s() },
                U::MembershipRenewed { id: id(), at: at(), customer: s(), plan: s() },
                U::MembershipCancelled { id: id(), at: at(), customer: s(), plan: s() },
                U::PointsDonated { id: id(), at: at(), customer: s(), charity: s(), points: 5 },
                U::ClockTick { id: id(), at: at(), customer: opt("c") },
            ]);
        }
        // A new variant fails to compile here until it is given a sample above.
        let index = |u: &U| match u {
            U::OrderPlaced { .. } => 0,
            U::OrderRefundedLines { .. } => 1,
            U::OrderRefundedAmount { .. } => 2,
            U::OrderCancelled { .. } => 3,
            U::ActionCompleted { .. } => 4,
            U::PointsAdjusted { .. } => 5,
            U::RewardRedeemed { .. } => 6,
            U::CouponUsed { .. } => 7,
            U::CouponCancelled { .. } => 8,
            U::MembershipStarted { .. } => 9,
            U::MembershipRenewed { .. } => 10,
            U::MembershipCancelled { .. } => 11,
            U::PointsDonated { .. } => 12,
            U::ClockTick { .. } => 13,
        };
        let mut seen: Vec<usize> = all.iter().map(index).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, (0..14).collect::<Vec<_>>());
        let body_type = |b: &Body| match b {
            Body::OrderPlaced(_) => "order.placed",
            Body::OrderRefunded { .. } => "order.refunded",
            Body::OrderCancelled { .. } => "order.cancelled",
            Body::ActionCompleted { .. } => "action.completed",
            Body::PointsAdjusted { .. } => "points.adjusted",
            Body::RewardRedeemed { .. } => "reward.redeemed",
            Body::CouponUsed { .. } => "coupon.used",
            Body::CouponCancelled { .. } => "coupon.cancelled",
            Body::Membership { kind, .. } => kind,
            Body::PointsDonated { .. } => "points.donated",
            Body::ClockTick => "clock.tick",
        };
        let mut types = Vec::new();
        for (i, u) in all.iter().enumerate() {
            let v = serde_json::to_value(u).unwrap();
            let kind = v["type"].as_str().unwrap().to_string();
            let e = Event::parse(&v.to_string(), &p).unwrap_or_else(|e| panic!("{v}: {e}"));
            assert_eq!(body_type(&e.body), kind, "{v}");
            // The optional fields left out, not null: the fields still there are the required
            // ones (in the second half, whose optional fields are all `None`).
            let mut min = v.as_object().unwrap().clone();
            min.retain(|_, x| !x.is_null());
            Event::parse(&serde_json::to_string(&min).unwrap(), &p).unwrap_or_else(|e| panic!("{v}: {e}"));
            for key in min.keys().filter(|k| *k != "type" && i >= all.len() / 2) {
                let mut less = min.clone();
                less.remove(key);
                let json = serde_json::to_string(&less).unwrap();
                assert!(Event::parse(&json, &p).is_err(), "{kind} parses without {key}, which the union requires");
            }
            types.push(kind);
        }
        types.sort();
        types.dedup();
        let mut expected: Vec<&str> = TYPES.split(", ").collect();
        expected.sort();
        assert_eq!(types, expected, "the union has every event type the parser knows");
    }
}
