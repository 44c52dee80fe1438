//! Fuzz target: arbitrary bytes as a PROXY protocol header (`accept-proxy`,
//! `expect-proxy layer4`). The first byte picks the version: even → a version 1 line,
//! odd → a version 2 command byte, family byte and address block. Parsing must never
//! panic, and an accepted header must survive a round trip through gatehouse's own
//! encoder (`send-proxy`, `send-proxy-v2`).
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run proxy_header` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::proxy::proxy_protocol::{parse_v1, parse_v2, v1, v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if pick % 2 == 0 {
        if let Ok(Some((src, dst))) = parse_v1(rest) {
            let line = v1(Some(src), Some(dst));
            assert_eq!(parse_v1(&line).ok(), Some(Some((src, dst))), "v1 round trip");
        }
    } else if rest.len() >= 2 {
        if let Ok(Some((src, dst))) = parse_v2(rest[0], rest[1], &rest[2..]) {
            let head = v2(Some(src), Some(dst));
            assert!(head.len() >= 16, "a v2 header has a 16-byte prefix");
            let again = parse_v2(head[12], head[13], &head[16..]);
            assert_eq!(again.ok(), Some(Some((src, dst))), "v2 round trip");
        }
    }
});
