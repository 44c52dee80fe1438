//! WebSocket toward HTTP/2 servers (RFC 8441), through gatehouse and through haproxy 2.6
//! on the same configuration: a real WebSocket client (tungstenite, HTTP/1.1 `Upgrade`,
//! which checks `Sec-WebSocket-Accept`) goes through the proxy to a `proto h2` server
//! (the `h2` crate, `SETTINGS_ENABLE_CONNECT_PROTOCOL` announced). The proxy sends an
//! extended CONNECT (`:protocol websocket`, `:authority` from `Host`), turns the server's
//! `200` into a `101` with the accept value of the client's key, and WebSocket frames go
//! both ways over the stream until the close handshake. A server that does not announce
//! RFC 8441 makes the upgrade fail as in haproxy; an HTTP/2 client's extended CONNECT
//! reaches an HTTP/2 server as an extended CONNECT too, and a CONNECT is tunnelled over
//! a stream.

mod support;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use h2::RecvStream;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::h2_bytes::StreamBytes;
use support::h2_ws::*;
use support::*;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

/// An extended CONNECT as the HTTP/2 server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    scheme: Option<String>,
    authority: Option<String>,
    path: String,
    protocol: Option<String>,
    /// Header fields, lowercase names, `sec-websocket-key` values left out (random).
    headers: Vec<(String, String)>,
}

/// An h2c WebSocket server (the `h2` crate): an extended CONNECT with `:protocol
/// websocket` to any path but `/forbidden` is answered `200` (no `Sec-WebSocket-Accept`:
/// RFC 8441 has none), then WebSocket messages are echoed until the close handshake;
/// `/forbidden` gets `403` with a body; anything else `200 ok`. With `rfc8441` false it
/// does not announce `SETTINGS_ENABLE_CONNECT_PROTOCOL`.
struct H2WsServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _rt: tokio::runtime::Runtime,
}

impl H2WsServer {
    fn start(rfc8441: bool) -> H2WsServer {
        let rt = runtime();
        let l = bind_local();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rec = seen.clone();
        rt.spawn(async move {
            let l = tokio::net::TcpListener::from_std(l).unwrap();
            while let Ok((s, _)) = l.accept().await {
                let rec = rec.clone();
                tokio::spawn(async move {
                    let mut b = h2::server::Builder::new();
                    if rfc8441 {
                        b.enable_connect_protocol();
                    }
                    let Ok(mut conn) = b.handshake::<_, Bytes>(s).await else {
                        return;
                    };
                    while let Some(Ok((req, respond))) = conn.accept().await {
                        tokio::spawn(serve_stream(req, respond, rec.clone()));
                    }
                });
            }
        });
        H2WsServer {
            addr,
            seen,
            _rt: rt,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }
}

async fn serve_stream(
    req: http::Request<RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    rec: Arc<Mutex<Vec<Seen>>>,
) {
    let (parts, recv) = req.into_parts();
    let protocol = parts
        .extensions
        .get::<h2::ext::Protocol>()
        .map(|p| p.as_str().to_string());
    let path = parts
        .uri
        .path_and_query()
        .map_or(String::new(), |p| p.to_string());
    if parts.method != http::Method::CONNECT {
        let resp = http::Response::builder().status(200).body(()).unwrap();
        if let Ok(mut s) = respond.send_response(resp, false) {
            let _ = s.send_data(Bytes::from_static(b"ok"), true);
        }
        return;
    }
    let protocol_seen = protocol.clone();
    lock(&rec).push(Seen {
        method: parts.method.to_string(),
        scheme: parts.uri.scheme_str().map(Into::into),
        authority: parts.uri.authority().map(|a| a.to_string()),
        path: path.clone(),
        protocol: protocol_seen,
        headers: parts
            .headers
            .iter()
            .filter(|(n, _)| *n != "sec-websocket-key")
            .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect(),
    });
    if protocol.is_none() {
        // A plain CONNECT: `200`, then the tunnel's bytes are echoed until END_STREAM.
        let resp = http::Response::builder().status(200).body(()).unwrap();
        let Ok(mut send) = respond.send_response(resp, false) else {
            return;
        };
        let mut recv = recv;
        while let Some(Ok(d)) = recv.data().await {
            let _ = recv.flow_control().release_capacity(d.len());
            send.reserve_capacity(d.len());
            if send.send_data(d, false).is_err() {
                return;
            }
        }
        let _ = send.send_data(Bytes::new(), true);
        return;
    }
    if path == "/forbidden" {
        let resp = http::Response::builder().status(403).body(()).unwrap();
        if let Ok(mut s) = respond.send_response(resp, false) {
            let _ = s.send_data(Bytes::from_static(b"no"), true);
        }
        return;
    }
    let resp = http::Response::builder().status(200).body(()).unwrap();
    let Ok(send) = respond.send_response(resp, false) else {
        return;
    };
    let io = StreamBytes::new(send, recv);
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    while let Some(Ok(m)) = ws.next().await {
        if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
            return;
        }
    }
    // After the close handshake the stream ends with END_STREAM (dropping it would
    // reset it, and `h2` then drops the DATA still queued: the close frame).
    let io = ws.get_mut();
    let _ = io.send.send_data(Bytes::new(), true);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = io.recv.data().await {}
    })
    .await;
}

