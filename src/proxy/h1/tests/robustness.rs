//! Mutated inputs (a tiny in-process fuzzer): parsers never panic, spans stay inside the
//! head, what the writer emits parses back to the same request, and chunked decoding does
//! not depend on how the bytes are split.

use crate::proxy::h1::{
    ChunkedDecoder, HeadEdits, Limits, Method, parse_request, parse_response, write_request_head,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&[u8]] = &[
    b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    b"PUT http://a:80/x HTTP/1.0\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nhi",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
];
const INTERESTING: &[u8] = b"\r\n :;,\t\x00\x7f\xff0aF";

#[test]
fn mutated_heads_never_panic_and_rewrite_round_trips() {
    let limits = Limits {
        max_head: 512,
        max_headers: 10,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut input = SEEDS[rng.below(SEEDS.len())].to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(input.len() + 1);
            match rng.below(3) {
                0 if at < input.len() => input[at] = INTERESTING[rng.below(INTERESTING.len())],
                1 if at < input.len() => {
                    input.remove(at);
                }
                _ => input.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            }
        }
        if let Ok(Some(head)) = parse_request(&input, &limits) {
            accepted += 1;
            assert!(
                head.headers
                    .iter()
                    .all(|h| h.value.end as usize <= head.head_len)
            );
            let mut out = Vec::new();
            write_request_head(&head, &input, &HeadEdits::default(), &mut out);
            let again = parse_request(
                &out,
                &Limits {
                    max_head: 4096,
                    ..limits
                },
            )
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&out)))
            .expect("complete");
            // keep-alive is not compared: the writer drops `keep-alive` tokens on purpose.
            assert_eq!(
                (again.method, again.body, again.version.at_least_11()),
                (head.method, head.body, head.version.at_least_11())
            );
            assert_eq!(again.uri.get(&out), head.uri.get(&input));
        }
        let _ = parse_response(&input, &limits, Method::Get);
        let (mut whole, mut split) = (ChunkedDecoder::for_request(), ChunkedDecoder::for_request());
        let cut = rng.below(input.len() + 1);
        let a = whole.feed(&input);
        let b = split.feed(&input[..cut]).and_then(|n| {
            if n < cut {
                Ok(n)
            } else {
                split.feed(&input[cut..]).map(|m| n + m)
            }
        });
        assert_eq!(
            a.is_ok(),
            b.is_ok(),
            "{:?} cut {cut}",
            String::from_utf8_lossy(&input)
        );
        if let (Ok(a), Ok(b)) = (a, b) {
            assert_eq!((a, whole.is_done()), (b, split.is_done()));
        }
    }
    assert!(accepted > 1000, "mutations too destructive: {accepted}");
}
