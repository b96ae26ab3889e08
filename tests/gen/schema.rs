//! Writes what is generated from the wire types, so that each shape is declared once, in
//! Rust: `js/schema/*.schema.json` (JSON Schema, e.g. for the admin's program editor) and
//! the generated part of `js/index.d.ts` (between the markers below).
//!
//!     cargo run --example schema --features schema            # write
//!     cargo run --example schema --features schema -- --check # fail if stale (scripts/test.sh)

use loyalty_engine::earn::OrderRecord;
use loyalty_engine::engine::{Batch, Outcome, Quote, View};
use loyalty_engine::event::{union::LoyaltyEvent, CartIn, EventIn};
use loyalty_engine::ledger::Account;
use loyalty_engine::spec::ProgramSpec;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};
use std::fmt::Write;

const BEGIN: &str = "// --- generated from the Rust types by tests/gen/schema.rs: do not edit ---\n";
const END: &str = "// --- end of generated types ---\n";

/// What the engine reads, as serde reads it: a field with a default may be left out.
fn input<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>()
}

/// What the engine writes, as serde writes it: a field is left out only where
/// `skip_serializing_if` says so, and an `Option` without it is there, maybe null. An
/// `Option` that is left out is left out when `None` (`Option::is_none`, or the hand-written
/// `Serialize` of `OrderRecord`): it is never null, and `never_null` says so.
fn output<T: JsonSchema>() -> Schema {
    let mut schema = SchemaSettings::draft2020_12().for_serialize().into_generator().into_root_schema_for::<T>();
    let inputs = input_defs();
    let v = schema.as_object_mut().unwrap();
    never_null(v);
    for (name, d) in v.get_mut("$defs").and_then(Value::as_object_mut).into_iter().flatten() {
        // Input types inside an output (an `event` effect) keep the input contract.
        if !inputs.contains(name) {
            never_null(d.as_object_mut().unwrap());
        }
    }
    schema
}

/// The types of the inputs' schemas.
fn input_defs() -> Vec<String> {
    [input::<ProgramSpec>(), input::<EventIn>(), input::<LoyaltyEvent>(), input::<CartIn>()]
        .iter()
        .flat_map(|s| s.get("$defs").and_then(Value::as_object).into_iter().flat_map(|d| d.keys().cloned()).chain(s.get("title").and_then(Value::as_str).map(String::from)))
        .collect()
}

