//! The engine's own JSON, replacing serde and serde_json: a reader into a borrowed tree and a
//! compact writer. Both are non-generic, so they cost a few KB of wasm where serde's derived
//! code and serde_json's generic parser cost tens of KB. What they accept and write matches
//! serde_json's defaults: objects read sorted by key with the last of duplicate keys winning,
//! whole numbers as `i64`, anything else numeric kept for the error message, its syntax
//! error messages, and its string escaping on output.

use std::borrow::Cow;

/// `&s[r]` for a range known to fall on char boundaries (next to ASCII bytes), without the
/// panicking path: its message formatting (`{:?}` of chars) costs several KB of wasm.
pub fn sub<R: std::slice::SliceIndex<str, Output = str>>(s: &str, r: R) -> &str {
    s.get(r).unwrap_or("")
}

/// A parsed JSON value; strings borrow from the text unless they had escapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// A whole number in the `i64` range.
    Int(i64),
    /// Any other number, as written (fractions, exponents, whole numbers beyond `i64`, `-0`):
    /// the engine only reads whole numbers, so this is kept for the error message.
    Number(&'a str),
    Str(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    /// Members sorted by key, duplicate keys resolved to the last value.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

impl<'a> Value<'a> {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Value<'a>)]> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        let m = self.as_object()?;
        m.binary_search_by(|(k, _)| key_order(text(k), key)).ok().map(|i| &m[i].1)
    }
}

impl ToJson for Value<'_> {
    fn write_json(&self, o: &mut Out) {
        match self {
            Value::Null => o.null(),
            Value::Bool(b) => o.bool(*b),
            Value::Int(n) => o.int(*n),
            Value::Number(_) => o.raw(&number_text(self)),
            Value::Str(s) => o.str(s),
            Value::Array(a) => o.list(a),
            Value::Object(m) => {
                o.open();
                for (k, v) in m {
                    o.key_escaped(k);
                    v.write_json(o);
                }
                o.close();
            }
        }
    }
}

/// Compact JSON, as serde_json's `Value` displays.
impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json())
    }
}

/// A number as serde_json displays it (`1.5`, `1e20`, `18446744073709551615`, `-0.0`).
pub fn number_text(v: &Value) -> String {
    match v {
        Value::Int(n) => int_text(*n),
        Value::Number(t) => {
            let whole = !t.contains(['.', 'e', 'E']);
            // A whole number in u64 is serde_json's `u64`, shown as written.
            if whole && !t.starts_with('-') && t.len() <= 20 && t.parse::<u64>().is_ok() {
                return t.to_string();
            }
            float_text(t)
        }
        _ => String::new(),
    }
}

/// Significant digits of a JSON number (leading and trailing zeros stripped, rounded to 17
/// digits) and the position of the decimal point: `value = 0.DIGITS * 10^point`.
fn decimal(t: &str) -> (bool, Vec<u8>, i64) {
    let b = t.as_bytes();
    let neg = b.first() == Some(&b'-');
    let body = if neg { &b[1..] } else { b };
    let mant_end = body.iter().position(|c| matches!(c, b'e' | b'E')).unwrap_or(body.len());
    let mut exp: i64 = 0;
    if mant_end < body.len() {
        let e = &body[mant_end + 1..];
        let (eneg, e) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        for &c in e {
            exp = (exp * 10 + (c - b'0') as i64).min(1_000_000);
        }
        if eneg {
            exp = -exp;
        }
    }
    let mut digits = Vec::new();
    let mut point: i64 = 0;
    let mut seen_point = false;
    for &c in &body[..mant_end] {
        if c == b'.' {
            seen_point = true;
            continue;
        }
        if !seen_point {
            point += 1;
        }
        if digits.is_empty() && c == b'0' {
            point -= 1;
            continue;
        }
        digits.push(c);
    }
    if digits.is_empty() {
        return (neg, digits, 0);
    }
    point += exp;
    if digits.len() > 17 {
        let up = digits[17] >= b'5';
        digits.truncate(17);
        if up {
            let mut i = 17;
            loop {
                if i == 0 {
                    digits.insert(0, b'1');
                    digits.pop();
                    point += 1;
                    break;
                }
                i -= 1;
                if digits[i] == b'9' {
                    digits[i] = b'0';
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (neg, digits, point)
}

/// Whether a JSON number is beyond f64's range, which serde_json rejects.
fn out_of_range(t: &str) -> bool {
    let (_, d, point) = decimal(t);
    !d.is_empty() && (point > 309 || (point == 309 && d.as_slice() > b"17976931348623157".as_slice()))
}

/// serde_json's float output (`1.5`, `1e+20`, `1e-7`, `-0.0`) for a number, from its decimal
/// text: no float parsing or printing is compiled in. Where serde_json's own parse is off by
/// a unit in the last place, or past 15 significant digits, the last digit may differ from
/// serde_json's (this only ever shows in an error message).
pub fn float_text(t: &str) -> String {
    let (neg, digits, point) = decimal(t);
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if digits.is_empty() || point < -323 {
        s.push_str("0.0");
        return s;
    }
    let digits = std::str::from_utf8(&digits).unwrap_or("0");
    let kk = point;
    let len = digits.len() as i64;
    let k = kk - len;
    if k >= 0 && kk <= 16 {
        s.push_str(digits);
        (0..k).for_each(|_| s.push('0'));
        s.push_str(".0");
    } else if 0 < kk && kk <= 16 {
        s.push_str(sub(digits, ..kk as usize));
        s.push('.');
        s.push_str(sub(digits, kk as usize..));
    } else if -5 < kk && kk <= 0 {
        s.push_str("0.");
        (0..-kk).for_each(|_| s.push('0'));
        s.push_str(digits);
    } else {
        s.push_str(sub(digits, ..1));
        if len > 1 {
            s.push('.');
            s.push_str(sub(digits, 1..));
        }
        s.push('e');
        if kk > 1 {
            s.push('+');
        }
        s.push_str(&int_text(kk - 1));
    }
    s
}

// Keys are short and compared often. These helpers are inlined: in the size-optimised wasm,
// `Cow`'s deref and `str`'s comparisons are calls (memcmp a byte loop of its own).

/// The text of a key: a `&Cow` taken on purpose, matched here rather than deref'd by a call.
#[inline(always)]
#[allow(clippy::ptr_arg)]
pub fn text<'b>(k: &'b Cow<str>) -> &'b str {
    match k {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => s,
    }
}

/// `a == b`.
#[inline(always)]
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `a.cmp(b)`.
#[inline(always)]
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return if a[i] < b[i] { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater };
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

/// Adds a member to an object, keeping it sorted with the last of duplicate keys winning
/// (serde_json's BTreeMap). Searched from the end, where a key in order goes.
fn member<'a>(members: &mut Vec<(Cow<'a, str>, Value<'a>)>, key: Cow<'a, str>, v: Value<'a>) {
    let mut at = members.len();
    while at > 0 {
        let m = &mut members[at - 1];
        match key_order(text(&m.0), text(&key)) {
            std::cmp::Ordering::Greater => at -= 1,
            std::cmp::Ordering::Equal => return m.1 = v,
            std::cmp::Ordering::Less => break,
        }
    }
    members.insert(at, (key, v));
}

/// A syntax error: serde_json's message and where (1-based line, column of the last byte read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: &'static str,
    pub line: usize,
    pub column: usize,
}

