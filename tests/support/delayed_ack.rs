//! Whether a listener delays the ACK of a request until its response
//! (`option tcp-smart-accept`, TCP_DEFER_ACCEPT/QUICKACK off), seen from the client:
//! its request segment is still unacknowledged shortly after it was sent.

use std::io::Write;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use super::local;

/// Probes per verdict: the majority decides, so that one probe delayed by a busy
/// machine (the delayed ACK fires after 40 ms) cannot.
pub const PROBES: usize = 7;

/// The client's unacknowledged segments 2 ms after it sent a request on a new
/// connection to `port` (the server never answers).
pub fn unacked_after_request(port: u16) -> u32 {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    s.set_nodelay(true).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(2));
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: getsockopt(TCP_INFO) on an open socket into a tcp_info of `len` bytes.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0, "getsockopt(TCP_INFO)");
    info.tcpi_unacked
}

/// Whether most of [`PROBES`] requests to `port` waited for the response to carry
/// their ACK.
pub fn ack_is_delayed(port: u16) -> bool {
    let delayed = (0..PROBES)
        .filter(|_| unacked_after_request(port) == 1)
        .count();
    delayed * 2 > PROBES
}
