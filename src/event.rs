//! Store events in their canonical shape (DESIGN.md, "Events"), parsed and checked against
//! the program before any rule runs, so a bad event changes nothing.

use crate::error::Result;
use crate::program::Program;
use crate::time::parse_instant;
use crate::decode::{self, Obj, Path};
use crate::json::{Reader, Value};

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
    pub id: Short,
    pub sku: Option<Short>,
    pub product_id: Option<Short>,
    pub categories: Vec<Short>,
    pub quantity: i64,
    pub unit_price: i64,
    pub discount: i64,
}

/// A line's sku, product id or category: up to 22 bytes (they are rarely longer) kept inline
/// (24 bytes in all: a `String`'s size on 64-bit, twice it in wasm32), so that reading an
/// order allocates nothing for them.
#[derive(Clone, Default)]
pub struct Short(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<str>),
}

/// Empty, inline: a `Line` is built in place from its default.
impl Default for Repr {
    fn default() -> Repr {
        Repr::Inline { len: 0, bytes: [0; 22] }
    }
}

impl From<&str> for Short {
    fn from(s: &str) -> Short {
        let mut bytes = [0; 22];
        match bytes.get_mut(..s.len()) {
            Some(to) => {
                to.copy_from_slice(s.as_bytes());
                Short(Repr::Inline { len: s.len() as u8, bytes })
            }
            None => Short(Repr::Heap(s.into())),
        }
    }
}

impl std::ops::Deref for Short {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            // SAFETY: the first `len` bytes are those of a whole `&str` (`from`).
            Repr::Inline { len, bytes } => unsafe { std::str::from_utf8_unchecked(bytes.get_unchecked(..*len as usize)) },
            Repr::Heap(s) => s,
        }
    }
}

impl PartialEq for Short {
    fn eq(&self, other: &Short) -> bool {
        **self == **other
    }
}

