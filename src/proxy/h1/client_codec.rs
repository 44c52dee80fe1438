//! [`H1Client`]: the client side of an HTTP/1 connection behind the exchange's
//! [`ClientCodec`] seam. It owns the client's byte stream and, while the connection is
//! busy, a set of buffers from its thread's pool: the input (the current request head
//! stays at its start until the next request, so the neutral view stays valid for the
//! response rules and the log), the output scratch, the parsed head and the body state.

use super::body::BodyReader;
use super::bufs::{Pooled, Recycle};
use super::chunked::encode_chunked;
use super::client::{
    continue_response, error_page, head_only, local_reply, read_request, write_response_for,
};
use super::head::Limits;
use super::request::RequestHead;
use super::write::{ConnectionHeader, HeadEdits, write_response_message};
use crate::proxy::codec::{BodyFail, ClientCodec, HeadFail, HeadWait, NextInput, Replied};
use crate::proxy::http::io::{
    IoFail, WaitReadable, read_more, read_more_with, read_now, write_all, write_all_pair,
};
use crate::proxy::message::{Edits, Field, Frames, Payload, Request, Response};
use crate::runtime::errors::Page;
use std::cell::RefCell;
use std::thread::LocalKey;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};

/// The largest first body part that is copied behind the response head and sent with it
/// in one `send`; larger ones go as a second slice of one `writev`.
const SMALL_BODY: usize = 2048;

/// The buffers of a busy client connection.
#[derive(Default)]
pub(super) struct ClientBufs {
    /// Client input: the current request head, then its body and pipelined data.
    buf: Vec<u8>,
    /// Scratch for what is written to the client.
    out: Vec<u8>,
    /// The current request head (spans into `buf`).
    head: RequestHead,
    /// Length of the current request head at the start of `buf` (0: none).
    head_len: usize,
    /// Body bytes after the head taken by the exchange, dropped at the next read.
    used: usize,
    /// Decoded chunk data of one read.
    decoded: Vec<u8>,
    /// Trailers of the request body.
    trailers: Vec<Field>,
    /// The body's framing and progress.
    body: Option<BodyReader>,
    /// The response goes out chunked.
    chunked_out: bool,
    /// The response body has a known length (its writes but the last pass `MSG_MORE`).
    sized_out: bool,
    /// The connection closes after this response: its last bytes go out with the
    /// stream's end ([`H1Client::written`]).
    closing_out: bool,
}

thread_local! {
    // Boxed: a set moves between the pool and a codec as one pointer.
    #[allow(clippy::vec_box)]
    static CLIENT_BUFS: RefCell<Vec<Box<ClientBufs>>> = const { RefCell::new(Vec::new()) };
}

#[allow(clippy::vec_box)]
impl Recycle for ClientBufs {
    fn pool() -> &'static LocalKey<RefCell<Vec<Box<Self>>>> {
        &CLIENT_BUFS
    }

    fn held(&self) -> usize {
        self.buf
            .capacity()
            .max(self.out.capacity())
            .max(self.decoded.capacity())
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.out.clear();
        self.decoded.clear();
        self.trailers.clear();
        self.head_len = 0;
        self.used = 0;
        self.chunked_out = false;
        self.sized_out = false;
        self.closing_out = false;
    }
}

impl ClientBufs {
    /// Drops the current request (head and the body bytes taken) from the input.
    fn forget(&mut self) {
        let n = (self.head_len + self.used).min(self.buf.len());
        self.buf.drain(..n);
        self.head_len = 0;
        self.used = 0;
    }

    /// Drops the body bytes taken since the last call.
    fn drop_used(&mut self) {
        if self.used > 0 {
            let end = (self.head_len + self.used).min(self.buf.len());
            self.buf.drain(self.head_len..end);
            self.used = 0;
        }
    }

