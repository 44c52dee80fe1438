//! [`H1Server`]: the server side of one exchange over an HTTP/1 connection, behind the
//! exchange's [`ServerCodec`] seam. It holds the connection (given back to the pool by
//! [`H1Server::into_conn`]) and a set of buffers from its thread's pool: the response
//! input, the request output (kept until the response begins, for a replay on a fresh
//! connection), the parsed response head and the body state.

use super::body::BodyReader;
use super::bufs::{Pooled, Recycle};
use super::chunked::encode_chunked;
use super::head::Limits;
use super::response::ResponseHead;
use super::server::{read_response_for, server_persists, write_request_for};
use super::websocket;
use crate::proxy::codec::{BodyFail, ServerCodec};
use crate::proxy::deadline::Deadline;
use crate::proxy::http::io::{IoFail, read_more_with, write_all};
use crate::proxy::message::{Edits, Field, Frames, Payload, Request, Response};
use crate::runtime::conn::ServerConn;
use std::cell::RefCell;
use std::thread::LocalKey;
use std::time::Duration;

/// The body bytes one read of a `Content-Length` response asks for at least. HAProxy
/// moves a body through its `tune.bufsize` buffer, 16 KiB per `recv` and `send`; the
/// body is not parsed, so gatehouse reads up to this much of it (plus room for a head)
/// at once and forwards it with one write: a 64 KiB response then takes one read and
/// one write instead of five each (docs/performance.md, "wt-64k"). Heads stay bounded
/// by `tune.bufsize - tune.maxrewrite` (the parser looks at no more).
const BODY_READ: usize = 64 * 1024;

/// The room of a server-side read buffer once a body has needed it (a head and
/// [`BODY_READ`] body bytes); also what the thread's pool keeps.
fn body_read(bufsize: usize) -> usize {
    bufsize + BODY_READ
}

/// The buffers of one exchange's server side.
#[derive(Default)]
pub(super) struct ServerBufs {
    /// Server input: the response head, then its body.
    rbuf: Vec<u8>,
    /// The request head and the body bytes sent with it; then scratch for chunks.
    out: Vec<u8>,
    /// The response head (spans into `rbuf`).
    rhead: ResponseHead,
    /// Length of the response head at the start of `rbuf` (0: none, or dropped).
    head_len: usize,
    /// Body bytes after the head taken by the exchange, dropped at the next read.
    used: usize,
    /// Decoded chunk data of one read.
    decoded: Vec<u8>,
    /// Trailers of the response body.
    trailers: Vec<Field>,
    /// The response body's framing and progress.
    body: Option<BodyReader>,
    /// The request body goes out chunked.
    chunked_out: bool,
    /// The timer of the waits for a response, kept with the buffers of the thread's
    /// pool so that each wait re-arms it instead of registering a new one.
    timer: Deadline,
}

thread_local! {
    // Boxed: a set moves between the pool and a codec as one pointer.
    #[allow(clippy::vec_box)]
    static SERVER_BUFS: RefCell<Vec<Box<ServerBufs>>> = const { RefCell::new(Vec::new()) };
}

#[allow(clippy::vec_box)]
impl Recycle for ServerBufs {
    fn pool() -> &'static LocalKey<RefCell<Vec<Box<Self>>>> {
        &SERVER_BUFS
    }

    fn held(&self) -> usize {
        self.rbuf
            .capacity()
            .max(self.out.capacity())
            .max(self.decoded.capacity())
    }

    fn clear(&mut self) {
        self.rbuf.clear();
        self.out.clear();
        self.decoded.clear();
        self.trailers.clear();
        self.head_len = 0;
        self.used = 0;
        self.chunked_out = false;
        if let Some(b) = &mut self.body {
            b.start(super::head::BodyKind::None, &mut self.trailers);
        }
    }
}

impl ServerBufs {
    /// Drops the head and the body bytes taken so far from the input.
    fn drop_taken(&mut self) {
        let n = (self.head_len + self.used).min(self.rbuf.len());
        if n > 0 {
            self.rbuf.drain(..n);
        }
        self.head_len = 0;
        self.used = 0;
    }

    fn frames(&mut self) -> Result<Frames<'_>, BodyFail> {
        let ServerBufs {
            rbuf,
            head_len,
            used,
            decoded,
            trailers,
            body,
            ..
        } = self;
        let body = body.get_or_insert_with(BodyReader::for_response);
        let f = body
            .frames(&rbuf[*head_len + *used..], decoded, trailers)
            .map_err(|_| BodyFail::Invalid)?;
        *used += f.wire;
        Ok(f)
    }
}

/// The server side of one exchange over an HTTP/1 connection.
pub struct H1Server {
    conn: ServerConn,
    limits: Limits,
    bufsize: usize,
    bufs: Pooled<ServerBufs>,
    /// The `Sec-WebSocket-Key` this side added to the request: the `101` must carry its
    /// accept value.
    ws_key: Option<websocket::Key>,
}

impl H1Server {
    /// The codec over `conn`, reading with `limits` in reads of `bufsize` bytes.
    pub fn new(conn: ServerConn, limits: Limits, bufsize: usize) -> Self {
        H1Server {
            conn,
            limits,
            bufsize,
            bufs: Pooled::take((4 * bufsize).max(body_read(bufsize))),
            ws_key: None,
        }
    }

    /// The connection, for its pool (the buffers go back to theirs).
    pub fn into_conn(self) -> ServerConn {
        self.conn
    }