/// A name `Reader::key_in` matches keys against: its bytes and closing quote as one
/// little-endian number, and the mask of those bytes. A key is matched with one masked
/// compare of the 16 bytes after its opening quote, whatever its length.
#[derive(Clone, Copy)]
pub struct Key {
    word: u128,
    mask: u128,
    len: usize,
}

/// The `Key`s of `names`, each of 15 bytes at most (checked when the constant is built).
pub const fn keys<const N: usize>(names: &[&str]) -> [Key; N] {
    assert!(names.len() == N);
    let mut out = [Key { word: 0, mask: 0, len: 0 }; N];
    let mut n = 0;
    while n < N {
        let b = names[n].as_bytes();
        assert!(b.len() < 16);
        out[n].len = b.len();
        let mut i = 0;
        while i <= b.len() {
            let c = if i < b.len() { b[i] } else { b'"' };
            out[n].word |= (c as u128) << (8 * i);
            out[n].mask |= 0xff << (8 * i);
            i += 1;
        }
        n += 1;
    }
    out
}

/// serde_json fails at the 128th level of nesting.
const DEPTH: usize = 127;

#[derive(Clone)]
pub struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
    /// Just inside `{` or `[`: the next member or element has no comma before it.
    fresh: bool,
    /// The syntax error met, if any: its message and how many bytes had been read.
    error: (&'static str, usize),
}

/// A syntax error, recorded in `Reader::error`; for a reader of its own types (see
/// `Reader::new`), any input it gives up on. Zero-sized, so that each `Result` the reader
/// passes up is no bigger than its value: a value is moved through every level above it.
pub struct Stop;

pub type R<T> = Result<T, Stop>;

/// Parses a whole JSON text (whitespace around it allowed, nothing else).
pub fn parse(text: &str) -> Result<Value<'_>, SyntaxError> {
    let mut r = Reader::new(text);
    r.document().map_err(|Stop| {
        let (message, at) = r.error;
        let before = &r.b[..at.min(r.b.len())];
        let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
        let column = before.len() - before.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
        SyntaxError { message, line, column }
    })
}

/// A JSON text read piece by piece, for a reader that builds its own types straight from the
/// text with no `Value` tree (with `value`, `key` and `item`, below). The syntax is checked as
/// `parse` checks it, but an error is only `Stop`: such a reader falls back to `parse` to name it.
impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { text, b: text.as_bytes(), i: 0, depth: 0, fresh: false, error: ("", 0) }
    }

    /// Whether a `null` comes next, read past it: a member set to null reads as absent.
    pub fn null(&mut self) -> bool {
        self.ws();
        let is = self.b.get(self.i..self.i + 4) == Some(b"null");
        self.i += if is { 4 } else { 0 };
        is
    }

    /// The string that must come next, without escapes (one with escapes stops): borrowed.
    pub fn str(&mut self) -> R<&'a str> {
        self.expect(b'"')?;
        self.i += 1;
        let start = self.i;
        if self.run()? != b'"' {
            return Err(Stop);
        }
        self.i += 1;
        Ok(sub(self.text, start..self.i - 1))
    }

    /// The next key of the object being read as its index in `names`, past its `:` (read its
    /// value next); `None` at the end. Matched in place, with no copy and no scan: a key not
    /// in `names`, or written with escapes, stops. The names are tried from `from` on (then
    /// from 0): a caller that passes the one it expects next finds it first time.
    pub fn key_in(&mut self, names: &[Key], from: usize) -> R<Option<usize>> {
        // The usual case, a comma and the key's quote right after the value before, at once.
        if !self.fresh && self.b.get(self.i..self.i + 2) == Some(b",\"") {
            self.i += 1;
        } else if self.more(b'}', "EOF while parsing an object", "expected `,` or `}`")? {
            self.expect(b'"')?;
        } else {
            return Ok(None);
        }
        let n = self.quoted_in(names, from)?;
        self.expect(b':')?;
        self.i += 1;
        Ok(Some(n))
    }

    /// The string that must come next as its index in `names`, tried from `from` on (as for
    /// `key_in`): one not there, or written with escapes, stops.
    pub fn str_in(&mut self, names: &[Key], from: usize) -> R<usize> {
        self.expect(b'"')?;
        self.quoted_in(names, from)
    }

    /// `str_in` at the string's opening quote.
    #[inline]
    fn quoted_in(&mut self, names: &[Key], from: usize) -> R<usize> {
        let w = self.next16(self.i + 1);
        let is = |n: &usize| names.get(*n).is_some_and(|k| w & k.mask == k.word);
        let n = (from..names.len()).chain(0..from).find(is).ok_or(Stop)?;
        self.i += names.get(n).map_or(0, |k| k.len) + 2;
        Ok(n)
    }

    /// The 16 bytes from `at` as a little-endian number, zeros past the end of the text.
    fn next16(&self, at: usize) -> u128 {
        let rest = self.b.get(at..).unwrap_or_default();
        match rest.first_chunk::<16>() {
            Some(w) => u128::from_le_bytes(*w),
            None => {
                let mut w = [0; 16];
                rest.iter().zip(&mut w).for_each(|(c, to)| *to = *c);
                u128::from_le_bytes(w)
            }
        }
    }

    /// Enters the object that must come next, whose keys `key` or `key_in` then read.
    pub fn enter_object(&mut self) -> R<()> {
        self.expect(b'{')?;
        self.open()
    }

    /// Enters the array that must come next, whose elements `item` then announces.
    pub fn enter_array(&mut self) -> R<()> {
        self.expect(b'[')?;
        self.open()
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> R<()> {
        self.ws();
        if self.i == self.b.len() { Ok(()) } else { Err(Stop) }
    }

    /// `c` comes next, after whitespace.
    fn expect(&mut self, c: u8) -> R<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) { Ok(()) } else { Err(Stop) }
    }
}

