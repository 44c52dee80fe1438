//! [`H2Server`]: the server side of one exchange as one stream of a shared HTTP/2
//! connection, behind the exchange's [`ServerCodec`] seam. The request head and the body
//! pushed with it are kept until the response begins (a retry opens the stream again on
//! a fresh connection); DATA is sent as the server's flow control allows; the response's
//! DATA frames are handed out one by one, their flow-control capacity released when the
//! next one is asked for (after the previous one was forwarded).
//!
//! An upgrade request goes as an extended CONNECT (RFC 8441, `request.rs`) when the
//! server announced `SETTINGS_ENABLE_CONNECT_PROTOCOL`; its `200` is the `101` of the
//! upgrade, and the stream's DATA frames then carry the tunnel ([`DataStream`]), as they
//! do after a 2xx to a CONNECT. A server
//! that did not announce it gets no stream: the request fails as in HAProxy 2.6 (`502`).

use super::request::{self, Head as RequestHead};
use super::response::Head as ResponseHead;
use crate::proxy::codec::{BodyFail, ServerCodec};
use crate::proxy::h1::Limits;
use crate::proxy::h2::DataStream;
use crate::proxy::http::io::IoFail;
use crate::proxy::message::{Edits, Field, Frames, Method, Request, Response};
use crate::runtime::conn::{PoolKey, ServerConn};
use crate::runtime::mux::H2Conn;
use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};
use h2::{RecvStream, SendStream};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// The connection a stream runs on.
enum Link {
    /// A stream reserved on a pooled (or just made) connection.
    Mux(Arc<H2Conn>, SendRequest<Bytes>),
    /// A fresh connection (the retry edge), its handshake made when the request is sent.
    Fresh(ServerConn, PoolKey),
    /// None (a failed handshake).
    None,
}

/// The server side of one exchange over an HTTP/2 stream.
pub struct H2Server {
    link: Link,
    limits: Limits,
    /// The settings of a connection it opens again (`tune.h2.*`).
    tune: crate::proxy::h2::Limits,
    /// The request head (`None`: it cannot be written as HTTP/2).
    head: Option<RequestHead>,
    /// Body bytes pushed with the head (kept for a replay).
    body: Vec<u8>,
    /// Trailers pushed with the head.
    trailers: Vec<Field>,
    /// The whole body was pushed with the head.
    ended: bool,
    stream: Option<SendStream<Bytes>>,
    pending: Option<ResponseFuture>,
    resp: ResponseHead,
    /// Response heads received so far (interim ones included).
    heads: u32,
    recv: Option<RecvStream>,
    /// The data handed out last, its capacity released at the next read.
    chunk: Bytes,
    resp_trailers: Vec<Field>,
    /// The response body was read to its end.
    done: bool,
    /// The stream failed.
    broken: bool,
    /// The server answered in full and reset the stream with NO_ERROR before the
    /// request's end was sent: the rest of the body is dropped.
    cut: bool,
    /// [`H2Server::cut`] came before the client had sent the whole body (its body came
    /// after the head), not while the head and the whole body were being sent.
    cut_short: bool,
    /// An extended CONNECT was sent: the `:protocol` its `200` switches to.
    upgrade: Option<h2::ext::Protocol>,
    /// A CONNECT was sent: a 2xx makes the stream a tunnel.
    connect: bool,
    /// The stream as a tunnel, once the server agreed to the upgrade.
    tunnel: Option<DataStream>,
}

impl H2Server {
    /// A stream on `conn`, reserved by `send` (from [`H2Conn::try_open`] or
    /// [`H2Conn::open_first`]); `tune`: the settings of a connection it opens again.
    pub fn new(
        conn: Arc<H2Conn>,
        send: SendRequest<Bytes>,
        limits: Limits,
        tune: crate::proxy::h2::Limits,
    ) -> Self {
        H2Server {
            link: Link::Mux(conn, send),
            limits,
            tune,
            head: None,
            body: Vec::new(),
            trailers: Vec::new(),
            ended: false,
            stream: None,
            pending: None,
            resp: ResponseHead::default(),
            heads: 0,
            recv: None,
            chunk: Bytes::new(),
            resp_trailers: Vec::new(),
            done: false,
            broken: false,
            cut: false,
            cut_short: false,
            upgrade: None,
            connect: false,
            tunnel: None,
        }
    }

