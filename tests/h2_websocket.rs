//! WebSocket over HTTP/2 (RFC 8441) and CONNECT over HTTP/2, through gatehouse and
//! through haproxy 2.6 on the same configuration: an `h2` crate client sends an
//! extended CONNECT (`:protocol websocket`) on a `proto h2` bind, a real WebSocket
//! server (tungstenite) behind it gets the HTTP/1.1 handshake HAProxy makes of it
//! (`GET` with `Upgrade: websocket` and a `Sec-WebSocket-Key` the proxy made up), and
//! WebSocket frames go both ways over the stream until the close handshake.

mod support;

use bytes::Bytes;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::h2_ws::*;
use support::*;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::Role;

/// The handshake a WebSocket server received: request line and headers.
#[derive(Debug, Clone)]
struct Handshake {
    method: String,
    uri: String,
    version: String,
    headers: Vec<(String, String)>,
}

impl Handshake {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A WebSocket echo server (tungstenite, HTTP/1.1): records each handshake, refuses
/// `/forbidden` with `403`, and echoes every text and binary message until the close
/// handshake.
struct WsServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Handshake>>>,
}

impl WsServer {
    fn start() -> WsServer {
        let l = bind_local();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rec = seen.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                let rec = rec.clone();
                std::thread::spawn(move || {
                    let cb = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                        lock(&rec).push(Handshake {
                            method: req.method().to_string(),
                            uri: req.uri().to_string(),
                            version: format!("{:?}", req.version()),
                            headers: req
                                .headers()
                                .iter()
                                .map(|(n, v)| {
                                    (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into())
                                })
                                .collect(),
                        });
                        if req.uri().path() == "/forbidden" {
                            let mut r = ErrorResponse::new(Some("no".into()));
                            *r.status_mut() = http::StatusCode::FORBIDDEN;
                            return Err(r);
                        }
                        Ok(resp)
                    };
                    let Ok(mut ws) = tokio_tungstenite::tungstenite::accept_hdr(s, cb) else {
                        return;
                    };
                    while let Ok(m) = ws.read() {
                        if (m.is_text() || m.is_binary()) && ws.send(m).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        WsServer { addr, seen }
    }

    fn handshakes(&self) -> Vec<Handshake> {
        lock(&self.seen).clone()
    }
}

fn config(port: u16, server: SocketAddr, global: &str) -> String {
    let defaults = WS_DEFAULTS.replacen("global\n", &format!("global\n{global}"), 1);
    format!(
        "{defaults}frontend f\n  bind 127.0.0.1:{port} proto h2\n  default_backend b\n\
         backend b\n  server s1 {server}\n"
    )
}

#[test]
fn websocket_over_h2_reaches_an_h1_server_as_an_upgrade_and_echoes_until_close() {
    let ws = WsServer::start();
    let port = free_port();
    let cfg = config(port, ws.addr, "");
    let rt = runtime();
    for (i, name) in PROXIES.into_iter().enumerate() {
        let proxy = start(name, &cfg, port);
        rt.block_on(async {
            let mut send = connect(port).await;
            assert!(
                send.is_extended_connect_protocol_enabled(),
                "{name}: SETTINGS_ENABLE_CONNECT_PROTOCOL"
            );
            let (head, io) = extended_connect(&mut send, port, "/chat?room=1").await;
            // RFC 8441: the server's 101 is a 200 on the stream.
            assert_eq!(head.status, 200, "{name}");
            assert!(head.headers.get("upgrade").is_none(), "{name}");
            let mut ws_client = WebSocketStream::from_raw_socket(io, Role::Client, None).await;
            echo_and_close(&mut ws_client, name).await;
        });
        let hs = ws.handshakes();
        assert_eq!(hs.len(), i + 1, "{name}");
        let h = &hs[i];
        assert_eq!(
            (h.method.as_str(), h.uri.as_str(), h.version.as_str()),
            ("GET", "/chat?room=1", "HTTP/1.1"),
            "{name}"
        );
        assert_eq!(h.header("upgrade"), Some("websocket"), "{name}");
        assert_eq!(
            h.header("connection")
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("upgrade"),
            "{name}"
        );
        assert_eq!(h.header("sec-websocket-version"), Some("13"), "{name}");
        assert_eq!(
            h.header("host"),
            Some(format!("127.0.0.1:{port}").as_str()),
            "{name}"
        );
        // The proxy made up the key (16 random bytes in base64).
        assert_eq!(
            h.header("sec-websocket-key").map(str::len),
            Some(24),
            "{name}: {h:?}"
        );
        if name == "gatehouse" {
            let lines = proxy.wait_stdout_lines("/chat", 1, Duration::from_secs(5));
            assert!(
                lines[0].contains(&format!(
                    "\"GET http://127.0.0.1:{port}/chat?room=1 HTTP/2.0\""
                )),
                "{lines:?}"
            );
            assert!(lines[0].contains(" 101 "), "{lines:?}");
        }
        drop(proxy);
    }
}

#[test]
fn a_refused_websocket_upgrade_is_an_ordinary_response() {
    let ws = WsServer::start();
    let port = free_port();
    let cfg = config(port, ws.addr, "");
    let rt = runtime();
    for name in PROXIES {
        let _proxy = start(name, &cfg, port);
        rt.block_on(async {
            let mut send = connect(port).await;
            let (head, mut io) = extended_connect(&mut send, port, "/forbidden").await;
            assert_eq!(head.status, 403, "{name}");
            // The body follows and the stream ends: no tunnel.
            let mut body = Vec::new();
            while let Some(d) = io.recv.data().await {
                body.extend_from_slice(&d.unwrap());
            }
            assert_eq!(body, b"no", "{name}");
        });
    }
}

#[test]
fn a_101_without_the_accept_of_the_proxys_key_is_a_502() {
    // A server that answers every upgrade with an accept value for another key.
    let addr = bad_accept_server(Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    let port = free_port();
    let cfg = config(port, addr, "");
    let rt = runtime();
    for name in PROXIES {
        let _proxy = start(name, &cfg, port);
        rt.block_on(async {
            let mut send = connect(port).await;
            let (head, _) = extended_connect(&mut send, port, "/chat").await;
            assert_eq!(head.status, 502, "{name}");
        });
    }
}

/// A server answering every upgrade with `101` to WebSocket and `accept` as its
/// `Sec-WebSocket-Accept` line (`None`: no such line).
fn bad_accept_server(accept: Option<&'static str>) -> SocketAddr {
    let l = bind_local();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = Vec::new();
            let mut b = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&b[..n]),
                }
            }
            let line = accept.map_or(String::new(), |a| format!("Sec-WebSocket-Accept: {a}\r\n"));
            let _ = write!(
                s,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\n{line}\r\n"
            );
            let _ = s.read(&mut b);
        }
    });
    addr
}

