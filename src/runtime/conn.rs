//! A connection to a server, whatever carries it: TCP, a unix socket, or TLS over TCP
//! (`server … ssl`). Pools hold these, keyed by what makes one reusable for a request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// One established connection to a server, with the key of the pool it may go back to.
#[derive(Debug)]
pub struct ServerConn {
    io: Io,
    key: PoolKey,
}

/// What carries the bytes.
#[derive(Debug)]
enum Io {
    Tcp(TcpStream),
    Unix(UnixStream),
    /// TLS over TCP; the write in progress (see `crate::tls::stream::poll_write_through`).
    Tls(
        Box<tokio_rustls::client::TlsStream<TcpStream>>,
        Option<usize>,
    ),
}

/// What must match for an idle connection to carry a request: the server name its TLS
/// handshake sent and the client addresses its PROXY header carried (the server's other
/// TLS parameters are the same for every connection of its pool). The server and its
/// address are implied by the pool (one per server; a new address empties it), the
/// protocol by the list (HTTP/1 idle connections, HTTP/2 shared ones: `super::mux`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PoolKey {
    /// The SNI of a TLS connection (`sni EXPR` evaluated), if one was sent.
    pub sni: Option<Box<str>>,
    /// The client addresses a PROXY header sent on it (`send-proxy`): such a connection
    /// only carries requests of the same client addresses.
    pub proxied: Option<(Option<SocketAddr>, Option<SocketAddr>)>,
}

impl ServerConn {
    /// Over TCP.
    pub fn tcp(s: TcpStream, key: PoolKey) -> Self {
        ServerConn {
            io: Io::Tcp(s),
            key,
        }
    }

    /// Over a unix stream socket.
    pub fn unix(s: UnixStream, key: PoolKey) -> Self {
        ServerConn {
            io: Io::Unix(s),
            key,
        }
    }

    /// TLS over TCP.
    pub fn tls(s: tokio_rustls::client::TlsStream<TcpStream>, key: PoolKey) -> Self {
        ServerConn {
            io: Io::Tls(Box::new(s), None),
            key,
        }
    }

    /// The key of the pool it may go back to.
    pub fn pool_key(&self) -> PoolKey {
        self.key.clone()
    }

    /// The protocol the TLS handshake's ALPN settled on (none without TLS or ALPN).
    pub fn alpn(&self) -> Option<&[u8]> {
        match &self.io {
            Io::Tls(s, _) => s.get_ref().1.alpn_protocol(),
            _ => None,
        }
    }

    /// Ready when a read would not block (data, end of stream or an error).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.io {
            Io::Tcp(s) => s.poll_read_ready(cx),
            Io::Unix(s) => s.poll_read_ready(cx),
            Io::Tls(s, _) => s.get_ref().0.poll_read_ready(cx),
        }
    }
}

impl AsyncRead for ServerConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Io::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s, _) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ServerConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Io::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s, accepted) => {
                crate::tls::stream::poll_write_through(s.as_mut(), accepted, cx, buf)
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s, accepted) => {
                crate::tls::stream::poll_write_vectored_through(s.as_mut(), accepted, cx, bufs)
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Tcp(s) => s.is_write_vectored(),
            Io::Unix(s) => s.is_write_vectored(),
            Io::Tls(..) => true,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_flush(cx),
            Io::Unix(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s, _) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Io::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s, _) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
