//! [`H2Client`]: one HTTP/2 stream behind the exchange's [`ClientCodec`] seam. A stream
//! is an exchange: the request head (already decoded by the `h2` crate) is yielded once,
//! DATA frames become `Data` (their flow-control capacity released as the exchange takes
//! them), a trailing HEADERS frame `Trailers` and END_STREAM `End`; the response goes
//! out as HEADERS and DATA sent within the client's window, and the proxy's own replies
//! as a HEADERS and DATA pair. The connection persists whatever the stream does.
//!
//! An extended CONNECT (RFC 8441: WebSocket over HTTP/2) or a CONNECT whose server
//! agrees (`101` from an HTTP/1 server to the `Upgrade` request, a 2xx to CONNECT) turns
//! the stream into a tunnel: HEADERS `200` (HAProxy turns the `101` into it), then
//! [`StreamIo`] carries the bytes as DATA frames both ways, END_STREAM being the
//! half-close.

use super::data_stream::DataStream;
use super::request::{Head, Refused};
use super::response;
use crate::proxy::codec::{BodyFail, ClientCodec, HeadFail, HeadWait, NextInput, Replied};
use crate::proxy::http::io::IoFail;
use crate::proxy::message::{Edits, Field, Frames, Request, Response};
use crate::runtime::errors::Page;
use bytes::Bytes;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use std::borrow::Cow;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most body bytes one take gathers from what already arrived.
const GATHER: usize = 64 * 1024;

/// A body's last DATA up to this size is sent without waiting for window capacity.
const UNRESERVED: usize = 16 * 1024;

/// The client side of one HTTP/2 stream.
pub struct H2Client {
    head: Head,
    /// The head was handed to the exchange.
    given: bool,
    /// When the stream's HEADERS arrived.
    started: Instant,
    body: Option<RecvStream>,
    /// A tunnel's receiving half, kept for [`StreamIo`] until the server agrees.
    tunnel_recv: Option<RecvStream>,
    /// DATA ended; trailers may follow.
    data_done: bool,
    /// The body ended (END_STREAM seen).
    body_end: bool,
    /// The data gathered by the last take.
    acc: Vec<u8>,
    trailers: Vec<Field>,
    send: Option<SendStream<Bytes>>,
    /// The response head ended the stream, or the stream was reset.
    finished: bool,
    /// The stream's responding half, also watched for a reset.
    io: StreamIo,
}

impl H2Client {
    /// The codec of a stream whose request `req` arrived at `started`; `Err` with the
    /// status answered when the request is refused before any exchange.
    pub fn new(
        req: http::Request<RecvStream>,
        respond: SendResponse<Bytes>,
        started: Instant,
    ) -> Result<Self, (u16, SendResponse<Bytes>)> {
        let (parts, body) = req.into_parts();
        let head = match Head::of(&parts, body.is_end_stream()) {
            Ok(h) => h,
            Err(Refused(status)) => return Err((status, respond)),
        };
        let body_end = !head.payload.is_some();
        let (body, tunnel_recv) = match (head.tunnel, body_end) {
            (true, _) => (None, Some(body)),
            (false, true) => (None, None),
            (false, false) => (Some(body), None),
        };
        Ok(H2Client {
            head,
            given: false,
            started,
            body,
            tunnel_recv,
            data_done: body_end,
            body_end,
            acc: Vec::new(),
            trailers: Vec::new(),
            send: None,
            finished: false,
            io: StreamIo {
                respond,
                tunnel: None,
            },
        })
    }