/// As a `String` prints: events print the same whichever reader read them.
impl std::fmt::Debug for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
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
        if let Ok(e) = direct::event(json, program) {
            return Ok(e);
        }
        Event::read(&decode::parse("invalid_event", json)?, Path::Root(""), program)
    }

    /// Parses a JSON array of events, naming the index of a bad one (`[3].order.currency`).
    pub fn parse_many(json: &str, program: &Program) -> Result<Vec<Event>> {
        if let Ok(events) = direct::events(json, program) {
            return Ok(events);
        }
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
        let gross = crate::money::mul(unit_price, quantity).ok_or_else(|| s.first_or(l.err("unit_price", "is too large")))?;
        if discount > gross {
            return Err(s.first_or(l.err("discount", "is larger than the line's price times quantity")));
        }
        let id = s.take(l.text("id"));
        if lines.iter().any(|x| *x.id == *id) {
            return Err(s.first_or(l.err("id", format!("duplicate line id \"{id}\""))));
        }
        let short = |v: Option<&str>| v.map(Short::from);
        let categories = s.take(l.str_list("categories")).iter().map(|c| c.as_str().into()).collect();
        lines.push(Line { id: id.into(), sku: short(s.take(l.opt_text("sku"))), product_id: short(s.take(l.opt_text("product_id"))), categories, quantity, unit_price, discount });
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

/// The hot case, an `order.placed` event, read straight from the text into its types: no
/// `Value` tree, no map per object, no copy of a key. It accepts only what `Event::read`
/// accepts, read the same way; on anything else (a syntax error, an unknown, repeated or null
/// member where a value is required, a rarer order field, a key or string with escapes, another event type, a wrong
/// type, a failed check) it gives up with `Stop` and
/// `Event::read` runs, to name the error. Its checks mirror `Event::read` and `order`, without
/// their messages; the tests `direct_*` (below) hold them to the same answers.
mod direct {
    use super::*;
    use crate::json::{keys, Key, Stop, R};

    const EVENT: [Key; 5] = keys(&["id", "type", "at", "customer", "order"]);
    const PLACED: [Key; 1] = keys(&["order.placed"]);
    // The order fields read here (see `order`): any other key stops, as unknown.
    const ORDER: [Key; 7] = keys(ORDER_FIELDS.split_at(7).0);
    const LINE: [Key; 7] = keys(LINE_FIELDS);

    /// A batch: each order.placed read straight from the text, any other event through the
    /// tree reader. Any error stops, and `parse_many` reads the whole text again to name it
    /// as before (a syntax error anywhere comes before a bad event).
    #[inline(never)]
    pub fn events(json: &str, program: &Program) -> R<Vec<Event>> {
        let mut r = Reader::new(json);
        let mut out = Vec::new();
        r.enter_array()?;
        while r.item()? {
            let before = r.clone();
            match placed(&mut r, program) {
                Ok(e) => out.push(e),
                Err(Stop) => {
                    r = before;
                    out.push(Event::read(&r.value()?, Path::Root(""), program).map_err(|_| Stop)?);
                }
            }
        }
        r.end()?;
        Ok(out)
    }

    // `event` and `order` are kept out of their callers: a smaller wasm.
    #[inline(never)]
    pub fn event(json: &str, program: &Program) -> R<Event> {
        let mut r = Reader::new(json);
        let e = placed(&mut r, program)?;
        r.end()?;
        Ok(e)
    }

    /// The order.placed event that comes next.
    fn placed(r: &mut Reader, program: &Program) -> R<Event> {
        let mut e = Event { id: String::new(), at: 0, customer: Some(String::new()), body: Body::OrderPlaced(Order::default()) };
        // Filled in place: no event or order moved at the end.
        let (Some(customer), Body::OrderPlaced(o)) = (&mut e.customer, &mut e.body) else { return Err(Stop) };
        let mut seen = 0;
        r.enter_object()?;
        while let Some(i) = field(r, &mut seen, &EVENT)? {
            match i {
                0 => text(r, &mut e.id)?,
                1 => _ = r.str_in(&PLACED, 0)?, // any other type stops
                2 => e.at = parse_instant(r.str()?).map_err(|_| Stop)?,
                3 => text(r, customer)?,
                _ => order(r, program, o)?,
            }
        }
        // All five are required; an empty id or customer is refused.
        check(seen == 0b11111 && !e.id.is_empty() && !customer.is_empty())?;
        Ok(e)
    }

    /// The order's common fields, those the Shopify and WooCommerce adapters write (taxes
    /// included and coupon codes on every order): any other (a brand, points spent) is left
    /// to `order`, as rarer, each arm here costing wasm. A null reads as absent, as there.
    #[inline(never)]
    fn order(r: &mut Reader, program: &Program, o: &mut Order) -> R<()> {
        let mut seen = 0;
        r.enter_object()?;
        while let Some(i) = field(r, &mut seen, &ORDER)? {
            match i {
                0 => text(r, &mut o.id)?,
                1 => check(r.str()? == program.currency)?,
                2 => lines(r, program, &mut o.lines)?,
                3 => o.shipping = amount(r, program)?,
                4 => o.tax = amount(r, program)?,
                5 if r.null() => {}
                5 => o.taxes_included = match r.value()? {
                    crate::json::Value::Bool(b) => b,
                    _ => return Err(Stop),
                },
                _ if r.null() => {}
                _ => strings(r, &mut o.coupon_codes)?,
            }
        }
        // The id and currency are required.
        check(seen & 3 == 3)
    }

    fn lines(r: &mut Reader, program: &Program, lines: &mut Vec<Line>) -> R<()> {
        r.enter_array()?;
        while r.item()? {
            // Read in place, not moved into the list after.
            lines.push(Line::default());
            let Some((l, before)) = lines.split_last_mut() else { return Err(Stop) };
            line(r, program, l)?;
            check(before.iter().all(|x| x.id != l.id))?;
        }
        Ok(())
    }

    fn line(r: &mut Reader, program: &Program, l: &mut Line) -> R<()> {
        let mut seen = 0;
        r.enter_object()?;
        while let Some(i) = field(r, &mut seen, &LINE)? {
            match i {
                0 => l.id = r.str()?.into(),
                1 => l.sku = opt(r)?,
                2 => l.product_id = opt(r)?,
                3 => strings(r, &mut l.categories)?,
                4 => l.quantity = int(r)?,
                5 => l.unit_price = amount(r, program)?,
                _ => l.discount = amount(r, program)?,
            }
        }
        // The id, quantity and unit price are required; the quantity is 1 to 1000000; the
        // discount is at most the gross.
        let gross = crate::money::mul(l.unit_price, l.quantity).unwrap_or(-1);
        check(seen & 0b110001 == 0b110001 && (1..=1_000_000).contains(&l.quantity) && l.discount <= gross)
    }

    /// The next key's index in `fields` (`None` at the end of the object), marked seen: an
    /// unknown or repeated key stops. The first field not seen yet is tried first: keys
    /// mostly come in the order of `fields`.
    fn field(r: &mut Reader, seen: &mut u32, fields: &[Key]) -> R<Option<usize>> {
        let Some(i) = r.key_in(fields, seen.trailing_ones() as usize)? else { return Ok(None) };
        check(*seen & 1 << i == 0)?;
        *seen |= 1 << i;
        Ok(Some(i))
    }

    fn check(ok: bool) -> R<()> {
        if ok { Ok(()) } else { Err(Stop) }
    }

    /// Reads a string into `to`: the one place that drops the string it replaces.
    fn text(r: &mut Reader, to: &mut String) -> R<()> {
        *to = r.str()?.into();
        Ok(())
    }

    fn int(r: &mut Reader) -> R<i64> {
        r.value()?.as_i64().ok_or(Stop)
    }

    fn amount(r: &mut Reader, program: &Program) -> R<i64> {
        crate::money::parse_amount(r.str()?, program.exponent).map_err(|_| Stop)
    }

    /// A string or null (absent).
    fn opt(r: &mut Reader) -> R<Option<Short>> {
        Ok(if r.null() { None } else { Some(r.str()?.into()) })
    }

    fn strings<T: for<'s> From<&'s str>>(r: &mut Reader, v: &mut Vec<T>) -> R<()> {
        r.enter_array()?;
        while r.item()? {
            v.push(r.str()?.into());
        }
        Ok(())
    }
}

/// A cart for `quote`: an order's shape plus the time to quote at.
pub fn parse_cart(json: &str, program: &Program) -> Result<(i64, Order)> {
    let v = decode::parse("invalid_cart", json)?;
    let c = Obj::new("invalid_cart", &v, Path::Root(""), CART_FIELDS)?;
    let at = c.parsed("at", parse_instant)?.ok_or_else(|| c.err("at", "is required"))?;
    Ok((at, order(&c, program)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        let p = r#"{"id":"t","name":"T","currency":"EUR","timezone":"UTC","earn":{"points_per_unit":"1"},"brands":[{"id":"pb"},{"id":"we"}]}"#;
        Program::parse(p, None).unwrap()
    }

    /// The slow path alone: the `Value` tree read by `Event::read`.
    fn read(json: &str, p: &Program) -> Result<Event> {
        Event::read(&decode::parse("invalid_event", json)?, Path::Root(""), p)
    }

    const HOT: &str = r#"{"id":"n0","type":"order.placed","at":"2026-01-05T10:00:00.000Z","customer":"c1","order":{"id":"o1","currency":"EUR","shipping":"4.90","lines":[{"id":"l1","sku":"TEE","product_id":"1001","categories":["apparel","sale"],"quantity":2,"unit_price":"24.90","discount":"2.00"},{"id":"l2","sku":"MUG","quantity":1,"unit_price":"12.50"}]}}"#;

    /// `HOT` with `from` replaced by `to` (which must be there).
    fn hot(from: &str, to: &str) -> String {
        assert!(HOT.contains(from), "{from}");
        HOT.replacen(from, to, 1)
    }

    /// Inputs the direct reader must take itself, each as the tree reader reads it.
    #[test]
    fn direct_reads_orders_like_read() {
        let p = program();
        let cases = [
            HOT.to_string(),
            // Pretty-printed, keys in another order, no lines.
            "{\n  \"order\": {\"lines\": [ ], \"currency\": \"EUR\", \"tax\": \"1.00\", \"id\": \"o9\"},\n  \"customer\": \"c1\", \"at\": \"2026-01-05T10:00:00+01:00\", \"type\": \"order.placed\", \"id\": \"x\"\n}\n".to_string(),
            // An order without lines.
            r#"{"id":"e","type":"order.placed","at":"2026-01-05T10:00:00Z","customer":"c","order":{"id":"o","currency":"EUR"}}"#.to_string(),
            // Unicode as is.
            hot(r#""sku":"MUG""#, r#""sku":"Krús ☕ 𝄞""#),
            hot(r#""quantity":2"#, r#""quantity":1000000"#),
            // A sku and a category past `Short`'s 22 bytes.
            hot(r#""sku":"MUG""#, r#""sku":"MUG-ceramic-white-350ml-v2""#).replace(r#""sale""#, r#""sale-of-the-century-2026""#),
            hot(r#""discount":"2.00""#, r#""discount":"49.80""#),
            // As the Shopify and WooCommerce adapters write orders: null sku and product id,
            // taxes included and coupon codes always there.
            hot(r#""sku":"MUG""#, r#""sku":null,"product_id":null"#).replace(r#""shipping":"4.90""#, r#""shipping":"4.90","tax":"1.20","taxes_included":true,"coupon_codes":["A","B"]"#),
            hot(r#""shipping":"4.90""#, r#""taxes_included":false,"coupon_codes":[],"shipping":"4.90""#),
            hot(r#""shipping":"4.90""#, r#""taxes_included":null,"coupon_codes":null,"shipping":"4.90""#),
        ];
        for json in &cases {
            let fast = direct::event(json, &p).unwrap_or_else(|_| panic!("direct refused {json}"));
            assert_eq!(format!("{fast:?}"), format!("{:?}", read(json, &p).unwrap()), "{json}");
        }
        let e = Event::parse(&cases[3], &p).unwrap();
        let Body::OrderPlaced(o) = &e.body else { panic!() };
        assert_eq!(o.lines[1].sku.as_deref(), Some("Krús ☕ 𝄞"));
    }

    #[test]
    fn short_strings_inline_or_not() {
        for text in ["", "a", "Krús ☕ 𝄞", &"x".repeat(22), &"x".repeat(23), "ééééééééééé", "éééééééééééé", &"y".repeat(100)] {
            let s = Short::from(text);
            assert_eq!((&*s, format!("{s:?}")), (text, format!("{:?}", text.to_string())));
            assert!(s == Short::from(text.to_string().as_str()) && s != Short::from("z"));
        }
        assert!(matches!(Short::from("x".repeat(22).as_str()).0, Repr::Inline { .. }));
        assert!(matches!(Short::from("x".repeat(23).as_str()).0, Repr::Heap(_)));
        assert_eq!(std::mem::size_of::<Option<Short>>(), 24);
    }

    /// Inputs the direct reader gives up on: `Event::parse` then answers as the tree reader,
    /// value or error (code, path and message).
    #[test]
    fn direct_gives_up_on_anything_else() {
        let p = program();
        let cases = [
            // Escapes, repeated keys (the last wins), nulls: read, by the tree reader.
            hot(r#""sku":"TEE""#, r#""sku":"T\"E\u00c9\n""#),
            hot(r#""id":"n0""#, r#""id":"n\/0""#),
            hot(r#""customer":"c1""#, r#""customer":"c1","customer":"c2""#),
            hot(r#""quantity":2"#, r#""quantity":3,"quantity":2"#),
            hot(r#""currency":"EUR""#, r#""currency":"EUR","shipping":"1.00""#),
            hot(r#""categories":["apparel","sale"]"#, r#""categories":null"#),
            hot(r#""shipping":"4.90""#, r#""shipping":null"#),
            hot(r#""order":{"#, r#""ref":{"a":[1]},"order":{"#),
            // Unknown keys, at each level and nested.
            hot(r#""id":"n0""#, r#""id":"n0","note":1"#),
            hot(r#""currency":"EUR""#, r#""currency":"EUR","x":{"y":{"z":1}}"#),
            hot(r#""sku":"TEE""#, r#""sku":"TEE","size":"M""#),
            // Wrong types and values.
            hot(r#""quantity":2"#, r#""quantity":"2""#),
            hot(r#""quantity":2"#, r#""quantity":2.0"#),
            hot(r#""quantity":2"#, r#""quantity":-0"#),
            hot(r#""quantity":2"#, r#""quantity":0"#),
            hot(r#""quantity":2"#, r#""quantity":1000001"#),
            hot(r#""quantity":2"#, r#""quantity":99999999999999999999"#),
            hot(r#""unit_price":"24.90""#, r#""unit_price":24.90"#),
            hot(r#""unit_price":"24.90""#, r#""unit_price":"24.901""#),
            hot(r#""unit_price":"24.90""#, r#""unit_price":"92233720368547758.07""#),
            hot(r#""discount":"2.00""#, r#""discount":"49.81""#),
            hot(r#""categories":["apparel","sale"]"#, r#""categories":"apparel""#),
            hot(r#""categories":["apparel","sale"]"#, r#""categories":["apparel",1]"#),
            hot(r#""id":"l2""#, r#""id":"l1""#),
            hot(r#""id":"l2""#, r#""id":2"#),
            hot(r#""currency":"EUR""#, r#""currency":"USD""#),
            hot(r#""currency":"EUR""#, r#""currency":"EUR","brand":"zz""#),
            hot(r#""currency":"EUR""#, r#""currency":"EUR","points_spent":-1"#),
            hot(r#""currency":"EUR""#, r#""currency":"EUR","taxes_included":"yes""#),
            hot(r#""currency":"EUR""#, r#""currency":"EUR","coupon_codes":[null]"#),
            hot(r#""currency":"EUR","#, ""),
            hot(r#""lines":["#, r#""lines":[7,"#),
            hot(r#""id":"n0""#, r#""id":"""#),
            hot(r#""customer":"c1""#, r#""customer":"""#),
            hot(r#","customer":"c1""#, ""),
            hot(r#""at":"2026-01-05T10:00:00.000Z""#, r#""at":"2026-01-05""#),
            hot(r#""type":"order.placed""#, r#""type":"order.cancelled","order_id":"o1""#),
            hot(r#""type":"order.placed""#, r#""type":"order.shipped""#),
            // Syntax errors, even after a member the direct reader would refuse.
            hot(r#""quantity":2"#, r#""quantity":2,"#),
            hot(r#""apparel","sale""#, r#""apparel","sale","#),
            hot(r#""customer":"c1""#, r#""customer""c1""#),
            hot(r#""customer":"c1""#, r#""customer":"c1"#),
            hot(r#""customer":"c1""#, r#""customer":"c1",7:1"#),
            format!("{HOT} 1"),
            HOT[..HOT.len() - 1].to_string(),
            hot(r#""quantity":2"#, r#""quantity":0,"x":[1,]"#),
            "[]".into(),
            "".into(),
            // Fields left to the tree reader: a cart's missing id, a brand, points spent.
            hot(r#""id":"o1","#, ""),
            hot(r#""currency":"EUR""#, r#""currency":"EUR","taxes_included":true,"coupon_codes":["A","B"],"brand":"we","points_spent":30"#),
            // A key written with escapes.
            hot(r#""id":"n0""#, r#""\u0069d":"n0""#),
        ];
        for json in &cases {
            assert!(direct::event(json, &p).is_err(), "direct took {json}");
            assert_eq!(format!("{:?}", Event::parse(json, &p)), format!("{:?}", read(json, &p)), "{json}");
            // In a batch, between events the direct reader takes: the tree path's answer.
            let batch = format!("[{HOT},{json},{HOT}]");
            let tree = decode::parse("invalid_event", &batch).and_then(|v| decode::items("invalid_event", &v, Path::Root(""), |v, path| Event::read(v, path, &p)));
            assert_eq!(format!("{:?}", Event::parse_many(&batch, &p)), format!("{tree:?}"), "{batch}");
        }
        let mixed = format!("[{HOT},{},{HOT}]", hot(r#""type":"order.placed""#, r#""type":"order.cancelled","order_id":"o1""#).replace(r#","order":{"#, r#","x":{"#));
        assert!(Event::parse_many(&mixed, &p).is_err(), "an unknown key in the middle event");
        let last = |json: &str| format!("{:?}", Event::parse(json, &p).unwrap());
        assert!(last(&cases[2]).contains(r#"customer: Some("c2")"#));
        assert!(last(&cases[0]).contains(r#"sku: Some("T\"EÉ\n")"#));
        assert!(last(&cases[48]).contains(r#"id: "cart""#));
        assert!(last(&cases[49]).contains(r#"brand: Some("we"), points_spent: 30"#));
        let err = |i: usize| Event::parse(&cases[i], &p).unwrap_err();
        assert_eq!((err(9).path.as_str(), err(9).message.as_str()), ("order.x", "unknown field \"x\", expected one of id, currency, lines, shipping, tax, taxes_included, coupon_codes, brand, points_spent"));
        assert_eq!(err(10).path, "order.lines[0].size");
        assert_eq!((err(20).path.as_str(), err(20).message.as_str()), ("order.lines[0].discount", "is larger than the line's price times quantity"));
        assert_eq!((err(23).path.as_str(), err(23).message.as_str()), ("order.lines[1].id", "duplicate line id \"l1\""));
        assert_eq!((err(45).path.as_str(), err(45).message.as_str()), ("order.lines[0].x[1]", "trailing comma"));
    }

    /// Every one-byte edit of `HOT` (a deletion, or one of a few bytes that matter to JSON put
    /// in): what the direct reader takes, the tree reader reads the same.
    #[test]
    fn direct_agrees_with_read_on_every_one_byte_edit() {
        let p = program();
        let mut taken = 0;
        for i in 0..HOT.len() {
            for with in ["", ",", "}", "]", "\"", " ", "0", "-", ":", "\\", "n", "{", "["] {
                let json = format!("{}{with}{}", &HOT[..i], &HOT[i + 1..]);
                if let Ok(fast) = direct::event(&json, &p) {
                    let slow = read(&json, &p).unwrap_or_else(|e| panic!("direct took {json}: {e:?}"));
                    assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{json}");
                    taken += 1;
                }
            }
        }
        assert!(taken > 100, "{taken}");
    }
}
