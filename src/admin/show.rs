//! The reading commands: `show info` (minimal), `show stat` (to be wired to the stats
//! module), `show servers state`, `show backend`, `show errors`, `show sess`, and
//! `clear counters`.

use super::session::Outcome;
use super::table::need;
use super::{Level, api::Api};
use crate::runtime::health::CheckStatus;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// What the stats module writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// `show info [json|typed|desc|float]`.
    Info,
    /// `show stat [json|typed|desc|up|no-maint]`.
    Stat,
}

/// WIRE-STATS: the single call site of the stats module (`src/stats`: HAProxy's
/// `show info` and `show stat` in every form, CSV and JSON, over the live-state
/// store), which is not on main yet. It answers `None` until then; wiring it is
/// replacing this body with a call into `crate::stats`.
fn stats_module(_api: &Api, _report: Report, _args: &[String]) -> Option<String> {
    None
}

/// `show info`: the stats module's report when it is there, else the process's
/// identity, uptime and connection totals (plain form only).
pub fn info(api: &Api, args: &[String]) -> Outcome {
    if let Some(out) = stats_module(api, Report::Info, args) {
        return Outcome::text(out);
    }
    if !args.is_empty() {
        return Outcome::text(
            "'show info' options are not supported yet by gatehouse (the statistics are not served yet).\n",
        );
    }
    let snap = api.handle.current.load();
    let up = api.started.elapsed().unwrap_or_default().as_secs();
    let (conns, reqs) = snap.frontends.iter().fold((0, 0), |(c, r), f| {
        let k = &f.live.counters;
        (
            c + k.stot.load(Ordering::Relaxed),
            r + k.req_tot.load(Ordering::Relaxed),
        )
    });
    let mut o = String::new();
    let _ = write!(
        o,
        "Name: gatehouse\nVersion: {}\nRelease_date: -\nNbthread: {}\nNbproc: 1\n\
         Process_num: 1\nPid: {}\nUptime: {}d {}h{:02}m{:02}s\nUptime_sec: {up}\n\
         Maxconn: {}\nHard_maxconn: {}\nCurrConns: {}\nCumConns: {conns}\nCumReq: {reqs}\n\
         node: {}\nStopping: 0\n",
        crate::VERSION,
        snap.global.nbthread,
        std::process::id(),
        up / 86400,
        up / 3600 % 24,
        up / 60 % 60,
        up % 60,
        snap.global.maxconn,
        snap.global.maxconn,
        snap.global.actconn.load(Ordering::Relaxed),
        api.info().node,
    );
    Outcome::text(o)
}

/// `show stat [json|typed|…]`: the stats module's report.
pub fn stat(api: &Api, args: &[String]) -> Outcome {
    match stats_module(api, Report::Stat, args) {
        Some(out) => Outcome::text(out),
        None => Outcome::text(
            "'show stat' is not supported yet by gatehouse (the statistics are not served yet).\n",
        ),
    }
}

/// HAProxy's `healthcheck_status` number of a check outcome.
fn check_status_code(s: CheckStatus) -> u32 {
    match s {
        CheckStatus::Init => 1,
        CheckStatus::SockErr => 5,
        CheckStatus::L4Ok => 6,
        CheckStatus::L4Timeout => 7,
        CheckStatus::L4Con => 8,
        CheckStatus::L6Ok => 9,
        CheckStatus::L6Timeout => 10,
        CheckStatus::L6Rsp => 11,
        CheckStatus::L7Timeout => 12,
        CheckStatus::L7Rsp => 13,
        CheckStatus::L7Ok => 15,
        CheckStatus::L7Sts => 17,
    }
}

/// The header of `show servers state` (server-state file version 1).
pub const SERVERS_STATE_HEADER: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