    /// The neutral view of the stream's request head.
    fn request_view(head: &Head) -> Request<'_> {
        Request {
            buf: &head.buf,
            method: head.method,
            method_span: head.method_span,
            target: head.target,
            version: Head::VERSION,
            headers: &head.headers,
            payload: head.payload,
            persist: true,
            expect_continue: head.expect_continue,
            upgrade: head.upgrade,
            default_port: head.authority,
            host_port_trim: 0,
        }
    }

    /// One step of reading the body: a DATA frame, the end of DATA, or trailers.
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BodyFail>> {
        let Some(recv) = self.body.as_mut() else {
            self.body_end = true;
            return Poll::Ready(Ok(()));
        };
        if !self.data_done {
            match recv.poll_data(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Ok(b))) => {
                    let _ = recv.flow_control().release_capacity(b.len());
                    self.acc.extend_from_slice(&b);
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Err(BodyFail::Io(fail(&e)))),
                Poll::Ready(None) => {
                    self.data_done = true;
                    Poll::Ready(Ok(()))
                }
            }
        } else {
            match recv.poll_trailers(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(map)) => {
                    self.trailers = map.as_ref().map(response::fields).unwrap_or_default();
                    self.body_end = true;
                    self.body = None;
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(BodyFail::Io(fail(&e)))),
            }
        }
    }

    /// Takes what already arrived, without waiting.
    fn drain(&mut self) -> Result<(), BodyFail> {
        let mut cx = Context::from_waker(Waker::noop());
        while !self.body_end && self.acc.len() < GATHER {
            match self.step(&mut cx) {
                Poll::Pending => break,
                Poll::Ready(r) => r?,
            }
        }
        Ok(())
    }

    fn frames(&self) -> Frames<'_> {
        Frames {
            data: &self.acc,
            trailers: if self.body_end { &self.trailers } else { &[] },
            end: self.body_end,
            wire: self.acc.len(),
            end_of_trailers: false,
        }
    }

    /// Sends `frames` as DATA within the client's window (then trailers or END_STREAM).
    async fn send_frames(&mut self, frames: &Frames<'_>) -> Result<u64, IoFail> {
        let Some(s) = self.send.as_mut() else {
            return Ok(0);
        };
        let mut data = frames.data;
        let ends_with_data = frames.end && frames.trailers.is_empty();
        if ends_with_data && !data.is_empty() && data.len() <= UNRESERVED {
            // The last DATA of a small body goes out without reserving the client's
            // window first: the crate sends it as the window allows, holding at most
            // these bytes for the stream meanwhile (as a proxy's buffer would).
            s.send_data(Bytes::copy_from_slice(data), true)
                .map_err(|e| fail(&e))?;
            self.send = None;
            return Ok(data.len() as u64);
        }
        while !data.is_empty() {
            s.reserve_capacity(data.len());
            let cap = match std::future::poll_fn(|cx| s.poll_capacity(cx)).await {
                Some(Ok(n)) => n,
                Some(Err(e)) => return Err(fail(&e)),
                None => return Err(IoFail::Closed),
            };
            if cap == 0 {
                continue;
            }
            let n = cap.min(data.len());
            let last = n == data.len() && ends_with_data;
            s.send_data(Bytes::copy_from_slice(&data[..n]), last)
                .map_err(|e| fail(&e))?;
            data = &data[n..];
            if last {
                self.send = None;
                return Ok(frames.data.len() as u64);
            }
        }
        if frames.end {
            let r = if frames.trailers.is_empty() {
                s.send_data(Bytes::new(), true)
            } else {
                s.send_trailers(response::trailers(frames.trailers))
            };
            r.map_err(|e| fail(&e))?;
            self.send = None;
        }
        Ok(frames.data.len() as u64)
    }

    /// Sends a head, ending the stream with it when `end`.
    fn send_head(&mut self, head: http::Response<()>, end: bool) -> Result<(), IoFail> {
        if self.finished {
            return Err(IoFail::Closed);
        }
        let s = self
            .io
            .respond
            .send_response(head, end)
            .map_err(|e| fail(&e))?;
        if end {
            self.finished = true;
        } else {
            self.send = Some(s);
        }
        Ok(())
    }

    /// One of the proxy's replies (`None`: an empty errorfile, the stream is reset).
    async fn reply(
        &mut self,
        reply: Option<Cow<'_, crate::config::model::Reply>>,
        head_only: bool,
        timeout: Option<Duration>,
    ) -> Replied {
        let Some(reply) = reply else {
            self.io.respond.send_reset(h2::Reason::CANCEL);
            self.finished = true;
            return Replied {
                bytes: 0,
                counted: false,
                persist: true,
                ok: true,
            };
        };
        let (head, _) = response::reply_head(&reply);
        let body = if head_only { &[][..] } else { &reply.body[..] };
        let mut ok = self.send_head(head, body.is_empty()).is_ok();
        if ok && !body.is_empty() {
            let frames = Frames {
                data: body,
                end: true,
                ..Frames::default()
            };
            ok = within(timeout, self.send_frames(&frames)).await.is_ok();
        }
        Replied {
            bytes: crate::proxy::h1::htx_size::of_reply(&reply, head_only),
            counted: true,
            persist: true,
            ok,
        }
    }
}

