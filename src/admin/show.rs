//! The reading commands: `show info` and `show stat` (written by the stats module),
//! `show servers state`, `show backend`, `show errors`, `show sess`, and `clear
//! counters`.

use super::session::Outcome;
use super::table::need;
use super::{Level, api::Api};
use crate::runtime::health::CheckStatus;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// `show info [json|typed|desc|float]`: the stats module's process fields.
pub fn info(api: &Api, args: &[String]) -> Outcome {
    let snap = api.handle.current.load();
    let has = |w: &str| args.iter().any(|a| a == w);
    let mut out = String::new();
    if has("json") {
        crate::stats::write_info_json(&mut out, &snap);
    } else if has("typed") {
        crate::stats::write_info_typed(&mut out, &snap);
    } else {
        crate::stats::write_info(&mut out, &snap);
    }
    Outcome::text(out)
}

/// `show stat [json|typed|up|no-maint|desc]`: the stats module's lines; addresses
/// and algorithms are shown from the `operator` level on, as HAProxy.
pub fn stat(api: &Api, level: Level, args: &[String]) -> Outcome {
    use crate::stats::model::SrvState;
    let snap = api.handle.current.load();
    let has = |w: &str| args.iter().any(|a| a == w);
    let opts = crate::stats::Options {
        legends: level >= Level::Operator,
        scope: Vec::new(),
    };
    let mut rows = crate::stats::rows(&snap, &opts);
    if has("up") {
        rows.retain(|r| r.state.is_none_or(|s| s == SrvState::Up));
    }
    if has("no-maint") {
        rows.retain(|r| r.state != Some(SrvState::Maint));
    }
    let mut out = String::new();
    if has("json") {
        crate::stats::write_json(&mut out, &rows);
    } else if has("typed") {
        crate::stats::write_typed(&mut out, &rows);
    } else {
        crate::stats::write_csv(&mut out, &rows);
    }
    Outcome::text(out)
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
        let be_id = snap
            .proxies
            .iter()
            .find(|m| m.backend && m.name == b.name)
            .map_or(0, |m| m.uuid);
        for s in &b.servers {
            let si = info
                .servers
                .get(&(b.name.clone(), s.name.clone()))
                .cloned()
                .unwrap_or_default();
            let h = s.health.get();
            let maint = s.maint.load(Ordering::Relaxed);
            let up = s.up.load(Ordering::Relaxed);
            // SRV_ST_STOPPED 0, SRV_ST_RUNNING 2, SRV_ST_STOPPING 3.
            let op = if maint || !up {
                0
            } else if s.stopping.load(Ordering::Relaxed) {
                3
            } else {
                2
            };
            let hand = api.hand(&b.name, &s.name);
            // HAProxy's admin flags: forced maintenance (1), `disabled` in the
            // configuration (4, kept after the server was put in service), forced
            // drain (8).
            let configured_off = s.disabled && !si.dynamic;
            let drain = s.drain.load(Ordering::Relaxed);
            let admin =
                u32::from(maint) | if configured_off { 4 } else { 0 } | if drain { 8 } else { 0 };
            let since = h.last_change.unwrap_or_else(crate::stats::info::started);
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
                (
                    h.last.status.code(),
                    result,
                    h.health,
                    if h.paused { 2 } else { 6 },
                )
            } else {
                // HAProxy starts a configured server's health at `rise`, a dynamic
                // one's or one in maintenance at 0, and sets it to 0 when the server
                // enters maintenance.
                let first = if si.dynamic || maint { 0 } else { si.rise };
                (1, 0, hand.health.unwrap_or(first), 0)
            };
            let state = if configured_off { state | 8 } else { state };
            // HAProxy's agent check flags: configured, enabled unless `disable agent`,
            // agent.
            let agent = match (h.agent.enabled, h.agent.paused) {
                (false, _) => 0,
                (true, false) => 0x16,
                (true, true) => 0x12,
            };
            let addr = s.current_addr();
            let shown_addr = match &s.unix {
                Some(p) => p.display().to_string(),
                None => addr.ip().to_string(),
            };
            let _ = writeln!(
                o,
                "{be_id} {} {} {} {shown_addr} {op} {admin} {} {} {since} {status} {result} {health} {state} {agent} 0 0 {} {} - 0 {} {} - 0",
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

/// HAProxy's `human_time`: at most two units (`3s`, `2m5s`, `1h2m`, `3d4h`).
fn human_time(t: u64) -> String {
    let (day, hour, minute) = (86400, 3600, 60);
    let mut out = String::new();
    let mut cnt = 2;
    if t >= day {
        out.push_str(&format!("{}d", t / day));
        cnt -= 1;
    }
    if cnt > 0 && t % day / hour > 0 {
        out.push_str(&format!("{}h", t % day / hour));
        cnt -= 1;
    }
    if cnt > 0 && t % hour / minute > 0 {
        out.push_str(&format!("{}m", t % hour / minute));
        cnt -= 1;
    }
    if (cnt > 0 && !t.is_multiple_of(minute)) || t == 0 {
        out.push_str(&format!("{}s", t % minute));
    }
    out
}

/// `show sess [id]`: the client connections alive, one line each with the first
/// fields of HAProxy's (`0xID: proto=… src=… fe=… age=…`); the stream internals
/// HAProxy adds are not kept. The runtime API's own connections are not listed.
pub fn sessions(api: &Api, level: Level, id: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Operator) {
        return denied;
    }
    let target = match id {
        "" | "all" => None,
        _ => {
            let n = match id.strip_prefix("0x").or_else(|| id.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => id.parse().ok(),
            };
            Some(n.unwrap_or(0))
        }
    };
    let snap = api.handle.current.load();
    let mut o = String::new();
    for (n, s) in snap.global.sessions.list() {
        if target.is_some_and(|t| t != n) {
            continue;
        }
        let (proto, src) = match s.peer {
            Some(a) if a.is_ipv4() => ("tcpv4", a.to_string()),
            Some(a) => ("tcpv6", a.to_string()),
            None => ("unix_stream", "unix".to_owned()),
        };
        let _ = writeln!(
            o,
            "{n:#x}: proto={proto} src={src} fe={} age={}",
            s.frontend.name,
            human_time(s.since.elapsed().as_secs())
        );
    }
    if target.is_some() && o.is_empty() {
        o.push_str("Session not found.\n");
    }
    Outcome::text(o)
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

#[cfg(test)]
mod tests {
    use super::human_time;

    #[test]
    fn ages_read_as_haproxys_human_time() {
        assert_eq!(human_time(0), "0s");
        assert_eq!(human_time(59), "59s");
        assert_eq!(human_time(125), "2m5s");
        assert_eq!(human_time(3600), "1h");
        assert_eq!(human_time(3720), "1h2m");
        assert_eq!(human_time(90061), "1d1h");
    }
}
