//! Every input a fuzz target once failed on (`tests/data/fuzz/<target>/`),
//! replayed through the same harness the fuzz target runs.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../fuzz/harness/opus_input.rs"]
mod opus_input;

use std::path::Path;

/// The saved inputs of one fuzz target.
fn findings(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target);
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .expect("findings directory")
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("finding"))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn opus_input_findings_no_longer_fail() {
    let findings = findings("opus_input");
    assert!(!findings.is_empty());
    for (name, data) in findings {
        eprintln!("replaying {name}");
        opus_input::run(&data);
    }
}
