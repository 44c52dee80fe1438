//! Listening sockets passed from an old process to a new one, as HAProxy 2.6 does it
//! (`-x SOCKET` and `stats socket … expose-fd listeners`): the new process connects to
//! the old one's stats socket and sends `_getsocks`; the old one answers with the
//! number of sockets (a native `int`), then sends them by `SCM_RIGHTS` at most
//! [`MAX_SEND_FD`] at a time, each described by a namespace name, an interface name
//! (each a length byte and the name) and four zero bytes, waiting for the receiver's
//! `int` acknowledgement after every full batch. The wire format is HAProxy's
//! (`sock_get_old_sockets` in sock.c, `_getsocks` in cli.c).
//!
//! The old process exports a duplicate of each listening socket ([`export`]) for as
//! long as it accepts on it; the new process keeps what it received in a pool that
//! [`take`] draws from when a `bind` (or a `stats socket`) names the same address, so
//! the socket — with the connections in its queue — is shared instead of bound again:
//! nothing is refused while the two processes overlap.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// HAProxy's `MAX_SEND_FD`: descriptors per message.
pub const MAX_SEND_FD: usize = 253;

/// The sockets this process exports, by registration number.
static EXPORTED: Mutex<Vec<(u64, OwnedFd)>> = Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The sockets received from an old process and not used yet.
static RECEIVED: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());

/// The descriptors (in this process) of sockets taken from the old process, with
/// their inode numbers.
static TAKEN: Mutex<Vec<(RawFd, u64)>> = Mutex::new(Vec::new());

/// A socket exported for `_getsocks` while this value lives.
#[derive(Debug)]
pub struct Exported(u64);

impl Drop for Exported {
    fn drop(&mut self) {
        if let Ok(mut v) = EXPORTED.lock() {
            v.retain(|(id, _)| *id != self.0);
        }
    }
}

impl Exported {
    /// Runs `f` on the exported duplicate, which is the listener's own socket (a reload
    /// sets options of a socket it keeps through it); `None` once it is gone.
    pub fn with_socket<T>(&self, f: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> T) -> Option<T> {
        let v = EXPORTED.lock().ok()?;
        let (_, fd) = v.iter().find(|(id, _)| *id == self.0)?;
        Some(f(fd.as_fd()))
    }
}

/// Exports `sock` (a duplicate of its descriptor) until the returned value is dropped.
pub fn export(sock: &impl AsFd) -> io::Result<Exported> {
    let dup = sock.as_fd().try_clone_to_owned()?;
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    EXPORTED
        .lock()
        .map_err(|_| io::Error::other("poisoned"))?
        .push((id, dup));
    Ok(Exported(id))
}

/// How many sockets are exported.
pub fn exported_count() -> usize {
    EXPORTED.lock().map_or(0, |v| v.len())
}

/// Runs `f` until it stops failing with `WouldBlock`/`Interrupted` (the socket is
/// non-blocking), for at most a second as HAProxy's `SO_RCVTIMEO`.
fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match f() {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            r => return r,
        }
    }
}

/// One `sendmsg` of `data` with `fds` attached.
fn send_with_fds(sock: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of_val(fds) as u32) } as usize;
    let mut cbuf = vec![0u64; space.div_ceil(8)];
    // SAFETY: a zeroed msghdr is a valid empty one.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: the control buffer is `space` bytes, room for one header with `fds`;
        // CMSG_FIRSTHDR/CMSG_DATA point inside it.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of_val(fds) as u32) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                std::mem::size_of_val(fds),
            );
        }
    }
    // SAFETY: msg points at live buffers for the duration of the call.
    let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// The old process's side of `_getsocks`, on the connection `sock` (non-blocking):
