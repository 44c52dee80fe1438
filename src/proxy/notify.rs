//! `-Ws`: systemd's notify protocol (`sd_notify(3)`), as HAProxy's master speaks it: one
//! datagram to the unix socket named by `$NOTIFY_SOCKET` (a path, or `@name` for an
//! abstract socket) with `READY=1` once the listeners accept, `RELOADING=1` when a
//! reload starts and `READY=1` again when it is over (successful or not: the running
//! configuration serves either way).

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The `READY=1` message, with this process as the service's main pid.
pub fn ready_message() -> String {
    format!("READY=1\nMAINPID={}\nSTATUS=Ready.\n", std::process::id())
}

/// The message a reload starts with.
pub const RELOADING: &str = "RELOADING=1\nSTATUS=Reloading Configuration.\n";

/// Sends `msg` to `$NOTIFY_SOCKET`; nothing when the variable is not set (not started
/// by systemd).
pub fn notify(msg: &str) -> io::Result<()> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(());
    };
    let path = path.to_string_lossy().into_owned();
    let addr = match path.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name.as_bytes())?
        }
        None => SocketAddr::from_pathname(&path)?,
    };
    let sock = UnixDatagram::unbound()?;
    sock.send_to_addr(msg.as_bytes(), &addr)?;
    Ok(())
}
