//! One client connection in http mode: the request loop and the life of each exchange.

use super::io::{IoFail, WaitReadable, read_more, read_now, wait_readable, write_all};
use super::rules::{self, Edits, Verdict};
use super::view::ReqView;
use crate::config::model::{HttpConnMode, HttpReuse};
use crate::log::{FinState, LogRecord, TermCause};
use crate::proxy::connect::{self, ConnectError, ConnectInfo};
use crate::proxy::h1::{
    BodyKind, ChunkedDecoder, ConnectionHeader, HeadEdits, Limits, RequestHead, ResponseHead,
    parse_request_into, parse_response_into, write_request_head, write_response_head,
};
use crate::proxy::session::{self, ConnInfo};
use crate::proxy::tunnel::{self, TunnelTimeouts};
use crate::runtime::backend::{Backend, ServerSlot};
use crate::runtime::errors;
use crate::runtime::frontend::Frontend;
use crate::runtime::snapshot::{Snapshot, conn_mode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// What happens to the client connection after an exchange.
enum Next {
    KeepAlive,
    Close,
}

/// The per-exchange facts the log line needs.
struct Outcome {
    status: i32,
    backend: Option<Arc<Backend>>,
    server: Option<Arc<crate::runtime::server::ServerState>>,
    t_request: Option<i64>,
    info: ConnectInfo,
    t_response: Option<i64>,
    bytes_out: u64,
    bytes_in: u64,
    term: TermCause,
    fin: FinState,
    local: bool,
}

impl Outcome {
    fn new() -> Self {
        Outcome {
            status: -1,
            backend: None,
            server: None,
            t_request: None,
            info: ConnectInfo::default(),
            t_response: None,
            bytes_out: 0,
            bytes_in: 0,
            term: TermCause::None,
            fin: FinState::None,
            local: false,
        }
    }
}

/// Serves one client connection in http mode until it closes; `hold` (its maxconn slots
/// and counts) is dropped then.
///
/// While requests keep coming, a [`Session`] on the heap serves them, its buffers reused
/// from one request to the next. When the connection goes idle between requests, the
/// session is dropped with its buffers and only this loop waits (`timeout
/// http-keep-alive`, else `http-request`, else `client`): an idle keep-alive connection
/// costs a few hundred bytes, not several KiB.
pub(super) async fn run<S, H>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    conn: ConnInfo,
    mut client: S,
    _hold: H,
) where
    S: AsyncRead + AsyncWrite + WaitReadable + Unpin,
{
    let mut first = true;
    loop {
        let busy = Session::new(fe.clone(), snap.clone(), conn, first).serve_busy(&mut client);
        if !Box::pin(busy).await {
            break;
        }
        first = false;
        let t = &fe.timeouts;
        if !wait_readable(&client, t.http_keep_alive.or(t.http_request).or(t.client)).await {
            break;
        }
    }
    let _ = client.shutdown().await;
}

/// State of a client connection while it is busy; buffers are reused across requests.
struct Session {
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    conn: ConnInfo,
    limits: Limits,
    /// Client input: the current request head, then pipelined data.
    buf: Vec<u8>,
    /// Scratch for heads being written out.
    out: Vec<u8>,
    /// Server input.
    rbuf: Vec<u8>,
    head: RequestHead,
    rhead: ResponseHead,
    edits: Edits,
    redits: Edits,
    /// The request line as received, for the log.
    reqline: Vec<u8>,
    line: String,
    first: bool,
    /// Bytes of the current request at the start of `buf` not yet consumed.
    unread: usize,
    /// Part of the current request's body has not been read from the client yet.
    body_pending: bool,
}

fn xff_value(conn: &ConnInfo) -> Option<String> {
    conn.peer.map(|p| match p.ip() {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        ip => ip.to_string(),
    })
}

