//! Where log datagrams go: UDP syslog servers, unix datagram sockets (`/dev/log`),
//! stdout and stderr. Every send is non-blocking; a message that cannot be sent at once
//! is dropped (and counted by the caller) rather than stalling the proxy.

use crate::config::model::LogDest;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

/// An opened log destination.
#[derive(Debug)]
pub enum Sink {
    /// A UDP socket connected to the syslog server.
    Udp(UdpSocket),
    /// An unbound unix datagram socket sending to `path` (re-resolved on every send, so
    /// a restarted syslog daemon is picked up).
    Unix(UnixDatagram, PathBuf),
    /// File descriptor 1 or 2.
    Fd(i32),
}

impl Sink {
    /// Opens the destination of a `log` line.
    pub fn open(dest: &LogDest) -> io::Result<Sink> {
        match dest {
            LogDest::Stdout => Ok(Sink::Fd(1)),
            LogDest::Stderr => Ok(Sink::Fd(2)),
            LogDest::Udp(addr) => {
                let local: SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let s = UdpSocket::bind(local)?;
                s.connect(addr)?;
                s.set_nonblocking(true)?;
                Ok(Sink::Udp(s))
            }
            LogDest::Unix(path) => {
                let s = UnixDatagram::unbound()?;
                s.set_nonblocking(true)?;
                Ok(Sink::Unix(s, path.clone()))
            }
        }
    }

    /// Sends one whole message without blocking. `Err` means the message was dropped
    /// (would block, refused, no listener, short write…).
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        let n = match self {
            Sink::Udp(s) => s.send(msg)?,
            Sink::Unix(s, path) => s.send_to(msg, path)?,
            Sink::Fd(fd) => write_fd(*fd, msg)?,
        };
        if n == msg.len() {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::WriteZero, "short log write"))
        }
    }

    /// The raw descriptor (for diagnostics).
    pub fn raw_fd(&self) -> i32 {
        match self {
            Sink::Udp(s) => s.as_raw_fd(),
            Sink::Unix(s, _) => s.as_raw_fd(),
            Sink::Fd(fd) => *fd,
        }
    }
}

/// One `write(2)` of the whole line, only if `poll` says the descriptor is writable
/// right now. Setting `O_NONBLOCK` on stdout/stderr would change the file description
/// shared with the parent (a terminal, a pipe to a supervisor), so instead a zero-timeout
/// poll guards the write: a stuck reader makes us drop lines, never block. A pipe that
/// polls writable has at least one free page, so lines up to 4 KiB are written whole.
fn write_fd(fd: i32, msg: &[u8]) -> io::Result<usize> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let r = unsafe { libc::poll(&mut pfd, 1, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    if r == 0 || pfd.revents & libc::POLLOUT == 0 {
        return Err(io::Error::from(io::ErrorKind::WouldBlock));
    }
    // SAFETY: `msg` is a valid readable buffer of `msg.len()` bytes.
    let n = unsafe { libc::write(fd, msg.as_ptr().cast(), msg.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}
