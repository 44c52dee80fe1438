//! Listening sockets for `bind` lines: IPv4/IPv6 with port ranges and `SO_REUSEPORT`,
//! unix sockets (`unix@`, paths, with `mode`, `user` and `group`), abstract sockets (`abns@`) and inherited
//! descriptors (`fd@N`, as systemd socket activation hands them over).

use crate::config::global::{group_id, user_id};
use crate::config::model::{Bind, BindAddr};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, RawFd};
use std::os::unix::fs::PermissionsExt;

/// A bound, listening socket, not yet registered with the runtime.
pub enum BoundListener {
    /// A TCP listener.
    Tcp(std::net::TcpListener),
    /// A unix stream listener.
    Unix(std::os::unix::net::UnixListener),
}

impl BoundListener {
    /// Exports the socket for `_getsocks` while the returned value lives
    /// ([`super::xfer::export`]).
    pub fn export(&self) -> io::Result<super::xfer::Exported> {
        match self {
            BoundListener::Tcp(l) => super::xfer::export(l),
            BoundListener::Unix(l) => super::xfer::export(l),
        }
    }

    /// Where it listens, for messages.
    pub fn describe(&self) -> String {
        match self {
            BoundListener::Tcp(l) => l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            BoundListener::Unix(l) => l
                .local_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
                .unwrap_or_else(|| "unix".into()),
        }
    }
}

fn tcp(
    addr: SocketAddr,
    bind: &Bind,
    backlog: i32,
    smart_accept: bool,
) -> io::Result<std::net::TcpListener> {
    // `-x`: the old process's socket for this address, shared rather than bound again,
    // unless its IPV6_V6ONLY differs from the bind's: HAProxy's sock_find_compatible_fd
    // then binds a new one (the old socket is left to the old process).
    if let Some(fd) = super::xfer::take(&super::xfer::Addr::Inet(addr)) {
        let compatible =
            !addr.is_ipv6() || socket2::SockRef::from(&fd).only_v6().ok() == Some(bind.v6only);
        if compatible {
            let l = std::net::TcpListener::from(fd);
            l.set_nonblocking(true)?;
            set_quickack(l.as_fd(), !smart_accept)?;
            socket2::SockRef::from(&l).set_tcp_nodelay(true)?;
            return Ok(l);
        }
    }
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(bind.v6only)?;
    }
    sock.set_nonblocking(true)?;
    // Inherited by every accepted socket (Linux copies TCP_NODELAY from the listener),
    // so accepting costs no `setsockopt` per connection; HAProxy sets it on each.
    sock.set_tcp_nodelay(true)?;
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    let l: std::net::TcpListener = sock.into();
    set_quickack(l.as_fd(), !smart_accept)?;
    Ok(l)
}

/// Sets the options of a `bind` line again on a TCP listening socket that a reload
/// keeps, as HAProxy's `tcp_bind_listener` does on a socket it inherits: TCP_QUICKACK
/// follows the new configuration's `option tcp-smart-accept`. The backlog stays (HAProxy
/// does not call listen() again on a listening socket), and gatehouse has no other TCP
/// socket option on binds yet (`mss`, `tcp-ut`, `defer-accept`, `tfo` are refused).
/// Unix sockets have none of these: they are left as they are.
pub fn reapply_options(fd: BorrowedFd<'_>, smart_accept: bool) -> io::Result<()> {
    match socket2::SockRef::from(&fd).domain()? {
        Domain::IPV4 | Domain::IPV6 => {
            socket2::SockRef::from(&fd).set_tcp_nodelay(true)?;
            set_quickack(fd, !smart_accept)
        }
        _ => Ok(()),
    }
}

/// TCP_QUICKACK on a listening socket, inherited by the sockets it accepts: off, the
/// kernel delays the ACK of a request's segment (40 ms at most) so that the response
/// carries it, saving a packet per connection (`option tcp-smart-accept`).
fn set_quickack(l: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let v: libc::c_int = on.into();
    // SAFETY: setsockopt on an open socket with a pointer to a c_int and its size.
    let r = unsafe {
        libc::setsockopt(
            l.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `SO_ATTACH_REUSEPORT_CBPF` in asm-generic/socket.h (x86, arm, riscv…), which the libc
/// crate does not export for Linux.
const SO_ATTACH_REUSEPORT_CBPF: libc::c_int = 51;

/// Makes `l`, just bound with `SO_REUSEPORT` next to the listening socket of a process
/// being replaced (`-sf`/`-st`), receive every new connection of the address from now
/// on: a one-instruction classic BPF program (`SO_ATTACH_REUSEPORT_CBPF`) picks the
/// group's second socket, which is this one (the old process's socket is the first).
/// When the old socket closes this one is alone in the group and the index is out of
/// range, so the kernel falls back to its hash, which picks it anyway. The old process
/// then has only to accept what was already in its queue before it closes: no
/// connection is reset, which plain `SO_REUSEPORT` (hashing new connections to the old
/// socket until it closes) cannot promise.
pub fn take_new_connections(l: &std::net::TcpListener) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // A socket taken from the old process (`-x`) is the old one's: nothing to steer.
    if super::xfer::was_taken(l.as_raw_fd()) {
        return Ok(());
    }
    // BPF_RET | BPF_K with k = 1: "the socket at index 1".
    let mut prog = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: 1,
    }];
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: setsockopt reads `fprog` (and the program it points to, alive on this
    // stack frame) during the call only; the descriptor is owned by `l`.
    let rc = unsafe {
        libc::setsockopt(
            l.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_REUSEPORT_CBPF,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn unix_path(
    path: &std::path::Path,
    bind: &Bind,
    backlog: i32,
) -> io::Result<std::os::unix::net::UnixListener> {
    if let Some(fd) = super::xfer::take(&super::xfer::Addr::Path(path)) {
        let l = std::os::unix::net::UnixListener::from(fd);
        l.set_nonblocking(true)?;
        return Ok(l);
    }
    // A stale socket file from a previous run would make bind() fail.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.bind(&socket2::SockAddr::unix(path)?)?;
    sock.listen(backlog)?;
    sock.set_nonblocking(true)?;
    if let Some(mode) = bind.unix_mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    if bind.unix_user.is_some() || bind.unix_group.is_some() {
        let uid = match &bind.unix_user {
            Some(u) => Some(user_id(u).ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("unknown user name '{u}'"))
            })?),
            None => None,
        };
        let gid = match &bind.unix_group {
            Some(g) => Some(group_id(g).ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("unknown group name '{g}'"))
            })?),
            None => None,
        };
        std::os::unix::fs::chown(path, uid, gid)?;
    }
    Ok(std::os::unix::net::UnixListener::from(
        std::os::fd::OwnedFd::from(sock),
    ))
}

