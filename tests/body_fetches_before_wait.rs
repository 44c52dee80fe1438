//! `req.body*` without `wait-for-body`: HAProxy's fetches see the body bytes that came
//! with the head, and nothing more is waited for. gatehouse and haproxy on one config,
//! a client that sends its head and body in one write, then one that sends its head
//! alone (answered at once, nothing of the body seen).

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::*;

fn config(port: u16) -> Config {
    Config::new(&format!(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n\
         \x20 http-request return status 200 content-type text/plain lf-string \"len=%[req.body_len] size=%[req.body_size] body=%[req.body] p=%[req.body_param(b)]\"\n"
    ))
}

/// The body of the proxy's answer to `parts`, written one after the other.
fn answer(port: u16, parts: &[&[u8]]) -> String {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    for p in parts {
        s.write_all(p).expect("write");
    }
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or(text)
}

#[test]
fn body_fetches_see_the_bytes_that_came_with_the_head() {
    require_haproxy();
    let [h, g] = [true, false].map(|haproxy| {
        let port = free_port();
        let _p = proxy_builder(haproxy, &config(port)).wait_port(port).start();
        let whole = answer(
            port,
            &[b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 7\r\n\r\na=1&b=2"],
        );
        let chunked = answer(
            port,
            &[b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nb=9\r\n0\r\n\r\n"],
        );
        // The head alone: the rule answers at once, before any body byte.
        let head_only = answer(
            port,
            &[b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 7\r\n\r\n"],
        );
        (whole, chunked, head_only)
    });
    assert_eq!(h.0, "len=7 size=7 body=a=1&b=2 p=2");
    assert_eq!(h.2, "len=0 size=7 body= p=");
    assert_eq!(g, h);
}
