//! Fuzz target: arbitrary bytes as the line an `agent-check` agent sends back (`up`,
//! `drain`, `75%`, `maxconn:10`, `# text`). Reading it must never panic, and the
//! description is what follows the first `#`.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run agent_reply` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::check::agent::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let reply = parse(&line);
    if !line.contains('#') {
        assert!(reply.description.is_empty(), "a description without '#'");
    }
});