/// sends every exported socket. Returns how many were sent. With none, nothing is sent
/// (HAProxy then just closes the connection).
pub fn send_exported(sock: RawFd) -> io::Result<usize> {
    let exported = EXPORTED.lock().map_err(|_| io::Error::other("poisoned"))?;
    let fds: Vec<RawFd> = exported.iter().map(|(_, fd)| fd.as_raw_fd()).collect();
    if fds.is_empty() {
        return Ok(0);
    }
    let count = (fds.len() as i32).to_ne_bytes();
    if retry(|| send_with_fds(sock, &count, &[]))? != count.len() {
        return Err(io::Error::other("short write of the socket count"));
    }
    for (i, batch) in fds.chunks(MAX_SEND_FD).enumerate() {
        // Per socket: no namespace, no interface, 32 bits of zeroes.
        let data = [0u8; 6].repeat(batch.len());
        if retry(|| send_with_fds(sock, &data, batch))? != data.len() {
            return Err(io::Error::other("short write while sending sockets"));
        }
        let full = batch.len() == MAX_SEND_FD && (i + 1) * MAX_SEND_FD < fds.len();
        if full {
            let mut ack = [0u8; 4];
            // SAFETY: recv into a local buffer.
            retry(|| {
                let n = unsafe { libc::recv(sock, ack.as_mut_ptr().cast(), 4, 0) };
                if n <= 0 {
                    Err(if n == 0 {
                        io::Error::from(io::ErrorKind::UnexpectedEof)
                    } else {
                        io::Error::last_os_error()
                    })
                } else {
                    Ok(())
                }
            })?;
        }
    }
    Ok(fds.len())
}

/// Reads exactly one `recvmsg` worth into `buf`, collecting the descriptors attached.
fn recv_with_fds(sock: RawFd, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space =
        unsafe { libc::CMSG_SPACE((MAX_SEND_FD * std::mem::size_of::<RawFd>()) as u32) } as usize;
    let mut cbuf = vec![0u64; space.div_ceil(8)];
    // SAFETY: a zeroed msghdr is a valid empty one.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: msg points at live buffers; CMSG_CLOEXEC keeps the descriptors from
    // leaking into children.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: walking the control messages the kernel wrote into `cbuf`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(cmsg);
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    let mut fd: RawFd = 0;
                    std::ptr::copy_nonoverlapping(
                        data.add(i * std::mem::size_of::<RawFd>()),
                        (&mut fd as *mut RawFd).cast::<u8>(),
                        std::mem::size_of::<RawFd>(),
                    );
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(n as usize)
}

/// The new process's side (`-x PATH`): asks the process behind the unix socket `path`
/// for its listening sockets and keeps them for [`take`]. Returns how many came.
pub fn receive_from(path: &std::path::Path) -> io::Result<usize> {
    let stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "Failed to connect to the old process socket '{}' ({e})",
                path.display()
            ),
        )
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    use std::io::Write;
    (&stream).write_all(b"_getsocks\n")?;
    let sock = stream.as_raw_fd();
    let mut fds = Vec::new();
    let mut count = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = recv_with_fds(sock, &mut count[got..], &mut fds)?;
        if n == 0 {
            return Err(io::Error::other(
                "Failed to get the number of sockets to be transferred ! (is 'expose-fd listeners' set on that socket?)",
            ));
        }
        got += n;
    }
    let expected = i32::from_ne_bytes(count).max(0) as usize;
    let mut buf = vec![0u8; MAX_SEND_FD * (1 + 4096 + 1 + 16 + 4)];
    while fds.len() < expected {
        let before = fds.len();
        let n = recv_with_fds(sock, &mut buf, &mut fds)?;
        if n == 0 && fds.len() == before {
            break;
        }
        // The acknowledgement the sender waits for after a full batch.
        let _ = (&stream).write_all(&0i32.to_ne_bytes());
    }
    if fds.len() != expected {
        return Err(io::Error::other(format!(
            "We didn't get the expected number of sockets (expecting {expected} got {})",
            fds.len()
        )));
    }
    let n = fds.len();
    RECEIVED
        .lock()
        .map_err(|_| io::Error::other("poisoned"))?
        .extend(fds);
    Ok(n)
}

