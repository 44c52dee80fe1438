//! What the WebSocket-over-HTTP/2 tests (RFC 8441, `tests/h2_websocket*.rs`) share: the
//! configuration preamble, the two proxies they compare, an h2c client whose SETTINGS
//! exchange is done, the extended CONNECT, and the WebSocket echo exchange up to the
//! close handshake.

use super::h2_bytes::StreamBytes;
use super::{Daemon, Gatehouse, Haproxy, require_haproxy};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// `global` and `defaults` of the WebSocket tests: HTTP mode, one log line per request on
/// stdout, 5 s timeouts (tunnel included).
pub const WS_DEFAULTS: &str = "global\n  log stdout format raw local0\n\
    defaults\n  mode http\n  log global\n  option httplog\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n  timeout tunnel 5s\n";

/// The proxies compared, one after the other on the same port.
pub const PROXIES: [&str; 2] = ["gatehouse", "haproxy"];

/// Starts `name` (one of [`PROXIES`]) with `cfg`, listening on `port`.
pub fn start(name: &str, cfg: &str, port: u16) -> Daemon {
    if name == "haproxy" {
        require_haproxy();
        Haproxy::builder(cfg).wait_port(port).start()
    } else {
        Gatehouse::builder(cfg).wait_port(port).start()
    }
}

/// Locks `m`, a panicking holder notwithstanding (the servers record from their threads).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A two-thread tokio runtime for the clients and the HTTP/2 servers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An h2c client connection to `port`; its SETTINGS exchange is done when a first
/// plain request was answered (so the proxy's SETTINGS were read).
pub async fn connect(port: u16) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut send = send.ready().await.unwrap();
    let req = http::Request::get(format!("http://127.0.0.1:{port}/plain"))
        .body(())
        .unwrap();
    let (resp, _) = send.send_request(req, true).unwrap();
    let _ = resp.await;
    send
}

/// Sends an extended CONNECT for `path` (`:protocol websocket`): the response head and
/// the stream's halves.
pub async fn extended_connect(
    send: &mut h2::client::SendRequest<Bytes>,
    port: u16,
    path: &str,
) -> (http::response::Parts, StreamBytes) {
    let mut req = http::Request::connect(format!("http://127.0.0.1:{port}{path}"))
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    req.extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    let mut send = send.clone().ready().await.unwrap();
    let (resp, stream) = send.send_request(req, false).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), resp)
        .await
        .expect("a response to the extended CONNECT")
        .expect("a response, not a reset");
    let (parts, recv) = resp.into_parts();
    (parts, StreamBytes::new(stream, recv))
}

/// Sends WebSocket messages through `ws` and checks the echoes (a text message, then a
/// binary one larger than the stream windows), then closes and expects the server's
/// close frame before the stream ends.
pub async fn echo_and_close<S>(ws: &mut WebSocketStream<S>, name: &str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.send(Message::text("hello")).await.unwrap();
    let m = ws.next().await.unwrap().unwrap();
    assert_eq!(m, Message::text("hello"), "{name}");
    // More than the stream windows (64 KiB) in both directions.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    ws.send(Message::binary(big.clone())).await.unwrap();
    let m = ws.next().await.unwrap().unwrap();
    assert_eq!(m.into_data().as_ref(), &big[..], "{name}");
    // The close handshake: the server answers the close, then the stream ends.
    ws.close(None).await.unwrap();
    let mut end = None;
    while let Some(m) = ws.next().await {
        match m {
            Ok(Message::Close(_)) => end = Some("close"),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert_eq!(end, Some("close"), "{name}: the server's close frame");
}

/// An HTTP/1.1 WebSocket upgrade request for `path` to `127.0.0.1:port`, with RFC 6455's
/// sample key.
pub fn upgrade_request(path: &str, port: u16) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
}
