//! Reading JSON input field by field, with the JSON path of every field at hand. serde's
//! derived deserializers cost several KB of wasm per type (over 100 KB for this engine);
//! these few non-generic readers over `serde_json::Value` cost almost nothing per field and
//! name the exact path in every error (`rewards[0].coupon.type: unknown variant "percnt",
//! expected one of percent, fixed, free_shipping`). Output still uses serde's `Serialize`.

use crate::error::{join_path, Error, Result};
use serde_json::{Map, Value};

/// Parses JSON text; a syntax error names the path where it happened.
pub fn parse(code: &'static str, json: &str) -> Result<Value> {
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
    map: &'a Map<String, Value>,
    path: Path<'p>,
    code: &'static str,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a, 'p> Obj<'a, 'p> {
    /// Reads `v` as an object whose keys must all be in `fields`.
    pub fn new(code: &'static str, v: &'a Value, path: Path<'p>, fields: &[&str]) -> Result<Obj<'a, 'p>> {
        let map = v.as_object().ok_or_else(|| Error::new(code, path.render(), format!("expected an object, found {}", type_name(v))))?;
        if let Some(k) = map.keys().find(|k| !fields.contains(&k.as_str())) {
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

    fn wrong(&self, key: &str, expected: &str, v: &Value) -> Error {
        self.err(key, format!("expected {expected}, found {}", type_name(v)))
    }

    /// The value at `key`, treating null as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn require(&self, key: &str) -> Result<&'a Value> {
        self.get(key).ok_or_else(|| self.err(key, "is required"))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.wrong(key, "a string", v)),
        }
    }

    pub fn str(&self, key: &str) -> Result<String> {
        self.opt_str(key)?.ok_or_else(|| self.err(key, "is required"))
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| self.err(key, format!("expected a whole number, found {n}"))),
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
    pub fn list<'s>(&'s self, key: &'s str) -> Result<Vec<(Path<'s>, &'a Value)>> {
        match self.get(key) {
            None => Ok(vec![]),
            Some(Value::Array(a)) => Ok(a.iter().enumerate().map(|(i, v)| (Path::Item(&self.path, key, i), v)).collect()),
            Some(v) => Err(self.wrong(key, "an array", v)),
        }
    }

    pub fn opt_list<'s>(&'s self, key: &'s str) -> Result<Option<Vec<(Path<'s>, &'a Value)>>> {
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
    pub fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.map.iter()
    }
}

/// Reads every item of a JSON array with `f`, or fails naming the item.
pub fn items<T>(code: &'static str, v: &Value, path: Path, f: impl Fn(&Value, Path) -> Result<T>) -> Result<Vec<T>> {
    let a = v.as_array().ok_or_else(|| Error::new(code, path.render(), format!("expected an array, found {}", type_name(v))))?;
    a.iter().enumerate().map(|(i, v)| f(v, Path::Index(&path, i))).collect()
}

/// Reads a JSON object of id -> value with `f`.
pub fn map<T>(code: &'static str, v: &Value, path: Path, f: impl Fn(&Value, Path) -> Result<T>) -> Result<Vec<(String, T)>> {
    let m = v.as_object().ok_or_else(|| Error::new(code, path.render(), format!("expected an object, found {}", type_name(v))))?;
    m.iter().map(|(k, v)| f(v, Path::Key(&path, k)).map(|t| (k.clone(), t))).collect()
}
