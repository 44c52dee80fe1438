//! The codec's API to the exchange (`client.rs`, `server.rs`): what it decides for the
//! exchange (persistence, Connection headers, body framing, local replies) and the
//! neutral views it gives.

use crate::config::model::Reply;
use crate::proxy::h1::{
    H1ErrorKind, Limits, Method, RequestHead, ResponseHead, Version, client, parse_request,
    parse_response, server,
};
use crate::proxy::message::{Edits, Payload};
use crate::runtime::errors::Page;

fn req(raw: &[u8]) -> RequestHead {
    parse_request(raw, &Limits::default())
        .expect("valid")
        .expect("complete")
}

fn resp(raw: &[u8], method: Method) -> ResponseHead {
    parse_response(raw, &Limits::default(), method)
        .expect("valid")
        .expect("complete")
}

fn head_for_server(raw: &[u8], persist: bool) -> String {
    let head = req(raw);
    let mut out = b"garbage".to_vec();
    server::write_request(&head, raw, persist, &Edits::default(), None, &mut out);
    String::from_utf8(out).expect("ascii")
}

#[test]
fn the_neutral_view_carries_what_the_phases_need() {
    let raw = b"POST /a HTTP/1.0\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 3\r\n\r\nabc";
    let head = req(raw);
    let m = head.message(raw);
    assert_eq!(m.method, Method::Post);
    assert_eq!(m.method_bytes(), b"POST");
    assert_eq!(m.target(), b"/a");
    assert_eq!(m.version, Version::HTTP_10);
    assert_eq!(m.payload, Payload::Length(3));
    assert!(!m.persist);
    let values: Vec<&[u8]> = m.values(b"x-a").collect();
    assert_eq!(values, [&b"1"[..], b"2"]);
    let names: Vec<&[u8]> = m.fields().map(|(n, _)| n).collect();
    assert_eq!(names, [&b"Host"[..], b"X-A", b"x-a", b"Content-Length"]);

    let raw = b"GET / HTTP/2.0\r\nTransfer-Encoding: chunked\r\n\r\n";
    let m = req(raw).message(raw).version;
    assert_eq!(m, Version::HTTP_11, "handled as 1.1");
    let raw = b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(req(raw).message(raw).payload, Payload::Streamed);
    assert!(req(raw).message(raw).persist);
}

#[test]
fn a_malformed_chunk_read_with_the_head_is_a_bad_request() {
    let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let mut head = RequestHead::default();
    let e = client::read_request(&mut head, raw, &Limits::default()).unwrap_err();
    assert_eq!((e.kind(), e.status()), (H1ErrorKind::BadChunk, 400));
    let ok = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab";
    let n = client::read_request(&mut head, ok, &Limits::default()).expect("valid");
    assert_eq!(n, Some(ok.len() - 5));
}

