//! Commands on one server: `set server B/S state|weight|addr|…`, `enable|disable
//! server`, `set weight`, `get weight`, `enable|disable health|agent`, `set maxconn
//! server|frontend` — HAProxy 2.6's replies, through the live-state store's mutation
//! functions.

use super::session::Outcome;
use super::table::need;
use super::{Level, api::Api};
use crate::runtime::server::AdminState;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;

/// `set server <B/S> <what> …`.
pub fn set(api: &Api, level: Level, args: &[String]) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let (be, srv) = match api.find_server(a(0)) {
        Ok(x) => x,
        Err(m) => return Outcome::text(m),
    };
    match a(1) {
        "weight" => Outcome::text(weight(api, &be.name, &srv, a(2)).unwrap_or("")),
        "state" => state(api, &be.name, &srv.name, a(2)),
        "addr" => addr(&be, &srv, a(2), (a(3) == "port").then(|| a(4))),
        "health" => health_state(api, &be.name, &srv.name, a(2)),
        "agent" => agent_state(api, &be.name, &srv, a(2)),
        "agent-send" if !srv.health.get().agent.enabled => {
            Outcome::text("agent checks are not enabled on this server.\n")
        }
        "agent-send" => {
            Outcome::text("'set server <srv> agent-send' is not supported yet by gatehouse.\n")
        }
        "agent-addr" | "agent-port" | "check-addr" | "check-port" => Outcome::text(format!(
            "'set server <srv> {}' is not supported yet by gatehouse.\n",
            a(1)
        )),
        // What HAProxy answers for a server without a resolver / without TLS settings,
        // which is every gatehouse server today.
        "fqdn" if a(2).is_empty() => Outcome::text("set server <b>/<s> fqdn requires a FQDN.\n"),
        "fqdn" => {
            Outcome::text("set server <b>/<s> fqdn failed because no resolution is configured.\n")
        }
        "ssl" => Outcome::text(
            "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n",
        ),
        _ => Outcome::text(
            "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n",
        ),
    }
}

/// `enable server` (`ready`) and `disable server` (`maint`): `set server B/S state`.
pub fn set_state(api: &Api, level: Level, target: &str, to: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    match api.find_server(target) {
        Ok((be, srv)) => state(api, &be.name, &srv.name, to),
        Err(m) => Outcome::text(m),
    }
}

fn state(api: &Api, backend: &str, server: &str, to: &str) -> Outcome {
    let store = &api.handle.store;
    match to {
        "ready" => {
            store.set_maint(backend, server, false);
            api.note(backend, server, |h| h.admin = true);
            Outcome::text("")
        }
        "maint" => {
            store.set_maint(backend, server, true);
            api.note(backend, server, |h| {
                h.admin = true;
                h.health = Some(0);
            });
            Outcome::text("")
        }
        // Drain: no new traffic from balancing, the sessions in progress go on.
        "drain" => {
            store.set_admin(backend, server, AdminState::Drain);
            api.note(backend, server, |h| h.admin = true);
            Outcome::text("")
        }
        _ => Outcome::text("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"),
    }
}

/// `set server B/S health up|stopping|down`: the server's operational state by hand,
/// as HAProxy sets it (health counter full, or 0; `stopping` takes no new balanced
/// traffic); a health check goes on from there.
fn health_state(api: &Api, backend: &str, server: &str, to: &str) -> Outcome {
    let info = api.info();
    let si = info
        .servers
        .get(&(backend.to_owned(), server.to_owned()))
        .cloned()
        .unwrap_or_default();
    let full = (si.rise + si.fall).max(1) - 1;
    let store = &api.handle.store;
    let health = match to {
        "up" => full,
        "down" => 0,
        "stopping" => {
            store.set_stopping(backend, server, full);
            api.note(backend, server, |h| h.health = Some(full));
            return Outcome::text("");
        }
        _ => {
            return Outcome::text(
                "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n",
            );
        }
    };
    store.set_health(backend, server, health > 0, health);
    api.note(backend, server, |h| h.health = Some(health));
    Outcome::text("")
}