    fn frames(&mut self) -> Result<Frames<'_>, BodyFail> {
        let ClientBufs {
            buf,
            head_len,
            used,
            decoded,
            trailers,
            body,
            ..
        } = self;
        let body = body.get_or_insert_with(BodyReader::for_request);
        let f = body
            .frames(&buf[*head_len..], decoded, trailers)
            .map_err(|_| BodyFail::Invalid)?;
        *used = f.wire;
        Ok(f)
    }

    fn body_done(&self) -> bool {
        self.body.as_ref().is_none_or(BodyReader::is_done)
    }
}

/// The client side of an HTTP/1 connection.
pub struct H1Client<S> {
    io: S,
    limits: Limits,
    bufsize: usize,
    bufs: Option<Pooled<ClientBufs>>,
}

impl<S> H1Client<S> {
    /// The codec over `io`, reading with `limits` in reads of `bufsize` bytes.
    pub fn new(io: S, limits: Limits, bufsize: usize) -> Self {
        H1Client {
            io,
            limits,
            bufsize,
            bufs: None,
        }
    }

    /// The byte stream.
    pub fn io(&self) -> &S {
        &self.io
    }

    /// The byte stream, to shut it down.
    pub fn io_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Takes the limits of a new snapshot.
    pub fn set_limits(&mut self, limits: Limits, bufsize: usize) {
        self.limits = limits;
        self.bufsize = bufsize;
    }

    fn b(&mut self) -> &mut ClientBufs {
        let bufsize = self.bufsize;
        self.bufs.get_or_insert_with(|| Pooled::take(4 * bufsize))
    }

    fn bref(&self) -> &ClientBufs {
        self.bufs.as_deref().expect("buffers taken while busy")
    }
}

impl<S: AsyncWrite + WaitReadable + Unpin> H1Client<S> {
    /// Ends a response write `r`: clears `MSG_MORE`, and when it was the last write of
    /// a connection that closes after it (`last`, written with `MSG_MORE`), shuts the
    /// stream's sending side at once, so that its end leaves with the last bytes — in
    /// one TCP segment (the kernel puts the FIN on the segment `MSG_MORE` held back;
    /// over TLS, the response record and `close_notify` with it). The client is then
    /// woken once for the response and the close instead of twice, and answers with one
    /// ACK: a `Connection: close` request costs the client's host one packet each way
    /// less (HAProxy sends the FIN in a segment of its own). The shutdown is tried once:
    /// a TLS stream that cannot flush its `close_notify` now finishes at the
    /// connection's final shutdown.
    async fn written(&mut self, r: Result<(), IoFail>, last: bool) -> Result<(), IoFail> {
        if last && r.is_ok() {
            let io = &mut self.io;
            std::future::poll_fn(|cx| {
                let _ = std::pin::Pin::new(&mut *io).poll_shutdown(cx);
                std::task::Poll::Ready(())
            })
            .await;
        }
        self.io.set_more(false);
        r
    }
}

impl<S: AsyncRead + AsyncWrite + WaitReadable + Unpin + Send + Sync> ClientCodec for H1Client<S> {
    type Io = S;

    fn unpark(&mut self) {
        self.b();
    }

    fn park(&mut self) {
        self.bufs = None;
    }

    async fn next_input(&mut self) -> NextInput {
        let bufsize = self.bufsize;
        self.b().forget();
        let Some(b) = self.bufs.as_deref_mut() else {
            return NextInput::Closed;
        };
        if !b.buf.is_empty() {
            return NextInput::Ready;
        }
        match read_now(&mut self.io, &mut b.buf, bufsize).await {
            Some(Ok(n)) if n > 0 => NextInput::Ready,
            Some(_) => NextInput::Closed,
            None => NextInput::Idle,
        }
    }