/// What a listening socket is bound to, to match a received socket with a `bind`.
#[derive(Debug, PartialEq, Eq)]
pub enum Addr<'a> {
    /// A TCP address.
    Inet(SocketAddr),
    /// A unix socket's path.
    Path(&'a std::path::Path),
    /// An abstract unix socket's name.
    Abstract(&'a str),
}

fn matches(fd: &OwnedFd, want: &Addr<'_>) -> bool {
    let sock = socket2::SockRef::from(fd);
    if sock.r#type().ok() != Some(socket2::Type::STREAM) {
        return false;
    }
    let Ok(local) = sock.local_addr() else {
        return false;
    };
    match want {
        Addr::Inet(a) => local.as_socket() == Some(*a),
        Addr::Path(p) => local.as_pathname() == Some(*p),
        Addr::Abstract(n) => local.as_abstract_namespace() == Some(n.as_bytes()),
    }
}

/// A socket received from the old process bound to `addr`, if any: the caller uses it
/// instead of binding.
pub fn take(addr: &Addr<'_>) -> Option<OwnedFd> {
    let mut pool = RECEIVED.lock().ok()?;
    let i = pool.iter().position(|fd| matches(fd, addr))?;
    let fd = pool.swap_remove(i);
    // SAFETY: fstat fills a local struct for a descriptor owned by `fd`.
    let ino = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd.as_raw_fd(), &mut st) == 0 {
            st.st_ino
        } else {
            0
        }
    };
    if let Ok(mut t) = TAKEN.lock() {
        t.push((fd.as_raw_fd(), ino));
    }
    Some(fd)
}

/// Whether the descriptor `fd` is a socket taken from the old process (shared with
/// it, so not to be steered like a socket of its own).
pub fn was_taken(fd: RawFd) -> bool {
    TAKEN.lock().is_ok_and(|t| t.iter().any(|(f, _)| *f == fd))
}

/// Whether any socket was taken from an old process.
pub fn any_taken() -> bool {
    TAKEN.lock().is_ok_and(|t| !t.is_empty())
}

/// Whether process `pid` still holds one of the sockets taken from it (read from
/// `/proc/PID/fd`; false when that cannot be read or the process is gone).
fn holds_taken(pid: i32) -> bool {
    let Ok(taken) = TAKEN
        .lock()
        .map(|t| t.iter().map(|(_, i)| *i).collect::<Vec<_>>())
    else {
        return false;
    };
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    dir.flatten().any(|e| {
        std::fs::read_link(e.path()).is_ok_and(|l| {
            l.to_str()
                .and_then(|l| l.strip_prefix("socket:["))
                .and_then(|l| l.strip_suffix(']'))
                .and_then(|i| i.parse::<u64>().ok())
                .is_some_and(|i| taken.contains(&i))
        })
    })
}

/// After `-sf` with sockets taken over: waits (at most `limit`) until the old
/// processes have closed their copies — they accept nothing any more — so that a
/// connection made once this process says it is ready reaches this process only.
pub async fn wait_released(pids: &[i32], limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline && pids.iter().any(|&p| holds_taken(p)) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Closes the received sockets no `bind` used (the old process closes its copies when
/// it stops).
pub fn close_unused() -> usize {
    RECEIVED
        .lock()
        .map(|mut v| std::mem::take(&mut *v).len())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_cross_a_unix_connection_in_haproxys_format() {
        let l1 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let l2 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
        let _e1 = export(&l1).unwrap();
        let _e2 = export(&l2).unwrap();
        let dir = std::env::temp_dir().join(format!("gh-xfer-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("s.sock");
        let _ = std::fs::remove_file(&path);
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let t = std::thread::spawn(move || {
            let (c, _) = server.accept().unwrap();
            let mut line = [0u8; 10];
            use std::io::Read;
            (&c).read_exact(&mut line).unwrap();
            assert_eq!(&line, b"_getsocks\n");
            c.set_nonblocking(true).unwrap();
            send_exported(c.as_raw_fd()).unwrap()
        });
        assert!(receive_from(&path).unwrap() >= 2);
        assert!(t.join().unwrap() >= 2);
        let got = take(&Addr::Inet(a2)).expect("second socket");
        assert!(was_taken(got.as_raw_fd()));
        // The very socket: a connection to a2 is in its queue.
        let l: std::net::TcpListener = got.into();
        let _c = std::net::TcpStream::connect(a2).unwrap();
        l.accept().unwrap();
        assert!(take(&Addr::Inet(a1)).is_some());
        assert!(take(&Addr::Inet(a1)).is_none());
        close_unused();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
