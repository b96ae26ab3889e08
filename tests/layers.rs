//! The direction of the crate's imports, checked on its source: the rules sit on
//! `context` (no rule imports the engine that calls them), the engine sits on the rules,
//! and only the boundary file knows WebAssembly.

use std::path::{Path, PathBuf};

/// The modules above the rules: they may use the engine.
const TOP: &[&str] = &["engine.rs", "wasm.rs", "lib.rs", "simulate.rs", "simulate/packed.rs"];

fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files.into_iter().map(|p| (p.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/"), std::fs::read_to_string(&p).unwrap())).collect()
}

#[test]
fn no_rule_module_imports_the_engine() {
    let files = sources();
    assert!(files.iter().any(|(name, _)| name == "context.rs"), "the rules' context module is src/context.rs");
    let offenders: Vec<&str> = files
        .iter()
        .filter(|(name, _)| !TOP.contains(&name.as_str()))
        // Any path through the engine module: `crate::engine`, `super::engine`, or `engine::`
        // inside a grouped `use crate::{…}`.
        .filter(|(_, text)| text.contains("crate::engine") || text.contains("super::engine") || text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).any(|w| w.starts_with("engine::")))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(offenders.is_empty(), "rule modules import the engine (use crate::context): {offenders:?}");
}

#[test]
fn only_the_boundary_file_knows_webassembly() {
    let offenders: Vec<&str> = sources()
        .iter()
        .filter(|(name, _)| name != "wasm.rs")
        .filter(|(_, text)| ["wasm_bindgen", "js_sys", "serde_wasm_bindgen"].iter().any(|w| text.contains(w)))
        .map(|(name, _)| name.clone().leak() as &str)
        .collect();
    assert!(offenders.is_empty(), "only src/wasm.rs may use wasm-bindgen, js-sys or serde-wasm-bindgen: {offenders:?}");
}