impl<'a> Reader<'a> {
    fn document(&mut self) -> R<Value<'a>> {
        let v = self.value()?;
        self.ws();
        if self.i < self.b.len() {
            return Err(self.err_at(self.i + 1, "trailing characters"));
        }
        Ok(v)
    }

    /// An error after `at` bytes have been read.
    #[cold]
    #[inline(never)]
    fn err_at(&mut self, at: usize, message: &'static str) -> Stop {
        self.error = (message, at);
        Stop
    }
    /// An error at the byte about to be read.
    fn peek_err(&mut self, message: &'static str) -> Stop {
        self.err_at(self.i + 1, message)
    }
    fn eof(&mut self, message: &'static str) -> Stop {
        self.err_at(self.b.len(), message)
    }

    /// Skips whitespace: inlined, as compact JSON has none to skip.
    #[inline(always)]
    fn ws(&mut self) {
        if let Some(&c) = self.b.get(self.i) {
            if c <= b' ' {
                self.skip_ws();
            }
        }
    }
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The next value, whole.
    pub fn value(&mut self) -> R<Value<'a>> {
        self.ws();
        let Some(&c) = self.b.get(self.i) else { return Err(self.eof("EOF while parsing a value")) };
        match c {
            b'"' => {
                self.i += 1;
                Ok(Value::Str(self.string()?))
            }
            b'-' | b'0'..=b'9' => self.number(),
            b'{' => self.object(),
            b'[' => self.array(),
            b'n' => self.ident(b"null", Value::Null),
            b't' => self.ident(b"true", Value::Bool(true)),
            b'f' => self.ident(b"false", Value::Bool(false)),
            _ => Err(self.peek_err("expected value")),
        }
    }

    fn array(&mut self) -> R<Value<'a>> {
        self.open()?;
        let mut items = Vec::new();
        while self.item()? {
            items.push(self.value()?);
        }
        Ok(Value::Array(items))
    }

    fn object(&mut self) -> R<Value<'a>> {
        self.open()?;
        // Room for most of the engine's objects (event, lines, lots: 5 to 8 members) without
        // growing by doubling from 4; the tree lives only while its input is read.
        let mut members = Vec::with_capacity(8);
        while let Some(key) = self.key()? {
            let v = self.value()?;
            member(&mut members, key, v);
        }
        Ok(Value::Object(members))
    }

    /// Enters the object or array at `{` or `[`.
    fn open(&mut self) -> R<()> {
        self.enter()?;
        self.i += 1;
        self.fresh = true;
        Ok(())
    }

    /// Moves past the `,` before the next member or element, or past the `}` or `]` that ends
    /// them (returning false).
    #[inline]
    fn more(&mut self, end: u8, eof: &'static str, expected: &'static str) -> R<bool> {
        self.ws();
        let fresh = std::mem::take(&mut self.fresh);
        match self.b.get(self.i).copied() {
            Some(c) if c == end => {
                self.i += 1;
                self.depth -= 1;
                Ok(false)
            }
            None => Err(self.eof(eof)),
            // Right after `{` or `[`: no comma.
            _ if fresh => Ok(true),
            Some(b',') => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&end) {
                    return Err(self.peek_err("trailing comma"));
                }
                Ok(true)
            }
            Some(_) => Err(self.peek_err(expected)),
        }
    }

    /// Whether another element follows in the array being read (read it next).
    #[inline]
    pub fn item(&mut self) -> R<bool> {
        self.more(b']', "EOF while parsing a list", "expected `,` or `]`")
    }

    /// The next key in the object being read, past its `:` (read its value next); `None` at
    /// the end.
    #[inline]
    pub fn key(&mut self) -> R<Option<Cow<'a, str>>> {
        if !self.more(b'}', "EOF while parsing an object", "expected `,` or `}`")? {
            return Ok(None);
        }
        self.ws();
        match self.b.get(self.i) {
            None => return Err(self.eof("EOF while parsing an object")),
            Some(b'"') => self.i += 1,
            Some(_) => return Err(self.peek_err("key must be a string")),
        }
        let key = self.string()?;
        self.ws();
        match self.b.get(self.i) {
            None => return Err(self.eof("EOF while parsing an object")),
            Some(b':') => self.i += 1,
            Some(_) => return Err(self.peek_err("expected `:`")),
        }
        Ok(Some(key))
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > DEPTH {
            return Err(self.peek_err("recursion limit exceeded"));
        }
        Ok(())
    }

    fn ident(&mut self, word: &[u8], v: Value<'a>) -> R<Value<'a>> {
        self.i += 1;
        for &w in &word[1..] {
            match self.b.get(self.i) {
                None => return Err(self.eof("EOF while parsing a value")),
                Some(&c) if c == w => self.i += 1,
                Some(_) => return Err(self.peek_err("expected ident")),
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> R<Value<'a>> {
        let start = self.i;
        let neg = self.b[self.i] == b'-';
        if neg {
            self.i += 1;
        }
        let digits = self.i;
        // The whole part's value, read as it is scanned: exact up to 19 digits.
        let mut mag: u64 = 0;
        match self.b.get(self.i) {
            None => return Err(self.eof("EOF while parsing a value")),
            Some(b'0') => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.b.get(self.i) {
                    return Err(self.peek_err("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&c @ b'0'..=b'9') = self.b.get(self.i) {
                    mag = mag.wrapping_mul(10).wrapping_add((c - b'0') as u64);
                    self.i += 1;
                }
            }
            Some(_) => return Err(self.peek_err("invalid number")),
        }
        let whole = self.i - digits <= 19;
        let mut float = false;
        if matches!(self.b.get(self.i), Some(b'.')) {
            float = true;
            self.i += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            float = true;
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            self.digits()?;
        }
        if !float && whole {
            let n = if neg { (mag as i64).wrapping_neg() } else { mag as i64 };
            // Beyond i64 (positive and wrapped, or the negation not negative: serde_json's -0
            // is a float): kept as written, like fractions.
            if (n >= 0) != neg {
                return Ok(Value::Int(n));
            }
        }
        // Anything else (a fraction, an exponent, 20 digits or more) is kept as written.
        let text = sub(self.text, start..self.i);
        if out_of_range(text) {
            return Err(self.err_at(self.i, "number out of range"));
        }
        Ok(Value::Number(text))
    }

    fn digits(&mut self) -> R<()> {
        match self.b.get(self.i) {
            None => return Err(self.eof("EOF while parsing a value")),
            Some(b'0'..=b'9') => {}
            Some(_) => return Err(self.peek_err("invalid number")),
        }
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
        Ok(())
    }

    /// Moves to the next `"` or `\` in a string and returns it: a control character or the
    /// end of the text is an error.
    #[inline(always)]
    fn run(&mut self) -> R<u8> {
        let (b, mut i) = (self.b, self.i);
        while i < b.len() {
            let c = b[i];
            if c == b'"' || c == b'\\' {
                self.i = i;
                return Ok(c);
            }
            if c < 0x20 {
                self.i = i;
                return Err(self.peek_err("control character (\\u0000-\\u001F) found while parsing a string"));
            }
            i += 1;
        }
        Err(self.eof("EOF while parsing a string"))
    }

    /// A string's content, after its opening quote.
    fn string(&mut self) -> R<Cow<'a, str>> {
        let start = self.i;
        // The common case: no escapes, borrowed.
        if self.run()? == b'"' {
            self.i += 1;
            return Ok(Cow::Borrowed(sub(self.text, start..self.i - 1)));
        }
        let mut s = String::from(sub(self.text, start..self.i));
        loop {
            self.i += 1;
            let Some(&e) = self.b.get(self.i) else { return Err(self.eof("EOF while parsing a string")) };
            self.i += 1;
            match e {
                b'"' => s.push('"'),
                b'\\' => s.push('\\'),
                b'/' => s.push('/'),
                b'b' => s.push('\u{8}'),
                b'f' => s.push('\u{c}'),
                b'n' => s.push('\n'),
                b'r' => s.push('\r'),
                b't' => s.push('\t'),
                b'u' => {
                    let n = self.hex()?;
                    let c = match n {
                        0xD800..=0xDBFF => {
                            for want in [b'\\', b'u'] {
                                match self.b.get(self.i) {
                                    None => return Err(self.eof("EOF while parsing a string")),
                                    Some(&c) if c == want => self.i += 1,
                                    Some(_) => return Err(self.err_at(self.i + 1, "unexpected end of hex escape")),
                                }
                            }
                            let n2 = self.hex()?;
                            if !(0xDC00..=0xDFFF).contains(&n2) {
                                return Err(self.err_at(self.i, "lone leading surrogate in hex escape"));
                            }
                            0x10000 + (((n - 0xD800) as u32) << 10) + (n2 - 0xDC00) as u32
                        }
                        0xDC00..=0xDFFF => return Err(self.err_at(self.i, "lone leading surrogate in hex escape")),
                        n => n as u32,
                    };
                    s.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                }
                _ => return Err(self.err_at(self.i, "invalid escape")),
            }
            let run = self.i;
            let c = self.run()?;
            s.push_str(sub(self.text, run..self.i));
            if c == b'"' {
                self.i += 1;
                return Ok(Cow::Owned(s));
            }
        }
    }

    fn hex(&mut self) -> R<u16> {
        // serde_json reads all four bytes before it checks them.
        let Some(four) = self.b.get(self.i..self.i + 4) else { return Err(self.eof("EOF while parsing a string")) };
        self.i += 4;
        let mut n: u16 = 0;
        for &c in four {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(self.err_at(self.i, "invalid escape")),
            };
            n = n * 16 + d as u16;
        }
        Ok(n)
    }
}

/// `n` in decimal, without the formatting machinery.
pub fn int_text(n: i64) -> String {
    let mut o = Out::default();
    o.int(n);
    o.0
}

/// Two-digit pairs `00` to `99`: digits are made two per division (a 64-bit division is a
/// slow instruction in wasm, where LLVM cannot turn it into a multiply).
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The decimal digits of `m`, zero-padded to at least `width`, at the end of `buf`: returns
/// where they start. Without core::fmt, which is slow in wasm and whose padding and 128-bit
/// paths cost KBs. (JSON numbers go by `Put::uint`; this pads, and takes any `u128`.)
#[inline(never)]
fn digits(buf: &mut [u8; 40], m: u128, width: usize) -> usize {
    let mut i = buf.len();
    // u64 arithmetic for every value the engine writes; u128 only beyond.
    let mut big = m;
    while big > u64::MAX as u128 {
        i -= 1;
        buf[i] = b'0' + (big % 10) as u8;
        big /= 10;
    }
    let mut m = big as u64;
    while m >= 100 {
        let p = (m % 100) as usize * 2;
        m /= 100;
        i -= 2;
        buf[i] = PAIRS[p];
        buf[i + 1] = PAIRS[p + 1];
    }
    if m >= 10 {
        i -= 2;
        buf[i] = PAIRS[m as usize * 2];
        buf[i + 1] = PAIRS[m as usize * 2 + 1];
    } else {
        i -= 1;
        buf[i] = b'0' + m as u8;
    }
    // `buf` starts as zeros: padding is only moving the start back.
    i.min(buf.len() - width.min(buf.len()))
}

/// Appends the decimal digits of `m`, zero-padded to at least `width` digits.
pub fn push_digits(s: &mut String, m: u128, width: usize) {
    let mut buf = [b'0'; 40];
    let at = digits(&mut buf, m, width);
    Put::new(s).bytes(&buf[at..]);
}

/// Copies `src` to `dst` byte by byte: `copy_from_slice` would be a `memory.copy` (in V8,
/// a call out of wasm).
///
/// # Safety
/// `dst` must have room for `src.len()` bytes, and not overlap `src`.
unsafe fn copy_short(dst: *mut u8, src: &[u8]) {
    let s = src.as_ptr();
    for i in 0..src.len() {
        copy_n::<1>(dst.add(i), s.add(i));
    }
}

/// Copies `N` bytes, unaligned.
///
/// # Safety
/// Both ranges must be valid for `N` bytes.
#[inline(always)]
unsafe fn copy_n<const N: usize>(dst: *mut u8, src: *const u8) {
    dst.cast::<[u8; N]>().write_unaligned(src.cast::<[u8; N]>().read_unaligned());
}

/// A write at the end of a `String`, straight into its buffer: fixed-size stores and
/// word-wise copies, each after one compare for room. (`push_str` is a `memory.copy`, which
/// V8 runs as a call out of wasm, and `push` a call per byte in the size-optimised module.)
/// A store may write a few bytes past those it keeps: spare room, written over by the next.
/// Only whole `str`s and ASCII are written; the text's length is set when it is dropped.
struct Put<'a> {
    v: &'a mut Vec<u8>,
    /// `v`'s buffer and capacity, kept apart (in registers, wasm locals): else each store to
    /// the buffer might, for all the compiler knows, have changed them.
    buf: *mut u8,
    cap: usize,
    at: usize,
}