#[test]
fn the_connection_header_toward_the_server_follows_haproxy() {
    let keep10 = head_for_server(b"GET / HTTP/1.0\r\n\r\n", true);
    assert_eq!(keep10, "GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
    let close11 = head_for_server(b"GET / HTTP/1.1\r\n\r\n", false);
    assert_eq!(close11, "GET / HTTP/1.1\r\nconnection: close\r\n\r\n");
    let keep11 = head_for_server(b"GET / HTTP/1.1\r\n\r\n", true);
    assert_eq!(keep11, "GET / HTTP/1.1\r\n\r\n");
    let chunked10 = head_for_server(
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        true,
    );
    assert!(!chunked10.contains("connection:"), "{chunked10}");
    let upgrade = head_for_server(
        b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n",
        false,
    );
    assert!(
        upgrade.ends_with("connection: upgrade\r\nupgrade: foo\r\n\r\n"),
        "{upgrade}"
    );
}

#[test]
fn edits_and_extra_headers_are_written_after_the_kept_ones() {
    let raw = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
    let head = req(raw);
    let edits = Edits {
        remove: vec![b"a".to_vec()],
        add: vec![(b"c".to_vec(), b"3".to_vec())],
        ..Default::default()
    };
    let mut out = Vec::new();
    let xff = Some((&b"x-forwarded-for"[..], &b"10.0.0.1"[..]));
    server::write_request(&head, raw, true, &edits, xff, &mut out);
    assert_eq!(
        out,
        b"GET / HTTP/1.1\r\nb: 2\r\nc: 3\r\nx-forwarded-for: 10.0.0.1\r\n\r\n"
    );
}

#[test]
fn a_request_body_goes_out_as_is_or_reframed() {
    let raw = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
    let mut body = server::RequestBody::new(&req(raw));
    let mut out = Vec::new();
    let t = body.take(b"abc", &mut out).expect("ok");
    assert_eq!((t.used, t.reframed, body.is_done()), (3, false, false));
    let t = body.take(b"de-next", &mut out).expect("ok");
    assert_eq!((t.used, body.is_done()), (2, true));
    assert!(out.is_empty(), "length-delimited bytes are not copied");

    let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut body = server::RequestBody::new(&req(raw));
    let wire = b"3;ext=1\r\nabc\r\n0\r\n\r\n";
    let t = body.take(wire, &mut out).expect("ok");
    assert_eq!(
        (t.used, t.reframed, body.is_done()),
        (wire.len(), true, true)
    );
    assert!(
        !out.windows(3).any(|w| w == b"ext"),
        "extensions never reach the server"
    );

    let none = server::RequestBody::new(&req(b"GET / HTTP/1.1\r\n\r\n"));
    assert!(none.is_done());
}

#[test]
fn a_switch_of_protocols_nobody_asked_for_is_refused() {
    let plain = b"GET / HTTP/1.1\r\n\r\n";
    let upgrade = b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n";
    let switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\n\r\n";
    let mut r = ResponseHead::default();
    let l = Limits::default();
    let e = server::read_response(&mut r, switch, &l, &req(plain)).unwrap_err();
    assert_eq!(
        (e.kind(), e.status()),
        (H1ErrorKind::UnrequestedSwitch, 502)
    );
    let n = server::read_response(&mut r, switch, &l, &req(upgrade)).expect("ok");
    assert_eq!(n, Some(switch.len()));
    assert!(r.message(switch).tunnel);
    assert!(!server::server_persists(&r), "a tunnel is never reused");
}

#[test]
fn persistence_after_a_response() {
    let get = req(b"GET / HTTP/1.1\r\n\r\n");
    let sized = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Method::Get);
    let until_close = resp(b"HTTP/1.1 200 OK\r\n\r\n", Method::Get);
    assert!(client::client_persists(&get, &sized, true));
    assert!(!client::client_persists(&get, &sized, false));
    assert!(!client::client_persists(&get, &until_close, true));
    assert!(server::server_persists(&sized));
    assert!(!server::server_persists(&until_close));

    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let ten = req(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let mut out = Vec::new();
    client::write_response(&ten, &sized, raw, true, &Edits::default(), &mut out);
    assert!(out.ends_with(b"connection: keep-alive\r\n\r\n"));
    out.clear();
    client::write_response(&get, &sized, raw, false, &Edits::default(), &mut out);
    assert!(out.ends_with(b"connection: close\r\n\r\n"));
}

#[test]
fn a_response_body_is_measured_not_rewritten() {
    let sized = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", Method::Get);
    let mut b = client::ResponseBody::new(&sized);
    assert_eq!(b.take(b"ab").expect("ok"), 2);
    assert_eq!(b.take(b"cdEXTRA").expect("ok"), 2);
    assert!(b.is_done() && !b.ends_at_close());

    let chunked = resp(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        Method::Get,
    );
    let mut b = client::ResponseBody::new(&chunked);
    assert_eq!(b.take(b"1;x\r\na\r\n0\r\n\r\nNEXT").expect("ok"), 13);
    assert!(b.is_done());
    assert!(client::ResponseBody::new(&chunked).take(b"zz\r\n").is_err());

    let open = resp(b"HTTP/1.1 200 OK\r\n\r\n", Method::Get);
    let mut b = client::ResponseBody::new(&open);
    assert_eq!(b.take(b"anything").expect("ok"), 8);
    assert!(!b.is_done() && b.ends_at_close());
    let head = resp(
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
        Method::Head,
    );
    assert!(client::ResponseBody::new(&head).is_done());
}

#[test]
fn local_replies_are_encoded_with_the_connections_fate() {
    let timeout = client::error_page(408, Page::Builtin(408), true);
    assert!(!timeout.persist && !timeout.counted);
    assert!(timeout.bytes.starts_with(b"HTTP/1.1 408"));

    let kept = client::error_page(503, Page::Builtin(503), true);
    assert!(kept.persist && kept.counted);
    assert!(!kept.bytes.windows(17).any(|w| w == b"connection: close"));
    let closed = client::error_page(503, Page::Builtin(503), false);
    assert!(!closed.persist);
    assert!(closed.bytes.windows(17).any(|w| w == b"connection: close"));
    assert!(!client::error_page(400, Page::Builtin(400), true).persist);

    let reply = Reply {
        version: (1, 1),
        status: 200,
        reason: b"OK".to_vec(),
        headers: vec![(b"content-length".to_vec(), b"2".to_vec())],
        body: b"hi".to_vec(),
    };
    let r = client::local_reply(Page::Reply(&reply), true);
    assert_eq!(&*r.bytes, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    let r = client::local_reply(Page::Reply(&reply), false);
    assert_eq!(
        &*r.bytes,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi"
    );
    assert!(client::local_reply(Page::Empty, false).bytes.is_empty());
}
