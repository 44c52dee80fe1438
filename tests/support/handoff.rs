//! Process handoffs under load, as `tests/handoff.rs` (`-sf`) and
//! `tests/master_worker.rs` (`-x` through the stats socket) run them: generation `n`
//! of the configuration answers with `X-Gen: gen-n`, each new process takes over from
//! the last while clients send without pause.

use std::net::SocketAddr;
use std::time::Duration;

use super::client::HttpClient;
use super::daemon::Daemon;
use super::load::Load;
use super::wait_until;

/// The ceiling of each wait on a handoff's events (the old process exiting, the new
/// one serving, the clients going on): generous, for a loaded machine.
pub const HANDOFF_WAIT: Duration = Duration::from_secs(20);

/// One fresh request to `addr`; the response's `X-Gen`.
pub fn generation(addr: SocketAddr) -> Option<String> {
    let mut c = HttpClient::connect(addr).ok()?;
    let r = c.get("/probe", &[]).ok()?;
    Some(r.header("x-gen")?.to_owned())
}

/// Handoffs 1 to `count` while `load` runs against `addr`: `replace(n, &old)` starts
/// the process of generation `n` taking over from `old`. The old process must finish
/// what it has and exit 0 by itself, the new one serve `gen-n`, and the clients go on
/// (ten more successful requests). Returns the last process.
pub fn handoffs(
    mut old: Daemon,
    count: usize,
    addr: SocketAddr,
    load: &Load,
    mut replace: impl FnMut(usize, &Daemon) -> Daemon,
) -> Daemon {
    for n in 1..=count {
        let before = load.ok();
        let new = replace(n, &old);
        let status = old.wait_exit(HANDOFF_WAIT);
        assert!(
            status.is_some_and(|s| s.success()),
            "handoff {n}: old process did not end cleanly ({status:?}); stderr:\n{}",
            old.stderr()
        );
        old = new;
        assert!(
            wait_until(HANDOFF_WAIT, || generation(addr)
                .is_some_and(|g| g == format!("gen-{n}"))),
            "handoff {n}: the new process does not serve; stderr:\n{}",
            old.stderr()
        );
        assert!(
            wait_until(HANDOFF_WAIT, || load.ok() > before + 10),
            "handoff {n}: the clients stalled"
        );
    }
    old
}
