//! Writing heads to the next hop: what a backend or client receives.

use crate::proxy::h1::{
    ConnectionHeader, HeadEdits, Limits, Method, parse_request, parse_response, write_request_head,
    write_response_head,
};

fn rewrite(raw: &[u8], edits: &HeadEdits<'_>) -> String {
    let head = parse_request(raw, &Limits::default())
        .expect("valid")
        .expect("complete");
    let mut out = Vec::new();
    write_request_head(&head, raw, edits, &mut out);
    String::from_utf8(out).expect("ascii")
}

#[test]
fn haproxy_style_forwarding_lowercases_and_keeps_hop_by_hop() {
    // What haproxy 2.6 sent to the backend for this request, byte for byte.
    let raw = b"GET  / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\nKeep-Alive: 300\r\nProxy-Connection: x\r\nTE: trailers\r\nUpgrade: websocket\r\nX-Bar: 2\r\n\r\n";
    assert_eq!(
        rewrite(raw, &HeadEdits::default()),
        "GET / HTTP/1.1\r\nhost: a\r\nconnection: X-Foo\r\nx-foo: 1\r\nkeep-alive: 300\r\nproxy-connection: x\r\nte: trailers\r\nupgrade: websocket\r\nx-bar: 2\r\n\r\n"
    );
    let raw =
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: X-A, keep-alive\r\n\r\n";
    assert_eq!(
        rewrite(raw, &HeadEdits::default()),
        "GET / HTTP/1.1\r\nhost: a\r\nconnection: X-A\r\n\r\n"
    );
}

#[test]
fn version_normalisation_and_keep_alive_to_http10() {
    let edits = HeadEdits {
        connection: ConnectionHeader::KeepAlive,
        ..HeadEdits::default()
    };
    assert_eq!(
        rewrite(b"GET / HTTP/1.0\r\nHost: a\r\n\r\n", &edits),
        "GET / HTTP/1.0\r\nhost: a\r\nconnection: keep-alive\r\n\r\n"
    );
    assert_eq!(
        rewrite(b"GET / HTTP/3.0\r\n\r\n", &HeadEdits::default()),
        "GET / HTTP/1.1\r\n\r\n"
    );
}

#[test]
fn strict_mode_drops_hop_by_hop_and_connection_named_headers() {
    let raw = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\nKeep-Alive: 300\r\nProxy-Connection: x\r\nTE: trailers\r\nUpgrade: h2c\r\nX-Bar: 2\r\n\r\n";
    let edits = HeadEdits {
        strip_hop_by_hop: true,
        connection: ConnectionHeader::Close,
        ..HeadEdits::default()
    };
    assert_eq!(
        rewrite(raw, &edits),
        "GET / HTTP/1.1\r\nhost: a\r\nx-bar: 2\r\nconnection: close\r\n\r\n"
    );
    // A real upgrade keeps Upgrade and announces it.
    let raw = b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n";
    let edits = HeadEdits {
        strip_hop_by_hop: true,
        ..HeadEdits::default()
    };
    assert_eq!(
        rewrite(raw, &edits),
        "GET /ws HTTP/1.1\r\nupgrade: websocket\r\nsec-websocket-key: k\r\nconnection: upgrade\r\n\r\n"
    );
}

#[test]
fn removals_additions_and_single_content_length() {
    let raw = b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
    let remove: &[&[u8]] = &[b"x-forwarded-for"];
    let add: &[(&[u8], &[u8])] = &[(b"x-forwarded-for", b"192.0.2.1")];
    let edits = HeadEdits {
        remove,
        add,
        ..HeadEdits::default()
    };
    assert_eq!(
        rewrite(raw, &edits),
        "POST /u HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\nx-forwarded-for: 192.0.2.1\r\n\r\n"
    );
    let raw = b"POST /u HTTP/1.1\r\nContent-Length: 002\r\n\r\n";
    assert_eq!(
        rewrite(raw, &HeadEdits::default()),
        "POST /u HTTP/1.1\r\ncontent-length: 002\r\n\r\n"
    );
}

#[test]
fn response_head_like_haproxy() {
    let write = |raw: &[u8], edits: &HeadEdits<'_>| {
        let head = parse_response(raw, &Limits::default(), Method::Get)
            .expect("valid")
            .expect("complete");
        let mut out = Vec::new();
        write_response_head(&head, raw, edits, &mut out);
        String::from_utf8(out).expect("ascii")
    };
    let d = HeadEdits::default();
    assert_eq!(
        write(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Y\r\nX-Y: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n", &d),
        "HTTP/1.1 200 OK\r\nconnection: X-Y\r\nx-y: 1\r\nkeep-alive: timeout=5\r\ncontent-length: 2\r\n\r\n"
    );
    assert_eq!(
        write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            &d
        ),
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    assert_eq!(
        write(b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n", &d),
        "HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n"
    );
    assert_eq!(
        write(b"HTTP/1.1 200  OK\nX-Foo: bar\n\n", &d),
        "HTTP/1.1 200 OK\r\nx-foo: bar\r\n\r\n"
    );
}
