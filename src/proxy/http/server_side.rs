//! [`ServerSide`]: the server codec of one exchange, HTTP/1 or HTTP/2, chosen when the
//! connection is made or taken from a pool (`proto`, ALPN). The phases drive it through
//! [`ServerCodec`]; each call goes to the codec of the protocol the connection speaks.

use crate::proxy::codec::{BodyFail, ServerCodec};
use crate::proxy::h1::H1Server;
use crate::proxy::h2::DataStream;
use crate::proxy::h2srv::H2Server;
use crate::proxy::http::io::IoFail;
use crate::proxy::message::{Edits, Frames, Request, Response};
use crate::runtime::conn::ServerConn;
use std::time::Duration;

/// The server codec of one exchange.
pub(crate) enum ServerSide {
    /// HTTP/1.1: the connection is the exchange's alone.
    H1(H1Server),
    /// HTTP/2: one stream of a shared connection (boxed: its state is several times
    /// the HTTP/1 codec's, which stays inline on the common path).
    H2(Box<H2Server>),
}

impl ServerCodec for ServerSide {
    type Tunnel<'a> = ServerTunnel<'a>;

    fn start_request(
        &mut self,
        req: &Request<'_>,
        edits: &Edits,
        extra: Option<(&[u8], &[u8])>,
        persist: bool,
    ) {
        match self {
            ServerSide::H1(c) => c.start_request(req, edits, extra, persist),
            ServerSide::H2(c) => c.start_request(req, edits, extra, persist),
        }
    }

    fn push_body(&mut self, frames: &Frames<'_>) {
        match self {
            ServerSide::H1(c) => c.push_body(frames),
            ServerSide::H2(c) => c.push_body(frames),
        }
    }

    async fn send_pending(&mut self, timeout: Option<Duration>) -> Result<(), IoFail> {
        match self {
            ServerSide::H1(c) => c.send_pending(timeout).await,
            ServerSide::H2(c) => c.send_pending(timeout).await,
        }
    }

    fn reconnect(&mut self, conn: ServerConn) {
        match self {
            ServerSide::H1(c) => c.reconnect(conn),
            ServerSide::H2(c) => c.reconnect(conn),
        }
    }

    async fn write_body(
        &mut self,
        frames: &Frames<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        match self {
            ServerSide::H1(c) => c.write_body(frames, timeout).await,
            ServerSide::H2(c) => c.write_body(frames, timeout).await,
        }
    }

    async fn read_response(
        &mut self,
        req: &Request<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), IoFail> {
        match self {
            ServerSide::H1(c) => c.read_response(req, timeout).await,
            ServerSide::H2(c) => c.read_response(req, timeout).await,
        }
    }

    fn received_nothing(&self) -> bool {
        match self {
            ServerSide::H1(c) => c.received_nothing(),
            ServerSide::H2(c) => c.received_nothing(),
        }
    }

    fn request_cut(&self) -> bool {
        match self {
            ServerSide::H1(c) => c.request_cut(),
            ServerSide::H2(c) => c.request_cut(),
        }
    }

    fn response(&self) -> Response<'_> {
        match self {
            ServerSide::H1(c) => c.response(),
            ServerSide::H2(c) => c.response(),
        }
    }

    fn head_and_body(&mut self) -> Result<(Response<'_>, Frames<'_>), BodyFail> {
        match self {
            ServerSide::H1(c) => c.head_and_body(),
            ServerSide::H2(c) => c.head_and_body(),
        }
    }

    async fn read_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        match self {
            ServerSide::H1(c) => c.read_body(timeout).await,
            ServerSide::H2(c) => c.read_body(timeout).await,
        }
    }

    async fn hold_body(&mut self, timeout: Option<Duration>) -> Result<Frames<'_>, BodyFail> {
        match self {
            ServerSide::H1(c) => c.hold_body(timeout).await,
            ServerSide::H2(c) => c.hold_body(timeout).await,
        }
    }

    fn reusable(&self) -> bool {
        match self {
            ServerSide::H1(c) => c.reusable(),
            ServerSide::H2(c) => c.reusable(),
        }
    }

    fn tunnel(&mut self) -> Option<(ServerTunnel<'_>, Vec<u8>)> {
        match self {
            ServerSide::H1(c) => c.tunnel().map(|(io, b)| (ServerTunnel::Conn(io), b)),
            ServerSide::H2(c) => c.tunnel().map(|(io, b)| (ServerTunnel::Stream(io), b)),
        }
    }
}

/// The server side of a tunnel: the connection itself (HTTP/1), or one stream of a
/// shared connection (an HTTP/2 extended CONNECT).
pub(crate) enum ServerTunnel<'a> {
    /// The whole connection.
    Conn(&'a mut ServerConn),
    /// An HTTP/2 stream's DATA frames.
    Stream(&'a mut DataStream),
}

crate::tls::stream::either_stream_io!(ServerTunnel<'_>, ServerTunnel::Conn, ServerTunnel::Stream);