    /// The connection, for its pool, when it can carry more streams.
    pub fn conn(&self) -> Option<&Arc<H2Conn>> {
        match &self.link {
            Link::Mux(c, _) => Some(c),
            _ => None,
        }
    }

    /// Gives the reserved stream back.
    fn unlink(&mut self) {
        if let Link::Mux(c, _) = std::mem::replace(&mut self.link, Link::None) {
            c.close_stream(self.done && !self.broken);
        }
    }

    /// The handle that opens the stream: a fresh connection gets its handshake first.
    async fn sender(&mut self) -> Result<SendRequest<Bytes>, IoFail> {
        if let Link::Fresh(..) = self.link {
            let Link::Fresh(conn, key) = std::mem::replace(&mut self.link, Link::None) else {
                return Err(IoFail::Closed);
            };
            let mux = super::handshake(conn, key, &self.tune)
                .await
                .map_err(fail)?;
            let send = mux.open_first();
            self.link = Link::Mux(mux, send);
        }
        match &self.link {
            Link::Mux(_, s) => Ok(s.clone()),
            _ => Err(IoFail::Closed),
        }
    }

    async fn open(&mut self) -> Result<(), IoFail> {
        let mut send = self.sender().await?;
        let upgrade = self.head.as_ref().and_then(|h| h.upgrade.as_ref());
        if let (Some(u), Link::Mux(conn, _)) = (upgrade, &self.link) {
            // HAProxy's `h2s_bck_make_req_headers`: no extended CONNECT without the
            // server's consent (read from its SETTINGS, which HAProxy awaits before
            // any stream).
            if !conn.extended_connect() {
                conn.await_settings().await;
            }
            if !conn.extended_connect() {
                return Err(IoFail::Error);
            }
            self.upgrade = Some(u.protocol.clone());
        }
        let head = self.head.as_ref().ok_or(IoFail::Error)?.to_request();
        poll_fn(|cx| send.poll_ready(cx)).await.map_err(fail)?;
        self.connect = self.head.as_ref().is_some_and(|h| h.connect);
        if self.upgrade.is_some() || self.connect {
            // The stream stays open both ways: its DATA frames are the tunnel's.
            let (pending, stream) = send.send_request(head, false).map_err(fail)?;
            self.pending = Some(pending);
            self.stream = Some(stream);
            return Ok(());
        }
        let end_now = self.ended && self.body.is_empty() && self.trailers.is_empty();
        let (pending, mut stream) = send.send_request(head, end_now).map_err(fail)?;
        self.pending = Some(pending);
        if !end_now {
            let trailers = self.ended && !self.trailers.is_empty();
            let data = Bytes::copy_from_slice(&self.body);
            match send_data(&mut stream, data, self.ended && !trailers).await {
                Ok(()) if trailers => {
                    stream.send_trailers(fields(&self.trailers)).map_err(fail)?;
                }
                Ok(()) => {}
                Err(SendFail::Answered) => (self.cut, self.cut_short) = (true, !self.ended),
                Err(SendFail::Io(e)) => return Err(e),
            }
        }
        self.stream = Some(stream);
        Ok(())
    }

    /// Awaits the next response head: an interim one, or the final one with its body.
    async fn next_head(
        &mut self,
    ) -> Result<Result<http::Response<RecvStream>, http::Response<()>>, IoFail> {
        let fut = self.pending.as_mut().ok_or(IoFail::Closed)?;
        poll_fn(|cx| {
            if let Poll::Ready(Some(r)) = fut.poll_informational(cx) {
                return Poll::Ready(r.map(Err));
            }
            Pin::new(&mut *fut).poll(cx).map(|r| r.map(Ok))
        })
        .await
        .map_err(fail)
    }

    /// Releases the flow-control capacity of the data handed out last.
    fn release(&mut self) {
        let n = self.chunk.len();
        if n > 0
            && let Some(r) = &mut self.recv
        {
            let _ = r.flow_control().release_capacity(n);
        }
        self.chunk = Bytes::new();
    }

