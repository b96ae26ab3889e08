//! Reading JSON input field by field, with the JSON path of every field at hand. serde's
//! derived deserializers cost several KB of wasm per type (over 100 KB for this engine);
//! these few non-generic readers over a small JSON tree cost almost nothing per field and
//! name the exact path in every error (`rewards[0].coupon.type: unknown variant "percnt",
//! expected one of percent, fixed, free_shipping`). Output still uses serde's `Serialize`.
//!
//! The tree comes from a small parser that borrows strings from the input and handles the
//! common shapes (whole numbers within i64, strings without `\u` escapes). Anything else,
//! and any input that fails to read, goes through `serde_json::Value` instead, so the
//! accepted inputs, the values and every error message are exactly serde_json's.

use crate::error::{join_path, Error, Result};
use serde_json::{Number, Value};
use std::borrow::Cow;

/// A JSON value. Objects are sorted by key with the last duplicate kept, as in
/// `serde_json::Value`'s map.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    pub fn as_str(&self) -> Option<&str> {
        if let Json::String(s) = self { Some(s) } else { None }
    }
    pub fn as_i64(&self) -> Option<i64> {
        if let Json::Number(n) = self { n.as_i64() } else { None }
    }
    pub fn as_array(&self) -> Option<&Vec<Json<'a>>> {
        if let Json::Array(a) = self { Some(a) } else { None }
    }
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Json<'a>)]> {
        if let Json::Object(m) = self { Some(m) } else { None }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
    pub fn from_value(v: &'a Value) -> Json<'a> {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(Cow::Borrowed(s)),
            Value::Array(a) => Json::Array(a.iter().map(Json::from_value).collect()),
            Value::Object(m) => Json::Object(m.iter().map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from_value(v))).collect()),
        }
    }
}