impl<'a> Put<'a> {
    #[inline(always)]
    fn new(s: &'a mut String) -> Put<'a> {
        // SAFETY: a `Put` writes only whole `str`s and ASCII, so the text stays UTF-8.
        let v = unsafe { s.as_mut_vec() };
        Put { at: v.len(), buf: v.as_mut_ptr(), cap: v.capacity(), v }
    }

    /// Room for `n` bytes at `at`.
    #[inline(always)]
    fn room(&mut self, n: usize) {
        if self.cap - self.at < n {
            grow(self.v, self.at, n);
            self.sync();
        }
    }

    /// Takes up `v` again after a call changed it (its length is where to go on).
    #[inline(always)]
    fn sync(&mut self) {
        (self.buf, self.cap, self.at) = (self.v.as_mut_ptr(), self.v.capacity(), self.v.len());
    }

    /// Stores `w` (ASCII) and keeps its first `keep` bytes.
    #[inline(always)]
    fn ascii<const N: usize>(&mut self, w: [u8; N], keep: usize) {
        debug_assert!(w.is_ascii() && keep <= N);
        self.room(N);
        // SAFETY: `room` made room for `N` bytes at `at`.
        unsafe { self.buf.add(self.at).cast::<[u8; N]>().write_unaligned(w) };
        self.at += keep.min(N);
    }

    /// Copies `b`: a whole `str`, or ASCII.
    fn bytes(&mut self, b: &[u8]) {
        self.room(b.len());
        // SAFETY: `room` made room for `b` at `at`, in the text's own buffer (not `b`).
        unsafe { copy_short(self.buf.add(self.at), b) };
        self.at += b.len();
    }

    #[inline(always)]
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// `"`, after a comma if `comma`.
    #[inline(always)]
    fn quote(&mut self, comma: bool) {
        // Two bytes stored either way: the second of `",` is spare room.
        self.ascii(if comma { *b",\"" } else { *b"\"," }, 1 + comma as usize);
    }

    fn int(&mut self, n: i64) {
        self.ascii(*b"-", (n < 0) as usize);
        self.uint(n.unsigned_abs());
    }

    /// `m` in decimal.
    fn uint(&mut self, m: u64) {
        self.long(m as u128);
    }

    fn uint128(&mut self, m: u128) {
        self.long(m);
    }

    /// `m` in decimal, by `digits`.
    #[inline(always)]
    fn long(&mut self, m: u128) {
        long(self.v, self.at, m);
        self.sync();
    }
}

// `grow` and `long` are out of line and return nothing (no tuple, no buffer on the stack):
// in wasm either would make every writer they are inlined into keep a frame in memory.

/// Room for `n` more bytes after the first `at` of `v`, written but not yet in its length.
#[cold]
#[inline(never)]
fn grow(v: &mut Vec<u8>, at: usize, n: usize) {
    // SAFETY: the bytes up to `at` are written (whole `str`s and ASCII, within the capacity),
    // so the text is UTF-8, and `reserve` moves them all.
    unsafe { v.set_len(at) };
    v.reserve(n);
}

/// `m` in decimal after the first `at` bytes of `v` (as `grow`), by `digits`.
#[inline(never)]
fn long(v: &mut Vec<u8>, at: usize, m: u128) {
    // SAFETY: as in `grow`.
    unsafe { v.set_len(at) };
    let mut buf = [b'0'; 40];
    let start = digits(&mut buf, m, 1);
    v.extend_from_slice(buf.get(start..).unwrap_or_default());
}

impl Drop for Put<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: up to `at`, within the capacity (`room`), whole `str`s and ASCII were written.
        unsafe { self.v.set_len(self.at) }
    }
}

