//! `server-state-file`, `server-state-base`, `load-server-state-from-file`,
//! `server-state-file-name`: a new process starts its servers from the states an old
//! one wrote with `show servers state` (version 1), as HAProxy 2.6's
//! `apply_server_state` does — operational and admin states, runtime weights, the
//! port (and the address of servers named by a host name), checks disabled at runtime.
//!
//! What the configuration changed wins over the file: a weight is restored only when
//! the configured weight is the one the file was written with, maintenance only when
//! `disabled` did not change. The file is read when the process starts; an in-place
//! reload keeps the live state of the servers that remain, and the file seeds only the
//! servers new to the process.

use super::server::ServerState;
use super::snapshot::Snapshot;
use crate::config::model::{Config, LoadServerState, Proxy, Server, ServerAddr};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

/// HAProxy's `SRV_STATE_FILE_MIN_FIELDS_VERSION_1` and `…MAX…`.
const MIN_FIELDS: usize = 20;
const MAX_FIELDS: usize = 25;

/// HAProxy's admin flags kept in a state file (`SRV_ADMF_*`).
const FMAINT: u32 = 0x01;
const CMAINT: u32 = 0x04;
const FDRAIN: u32 = 0x08;
/// Inherited and resolver flags, recomputed: `IMAINT`, `IDRAIN`, `RMAINT`,
/// `FQDN_CHANGED`.
const RECOMPUTED: u32 = 0x02 | 0x10 | 0x20 | 0x80;
/// Check state flags (`CHK_ST_*`).
pub const CHK_CONFIGURED: u32 = 0x02;
/// The check runs (`enable health|agent`).
pub const CHK_ENABLED: u32 = 0x04;

/// A message for the log at start, as HAProxy prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// A warning (else a notice).
    pub warning: bool,
    /// The text, without HAProxy's `[WARNING]  (pid) : config : ` prefix.
    pub text: String,
}

fn warn(text: String) -> Notice {
    Notice {
        warning: true,
        text,
    }
}

fn notice(text: String) -> Notice {
    Notice {
        warning: false,
        text,
    }
}

/// HAProxy's `srv_state_get_filepath`: absolute names as they are, others under
/// `server-state-base` when it is set.
fn file_path(config: &Config, name: &str) -> String {
    match &config.global.server_state_base {
        Some(base) if !name.starts_with('/') => {
            let sep = if base.ends_with('/') { "" } else { "/" };
            format!("{base}{sep}{name}")
        }
        _ => name.to_owned(),
    }
}

/// One file's lines, by `(backend, server)`; the first line of a key wins.
type Lines = HashMap<(String, String), Vec<String>>;

/// What reading a state file gave: its lines, or nothing (with the reason logged).
enum Read {
    Lines(Vec<Vec<String>>),
    Nothing,
}

/// Reads a state file as HAProxy does: the version line, then lines of 20 to 25
/// fields (blank lines and `#` comments skipped); one malformed line drops the file.
/// `what` names the file in messages (`global server state file`, or the proxy's
/// local one), `corrupted` formats the message for a bad line.
fn read(
    path: &str,
    open_err: impl Fn(&str) -> String,
    empty: impl Fn() -> String,
    no_version: impl Fn() -> String,
    corrupted: impl Fn(usize) -> String,
    out: &mut Vec<Notice>,
) -> Read {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let why = crate::config::strerror(&e);
            let n = open_err(&why);
            out.push(if e.kind() == std::io::ErrorKind::NotFound {
                notice(n)
            } else {
                warn(n)
            });
            return Read::Nothing;
        }
    };
    let mut lines = text.split_inclusive('\n');
    match lines.next() {
        None => {
            out.push(notice(empty()));
            return Read::Nothing;
        }
        Some(first) => {
            let digits = first.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || &first[digits..] != "\n" || first[..digits].parse() != Ok(1u32) {
                out.push(warn(no_version()));
                return Read::Nothing;
            }
        }
    }
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let Some(body) = line.strip_suffix('\n') else {
            out.push(warn(corrupted(n + 1)));
            return Read::Nothing;
        };
        let body = body.trim_start_matches([' ', '\t']);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let fields: Vec<String> = body
            .split([' ', '\t'])
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        if !(MIN_FIELDS..=MAX_FIELDS).contains(&fields.len()) {
            out.push(warn(corrupted(n + 1)));
            return Read::Nothing;
        }
        rows.push(fields);
    }
    Read::Lines(rows)
}