    async fn next_frames(&mut self) -> Result<(), BodyFail> {
        self.release();
        let Some(recv) = &mut self.recv else {
            self.done = true;
            return Ok(());
        };
        loop {
            match poll_fn(|cx| recv.poll_data(cx)).await {
                Some(Ok(data)) => {
                    let end = recv.is_end_stream();
                    if data.is_empty() && !end {
                        continue;
                    }
                    self.chunk = data;
                    self.done = end;
                    return Ok(());
                }
                Some(Err(e)) => return Err(BodyFail::Io(fail(e))),
                None => {
                    let t = poll_fn(|cx| recv.poll_trailers(cx))
                        .await
                        .map_err(|e| BodyFail::Io(fail(e)))?;
                    if let Some(map) = t {
                        for (n, v) in &map {
                            self.resp_trailers
                                .push((n.as_str().as_bytes().to_vec(), v.as_bytes().to_vec()));
                        }
                    }
                    self.done = true;
                    return Ok(());
                }
            }
        }
    }

    fn frames(&self) -> Frames<'_> {
        Frames {
            data: &self.chunk,
            trailers: if self.done { &self.resp_trailers } else { &[] },
            end: self.done,
            wire: self.chunk.len(),
            end_of_trailers: false,
        }
    }
}

impl Drop for H2Server {
    fn drop(&mut self) {
        self.unlink();
    }
}

/// Why DATA could not be sent.
enum SendFail {
    /// The server answered in full and reset the stream with NO_ERROR: it wants no more
    /// of the body (RFC 9113 §8.1; nginx does so when it answers without reading it).
    /// Not a failure: the response is read as usual.
    Answered,
    /// Any other failure.
    Io(IoFail),
}

impl From<IoFail> for SendFail {
    fn from(e: IoFail) -> Self {
        SendFail::Io(e)
    }
}

impl From<h2::Error> for SendFail {
    fn from(e: h2::Error) -> Self {
        if e.is_reset() && e.is_remote() && e.reason() == Some(h2::Reason::NO_ERROR) {
            SendFail::Answered
        } else {
            SendFail::Io(fail(e))
        }
    }
}

/// Why a stream that can no longer send stopped: the server's RST_STREAM with NO_ERROR
/// is [`SendFail::Answered`], anything else closed.
async fn reset_reason(stream: &mut SendStream<Bytes>) -> SendFail {
    match poll_fn(|cx| Poll::Ready(stream.poll_reset(cx))).await {
        Poll::Ready(Ok(h2::Reason::NO_ERROR)) => SendFail::Answered,
        Poll::Ready(Err(e)) => e.into(),
        _ => SendFail::Io(IoFail::Closed),
    }
}

/// Sends `data` as DATA frames as the stream's flow control allows; `end`: the last.
async fn send_data(
    stream: &mut SendStream<Bytes>,
    mut data: Bytes,
    end: bool,
) -> Result<(), SendFail> {
    if data.is_empty() {
        if end {
            stream.send_data(data, true)?;
        }
        return Ok(());
    }
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let cap = match poll_fn(|cx| stream.poll_capacity(cx)).await {
            Some(Ok(n)) => n,
            Some(Err(e)) => return Err(e.into()),
            // No more sending: the server reset the stream (its reason tells why).
            None => return Err(reset_reason(stream).await),
        };
        if cap == 0 {
            continue;
        }
        let piece = data.split_to(cap.min(data.len()));
        stream.send_data(piece, end && data.is_empty())?;
    }
    Ok(())
}

/// Trailer fields as a header map (invalid ones left out).
fn fields(list: &[Field]) -> http::HeaderMap {
    let mut map = http::HeaderMap::with_capacity(list.len());
    for (n, v) in list {
        if let (Ok(n), Ok(v)) = (
            http::header::HeaderName::from_bytes(n),
            http::header::HeaderValue::from_bytes(v),
        ) {
            map.append(n, v);
        }
    }
    map
}

/// How an `h2` failure reads for the exchange: the connection went away or refused the
/// stream (nothing was processed: a retry is safe) is `Closed`, anything else `Error`.
fn fail(e: h2::Error) -> IoFail {
    if e.is_io() || e.is_go_away() || e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        IoFail::Closed
    } else {
        IoFail::Error
    }
}

/// Awaits `fut` within `timeout`.
async fn within<T, E: From<IoFail>>(
    timeout: Option<Duration>,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .unwrap_or(Err(IoFail::Timeout.into())),
        None => fut.await,
    }
}

impl ServerCodec for H2Server {
    type Tunnel<'a> = &'a mut DataStream;

    fn start_request(
        &mut self,
        req: &Request<'_>,
        edits: &Edits,
        extra: Option<(&[u8], &[u8])>,
        _persist: bool,
    ) {
        self.head = request::build(req, edits, extra).ok();
        self.body.clear();
        self.trailers.clear();
        self.ended = !req.payload.is_some();
    }

