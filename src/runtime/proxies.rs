//! What the statistics read about each configured proxy beyond its data-plane settings:
//! its numeric id (`iid`), kind, algorithm and limits as `show stat` prints them, its
//! servers' ids and health-check settings, and its compiled stats page settings
//! (`stats uri`, `stats auth`, `stats admin if …`). Compiled with the snapshot, in
//! configuration order (the order of HAProxy's `show stat`).

use super::rules::Cond;
use crate::acl::AclSet;
use crate::config::diag::Diag;
use crate::config::model::{Balance, Config, Mode, Proxy};
use std::sync::Arc;

/// HAProxy's default `stats uri`.
pub const DEFAULT_STATS_URI: &str = "/haproxy?stats";
/// HAProxy's default `stats realm`.
pub const DEFAULT_STATS_REALM: &str = "HAProxy Statistics";

/// One frontend, backend or listen as the statistics see it.
#[derive(Debug)]
pub struct ProxyMeta {
    /// The name.
    pub name: String,
    /// HAProxy's numeric id (`iid`): the position in the file from 1, after the
    /// internal `GLOBAL` proxy of the runtime API when `stats socket` is configured.
    pub uuid: u32,
    /// Accepts connections (frontend, listen).
    pub frontend: bool,
    /// Has servers (backend, listen).
    pub backend: bool,
    /// `mode`.
    pub mode: Mode,
    /// The balance algorithm's name, as `show stat`'s `algo` prints it.
    pub algo: &'static str,
    /// The `cookie` name, if any.
    pub cookie: Option<String>,
    /// `description`, shown in the proxy's table on the stats page.
    pub description: Option<String>,
    /// The frontend's effective `maxconn` (`slim` of the FRONTEND line).
    pub maxconn: u32,
    /// The backend's `fullconn` (`slim` of the BACKEND line): a tenth of the `maxconn`
    /// of the frontends that may route to it, rounded up, as HAProxy defaults it.
    pub fullconn: u32,
    /// The servers, in order.
    pub servers: Vec<ServerMeta>,
}

/// One server as the statistics see it.
#[derive(Debug)]
pub struct ServerMeta {
    /// The name.
    pub name: String,
    /// HAProxy's numeric id (`sid`): the position in the backend from 1.
    pub sid: u32,
    /// Health checks are configured (`check`).
    pub check: bool,
    /// `rise`.
    pub rise: u32,
    /// `fall`.
    pub fall: u32,
    /// The `cookie` value, if any.
    pub cookie: Option<String>,
}

