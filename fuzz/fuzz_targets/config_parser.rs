//! Fuzz target: arbitrary bytes as a haproxy.cfg text through the whole loader
//! (lexer, `.if` blocks, `setenv` re-lexing, section parser, validation). It must never
//! panic; errors are expected and fine. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run config_parser`.

#![no_main]

use libfuzzer_sys::fuzz_target;

/// A fixed, small environment so that runs are reproducible.
fn env(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/root".into()),
        "PORT" => Some("8080".into()),
        "WORDS" => Some("a b  c".into()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let loaded = gatehouse::load::load_sources(&[("fuzz.cfg".to_string(), text)], &env);
    // Every alert must be tied to a line of the input.
    for d in &loaded.diags {
        if d.is_alert() {
            assert!(d.span.is_some(), "alert without a location: {}", d.message);
        }
    }
});
