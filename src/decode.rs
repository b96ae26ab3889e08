//! Reading JSON input field by field, with the JSON path of every field at hand. serde's
//! derived deserializers cost several KB of wasm per type (tens of KB for this engine);
//! these few non-generic readers over the engine's own `json::Value` cost almost nothing per
//! field and name the exact path in every error (`rewards[0].coupon.type: unknown variant
//! "percnt", expected one of percent, fixed, free_shipping`). Output is `json::ToJson`.

use crate::error::{join_path, Error, Result};
use crate::json::{same, text};
pub use crate::json::Value;
use std::borrow::Cow;

type Map<'a> = [(Cow<'a, str>, Value<'a>)];

/// Parses JSON text; a syntax error names the path where it happened.
pub fn parse<'t>(code: &'static str, json: &'t str) -> Result<Value<'t>> {
    Error::from_json(code, json)
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
    map: &'a Map<'a>,
    path: Path<'p>,
    code: &'static str,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Number(_) => "a number",
        Value::Str(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a, 'p> Obj<'a, 'p> {
    /// Reads `v` as an object whose keys must all be in `fields`.
    pub fn new(code: &'static str, v: &'a Value<'a>, path: Path<'p>, fields: &[&str]) -> Result<Obj<'a, 'p>> {
        let Some(map) = v.as_object() else { return Err(not_a(code, path, "an object", v)) };
        if let Some((k, _)) = map.iter().find(|(k, _)| !fields.iter().any(|f| same(f, text(k)))) {
            return Err(Error::new(code, join_path(&path.render(), k), format!("unknown field \"{k}\", expected one of {}", fields.join(", "))));
        }
        Ok(Obj { map, path, code })
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    fn path(&self, key: &str) -> String {
        join_path(&self.path.render(), key)
    }

    pub fn here(&self) -> Path<'p> {
        self.path
    }

    pub fn err(&self, key: &str, msg: impl Into<String>) -> Error {
        Error::new(self.code, self.path(key), msg)
    }

    fn wrong(&self, key: &str, expected: &str, v: &Value) -> Error {
        self.err(key, format!("expected {expected}, found {}", type_name(v)))
    }

    /// The value at `key`, treating null as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value<'a>> {
        let m = self.map;
        // Objects are few keys: a scan beats a binary search.
        m.iter().find(|(k, _)| same(text(k), key)).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<String>> {
        Ok(self.opt_text(key)?.map(String::from))
    }

    /// The string at `key`, borrowed from the input.
    #[inline(never)]
    pub fn opt_text(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.as_ref())),
            Some(v) => Err(self.wrong(key, "a string", v)),
        }
    }

    /// The string at `key`, borrowed from the input: for one only compared or checked.
    pub fn text(&self, key: &str) -> Result<&'a str> {
        self.opt_text(key)?.ok_or_else(|| self.err(key, "is required"))
    }

    pub fn str(&self, key: &str) -> Result<String> {
        self.opt_str(key)?.ok_or_else(|| self.err(key, "is required"))
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(n @ Value::Number(_)) => Err(self.err(key, format!("expected a whole number, found {}", crate::json::number_text(n)))),
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
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.wrong(key, "true or false", v)),
        }
    }

    /// The array at `key` (empty when absent), each item with its path.
    pub fn list<'s>(&'s self, key: &'s str) -> Result<Vec<(Path<'s>, &'a Value<'a>)>> {
        match self.get(key) {
            None => Ok(vec![]),
            Some(Value::Array(a)) => Ok(a.iter().enumerate().map(|(i, v)| (Path::Item(&self.path, key, i), v)).collect()),
            Some(v) => Err(self.wrong(key, "an array", v)),
        }
    }

    pub fn str_list(&self, key: &str) -> Result<Vec<String>> {
        // Read in place, not through `list`'s Vec of paths.
        let a = match self.get(key) {
            None => return Ok(vec![]),
            Some(Value::Array(a)) => a,
            Some(v) => return Err(self.wrong(key, "an array", v)),
        };
        let mut out = Vec::with_capacity(a.len());
        for (i, v) in a.iter().enumerate() {
            match v {
                Value::Str(s) => out.push(String::from(text(s))),
                _ => return Err(not_a(self.code, Path::Item(&self.path, key, i), "a string", v)),
            }
        }
        Ok(out)
    }

    /// A nested object at `key`, if present.
    pub fn opt_obj<'s>(&'s self, key: &'s str, fields: &[&str]) -> Result<Option<Obj<'a, 's>>> {
        self.get(key).map(|v| Obj::new(self.code, v, Path::Key(&self.path, key), fields)).transpose()
    }

    /// A string that must be one of `names`, mapped to its value.
    pub fn one_of<T: Copy>(&self, key: &str, names: &[(&str, T)]) -> Result<Option<T>> {
        let Some(s) = self.opt_text(key)? else { return Ok(None) };
        names.iter().find(|(n, _)| *n == s).map(|(_, t)| Some(*t)).ok_or_else(|| {
            let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            self.err(key, format!("unknown variant \"{s}\", expected one of {}", all.join(", ")))
        })
    }

    /// A string parsed by `f`, whose error message gets this field's path.
    pub fn parsed<T>(&self, key: &str, f: impl Fn(&str) -> std::result::Result<T, String>) -> Result<Option<T>> {
        self.parsed_by(key, &f)
    }

    /// `parsed`, compiled once per type read rather than once per parser passed (each copy
    /// cost about 300 bytes of wasm).
    #[inline(never)]
    fn parsed_by<T>(&self, key: &str, f: &dyn Fn(&str) -> std::result::Result<T, String>) -> Result<Option<T>> {
        match self.opt_text(key)? {
            None => Ok(None),
            Some(s) => f(s).map(Some).map_err(|m| self.err(key, m)),
        }
    }
}

/// "expected an object, found a string" at `path`.
fn not_a(code: &'static str, path: Path, expected: &str, v: &Value) -> Error {
    Error::new(code, path.render(), format!("expected {expected}, found {}", type_name(v)))
}

/// Reads every item of a JSON array with `f`, or fails naming the item.
pub fn items<'a, T>(code: &'static str, v: &'a Value<'a>, path: Path, f: impl Fn(&'a Value<'a>, Path) -> Result<T>) -> Result<Vec<T>> {
    let Some(a) = v.as_array() else { return Err(not_a(code, path, "an array", v)) };
    let mut out = Vec::with_capacity(a.len());
    for (i, v) in a.iter().enumerate() {
        out.push(f(v, Path::Index(&path, i))?);
    }
    Ok(out)
}

/// Reads a JSON object of id -> value with `f`.
pub fn map<'a, T>(code: &'static str, v: &'a Value<'a>, path: Path, f: impl Fn(&'a Value<'a>, Path) -> Result<T>) -> Result<Vec<(String, T)>> {
    let Some(m) = v.as_object() else { return Err(not_a(code, path, "an object", v)) };
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        out.push((String::from(k.as_ref()), f(v, Path::Key(&path, k))?));
    }
    Ok(out)
}