fn config(port: u16, server: SocketAddr, bind: &str) -> String {
    format!(
        "{WS_DEFAULTS}frontend f\n  bind 127.0.0.1:{port}{bind}\n  default_backend b\n\
         backend b\n  server s1 {server} proto h2\n"
    )
}

#[test]
fn an_h1_websocket_client_reaches_an_h2_server_as_an_extended_connect() {
    let srv = H2WsServer::start(true);
    let port = free_port();
    let cfg = config(port, srv.addr, "");
    let rt = runtime();
    for (i, name) in PROXIES.into_iter().enumerate() {
        let proxy = start(name, &cfg, port);
        rt.block_on(async {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            // tungstenite checks the 101's Sec-WebSocket-Accept against its key.
            let (mut ws, resp) = tokio::time::timeout(
                Duration::from_secs(5),
                tokio_tungstenite::client_async(format!("ws://127.0.0.1:{port}/chat?room=1"), tcp),
            )
            .await
            .expect("a handshake within 5 s")
            // CI once saw "Connection reset by peer" here (gatehouse, cause unknown):
            // the proxy's own lines go with the failure.
            .unwrap_or_else(|e| {
                panic!(
                    "{name}: {e}\nstdout:\n{}stderr:\n{}",
                    proxy.stdout(),
                    proxy.stderr()
                )
            });
            assert_eq!(resp.status(), 101, "{name}");
            assert_eq!(
                resp.headers().get("upgrade").map(|v| v.as_bytes()),
                Some(&b"websocket"[..]),
                "{name}"
            );
            echo_and_close(&mut ws, name).await;
        });
        let seen = srv.seen();
        assert_eq!(seen.len(), i + 1, "{name}");
        let s = &seen[i];
        assert_eq!(
            (
                s.method.as_str(),
                s.protocol.as_deref(),
                s.scheme.as_deref(),
                s.authority.as_deref(),
                s.path.as_str()
            ),
            (
                "CONNECT",
                Some("websocket"),
                Some("https"),
                Some(format!("127.0.0.1:{port}").as_str()),
                "/chat?room=1"
            ),
            "{name}: {s:?}"
        );
        assert!(
            s.headers
                .iter()
                .any(|(n, v)| n == "sec-websocket-version" && v == "13"),
            "{name}: {s:?}"
        );
        for h in ["host", "upgrade", "connection"] {
            assert!(
                !s.headers.iter().any(|(n, _)| n == h),
                "{name}: {h} in {s:?}"
            );
        }
        if name == "gatehouse" {
            let lines = proxy.wait_stdout_lines("/chat", 1, Duration::from_secs(5));
            assert!(lines[0].contains(" 101 "), "{lines:?}");
        }
        drop(proxy);
    }
    // Both proxies sent the same extended CONNECT.
    let seen = srv.seen();
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn a_refused_extended_connect_is_an_ordinary_response_to_the_h1_client() {
    let srv = H2WsServer::start(true);
    let port = free_port();
    let cfg = config(port, srv.addr, "");
    let req = upgrade_request("/forbidden", port);
    for name in PROXIES {
        let _proxy = start(name, &cfg, port);
        let mut c = HttpClient::connect(local(port)).unwrap();
        let resp = c.send_raw_request(req.as_bytes(), false).unwrap();
        assert_eq!(resp.status, 403, "{name}");
        assert_eq!(resp.body_str(), "no", "{name}");
    }
}

/// The status line an upgrade request gets, or `None` when the connection closed
/// without one.
fn upgrade_status(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(upgrade_request("/chat", port).as_bytes())
        .unwrap();
    let mut out = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&b[..n]),
        }
        if out.windows(2).any(|w| w == b"\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    text.lines().next().map(str::to_string)
}