/// Whether `s` goes out as it is between quotes: most strings (ids, codes, dates).
fn plain(s: &str) -> bool {
    s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\')
}

/// Compact JSON output, written as serde_json writes it. The caller places the commas:
/// `key` and `item` do, for objects and arrays opened with `open`/`open_array`.
#[derive(Default)]
pub struct Out(pub String, bool);

impl Out {
    pub fn new() -> Out {
        Out::with_capacity(256)
    }
    pub fn with_capacity(n: usize) -> Out {
        Out(String::with_capacity(n), false)
    }
    /// Writes `c` (ASCII) and whether a comma goes before what comes next.
    fn punct(&mut self, c: u8, then_comma: bool) {
        Put::new(&mut self.0).ascii([c], 1);
        self.1 = then_comma;
    }
    fn comma(&mut self) {
        Put::new(&mut self.0).ascii(*b",", self.1 as usize);
        self.1 = true;
    }
    pub fn open(&mut self) {
        self.punct(b'{', false);
    }
    pub fn close(&mut self) {
        self.punct(b'}', true);
    }
    pub fn open_array(&mut self) {
        self.punct(b'[', false);
    }
    pub fn close_array(&mut self) {
        self.punct(b']', true);
    }
    /// A member up to its value, the comma (if needed) to the `":`, and for a string value its
    /// opening quote, all in one write; what follows is its value (no comma before it).
    #[inline(always)]
    fn member(&mut self, k: &str, quoted: bool) -> Put<'_> {
        let comma = std::mem::replace(&mut self.1, true);
        let mut p = Put::new(&mut self.0);
        p.quote(comma);
        p.str(k);
        p.ascii(*b"\":\"\"", 2 + quoted as usize);
        p
    }
    /// Starts an object member: the comma if needed, the key and the colon.
    pub fn key(&mut self, k: &str) {
        self.member(k, false);
        self.1 = false;
    }
    /// Starts an object member whose key is data (an id), escaped.
    pub fn key_escaped(&mut self, k: &str) {
        self.comma();
        self.str(k);
        self.punct(b':', false);
    }
    /// Starts an array item.
    pub fn item(&mut self) {
        self.comma();
        self.1 = false;
    }
    /// An array item that is a string, its comma (if any) in the same write.
    pub fn item_str(&mut self, s: &str) {
        if plain(s) {
            let comma = std::mem::replace(&mut self.1, true);
            let mut p = Put::new(&mut self.0);
            p.quote(comma);
            p.str(s);
            p.ascii(*b"\"", 1);
        } else {
            self.item();
            self.escaped(s);
        }
    }
    pub fn str(&mut self, s: &str) {
        if plain(s) {
            let mut p = Put::new(&mut self.0);
            p.ascii(*b"\"", 1);
            p.str(s);
            p.ascii(*b"\"", 1);
            self.1 = true;
        } else {
            self.escaped(s);
        }
    }
    #[inline(never)]
    fn escaped(&mut self, s: &str) {
        // Only strings with something to escape come here.
        let mut p = Put::new(&mut self.0);
        p.ascii(*b"\"", 1);
        let mut start = 0;
        for (i, &c) in s.as_bytes().iter().enumerate() {
            let esc: &str = match c {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            p.str(sub(s, start..i));
            if esc.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                p.ascii([b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]], 6);
            } else {
                p.str(esc);
            }
            start = i + 1;
        }
        p.str(sub(s, start..));
        p.ascii(*b"\"", 1);
        self.1 = true;
    }
    pub fn int(&mut self, n: i64) {
        Put::new(&mut self.0).int(n);
        self.1 = true;
    }
    pub fn bool(&mut self, b: bool) {
        self.word(if b { "true" } else { "false" });
    }
    pub fn null(&mut self) {
        self.word("null");
    }
    /// A literal: short, so by `Put`, not `push_str`.
    fn word(&mut self, w: &str) {
        Put::new(&mut self.0).str(w);
        self.1 = true;
    }
    /// Already-encoded JSON (long, as a rule: by `push_str`).
    pub fn raw(&mut self, json: &str) {
        self.0.push_str(json);
        self.1 = true;
    }
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    // Members, for brevity in the writers.
    // The common members, `k_str` and `k_int`, in one write where speed counts; in the
    // checkout module as the key and then the value, in less code.
    pub fn k_str(&mut self, k: &str, s: &str) {
        self.key(k);
        self.str(s);
    }
    pub fn k_int(&mut self, k: &str, n: i64) {
        self.key(k);
        self.int(n);
    }
    /// `k: "num/den"`, or `k: "num"` when `den` is 1 (a `Ratio`'s text), with no `String`
    /// made: an order record holds several ratios per line.
    pub fn k_fraction(&mut self, k: &str, num: i128, den: i128) {
        self.key(k);
        let mut p = Put::new(&mut self.0);
        p.ascii(*b"\"-", 1 + (num < 0) as usize);
        p.uint128(num.unsigned_abs());
        if den != 1 {
            p.ascii(*b"/", 1);
            p.uint128(den.unsigned_abs());
        }
        p.ascii(*b"\"", 1);
        self.1 = true;
    }
    pub fn k_bool(&mut self, k: &str, b: bool) {
        self.key(k);
        self.bool(b);
    }
    /// `k: s` or `k: null`.
    pub fn k_opt_str(&mut self, k: &str, s: Option<&str>) {
        self.key(k);
        self.opt_str(s);
    }
    /// `k: s`, left out when `None`.
    pub fn k_some_str(&mut self, k: &str, s: Option<&str>) {
        if let Some(s) = s {
            self.k_str(k, s);
        }
    }
    pub fn k_some_int(&mut self, k: &str, n: Option<i64>) {
        if let Some(n) = n {
            self.k_int(k, n);
        }
    }
    pub fn k_strs(&mut self, k: &str, v: &[String]) {
        self.key(k);
        self.open_array();
        for s in v {
            self.item_str(s);
        }
        self.close_array();
    }
    /// `k: [items]` written by `write_json`.
    pub fn k_list<T: ToJson>(&mut self, k: &str, v: &[T]) {
        self.key(k);
        self.list(v);
    }
    pub fn list<T: ToJson>(&mut self, v: &[T]) {
        self.open_array();
        for x in v {
            self.item();
            x.write_json(self);
        }
        self.close_array();
    }
}

