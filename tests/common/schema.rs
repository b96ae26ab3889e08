//! Checks what the engine writes against the generated response schemas (js/schema/), so a
//! schema that drifts from a `Serialize` fails the tests that exercise it. A validator of
//! the subset schemars writes for our types, stricter than JSON Schema in one way: an object
//! with `properties` is closed, since an output field the schema lacks is drift too.

use serde_json::Value;
use std::sync::OnceLock;

fn schemas() -> &'static [(&'static str, Value)] {
    static S: OnceLock<Vec<(&'static str, Value)>> = OnceLock::new();
    S.get_or_init(|| {
        let parse = |t: &str| serde_json::from_str(t).unwrap();
        vec![
            ("state", parse(include_str!("../../js/schema/state.schema.json"))),
            ("order-record", parse(include_str!("../../js/schema/order-record.schema.json"))),
            ("outcome", parse(include_str!("../../js/schema/outcome.schema.json"))),
            ("batch-outcome", parse(include_str!("../../js/schema/batch-outcome.schema.json"))),
            ("account-view", parse(include_str!("../../js/schema/account-view.schema.json"))),
            ("quote", parse(include_str!("../../js/schema/quote.schema.json"))),
        ]
    })
}

/// Panics, naming the path, unless `value` (serialized) is valid under js/schema/`name`.schema.json.
pub fn check(name: &str, value: &impl serde::Serialize) {
    let root = &schemas().iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no schema {name}")).1;
    let v = serde_json::to_value(value).unwrap();
    if let Err(e) = valid(root, root, &v, "") {
        panic!("{name}.schema.json: {e}\n{v}");
    }
}

fn valid(root: &Value, s: &Value, v: &Value, at: &str) -> Result<(), String> {
    let fail = |m: String| Err(format!("{}: {m}", if at.is_empty() { "(root)" } else { at }));
    if s == &Value::Bool(true) {
        return Ok(());
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("a local $ref");
        valid(root, &root["$defs"][name], v, at)?;
    }
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        if !alts.iter().any(|a| valid(root, a, v, at).is_ok()) {
            return fail("matches no alternative (anyOf)".into());
        }
    }
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        let n = alts.iter().filter(|a| valid(root, a, v, at).is_ok()).count();
        if n != 1 {
            let why: Vec<String> = alts.iter().filter_map(|a| valid(root, a, v, at).err()).collect();
            return fail(format!("matches {n} alternatives (oneOf), not one: {}", why.join("; ")));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            return fail(format!("{v} is not {c}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return fail(format!("{v} is not one of {}", Value::Array(e.clone())));
        }
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |t: &str| match t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        };
        if !types.iter().any(|t| is(t)) {
            return fail(format!("{v} is not {}", types.join(" or ")));
        }
    }
    if let (Some(p), Some(text)) = (s.get("pattern").and_then(Value::as_str), v.as_str()) {
        // The one pattern our outputs use: an exact fraction.
        assert_eq!(p, "^-?[0-9]+(/[0-9]+)?$", "a pattern this checker does not know");
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        let t = text.strip_prefix('-').unwrap_or(text);
        let ok = match t.split_once('/') {
            Some((n, d)) => digits(n) && digits(d),
            None => digits(t),
        };
        if !ok {
            return fail(format!("\"{text}\" does not match {p}"));
        }
    }
    if let Some(a) = v.as_array() {
        let n = a.len() as u64;
        if s.get("minItems").and_then(Value::as_u64).is_some_and(|m| n < m) || s.get("maxItems").and_then(Value::as_u64).is_some_and(|m| n > m) {
            return fail(format!("{n} items"));
        }
        let prefix = s.get("prefixItems").and_then(Value::as_array).map_or(&[][..], |p| p.as_slice());
        for (i, x) in a.iter().enumerate() {
            let item = prefix.get(i).or(s.get("items"));
            if let Some(item) = item {
                valid(root, item, x, &format!("{at}[{i}]"))?;
            }
        }
    }
    if let Some(o) = v.as_object() {
        let empty = serde_json::Map::new();
        let props = s.get("properties").and_then(Value::as_object);
        for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !o.contains_key(r.as_str().unwrap()) {
                return fail(format!("lacks {r}"));
            }
        }
        for (k, deps) in s.get("dependentRequired").and_then(Value::as_object).unwrap_or(&empty) {
            for d in deps.as_array().unwrap() {
                if o.contains_key(k) && !o.contains_key(d.as_str().unwrap()) {
                    return fail(format!("has {k} without {d}"));
                }
            }
        }
        for (k, x) in o {
            let path = format!("{at}.{k}");
            match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                (Some(p), _) => valid(root, p, x, &path)?,
                (None, Some(a)) if a.is_object() => valid(root, a, x, &path)?,
                (None, Some(Value::Bool(false))) => return fail(format!("has {k}, which the schema does not list")),
                (None, _) if props.is_some() => return fail(format!("has {k}, which the schema does not list")),
                (None, _) => {}
            }
        }
    }
    Ok(())
}