/// Compact JSON, as `serde_json::Value` prints it.
impl std::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let str = |f: &mut std::fmt::Formatter<'_>, s: &str| f.write_str(&serde_json::to_string(s).unwrap_or_default());
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => write!(f, "{n}"),
            Json::String(s) => str(f, s),
            Json::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Json::Object(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    str(f, k)?;
                    write!(f, ":{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The fast parser: `None` for anything it leaves to serde_json (errors included).
struct Fast<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Fast<'a> {
    fn ws(&mut self) {
        let b = self.s.as_bytes();
        while self.i < b.len() && matches!(b[self.i], b' ' | b'\n' | b'\t' | b'\r') {
            self.i += 1;
        }
    }
    fn next(&mut self) -> Option<u8> {
        let c = *self.s.as_bytes().get(self.i)?;
        self.i += 1;
        Some(c)
    }
    fn lit(&mut self, word: &str, v: Json<'a>) -> Option<Json<'a>> {
        if self.s.as_bytes()[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }
    fn string(&mut self) -> Option<Cow<'a, str>> {
        // The opening quote is consumed.
        let b = self.s.as_bytes();
        let start = self.i;
        loop {
            match *b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Borrowed(&self.s[start..self.i - 1]));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
        let mut out = String::from(&self.s[start..self.i]);
        loop {
            let c = *b.get(self.i)?;
            match c {
                b'"' => {
                    self.i += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    out.push(match *b.get(self.i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        _ => return None,
                    });
                    self.i += 2;
                }
                c if c < 0x20 => return None,
                _ => {
                    let start = self.i;
                    while self.i < b.len() && !matches!(b[self.i], b'"' | b'\\') && b[self.i] >= 0x20 {
                        self.i += 1;
                    }
                    out.push_str(&self.s[start..self.i]);
                }
            }
        }
    }
    fn number(&mut self) -> Option<Json<'a>> {
        let b = self.s.as_bytes();
        let neg = b[self.i] == b'-';
        if neg {
            self.i += 1;
        }
        let start = self.i;
        while self.i < b.len() && b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        if digits.is_empty() || digits.len() > 18 || (digits.len() > 1 && digits.starts_with('0')) || matches!(b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let n: i64 = digits.parse().ok()?;
        if neg {
            if n == 0 {
                return None;
            }
            Some(Json::Number(Number::from(-n)))
        } else {
            Some(Json::Number(Number::from(n as u64)))
        }
    }
    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth > 100 {
            return None;
        }
        self.ws();
        match *self.s.as_bytes().get(self.i)? {
            b'n' => self.lit("null", Json::Null),
            b't' => self.lit("true", Json::Bool(true)),
            b'f' => self.lit("false", Json::Bool(false)),
            b'"' => {
                self.i += 1;
                self.string().map(Json::String)
            }
            b'-' | b'0'..=b'9' => self.number(),
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.s.as_bytes().get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(Json::Array(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.next()? {
                        b',' => {}
                        b']' => return Some(Json::Array(a)),
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut m: Vec<(Cow<'a, str>, Json<'a>)> = Vec::new();
                self.ws();
                if self.s.as_bytes().get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(Json::Object(m));
                }
                loop {
                    self.ws();
                    if self.next()? != b'"' {
                        return None;
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.next()? != b':' {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    match self.next()? {
                        b',' => {}
                        b'}' => break,
                        _ => return None,
                    }
                }
                // As serde_json's map: sorted by key, the last of duplicate keys kept.
                if !m.windows(2).all(|w| w[0].0 < w[1].0) {
                    // Insertion sort, stable: objects are small and usually in order.
                    let mut d: Vec<(Cow<'a, str>, Json<'a>)> = Vec::with_capacity(m.len());
                    for e in m {
                        match d.binary_search_by(|x| x.0.cmp(&e.0)) {
                            Ok(i) => d[i] = e,
                            Err(i) => d.insert(i, e),
                        }
                    }
                    m = d;
                }
                Some(Json::Object(m))
            }
            _ => None,
        }
    }
}

fn fast(json: &str) -> Option<Json<'_>> {
    let mut p = Fast { s: json, i: 0 };
    let v = p.value(0)?;
    p.ws();
    (p.i == json.len()).then_some(v)
}

/// Parses JSON text with serde_json (for inputs read once, such as the program); a syntax
/// error names the path where it happened. Read it through `Json::from_value`.
pub fn parse(code: &'static str, json: &str) -> Result<Value> {
    Error::from_json(code, json)
}

/// Parses JSON text and reads it with `read`; a syntax error names the path where it
/// happened.
pub fn read<T>(code: &'static str, json: &str, read: impl Fn(&Json) -> Result<T>) -> Result<T> {
    let mut out = None;
    with_tree(code, json, &mut |t| {
        let r = read(t);
        let ok = r.is_ok();
        out = Some(r);
        ok
    })?;
    out.unwrap_or_else(|| Err(Error::new(code, "", "unreadable")))
}

/// Calls `f` on the fast tree, and again on serde_json's when that fails (non-generic, so
/// each reader adds only its closure).
fn with_tree(code: &'static str, json: &str, f: &mut dyn FnMut(&Json) -> bool) -> Result<()> {
    if let Some(t) = fast(json) {
        if f(&t) {
            return Ok(());
        }
    }
    let v: Value = Error::from_json(code, json)?;
    f(&Json::from_value(&v));
    Ok(())
}

/// Where a value sits in the input, built without allocating and rendered
/// (`rewards[0].coupon.type`) only when an error needs it.
#[derive(Clone, Copy)]
pub enum Path<'p> {
    Root(&'p str),
    Key(&'p Path<'p>, &'p str),
    Item(&'p Path<'p>, &'p str, usize),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    pub fn render(&self) -> String {
        match self {
            Path::Root(s) => s.to_string(),
            Path::Key(p, k) => join_path(&p.render(), k),
            Path::Item(p, k, i) => format!("{}[{i}]", join_path(&p.render(), k)),
            Path::Index(p, i) => format!("{}[{i}]", p.render()),
        }
    }
}

/// A JSON object being read, with its path and the error code for its kind of input.
pub struct Obj<'a, 'p> {
    map: &'a [(Cow<'a, str>, Json<'a>)],
    path: Path<'p>,
    code: &'static str,
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

impl<'a, 'p> Obj<'a, 'p> {
    /// Reads `v` as an object whose keys must all be in `fields`.
    pub fn new(code: &'static str, v: &'a Json<'a>, path: Path<'p>, fields: &[&str]) -> Result<Obj<'a, 'p>> {
        let map = v.as_object().ok_or_else(|| Error::new(code, path.render(), format!("expected an object, found {}", type_name(v))))?;
        if let Some(k) = map.iter().map(|(k, _)| k).find(|k| !fields.contains(&k.as_ref())) {
            return Err(Error::new(code, join_path(&path.render(), k), format!("unknown field \"{k}\", expected one of {}", fields.join(", "))));
        }
        Ok(Obj { map, path, code })
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn path(&self, key: &str) -> String {
        join_path(&self.path.render(), key)
    }

    pub fn here(&self) -> Path<'p> {
        self.path
    }

    pub fn err(&self, key: &str, msg: impl Into<String>) -> Error {
        Error::new(self.code, self.path(key), msg)
    }

    fn wrong(&self, key: &str, expected: &str, v: &Json) -> Error {
        self.err(key, format!("expected {expected}, found {}", type_name(v)))
    }

    /// The value at `key`, treating null as absent.
    pub fn get(&self, key: &str) -> Option<&'a Json<'a>> {
        let i = self.map.binary_search_by(|(k, _)| k.as_ref().cmp(key)).ok()?;
        Some(&self.map[i].1).filter(|v| !v.is_null())
    }

    pub fn require(&self, key: &str) -> Result<&'a Json<'a>> {
        self.get(key).ok_or_else(|| self.err(key, "is required"))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.to_string())),
            Some(v) => Err(self.wrong(key, "a string", v)),
        }
    }

    pub fn str(&self, key: &str) -> Result<String> {
        self.opt_str(key)?.ok_or_else(|| self.err(key, "is required"))
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Number(n)) => n.as_i64().map(Some).ok_or_else(|| self.err(key, format!("expected a whole number, found {n}"))),
            Some(v) => Err(self.wrong(key, "a whole number", v)),
        }
    }

    pub fn int(&self, key: &str) -> Result<i64> {
        self.opt_int(key)?.ok_or_else(|| self.err(key, "is required"))
    }

    pub fn int_or(&self, key: &str, default: i64) -> Result<i64> {
        Ok(self.opt_int(key)?.unwrap_or(default))
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Json::Bool(b)) => Ok(*b),
            Some(v) => Err(self.wrong(key, "true or false", v)),
        }
    }

    /// The array at `key` (empty when absent), each item with its path.
    pub fn list<'s>(&'s self, key: &'s str) -> Result<Vec<(Path<'s>, &'a Json<'a>)>> {
        match self.get(key) {
            None => Ok(vec![]),
            Some(Json::Array(a)) => Ok(a.iter().enumerate().map(|(i, v)| (Path::Item(&self.path, key, i), v)).collect()),
            Some(v) => Err(self.wrong(key, "an array", v)),
        }
    }

    pub fn opt_list<'s>(&'s self, key: &'s str) -> Result<Option<Vec<(Path<'s>, &'a Json<'a>)>>> {
        if self.get(key).is_none() {
            return Ok(None);
        }
        self.list(key).map(Some)
    }

    pub fn str_list(&self, key: &str) -> Result<Vec<String>> {
        self.list(key)?
            .into_iter()
            .map(|(p, v)| v.as_str().map(String::from).ok_or_else(|| Error::new(self.code, p.render(), format!("expected a string, found {}", type_name(v)))))
            .collect()
    }

    /// A nested object at `key`, if present.
    pub fn opt_obj<'s>(&'s self, key: &'s str, fields: &[&str]) -> Result<Option<Obj<'a, 's>>> {
        self.get(key).map(|v| Obj::new(self.code, v, Path::Key(&self.path, key), fields)).transpose()
    }

    pub fn obj<'s>(&'s self, key: &'s str, fields: &[&str]) -> Result<Obj<'a, 's>> {
        Obj::new(self.code, self.require(key)?, Path::Key(&self.path, key), fields)
    }

    /// A string that must be one of `names`, mapped to its value.
    pub fn one_of<T: Copy>(&self, key: &str, names: &[(&str, T)]) -> Result<Option<T>> {
        let Some(s) = self.opt_str(key)? else { return Ok(None) };
        names.iter().find(|(n, _)| *n == s).map(|(_, t)| Some(*t)).ok_or_else(|| {
            let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            self.err(key, format!("unknown variant \"{s}\", expected one of {}", all.join(", ")))
        })
    }

    /// A string parsed by `f`, whose error message gets this field's path.
    pub fn parsed<T>(&self, key: &str, f: impl Fn(&str) -> std::result::Result<T, String>) -> Result<Option<T>> {
        self.opt_str(key)?.map(|s| f(&s).map_err(|m| self.err(key, m))).transpose()
    }

    /// The object's entries (a JSON map of ids to values).
    pub fn entries(&self) -> impl Iterator<Item = (&'a str, &'a Json<'a>)> {
        self.map.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

/// Reads every item of a JSON array with `f`, or fails naming the item.
pub fn items<T>(code: &'static str, v: &Json, path: Path, f: impl Fn(&Json, Path) -> Result<T>) -> Result<Vec<T>> {
    let a = v.as_array().ok_or_else(|| Error::new(code, path.render(), format!("expected an array, found {}", type_name(v))))?;
    a.iter().enumerate().map(|(i, v)| f(v, Path::Index(&path, i))).collect()
}

/// Reads a JSON object of id -> value with `f`.
pub fn map<T>(code: &'static str, v: &Json, path: Path, f: impl Fn(&Json, Path) -> Result<T>) -> Result<Vec<(String, T)>> {
    let m = v.as_object().ok_or_else(|| Error::new(code, path.render(), format!("expected an object, found {}", type_name(v))))?;
    m.iter().map(|(k, v)| f(v, Path::Key(&path, k)).map(|t| (k.to_string(), t))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_parser_agrees_with_serde_json() {
        let same = [
            r#"{"b":1,"a":[true,false,null,-5,0,"x\"y\\z\n\t/"],"c":{},"d":[],"a":2}"#,
            " { \"k\" : [ 1 , { \"z\" : \"\" , \"y\" : 123456789012345678 } ] } ",
            r#""plain""#,
            r#"{"é":"ü","e":"\b\f\r"}"#,
        ];
        for s in same {
            let v: Value = serde_json::from_str(s).unwrap();
            assert_eq!(fast(s), Some(Json::from_value(&v)), "{s}");
            assert_eq!(fast(s).unwrap().to_string(), v.to_string());
            assert_eq!(Json::from_value(&v).to_string(), v.to_string());
        }
        // Left to serde_json: floats, big or odd numbers, \u escapes, errors.
        for s in ["1.5", "1e3", "-0", "12345678901234567890", r#""\u00e9""#, "[1,]", "{\"a\":1,}", "01", "[1] x", "\"a\u{1}\"", "nul", "{1:2}"] {
            assert_eq!(fast(s), None, "{s}");
        }
    }
}