/// A failure of the `h2` crate as the exchange sees it: the client reset or went away,
/// or something broke.
fn fail(e: &h2::Error) -> IoFail {
    if e.is_reset() || e.is_go_away() || e.is_remote() {
        IoFail::Closed
    } else {
        IoFail::Error
    }
}

/// `f` under the timeout `t`. A send that completes at its first poll (the client's
/// window is open: the usual case) arms no timer.
async fn within<T>(
    t: Option<Duration>,
    f: impl Future<Output = Result<T, IoFail>>,
) -> Result<T, IoFail> {
    let Some(t) = t else {
        return f.await;
    };
    let mut f = std::pin::pin!(f);
    if let Poll::Ready(r) = std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await {
        return r;
    }
    tokio::time::timeout(t, f)
        .await
        .unwrap_or(Err(IoFail::Timeout))
}

impl ClientCodec for H2Client {
    type Io = StreamIo;

    fn unpark(&mut self) {}

    fn park(&mut self) {}

    async fn next_input(&mut self) -> NextInput {
        // One exchange per stream.
        if self.given {
            NextInput::Closed
        } else {
            NextInput::Ready
        }
    }

    async fn read_request(
        &mut self,
        _wait: HeadWait,
        rx_start: &mut Option<Instant>,
    ) -> Result<(), HeadFail> {
        if self.given {
            return Err(HeadFail::Closed { nothing: true });
        }
        self.given = true;
        *rx_start = Some(self.started);
        Ok(())
    }