/// HAProxy's `server_parse_weight_change_request`: `N` (0..=256) or `N%` of the
/// configured weight; `None` when applied, else the message.
fn weight(
    api: &Api,
    backend: &str,
    srv: &crate::runtime::server::ServerState,
    w: &str,
) -> Option<&'static str> {
    if w.is_empty() {
        return Some("Require <weight> or <weight%>.\n");
    }
    let digits = w
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
        .count();
    let Ok(n) = w[..digits].parse::<i64>() else {
        return Some("Empty weight string empty or preceded by garbage");
    };
    let rest = &w[digits..];
    let iweight = i64::from(srv.config_weight);
    let n = if rest == "%" {
        if n < 0 {
            return Some("Relative weight must be positive.\n");
        }
        (iweight * n.min(25600) / 100).min(256)
    } else if !(0..=256).contains(&n) {
        return Some("Absolute weight can only be between 0 and 256 inclusive.\n");
    } else if !rest.is_empty() {
        return Some("Trailing garbage in weight string");
    } else {
        n
    };
    if n != 0 && n != iweight && api.info().static_lb.iter().any(|b| b == backend) {
        return Some(
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n",
        );
    }
    api.handle.store.set_weight(backend, &srv.name, n as u32);
    None
}

/// `set weight <B/S> <weight>`.
pub fn set_weight(api: &Api, level: Level, target: &str, w: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    match api.find_server(target) {
        Ok((be, srv)) => Outcome::text(weight(api, &be.name, &srv, w).unwrap_or("")),
        Err(m) => Outcome::text(m),
    }
}

/// `get weight <B/S>`: the current and the configured weight.
pub fn get_weight(api: &Api, target: &str) -> Outcome {
    match api.find_server(target) {
        Ok((_, srv)) => Outcome::text(format!(
            "{} (initial {})\n",
            srv.cur_weight(),
            srv.config_weight
        )),
        Err("Require 'backend/server'.\n") if !target.contains('/') => {
            Outcome::text("Require 'backend/server'.\n")
        }
        Err(m) => Outcome::text(m),
    }
}

/// HAProxy's `srv_update_addr_port`, with `stats socket command` as the updater.
fn addr(
    be: &crate::runtime::backend::Backend,
    srv: &crate::runtime::server::ServerState,
    ip: &str,
    port: Option<&str>,
) -> Outcome {
    if ip.is_empty() {
        return Outcome::text(
            "set server <b>/<s> addr requires an address and optionally a port.\n",
        );
    }
    let _ = be;
    let by = " by 'stats socket command'\n";
    let Ok(new_ip) = ip.parse::<IpAddr>() else {
        return Outcome::text(format!("Invalid addr '{ip}'{by}"));
    };
    if srv.unix.is_some() {
        return Outcome::text(format!(
            "Update for the current server address family is only supported through configuration file{by}"
        ));
    }
    let cur = srv.current_addr();
    let mut next = cur;
    let mut msg = if cur.ip() == new_ip {
        "no need to change the addr".to_owned()
    } else {
        next.set_ip(new_ip);
        format!("IP changed from '{}' to '{ip}'", cur.ip())
    };
    if let Some(p) = port {
        msg.push_str(", ");
        if p.starts_with(['+', '-']) {
            return Outcome::text(format!(
                "{msg}port maps ('{p}') are not supported yet by gatehouse{by}"
            ));
        }
        let digits = p.bytes().take_while(u8::is_ascii_digit).count();
        match p[..digits].parse::<u16>() {
            Ok(n) if n != cur.port() => {
                msg.push_str(&format!("port changed from '{}' to '{n}'", cur.port()));
                next.set_port(n);
            }
            Ok(_) => msg.push_str("no need to change the port"),
            Err(_) => {
                msg.push_str(&format!("problem converting port '{p}' to an int"));
                return Outcome::text(msg + by);
            }
        }
    }
    if next != cur {
        srv.live.set_addr(SocketAddr::new(next.ip(), next.port()));
    }
    Outcome::text(msg + by)
}