fn in_net(ip: std::net::IpAddr, net: (std::net::IpAddr, u8)) -> bool {
    match (ip, net.0) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(n)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u32::MAX << (32 - net.1 as u32)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(n)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u128::MAX << (128 - net.1 as u32)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl Session {
    fn new(fe: Arc<Frontend>, snap: Arc<Snapshot>, conn: ConnInfo, first: bool) -> Self {
        let bufsize = snap.global.bufsize;
        let limits = Limits {
            max_head: bufsize - snap.global.maxrewrite,
            max_headers: 101,
        };
        Session {
            fe,
            snap,
            conn,
            limits,
            buf: Vec::new(),
            out: Vec::new(),
            rbuf: Vec::new(),
            head: RequestHead::default(),
            rhead: ResponseHead::default(),
            edits: Edits::default(),
            redits: Edits::default(),
            reqline: Vec::new(),
            line: String::new(),
            first,
            unread: 0,
            body_pending: false,
        }
    }

    /// Serves requests while they keep coming. `true`: the connection went idle between
    /// requests (nothing to read); `false`: it must be closed.
    async fn serve_busy<S>(mut self, client: &mut S) -> bool
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let bufsize = self.snap.global.bufsize;
        loop {
            if !self.first && self.buf.is_empty() {
                // A busy client's next request is often there already.
                match read_now(client, &mut self.buf, bufsize).await {
                    Some(Ok(n)) if n > 0 => {}
                    Some(_) => return false,
                    None => return true,
                }
            }
            let mut out = Outcome::new();
            match self.exchange(client, &mut out).await {
                Some(next) => {
                    self.log(&out);
                    self.first = false;
                    if matches!(next, Next::Close) {
                        return false;
                    }
                }
                None => return false,
            }
        }
    }

    fn log(&mut self, o: &Outcome) {
        let fe = self.fe.clone();
        if fe.log.is_none() {
            return;
        }
        let mut rec = LogRecord::new(self.conn.accept_date, &fe.name);
        rec.client = self.conn.peer;
        rec.frontend_addr = self.conn.local;
        rec.backend = o
            .backend
            .as_ref()
            .map(|b| b.name.as_str())
            .unwrap_or(&fe.name);
        rec.server = o.server.as_ref().map(|s| s.name.as_str());
        rec.t_request = o.t_request;
        rec.t_idle = Some(0);
        rec.t_handshake = Some(0);
        rec.t_queue = if o.server.is_some() || o.info.queued {
            session::ms(o.info.queue)
        } else {
            None
        };
        rec.t_connect = if o.server.is_some() && !o.local {
            session::ms(o.info.connect)
        } else {
            None
        };
        rec.t_response = o.t_response;
        rec.t_active = session::ms(self.conn.accepted.elapsed());
        rec.t_total = rec.t_active;
        rec.status = o.status;
        rec.bytes_out = o.bytes_out;
        rec.bytes_in = o.bytes_in;
        rec.term_cause = o.term;
        rec.fin_state = o.fin;
        rec.retries = o.info.retries;
        rec.redispatched = o.info.redispatched;
        rec.request_line = if self.reqline.is_empty() {
            None
        } else {
            Some(&self.reqline)
        };
        if let Some(b) = &o.backend {
            rec.beconn = b.beconn.load(Ordering::Relaxed);
            rec.backend_queue = b.queued.load(Ordering::Relaxed);
        }
        if let Some(s) = &o.server {
            rec.srv_conn = s.cur_conns.load(Ordering::Relaxed);
            rec.srv_queue = s.queued.load(Ordering::Relaxed);
            rec.server_addr = Some(s.addr);
        }
        session::counters(&mut rec, &self.snap, &fe);
        let mut line = std::mem::take(&mut self.line);
        session::emit(&fe, &rec, false, true, &mut line);
        self.line = line;
    }

    /// Sends an error page. 400 and 408 close the connection (HAProxy's raw pages);
    /// other errors keep a keep-alive client when its request was fully read.
    async fn fail<S: AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
        status: u16,
        term: TermCause,
        fin: FinState,
    ) -> Option<Next> {
        let be_errors = o.backend.as_ref().map(|b| &b.errors);
        let close_anyway = matches!(status, 400 | 408);
        let page = if close_anyway {
            errors::parse_page(status, be_errors, &self.fe.errors)
        } else {
            errors::page(status, be_errors, &self.fe.errors)
        };
        let keep = !close_anyway
            && errors::keeps_alive(page)
            && !self.body_pending
            && self.head.keep_alive
            && self.fe.conn_mode != HttpConnMode::Close;
        let page = if keep || close_anyway || !errors::keeps_alive(page) {
            page.into()
        } else {
            errors::with_close(page)
        };
        let ok = write_all(client, &page, self.fe.timeouts.client)
            .await
            .is_ok();
        o.status = status as i32;
        o.bytes_out += page.len() as u64;
        o.term = term;
        o.fin = fin;
        if keep && ok {
            let n = self.unread.min(self.buf.len());
            self.buf.drain(..n);
            self.unread = 0;
            return Some(Next::KeepAlive);
        }
        Some(Next::Close)
    }

    /// Reads and parses the next request head. `None`: close silently.
    async fn read_head<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
    ) -> Result<usize, Option<Next>> {
        let fe = self.fe.clone();
        let t = &fe.timeouts;
        let bufsize = self.snap.global.bufsize;
        let mut start = self.conn.accepted;
        if !self.first {
            // The next request on a kept-alive connection: `timeout http-request` runs
            // from its first bytes.
            start = Instant::now();
        }
        let limit = t.http_request.or(t.client);
        loop {
            if !self.buf.is_empty() {
                match parse_request_into(&mut self.head, &self.buf, &self.limits) {
                    Ok(Some(n)) => {
                        o.t_request = session::ms(start.elapsed());
                        return Ok(n);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.reqline.clear();
                        let page = e.response();
                        let _ = write_all(client, page, t.client).await;
                        o.status = e.status() as i32;
                        o.bytes_out = page.len() as u64;
                        o.term = TermCause::Proxy;
                        o.fin = FinState::Request;
                        o.t_request = Some(-1);
                        return Err(Some(Next::Close));
                    }
                }
            }
            let left = limit.map(|l| l.saturating_sub(start.elapsed()));
            match read_more(client, &mut self.buf, bufsize, left).await {
                Ok(_) => {}
                Err(IoFail::Timeout) => {
                    self.reqline.clear();
                    o.t_request = Some(-1);
                    return Err(self
                        .fail(client, o, 408, TermCause::ClientTimeout, FinState::Request)
                        .await);
                }
                Err(_) => {
                    if self.buf.is_empty() && !self.first {
                        return Err(None);
                    }
                    self.reqline.clear();
                    o.status = -1;
                    o.term = TermCause::ClientAbort;
                    o.fin = FinState::Request;
                    o.t_request = Some(-1);
                    // A connection closed without sending anything is a "null" connection.
                    if self.buf.is_empty() {
                        if self.fe.log.as_ref().is_some_and(|l| l.dontlognull) {
                            return Err(None);
                        }
                        o.status = 400;
                    }
                    return Err(Some(Next::Close));
                }
            }
        }
    }

    /// One request/response exchange. `None`: close without logging.
    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
    ) -> Option<Next> {
        let head_len = match self.read_head(client, o).await {
            Ok(n) => n,
            Err(next) => return next,
        };
        self.reqline.clear();
        self.reqline
            .extend_from_slice(self.head.method_bytes(&self.buf));
        self.reqline.push(b' ');
        self.reqline.extend_from_slice(self.head.uri.get(&self.buf));
        self.reqline
            .extend_from_slice(if self.head.version.at_least_11() {
                b" HTTP/1.1"
            } else {
                b" HTTP/1.0"
            });
        let has_body = !matches!(self.head.body, BodyKind::None | BodyKind::Length(0));
        self.unread = head_len;
        self.body_pending = has_body;

        // Frontend rules, then the switching rules.
        self.edits.clear();
        let fe = self.fe.clone();
        let (verdict, backend) = {
            let view = ReqView {
                buf: &self.buf,
                head: &self.head,
                conn: &self.conn,
                status: None,
            };
            // `tcp-request content` rules run first, on the parsed request.
            if !crate::runtime::rules::tcp_verdict(&fe.tcp_content, &view) {
                return None;
            }
            let v = rules::apply(&fe.http_request, &view, &mut self.edits);
            let b = match v {
                Verdict::Continue => fe
                    .switching
                    .iter()
                    .find(|s| s.cond.matches(&view))
                    .map(|s| s.backend.clone())
                    .or_else(|| fe.default_backend.clone()),
                _ => None,
            };
            if let Some(b) = &b
                && !crate::runtime::rules::tcp_verdict(&b.tcp_content, &view)
            {
                return None;
            }
            let v = match (&v, &b) {
                (Verdict::Continue, Some(b)) if !b.http_request.is_empty() => {
                    rules::apply(&b.http_request, &view, &mut self.edits)
                }
                _ => v,
            };
            (v, b)
        };
        o.backend = backend.clone();
        match verdict {
            Verdict::Continue => {}
            Verdict::Deny(status) => {
                o.local = true;
                return self
                    .local_reply(client, o, head_len, has_body, None, status)
                    .await;
            }
            Verdict::Return(bytes) => {
                o.local = true;
                let status = std::str::from_utf8(bytes.get(9..12).unwrap_or(b"200"))
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(200);
                return self
                    .local_reply(client, o, head_len, has_body, Some(bytes), status)
                    .await;
            }
        }
        let Some(be) = backend else {
            return self
                .fail(client, o, 503, TermCause::Proxy, FinState::Request)
                .await;
        };
        be.beconn.fetch_add(1, Ordering::Relaxed);
        be.total.fetch_add(1, Ordering::Relaxed);
        let r = self.forward(client, o, &be, head_len).await;
        be.beconn.fetch_sub(1, Ordering::Relaxed);
        r
    }

    /// Answers locally (`deny`, `return`), keeping the connection if no body is pending.
    async fn local_reply<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
        head_len: usize,
        has_body: bool,
        bytes: Option<Vec<u8>>,
        status: u16,
    ) -> Option<Next> {
        let keep = !has_body && self.head.keep_alive && self.fe.conn_mode != HttpConnMode::Close;
        let page: &[u8] = match &bytes {
            Some(b) => b,
            None => errors::page(
                status,
                o.backend.as_ref().map(|b| &b.errors),
                &self.fe.errors,
            ),
        };
        let page = if keep {
            page.into()
        } else {
            errors::with_close(page)
        };
        if write_all(client, &page, self.fe.timeouts.client)
            .await
            .is_err()
        {
            return Some(Next::Close);
        }
        o.status = status as i32;
        o.bytes_out = page.len() as u64;
        o.term = if bytes.is_some() {
            TermCause::Local
        } else {
            TermCause::Proxy
        };
        o.fin = FinState::Request;
        if bytes.is_some() {
            o.fin = FinState::None;
        }
        self.buf.drain(..head_len);
        Some(if keep { Next::KeepAlive } else { Next::Close })
    }

    /// Writes the request head for the server into `self.out`.
    fn build_request_head(&mut self, be: &Backend, mode: HttpConnMode) {
        self.out.clear();
        let connection = match mode {
            HttpConnMode::KeepAlive => {
                if self.head.version.at_least_11() {
                    ConnectionHeader::Default
                } else {
                    ConnectionHeader::KeepAlive
                }
            }
            _ => ConnectionHeader::Close,
        };
        let ff = be.forwardfor.as_ref().or(self.fe.forwardfor.as_ref());
        let mut xff: Option<(Vec<u8>, String)> = None;
        if let (Some(ff), Some(peer)) = (ff, self.conn.peer) {
            let excepted = ff.except.is_some_and(|n| in_net(peer.ip(), n));
            let name = ff.header.to_ascii_lowercase().into_bytes();
            let present = self
                .head
                .headers
                .iter()
                .any(|h| h.name.get(&self.buf).eq_ignore_ascii_case(&name));
            if !(excepted || (ff.if_none && present)) {
                xff = xff_value(&self.conn).map(|v| (name, v));
            }
        }
        if self.edits.is_empty() && xff.is_none() {
            let edits = HeadEdits {
                connection,
                strip_hop_by_hop: false,
                remove: &[],
                add: &[],
            };
            write_request_head(&self.head, &self.buf, &edits, &mut self.out);
            return;
        }
        let remove: Vec<&[u8]> = self.edits.remove.iter().map(Vec::as_slice).collect();
        let mut add: Vec<(&[u8], &[u8])> = self
            .edits
            .add
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        if let Some((n, v)) = &xff {
            add.push((n.as_slice(), v.as_bytes()));
        }
        let edits = HeadEdits {
            connection,
            strip_hop_by_hop: false,
            remove: &remove,
            add: &add,
        };
        write_request_head(&self.head, &self.buf, &edits, &mut self.out);
    }

    /// Forwards the request to a server of `be` and the response back.
    async fn forward<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        o: &mut Outcome,
        be: &Arc<Backend>,
        head_len: usize,
    ) -> Option<Next> {
        let mode = conn_mode(self.fe.conn_mode, be.conn_mode);
        // Chunk sizes already received are checked before any server is contacted, as
        // HAProxy's parser does: a malformed body never reaches a server.
        if self.head.body == BodyKind::Chunked
            && !self.head.expect_100
            && ChunkedDecoder::for_request()
                .feed(&self.buf[head_len..])
                .is_err()
        {
            return self
                .fail(client, o, 400, TermCause::Proxy, FinState::Request)
                .await;
        }
        let reuse_ok = match be.http_reuse {
            HttpReuse::Never => false,
            HttpReuse::Safe => !self.first,
            HttpReuse::Aggressive | HttpReuse::Always => true,
        } && mode == HttpConnMode::KeepAlive;

        // Balance, queue, then an idle connection or a new one.
        // With `option abortonclose`, a client that closes while its request waits in the
        // queue aborts it (HAProxy's CQ); bytes it pipelines meanwhile are kept.
        let mut early = Vec::new();
        let slot = {
            let view = ReqView {
                buf: &self.buf,
                head: &self.head,
                conn: &self.conn,
                status: None,
            };
            let acq = connect::acquire(be, &view, &[], &mut o.info);
            if be.abortonclose {
                tokio::pin!(acq);
                loop {
                    early.reserve(1024);
                    tokio::select! {
                        r = &mut acq => break Some(r),
                        n = client.read_buf(&mut early) => if !matches!(n, Ok(k) if k > 0) { break None },
                    }
                }
            } else {
                Some(acq.await)
            }
        };
        self.buf.extend_from_slice(&early);
        let Some(slot) = slot else {
            o.term = TermCause::ClientAbort;
            o.fin = FinState::Queue;
            o.status = -1;
            return Some(Next::Close);
        };
        let slot = match slot {
            Ok(s) => s,
            Err(e) => {
                let fin = if e == ConnectError::QueueTimeout {
                    FinState::Queue
                } else {
                    FinState::Connect
                };
                let term = if e == ConnectError::NoServer {
                    TermCause::Proxy
                } else {
                    TermCause::ServerAbort
                };
                return self.fail(client, o, 503, term, fin).await;
            }
        };
        let pooled = if reuse_ok {
            be.pools[slot.server.index].take()
        } else {
            None
        };
        let (mut server, mut slot, mut reused) = match pooled {
            Some(s) => (s, slot, true),
            None => {
                let r = {
                    let view = ReqView {
                        buf: &self.buf,
                        head: &self.head,
                        conn: &self.conn,
                        status: None,
                    };
                    connect::dial_retrying(be, &view, self.conn.local, &mut o.info, slot).await
                };
                match r {
                    Ok((s, slot)) => (s, slot, false),
                    Err(e) => {
                        let term = if e == ConnectError::Timeout {
                            TermCause::ServerTimeout
                        } else {
                            TermCause::ServerAbort
                        };
                        return self.fail(client, o, 503, term, FinState::Connect).await;
                    }
                }
            }
        };
        o.server = Some(slot.server.clone());

        // With `option http-buffer-request`, the proxy answers `Expect: 100-continue`
        // itself and reads the body before the server sees the request.
        if self.head.expect_100 && (self.fe.buffer_request || be.buffer_request) {
            if write_all(
                client,
                b"HTTP/1.1 100 Continue\r\n\r\n",
                self.fe.timeouts.client,
            )
            .await
            .is_err()
            {
                return Some(Next::Close);
            }
            self.head.expect_100 = false;
            self.edits.remove.push(b"expect".to_vec());
        }
        // The head, plus the body bytes already received (unless the client waits for 100).
        self.build_request_head(be, mode);
        let head_out_len = self.out.len();
        let mut decoder = ChunkedDecoder::for_request();
        let mut body_left: u64 = 0;
        let mut body_done = true;
        let mut consumed = head_len;
        if !self.head.expect_100 {
            let avail = &self.buf[head_len..];
            match self.head.body {
                BodyKind::Length(n) => {
                    let k = (avail.len() as u64).min(n) as usize;
                    self.out.extend_from_slice(&avail[..k]);
                    consumed += k;
                    body_left = n - k as u64;
                    body_done = body_left == 0;
                }
                BodyKind::Chunked => match decoder.feed(avail) {
                    Ok(k) => {
                        self.out.extend_from_slice(&avail[..k]);
                        consumed += k;
                        body_done = decoder.is_done();
                    }
                    Err(e) => {
                        let _ = e;
                        return self
                            .fail(client, o, 400, TermCause::Proxy, FinState::Request)
                            .await;
                    }
                },
                _ => {}
            }
        } else {
            body_done = matches!(self.head.body, BodyKind::None | BodyKind::Length(0));
            if let BodyKind::Length(n) = self.head.body {
                body_left = n;
            }
        }
        o.bytes_in += (consumed - head_len) as u64;
        let st = be.timeouts.server;
        // A reused idle connection may have been closed by the server meanwhile: retry once
        // on a fresh connection while nothing of the response was received.
        let replayable = body_done;
        if write_all(&mut server, &self.out, st).await.is_err() {
            if !reused {
                return self
                    .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                    .await;
            }
            match self.redial(be, o, slot).await {
                Ok((s, sl)) => {
                    server = s;
                    slot = sl;
                    reused = false;
                }
                Err(next) => return next,
            }
            if write_all(&mut server, &self.out, st).await.is_err() {
                return self
                    .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                    .await;
            }
        }
        self.buf.drain(..consumed);
        self.unread = 0;
        self.body_pending = !body_done;
        let t_sent = Instant::now();

        // Expect: 100-continue: the server answers first.
        let mut awaiting_100 = self.head.expect_100 && !body_done;
        self.rbuf.clear();
        loop {
            if !awaiting_100 && !body_done {
                // Stream the rest of the request body.
                if let Err(next) = self
                    .stream_request_body(client, &mut server, o, &mut decoder, &mut body_left, be)
                    .await
                {
                    return next;
                }
                body_done = true;
                self.body_pending = false;
            }
            match self.read_response_head(&mut server, be).await {
                Ok(()) => {}
                Err(IoFail::Timeout) => {
                    o.t_response = Some(-1);
                    return self
                        .fail(client, o, 504, TermCause::ServerTimeout, FinState::Headers)
                        .await;
                }
                Err(IoFail::Closed) if reused && self.rbuf.is_empty() && replayable => {
                    match self.redial(be, o, slot).await {
                        Ok((s, sl)) => {
                            server = s;
                            slot = sl;
                            reused = false;
                        }
                        Err(next) => return next,
                    }
                    self.out.truncate(head_out_len.max(self.out.len()));
                    if write_all(&mut server, &self.out, st).await.is_err() {
                        return self
                            .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                            .await;
                    }
                    continue;
                }
                Err(_) => {
                    return self
                        .fail(client, o, 502, TermCause::ServerAbort, FinState::Headers)
                        .await;
                }
            }
            if self.rhead.is_interim() {
                let n = self.rhead.head_len;
                if write_all(client, &self.rbuf[..n], self.fe.timeouts.client)
                    .await
                    .is_err()
                {
                    return Some(Next::Close);
                }
                self.rbuf.drain(..n);
                if self.rhead.status == 100 {
                    awaiting_100 = false;
                }
                continue;
            }
            break;
        }
        o.t_response = session::ms(t_sent.elapsed());
        if !body_done {
            // The server answered without asking for the body: the connection to the
            // client cannot be reused.
            o.fin = FinState::None;
        }
        let r = self
            .respond(client, &mut server, o, be, mode, body_done)
            .await;
        if r.is_some() && self.server_reusable(mode, be) {
            be.pools[slot.server.index].put(server);
        }
        drop(slot);
        r
    }

    fn server_reusable(&self, mode: HttpConnMode, be: &Backend) -> bool {
        mode == HttpConnMode::KeepAlive
            && be.http_reuse != HttpReuse::Never
            && self.rhead.keep_alive
            && self.rbuf.is_empty()
            && !self.rhead.tunnel
    }

    async fn redial(
        &mut self,
        be: &Arc<Backend>,
        o: &mut Outcome,
        slot: ServerSlot,
    ) -> Result<(TcpStream, ServerSlot), Option<Next>> {
        let view = ReqView {
            buf: &self.buf,
            head: &self.head,
            conn: &self.conn,
            status: None,
        };
        connect::dial_retrying(be, &view, self.conn.local, &mut o.info, slot)
            .await
            .map_err(|_| None)
    }

    async fn read_response_head(
        &mut self,
        server: &mut TcpStream,
        be: &Backend,
    ) -> Result<(), IoFail> {
        let bufsize = self.snap.global.bufsize;
        loop {
            if !self.rbuf.is_empty() {
                match parse_response_into(
                    &mut self.rhead,
                    &self.rbuf,
                    &self.limits,
                    self.head.method,
                ) {
                    Ok(Some(_)) => return Ok(()),
                    Ok(None) => {}
                    Err(_) => return Err(IoFail::Error),
                }
            }
            read_more(server, &mut self.rbuf, bufsize, be.timeouts.server).await?;
        }
    }

    async fn stream_request_body<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        server: &mut TcpStream,
        o: &mut Outcome,
        decoder: &mut ChunkedDecoder,
        left: &mut u64,
        be: &Backend,
    ) -> Result<(), Option<Next>> {
        let bufsize = self.snap.global.bufsize;
        let chunked = self.head.body == BodyKind::Chunked;
        loop {
            if self.buf.is_empty() {
                match read_more(client, &mut self.buf, bufsize, self.fe.timeouts.client).await {
                    Ok(_) => {}
                    Err(e) => {
                        o.term = if e == IoFail::Timeout {
                            TermCause::ClientTimeout
                        } else {
                            TermCause::ClientAbort
                        };
                        o.fin = FinState::Data;
                        o.status = -1;
                        return Err(Some(Next::Close));
                    }
                }
            }
            let k = if chunked {
                match decoder.feed(&self.buf) {
                    Ok(k) => k,
                    Err(_) => {
                        o.term = TermCause::Proxy;
                        o.fin = FinState::Data;
                        return Err(self
                            .fail(client, o, 400, TermCause::Proxy, FinState::Data)
                            .await);
                    }
                }
            } else {
                (self.buf.len() as u64).min(*left) as usize
            };
            if write_all(server, &self.buf[..k], be.timeouts.server)
                .await
                .is_err()
            {
                return Err(self
                    .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
            o.bytes_in += k as u64;
            self.buf.drain(..k);
            if chunked {
                if decoder.is_done() {
                    return Ok(());
                }
            } else {
                *left -= k as u64;
                if *left == 0 {
                    return Ok(());
                }
            }
        }
    }

    /// Forwards the response head and body to the client.
    async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        server: &mut TcpStream,
        o: &mut Outcome,
        be: &Arc<Backend>,
        mode: HttpConnMode,
        request_done: bool,
    ) -> Option<Next> {
        o.status = self.rhead.status as i32;
        // Response rules (frontend, then backend).
        self.redits.clear();
        let verdict = {
            let view = ReqView {
                buf: &self.buf,
                head: &self.head,
                conn: &self.conn,
                status: Some(self.rhead.status),
            };
            let mut v = Verdict::Continue;
            if !self.fe.http_response.is_empty() {
                v = rules::apply(&self.fe.http_response, &view, &mut self.redits);
            }
            if matches!(v, Verdict::Continue) && !be.http_response.is_empty() {
                v = rules::apply(&be.http_response, &view, &mut self.redits);
            }
            v
        };
        match verdict {
            Verdict::Continue => {}
            Verdict::Deny(_) => {
                self.rbuf.clear();
                return self
                    .fail(client, o, 502, TermCause::Proxy, FinState::Headers)
                    .await;
            }
            Verdict::Return(bytes) => {
                let _ = write_all(client, &bytes, self.fe.timeouts.client).await;
                self.rbuf.clear();
                return Some(Next::Close);
            }
        }
        let tunnel = self.rhead.tunnel;
        let client_keep = self.head.keep_alive
            && mode != HttpConnMode::Close
            && request_done
            && !tunnel
            && self.rhead.body != BodyKind::UntilClose;
        let connection = if tunnel {
            ConnectionHeader::Default
        } else if !client_keep {
            ConnectionHeader::Close
        } else if !self.head.version.at_least_11() {
            ConnectionHeader::KeepAlive
        } else {
            ConnectionHeader::Default
        };
        self.out.clear();
        {
            let remove: Vec<&[u8]> = self.redits.remove.iter().map(Vec::as_slice).collect();
            let add: Vec<(&[u8], &[u8])> = self
                .redits
                .add
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            let edits = HeadEdits {
                connection,
                strip_hop_by_hop: false,
                remove: &remove,
                add: &add,
            };
            write_response_head(&self.rhead, &self.rbuf, &edits, &mut self.out);
        }
        let head_len = self.rhead.head_len;
        let ct = self.fe.timeouts.client;
        let st = be.timeouts.server;
        if tunnel {
            self.out.extend_from_slice(&self.rbuf[head_len..]);
            self.rbuf.clear();
            if write_all(client, &self.out, ct).await.is_err() {
                return Some(Next::Close);
            }
            if !self.buf.is_empty() {
                let pending = std::mem::take(&mut self.buf);
                if write_all(server, &pending, st).await.is_err() {
                    return Some(Next::Close);
                }
            }
            let tt = be.timeouts.tunnel;
            let t = TunnelTimeouts {
                client: tt.or(ct),
                server: tt.or(st),
                client_fin: self.fe.timeouts.client_fin,
                server_fin: be.timeouts.server_fin,
            };
            let (mut cr, mut cw) = tokio::io::split(client);
            let (mut sr, mut sw) = server.split();
            let res = tunnel::run(
                &mut cr,
                &mut cw,
                &mut sr,
                &mut sw,
                t,
                self.snap.global.bufsize,
            )
            .await;
            o.bytes_out += res.down;
            o.bytes_in += res.up;
            return Some(Next::Close);
        }
        let mut decoder = ChunkedDecoder::for_response();
        let mut left: u64 = 0;
        let mut done = true;
        let avail = &self.rbuf[head_len..];
        let k = match self.rhead.body {
            BodyKind::None => 0,
            BodyKind::Length(n) => {
                let k = (avail.len() as u64).min(n) as usize;
                left = n - k as u64;
                done = left == 0;
                k
            }
            BodyKind::Chunked => match decoder.feed(avail) {
                Ok(k) => {
                    done = decoder.is_done();
                    k
                }
                Err(_) => {
                    self.rbuf.clear();
                    return self
                        .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                        .await;
                }
            },
            BodyKind::UntilClose => {
                done = false;
                avail.len()
            }
        };
        self.out.extend_from_slice(&avail[..k]);
        let hl = self.out.len() - k;
        self.rbuf.drain(..head_len + k);
        if write_all(client, &self.out, ct).await.is_err() {
            o.term = TermCause::ClientAbort;
            o.fin = FinState::Data;
            self.rhead.keep_alive = false;
            return Some(Next::Close);
        }
        o.bytes_out += (hl + k) as u64;
        let bufsize = self.snap.global.bufsize;
        while !done {
            // `rbuf` is empty here unless a pipelined surplus arrived (then not reusable).
            let mut tmp = std::mem::take(&mut self.rbuf);
            tmp.clear();
            let r = read_more(server, &mut tmp, bufsize, st).await;
            match r {
                Ok(_) => {}
                Err(IoFail::Closed) if self.rhead.body == BodyKind::UntilClose => {
                    self.rbuf = tmp;
                    self.rbuf.clear();
                    self.rhead.keep_alive = false;
                    break;
                }
                Err(e) => {
                    o.term = if e == IoFail::Timeout {
                        TermCause::ServerTimeout
                    } else {
                        TermCause::ServerAbort
                    };
                    o.fin = FinState::Data;
                    self.rhead.keep_alive = false;
                    self.rbuf = tmp;
                    return Some(Next::Close);
                }
            }
            let k = match self.rhead.body {
                BodyKind::Length(_) => {
                    let k = (tmp.len() as u64).min(left) as usize;
                    left -= k as u64;
                    done = left == 0;
                    k
                }
                BodyKind::Chunked => match decoder.feed(&tmp) {
                    Ok(k) => {
                        done = decoder.is_done();
                        k
                    }
                    Err(_) => {
                        o.term = TermCause::ServerAbort;
                        o.fin = FinState::Data;
                        self.rhead.keep_alive = false;
                        self.rbuf = tmp;
                        return Some(Next::Close);
                    }
                },
                _ => tmp.len(),
            };
            if write_all(client, &tmp[..k], ct).await.is_err() {
                o.term = TermCause::ClientAbort;
                o.fin = FinState::Data;
                self.rhead.keep_alive = false;
                self.rbuf = tmp;
                return Some(Next::Close);
            }
            o.bytes_out += k as u64;
            tmp.drain(..k);
            self.rbuf = tmp;
        }
        Some(if client_keep {
            Next::KeepAlive
        } else {
            Next::Close
        })
    }
}
