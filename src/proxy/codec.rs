//! The seam between the exchange and the protocols: a client-side codec (one request
//! after another from a client, the answers back) and a server-side codec (one request
//! out to a server, its answer back). The exchange (`proxy::http`) is written against
//! these two traits and the neutral model (`proxy::message`) only; `proxy::h1` implements
//! both for HTTP/1 (`H1Client`, `H1Server`), and the HTTP/2 codec plugs in beside it.
//!
//! Bodies cross the seam as [`Frames`]: the data of one read, then trailers and the
//! end. A codec that receives data borrows it out of its own read buffer where it can
//! (HTTP/1 `Content-Length` bodies: no copy), and the writing codec frames it for its
//! protocol.

use crate::proxy::http::io::IoFail;
use crate::proxy::message::{Edits, Frames, Request, Response};
use crate::runtime::conn::ServerConn;
use crate::runtime::errors::Page;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};

/// Why no request head came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadFail {
    /// The head was malformed; the codec already answered with its own page for
    /// `status` (not counted in the log's bytes) and the connection must close.
    Invalid {
        /// The status answered.
        status: u16,
    },
    /// The wait ran out (`timeout http-request`).
    Timeout,
    /// The client closed or failed; `nothing`: not a byte of this request had come.
    Closed {
        /// No byte of the request was received.
        nothing: bool,
    },
}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFail {
    /// The connection failed, closed early or timed out.
    Io(IoFail),
    /// The body's framing was malformed.
    Invalid,
}

/// How the wait for a request head is bounded.
#[derive(Debug, Clone, Copy)]
pub struct HeadWait {
    /// Where the wait starts when no byte came yet (the accept, or the end of the
    /// previous request).
    pub since: Instant,
    /// `timeout http-request` (else `timeout client`).
    pub limit: Option<Duration>,
    /// `timeout client`, for the error page of a malformed head.
    pub client: Option<Duration>,
    /// The connection's first request: a client that shuts its side before sending a
    /// byte of it still gets HAProxy's 400 page (after a keep-alive request it does
    /// not, the close is silent).
    pub first: bool,
}

/// What a client connection has for the next exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextInput {
    /// Bytes of a request are there.
    Ready,
    /// Nothing yet: the connection goes idle.
    Idle,
    /// The client closed or failed.
    Closed,
}

/// A reply the codec wrote for the proxy itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replied {
    /// Its size as HAProxy counts it in `bout`/`%B` (HTTP/1: its HTX form), written or
    /// meant to be.
    pub bytes: u64,
    /// Counted in the log's bytes (`%B`).
    pub counted: bool,
    /// The client connection persists after it.
    pub persist: bool,
    /// The write went through.
    pub ok: bool,
}

/// The client side of exchanges: reads request heads and bodies into the neutral model,
/// writes response heads and bodies, and encodes the proxy's own replies.
///
/// HTTP/2: one implementation per stream (a stream is an exchange): `read_request`
/// yields the stream's HEADERS once and then [`HeadFail::Closed`] (`persist` is always
/// true: the connection outlives the stream), `read_body` maps DATA frames to `Data`
/// (releasing flow-control capacity as they are taken), a trailing HEADERS frame to
/// `Trailers` and END_STREAM to `End`; `write_response` sends HEADERS (dropping the
/// connection-specific headers) and the frames as DATA; replies become a HEADERS and
/// DATA pair; `Io` and `tunnel` serve extended CONNECT.
pub trait ClientCodec: Send {
    /// The byte stream under the codec, for tunnels (`Upgrade`, CONNECT).
    type Io: AsyncRead + AsyncWrite + Unpin + Send;

