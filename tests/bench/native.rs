//! Native baseline for `npm run bench`: runs the workload file the JS bench writes through
//! the same path as the wasm boundary (JSON in, core, JSON out) and prints events/s.
use loyalty_engine::earn::OrderRecord;
use loyalty_engine::event::Event;
use loyalty_engine::cache::StateCache;
use loyalty_engine::ledger::Account;
use loyalty_engine::time::Zone;
use loyalty_engine::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Instant;

/// The JSON text a host stores and reads back: serde_json over the engine's derives.
fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("simulate") {
        return simulate();
    }
    let path = std::env::args().nth(1).expect("usage: bench_native WORKLOAD.json | simulate PROGRAM.json ZONE.json HISTORY.jsonl");
    let w: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let zone = w["zone"].as_object().map(|_| Zone::parse(&w["zone"].to_string()).unwrap());
    let engine = Engine::new(&w["program"].to_string(), zone, b"bench").unwrap();
    let state = w["state"].to_string();
    let events: Vec<String> = w["events"].as_array().unwrap().iter().map(|e| e.to_string()).collect();

    // `BENCH_LOOP=event|state|apply|encode|batch N`: one phase in a loop, for a profiler
    // (`batch`: N/1000 batches of the 1,000 batch events).
    if let Ok(phase) = std::env::var("BENCH_LOOP") {
        let n: usize = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        if phase == "batch" {
            let states = w["batch_states"].to_string();
            let batch = Value::Array(w["events"].as_array().unwrap()[..1000].to_vec()).to_string();
            for _ in 0..n / 1000 {
                let m = serde_json::from_str::<HashMap<String, Account>>(&states).unwrap();
                let evs = Event::parse_many(&batch, &engine.program).unwrap();
                std::hint::black_box(to_json(&engine.apply_batch(m.into_iter().collect(), Default::default(), &evs).unwrap()));
            }
            return;
        }
        let s = Account::parse(&state).unwrap();
        let ev = Event::parse(&events[0], &engine.program).unwrap();
        let out = engine.apply(Some(s.clone()), None, &ev).unwrap();
        for i in 0..n {
            match phase.as_str() {
                "event" => drop(std::hint::black_box(Event::parse(&events[i % events.len()], &engine.program).unwrap())),
                "state" => drop(std::hint::black_box(Account::parse(&state).unwrap())),
                "apply" => drop(std::hint::black_box(engine.apply(Some(s.clone()), None, &ev).unwrap())),
                "encode" => drop(std::hint::black_box(to_json(&out))),
                _ => panic!("BENCH_LOOP: event, state, apply, encode or batch"),
            }
        }
        return;
    }

    // One call per event, as through the boundary: parse state and event, apply, encode.
    let apply = |n: usize| {
        for e in events.iter().cycle().take(n) {
            let s = Account::parse(&state).unwrap();
            let o: Option<OrderRecord> = None;
            let ev = Event::parse(e, &engine.program).unwrap();
            let out = engine.apply(Some(s), o, &ev).unwrap();
            std::hint::black_box(to_json(&out));
        }
    };
    apply(2_000);
    let n = 50_000;
    let t = Instant::now();
    apply(n);
    let apply_rate = n as f64 / t.elapsed().as_secs_f64();

    // The same with the state text the engine wrote, found in its cache as src/wasm.rs does.
    let own = {
        let s = Account::parse(&state).unwrap();
        to_json(&s)
    };
    let mut cache = StateCache::default();
    cache.put(&own, Account::parse(&own).unwrap());
    let mut apply_cached = |n: usize| {
        for e in events.iter().cycle().take(n) {
            let s = match cache.get(own.as_bytes()) {
                Some(a) => a,
                None => Account::parse(&own).unwrap(),
            };
            let ev = Event::parse(e, &engine.program).unwrap();
            let out = engine.apply(Some(s), None, &ev).unwrap();
            let (text, state) = out.write_parts();
            cache.put(&text[..state], out.state);
            std::hint::black_box(text);
        }
    };
    apply_cached(2_000);
    let t = Instant::now();
    apply_cached(n);
    let apply_cached_rate = n as f64 / t.elapsed().as_secs_f64();

    // Batches of 1,000 events over the accounts of the workload.
    let states = w["batch_states"].to_string();
    let batch = Value::Array(w["events"].as_array().unwrap()[..1000].to_vec()).to_string();
    let run_batch = || {
        let m = serde_json::from_str::<HashMap<String, Account>>(&states).unwrap();
        let evs = Event::parse_many(&batch, &engine.program).unwrap();
        let out = engine.apply_batch(m.into_iter().collect(), Default::default(), &evs).unwrap();
        std::hint::black_box(to_json(&out));
    };
    run_batch();
    let rounds = 50;
    let t = Instant::now();
    for _ in 0..rounds {
        run_batch();
    }
    let batch_rate = (rounds * 1000) as f64 / t.elapsed().as_secs_f64();
    if std::env::var("BENCH_SPLIT").is_ok() {
        let ev = Event::parse(&events[0], &engine.program).unwrap();
        let s = Account::parse(&state).unwrap();
        let time = |name: &str, f: &mut dyn FnMut()| {
            let t = Instant::now();
            for _ in 0..20_000 { f(); }
            eprintln!("{name}: {:.2} us", t.elapsed().as_secs_f64() / 20_000.0 * 1e6);
        };
        time("state to Value", &mut || { std::hint::black_box(serde_json::from_str::<Value>(&state).unwrap()); });
        time("parse state", &mut || { std::hint::black_box(Account::parse(&state).unwrap()); });
        time("parse event", &mut || { std::hint::black_box(Event::parse(&events[0], &engine.program).unwrap()); });
        time("apply", &mut || { std::hint::black_box(engine.apply(Some(s.clone()), None, &ev).unwrap()); });
        let out = engine.apply(Some(s.clone()), None, &ev).unwrap();
        time("encode", &mut || { std::hint::black_box(to_json(&out)); });
    }
    println!("{}", serde_json::json!({ "apply": apply_rate, "apply_cached": apply_cached_rate, "batch": batch_rate }));
}

/// `simulate PROGRAM ZONE HISTORY`: the history through `Simulation` in 1 MB chunks, as the
/// JS workers feed it; prints {"seconds", "events"}.
fn simulate() {
    let a: Vec<String> = std::env::args().skip(2).collect();
    let zone = std::fs::read_to_string(&a[1]).unwrap();
    let zone = (zone.trim() != "null").then(|| Zone::parse(&zone).unwrap());
    let engine = Engine::new(&std::fs::read_to_string(&a[0]).unwrap(), zone, b"bench").unwrap();
    let bytes = std::fs::read(&a[2]).unwrap();
    let t = Instant::now();
    let mut sim = loyalty_engine::simulate::Simulation::new(engine);
    for chunk in bytes.chunks(1 << 20) {
        sim.feed(chunk).unwrap();
    }
    let report: Value = serde_json::from_str(&sim.finish().unwrap()).unwrap();
    let seconds = t.elapsed().as_secs_f64();
    // As in the JS worker, whose thread ends without freeing: the drop is no part of it.
    std::mem::forget(sim);
    println!("{}", serde_json::json!({ "seconds": seconds, "events": report["events"] }));
}
