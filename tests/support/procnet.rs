//! The kernel's view of TCP sockets (`/proc/net/tcp`): state and pending timer of each
//! IPv4 socket, to observe from outside what a proxy did to its own sockets
//! (SO_KEEPALIVE arms the keep-alive timer; SO_LINGER 0 leaves no FIN-WAIT socket).

use std::net::{Ipv4Addr, SocketAddrV4};

/// TCP states as `/proc/net/tcp` numbers them.
pub const ESTABLISHED: u8 = 0x01;
/// A connect in progress: our SYN sent, no answer yet.
pub const SYN_SENT: u8 = 0x02;
/// Our FIN was acknowledged, waiting for the peer's.
pub const FIN_WAIT2: u8 = 0x05;
/// The peer closed, we have not.
pub const CLOSE_WAIT: u8 = 0x08;
/// A listening socket.
pub const LISTEN: u8 = 0x0A;

/// One row of `/proc/net/tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpRow {
    /// Local address.
    pub local: SocketAddrV4,
    /// Remote address.
    pub remote: SocketAddrV4,
    /// State (see the constants).
    pub state: u8,
    /// Receive queue: bytes not yet read, or for a listening socket the connections
    /// waiting in its accept queue.
    pub rx_queue: u32,
    /// Active timer: 0 none, 1 retransmit, 2 keep-alive (or another sk timer),
    /// 3 TIME_WAIT, 4 zero-window probe.
    pub timer: u8,
}

fn addr(hex: &str) -> Option<SocketAddrV4> {
    let (ip, port) = hex.split_once(':')?;
    // The address is the 32-bit value in host (little-endian) order.
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(SocketAddrV4::new(Ipv4Addr::from(ip.swap_bytes()), port))
}

/// Every IPv4 TCP socket of this network namespace.
pub fn tcp_sockets() -> Vec<TcpRow> {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some(TcpRow {
                local: addr(f.get(1)?)?,
                remote: addr(f.get(2)?)?,
                state: u8::from_str_radix(f.get(3)?, 16).ok()?,
                rx_queue: u32::from_str_radix(f.get(4)?.split(':').nth(1)?, 16).ok()?,
                timer: f.get(5)?.split(':').next()?.parse().ok()?,
            })
        })
        .collect()
}

/// The socket whose local port is `local_port` and remote port `remote_port`.
pub fn find(local_port: u16, remote_port: u16) -> Option<TcpRow> {
    tcp_sockets()
        .into_iter()
        .find(|r| r.local.port() == local_port && r.remote.port() == remote_port)
}

/// How many sockets listen on 127.0.0.1:`port` (several with SO_REUSEPORT).
pub fn listeners(port: u16) -> usize {
    tcp_sockets()
        .iter()
        .filter(|r| r.state == LISTEN && r.local == SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
        .count()
}

/// Waits until no socket is still ESTABLISHED with 127.0.0.1:`port` as its peer (the
/// server there closed, and its FIN reached every connection to it, including a
/// proxy's idle ones); false after `timeout`.
pub fn wait_peer_closed(port: u16, timeout: std::time::Duration) -> bool {
    let peer = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    super::wait_until(timeout, || {
        !tcp_sockets()
            .iter()
            .any(|r| r.remote == peer && r.state == ESTABLISHED)
    })
}

/// Connections waiting in the accept queues of the sockets listening on
/// 127.0.0.1:`port`: completed by the kernel, not (yet) accepted by the process.
pub fn accept_queue(port: u16) -> u32 {
    tcp_sockets()
        .iter()
        .filter(|r| r.state == LISTEN && r.local == SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
        .map(|r| r.rx_queue)
        .sum()
}