#[test]
fn a_101_to_websocket_without_an_accept_is_a_502_for_h1_and_h2_clients() {
    // HAProxy's `h1_search_websocket_key` refuses a switch to WebSocket without
    // `Sec-WebSocket-Accept` whoever made the key: the HTTP/1 client's own key here.
    let addr = bad_accept_server(None);
    let h1_port = free_port();
    let h2_port = free_port();
    let cfg = format!(
        "{WS_DEFAULTS}frontend f\n  bind 127.0.0.1:{h1_port}\n  bind 127.0.0.1:{h2_port} proto h2\n\
         default_backend b\nbackend b\n  server s1 {addr}\n"
    );
    let req = upgrade_request("/chat", h1_port);
    let rt = runtime();
    for name in PROXIES {
        let _proxy = start(name, &cfg, h1_port);
        let mut c = HttpClient::connect(local(h1_port)).unwrap();
        let resp = c.send_raw_request(req.as_bytes(), false).unwrap();
        assert_eq!(resp.status, 502, "{name}: HTTP/1 client");
        rt.block_on(async {
            let mut send = connect(h2_port).await;
            let (head, _) = extended_connect(&mut send, h2_port, "/chat").await;
            assert_eq!(head.status, 502, "{name}: HTTP/2 client");
        });
    }
}

#[test]
fn h2_workaround_bogus_websocket_clients_hides_extended_connect() {
    let ws = WsServer::start();
    let port = free_port();
    let cfg = config(port, ws.addr, "  h2-workaround-bogus-websocket-clients\n");
    let rt = runtime();
    for name in PROXIES {
        let _proxy = start(name, &cfg, port);
        rt.block_on(async {
            // SETTINGS were read: a request was answered on the connection.
            let send = connect(port).await;
            assert!(!send.is_extended_connect_protocol_enabled(), "{name}");
        });
    }
}

#[test]
fn connect_over_h2_is_forwarded_and_tunnelled() {
    // An HTTP/1 server answering CONNECT with 200, then echoing the tunnel's bytes.
    let l: TcpListener = bind_local();
    let addr = l.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::<String>::new()));
    let rec = heads.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let rec = rec.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut b = [0u8; 4096];
                let end = loop {
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&b[..n]),
                    }
                };
                if !buf.starts_with(b"CONNECT ") {
                    // It closes: say so, or the proxy may reuse it for the CONNECT.
                    let _ = s.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    return;
                }
                lock(&rec).push(String::from_utf8_lossy(&buf[..end]).into_owned());
                let _ = s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let _ = s.write_all(&buf[end..]);
                loop {
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&b[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    let port = free_port();
    let cfg = config(port, addr, "");
    let rt = runtime();
    for (i, name) in PROXIES.into_iter().enumerate() {
        let _proxy = start(name, &cfg, port);
        rt.block_on(async {
            let mut send = connect(port).await;
            let req = http::Request::connect("db.example:5432").body(()).unwrap();
            let mut send2 = send.clone().ready().await.unwrap();
            let (resp, mut stream) = send2.send_request(req, false).unwrap();
            let resp = tokio::time::timeout(Duration::from_secs(5), resp)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(resp.status(), 200, "{name}");
            let mut recv = resp.into_body();
            stream
                .send_data(Bytes::from_static(b"ping"), false)
                .unwrap();
            let got = tokio::time::timeout(Duration::from_secs(5), recv.data())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(&got[..], b"ping", "{name}");
            // END_STREAM from the client is a half-close: the server sees its end and
            // closes, and the stream ends.
            stream.send_data(Bytes::new(), true).unwrap();
            let end = tokio::time::timeout(Duration::from_secs(5), async {
                let mut rest = Vec::new();
                while let Some(Ok(d)) = recv.data().await {
                    rest.extend_from_slice(&d);
                }
                rest
            })
            .await;
            assert_eq!(end.as_deref(), Ok(&b""[..]), "{name}: the stream ends");
            let _ = &mut send;
        });
        let h = lock(&heads)[i].clone();
        assert!(
            h.starts_with("CONNECT db.example:5432 HTTP/1.1\r\n"),
            "{name}: {h}"
        );
        assert!(
            h.to_ascii_lowercase().contains("host: db.example:5432\r\n"),
            "{name}: {h}"
        );
    }
}