/// `enable|disable health|agent <B/S>`: HAProxy's `CHK_ST_ENABLED`. A disabled check
/// runs no more and its results no longer change the server (its state stays as it
/// was; the stats show no check status); enabling it resumes the checks from there.
pub fn health(api: &Api, level: Level, target: &str, agent: bool, enable: bool) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let (be, srv) = match api.find_server(target) {
        Ok(x) => x,
        Err(m) => return Outcome::text(m),
    };
    let h = srv.health.get();
    let configured = if agent {
        h.agent.enabled
    } else {
        h.enabled
            && api
                .info()
                .servers
                .get(&(be.name.clone(), srv.name.clone()))
                .is_some_and(|i| i.check)
    };
    match (agent, configured, enable) {
        (true, false, true) => {
            Outcome::text("Agent was not configured on this server, cannot enable.\n")
        }
        (false, false, true) => {
            Outcome::text("Health check was not configured on this server, cannot enable.\n")
        }
        (_, false, false) => Outcome::text(""),
        (_, true, _) => {
            api.handle
                .store
                .pause_check(&be.name, &srv.name, agent, !enable);
            Outcome::text("")
        }
    }
}

/// `set server B/S agent up|down`: the agent's verdict by hand (HAProxy's agent
/// health full or 0).
fn agent_state(
    api: &Api,
    backend: &str,
    srv: &crate::runtime::server::ServerState,
    to: &str,
) -> Outcome {
    if !srv.health.get().agent.enabled {
        return Outcome::text("agent checks are not enabled on this server.\n");
    }
    let up = match to {
        "up" => true,
        "down" => false,
        _ => return Outcome::text("'set server <srv> agent' expects 'up' or 'down'.\n"),
    };
    api.handle.store.set_agent_health(backend, &srv.name, up);
    Outcome::text("")
}

/// `set maxconn server <B/S> <N>`.
pub fn set_maxconn(api: &Api, level: Level, target: &str, v: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    let (be, srv) = match api.find_server(target) {
        Ok(x) => x,
        Err(m) => return Outcome::text(m),
    };
    if v.is_empty() {
        return Outcome::text("Require <maxconn>.\n");
    }
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let Ok(n) = v[..digits].parse::<u32>() else {
        return Outcome::text("maxconn string empty or preceded by garbage");
    };
    if digits != v.len() {
        return Outcome::text("Trailing garbage in maxconn string");
    }
    srv.live.set_maxconn(n);
    be.serve_queue(srv.index);
    Outcome::text("")
}

/// `set maxconn frontend <name> <N>`.
pub fn set_frontend_maxconn(api: &Api, level: Level, name: &str, v: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    if name.is_empty() {
        return Outcome::text("A frontend name is expected.\n");
    }
    let snap = api.handle.current.load();
    let Some(fe) = snap.frontend(name) else {
        return Outcome::text("No such frontend.\n");
    };
    if v.is_empty() {
        return Outcome::text("Integer value expected.\n");
    }
    // atoi(): leading digits, 0 when none.
    let sign = v.starts_with('-');
    let digits: String = v
        .trim_start_matches(['-', '+'])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let n: u64 = digits.parse().unwrap_or(0);
    if sign && n > 0 {
        return Outcome::text("Value out of range.\n");
    }
    fe.live
        .maxconn_override
        .store(n.min(u64::from(u32::MAX)) as u32, Ordering::Relaxed);
    let _ = api
        .handle
        .requests
        .send(crate::proxy::serve::Control::Resize);
    Outcome::text("")
}

/// `shutdown sessions server <B/S>`: ends every session and exchange in progress with
/// the server (logged `K`) and closes its idle connections; its state is unchanged.
/// (`set server B/S state maint` ends nothing, as in HAProxy.)
pub fn shutdown_sessions(api: &Api, level: Level, target: &str) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    match api.find_server(target) {
        Ok((_, srv)) => {
            srv.shutdown.signal(crate::log::TermCause::Killed);
            srv.pool.clear();
            Outcome::text("")
        }
        Err(m) => Outcome::text(m),
    }
}