    fn request(&self) -> Request<'_> {
        Self::request_view(&self.head)
    }

    fn watch(&mut self) -> (Request<'_>, &mut StreamIo) {
        (Self::request_view(&self.head), &mut self.io)
    }

    fn push_input(&mut self, _bytes: &[u8]) {}

    fn body_buffered(&self) -> bool {
        !self.acc.is_empty()
    }

    fn take_body(&mut self) -> Result<Frames<'_>, BodyFail> {
        self.acc.clear();
        self.drain()?;
        Ok(self.frames())
    }

    async fn read_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        self.acc.clear();
        self.drain()?;
        if self.acc.is_empty() && !self.body_end {
            let wait = std::future::poll_fn(|cx| self.step(cx));
            match timeout {
                Some(t) => tokio::time::timeout(t, wait)
                    .await
                    .map_err(|_| BodyFail::Io(IoFail::Timeout))??,
                None => wait.await?,
            }
            self.drain()?;
        }
        Ok(self.frames())
    }

    fn body_done(&self) -> bool {
        self.body_end
    }

    fn discard_request(&mut self) {
        // Dropping the receiving half gives its window back; the stream ends with the
        // reply.
        self.body = None;
        self.body_end = true;
        self.acc.clear();
    }

    fn keeps_after(&self, _resp: &Response<'_>, _allowed: bool) -> bool {
        true
    }

    async fn write_interim(
        &mut self,
        resp: &Response<'_>,
        _timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        let (head, _) = response::head(resp, &Edits::default());
        self.io
            .respond
            .send_informational(head)
            .map_err(|e| fail(&e))
    }

    async fn write_continue(&mut self, _timeout: Option<Duration>) -> Result<(), IoFail> {
        let mut head = http::Response::new(());
        *head.status_mut() = http::StatusCode::CONTINUE;
        self.io
            .respond
            .send_informational(head)
            .map_err(|e| fail(&e))
    }

    async fn write_response(
        &mut self,
        resp: &Response<'_>,
        edits: &Edits,
        _persist: bool,
        first: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> Result<u64, IoFail> {
        if resp.tunnel {
            if !self.head.tunnel {
                // Only a CONNECT stream can become a tunnel.
                self.io.respond.send_reset(h2::Reason::INTERNAL_ERROR);
                self.finished = true;
                return Err(IoFail::Error);
            }
            // RFC 8441: the server's `101` is a `200` on the stream (as HAProxy's
            // `h2s_frt_make_resp_headers`); the stream stays open for the tunnel.
            let (mut head, size) = response::head(resp, edits);
            if head.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                *head.status_mut() = http::StatusCode::OK;
            }
            self.send_head(head, false)?;
            return Ok(size as u64);
        }
        let (head, size) = response::head(resp, edits);
        let end = first.end && first.data.is_empty() && first.trailers.is_empty();
        self.send_head(head, end)?;
        if end {
            return Ok(size as u64);
        }
        let n = within(timeout, self.send_frames(first)).await?;
        Ok(size as u64 + n)
    }

    async fn write_body(
        &mut self,
        frames: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> Result<u64, IoFail> {
        within(timeout, self.send_frames(frames)).await
    }

    async fn write_error(
        &mut self,
        _status: u16,
        page: Page<'_>,
        _persist: bool,
        timeout: Option<Duration>,
    ) -> Replied {
        let reply = match page {
            Page::Reply(r) => Some(Cow::Borrowed(r)),
            Page::Empty => None,
            Page::Builtin(s) => crate::proxy::h1::client::builtin_reply(s).map(Cow::Owned),
        };
        self.reply(reply, false, timeout).await
    }

    async fn write_reply(
        &mut self,
        page: Page<'_>,
        _persist: bool,
        head_only: bool,
        timeout: Option<Duration>,
    ) -> Replied {
        let reply = match page {
            Page::Reply(r) => Some(Cow::Borrowed(r)),
            Page::Empty => None,
            Page::Builtin(s) => crate::proxy::h1::client::builtin_reply(s).map(Cow::Owned),
        };
        self.reply(reply, head_only, timeout).await
    }

    fn tunnel(&mut self) -> (&mut StreamIo, Vec<u8>) {
        if let (Some(send), Some(recv)) = (self.send.take(), self.tunnel_recv.take()) {
            self.io.tunnel = Some(DataStream::new(recv, send));
        }
        (&mut self.io, Vec::new())
    }
}

/// The byte stream of a stream: while a request waits (`option abortonclose`) reading
/// it ends (as a close) when the client resets the stream and waits otherwise; once the
/// stream is a tunnel it reads the client's DATA frames (END_STREAM: the end) and writes
/// DATA frames within the client's window (shutting down: END_STREAM).
pub struct StreamIo {
    respond: SendResponse<Bytes>,
    tunnel: Option<DataStream>,
}

impl AsyncRead for StreamIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        match me.tunnel.as_mut() {
            Some(t) => Pin::new(t).poll_read(cx, buf),
            // A reset (or a connection gone) reads as the end of the stream.
            None => me.respond.poll_reset(cx).map(|_| Ok(())),
        }
    }
}

impl AsyncWrite for StreamIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().tunnel.as_mut() {
            Some(t) => Pin::new(t).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().tunnel.as_mut() {
            Some(t) => Pin::new(t).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