/// A proxy's stats page (`stats enable`, `stats uri`…), compiled.
#[derive(Debug)]
pub struct StatsPage {
    /// The proxy that serves it.
    pub proxy: String,
    /// `stats uri` (default `/haproxy?stats`): a request whose path starts with it is
    /// the stats page's.
    pub uri: String,
    /// `stats refresh`, in seconds.
    pub refresh: Option<u64>,
    /// `stats auth` pairs; empty: no authentication.
    pub auth: Vec<(String, String)>,
    /// `stats realm` (default `HAProxy Statistics`).
    pub realm: String,
    /// `stats admin` conditions: the admin actions are enabled when one matches.
    pub admin: Vec<Cond>,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats show-legends`.
    pub show_legends: bool,
    /// `stats show-node`: the node name to show.
    pub show_node: Option<String>,
    /// `stats show-desc`: the description to show.
    pub show_desc: Option<String>,
    /// `stats scope`: the proxies shown (empty: all).
    pub scope: Vec<String>,
}

impl StatsPage {
    /// Compiles proxy `p`'s stats settings (`None` without `stats enable` or another
    /// `stats` keyword, or in `mode tcp`, where HAProxy ignores them).
    pub fn compile(
        config: &Config,
        p: &Proxy,
        set: &AclSet,
        diags: &mut Vec<Diag>,
    ) -> Option<Self> {
        let s = &p.stats;
        if !s.enabled || p.mode != Mode::Http {
            return None;
        }
        let mut admin = Vec::new();
        for c in &s.admin {
            match Cond::compile(set, Some(c)) {
                Ok(c) => admin.push(c),
                Err((span, e)) => diags.push(Diag::alert(&span, e)),
            }
        }
        let g = &config.global;
        Some(StatsPage {
            proxy: p.name.clone(),
            uri: s
                .uri
                .clone()
                .unwrap_or_else(|| DEFAULT_STATS_URI.to_owned()),
            refresh: s.refresh,
            auth: s.auth.clone(),
            realm: s
                .realm
                .clone()
                .unwrap_or_else(|| DEFAULT_STATS_REALM.to_owned()),
            admin,
            hide_version: s.hide_version,
            show_legends: s.show_legends,
            show_node: s.show_node.as_ref().map(|n| {
                if n.is_empty() {
                    g.node.clone().unwrap_or_else(hostname)
                } else {
                    n.clone()
                }
            }),
            show_desc: s.show_desc.as_ref().and_then(|d| {
                if d.is_empty() {
                    g.description.clone()
                } else {
                    Some(d.clone())
                }
            }),
            scope: s
                .scope
                .iter()
                .map(|n| if n == "." { p.name.clone() } else { n.clone() })
                .collect(),
        })
    }
}

/// The system's host name (HAProxy's default `node`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// HAProxy's name of a balance algorithm (`backend_lb_algo_str`).
fn algo_name(b: &Balance) -> &'static str {
    match b {
        Balance::RoundRobin => "roundrobin",
        Balance::StaticRr => "static-rr",
        Balance::LeastConn => "leastconn",
        Balance::First => "first",
        Balance::Source => "source",
        Balance::Uri { .. } => "uri",
        Balance::UrlParam(_) => "url_param",
        Balance::Hdr { .. } => "hdr",
        Balance::RdpCookie(_) => "rdp-cookie",
        Balance::Random(_) => "random",
    }
}

/// The statistics' view of every frontend, backend and listen of `config`, in order;
/// `global_maxconn` is the process's effective `maxconn`.
pub fn compile(config: &Config, global_maxconn: u32) -> Vec<ProxyMeta> {
    let offset = u32::from(!config.global.stats_sockets.is_empty());
    let proxies: Vec<&Proxy> = config
        .proxies
        .iter()
        .filter(|p| p.kind.has_frontend() || p.kind.has_backend())
        .collect();
    let fe_maxconn = |p: &Proxy| p.maxconn.filter(|m| *m > 0).unwrap_or(global_maxconn);
    proxies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let routes_here = |f: &&&Proxy| {
                f.kind.has_frontend()
                    && (f.name == p.name && p.kind.has_frontend()
                        || f.default_backend
                            .as_ref()
                            .is_some_and(|(n, _)| *n == p.name)
                        || f.use_backends.iter().any(|u| u.backend == p.name))
            };
            let tot: u64 = proxies
                .iter()
                .filter(routes_here)
                .map(|f| u64::from(fe_maxconn(f)))
                .sum();
            ProxyMeta {
                name: p.name.clone(),
                uuid: i as u32 + 1 + offset,
                frontend: p.kind.has_frontend(),
                backend: p.kind.has_backend(),
                mode: p.mode,
                algo: algo_name(&p.balance),
                cookie: p.cookie.as_ref().map(|c| c.name.clone()),
                description: p.description.clone(),
                maxconn: fe_maxconn(p),
                fullconn: tot.div_ceil(10) as u32,
                servers: p
                    .servers
                    .iter()
                    .enumerate()
                    .map(|(j, s)| ServerMeta {
                        name: s.name.clone(),
                        sid: j as u32 + 1,
                        check: s.opts.check,
                        rise: s.opts.rise,
                        fall: s.opts.fall,
                        cookie: s.opts.cookie.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Shared handle on a compiled stats page.
pub type SharedStatsPage = Option<Arc<StatsPage>>;
