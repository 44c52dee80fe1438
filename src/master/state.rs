//! Live state across a process handoff (`-x`): the new process reads the old one's
//! `show servers state` (HAProxy's server-state file format, version 1) and `show
//! stat` (the CSV) over the same stats socket that handed it the listening sockets,
//! and loads them into its own live-state store before it accepts: administrative
//! state (maintenance, drain), operational state of checked servers, weights and
//! addresses set at runtime, and the `show stat` counters. What the old process counts
//! after the dump (the requests it finishes) is not carried over.

use crate::runtime::live::Store;
use crate::runtime::server::AdminState;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Sends `cmd` to the stats socket at `path` and returns the whole reply.
pub fn ask(path: &Path, cmd: &str) -> io::Result<String> {
    let mut s = std::os::unix::net::UnixStream::connect(path)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(cmd.as_bytes())?;
    s.write_all(b"\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// The old process's state, read through its stats socket at `path`: its `show
/// servers state` and its `show stat`.
pub fn fetch(path: &Path) -> io::Result<Vec<String>> {
    Ok(vec![
        ask(path, "show servers state")?,
        ask(path, "show stat")?,
    ])
}

/// Loads what [`fetch`] read into `store` (the proxy's [`crate::proxy::serve::Inherit`]
/// hook: called once the store holds the new configuration, before accepting).
pub fn apply(store: &Store, dumps: &[String]) {
    if let Some(state) = dumps.first() {
        servers_state(store, state);
    }
    if let Some(csv) = dumps.get(1) {
        counters(store, csv);
    }
}

/// Applies a `show servers state` dump (version 1) to the servers of the same backend
/// and name.
pub fn servers_state(store: &Store, text: &str) {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("1") {
        return;
    }
    for line in lines {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 19 {
            continue;
        }
        let (be, name) = (f[1], f[3]);
        let num = |i: usize| f[i].parse::<u32>().ok();
        let Some(backend) = store.find_backend(be) else {
            continue;
        };
        let Some(server) = backend.find_server(name) else {
            continue;
        };
        let (op, admin) = (num(5).unwrap_or(2), num(6).unwrap_or(0));
        // SRV_ADMF_FMAINT (1) set by hand, SRV_ADMF_CMAINT (4) from `disabled`: the new
        // configuration decides the latter.
        let to = if admin & 1 != 0 && admin & 4 == 0 {
            Some(AdminState::Maint)
        } else if admin & 8 != 0 {
            Some(AdminState::Drain)
        } else {
            None
        };
        if let Some(to) = to {
            store.set_admin(be, name, to);
        }
        // A checked server that was down stays down until its checks say otherwise
        // (srv_check_state 6: checks enabled and running).
        let checked = num(13).is_some_and(|st| st & 2 != 0);
        if checked && op == 0 && admin & 1 == 0 {
            store.set_health(be, name, false, num(12).unwrap_or(0));
        }
        // A runtime weight, unless the new configuration changed the configured one.
        if let (Some(uw), Some(iw)) = (num(7), num(8))
            && uw != iw
            && iw == server.initial_weight()
        {
            store.set_weight(be, name, uw);
        }
        // A runtime address (not for unix-socket servers).
        if let (Ok(ip), Some(port)) = (f[4].parse::<IpAddr>(), num(18))
            && let Some(cur) = backend.current()
            && let Some(st) = cur.servers.iter().find(|s| s.name == name)
            && st.unix.is_none()
        {
            let addr = SocketAddr::new(ip, port as u16);
            if addr != st.addr {
                server.set_addr(addr);
            }
        }
    }
}

/// The `show stat` counters that add up over a process's life, carried over.
const SUMS: &[&str] = &[
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "req_tot",
    "lbtot",
    "intercepted",
    "cli_abrt",
    "srv_abrt",
];

/// Adds the counters of a `show stat` CSV to the frontends, backends and servers of the
/// same names.
pub fn counters(store: &Store, csv: &str) {
    let mut lines = csv.lines();
    let Some(header) = lines.next().and_then(|h| h.strip_prefix("# ")) else {
        return;
    };
    let cols: Vec<&str> = header.split(',').collect();
    let col = |n: &str| cols.iter().position(|c| *c == n);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 2 {
            continue;
        }
        let (px, sv) = (f[0], f[1]);
        let c = match sv {
            "FRONTEND" => store.find_frontend(px).map(Counted::Fe),
            "BACKEND" => store.find_backend(px).map(Counted::Be),
            _ => store
                .find_backend(px)
                .and_then(|b| b.find_server(sv))
                .map(Counted::Srv),
        };
        let Some(c) = c else {
            continue;
        };
        let counters = c.counters();
        let val = |n: &str| {
            col(n)
                .and_then(|i| f.get(i))
                .and_then(|v| v.parse::<u64>().ok())
        };
        for name in SUMS {
            if let (Some(v), Some(a)) = (val(name), field(counters, name)) {
                a.fetch_add(v, Ordering::Relaxed);
            }
        }
        for (i, class) in ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx"]
            .iter()
            .enumerate()
        {
            if let Some(v) = val(class) {
                counters.hrsp.add(i as u32 + 1, v);
            }
        }
        if let Some(v) = val("hrsp_other") {
            counters.hrsp.add(0, v);
        }
        let max = |a: &AtomicU32, n: &str| {
            if let Some(v) = val(n) {
                a.fetch_max(v.min(u32::MAX as u64) as u32, Ordering::Relaxed);
            }
        };
        max(&counters.smax, "smax");
        max(&counters.qmax, "qmax");
        max(&counters.sess_rate_max, "rate_max");
        max(&counters.req_rate_max, "req_rate_max");
    }
}

/// A frontend's, backend's or server's live state.
enum Counted {
    Fe(std::sync::Arc<crate::runtime::live::FrontendLive>),
    Be(std::sync::Arc<crate::runtime::live::BackendLive>),
    Srv(std::sync::Arc<crate::runtime::server::ServerLive>),
}

impl Counted {
    fn counters(&self) -> &crate::runtime::counters::Counters {
        match self {
            Counted::Fe(f) => &f.counters,
            Counted::Be(b) => &b.counters,
            Counted::Srv(s) => &s.counters,
        }
    }
}

fn field<'a>(c: &'a crate::runtime::counters::Counters, name: &str) -> Option<&'a AtomicU64> {
    Some(match name {
        "stot" => &c.stot,
        "bin" => &c.bin,
        "bout" => &c.bout,
        "dreq" => &c.dreq,
        "dresp" => &c.dresp,
        "ereq" => &c.ereq,
        "econ" => &c.econ,
        "eresp" => &c.eresp,
        "wretr" => &c.wretr,
        "wredis" => &c.wredis,
        "req_tot" => &c.req_tot,
        "lbtot" => &c.lbtot,
        "intercepted" => &c.intercepted,
        "cli_abrt" => &c.cli_abrt,
        "srv_abrt" => &c.srv_abrt,
        _ => return None,
    })
}
