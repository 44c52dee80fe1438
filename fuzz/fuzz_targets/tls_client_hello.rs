//! Fuzz target: arbitrary bytes as the first bytes of a TLS connection, read without
//! decrypting by `req.ssl_hello_type` and `req.ssl_sni` (passthrough routing in
//! `mode tcp`). Reading must never panic, and an SNI found must be bytes of the input.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run tls_client_hello` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::tls::hello::{Seen, hello_type, sni};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Any handshake type byte is returned, as HAProxy's fetch does.
    let _ = hello_type(data);
    if let Seen::Found(name) = sni(data) {
        let (start, end) = (data.as_ptr() as usize, data.as_ptr() as usize + data.len());
        let at = name.as_ptr() as usize;
        assert!(at >= start && at + name.len() <= end, "the SNI points outside the input");
    }
});