    /// Reads more of the body when all that was read is taken (the head and the body
    /// taken kept in the buffer), then the frames the unread bytes hold.
    async fn read_more_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        let b = &mut *self.bufs;
        if b.rbuf.len() <= b.head_len + b.used {
            // A known length larger than the room left: room for one large read (kept
            // with the pooled buffers, so allocated once per set).
            let room = body_read(self.bufsize);
            if let Some(left) = b.body.as_ref().and_then(BodyReader::length_left)
                && (b.rbuf.capacity() as u64) < left.min(room as u64)
                && b.rbuf.capacity() < room
            {
                b.rbuf.reserve_exact(room);
            }
            let timer = Some(&mut b.timer);
            match read_more_with(&mut self.conn, &mut b.rbuf, self.bufsize, || timeout, timer).await
            {
                Ok(_) => {}
                Err(IoFail::Closed) if b.body.as_ref().is_some_and(BodyReader::ends_at_close) => {
                    return Ok(b.body.as_mut().map(BodyReader::closed).unwrap_or_default());
                }
                Err(e) => return Err(BodyFail::Io(e)),
            }
        }
        b.frames()
    }
}

impl ServerCodec for H1Server {
    type Tunnel<'a> = &'a mut ServerConn;

    fn start_request(
        &mut self,
        req: &Request<'_>,
        edits: &Edits,
        extra: Option<(&[u8], &[u8])>,
        persist: bool,
    ) {
        let b = &mut *self.bufs;
        b.out.clear();
        write_request_for(req, persist, edits, extra, &mut b.out);
        self.ws_key = websocket::key_for(req);
        if let Some(key) = &self.ws_key {
            websocket::add_key(&mut b.out, key);
        }
        b.chunked_out = req.payload == Payload::Streamed;
    }

    fn push_body(&mut self, frames: &Frames<'_>) {
        let b = &mut *self.bufs;
        if b.chunked_out {
            encode_chunked(frames, &mut b.out);
        } else {
            b.out.extend_from_slice(frames.data);
        }
    }

    async fn send_pending(&mut self, timeout: Option<Duration>) -> Result<(), IoFail> {
        write_all(&mut self.conn, &self.bufs.out, timeout).await
    }

    fn reconnect(&mut self, conn: ServerConn) {
        self.conn = conn;
        let b = &mut *self.bufs;
        b.rbuf.clear();
        b.head_len = 0;
        b.used = 0;
    }

    async fn write_body(
        &mut self,
        frames: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        let b = &mut *self.bufs;
        if b.chunked_out {
            b.out.clear();
            encode_chunked(frames, &mut b.out);
            return write_all(&mut self.conn, &b.out, timeout).await;
        }
        if frames.data.is_empty() {
            return Ok(());
        }
        write_all(&mut self.conn, frames.data, timeout).await
    }

    async fn read_response(
        &mut self,
        req: &Request<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        let b = &mut *self.bufs;
        // An interim head read before is done with.
        b.drop_taken();
        loop {
            if !b.rbuf.is_empty() {
                match read_response_for(
                    &mut b.rhead,
                    &b.rbuf,
                    &self.limits,
                    req.method,
                    req.upgrade,
                ) {
                    Ok(Some(n)) => {
                        if b.rhead.status == 101
                            && websocket::switches_to_websocket(&b.rhead, &b.rbuf)
                        {
                            // HAProxy's `h1_search_websocket_key`: a switch to WebSocket
                            // carries `Sec-WebSocket-Accept`, the one of the key this
                            // side made up if it made one.
                            let seen = b.rhead.header(&b.rbuf, b"sec-websocket-accept");
                            let ok = match (&self.ws_key, seen) {
                                (_, None) => false,
                                (None, Some(_)) => true,
                                (Some(key), Some(v)) => {
                                    v.eq_ignore_ascii_case(websocket::accept_for(key).as_bytes())
                                }
                            };
                            if !ok {
                                return Err(IoFail::Error);
                            }
                        }
                        b.head_len = n;
                        b.used = 0;
                        let body = b.body.get_or_insert_with(BodyReader::for_response);
                        body.start(b.rhead.body, &mut b.trailers);
                        return Ok(());
                    }
                    Ok(None) => {}
                    Err(_) => return Err(IoFail::Error),
                }
            }
            let timer = Some(&mut b.timer);
            read_more_with(&mut self.conn, &mut b.rbuf, self.bufsize, || timeout, timer).await?;
        }
    }

    fn received_nothing(&self) -> bool {
        self.bufs.rbuf.is_empty()
    }

    fn response(&self) -> Response<'_> {
        self.bufs.rhead.message(&self.bufs.rbuf)
    }

    fn head_and_body(&mut self) -> Result<(Response<'_>, Frames<'_>), BodyFail> {
        let ServerBufs {
            rbuf,
            rhead,
            head_len,
            used,
            decoded,
            trailers,
            body,
            ..
        } = &mut *self.bufs;
        let body = body.get_or_insert_with(BodyReader::for_response);
        let f = body
            .frames(&rbuf[*head_len + *used..], decoded, trailers)
            .map_err(|_| BodyFail::Invalid)?;
        *used += f.wire;
        Ok((rhead.message(rbuf), f))
    }

    async fn read_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        self.bufs.drop_taken();
        self.read_more_body(timeout).await
    }

    async fn hold_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        // The head and the body taken stay in the buffer (the rules read the head).
        self.read_more_body(timeout).await
    }

    fn reusable(&self) -> bool {
        let b = &*self.bufs;
        server_persists(&b.rhead)
            && b.body.as_ref().is_none_or(BodyReader::is_done)
            && b.rbuf.len() == b.head_len + b.used
    }

    fn tunnel(&mut self) -> Option<(&mut ServerConn, Vec<u8>)> {
        let b = &mut *self.bufs;
        let from = (b.head_len + b.used).min(b.rbuf.len());
        let rest = b.rbuf.split_off(from);
        Some((&mut self.conn, rest))
    }
}
