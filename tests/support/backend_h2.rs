//! A small HTTP/2 server (h2c with prior knowledge, the `h2` crate) for the tests of
//! HTTP/2 toward servers: it records every request (pseudo-headers, headers, body,
//! trailers, the connection it came on), counts connections and the most streams seen
//! at once on one connection, and answers by path:
//!
//! - `/trailers`: a body of two DATA frames, then trailers `x-checksum: 42`;
//! - `/goaway`: sends a graceful GOAWAY on its connection, then answers (the GOAWAY
//!   goes first, so the proxy knows of it before it can send another request there);
//! - `/drop`: answers, then closes its connection without a GOAWAY;
//! - `/slow`: answers after 100 ms (to overlap streams);
//! - `/big-header`: a 10,000-byte `x-big` response header;
//! - anything else: `200` with `x-conn: <connection number>` and a body
//!   `<method> <path> <body length>`.
//!
//! It runs on a thread of its own with its own tokio runtime, stopped on drop.

use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the HTTP/2 server received it.
#[derive(Debug, Clone, Default)]
pub struct H2Request {
    /// The method.
    pub method: String,
    /// `:scheme`, if any.
    pub scheme: Option<String>,
    /// `:authority`, if any.
    pub authority: Option<String>,
    /// `:path` with the query.
    pub path: String,
    /// Header fields in order (lowercase names).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Trailer fields.
    pub trailers: Vec<(String, String)>,
    /// The number of the connection it came on (from 1).
    pub conn: usize,
}

impl H2Request {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<H2Request>>,
    conns: AtomicUsize,
    max_streams_seen: AtomicUsize,
}

/// The running server.
pub struct H2Backend {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl H2Backend {
    /// Starts a server allowing `max_streams` concurrent streams per connection.
    pub fn start(max_streams: u32) -> H2Backend {
        let listener = super::bind_local();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((sock, _)) = listener.accept().await else {
                            continue;
                        };
                        let n = st.conns.fetch_add(1, Ordering::SeqCst) + 1;
                        tokio::spawn(serve(sock, n, max_streams, st.clone()));
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = rx => {}
                }
            });
        });
        H2Backend {
            addr,
            state,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<H2Request> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.conns.load(Ordering::SeqCst)
    }

    /// The most streams seen open at once on one connection.
    pub fn max_streams_seen(&self) -> usize {
        self.state.max_streams_seen.load(Ordering::SeqCst)
    }
}

impl Drop for H2Backend {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How a stream asks its connection to close.
enum Closing {
    /// A graceful GOAWAY; told through the sender once it is queued.
    Graceful(tokio::sync::oneshot::Sender<()>),
    /// Drop the socket once the answer went out, without a GOAWAY.
    Drop,
}

async fn serve(sock: tokio::net::TcpStream, n: usize, max_streams: u32, st: Arc<State>) {
    let mut conn = match h2::server::Builder::new()
        .max_concurrent_streams(max_streams)
        .max_header_list_size(1 << 20)
        .handshake::<_, Bytes>(sock)
        .await
    {
        Ok(c) => c,
        Err(_) => return,
    };
    let open = Arc::new(AtomicUsize::new(0));
    let (goaway_tx, mut goaway_rx) = tokio::sync::mpsc::unbounded_channel::<Closing>();
    loop {
        tokio::select! {
            next = conn.accept() => {
                let Some(Ok((req, respond))) = next else { break };
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                st.max_streams_seen.fetch_max(now, Ordering::SeqCst);
                let (st, open, goaway) = (st.clone(), open.clone(), goaway_tx.clone());
                tokio::spawn(async move {
                    stream(req, respond, n, &st, &goaway).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Some(closing) = goaway_rx.recv() => {
                let Closing::Graceful(queued) = closing else {
                    // Let the answer go out, then drop the socket.
                    let _ = tokio::time::timeout(
                        Duration::from_millis(20),
                        std::future::poll_fn(|cx| conn.poll_closed(cx)),
                    )
                    .await;
                    return;
                };
                // Queued now, the GOAWAY leaves before the answer's frames (the
                // connection writes GOAWAY frames before stream frames).
                conn.graceful_shutdown();
                let _ = queued.send(());
            }
        }
    }
}

async fn stream(
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    n: usize,
    st: &State,
    goaway: &tokio::sync::mpsc::UnboundedSender<Closing>,
) {
    let (parts, mut body) = req.into_parts();
    if parts.uri.path() == "/early" {
        // A complete answer before the request's body; dropping the body then resets
        // the stream with NO_ERROR (RFC 9113 §8.1: send no more of it).
        let resp = http::Response::builder()
            .status(200)
            .header("content-length", "5")
            .body(())
            .unwrap();
        if let Ok(mut s) = respond.send_response(resp, false) {
            let _ = s.send_data(Bytes::from_static(b"early"), true);
        }
        drop(body);
        return;
    }
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { return };
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await.ok().flatten();
    let text = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let rec = H2Request {
        method: parts.method.to_string(),
        scheme: parts.uri.scheme_str().map(str::to_owned),
        authority: parts.uri.authority().map(|a| a.to_string()),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), text(v)))
            .collect(),
        body: data.clone(),
        trailers: trailers
            .iter()
            .flatten()
            .map(|(k, v)| (k.to_string(), text(v)))
            .collect(),
        conn: n,
    };
    st.requests.lock().unwrap().push(rec.clone());
    let path = rec.path.as_str();
    let mut resp = http::Response::builder()
        .status(200)
        .header("x-conn", n.to_string());
    match path {
        "/trailers" => {
            let Ok(mut s) = respond.send_response(resp.body(()).unwrap(), false) else {
                return;
            };
            let _ = s.send_data(Bytes::from_static(b"first,"), false);
            let _ = s.send_data(Bytes::from_static(b"second"), false);
            let mut t = http::HeaderMap::new();
            t.insert("x-checksum", http::HeaderValue::from_static("42"));
            let _ = s.send_trailers(t);
            return;
        }
        "/slow" => tokio::time::sleep(Duration::from_millis(100)).await,
        "/big-header" => resp = resp.header("x-big", "b".repeat(10_000)),
        _ => {}
    }
    let text = format!("{} {} {}", rec.method, rec.path, rec.body.len());
    let resp = resp
        .header("content-length", text.len().to_string())
        .body(())
        .unwrap();
    if path == "/goaway" {
        let (queued, done) = tokio::sync::oneshot::channel();
        let _ = goaway.send(Closing::Graceful(queued));
        let _ = done.await;
    }
    if let Ok(mut s) = respond.send_response(resp, false) {
        let _ = s.send_data(Bytes::from(text), true);
    }
    if path == "/drop" {
        let _ = goaway.send(Closing::Drop);
    }
}