/// `show servers state [<backend>]`: HAProxy's server-state file format, version 1.
pub fn servers_state(api: &Api, backend: &str) -> Outcome {
    let snap = api.handle.current.load();
    if !backend.is_empty() && !snap.backends.iter().any(|b| b.name == backend) {
        return Outcome::text("Can't find backend.\n");
    }
    let info = api.info();
    let mut o = String::from(SERVERS_STATE_HEADER);
    for b in snap
        .backends
        .iter()
        .filter(|b| backend.is_empty() || b.name == backend)
    {
        let be_id = info.proxy_ids.get(&b.name).copied().unwrap_or(0);
        for s in &b.servers {
            let si = info
                .servers
                .get(&(b.name.clone(), s.name.clone()))
                .cloned()
                .unwrap_or_default();
            let h = s.health.get();
            let maint = s.maint.load(Ordering::Relaxed);
            let up = s.up.load(Ordering::Relaxed);
            let op = if maint || !up { 0 } else { 2 };
            let hand = api.hand(&b.name, &s.name);
            // `disabled` in the configuration: HAProxy's forced and configured
            // maintenance flags (1 | 4), and its checks paused (8).
            let from_config = maint && s.disabled && !si.dynamic && !hand.admin;
            let admin = match (maint, from_config) {
                (false, _) => 0,
                (true, true) => 5,
                (true, false) => 1,
            };
            let since = h.last_change.unwrap_or(api.started);
            let since = SystemTime::now()
                .duration_since(since)
                .unwrap_or_default()
                .as_secs();
            let (status, result, health, state) = if si.check {
                let result = match h.last.status {
                    CheckStatus::Init => 0,
                    st if st.passed() => 3,
                    _ => 2,
                };
                (check_status_code(h.last.status), result, h.health, 6)
            } else {
                // HAProxy starts a configured server's health at `rise`, a dynamic
                // one's or one in maintenance at 0, and sets it to 0 when the server
                // enters maintenance.
                let first = if si.dynamic || maint { 0 } else { si.rise };
                (1, 0, hand.health.unwrap_or(first), 0)
            };
            let state = if from_config { state | 8 } else { state };
            let addr = s.current_addr();
            let shown_addr = match &s.unix {
                Some(p) => p.display().to_string(),
                None => addr.ip().to_string(),
            };
            let _ = writeln!(
                o,
                "{be_id} {} {} {} {shown_addr} {op} {admin} {} {} {since} {status} {result} {health} {state} 0 0 0 {} {} - 0 {} {} - 0",
                b.name,
                s.id + 1,
                s.name,
                s.cur_weight(),
                s.config_weight,
                si.fqdn.as_deref().unwrap_or("-"),
                addr.port(),
                si.check_port.unwrap_or(0),
                si.check_addr.as_deref().unwrap_or("-"),
            );
        }
    }
    Outcome::text(o)
}

/// `show backend`: the backends' names, in configuration order.
pub fn backends(api: &Api) -> Outcome {
    let snap = api.handle.current.load();
    let mut o = String::from("# name\n");
    for b in &snap.backends {
        o.push_str(&b.name);
        o.push('\n');
    }
    Outcome::text(o)
}

/// `show errors`: gatehouse keeps no capture of invalid messages yet, so the list is
/// empty, in HAProxy's format.
pub fn errors(level: Level) -> Outcome {
    if let Some(denied) = need(level, Level::Operator) {
        return denied;
    }
    let (secs, us) = crate::log::time::split(SystemTime::now());
    let mut date = String::new();
    crate::log::time::write_date_ms(&mut date, &crate::log::time::local(secs), us);
    Outcome::text(format!("Total events captured on [{date}] : 0\n"))
}

/// `show sess`: sessions are not tracked one by one yet; the list is empty.
pub fn sessions(level: Level) -> Outcome {
    if let Some(denied) = need(level, Level::Operator) {
        return denied;
    }
    Outcome::text("")
}

/// `clear counters [all]`: the maxima (operator), or every counter (admin).
pub fn clear_counters(api: &Api, level: Level, all: bool) -> Outcome {
    if let Some(denied) = need(level, if all { Level::Admin } else { Level::Operator }) {
        return denied;
    }
    let snap = api.handle.current.load();
    let clear = |c: &crate::runtime::counters::Counters| {
        if all { c.clear_all() } else { c.clear_max() }
    };
    for f in &snap.frontends {
        clear(&f.live.counters);
    }
    for b in &snap.backends {
        clear(&b.counters);
        for s in &b.servers {
            clear(&s.counters);
        }
    }
    Outcome::text("")
}
