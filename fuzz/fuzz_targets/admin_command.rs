//! Fuzz target: arbitrary bytes as a runtime API command line (`stats socket`), cut
//! into words as HAProxy's CLI does (spaces, backslash escapes, a `<<` payload). It must
//! never panic and keep at most 64 words (HAProxy's `MAX_CLI_ARGS`).
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run admin_command` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::admin::words::split;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (line, payload) = match text.split_once('\n') {
        Some((l, p)) => (l, Some(p)),
        None => (&*text, None),
    };
    let (words, _) = split(line, payload);
    assert!(words.len() <= 64, "{} words", words.len());
});