    async fn read_request(
        &mut self,
        wait: HeadWait,
        rx_start: &mut Option<Instant>,
    ) -> Result<(), HeadFail> {
        let bufsize = self.bufsize;
        self.b().forget();
        let Some(b) = self.bufs.as_deref_mut() else {
            return Err(HeadFail::Closed { nothing: true });
        };
        loop {
            if !b.buf.is_empty() {
                rx_start.get_or_insert_with(crate::proxy::clock::now);
                match read_request(&mut b.head, &b.buf, &self.limits) {
                    Ok(Some(n)) => {
                        b.head_len = n;
                        b.used = 0;
                        b.chunked_out = false;
                        b.sized_out = false;
                        b.closing_out = false;
                        let body = b.body.get_or_insert_with(BodyReader::for_request);
                        body.start(b.head.body, &mut b.trailers);
                        return Ok(());
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let _ = write_all(&mut self.io, e.response(), wait.client).await;
                        return Err(HeadFail::Invalid { status: e.status() });
                    }
                }
            }
            let start = rx_start.unwrap_or(wait.since);
            // The time left is worked out only when the read would block.
            let left = || {
                let spent = crate::proxy::clock::now().saturating_duration_since(start);
                wait.limit.map(|l| l.saturating_sub(spent))
            };
            match read_more_with(&mut self.io, &mut b.buf, bufsize, left, None).await {
                Ok(_) => {}
                Err(IoFail::Timeout) => return Err(HeadFail::Timeout),
                Err(e) => {
                    let nothing = b.buf.is_empty();
                    // A client that shut its side (not reset) reads HAProxy's 400 page,
                    // unless it left a keep-alive connection idle.
                    if e == IoFail::Closed && (wait.first || !nothing) {
                        let page = crate::proxy::h1::parse_error_response(400);
                        let _ = write_all(&mut self.io, page, wait.client).await;
                    }
                    return Err(HeadFail::Closed { nothing });
                }
            }
        }
    }