/// A type the engine writes as JSON.
pub trait ToJson {
    fn write_json(&self, o: &mut Out);
    fn to_json(&self) -> String {
        let mut o = Out::new();
        self.write_json(&mut o);
        o.0
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, o: &mut Out) {
        (**self).write_json(o)
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json(&self, o: &mut Out) {
        o.list(self)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, o: &mut Out) {
        o.list(self)
    }
}

/// A value of a notification's `data`.
pub enum D<'a> {
    Int(i64),
    Str(&'a str),
    /// A string made for the notification only (a date): made only when one is sent.
    Own(String),
    OptStr(Option<&'a str>),
    Bool(bool),
    /// Already-encoded JSON.
    Raw(String),
}

/// An object with its keys sorted, as serde_json's `json!` writes them.
pub fn sorted_object(fields: &mut [(&str, D)]) -> String {
    crate::sort_by(fields, |a, b| a.0 < b.0);
    let mut o = Out::new();
    o.open();
    for (k, v) in fields.iter() {
        o.key(k);
        match v {
            D::Int(n) => o.int(*n),
            D::Str(s) => o.str(s),
            D::Own(s) => o.str(s),
            D::OptStr(s) => o.opt_str(*s),
            D::Bool(b) => o.bool(*b),
            D::Raw(r) => o.raw(r),
        }
    }
    o.close();
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> &'static str {
        parse(s).unwrap_err().message
    }

    /// The piece-by-piece reader: keys and items in order, strings borrowed, and a stop on a
    /// string with escapes, a value of another kind, bad syntax or text after the end.
    #[test]
    fn reads_piece_by_piece() {
        let json = " { \"a\" : [ \"x\", 2 ] , \"b\\u0062\": {}, \"c\": \"é\" } ";
        let mut r = Reader::new(json);
        assert!(r.enter_object().is_ok());
        assert_eq!(r.key().ok(), Some(Some("a".into())));
        assert!(r.enter_array().is_ok());
        assert!(matches!(r.item(), Ok(true)));
        assert_eq!(r.str().ok(), Some("x"));
        assert!(matches!(r.item(), Ok(true)));
        assert_eq!(r.value().ok(), Some(Value::Int(2)));
        assert!(matches!(r.item(), Ok(false)));
        assert_eq!(r.key().ok(), Some(Some("bb".into())));
        assert!(r.enter_object().is_ok());
        assert_eq!(r.key().ok(), Some(None));
        assert_eq!(r.key().ok(), Some(Some("c".into())));
        assert_eq!(r.str().ok(), Some("é"));
        assert_eq!(r.key().ok(), Some(None));
        assert!(r.end().is_ok());
        let stops = |json: &str, f: fn(&mut Reader) -> R<()>| f(&mut Reader::new(json)).is_err();
        assert!(stops("\"a\\nb\"", |r| r.str().map(drop)));
        assert!(stops("1", |r| r.str().map(drop)));
        assert!(stops("[1]", |r| r.enter_object()));
        assert!(stops("{\"a\" 1}", |r| r.enter_object().and(r.key()).map(drop)));
        assert!(stops("[1,]", |r| r.enter_array().and(r.item()).and(r.value()).and(r.item()).map(drop)));
        assert!(stops("1 2", |r| r.value().and(r.end())));
        // Keys matched in place: by whole name, never escaped.
        let names: &[Key; 3] = &keys(&["id", "idx", "a"]);
        let key = |json: &str| {
            let mut r = Reader::new(json);
            r.enter_object().and(r.key_in(names, 0)).ok()
        };
        assert_eq!(key("{\"idx\":1}"), Some(Some(1)));
        assert_eq!(key("{ \"id\" : 1}"), Some(Some(0)));
        assert_eq!(key("{}"), Some(None));
        // A string matched the same way.
        let placed: &[Key; 2] = &keys(&["order.placed", "order"]);
        let str_in = |json: &str| Reader::new(json).str_in(placed, 0).ok();
        assert_eq!((str_in(" \"order.placed\""), str_in("\"order\","), str_in("\"order\"")), (Some(0), Some(1), Some(1)));
        for json in ["\"order.placedx\"", "\"order.place\"", "\"order\\u002eplaced\"", "\"order.placed", "order", "1", ""] {
            assert_eq!(str_in(json), None, "{json}");
        }
        // Keys near the end of the text (fewer than 16 bytes left), after a comma and not.
        let keys2 = |json: &str| {
            let mut r = Reader::new(json);
            r.enter_object().and(r.key_in(names, 2)).and(r.value()).and(r.key_in(names, 0)).ok()
        };
        assert_eq!(keys2("{\"a\":1,\"idx\":2}"), Some(Some(1)));
        assert_eq!(keys2("{\"a\":1 , \"id\" :2}"), Some(Some(0)));
        assert_eq!(keys2("{\"a\":1}"), Some(None));
        for json in ["{\"a\":1,}", "{\"a\":1,,\"id\":2}", "{\"a\":1\"id\":2}", "{\"a\":1,\"id\"", "{\"a\":1,\"id"] {
            assert_eq!(keys2(json), None, "{json}");
        }
        for json in ["{\"i\":1}", "{\"idxy\":1}", "{\"\\u0061\":1}", "{\"a\" 1}", "{\"a", "{a:1}", "{,\"a\":1}", "{\"id\\u0000\":1}"] {
            assert_eq!(key(json), None, "{json}");
        }
    }

    #[test]
    fn reads_values() {
        let v = parse(" {\"b\": [1, -2, true, false, null], \"a\": \"x\", \"c\": {}} ").unwrap();
        let m = v.as_object().unwrap();
        assert_eq!(m.iter().map(|(k, _)| k.as_ref()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(v.get("b").unwrap().as_array().unwrap(), &[Value::Int(1), Value::Int(-2), Value::Bool(true), Value::Bool(false), Value::Null]);
        assert_eq!(v.get("a").unwrap().as_str(), Some("x"));
        assert!(matches!(v.get("a").unwrap(), Value::Str(Cow::Borrowed(_))));
        assert_eq!(parse("\t\r\n 7 \n").unwrap(), Value::Int(7));
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        let v = parse(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 2);
        assert_eq!(v.get("a"), Some(&Value::Int(3)));
    }

    #[test]
    fn strings_and_escapes() {
        let v = parse(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00""#).unwrap();
        assert_eq!(v.as_str().unwrap(), "a\"b\\c/d\u{8}\u{c}\n\r\té€😀");
        assert_eq!(parse("\"é😀\"").unwrap().as_str(), Some("é😀"));
        assert_eq!(err(r#""\ud83d""#), "unexpected end of hex escape");
        assert_eq!(err(r#""\ud83dx""#), "unexpected end of hex escape");
        assert_eq!(err(r#""\ud83d"#), "EOF while parsing a string");
        assert_eq!(err(r#""\ud83d\u0041""#), "lone leading surrogate in hex escape");
        assert_eq!(err(r#""\ude00""#), "lone leading surrogate in hex escape");
        assert_eq!(err(r#""\q""#), "invalid escape");
        assert_eq!(err(r#""\u12G4""#), "invalid escape");
        assert_eq!(err("\"a\nb\""), "control character (\\u0000-\\u001F) found while parsing a string");
        assert_eq!(err("\"abc"), "EOF while parsing a string");
        assert_eq!(err("\"ab\\"), "EOF while parsing a string");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse("9223372036854775807").unwrap(), Value::Int(i64::MAX));
        assert_eq!(parse("-9223372036854775808").unwrap(), Value::Int(i64::MIN));
        assert_eq!(parse("9223372036854775808").unwrap(), Value::Number("9223372036854775808"));
        assert_eq!(number_text(&parse("9223372036854775808").unwrap()), "9223372036854775808");
        assert_eq!(number_text(&parse("100e-2").unwrap()), "1.0");
        assert_eq!(number_text(&parse("0.30000000000000000001").unwrap()), "0.3");
        assert_eq!(number_text(&parse("1e-400").unwrap()), "0.0");
        assert_eq!(number_text(&parse("1.7976931348623157e308").unwrap()), "1.7976931348623157e+308");
        assert_eq!(err("1.8e308"), "number out of range");
        assert_eq!(number_text(&parse("99999999999999999999").unwrap()), "1e+20");
        assert_eq!(number_text(&parse("0.5").unwrap()), "0.5");
        assert_eq!(number_text(&parse("-12.5e1").unwrap()), "-125.0");
        assert_eq!(number_text(&parse("18446744073709551615").unwrap()), "18446744073709551615");
        // Beyond u64, beyond i64 when negative: a float, shown in ryu's layout; past 15
        // significant digits the last digit may differ from serde_json's (error text only).
        assert!(number_text(&parse("18446744073709551616").unwrap()).starts_with("1.844674407370955"));
        assert!(number_text(&parse("-9223372036854775809").unwrap()).starts_with("-9.22337203685477"));
        assert_eq!(number_text(&parse("-9223372036854775809").unwrap()).split_once('e').unwrap().1, "+18");
        assert_eq!(number_text(&parse("-0").unwrap()), "-0.0");
        assert_eq!(number_text(&parse("1.5").unwrap()), "1.5");
        assert_eq!(number_text(&parse("1.0").unwrap()), "1.0");
        assert_eq!(number_text(&parse("1e+20").unwrap()), "1e+20");
        assert_eq!(number_text(&parse("1e15").unwrap()), "1000000000000000.0");
        assert_eq!(number_text(&parse("1.25e+16").unwrap()), "1.25e+16");
        assert_eq!(number_text(&parse("0.0001").unwrap()), "0.0001");
        assert_eq!(number_text(&parse("0.00001").unwrap()), "0.00001");
        assert_eq!(number_text(&parse("0.000001").unwrap()), "1e-6");
        assert_eq!(number_text(&parse("-123.456E-2").unwrap()), "-1.23456");
        assert_eq!(err("01"), "invalid number");
        assert_eq!(err("-"), "EOF while parsing a value");
        assert_eq!(err("-x"), "invalid number");
        assert_eq!(err("1."), "EOF while parsing a value");
        assert_eq!(err("1.e5"), "invalid number");
        assert_eq!(err("1e400"), "number out of range");
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(err(""), "EOF while parsing a value");
        assert_eq!(err("   "), "EOF while parsing a value");
        assert_eq!(err("{"), "EOF while parsing an object");
        assert_eq!(err("[1"), "EOF while parsing a list");
        assert_eq!(err("[1 2]"), "expected `,` or `]`");
        assert_eq!(err(r#"{"a" 1}"#), "expected `:`");
        assert_eq!(err(r#"{"a":1 "b":2}"#), "expected `,` or `}`");
        assert_eq!(err("{1:2}"), "key must be a string");
        assert_eq!(err(r#"{"a":1,}"#), "trailing comma");
        assert_eq!(err("[1,]"), "trailing comma");
        assert_eq!(err("x"), "expected value");
        assert_eq!(err("tru"), "EOF while parsing a value");
        assert_eq!(err("trux"), "expected ident");
        assert_eq!(err("1 2"), "trailing characters");
        assert_eq!(err("{} x"), "trailing characters");
        let e = parse("{\n  \"a\": x}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 8));
    }

    #[test]
    fn nesting_is_limited_like_serde_json() {
        let ok = "[".repeat(127) + &"]".repeat(127);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(128) + &"]".repeat(128);
        assert_eq!(err(&deep), "recursion limit exceeded");
        let objs = "{\"a\":".repeat(128) + "1" + &"}".repeat(128);
        assert_eq!(err(&objs), "recursion limit exceeded");
    }

    #[test]
    fn writes_like_serde_json() {
        let mut o = Out::new();
        o.open();
        o.k_str("s", "q\"b\\s\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é😀");
        o.k_int("n", i64::MIN);
        o.k_int("m", i64::MAX);
        o.k_int("z", 0);
        o.k_bool("t", true);
        o.key("a");
        o.open_array();
        o.item();
        o.null();
        o.item();
        o.open();
        o.close();
        o.item();
        o.open_array();
        o.close_array();
        o.close_array();
        o.close();
        assert_eq!(o.0, r#"{"s":"q\"b\\s\n\r\t\b\f\u0001\u001f"#.to_string() + "\u{7f}é😀" + r#"","n":-9223372036854775808,"m":9223372036854775807,"z":0,"t":true,"a":[null,{},[]]}"#);
    }

    #[test]
    fn integers_of_every_length_and_sign() {
        let mut cases = vec![0, 1, -1, i64::MIN, i64::MAX, i64::MIN + 1];
        let mut p: i64 = 1;
        for _ in 0..19 {
            cases.extend([p, p - 1, p + 1, -p, 1 - p]);
            p = p.saturating_mul(10);
        }
        for n in cases {
            let mut o = Out::new();
            o.open();
            o.k_int("k", n);
            o.k_int("j", n);
            assert_eq!(o.0, format!("{{\"k\":{n},\"j\":{n}"));
            assert_eq!(int_text(n), n.to_string());
        }
    }

    #[test]
    fn fractions_as_ratio_text() {
        let big = i128::MAX;
        for (num, den) in [(0, 1), (7, 1), (-7, 1), (7, 3), (-7, 3), (1, 1_000_000_000_000), (big, 1), (-big, 7), (i128::MIN, 1), (123456789012345678901234, big)] {
            let mut o = Out::new();
            o.open();
            o.k_int("a", 1);
            o.k_fraction("r", num, den);
            let text = if den == 1 { num.to_string() } else { format!("{num}/{den}") };
            assert_eq!(o.0, format!("{{\"a\":1,\"r\":\"{text}\""));
        }
    }

    /// Word-wise scans and copies at every length, with something to escape at every place.
    #[test]
    fn strings_of_every_length() {
        for len in 0..40 {
            let base: String = "abcdefghijé".chars().cycle().take(len).collect();
            let mut o = Out::new();
            o.open();
            o.k_str(&base, &base);
            o.item_str(&base);
            assert_eq!(o.0, format!("{{\"{base}\":\"{base}\",\"{base}\""));
            for at in 0..len {
                for c in ['"', '\\', '\u{0}', '\u{1f}', ' ', '\u{7f}', '~'] {
                    let mut b: Vec<char> = base.chars().collect();
                    b[at] = c;
                    let s: String = b.into_iter().collect();
                    let mut o = Out::new();
                    o.str(&s);
                    assert_eq!(o.0, serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn escapes_anywhere_in_a_string() {
        // Every escape at the start, middle and end, alone and next to multi-byte chars.
        for esc in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "é", "😀", "\u{7f}"] {
            for s in [esc.to_string(), format!("{esc}ab"), format!("ab{esc}"), format!("é{esc}😀{esc}{esc}x"), format!("{}{esc}", "k".repeat(40))] {
                let mut o = Out::new();
                o.str(&s);
                assert_eq!(o.0, serde_json::to_string(&s).unwrap());
                assert_eq!(parse(&o.0).unwrap().as_str(), Some(s.as_str()));
                let mut o = Out::new();
                o.open();
                o.key_escaped(&s);
                o.int(1);
                o.close();
                assert_eq!(o.0, serde_json::json!({ s.clone(): 1 }).to_string());
            }
        }
        // Reading: escapes first, last, back to back, around multi-byte chars; borrowed without.
        for (json, want) in [(r#""\n""#, "\n"), (r#""\"ab""#, "\"ab"), (r#""ab\\""#, "ab\\"), (r#""é\u00e9\t\t😀\/""#, "éé\t\t😀/"), (r#""\ud83d\ude00x""#, "😀x")] {
            assert_eq!(parse(json).unwrap().as_str(), Some(want), "{json}");
        }
        assert!(matches!(parse(r#""é😀 plain""#).unwrap(), Value::Str(Cow::Borrowed("é😀 plain"))));
    }

    #[test]
    fn round_trips() {
        let s = "a\"\\/\u{0}\u{1f} é€😀\u{ffff}";
        let mut o = Out::new();
        o.str(s);
        assert_eq!(parse(&o.0).unwrap().as_str(), Some(s));
        for n in [0, 1, -1, 42, 99_999_999, 100_000_000, -100_000_001, 1_767_175_200_000, 10_000_000_000_000_000, i64::MAX, i64::MIN] {
            assert_eq!(int_text(n), n.to_string());
            assert_eq!(parse(&int_text(n)).unwrap(), Value::Int(n));
        }
        for (m, width, want) in [(0, 1, "0"), (7, 2, "07"), (5, 4, "0005"), (12345, 2, "12345"), (100_000_000, 12, "000100000000"), (u128::MAX, 1, "340282366920938463463374607431768211455")] {
            let mut s = String::new();
            push_digits(&mut s, m, width);
            assert_eq!(s, want);
        }
        assert_eq!(sorted_object(&mut [("b", D::Int(1)), ("a", D::OptStr(None)), ("c", D::Bool(false)), ("aa", D::Raw("[]".into()))]), r#"{"a":null,"aa":[],"b":1,"c":false}"#);
    }
}

/// The reader against serde_json itself (a dev-dependency): same acceptance, same messages,
/// same positions, same numbers in error text.
#[cfg(test)]
mod against_serde_json {
    use super::*;

    fn serde(s: &str) -> Result<serde_json::Value, (String, usize, usize)> {
        serde_json::from_str::<serde_json::Value>(s).map_err(|e| {
            let m = e.to_string();
            let m = m[..m.rfind(" at line ").unwrap_or(m.len())].to_string();
            (m, e.line(), e.column())
        })
    }

    #[test]
    fn same_errors_and_positions() {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        let cases: Vec<String> = [
            "", " ", "{", "[", "[1", "[1,", "[1 2]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{1:2}", "{\"a\":1,}", "[1,]", "x", "tru", "trux",
            "nul", "1 2", "{} x", "\"abc", "\"a\\q\"", "\"\\u12G4\"", "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\ud83d\\u0041\"", "\"\\ude00\"",
            "\"a\nb\"", "01", "-", "-x", "1.", "1.e5", "1e", "1e+", "1e400", "-1e400", "{\"a\":\n  [1,\n  x]}", "{\n\"a\": 1,\n\"b\" 2}",
            "[\"a\", {\"b\": [1, 2, {\"c\": }]}]", "{\"a\":1}}", "\u{feff}{}",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([deep(127), deep(128), deep(129)])
        .collect();
        let mut bad = Vec::new();
        for s in &cases {
            match (serde(s), parse(s)) {
                (Ok(_), Ok(_)) => {}
                (Err((m, l, c)), Err(e)) if (m.as_str(), l, c) == (e.message, e.line, e.column) => {}
                (a, b) => bad.push(format!("{:?}: serde_json {a:?}, ours {b:?}", &s[..s.len().min(20)])),
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// A quote, backslash, control character or non-ASCII character at each place in strings
    /// of each length, and the text ending there.
    #[test]
    fn strings_of_every_length() {
        for len in 0..20 {
            for at in 0..=len {
                for special in ["\"", "\\n", "\\", "\u{1}", "\u{1f}", " ", "é", "\u{7f}"] {
                    let body = format!("{}{special}{}", "a".repeat(at), "b".repeat(len - at));
                    for s in [format!("\"{body}\""), format!("\"{body}"), format!("[\"{body}\", 1]")] {
                        let ours = parse(&s).map(|v| v.to_json()).map_err(|e| (e.message.to_string(), e.line, e.column));
                        assert_eq!(ours, serde(&s).map(|v| v.to_string()), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn same_values_and_number_text() {
        for s in [
            r#"{"b":[1,-2,true,null,"x\"y\u00e9\ud83d\ude00"],"a":{"z":1,"y":2,"z":3},"c":"\/\b\f\n\r\t"}"#,
            "[0, -0, 1.5, 1.0, 1e20, 1E-7, 0.0001, 123456789012345, -9223372036854775808, 9223372036854775807, 9223372036854775808, 18446744073709551615, 100e-2, 2.5e+3, 1e16, 1.25e16, 1e15, 0.00001, 0.000001, -2.5e-300, 1e308, 99999999999999999999, 123.456e5, 5e-324, 9999999999999999999, -9999999999999999999, 1000000000000000000, -1000000000000000000, 10000000000000000000, 123456789012345678901234567890, -0.0, 0e5]",
        ] {
            let theirs = serde(s).unwrap();
            let ours = parse(s).unwrap();
            assert_eq!(ours.to_json(), theirs.to_string(), "{s}");
        }
    }
}
