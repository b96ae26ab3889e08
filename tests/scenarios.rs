//! The shared scenario files under tests/scenarios/ (program, events, expected output) run
//! natively here, and through the npm package's CLI in tests/js/cli.test.js.
mod common;

use common::ToJson;
use loyalty_engine::event::Event;
use serde_json::Value;

#[test]
fn seed_scenario_matches_its_expected_output() {
    let program = common::seed_program();
    let zone = common::zone_for("Europe/Oslo");
    let engine = loyalty_engine::Engine::new(&program.to_string(), zone, b"demo-secret").unwrap();
    let events: Vec<Value> = include_str!("scenarios/seed.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let events = Event::parse_many(&Value::Array(events).to_string(), &engine.program).unwrap();
    let out = engine.apply_batch(Default::default(), Default::default(), &events).unwrap();
    common::schema::check("batch-outcome", &out);
    let expected: Value = serde_json::from_str(include_str!("scenarios/seed.expected.json")).unwrap();
    for (customer, view) in expected["customers"].as_object().unwrap() {
        let got = serde_json::from_str::<Value>(&engine.view(&out.states[customer]).to_json()).unwrap();
        assert_eq!(&got, view, "{customer}");
    }
    assert_eq!(serde_json::from_str::<Value>(&out.effects.to_json()).unwrap(), expected["effects"]);
}
