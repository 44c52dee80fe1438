//! Accepted TCP client connections that join the runtime's poller only when they must
//! wait.
//!
//! A tokio `TcpStream` registers its socket with epoll when it is created
//! (`epoll_ctl(ADD)`, and a cache-aligned readiness record allocated) and deregisters it
//! when dropped (`epoll_ctl(DEL)`), even when every read and write it makes succeeds at
//! once. A client that sends one request per connection (`Connection: close`) usually
//! has its request in the socket by the time the proxy reads it, and its response
//! leaves in one write: such a connection never waits on its socket, so those two
//! syscalls and the allocation are a fifth of its syscalls for nothing. HAProxy, too,
//! tries its reads and writes first and polls a connection only when one would block.
//!
//! [`LazyTcp`] reads and writes on the socket directly and registers it (as a tokio
//! [`AsyncFd`]) the first time an operation would block or a caller waits for it to be
//! readable; from then on it behaves like a tokio stream. Registration is edge-triggered
//! and reports a socket that became ready meanwhile, so no wake-up is lost.
//! [`accept`] takes connections from a listener without registering them.
//! (docs/performance.md, "close": measured effect.)

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, ready};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

/// An accepted TCP connection, registered with the runtime only once it must wait.
pub struct LazyTcp {
    /// The registration, made the first time an operation would block. Declared before
    /// `sock` so that it is dropped (deregistered) while the descriptor is still open.
    reg: OnceLock<AsyncFd<RawFd>>,
    sock: TcpStream,
    /// More of the message follows the next writes: they pass `MSG_MORE`.
    more: bool,
}

impl LazyTcp {
    /// Wraps a connected, non-blocking socket.
    pub fn new(sock: TcpStream) -> LazyTcp {
        LazyTcp {
            reg: OnceLock::new(),
            sock,
            more: false,
        }
    }

    /// The socket, for its options and addresses.
    pub fn socket(&self) -> &TcpStream {
        &self.sock
    }

    /// The registration, made now if it was not yet.
    fn registered(&self) -> io::Result<&AsyncFd<RawFd>> {
        if let Some(r) = self.reg.get() {
            return Ok(r);
        }
        let interest = Interest::READABLE | Interest::WRITABLE;
        // SAFETY: the descriptor is `sock`'s, open for as long as `self` lives; the
        // registration is dropped first (field order), so it never outlives it.
        let r = unsafe { AsyncFd::register_with_interest(self.sock.as_raw_fd(), interest) }
            .map_err(io::Error::from)?;
        // The stream is used by one task at a time (`&self` here only because
        // `WaitReadable` polls through a shared reference), so nothing registered it
        // since the check above.
        Ok(self.reg.get_or_init(|| r))
    }

