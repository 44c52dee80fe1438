//! Fuzz target: arbitrary bytes through the PostgreSQL front door's parsers (the startup
//! packets — `SSLRequest`, `GSSENCRequest`, `CancelRequest`, `StartupMessage` — and the
//! `PasswordMessage`) and the statement framer of `option pgsql-audit-statements`. None
//! may panic; a parsed `StartupMessage` written again parses to the same parameters.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run pgsql_frontdoor`; a crash becomes a case in
//! tests/fuzz_regressions.rs.
#![no_main]

use gatehouse::proxy::pgsql::tap::Framer;
use gatehouse::proxy::pgsql::wire::{Startup, parse_password, parse_startup};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Startup::Startup { minor, params }) = parse_startup(data) {
        let mut again = (0x0003_0000u32 | u32::from(minor)).to_be_bytes().to_vec();
        for (k, v) in &params {
            again.extend_from_slice(k.as_bytes());
            again.push(0);
            again.extend_from_slice(v.as_bytes());
            again.push(0);
        }
        again.push(0);
        if let Ok(Startup::Startup { params: p2, .. }) = parse_startup(&again) {
            assert_eq!(params.len(), p2.len());
        }
    }
    if let Some((tag, body)) = data.split_first() {
        if let Ok(pw) = parse_password(*tag, body) {
            assert!(!pw.contains(&0));
        }
    }
    let mut f = Framer::new(64);
    for chunk in data.chunks(7) {
        f.feed(chunk, &mut |_, text| assert!(text.len() <= 64));
    }
});
