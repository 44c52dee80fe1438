//! Fuzz target: arbitrary bytes through the HTTP/1 request parser, the head writer and the
//! chunked decoder. None may panic; a parsed head's spans must lie inside the input.
//!
//! Run: `cargo install cargo-fuzz`, then from the repo root
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run h1_request`; a crash becomes a case in tests/fuzz_regressions.rs.
#![no_main]

use gatehouse::proxy::h1::{
    ChunkedDecoder, HeadEdits, Limits, Method, parse_request, parse_response, write_request_head,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_head: 4096, max_headers: 101 };
    if let Ok(Some(head)) = parse_request(data, &limits) {
        assert!(head.head_len <= data.len());
        for h in &head.headers {
            assert!(h.name.end as usize <= head.head_len && h.value.end as usize <= head.head_len);
        }
        let mut out = Vec::new();
        let edits = HeadEdits { strip_hop_by_hop: true, ..HeadEdits::default() };
        write_request_head(&head, data, &edits, &mut out);
        // What we write must parse again.
        let relaxed = Limits { max_head: 8192, ..limits };
        assert!(matches!(parse_request(&out, &relaxed), Ok(Some(_))));
        let mut d = ChunkedDecoder::for_request();
        let _ = d.feed(&data[head.head_len..]);
    }
    let _ = parse_response(data, &limits, Method::Get);
    let mut d = ChunkedDecoder::for_response();
    let _ = d.feed(data);
});
