//! A connection to a server, whatever carries it: TCP or a unix socket today, TLS in the
//! TLS issue. Pools hold these, keyed by what makes one reusable for a request.

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
}

/// What must match for an idle connection to carry a request: the protocol spoken on it
/// (HTTP/1 only until the HTTP/2 issue) and, with the TLS issue, its TLS parameters and
/// SNI. The server and its address are implied by the pool (one per server; a new
/// address empties it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PoolKey {
    /// The protocol spoken: `false` for HTTP/1.
    pub h2: bool,
}

impl ServerConn {
    /// Ready when a read would not block (data, end of stream or an error).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            ServerConn::Tcp(s) => s.poll_read_ready(cx),
            ServerConn::Unix(s) => s.poll_read_ready(cx),
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
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ServerConn::Tcp(s) => s.is_write_vectored(),
            ServerConn::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Tcp(s) => Pin::new(s).poll_flush(cx),
            ServerConn::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerConn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            ServerConn::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