    fn push_body(&mut self, frames: &Frames<'_>) {
        self.body.extend_from_slice(frames.data);
        self.trailers.extend(frames.trailers.iter().cloned());
        self.ended |= frames.end;
    }

    async fn send_pending(&mut self, timeout: Option<Duration>) -> Result<(), IoFail> {
        within(timeout, self.open()).await.inspect_err(|_| {
            self.broken = true;
        })
    }

    fn reconnect(&mut self, conn: ServerConn) {
        self.unlink();
        let key = conn.pool_key();
        self.link = Link::Fresh(conn, key);
        self.stream = None;
        self.pending = None;
        self.recv = None;
        self.heads = 0;
        self.broken = false;
        self.cut = false;
        self.cut_short = false;
        self.done = false;
        self.upgrade = None;
    }

    async fn write_body(
        &mut self,
        frames: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        if self.cut {
            return Ok(());
        }
        let stream = self.stream.as_mut().ok_or(IoFail::Closed)?;
        let trailers = frames.end && !frames.trailers.is_empty();
        let data = Bytes::copy_from_slice(frames.data);
        let sent = async {
            send_data(stream, data, frames.end && !trailers).await?;
            if trailers {
                stream.send_trailers(fields(frames.trailers))?;
            }
            Ok(())
        };
        match within(timeout, sent).await {
            Ok(()) => Ok(()),
            Err(SendFail::Answered) => {
                // The body came after the head: the server answered before it.
                (self.cut, self.cut_short) = (true, true);
                Ok(())
            }
            Err(SendFail::Io(e)) => Err(e),
        }
    }

    async fn read_response(
        &mut self,
        req: &Request<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        let r = within(timeout, self.next_head()).await.inspect_err(|_| {
            self.broken = true;
        })?;
        self.heads += 1;
        let head = req.method == Method::Head;
        let max = self.limits.max_head;
        match r {
            Err(interim) => {
                let (parts, ()) = interim.into_parts();
                self.resp
                    .fill(&parts, head, false, None, false, max)
                    .map_err(|_| IoFail::Error)
            }
            Ok(resp) => {
                let (parts, recv) = resp.into_parts();
                let ended = recv.is_end_stream();
                self.resp_trailers.clear();
                self.chunk = Bytes::new();
                self.done = false;
                self.recv = Some(recv);
                let upgrade = self.upgrade.as_ref().map(AsRef::as_ref);
                let r = self
                    .resp
                    .fill(&parts, head, ended, upgrade, self.connect, max)
                    .map_err(|_| IoFail::Error)
                    .inspect_err(|_| self.broken = true);
                if (self.upgrade.is_some() || self.connect)
                    && !self.resp.message().tunnel
                    && let Some(s) = &mut self.stream
                {
                    // The upgrade was refused: the request side ends here.
                    let _ = s.send_data(Bytes::new(), true);
                }
                r
            }
        }
    }

    fn received_nothing(&self) -> bool {
        self.heads == 0
    }

    fn request_cut(&self) -> bool {
        self.cut_short
    }

    fn response(&self) -> Response<'_> {
        self.resp.message()
    }

    fn head_and_body(&mut self) -> Result<(Response<'_>, Frames<'_>), BodyFail> {
        let ended = !self.resp.payload().is_some()
            || self.recv.as_ref().is_none_or(RecvStream::is_end_stream);
        if ended {
            self.done = true;
        }
        Ok((self.resp.message(), self.frames()))
    }

    async fn read_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        let r = match timeout {
            Some(t) => tokio::time::timeout(t, self.next_frames())
                .await
                .unwrap_or(Err(BodyFail::Io(IoFail::Timeout))),
            None => self.next_frames().await,
        };
        if r.is_err() {
            self.broken = true;
        }
        r?;
        Ok(self.frames())
    }

    fn reusable(&self) -> bool {
        self.done && !self.broken && self.conn().is_some_and(|c| c.usable())
    }

    fn tunnel(&mut self) -> Option<(&mut DataStream, Vec<u8>)> {
        if self.tunnel.is_none() {
            let (Some(send), Some(recv)) = (self.stream.take(), self.recv.take()) else {
                return None;
            };
            self.tunnel = Some(DataStream::new(recv, send));
        }
        self.tunnel.as_mut().map(|t| (t, Vec::new()))
    }
}