/// An output object's optional properties without `null` (see `output`), in its variants
/// too (a tagged enum's `oneOf`).
fn never_null(o: &mut Map<String, Value>) {
    for key in ["oneOf", "anyOf"] {
        for alt in o.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(alt) = alt.as_object_mut() {
                never_null(alt);
            }
        }
    }
    let required: Vec<Value> = o.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    for (k, p) in o.get_mut("properties").and_then(Value::as_object_mut).into_iter().flatten() {
        if required.contains(&Value::String(k.clone())) {
            continue;
        }
        let p = p.as_object_mut().unwrap();
        if let Some(Value::Array(types)) = p.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let t = types.remove(0);
                p.insert("type".into(), t);
            }
        }
        if let Some(Value::Array(alts)) = p.get("anyOf") {
            let kept: Vec<Value> = alts.iter().filter(|a| a.get("type").and_then(Value::as_str) != Some("null")).cloned().collect();
            if kept.len() == 1 {
                p.remove("anyOf");
                let one = kept.into_iter().next().unwrap();
                for (k, v) in one.as_object().unwrap() {
                    p.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    // Each file's root is declared in TypeScript under `ts_name` of its title. `event` is the
    // one flat object serde reads (the server's route schemas; `EventFields`), `loyalty-event`
    // the union by `type` that hosts write (`LoyaltyEvent`).
    let schemas: Vec<(&str, Schema)> = vec![
        ("program", input::<ProgramSpec>()),
        ("event", input::<EventIn>()),
        ("loyalty-event", input::<LoyaltyEvent>()),
        ("cart", input::<CartIn>()),
        ("state", output::<Account>()),
        ("order-record", output::<OrderRecord>()),
        ("outcome", output::<Outcome>()),
        ("batch-outcome", output::<Batch>()),
        ("account-view", output::<View>()),
        ("quote", output::<Quote>()),
    ];
    let mut files: Vec<(String, String)> = Vec::new();
    let mut ts = Ts::default();
    for (file, schema) in &schemas {
        let v = schema.as_value();
        files.push((format!("{root}js/schema/{file}.schema.json"), serde_json::to_string_pretty(v).unwrap() + "\n"));
        ts.root(v);
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
    /// Each name declared, with its schema: a second type under a name is an error, not a
    /// declaration silently skipped.
    done: Vec<(String, Value)>,
}

/// The TypeScript name of a Rust wire type.
fn ts_name(rust: &str) -> String {
    match rust {
        "ProgramSpec" => "Program".into(),
        "OrderIn" => "Order".into(),
        "LineIn" => "OrderLine".into(),
        "CartIn" => "Cart".into(),
        "EventIn" => "EventFields".into(),
        "RefundLineIn" => "RefundLine".into(),
        "MatchSpec" => "ProductMatch".into(),
        "TierPerksSpec" => "TierPerks".into(),
        "CouponKind" => "CouponType".into(),
        "Period" => "PlanPeriod".into(),
        "Account" => "AccountState".into(),
        // The program's `Coupon` is a reward's terms; the account's, one issued.
        "Coupon" => "AccountCoupon".into(),
        "Status" => "MembershipStatus".into(),
        "Counts" => "ActionCounts".into(),
        "Month" => "MonthActivity".into(),
        "Take" => "LotTake".into(),
        "View" => "AccountView".into(),
        "Batch" => "BatchOutcome".into(),
        // `Outcome` adds the texts js/engine.js puts beside these fields (js/index.d.ts).
        "Outcome" => "OutcomeFields".into(),
        n => n.strip_suffix("Spec").unwrap_or(n).into(),
    }
}

impl Ts {
    fn root(&mut self, v: &Value) {
        let mut own = v.as_object().unwrap().clone();
        for k in ["$schema", "$defs", "title"] {
            own.remove(k);
        }
        let title = v["title"].as_str().unwrap();
        self.decl(&ts_name(title), &Value::Object(own));
        for (k, d) in v.get("$defs").and_then(Value::as_object).into_iter().flatten() {
            self.decl(&ts_name(k), d);
        }
    }

    fn decl(&mut self, name: &str, v: &Value) {
        if let Some((_, seen)) = self.done.iter().find(|(n, _)| n == name) {
            assert!(seen == v, "two types are declared as {name}: rename one in ts_name\n{seen}\n{v}");
            return;
        }
        self.done.push((name.to_string(), v.clone()));
        doc(&mut self.out, v, "");
        let alts = v.get("oneOf").or(v.get("anyOf")).and_then(Value::as_array);
        if v.get("properties").is_some() {
            let body = object(v, "");
            writeln!(self.out, "export interface {name} {body}").unwrap();
        } else if let Some(alts) = alts.filter(|a| a.iter().all(|x| x.get("properties").is_some())) {
            // A union of objects (a tagged enum): one variant after the other, each with its doc.
            writeln!(self.out, "export type {name} =").unwrap();
            for (i, alt) in alts.iter().enumerate() {
                doc(&mut self.out, alt, "  ");
                let end = if i + 1 == alts.len() { ";" } else { "" };
                writeln!(self.out, "  | {}{end}", object(alt, "  ")).unwrap();
            }
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
    // The tag first, as serde writes it.
    let mut props: Vec<(&String, &Value)> = props.iter().collect();
    props.sort_by_key(|(k, _)| *k != "type");
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
            "array" if v.get("prefixItems").is_some() => {
                let items = v["prefixItems"].as_array().unwrap();
                format!("[{}]", items.iter().map(|i| ty(i, indent)).collect::<Vec<_>>().join(", "))
            }
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
