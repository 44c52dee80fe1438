//! A connection to a server, whatever carries it: TCP, a unix socket, or TLS over TCP
//! (`server … ssl`). Pools hold these, keyed by what makes one reusable for a request.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// One established connection to a server.
#[derive(Debug)]
pub enum ServerConn {
    /// Over TCP.
    Tcp(TcpStream),
    /// Over a unix stream socket.
    Unix(UnixStream),
    /// TLS over TCP.
    Tls(Box<TlsConn>),
}

/// A TLS connection to a server.
#[derive(Debug)]
pub struct TlsConn {
    /// The stream.
    pub stream: tokio_rustls::client::TlsStream<TcpStream>,
    /// The server name sent (its pool key).
    pub sni: Option<Box<str>>,
    /// A write in progress (see `crate::tls::stream::poll_write_through`).
    accepted: Option<usize>,
}

impl TlsConn {
    /// A connection whose handshake sent `sni`.
    pub fn new(stream: tokio_rustls::client::TlsStream<TcpStream>, sni: Option<Box<str>>) -> Self {
        TlsConn {
            stream,
            sni,
            accepted: None,
        }
    }
}

/// What must match for an idle connection to carry a request: the protocol spoken on it
/// (HTTP/1 only until the HTTP/2 issue) and the server name its TLS handshake sent (the
/// server's other TLS parameters are the same for every connection of its pool). The
/// server and its address are implied by the pool (one per server; a new address
/// empties it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PoolKey {
    /// The protocol spoken: `false` for HTTP/1.
    pub h2: bool,
    /// The SNI of a TLS connection (`sni EXPR` evaluated), if one was sent.
    pub sni: Option<Box<str>>,
}

impl ServerConn {
    /// The key of the pool it may go back to.
    pub fn pool_key(&self) -> PoolKey {
        match self {
            ServerConn::Tls(t) => PoolKey {
                h2: false,
                sni: t.sni.clone(),
            },
            _ => PoolKey::default(),
        }
    }

    /// Ready when a read would not block (data, end of stream or an error).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            ServerConn::Tcp(s) => s.poll_read_ready(cx),
            ServerConn::Unix(s) => s.poll_read_ready(cx),
            ServerConn::Tls(t) => t.stream.get_ref().0.poll_read_ready(cx),
        }
    }
}

impl AsyncRead for ServerConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            ServerConn::Unix(s) => Pin::new(s).poll_read(cx, buf),
            ServerConn::Tls(t) => Pin::new(&mut t.stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ServerConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerConn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            ServerConn::Unix(s) => Pin::new(s).poll_write(cx, buf),
            ServerConn::Tls(t) => {
                crate::tls::stream::poll_write_through(&mut t.stream, &mut t.accepted, cx, buf)
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerConn::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            ServerConn::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            ServerConn::Tls(t) => {
                let buf = bufs
                    .iter()
                    .find(|b| !b.is_empty())
                    .map_or(&[][..], |b| &b[..]);
                crate::tls::stream::poll_write_through(&mut t.stream, &mut t.accepted, cx, buf)
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ServerConn::Tcp(s) => s.is_write_vectored(),
            ServerConn::Unix(s) => s.is_write_vectored(),
            ServerConn::Tls(..) => false,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Tcp(s) => Pin::new(s).poll_flush(cx),
            ServerConn::Unix(s) => Pin::new(s).poll_flush(cx),
            ServerConn::Tls(t) => Pin::new(&mut t.stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            ServerConn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            ServerConn::Tls(t) => Pin::new(&mut t.stream).poll_shutdown(cx),
        }
    }
}
