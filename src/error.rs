//! One error type for the whole engine: a stable code, the JSON path of the bad field, and a
//! message a merchant or developer can act on. Business outcomes ("not enough points") are
//! data in the outcome, never errors.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Stable machine-readable code: `invalid_program`, `invalid_event`, `invalid_state`, ...
    pub code: &'static str,
    /// JSON path of the offending field (`rewards[0].coupon.type`), empty for the whole input.
    pub path: String,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error { code, path: path.into(), message: message.into() }
    }
    pub fn program(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new("invalid_program", path, message)
    }
    pub fn event(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new("invalid_event", path, message)
    }

    /// Prefixes the path with an outer field (`order` + `lines[0].id` = `order.lines[0].id`).
    pub fn within(mut self, outer: &str) -> Self {
        self.path = join_path(outer, &self.path);
        self
    }
}

/// Reads JSON text into `T`, an error naming the JSON path where it happened
/// (`order.lines[0].size: unknown field "size", expected one of id, sku, ...`).
///
/// The path comes from where serde_json stopped (`path_at`), not from serde_path_to_error,
/// whose wrapper around every derived deserializer would not fit the browser module's budget.
pub fn from_json<T: serde::de::DeserializeOwned>(code: &'static str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| {
        let message = e.to_string();
        // serde_json ends its message with the position, which the path replaces.
        let at = format!(" at line {} column {}", e.line(), e.column());
        let message = message.strip_suffix(at.as_str()).unwrap_or(&message);
        // A missing field is found at the end of its object: the path is the object's.
        let object_only = message.starts_with("missing field");
        serde_error(code, path_at(json, e.line(), e.column(), object_only), message)
    })
}

/// An error of serde's in our words: no line and column (the path says where), names in
/// quotes once (`unknown variant "percnt", expected one of percent, fixed`), and a missing
/// field named by its path (`order.currency: is required`).
pub fn serde_error(code: &'static str, path: String, message: &str) -> Error {
    if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
        return Error::new(code, join_path(&path, field), "is required");
    }
    if let Some(m) = message.strip_prefix("invalid type: ") {
        return Error::new(code, path, invalid_type(m));
    }
    if !message.starts_with("unknown ") {
        return Error::new(code, path, message);
    }
    // The first name quoted, the names it could have been plain.
    let mut out = String::with_capacity(message.len());
    for (i, part) in message.split('`').enumerate() {
        if i == 1 {
            out.push('"');
            out.push_str(part);
            out.push('"');
        } else {
            out.push_str(part);
        }
    }
    Error::new(code, path, out)
}

/// serde's "string \"10\", expected i64" as "expected a whole number, found a string".
fn invalid_type(m: &str) -> String {
    // What serde expected never has a comma (i64, a string, struct LineIn, ...).
    let Some((found, expected)) = m.rsplit_once(',').and_then(|(f, e)| Some((f, e.strip_prefix(" expected ")?))) else { return format!("invalid type: {m}") };
    let found = match found.split_once(' ').map_or(found, |f| f.0) {
        "string" => "a string".to_string(),
        "integer" => "a number".to_string(),
        "floating" => found.rsplit('`').nth(1).unwrap_or("a number").to_string(),
        "boolean" => "a boolean".to_string(),
        "map" => "an object".to_string(),
        "sequence" => "an array".to_string(),
        f => f.to_string(),
    };
    let expected = match expected {
        "i64" | "u64" | "i32" | "u32" | "usize" => "a whole number",
        "a boolean" => "true or false",
        "a sequence" => "an array",
        e if e.starts_with("struct ") || e == "a map" || e == "an object" => "an object",
        e => e,
    };
    format!("expected {expected}, found {found}")
}

