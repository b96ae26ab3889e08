//! Every preset's canonical history (presets/<name>.events.jsonl) against the answers it
//! carries (presets/<name>.expected.json: the zone table, the coupon secret, each customer's
//! account view and every effect). tests/js/presets.test.js reads the same files through
//! the npm package's `loyalty replay`. The presets use tiers, product rules and campaigns:
//! they need the `status` rules, which `--no-default-features` leaves out.
#![cfg(feature = "status")]

use loyalty_engine::event::Event;
use loyalty_engine::time::Zone;
use serde_json::Value;

const PRESETS: &[&str] = &["bn", "bodyshop", "cvs", "dicks", "rei", "seed", "williams-sonoma"];

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/presets/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("presets/{path}: {e}"))
}

#[test]
fn every_preset_gives_the_answers_its_fixture_carries() {
    let mut listed: Vec<String> = std::fs::read_dir(format!("{}/presets", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .filter_map(|f| f.ok()?.file_name().into_string().ok()?.strip_suffix(".events.jsonl").map(String::from))
        .collect();
    listed.sort();
    assert_eq!(listed, PRESETS, "every preset history has its fixture, and only those");
    for name in PRESETS {
        let expected: Value = serde_json::from_str(&read(&format!("{name}.expected.json"))).unwrap();
        let zone = match &expected["zone"] {
            Value::Null => None,
            z => Some(Zone::parse(&z.to_string()).unwrap()),
        };
        let secret = expected["secret"].as_str().unwrap();
        let engine = loyalty_engine::Engine::new(&read(&format!("{name}.json")), zone, secret.as_bytes()).unwrap();
        let events: Vec<Value> = read(&format!("{name}.events.jsonl")).lines().filter(|l| !l.is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
        let events = Event::parse_many(&Value::Array(events).to_string(), &engine.program).unwrap();
        let out = engine.apply_batch(Default::default(), Default::default(), &events).unwrap();
        let customers = expected["customers"].as_object().unwrap();
        assert_eq!(customers.len(), out.states.len(), "{name}: customers");
        for (customer, view) in customers {
            let got = serde_json::to_value(engine.view(&out.states[customer])).unwrap();
            assert_eq!(&got, view, "{name}: {customer}");
        }
        assert_eq!(serde_json::to_value(&out.effects).unwrap(), expected["effects"], "{name}: effects");
    }
}
