//! Response parsing and framing: what body follows, 502 for a malformed server answer.

use crate::proxy::h1::{BodyKind, Limits, Method, ResponseHead, parse_response};

fn parse(raw: &[u8], method: Method) -> Result<Option<ResponseHead>, u16> {
    parse_response(raw, &Limits::default(), method).map_err(|e| e.status())
}

fn ok(raw: &[u8], method: Method) -> ResponseHead {
    match parse(raw, method) {
        Ok(Some(h)) => h,
        other => panic!("{:?}: got {other:?}", String::from_utf8_lossy(raw)),
    }
}

#[test]
fn framing_decisions() {
    let g = Method::Get;
    let cases: &[(&[u8], Method, BodyKind, bool)] = &[
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
            g,
            BodyKind::Length(2),
            true,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            g,
            BodyKind::Chunked,
            true,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            g,
            BodyKind::Chunked,
            true,
        ),
        (b"HTTP/1.1 200 OK\r\n\r\n", g, BodyKind::UntilClose, false),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
            g,
            BodyKind::Length(2),
            false,
        ),
        (
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n",
            g,
            BodyKind::Length(2),
            true,
        ),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
            g,
            BodyKind::Length(2),
            false,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n",
            Method::Head,
            BodyKind::None,
            true,
        ),
        (
            b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n",
            g,
            BodyKind::None,
            true,
        ),
        (
            b"HTTP/1.1 304 Not Modified\r\n\r\n",
            g,
            BodyKind::None,
            true,
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\n", g, BodyKind::None, true),
        (
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            Method::Connect,
            BodyKind::None,
            false,
        ),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            g,
            BodyKind::None,
            false,
        ),
        (
            b"HTTP/1.1 200 OK\nContent-Length: 2\n\n",
            g,
            BodyKind::Length(2),
            true,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n",
            g,
            BodyKind::Length(2),
            true,
        ),
    ];
    for (raw, method, body, keep_alive) in cases {
        let h = ok(raw, *method);
        assert_eq!(
            (h.body, h.keep_alive),
            (*body, *keep_alive),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn interim_switching_and_tunnels() {
    let h = ok(b"HTTP/1.1 100 Continue\r\n\r\n", Method::Post);
    assert!(h.is_interim() && !h.tunnel);
    let h = ok(
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
        Method::Get,
    );
    assert!(h.is_interim());
    let h = ok(b"HTTP/1.1 101 Switching Protocols\r\n\r\n", Method::Get);
    assert!(!h.is_interim() && h.is_switching_protocols() && h.tunnel);
    assert!(ok(b"HTTP/1.1 200 OK\r\n\r\n", Method::Connect).tunnel);
    assert!(
        !ok(
            b"HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n",
            Method::Connect
        )
        .tunnel
    );
}

#[test]
fn status_line_pieces() {
    let buf = b"HTTP/1.1 404  Not Found\r\n\r\n";
    let h = ok(buf, Method::Get);
    assert_eq!((h.status, h.reason.get(buf)), (404, &b"Not Found"[..]));
    let h = ok(b"HTTP/1.1 200\r\n\r\n", Method::Get);
    assert!(h.reason.is_empty());
}

#[test]
fn malformed_responses_are_502() {
    let bad: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX A: b\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 099 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n",
    ];
    for raw in bad {
        assert_eq!(
            parse(raw, Method::Get).map(|_| ()),
            Err(502),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
    }
    // Garbage is refused before a line end arrives.
    assert_eq!(parse(b"SSH-2.0", Method::Get).map(|_| ()), Err(502));
    assert_eq!(
        parse(b"HTTP/1.1 200 OK\r\nServer: x", Method::Get),
        Ok(None)
    );
}