fn keyed(rows: Vec<Vec<String>>) -> Lines {
    let mut m = Lines::new();
    for r in rows {
        m.entry((r[1].clone(), r[3].clone())).or_insert(r);
    }
    m
}

/// Applies the server-state files of `config` to the servers of `snap` for which
/// `wanted(backend, server)` holds; returns the messages to log.
pub fn apply(config: &Config, snap: &Snapshot, wanted: impl Fn(&str, &str) -> bool) -> Vec<Notice> {
    let mut out = Vec::new();
    let backends: Vec<&Proxy> = config
        .proxies
        .iter()
        .filter(|p| p.kind.has_backend() && p.load_server_state != LoadServerState::None)
        .filter(|p| {
            p.servers
                .iter()
                .any(|s| wanted(&p.name, &s.name) && snap_server(snap, &p.name, &s.name).is_some())
        })
        .collect();
    if backends.is_empty() {
        return out;
    }
    let global = match &config.global.server_state_file {
        Some(f)
            if backends
                .iter()
                .any(|p| p.load_server_state == LoadServerState::Global) =>
        {
            let path = file_path(config, f);
            match read(
                &path,
                |why| format!("config: Can't open global server state file '{path}': {why}"),
                || format!("config: Empty global server state file '{path}'."),
                || format!("config: Can't get version of the global server state file '{path}'."),
                |n| format!("config: corrupted global server state file '{path}' at line {n}."),
                &mut out,
            ) {
                Read::Lines(rows) => keyed(rows),
                Read::Nothing => Lines::new(),
            }
        }
        _ => Lines::new(),
    };
    for p in backends {
        let uuid = snap
            .proxies
            .iter()
            .find(|m| m.backend && m.name == p.name)
            .map_or(0, |m| m.uuid);
        let mut local = match p.load_server_state {
            LoadServerState::Local => {
                let name = p.server_state_file_name.as_deref().unwrap_or(&p.name);
                let path = file_path(config, name);
                let px = &p.name;
                let rows = match read(
                    &path,
                    |why| format!("Proxy '{px}': Can't open server state file '{path}': {why}."),
                    || format!("Proxy '{px}': Empty server state file '{path}'."),
                    || {
                        format!(
                            "Proxy '{px}': Can't get version of the server state file '{path}'."
                        )
                    },
                    |n| format!("Proxy '{px}': corrupted server state file '{path}' at line {n}."),
                    &mut out,
                ) {
                    Read::Lines(rows) => rows,
                    Read::Nothing => continue,
                };
                let mut kept = Vec::new();
                for mut r in rows {
                    let id_ok = r[0].parse::<u32>().ok() == Some(uuid);
                    let name_ok = r[1] == *px;
                    if !id_ok && !name_ok {
                        continue;
                    }
                    if !id_ok {
                        out.push(warn(format!(
                            "Proxy '{px}': backend ID mismatch: from server state file: '{}', from running config '{uuid}'",
                            r[0]
                        )));
                    } else if !name_ok {
                        out.push(warn(format!(
                            "Proxy '{px}': backend name mismatch: from server state file: '{}', from running config '{px}'",
                            r[1]
                        )));
                        continue;
                    }
                    r[1] = px.clone();
                    kept.push(r);
                }
                Some(keyed(kept))
            }
            _ => None,
        };
        let mut touched = false;
        for s in &p.servers {
            let key = (p.name.clone(), s.name.clone());
            let line = match &mut local {
                Some(l) => l.remove(&key),
                None => global.get(&key).cloned(),
            };
            let (Some(line), Some(st)) = (line, snap_server(snap, &p.name, &s.name)) else {
                continue;
            };
            if !wanted(&p.name, &s.name) {
                continue;
            }
            let was_up = st.up.load(Ordering::Relaxed) && !st.maint.load(Ordering::Relaxed);
            if let Err(m) = update(&st, s, &line[4..]) {
                out.push(warn(format!(
                    "server-state application failed for server '{}/{}'{m}",
                    p.name, s.name
                )));
            }
            touched = true;
            if was_up && !st.up.load(Ordering::Relaxed) {
                out.push(warn(down_message(snap, &p.name, &s.name)));
            }
        }
        for (_, srv) in local.into_iter().flatten() {
            out.push(warn(format!(
                "Proxy '{0}': can't find server '{1}' in backend '{0}'",
                p.name, srv[3]
            )));
        }
        if touched && let Some(b) = snap.backends.iter().find(|b| b.name == p.name) {
            b.balancer.refresh();
        }
    }
    out
}

