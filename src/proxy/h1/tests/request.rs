//! Request hygiene and framing: raw bytes in, accepted or the status HAProxy answers.

use crate::proxy::h1::{
    BodyKind, H1ErrorKind, Limits, Method, RequestHead, parse_request, parse_request_into,
};

fn parse(raw: &[u8]) -> Result<Option<RequestHead>, u16> {
    parse_request(raw, &Limits::default()).map_err(|e| e.status())
}

fn ok(raw: &[u8]) -> RequestHead {
    match parse(raw) {
        Ok(Some(h)) => h,
        other => panic!(
            "{:?}: expected a complete head, got {other:?}",
            String::from_utf8_lossy(raw)
        ),
    }
}

#[test]
fn hygiene_table_matches_haproxy() {
    // (case, raw request, None = accepted, Some(status) = refused)
    let cases: &[(&str, &[u8], Option<u16>)] = &[
        ("basic", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", None),
        ("no host in 1.1 is accepted", b"GET / HTTP/1.1\r\n\r\n", None),
        ("http/1.0", b"GET / HTTP/1.0\r\n\r\n", None),
        ("cl + te: smuggling", b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", Some(400)),
        ("te + cl: smuggling", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", Some(400)),
        ("identical duplicate cl", b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", None),
        ("differing cl", b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", Some(400)),
        ("cl list same", b"POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n", None),
        ("cl list differing", b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", Some(400)),
        ("cl non digit", b"POST / HTTP/1.1\r\nContent-Length: 2a\r\n\r\n", Some(400)),
        ("cl plus sign", b"POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\n", Some(400)),
        ("cl negative", b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", Some(400)),
        ("cl empty", b"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", Some(400)),
        ("cl trailing comma", b"POST / HTTP/1.1\r\nContent-Length: 2,\r\n\r\n", Some(400)),
        ("cl inner space", b"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", Some(400)),
        ("cl overflow", b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", Some(400)),
        ("cl leading zeros", b"POST / HTTP/1.1\r\nContent-Length: 002\r\n\r\n", None),
        ("te gzip only", b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", Some(400)),
        ("te gzip, chunked", b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Some(422)),
        ("te two headers", b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", Some(422)),
        ("te leading empty element", b"POST / HTTP/1.1\r\nTransfer-Encoding: , chunked\r\n\r\n", Some(422)),
        ("te chunked, gzip", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Some(400)),
        ("te chunked twice", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", Some(400)),
        ("te chunked with params", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked ;q=1\r\n\r\n", Some(400)),
        ("te identity", b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", Some(400)),
        ("te empty", b"POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", Some(400)),
        ("te uppercase", b"POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n", None),
        ("te trailing comma", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n", None),
        ("te in http/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", None),
        ("obs-fold (haproxy unfolds)", b"GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n", Some(400)),
        ("obs-fold tab", b"GET / HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n", Some(400)),
        ("space before first header", b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", Some(400)),
        ("bare cr in value", b"GET / HTTP/1.1\r\nX-A: b\rc\r\n\r\n", Some(400)),
        ("bare cr ends request line", b"GET / HTTP/1.1\rHost: a\r\n\r\n", Some(400)),
        ("bare lf lines", b"GET / HTTP/1.1\nHost: a\nX-A: b\n\n", None),
        ("mixed line ends", b"GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\n", None),
        ("space before colon", b"GET / HTTP/1.1\r\nX-A : b\r\n\r\n", Some(400)),
        ("tab before colon", b"GET / HTTP/1.1\r\nX-A\t: b\r\n\r\n", Some(400)),
        ("ctl in name", b"GET / HTTP/1.1\r\nX\x01A: b\r\n\r\n", Some(400)),
        ("paren in name", b"GET / HTTP/1.1\r\nX(A: b\r\n\r\n", Some(400)),
        ("empty name", b"GET / HTTP/1.1\r\n: b\r\n\r\n", Some(400)),
        ("no colon", b"GET / HTTP/1.1\r\nXA\r\n\r\n", Some(400)),
        ("nul in value (haproxy forwards)", b"GET / HTTP/1.1\r\nX-A: b\x00c\r\n\r\n", Some(400)),
        ("ctl in value", b"GET / HTTP/1.1\r\nX-A: b\x01c\x7f\r\n\r\n", None),
        ("obs-text in value", b"GET / HTTP/1.1\r\nX-A: b\xe9c\r\n\r\n", None),
        ("bad method char", b"G(T / HTTP/1.1\r\n\r\n", Some(400)),
        ("custom method", b"FOO / HTTP/1.1\r\n\r\n", None),
        ("lowercase method", b"get / HTTP/1.1\r\n\r\n", None),
        ("leading space", b" GET / HTTP/1.1\r\n\r\n", Some(400)),
        ("http/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Some(400)),
        ("http/1.2", b"GET / HTTP/1.2\r\n\r\n", None),
        ("http/3.0", b"GET / HTTP/3.0\r\n\r\n", None),
        ("http/1.10", b"GET / HTTP/1.10\r\n\r\n", Some(400)),
        ("http/1", b"GET / HTTP/1\r\n\r\n", Some(400)),
        ("http/0.9 without version", b"GET /\r\n\r\n", Some(400)),
        ("lowercase http", b"GET / http/1.1\r\n\r\n", Some(400)),
        ("trailing space after version", b"GET / HTTP/1.1 \r\n\r\n", Some(400)),
        ("double spaces", b"GET  /  HTTP/1.1\r\n\r\n", None),
        ("tab separator", b"GET\t/ HTTP/1.1\r\n\r\n", None),
        ("empty uri", b"GET  HTTP/1.1\r\n\r\n", Some(400)),
        ("space in uri", b"GET /a b HTTP/1.1\r\n\r\n", Some(400)),
        ("ctl in uri", b"GET /a\x01b HTTP/1.1\r\n\r\n", Some(400)),
        ("non-ascii uri", b"GET /a\xe9b HTTP/1.1\r\n\r\n", Some(400)),
        ("fragment in uri", b"GET /a#b HTTP/1.1\r\n\r\n", Some(400)),
        ("odd but allowed uri bytes", b"GET /a\"<>{|}\\^`[]\x7f HTTP/1.1\r\n\r\n", None),
        ("leading empty lines", b"\r\n\nGET / HTTP/1.1\r\n\r\n", None),
        ("absolute uri", b"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n", None),
        ("absolute uri, host differs", b"GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n", Some(400)),
        ("absolute uri, case and default port", b"GET http://A:80/x HTTP/1.1\r\nHost: a\r\n\r\n", None),
        ("absolute uri without host", b"GET http://example.com/x HTTP/1.1\r\n\r\n", None),
        ("two differing hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Some(400)),
        ("two identical hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", None),
        ("empty host", b"GET / HTTP/1.1\r\nHost:\r\n\r\n", None),
        ("connect authority form", b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", None),
        ("options asterisk", b"OPTIONS * HTTP/1.1\r\n\r\n", None),
        ("websocket without key", b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", Some(400)),
        ("websocket with key", b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\n", None),
        ("other upgrade", b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n", None),
    ];
    let mut failures = Vec::new();
    for (name, raw, want) in cases {
        let got = match parse(raw) {
            Ok(Some(_)) => None,
            Ok(None) => Some(0),
            Err(status) => Some(status),
        };
        if got != *want {
            failures.push(format!("{name}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn incomplete_heads_ask_for_more_at_every_cut() {
    let raw =
        b"\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello";
    let head_len = raw.len() - 5;
    for cut in 0..head_len {
        assert_eq!(parse(&raw[..cut]), Ok(None), "cut at {cut}");
    }
    let h = ok(raw);
    assert_eq!(h.head_len, head_len);
    assert_eq!(h.body, BodyKind::Length(5));
}

#[test]
fn early_errors_do_not_wait_for_the_whole_head() {
    assert_eq!(parse(b"G(T / HTTP/1.1\r\n"), Err(400));
    assert_eq!(parse(b"GET / HTTP/1.1\r\nX A: b\r\n"), Err(400));
}

#[test]
fn head_size_limit_answers_400_like_haproxy() {
    let limits = Limits::default();
    let mut big = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 20_000));
    // Still incomplete, but the buffer is full: refuse.
    let e = parse_request(&big, &limits).unwrap_err();
    assert_eq!((e.kind(), e.status()), (H1ErrorKind::HeadTooLarge, 400));
    big.extend_from_slice(b"\r\n\r\n");
    assert_eq!(parse(&big), Err(400));
    // A long URI too.
    let mut uri = b"GET /".to_vec();
    uri.extend(std::iter::repeat_n(b'a', 20_000));
    uri.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    assert_eq!(parse(&uri), Err(400));
    // 15000 bytes fits the default 15360-byte window.
    let mut fits = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    fits.extend(std::iter::repeat_n(b'a', 15_000));
    fits.extend_from_slice(b"\r\n\r\n");
    assert!(ok(&fits).head_len == fits.len());
}

#[test]
fn header_count_limit_is_max_headers_minus_one() {
    let with = |n: usize| {
        let mut r = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..n {
            r.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        r.extend_from_slice(b"\r\n");
        r
    };
    assert!(parse(&with(100)).is_ok());
    assert_eq!(parse(&with(101)), Err(400));
}

#[test]
fn framing_and_connection_facts() {
    let buf = b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n";
    let h = ok(buf);
    assert_eq!(h.method, Method::Post);
    assert_eq!(h.body, BodyKind::Chunked);
    assert!(h.keep_alive && h.expect_100 && h.has_xff);
    assert_eq!(h.host.map(|s| s.get(buf)), Some(&b"h"[..]));
    assert_eq!(h.uri.get(buf), b"/x");

    let h = ok(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(!h.keep_alive && h.connection.close);
    assert_eq!(h.body, BodyKind::None);
    assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    assert!(!ok(b"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_100);

    let buf = b"GET /chat HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n";
    let h = ok(buf);
    assert!(h.upgrade && h.websocket);
    assert!(!ok(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").upgrade);

    let buf = b"GET http://example.com:8080/p?q HTTP/1.1\r\n\r\n";
    assert_eq!(
        ok(buf).authority.map(|s| s.get(buf)),
        Some(&b"example.com:8080"[..])
    );
    let buf = b"get /x HTTP/1.1\r\n\r\n";
    let h = ok(buf);
    assert_eq!(
        (h.method, h.method_bytes(buf)),
        (Method::Other, &b"get"[..])
    );
}

#[test]
fn reused_head_is_fully_reset() {
    let limits = Limits::default();
    let mut head = RequestHead::default();
    let first = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\nX-A: 1\r\n\r\n";
    assert_eq!(
        parse_request_into(&mut head, first, &limits),
        Ok(Some(first.len()))
    );
    let second = b"GET /b HTTP/1.1\r\n\r\n";
    assert_eq!(
        parse_request_into(&mut head, second, &limits),
        Ok(Some(second.len()))
    );
    assert_eq!(head.body, BodyKind::None);
    assert!(head.keep_alive && head.headers.is_empty());
    assert_eq!(head.uri.get(second), b"/b");
}
