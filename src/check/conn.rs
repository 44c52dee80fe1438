//! A check's connection, and how a plain TCP one is opened cheaply: a nonblocking
//! connect whose outcome is not awaited when a request follows at once. On loopback
//! (and on any fast network) the handshake is done when `connect` returns, so the
//! request goes out straight away and a successful write confirms the connection;
//! only when the write would block does the check wait for the handshake, as tokio's
//! own connect does (writable, then `SO_ERROR`). That saves, per check, a wake-up of
//! the checker, the `SO_ERROR` read, and `TCP_NODELAY` (needless for the first write
//! of a connection, set before any later one: [`Conn::nodelay`]).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A check connection.
pub(super) enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

impl Conn {
    /// Sets `TCP_NODELAY` on a plain TCP connection (before any write but its first:
    /// a lone first write is never held back by Nagle's algorithm).
    pub(super) fn nodelay(&self) {
        if let Conn::Tcp(s) = self {
            let _ = s.set_nodelay(true);
        }
    }

    pub(super) async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf).await,
            Conn::Unix(s) => s.read(buf).await,
            Conn::Tls(s) => s.read(buf).await,
        }
    }
    pub(super) async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.write_all(b).await,
            Conn::Unix(s) => s.write_all(b).await,
            Conn::Tls(s) => {
                s.write_all(b).await?;
                s.flush().await
            }
        }
    }
}

impl tokio::io::AsyncRead for Conn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::pin::Pin;
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Conn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::pin::Pin;
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::pin::Pin;
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_flush(cx),
            Conn::Unix(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::pin::Pin;
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Starts a TCP connection to `addr` and registers it with the runtime, without
/// waiting for the handshake ([`confirm`] or a first [`try_send`] tells its outcome).
/// Without `linger` the connection will end with a reset, as HAProxy ends check
/// connections (no TIME_WAIT left per check).
pub(super) fn start_tcp(addr: SocketAddr, linger: bool) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    if !linger {
        let _ = s.set_linger(Some(Duration::ZERO));
    }
    match s.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    TcpStream::from_std(std::net::TcpStream::from(s))
}

/// Waits for the outcome of a connection [`start_tcp`] started: writable, then its
/// pending error, if any.
pub(super) async fn confirm(s: &TcpStream) -> io::Result<()> {
    s.writable().await?;
    match s.take_error()? {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What a first write on a connection whose handshake is not confirmed did.
pub(super) enum Sent {
    /// `n` bytes went: the connection is established.
    Some(usize),
    /// The handshake is not done yet.
    Blocked,
    /// The handshake failed with this error (refused, unreachable, timed out).
    ConnectFailed(io::Error),
    /// The connection was established and failed since (reset, closed).
    Failed(io::Error),
}

/// Writes what it can of `b` at once, outside the runtime's readiness tracking (its
/// first write on a connection is never blocked by its readiness being unknown yet).
pub(super) fn try_send(s: &TcpStream, b: &[u8]) -> Sent {
    match socket2::SockRef::from(s).send(b) {
        Ok(n) => Sent::Some(n),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Sent::Blocked,
        Err(e) => match e.raw_os_error() {
            Some(
                libc::ECONNREFUSED
                | libc::ETIMEDOUT
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::ENETDOWN
                | libc::EHOSTDOWN,
            ) => Sent::ConnectFailed(e),
            _ => Sent::Failed(e),
        },
    }
}