/// HAProxy's message for a server the file took down, with the servers left at that
/// point (those applied after it still count as they started).
fn down_message(snap: &Snapshot, backend: &str, server: &str) -> String {
    let (mut active, mut backup) = (0, 0);
    if let Some(b) = snap.backends.iter().find(|b| b.name == backend) {
        for s in b.servers.iter().filter(|s| s.running()) {
            if s.backup {
                backup += 1;
            } else {
                active += 1;
            }
        }
    }
    format!(
        "Server {backend}/{server} is DOWN, changed from server-state after a reload. {active} active and {backup} backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
    )
}

fn snap_server(
    snap: &Snapshot,
    backend: &str,
    server: &str,
) -> Option<std::sync::Arc<ServerState>> {
    snap.backends
        .iter()
        .find(|b| b.name == backend)?
        .servers
        .iter()
        .find(|s| s.name == server)
        .cloned()
}

/// `strtol` of a whole field, as HAProxy validates them.
fn num(v: &str) -> Option<i64> {
    v.parse().ok()
}

/// HAProxy's `srv_state_srv_update` for one server: the fields after the server's
/// name. Nothing is applied when a field is invalid (the message lists them).
fn update(st: &ServerState, conf: &Server, f: &[String]) -> Result<(), String> {
    let field = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
    let mut msg = String::new();
    let mut bad =
        |name: &str, i: usize| msg.push_str(&format!(", invalid {name} value '{}'", field(i)));
    let op = num(field(1)).filter(|v| (0..=3).contains(v));
    if op.is_none() {
        bad("srv_op_state", 1);
    }
    let admin = num(field(2)).map(|v| v as u32 & !RECOMPUTED);
    let admin_ok =
        admin.filter(|a| [0, FMAINT, CMAINT, CMAINT | FMAINT, CMAINT | FDRAIN, FDRAIN].contains(a));
    if admin_ok.is_none() {
        bad("srv_admin_state", 2);
    }
    let uweight = num(field(3)).filter(|w| (0..=256).contains(w));
    if uweight.is_none() {
        bad("srv_uweight", 3);
    }
    let iweight = num(field(4)).filter(|w| (0..=256).contains(w));
    if iweight.is_none() {
        bad("srv_iweight", 4);
    }
    let since = num(field(5));
    if since.is_none() {
        bad("srv_last_time_change", 5);
    }
    if num(field(6)).is_none_or(|v| !(0..=24).contains(&v)) {
        bad("srv_check_status", 6);
    }
    if num(field(7)).is_none_or(|v| !(0..=4).contains(&v)) {
        bad("srv_check_result", 7);
    }
    if num(field(8)).is_none() {
        bad("srv_check_health", 8);
    }
    let check_state = num(field(9)).filter(|v| v & !0x1f == 0);
    if check_state.is_none() {
        bad("srv_check_state", 9);
    }
    let agent_state = num(field(10)).filter(|v| v & !0x1f == 0);
    if agent_state.is_none() {
        bad("srv_agent_state", 10);
    }
    for (i, name) in [(11, "bk_f_forced_id"), (12, "srv_f_forced_id")] {
        if !matches!(field(i), "0" | "1") {
            bad(name, i);
        }
    }
    let port = match field(14) {
        "" => None,
        p => {
            let digits = p.bytes().take_while(u8::is_ascii_digit).count();
            let v: u64 = p[..digits].parse().unwrap_or(0);
            if v > u64::from(u16::MAX) {
                bad("srv_port", 14);
                None
            } else {
                Some(v as u16)
            }
        }
    };
    if !msg.is_empty() {
        return Err(msg);
    }
    let (Some(op), Some(admin), Some(uweight), Some(iweight), Some(since)) =
        (op, admin_ok, uweight, iweight, since)
    else {
        return Err(msg);
    };
    let o = &conf.opts;
    let (rise, fall) = (o.rise.max(1), o.fall.max(1));
    let full = rise + fall - 1;
    // The operational state (HAProxy's STARTING and STOPPING, which gatehouse does
    // not have, count as running).
    let file_health = num(field(8)).unwrap_or(0).max(0) as u32;
    let (up, health) = match op {
        0 => (false, 0),
        1 if rise == 1 => (true, full),
        1 => (true, rise),
        3 if fall == 1 => (false, 0),
        3 => (
            true,
            file_health.clamp(rise, full.saturating_sub(1).max(rise)),
        ),
        _ => (true, full),
    };
    let last_change = SystemTime::now()
        .checked_sub(Duration::from_secs(since.max(0) as u64))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let disabled_check = o.check
        && check_state
            .is_some_and(|c| c as u32 & CHK_CONFIGURED != 0 && c as u32 & CHK_ENABLED == 0);
    let disabled_agent = o.agent_check
        && agent_state
            .is_some_and(|c| c as u32 & CHK_CONFIGURED != 0 && c as u32 & CHK_ENABLED == 0);
    st.health.update(|h| {
        if o.check {
            h.enabled = true;
            h.rise = rise;
            h.health = health;
        }
        h.last_change = Some(last_change);
        if let Some(st) =
            num(field(6)).and_then(|c| super::health::CheckStatus::from_code(c as u32))
        {
            h.last.status = st;
        }
        if disabled_check {
            h.paused = true;
        }
        if disabled_agent {
            h.agent.paused = true;
        }
    });
    st.up.store(up, Ordering::Relaxed);
    // The admin state: a change of `disabled` in the configuration wins; else the
    // maintenance forced at runtime is restored, and drain on a server not in
    // maintenance.
    let conf_cmaint = st.disabled;
    let mut maint = st.maint.load(Ordering::Relaxed);
    if (admin & CMAINT != 0) != conf_cmaint {
        maint = conf_cmaint;
    } else if admin & FMAINT != 0 && !conf_cmaint {
        maint = true;
    } else if admin & FMAINT == 0 && conf_cmaint {
        maint = false;
    }
    st.maint.store(maint, Ordering::Relaxed);
    let drain = !maint && admin & FDRAIN != 0 && (iweight > 0 || st.config_weight == 0);
    st.drain.store(drain, Ordering::Relaxed);
    if maint {
        st.pool.clear();
    }
    // The runtime weight, unless the configured one changed.
    if iweight as u32 == st.config_weight {
        st.weight.store(uweight as u32, Ordering::Relaxed);
    }
    // The port always; the address only for a server named by a host name (HAProxy's
    // `init-addr last`).
    if st.unix.is_none() {
        let mut addr = st.current_addr();
        if let Some(p) = port {
            addr.set_port(p);
        }
        let named = matches!(&conf.addr, ServerAddr::Inet { host, .. }
            if host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_err());
        if named && let Ok(ip) = field(0).parse::<IpAddr>() {
            addr.set_ip(ip);
        }
        if addr != st.current_addr() {
            st.live.set_addr(SocketAddr::new(addr.ip(), addr.port()));
        }
    }
    Ok(())
}
