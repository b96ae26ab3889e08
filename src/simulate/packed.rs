//! Order records packed into one byte string each, for a simulation that keeps every order
//! of a history in memory. An `OrderRecord` is ~900 bytes in ~8 allocations; packed it is
//! ~100 bytes in one, and only the few events that name a known order (refunds,
//! cancellations) unpack it. The packing is exact: `unpack(pack(r)) == r`.

use crate::earn::{LineEarn, OrderRecord};
use crate::ratio::{Ratio, Rounding};
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// A packed record, found in a set by its order id (`Borrow<str>`): the id is its first
/// field, so the set needs no separate key.
pub struct Packed(Box<[u8]>);

impl Packed {
    /// Packs `r`, writing it first into `w` (a buffer kept between calls), so the record
    /// takes one allocation of its exact size.
    pub fn new(r: &OrderRecord, w: &mut Vec<u8>) -> Packed {
        w.clear();
        text(w, &r.id);
        text(w, &r.customer);
        text(w, &r.event);
        int(w, r.at as i128);
        text(w, &r.rate);
        let rounding = match r.rounding {
            Rounding::Floor => 0,
            Rounding::Round => 1,
            Rounding::Ceil => 2,
        };
        let flags = rounding | (r.cancelled as u8) << 2 | (r.pending as u8) << 3 | (r.member as u8) << 4 | (r.referrer.is_some() as u8) << 5;
        w.push(flags);
        uint(w, r.rules.len() as u128);
        for rule in &r.rules {
            text(w, rule);
        }
        ratio(w, r.carry_in);
        uint(w, r.lines.len() as u128);
        for l in &r.lines {
            text(w, &l.id);
            for v in [l.quantity, l.refunded] {
                int(w, v as i128);
            }
            for v in [l.basis, l.points, l.multiplier] {
                ratio(w, v);
            }
        }
        for v in [r.total, r.earned, r.reversed, r.refunded_amount, r.points_spent, r.points_returned] {
            int(w, v as i128);
        }
        if let Some(referrer) = &r.referrer {
            text(w, referrer);
        }
        Packed(w.as_slice().into())
    }

    pub fn id(&self) -> &str {
        Reader(&self.0).text()
    }

    pub fn customer(&self) -> &str {
        let mut r = Reader(&self.0);
        r.text();
        r.text()
    }

    /// The record back, as it was packed.
    pub fn unpack(&self) -> OrderRecord {
        let mut r = Reader(&self.0);
        let (id, customer, event) = (r.string(), r.string(), r.string());
        let at = r.i64();
        let rate = r.string();
        let flags = r.byte();
        let rules = (0..r.uint()).map(|_| r.string()).collect();
        let carry_in = r.ratio();
        let lines = (0..r.uint())
            .map(|_| {
                let (id, quantity, refunded) = (r.string(), r.i64(), r.i64());
                LineEarn { id, quantity, refunded, basis: r.ratio(), points: r.ratio(), multiplier: r.ratio() }
            })
            .collect();
        let [total, earned, reversed, refunded_amount, points_spent, points_returned] = [(); 6].map(|_| r.i64());
        let rounding = match flags & 3 {
            0 => Rounding::Floor,
            1 => Rounding::Round,
            _ => Rounding::Ceil,
        };
        let referrer = (flags & 1 << 5 != 0).then(|| r.string());
        OrderRecord {
            id,
            customer,
            event,
            at,
            rate,
            rounding,
            rules,
            carry_in,
            lines,
            total,
            earned,
            reversed,
            refunded_amount,
            cancelled: flags & 1 << 2 != 0,
            pending: flags & 1 << 3 != 0,
            referrer,
            points_spent,
            points_returned,
            member: flags & 1 << 4 != 0,
        }
    }
}

impl Borrow<str> for Packed {
    fn borrow(&self) -> &str {
        self.id()
    }
}

/// Hashed and compared by the id alone, as `str` is: what `Borrow<str>` requires.
impl Hash for Packed {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.id().hash(h)
    }
}