    /// One `sendmsg` of `bufs` with `MSG_MORE` (and `MSG_NOSIGNAL`, as every write).
    fn send_more(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        // SAFETY: an IoSlice has the layout of `iovec` (std guarantees it on unix);
        // sendmsg only reads the `bufs.len()` slices, valid for the call, and the
        // message header, which names no address and no control data.
        let n = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = bufs.len().min(libc::UIO_MAXIOV as usize) as _;
            libc::sendmsg(
                self.sock.as_raw_fd(),
                &msg,
                libc::MSG_MORE | libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// One `recv` into the unfilled part of `buf`; the bytes received.
    fn recv(&self, buf: &mut ReadBuf<'_>) -> io::Result<usize> {
        // SAFETY: recv writes at most `unfilled.len()` bytes into the buffer's unfilled
        // (possibly uninitialised) part, which is valid for writes; exactly the `n`
        // bytes it reports are then marked initialised and filled.
        unsafe {
            let unfilled = buf.unfilled_mut();
            let n = libc::recv(
                self.sock.as_raw_fd(),
                unfilled.as_mut_ptr().cast(),
                unfilled.len(),
                0,
            );
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = n as usize;
            buf.assume_init(n);
            buf.advance(n);
            Ok(n)
        }
    }

    /// Runs `op` on the socket, which moves up to `want` bytes and says how many it
    /// moved: at once while unregistered; once it would block (or when registered),
    /// under the poller's readiness for `interest`. As tokio's streams do, a registered
    /// socket that moved fewer bytes than asked is taken as drained (or full): the next
    /// operation waits for the poller instead of failing with `EAGAIN` first.
    fn poll_op(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        want: usize,
        mut op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        if self.reg.get().is_none() {
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => return Poll::Ready(r),
            }
        }
        let reg = self.registered()?;
        loop {
            let mut guard = if interest.is_readable() {
                ready!(reg.poll_read_ready(cx))?
            } else {
                ready!(reg.poll_write_ready(cx))?
            };
            match guard.try_io(|_| op()) {
                Ok(r) => {
                    if matches!(r, Ok(n) if n > 0 && n < want) {
                        guard.clear_ready();
                    }
                    return Poll::Ready(r);
                }
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsRawFd for LazyTcp {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for LazyTcp {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsyncRead for LazyTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let want = buf.remaining();
        this.poll_op(cx, Interest::READABLE, want, || this.recv(buf))
            .map_ok(|_| ())
    }
}

impl AsyncWrite for LazyTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let want = buf.len();
        if this.more {
            let bufs = [io::IoSlice::new(buf)];
            return this.poll_op(cx, Interest::WRITABLE, want, || this.send_more(&bufs));
        }
        // `send` with MSG_NOSIGNAL, as tokio's streams.
        this.poll_op(cx, Interest::WRITABLE, want, || (&this.sock).write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let want = bufs.iter().map(|b| b.len()).sum();
        if this.more {
            return this.poll_op(cx, Interest::WRITABLE, want, || this.send_more(bufs));
        }
        this.poll_op(cx, Interest::WRITABLE, want, || {
            (&this.sock).write_vectored(bufs)
        })
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.sock.shutdown(std::net::Shutdown::Write))
    }
}

impl super::http::io::WaitReadable for LazyTcp {
    fn set_more(&mut self, more: bool) {
        self.more = more;
    }

    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let reg = self.registered()?;
        // The readiness stays set (the guard is dropped without clearing it): the
        // read that follows clears it if it would block.
        let _keep_ready = ready!(reg.poll_read_ready(cx))?;
        Poll::Ready(Ok(()))
    }
}

/// A listening socket registered with the runtime, whose accepted connections are not.
pub struct Listener(AsyncFd<TcpListener>);

impl Listener {
    /// Registers a bound, listening, non-blocking socket.
    pub fn new(l: TcpListener) -> io::Result<Listener> {
        // SAFETY: the AsyncFd owns the listener, so its descriptor stays open and the
        // same for as long as the registration lives.
        unsafe { AsyncFd::register_with_interest(l, Interest::READABLE) }
            .map(Listener)
            .map_err(io::Error::from)
    }

    /// The listening socket.
    pub fn socket(&self) -> &TcpListener {
        self.0.get_ref()
    }

    /// The next connection, waiting for one.
    pub async fn accept(&self) -> io::Result<(LazyTcp, Option<SocketAddr>)> {
        loop {
            let mut guard = self.0.readable().await?;
            if let Ok(r) = guard.try_io(|l| accept_now(l.get_ref())) {
                return r;
            }
        }
    }
}

/// One `accept4`, the new socket non-blocking and close-on-exec from the start (no
/// `fcntl` after).
pub fn accept_now(l: &TcpListener) -> io::Result<(LazyTcp, Option<SocketAddr>)> {
    // SAFETY: accept4 writes at most `*len` bytes of address into the storage that
    // `try_init` provides and sets `*len`; the descriptor it returns is new and owned
    // by the TcpStream made from it.
    let (fd, addr) = unsafe {
        socket2::SockAddr::try_init(|storage, len| {
            let fd = libc::accept4(
                l.as_raw_fd(),
                storage.cast(),
                len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            );
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(fd)
            }
        })?
    };
    // SAFETY: `fd` was just returned by accept4 and is owned by nothing else.
    let sock = unsafe { TcpStream::from_raw_fd(fd) };
    Ok((LazyTcp::new(sock), addr.as_socket()))
}
