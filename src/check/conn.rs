//! A check's connection, and how a plain TCP one is opened cheaply: a nonblocking
//! connect whose outcome is not awaited when a request follows at once. On loopback
//! (and on any fast network) the handshake is done when `connect` returns, so the
//! request goes out straight away and a successful write confirms the connection;
//! only when the write would block does the check wait for the handshake, as tokio's
//! own connect does (writable, then `SO_ERROR`). That saves, per check, a wake-up of
//! the checker, the `SO_ERROR` read, and `TCP_NODELAY` (needless for the first write
//! of a connection, set before any later one: [`Conn::nodelay`]).
//!
//! Such a connection is not even registered with the runtime at first
//! ([`Conn::Raw`]): its request goes out with a plain `send` and its answer is read
//! with a plain `recv` at the next step of the checks' start grid (when the process
//! wakes for the next checks anyway); only a connection that has nothing to read then
//! (or that must wait for anything) is registered ([`Conn::register`]). A check whose
//! answer came in time thus costs no `epoll_ctl` and no wake-up of its own.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A check connection.
pub(super) enum Conn {
    /// A plain TCP connection not registered with the runtime (yet): only the
    /// nonblocking [`try_send`] and [`Conn::try_recv`] may use it as it is (`None`: its
    /// registration failed and it is closed).
    Raw(Option<std::net::TcpStream>),
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

impl Conn {
    /// Sets `TCP_NODELAY` on a plain TCP connection (before any write but its first:
    /// a lone first write is never held back by Nagle's algorithm).
    pub(super) fn nodelay(&self) {
        match self {
            Conn::Tcp(s) => {
                let _ = s.set_nodelay(true);
            }
            Conn::Raw(Some(s)) => {
                let _ = s.set_nodelay(true);
            }
            _ => {}
        }
    }

    /// Registers a [`Conn::Raw`] connection with the runtime (a no-op for the others),
    /// for anything that may have to wait.
    pub(super) fn register(&mut self) -> io::Result<()> {
        if let Conn::Raw(s) = self {
            let s = s.take().ok_or_else(gone)?;
            *self = Conn::Tcp(TcpStream::from_std(s)?);
        }
        Ok(())
    }

    /// Reads what already came on a [`Conn::Raw`] connection, without waiting: `None`
    /// when nothing came yet (or the connection is registered already).
    pub(super) fn try_recv(&self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        use std::io::Read;
        let Conn::Raw(Some(s)) = self else {
            return None;
        };
        let mut s: &std::net::TcpStream = s;
        match s.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            r => Some(r),
        }
    }

    pub(super) async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.register()?;
        match self {
            Conn::Raw(_) => Err(gone()),
            Conn::Tcp(s) => s.read(buf).await,
            Conn::Unix(s) => s.read(buf).await,
            Conn::Tls(s) => s.read(buf).await,
        }
    }
    pub(super) async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.register()?;
        match self {
            Conn::Raw(_) => Err(gone()),
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
        let this = self.get_mut();
        if let Err(e) = this.register() {
            return std::task::Poll::Ready(Err(e));
        }
        match this {
            Conn::Raw(_) => std::task::Poll::Ready(Err(gone())),
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
        let this = self.get_mut();
        if let Err(e) = this.register() {
            return std::task::Poll::Ready(Err(e));
        }
        match this {
            Conn::Raw(_) => std::task::Poll::Ready(Err(gone())),
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
        let this = self.get_mut();
        if let Err(e) = this.register() {
            return std::task::Poll::Ready(Err(e));
        }
        match this {
            Conn::Raw(_) => std::task::Poll::Ready(Err(gone())),
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
        let this = self.get_mut();
        if let Err(e) = this.register() {
            return std::task::Poll::Ready(Err(e));
        }
        match this {
            Conn::Raw(_) => std::task::Poll::Ready(Err(gone())),
            Conn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// A [`Conn::Raw`] connection whose registration failed.
fn gone() -> io::Error {
    io::Error::from(io::ErrorKind::NotConnected)
}

/// Starts a TCP connection to `addr`, without waiting for the handshake ([`confirm`]
/// or a first [`try_send`] tells its outcome) and without registering it with the
/// runtime ([`Conn::Raw`]).
/// Without `linger` the connection will end with a reset, as HAProxy ends check
/// connections (no TIME_WAIT left per check). With `delack` (HAProxy's
/// `CONNECT_DELACK_ALWAYS`: the check speaks first, or not at all) `TCP_QUICKACK` is off
/// before the connect, so the handshake's last ACK waits for the first write and goes
/// with it: one packet less per check, and none for a check that only connects (its
/// reset then ends the half-open connection).
pub(super) fn start_tcp(
    addr: SocketAddr,
    linger: bool,
    delack: bool,
) -> io::Result<std::net::TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    if !linger {
        let _ = s.set_linger(Some(Duration::ZERO));
    }
    if delack {
        let _ = s.set_tcp_quickack(false);
    }
    match s.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(std::net::TcpStream::from(s))
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
pub(super) fn try_send(s: impl std::os::fd::AsFd, b: &[u8]) -> Sent {
    match socket2::SockRef::from(&s).send(b) {
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