/// The JSON path (`rewards[0].coupon.type`) at a line and column of a JSON text, found by
/// scanning the text up to there. It replaces serde_path_to_error, whose wrappers around
/// every deserializer would not fit the browser module's budget.
pub fn path_at(text: &str, line: usize, column: usize, object_only: bool) -> String {
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let b = text.as_bytes();
    // Where the line starts: after its (line - 1)th newline (past the end if there are fewer).
    let mut start = 0;
    let mut lines = line.saturating_sub(1);
    for (i, &c) in b.iter().enumerate() {
        if lines == 0 {
            break;
        }
        if c == b'\n' {
            start = i + 1;
            lines -= 1;
        }
    }
    if lines > 0 {
        start = b.len() + 1;
    }
    // serde_json's column is that of the last byte it read; stop before it so the object a
    // "missing field" error closes is still open.
    let end = (start + column).saturating_sub(1).min(b.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        match b[i] {
            b'{' => stack.push(Frame::Object(None)),
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(k)) => *k = None,
                None => {}
            },
            b'"' => {
                let s = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object(k @ None)) = stack.last_mut() {
                    *k = text.get(s..i.min(b.len())).map(String::from);
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let (true, Some(Frame::Object(k))) = (object_only, stack.last_mut()) {
        *k = None;
    }
    let mut path = String::new();
    for f in &stack {
        match f {
            Frame::Object(Some(k)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => {
                path.push_str(&format!("[{n}]"));
            }
        }
    }
    path
}

pub fn join_path(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty()) {
        (true, _) => inner.to_string(),
        (_, true) => outer.to_string(),
        _ if inner.starts_with('[') => format!("{outer}{inner}"),
        _ => format!("{outer}.{inner}"),
    }
}

/// Where a value sits in the input, for the errors a check finds after serde has read it.
#[derive(Debug, Clone)]
pub struct At {
    pub code: &'static str,
    pub path: String,
}

impl At {
    pub fn new(code: &'static str, path: impl Into<String>) -> At {
        At { code, path: path.into() }
    }
    /// An error at `key` below here ("" for here).
    pub fn err(&self, key: &str, msg: impl Into<String>) -> Error {
        Error::new(self.code, join_path(&self.path, key), msg)
    }
    pub fn key(&self, key: &str) -> At {
        At::new(self.code, join_path(&self.path, key))
    }
    /// Item `i` of the array at `key`.
    pub fn item(&self, key: &str, i: usize) -> At {
        At::new(self.code, format!("{}[{i}]", join_path(&self.path, key)))
    }
    /// `f` of an optional text at `key`, its error message given this path. `f` is a `dyn`:
    /// one copy per type read, not one per parser passed.
    pub fn parsed<T>(&self, key: &str, v: Option<&str>, f: &dyn Fn(&str) -> std::result::Result<T, String>) -> Result<Option<T>> {
        v.map(|s| f(s).map_err(|m| self.err(key, m))).transpose()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> Error {
        from_json::<serde::de::IgnoredAny>("invalid_program", json).unwrap_err()
    }

    #[test]
    fn syntax_errors_name_the_json_path() {
        let e = err(r#"{"name":"x","items":[{"kind":"fixed","n":1},{"kind":percnt,"n":2}]}"#);
        assert_eq!((e.path.as_str(), e.message.as_str()), ("items[1].kind", "expected value"));
        assert_eq!(err(r#"{"name":"x","items":[{"kind":"fixed","n":1 2}]}"#).path, "items[0].n");
        assert_eq!(err(r#"{"name":"x","items":[],"extra":}"#).path, "extra");
        assert_eq!(err("{\n  \"name\": x,\n  \"items\": []\n}").path, "name");
        assert_eq!(err(r#"{"name":"a\"b","items":[{"kind":?,"n":1}]}"#).path, "items[0].kind");
        assert_eq!(err("").path, "");
        assert_eq!(err("").message, "EOF while parsing a value");
        assert_eq!(err("{} x").message, "trailing characters");
    }

    #[test]
    fn line_starts_match_the_split_formula() {
        // The byte scan in path_at against the `split('\n')` sum it replaced, past the last
        // line too: the paths agree for every line and column.
        let text = "{\n\"a\": [1,\n2, {\"b\":\n3}],\n\"c\": 4\n}";
        for line in 0..9usize {
            let start: usize = text.split('\n').take(line.saturating_sub(1)).map(|l| l.len() + 1).sum();
            for column in 1..12 {
                assert_eq!(path_at(text, line, column, false), path_at(text, 1, start + column, false), "line {line} column {column}");
            }
        }
    }
}
