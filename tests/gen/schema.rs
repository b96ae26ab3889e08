//! Writes what is generated from the wire types, so that each shape is declared once, in
//! Rust: `js/schema/*.schema.json` (JSON Schema, e.g. for the admin's program editor) and
//! the generated part of `js/index.d.ts` (between the markers below).
//!
//!     cargo run --example schema --features schema            # write
//!     cargo run --example schema --features schema -- --check # fail if stale (scripts/test.sh)

use loyalty_engine::event::{CartIn, EventIn};
use loyalty_engine::spec::ProgramSpec;
use schemars::{schema_for, Schema};
use serde_json::{Map, Value};
use std::fmt::Write;

const BEGIN: &str = "// --- generated from the Rust types by tests/gen/schema.rs: do not edit ---\n";
const END: &str = "// --- end of generated types ---\n";

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    let schemas: [(&str, &str, Schema); 3] = [
        ("program", "Program", schema_for!(ProgramSpec)),
        ("event", "EventFields", schema_for!(EventIn)),
        ("cart", "Cart", schema_for!(CartIn)),
    ];
    let mut files: Vec<(String, String)> = Vec::new();
    let mut ts = Ts::default();
    for (file, name, schema) in &schemas {
        let v = schema.as_value();
        files.push((format!("{root}js/schema/{file}.schema.json"), serde_json::to_string_pretty(v).unwrap() + "\n"));
        ts.root(name, v);
    }
    let dts_path = format!("{root}js/index.d.ts");
    let dts = std::fs::read_to_string(&dts_path).unwrap();
    let (Some(a), Some(b)) = (dts.find(BEGIN), dts.find(END)) else { panic!("js/index.d.ts lacks the generated-types markers") };
    files.push((dts_path, format!("{}{BEGIN}{}{}", &dts[..a], ts.out, &dts[b..])));
    let mut stale = Vec::new();
    for (path, text) in files {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if check {
                stale.push(path);
            } else {
                std::fs::write(&path, text).unwrap();
                println!("wrote {path}");
            }
        }
    }
    if !stale.is_empty() {
        eprintln!("stale generated files (run `cargo run --example schema --features schema`):\n  {}", stale.join("\n  "));
        std::process::exit(1);
    }
}

/// TypeScript declarations of the subset of JSON Schema that schemars writes for our types.
#[derive(Default)]
struct Ts {
    out: String,
    done: Vec<String>,
}

/// The TypeScript name of a Rust wire type.
fn ts_name(rust: &str) -> String {
    match rust {
        "ProgramSpec" => "Program".into(),
        "OrderIn" => "Order".into(),
        "LineIn" => "OrderLine".into(),
        "CartIn" => "Cart".into(),
        "RefundLineIn" => "RefundLine".into(),
        "MatchSpec" => "ProductMatch".into(),
        "TierPerksSpec" => "TierPerks".into(),
        "CouponKind" => "CouponType".into(),
        "Period" => "PlanPeriod".into(),
        n => n.strip_suffix("Spec").unwrap_or(n).into(),
    }
}

impl Ts {
    fn root(&mut self, name: &str, v: &Value) {
        let defs = v.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
        self.decl(name, v);
        for (k, d) in &defs {
            let n = ts_name(k);
            if !self.done.contains(&n) {
                self.done.push(n.clone());
                self.decl(&n, d);
            }
        }
    }

    fn decl(&mut self, name: &str, v: &Value) {
        doc(&mut self.out, v, "");
        if v.get("properties").is_some() {
            let body = object(v, "");
            writeln!(self.out, "export interface {name} {body}").unwrap();
        } else {
            writeln!(self.out, "export type {name} = {};", ty(v, "")).unwrap();
        }
    }
}

fn doc(out: &mut String, v: &Value, indent: &str) {
    if let Some(d) = v.get("description").and_then(Value::as_str) {
        writeln!(out, "{indent}/** {} */", d.replace('\n', " ")).unwrap();
    }
}

fn object(v: &Value, indent: &str) -> String {
    let empty = Map::new();
    let props = v.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    let required: Vec<&str> = v.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut out = String::from("{\n");
    for (k, p) in props {
        doc(&mut out, p, &inner);
        let opt = if required.contains(&k.as_str()) { "" } else { "?" };
        writeln!(out, "{inner}{k}{opt}: {};", ty(p, &inner)).unwrap();
    }
    out.push_str(indent);
    out.push('}');
    out
}

fn ty(v: &Value, indent: &str) -> String {
    if v == &Value::Bool(true) {
        return "unknown".into();
    }
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        return ts_name(r.rsplit('/').next().unwrap_or(r));
    }
    if let Some(e) = v.get("enum").and_then(Value::as_array) {
        return e.iter().map(|x| x.to_string().replace('"', "'")).collect::<Vec<_>>().join(" | ");
    }
    if let Some(c) = v.get("const") {
        return c.to_string().replace('"', "'");
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = v.get(key).and_then(Value::as_array) {
            return alts.iter().map(|a| ty(a, indent)).collect::<Vec<_>>().join(" | ");
        }
    }
    let one = |t: &str| -> String {
        match t {
            "string" => "string".into(),
            "integer" | "number" => "number".into(),
            "boolean" => "boolean".into(),
            "null" => "null".into(),
            "array" => match v.get("items") {
                Some(i) => {
                    let t = ty(i, indent);
                    if t.contains(' ') { format!("Array<{t}>") } else { format!("{t}[]") }
                }
                None => "unknown[]".into(),
            },
            "object" if v.get("properties").is_some() => object(v, indent),
            "object" => match v.get("additionalProperties") {
                Some(a) if a.is_object() => format!("Record<string, {}>", ty(a, indent)),
                _ => "Record<string, unknown>".into(),
            },
            _ => "unknown".into(),
        }
    };
    match v.get("type") {
        Some(Value::String(t)) => one(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(one).collect::<Vec<_>>().join(" | "),
        _ => "unknown".into(),
    }
}