impl PartialEq for Packed {
    fn eq(&self, o: &Packed) -> bool {
        self.id() == o.id()
    }
}

impl Eq for Packed {}

/// LEB128: seven bits a byte, low first; small numbers (most of a record) take one byte.
fn uint(w: &mut Vec<u8>, mut v: u128) {
    // In u64 steps once the value fits (nearly always): u128 ones cost twice as much.
    while v > u64::MAX as u128 {
        w.push(v as u8 | 0x80);
        v >>= 7;
    }
    let mut v = v as u64;
    while v >= 0x80 {
        w.push(v as u8 | 0x80);
        v >>= 7;
    }
    w.push(v as u8);
}

/// Zigzag, so small negative numbers stay short too.
fn int(w: &mut Vec<u8>, v: i128) {
    uint(w, ((v << 1) ^ (v >> 127)) as u128);
}

fn text(w: &mut Vec<u8>, s: &str) {
    uint(w, s.len() as u128);
    w.extend_from_slice(s.as_bytes());
}

fn ratio(w: &mut Vec<u8>, r: Ratio) {
    let (num, den) = r.parts();
    int(w, num);
    uint(w, den as u128);
}

/// Reads what the functions above wrote. The bytes come only from `Packed::new`, so they
/// are well formed; a short read yields zeros and empty text rather than a panic.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
    fn uint(&mut self) -> u128 {
        let (mut v, mut shift) = (0u128, 0);
        loop {
            let b = self.byte();
            v |= ((b & 0x7f) as u128).checked_shl(shift).unwrap_or(0);
            shift += 7;
            if b & 0x80 == 0 {
                return v;
            }
        }
    }
    fn int(&mut self) -> i128 {
        let u = self.uint();
        (u >> 1) as i128 ^ -((u & 1) as i128)
    }
    fn i64(&mut self) -> i64 {
        self.int() as i64
    }
    fn text(&mut self) -> &'a str {
        let n = (self.uint() as usize).min(self.0.len());
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        std::str::from_utf8(s).unwrap_or_default()
    }
    fn string(&mut self) -> String {
        self.text().to_string()
    }
    fn ratio(&mut self) -> Ratio {
        let num = self.int();
        Ratio::new(num, self.uint() as i128).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_exactly() {
        let r = |n, d| Ratio::new(n, d).unwrap();
        let line = |id: &str, q, basis| LineEarn { id: id.into(), quantity: q, basis, points: r(-7, 3), multiplier: r(3, 2), refunded: 1 };
        let rec = OrderRecord {
            id: "o1".into(),
            customer: "c9".into(),
            event: "e1".into(),
            at: -1_700_000_000_123,
            rate: "2.5".into(),
            rounding: Rounding::Ceil,
            rules: vec!["tier:Gold".into(), "campaign:x".into()],
            carry_in: r(1, 3),
            lines: vec![line("l1", 2, r(i128::MAX / 3, 7)), line("shipping", 1, r(i128::MIN + 1, 1))],
            total: i64::MAX,
            earned: 42,
            reversed: 3,
            refunded_amount: 500,
            cancelled: true,
            pending: false,
            referrer: Some("c1".into()),
            points_spent: 7,
            points_returned: i64::MIN,
            member: true,
        };
        let p = Packed::new(&rec, &mut Vec::new());
        assert_eq!((p.id(), p.customer()), ("o1", "c9"));
        assert_eq!(p.unpack(), rec);
        let plain = OrderRecord { referrer: None, rules: vec![], lines: vec![], rounding: Rounding::Floor, cancelled: false, member: false, ..rec };
        assert_eq!(Packed::new(&plain, &mut vec![1, 2]).unpack(), plain);
        for rounding in [Rounding::Floor, Rounding::Round, Rounding::Ceil] {
            let one = OrderRecord { rounding, ..plain.clone() };
            assert_eq!(Packed::new(&one, &mut Vec::new()).unpack(), one);
        }
    }
}