fn abns(name: &str, backlog: i32) -> io::Result<std::os::unix::net::UnixListener> {
    if let Some(fd) = super::xfer::take(&super::xfer::Addr::Abstract(name)) {
        let l = std::os::unix::net::UnixListener::from(fd);
        l.set_nonblocking(true)?;
        return Ok(l);
    }
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    let l = std::os::unix::net::UnixListener::bind_addr(&addr)?;
    l.set_nonblocking(true)?;
    let _ = backlog;
    Ok(l)
}

fn inherited(fd: RawFd) -> io::Result<BoundListener> {
    // SAFETY: fcntl(F_GETFD) only queries the descriptor; it fails on a closed one.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor is open (checked above) and, by the `fd@` contract, handed to
    // us for exclusive use as a listening socket; we take ownership of it here once.
    let sock = unsafe { Socket::from_raw_fd(fd) };
    sock.set_nonblocking(true)?;
    match sock.local_addr()?.family() as i32 {
        libc::AF_UNIX => Ok(BoundListener::Unix(std::os::fd::OwnedFd::from(sock).into())),
        _ => {
            // Inherited by the sockets it accepts, as on the listeners bound here.
            sock.set_tcp_nodelay(true)?;
            Ok(BoundListener::Tcp(sock.into()))
        }
    }
}

/// Binds every address of a `bind` line (every port of a range).
///
/// `smart_accept` (`option tcp-smart-accept`): TCP listeners get TCP_QUICKACK off, which
/// the sockets they accept inherit (else on), as HAProxy's `tcp_bind_listener` does.
pub fn bind_all(
    bind: &Bind,
    default_backlog: u32,
    smart_accept: bool,
) -> io::Result<Vec<BoundListener>> {
    let backlog = bind
        .backlog
        .unwrap_or(default_backlog)
        .clamp(1, i32::MAX as u32) as i32;
    let mut out = Vec::new();
    for a in &bind.addrs {
        match a {
            BindAddr::Inet {
                ip,
                port_start,
                port_end,
            } => {
                for port in *port_start..=*port_end {
                    let sa = SocketAddr::new(*ip, port);
                    out.push(BoundListener::Tcp(
                        tcp(sa, bind, backlog, smart_accept).map_err(|e| {
                            io::Error::new(e.kind(), format!("cannot bind socket ({e}) for [{sa}]"))
                        })?,
                    ));
                }
            }
            BindAddr::Unix(p) => out.push(BoundListener::Unix(
                unix_path(p, bind, backlog).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot bind UNIX socket ({e}) [{}]", p.display()),
                    )
                })?,
            )),
            BindAddr::Abns(n) => out.push(BoundListener::Unix(abns(n, backlog).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot bind abns socket ({e}) [{n}]"))
            })?)),
            BindAddr::Fd(fd) => out.push(inherited(*fd).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot use inherited fd@{fd} ({e})"))
            })?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;

    /// The connections a TCP bind accepts have TCP_NODELAY without a `setsockopt` per
    /// connection: the listener has it, and Linux copies it to each accepted socket.
    #[test]
    fn accepted_connections_inherit_tcp_nodelay_from_the_bind() {
        let text = "frontend fe\n    bind 127.0.0.1:0\n";
        let l = crate::config::load_str("t.cfg", text, &crate::config::semantics::SyntaxOnly);
        let bind = &l.config.proxies[0].binds[0];
        let mut bound = bind_all(bind, 16, true).expect("bind");
        let Some(BoundListener::Tcp(listener)) = bound.pop() else {
            panic!("a TCP listener");
        };
        listener.set_nonblocking(false).unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(
            accepted.nodelay().unwrap(),
            "accepted socket without TCP_NODELAY"
        );
        // A listener handed over by file descriptor (`fd@`) gets it too.
        let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = plain.local_addr().unwrap();
        let Ok(BoundListener::Tcp(listener)) = inherited(plain.into_raw_fd()) else {
            panic!("a TCP listener");
        };
        listener.set_nonblocking(false).unwrap();
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(
            accepted.nodelay().unwrap(),
            "accepted socket without TCP_NODELAY"
        );
    }
}