#[test]
fn an_upgrade_to_an_h2_server_without_rfc8441_fails_as_in_haproxy() {
    let srv = H2WsServer::start(false);
    let port = free_port();
    let cfg = config(port, srv.addr, "");
    let mut got = Vec::new();
    for name in PROXIES {
        let _proxy = start(name, &cfg, port);
        got.push(upgrade_status(port));
    }
    assert!(
        srv.seen().is_empty(),
        "no extended CONNECT: {:?}",
        srv.seen()
    );
    // HAProxy fails the stream before it opens (`h2s_bck_make_req_headers`): 502.
    assert_eq!(
        got[0].as_deref(),
        Some("HTTP/1.1 502 Bad Gateway"),
        "gatehouse"
    );
    assert_eq!(got[0], got[1], "gatehouse vs haproxy");
}

#[test]
fn an_h2_clients_extended_connect_reaches_an_h2_server_as_one() {
    let srv = H2WsServer::start(true);
    let port = free_port();
    let cfg = config(port, srv.addr, " proto h2");
    let rt = runtime();
    for (i, name) in PROXIES.into_iter().enumerate() {
        let _proxy = start(name, &cfg, port);
        rt.block_on(async {
            let mut send = connect(port).await;
            assert!(send.is_extended_connect_protocol_enabled(), "{name}");
            let (head, io) = extended_connect(&mut send, port, "/room").await;
            assert_eq!(head.status, 200, "{name}");
            let mut ws = WebSocketStream::from_raw_socket(io, Role::Client, None).await;
            echo_and_close(&mut ws, name).await;
        });
        let seen = srv.seen();
        assert_eq!(seen.len(), i + 1, "{name}");
        let s = &seen[i];
        assert_eq!(
            (s.method.as_str(), s.protocol.as_deref(), s.path.as_str()),
            ("CONNECT", Some("websocket"), "/room"),
            "{name}: {s:?}"
        );
    }
    let seen = srv.seen();
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn a_connect_from_an_h1_client_is_tunnelled_over_an_h2_stream() {
    let srv = H2WsServer::start(true);
    let port = free_port();
    let cfg = config(port, srv.addr, "");
    for (i, name) in PROXIES.into_iter().enumerate() {
        let _proxy = start(name, &cfg, port);
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut b).unwrap();
            assert!(n > 0, "{name}: closed before the response");
            got.extend_from_slice(&b[..n]);
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        assert!(text.starts_with("HTTP/1.1 200"), "{name}: {text}");
        s.write_all(b"ping").unwrap();
        let mut echo = [0u8; 4];
        s.read_exact(&mut echo).unwrap();
        assert_eq!(&echo, b"ping", "{name}");
        // The client's half-close reaches the server as END_STREAM: it ends too.
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        assert!(rest.is_empty(), "{name}: {rest:?}");
        let seen = srv.seen();
        assert_eq!(seen.len(), i + 1, "{name}");
        let c = &seen[i];
        assert_eq!(
            (
                c.method.as_str(),
                c.authority.as_deref(),
                c.scheme.as_deref(),
                c.path.as_str()
            ),
            ("CONNECT", Some("db.example:5432"), None, ""),
            "{name}: {c:?}"
        );
    }
    let seen = srv.seen();
    assert_eq!(seen[0], seen[1]);
}