    /// Takes the buffers of a busy period (from its worker thread's pool).
    fn unpark(&mut self);
    /// Gives the buffers back while the connection is idle.
    fn park(&mut self);
    /// Whether the next request has begun to arrive, without waiting. The previous
    /// request is forgotten.
    fn next_input(&mut self) -> impl Future<Output = NextInput> + Send;
    /// Reads the next request head (the previous request is forgotten). `rx_start` is
    /// set when its first byte is seen.
    fn read_request(
        &mut self,
        wait: HeadWait,
        rx_start: &mut Option<Instant>,
    ) -> impl Future<Output = Result<(), HeadFail>> + Send;
    /// The request head read last, valid until the next one is read.
    fn request(&self) -> Request<'_>;
    /// The size of the request head read last as HAProxy counts it in the bytes
    /// received from the client (`%U`, `bin`): its HTX size ([`Request::htx_size`]),
    /// HTTP/1 and HTTP/2 alike (HAProxy decodes both into the same HTX head).
    fn head_bytes(&self) -> u64 {
        self.request().htx_size()
    }
    /// The request and the client's byte stream, to watch it for a close while the
    /// request waits (`option abortonclose`); bytes read meanwhile go to
    /// [`ClientCodec::push_input`].
    fn watch(&mut self) -> (Request<'_>, &mut Self::Io);
    /// Bytes the exchange read from the client on the codec's behalf.
    fn push_input(&mut self, bytes: &[u8]);
    /// Whether body bytes were received and not taken yet.
    fn body_buffered(&self) -> bool;
    /// The body frames received so far, without waiting (empty ones when none).
    fn take_body(&mut self) -> Result<Frames<'_>, BodyFail>;
    /// The next body frames, waiting at most `timeout` for the client.
    fn read_body(
        &mut self,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Frames<'_>, BodyFail>> + Send;
    /// The request body was read to its end.
    fn body_done(&self) -> bool;
    /// Drops the rest of the current request from the input (answered without
    /// reading it).
    fn discard_request(&mut self);
    /// Whether the connection persists after `resp` is forwarded, the exchange
    /// allowing it (`allowed`: frontend mode, request fully read).
    fn keeps_after(&self, resp: &Response<'_>, allowed: bool) -> bool;
    /// Writes an interim response (1xx).
    fn write_interim(
        &mut self,
        resp: &Response<'_>,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<(), IoFail>> + Send;
    /// Writes the proxy's own `100 Continue` (the body is read before the server sees
    /// the request).
    fn write_continue(
        &mut self,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<(), IoFail>> + Send;
    /// Writes the response head with the rules' `edits`, announcing whether the
    /// connection persists, and the first body frames with it. Bytes written.
    fn write_response(
        &mut self,
        resp: &Response<'_>,
        edits: &Edits,
        persist: bool,
        first: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<u64, IoFail>> + Send;
    /// Writes response body frames. Bytes written.
    fn write_body(
        &mut self,
        frames: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<u64, IoFail>> + Send;
    /// Writes the error page for `status` (`page`: an `errorfile` or HAProxy's), keeping
    /// the connection when `persist` and the protocol allow it.
    fn write_error(
        &mut self,
        status: u16,
        page: Page<'_>,
        persist: bool,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Replied> + Send;
    /// Writes a `deny` or `return` reply (`head_only`: without its body, for HEAD).
    fn write_reply(
        &mut self,
        page: Page<'_>,
        persist: bool,
        head_only: bool,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Replied> + Send;
    /// The byte stream for a tunnel and the client bytes already read past the request.
    fn tunnel(&mut self) -> (&mut Self::Io, Vec<u8>);
}

/// The server side of one exchange: writes the request head and body, reads the response
/// head and body, and says whether the connection can carry another request.
///
/// HTTP/2: one implementation per stream opened on a pooled multiplexed connection
/// (`h2::client::SendRequest` cloned; `proxy::h2srv::H2Server`): `start_request` builds
/// the HEADERS, `push_body` and `write_body` send DATA (END_STREAM with `End`, trailers
/// as HEADERS), `read_response` awaits the response future (interim responses through
/// `poll_informational`), `read_body` maps the `RecvStream` to frames, `reusable` is
/// whether the connection (not the stream) is still open, and `reconnect` opens the
/// stream again on a fresh connection.
pub trait ServerCodec: Send {
    /// The byte stream of a tunnel (`Upgrade`, CONNECT), borrowed from the codec.
    type Tunnel<'a>: AsyncRead + AsyncWrite + Unpin + Send
    where
        Self: 'a;

    /// Prepares the request head for the server (sent by [`ServerCodec::send_pending`]):
    /// the rules' `edits`, `extra` headers (`option forwardfor`), and whether the
    /// connection is meant to stay open (`persist`).
    fn start_request(
        &mut self,
        req: &Request<'_>,
        edits: &Edits,
        extra: Option<(&[u8], &[u8])>,
        persist: bool,
    );
    /// Appends body frames to what goes out with the head.
    fn push_body(&mut self, frames: &Frames<'_>);
    /// Sends the head and the frames pushed with it; they are kept for a replay on a
    /// fresh connection.
    fn send_pending(
        &mut self,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<(), IoFail>> + Send;
    /// The retry edge: carry the same request over `conn` instead (what was pending is
    /// sent again by [`ServerCodec::send_pending`]).
    fn reconnect(&mut self, conn: ServerConn);
    /// Writes more request body frames.
    fn write_body(
        &mut self,
        frames: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<(), IoFail>> + Send;
    /// Reads the next response head (after an interim one, the following one) for
    /// `req`. A malformed head is [`IoFail::Error`].
    fn read_response(
        &mut self,
        req: &Request<'_>,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<(), IoFail>> + Send;
    /// Nothing of a response was received yet (a reused connection that fails then can be
    /// replaced).
    fn received_nothing(&self) -> bool;
    /// The server asked for no more of the request body after answering in full (HTTP/2's
    /// RST_STREAM with NO_ERROR, RFC 9113 §8.1) before the client had sent all of it:
    /// the rest was dropped, and the client's connection closes after the response, as
    /// HAProxy closes it. (Once the client's whole body was read, the cut changes
    /// nothing for the client.)
    fn request_cut(&self) -> bool {
        false
    }
    /// The response head read last.
    fn response(&self) -> Response<'_>;
    /// The response head and the body frames received with it.
    fn head_and_body(&mut self) -> Result<(Response<'_>, Frames<'_>), BodyFail>;
    /// The next response body frames, waiting at most `timeout`.
    fn read_body(
        &mut self,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Frames<'_>, BodyFail>> + Send;
    /// [`ServerCodec::read_body`] keeping the response head readable
    /// ([`ServerCodec::response`]) for the rules after `http-response wait-for-body`;
    /// a codec whose head outlives its body reads needs nothing more.
    fn hold_body(
        &mut self,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Frames<'_>, BodyFail>> + Send {
        self.read_body(timeout)
    }
    /// The connection may carry another request: the response said so, it was read to
    /// its end, and nothing more came.
    fn reusable(&self) -> bool;
    /// The byte stream for a tunnel and the server bytes already read past the head
    /// (`None`: no tunnel was agreed to).
    fn tunnel(&mut self) -> Option<(Self::Tunnel<'_>, Vec<u8>)>;
}