    fn request(&self) -> Request<'_> {
        let b = self.bref();
        b.head.message(&b.buf)
    }

    fn watch(&mut self) -> (Request<'_>, &mut S) {
        let b = self.bufs.as_deref().expect("buffers taken while busy");
        (b.head.message(&b.buf), &mut self.io)
    }

    fn push_input(&mut self, bytes: &[u8]) {
        self.b().buf.extend_from_slice(bytes);
    }

    fn body_buffered(&self) -> bool {
        let b = self.bref();
        b.buf.len() > b.head_len + b.used
    }

    fn take_body(&mut self) -> Result<Frames<'_>, BodyFail> {
        let b = self.b();
        b.drop_used();
        b.frames()
    }

    async fn read_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        let bufsize = self.bufsize;
        self.b().drop_used();
        let Some(b) = self.bufs.as_deref_mut() else {
            return Err(BodyFail::Io(IoFail::Closed));
        };
        if b.buf.len() == b.head_len && !b.body_done() {
            read_more(&mut self.io, &mut b.buf, bufsize, timeout)
                .await
                .map_err(BodyFail::Io)?;
        }
        b.frames()
    }

    fn body_done(&self) -> bool {
        self.bref().body_done()
    }

    fn discard_request(&mut self) {
        self.b().forget();
    }

    fn keeps_after(&self, resp: &Response<'_>, allowed: bool) -> bool {
        allowed && self.bref().head.keep_alive && !resp.tunnel && !resp.until_close
    }

    async fn write_interim(
        &mut self,
        resp: &Response<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        let b = self.bufs.as_deref_mut().expect("buffers taken while busy");
        b.out.clear();
        let edits = HeadEdits {
            connection: ConnectionHeader::Default,
            ..HeadEdits::default()
        };
        write_response_message(resp, &edits, &mut b.out);
        write_all(&mut self.io, &b.out, timeout).await
    }

    async fn write_continue(&mut self, timeout: Option<Duration>) -> Result<(), IoFail> {
        write_all(&mut self.io, continue_response(), timeout).await
    }

    async fn write_response(
        &mut self,
        resp: &Response<'_>,
        edits: &Edits,
        persist: bool,
        first: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> Result<u64, IoFail> {
        let b = self.bufs.as_deref_mut().expect("buffers taken while busy");
        b.out.clear();
        write_response_for(b.head.version, resp, persist, edits, &mut b.out);
        if b.head.websocket
            && super::websocket::accept_missing(resp)
            && let Some(key) = b.head.header(&b.buf, b"sec-websocket-key")
        {
            super::websocket::add_accept(&mut b.out, super::websocket::accept_for(key).as_bytes());
        }
        // The body keeps the server's framing: chunked stays chunked (the data of each
        // read as one chunk), anything else goes as it came.
        b.chunked_out = resp.payload == Payload::Streamed && !resp.until_close && !resp.tunnel;
        b.closing_out = !persist && !resp.tunnel;
        let last = first.end && b.closing_out;
        if b.chunked_out {
            encode_chunked(first, &mut b.out);
            let n = b.out.len() as u64;
            self.io.set_more(last);
            let r = write_all(&mut self.io, &b.out, timeout).await;
            return self.written(r, last).await.map(|()| n);
        }
        // More of a body of known length follows: `MSG_MORE`, as HAProxy (the last
        // bytes of the body go without it, which sends what the kernel held).
        b.sized_out = matches!(resp.payload, Payload::Length(_)) && !resp.tunnel;
        self.io.set_more((b.sized_out && !first.end) || last);
        let sent = (b.out.len() + first.data.len()) as u64;
        // A small body goes out copied behind the head: one `send` instead of a
        // `writev`, whose kernel path (iovec import, file position lock) costs more
        // than the copy, as HAProxy sends from one buffer.
        let r = if first.data.len() <= SMALL_BODY {
            b.out.extend_from_slice(first.data);
            write_all(&mut self.io, &b.out, timeout).await
        } else {
            write_all_pair(&mut self.io, &b.out, first.data, timeout).await
        };
        self.written(r, last).await?;
        Ok(sent)
    }

    async fn write_body(
        &mut self,
        frames: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> Result<u64, IoFail> {
        let b = self.bufs.as_deref_mut().expect("buffers taken while busy");
        let last = frames.end && b.closing_out;
        if b.chunked_out {
            b.out.clear();
            encode_chunked(frames, &mut b.out);
            let n = b.out.len() as u64;
            self.io.set_more(last);
            let r = write_all(&mut self.io, &b.out, timeout).await;
            return self.written(r, last).await.map(|()| n);
        }
        if !frames.data.is_empty() || last {
            // Not chunked: a body of known length (`MSG_MORE` until its last bytes) or
            // one that ends at the close (never held back).
            self.io.set_more((b.sized_out && !frames.end) || last);
            let r = write_all(&mut self.io, frames.data, timeout).await;
            self.written(r, last).await?;
        }
        Ok(frames.data.len() as u64)
    }

    async fn write_error(
        &mut self,
        status: u16,
        page: Page<'_>,
        persist: bool,
        timeout: Option<Duration>,
    ) -> Replied {
        let reply = error_page(status, page, persist);
        let ok = write_all(&mut self.io, &reply.bytes, timeout).await.is_ok();
        Replied {
            bytes: super::htx_size::of_local_message(&reply.bytes),
            counted: reply.counted,
            persist: reply.persist,
            ok,
        }
    }

    async fn write_reply(
        &mut self,
        page: Page<'_>,
        persist: bool,
        head: bool,
        timeout: Option<Duration>,
    ) -> Replied {
        let mut reply = local_reply(page, persist);
        if head {
            reply = head_only(reply);
        }
        let ok = write_all(&mut self.io, &reply.bytes, timeout).await.is_ok();
        Replied {
            bytes: super::htx_size::of_local_message(&reply.bytes),
            counted: reply.counted,
            persist: reply.persist,
            ok,
        }
    }

    fn tunnel(&mut self) -> (&mut S, Vec<u8>) {
        let b = self.bufs.as_deref_mut().expect("buffers taken while busy");
        let from = (b.head_len + b.used).min(b.buf.len());
        let rest = b.buf.split_off(from);
        (&mut self.io, rest)
    }
}
