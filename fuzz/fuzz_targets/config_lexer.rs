//! Fuzz target: arbitrary bytes as a haproxy.cfg text through the configuration lexer
//! alone (quoting, escapes, `${VAR}` expansion, `.if` blocks), much faster per input than
//! `config_parser`. It must never panic; every line and every alert it reports must point
//! inside the input.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run config_lexer` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::config::lexer::lex;
use libfuzzer_sys::fuzz_target;

/// A fixed, small environment so that runs are reproducible.
fn env(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/root".into()),
        "WORDS" => Some("a b  c".into()),
        "QUOTE" => Some("\"'\\".into()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let last = text.split('\n').count() as u32;
    let mut diags = Vec::new();
    let lines = lex("fuzz.cfg", &text, &env, &mut diags);
    let mut prev = 0;
    for l in &lines {
        assert!(l.span.line >= 1 && l.span.line <= last, "line {} of {last}", l.span.line);
        assert!(l.span.line > prev, "lines out of order: {} after {prev}", l.span.line);
        prev = l.span.line;
        assert!(!l.words.is_empty(), "an empty line was kept at {}", l.span.line);
    }
    for d in &diags {
        if let Some(s) = &d.span {
            assert!(s.line >= 1 && s.line <= last, "alert at line {} of {last}", s.line);
        }
    }
});
