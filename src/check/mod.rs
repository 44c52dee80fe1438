//! Health checks: one engine, rule sets for every protocol. Owns `check`, `inter`,
//! `fastinter`, `downinter`, `rise`, `fall`, `port`, `addr` (server options),
//! `timeout check`, `option httpchk`, `http-check`, `option tcp-check`, `tcp-check`,
//! `option redis-check`, `option smtpchk`, `option pgsql-check`, `option mysql-check`,
//! `option ldap-check` and `option ssl-hello-chk`; the agent check (`agent-check`,
//! `agent-port`, `agent-addr`, `agent-inter`, `agent-send`: [`agent`]) and passive
//! checks (`observe`, `error-limit`, `on-error`: [`passive`]).
//!
//! Each checked server has a checker task of its own ([`task`]), never on the request
//! path; its health lives in the server's live state (`runtime::health`), so a reload
//! keeps it: [`Engine::apply`] keeps the checkers of servers that remain unchanged,
//! restarts those whose check changed (their health stays), starts new ones and stops
//! removed ones. Rules are compiled once per (re)load ([`compile`]).

pub mod agent;
mod conn;
mod h2;
mod http;
pub mod passive;
pub mod pgsql;
mod proto;
pub mod rule;
pub mod run;
pub mod task;
pub mod tls;

use crate::config::credentials::Credentials;
use crate::config::diag::Diag;
use crate::config::model::{Balance, CheckKind, Config, Global, Proxy, Server};
use crate::runtime::live::Store;
use crate::runtime::snapshot::{Snapshot, resolve_addr, resolve_server_addr};
use run::{Flavor, Limits, RuleSet, Target};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use task::{Kind, Plan};
use tokio::task::JoinHandle;

/// What identifies a checker: backend, server, agent (else health) check.
type Key = (String, String, bool);

/// The checkers running, by backend and server name.
#[derive(Default)]
pub struct Engine {
    running: HashMap<Key, (String, JoinHandle<()>)>,
}

/// The rule set of backend `p`; `credentials` are the configuration's sections (the
/// password of `option pgsql-check … credentials NAME`).
fn rule_set(
    p: &Proxy,
    credentials: &[Credentials],
) -> Result<RuleSet, (crate::config::span::Span, String)> {
    let c = &p.check;
    let (rules, flavor) = match &c.kind {
        CheckKind::Connect => (Vec::new(), Flavor::Connect),
        CheckKind::Tcp => (rule::tcp_rules(&c.tcp_rules)?, Flavor::Tcp),
        CheckKind::Http {
            method,
            uri,
            version,
        } => (
            http::rules(method, uri, version, &c.http_rules)?,
            Flavor::Http,
        ),
        CheckKind::Redis => (proto::redis(), Flavor::Proto),
        CheckKind::Smtp { verb, domain } => (proto::smtp(verb, domain), Flavor::Proto),
        CheckKind::Pgsql { user, login: None } => (proto::pgsql(user), Flavor::Proto),
        CheckKind::Pgsql {
            user,
            login: Some(login),
        } => {
            let password = login.credentials.as_ref().and_then(|n| {
                credentials
                    .iter()
                    .find(|c| &c.name == n)
                    .and_then(|c| c.password.clone())
            });
            (pgsql::rules(user, login, password), Flavor::Proto)
        }
        CheckKind::Mysql { user, post41 } => {
            (proto::mysql(user.as_deref(), *post41), Flavor::Proto)
        }
        CheckKind::Ldap => (proto::ldap(), Flavor::Proto),
        CheckKind::SslHello => (proto::ssl_hello(), Flavor::Proto),
    };
    Ok(RuleSet { rules, flavor })
}

/// Compiles the check rules of backend `p` (as [`compile`] will), pushing an alert at
/// the line of a rule gatehouse cannot run: `gatehouse -c` refuses what the start
/// refuses.
pub fn check_rules(g: &Global, p: &Proxy, diags: &mut Vec<Diag>) {
    if !p.kind.has_backend() {
        return;
    }
    if let Err((span, e)) = rule_set(p, &[]) {
        diags.push(Diag::alert(&span, e));
    }
    let rules = rule_set(p, &[]).map(|r| r.rules).unwrap_or_default();
    for s in p.servers.iter().filter(|s| s.opts.check) {
        if let Err(e) = tls::for_server(&s.opts, g).and_then(|_| tls::for_rules(&s.opts, g, &rules))
        {
            diags.push(Diag::alert(
                &s.span,
                format!("'server {}/{}' : {e}", p.name, s.name),
            ));
        }
    }
}

/// True when backend `p`'s algorithm takes any weight at run time (HAProxy's
/// `BE_LB_PROP_DYN`): the agent may then set any weight percentage.
fn dynamic_weights(p: &Proxy) -> bool {
    match p.balance {
        Balance::RoundRobin | Balance::LeastConn | Balance::First | Balance::Random(_) => true,
        _ => p.hash_type.consistent,
    }
}

/// The agent checker plan of server `s` of backend `p` (`agent-check`).
fn agent_plan(
    config: &Config,
    p: &Proxy,
    s: &Server,
    addr: std::net::SocketAddr,
) -> Result<Plan, Diag> {
    let o = &s.opts;
    let port = o.agent_port.unwrap_or(0);
    let mut addr = addr;
    if let Some(a) = &o.agent_addr {
        addr = resolve_addr(a, port).ok_or_else(|| {
            Diag::alert(
                &s.span,
                format!(
                    "'server {}/{}' : could not resolve address '{a}'.",
                    p.name, s.name
                ),
            )
        })?;
    }
    addr.set_port(port);
    let inter = o.agent_inter.unwrap_or(o.inter);
    Ok(Plan {
        backend: p.name.clone(),
        server: s.name.clone(),
        backup: o.backup,
        kind: Kind::Agent {
            dynamic: dynamic_weights(p),
        },
        rules: Arc::new(RuleSet {
            rules: agent::rules(o.agent_send.as_deref()),
            flavor: Flavor::Proto,
        }),
        target: Target {
            addr,
            unix: None,
            tls: None,
            rule_tls: Vec::new(),
            follow_ip: o.agent_addr.is_none(),
            follow_port: false,
            h2: h2::Use::Never,
        },
        limits: Limits {
            inter,
            connect: p.timeouts.connect,
            check: p.timeouts.check,
        },
        fastinter: inter,
        downinter: inter,
        rise: 1,
        fall: 1,
        spread: config.global.spread_checks,
        first: Duration::ZERO,
        on_marked_down_shutdown: o.on_marked_down_shutdown,
        on_marked_up_shutdown_backup: o.on_marked_up_shutdown_backup,
    })
}

/// The checker plans of `config` as compiled into `snap`. Problems are returned as
/// alerts.
pub fn compile(config: &Config, snap: &Snapshot) -> Result<Vec<Plan>, Vec<Diag>> {
    let mut plans = Vec::new();
    let mut diags = Vec::new();
    for p in config.proxies.iter().filter(|p| p.kind.has_backend()) {
        if !p.servers.iter().any(|s| s.opts.check || s.opts.agent_check) {
            continue;
        }
        let Some(be) = snap.backends.iter().find(|b| b.name == p.name) else {
            continue;
        };
        let rules = match rule_set(p, &config.credentials) {
            Ok(r) => Arc::new(r),
            Err((span, e)) => {
                diags.push(Diag::alert(&span, e));
                continue;
            }
        };
        for s in p.servers.iter().filter(|s| s.opts.agent_check) {
            let Some(st) = be.servers.iter().find(|x| x.name == s.name) else {
                continue;
            };
            match agent_plan(config, p, s, st.addr) {
                Ok(pl) => plans.push(pl),
                Err(d) => diags.push(d),
            }
        }
        for s in p.servers.iter().filter(|s| s.opts.check) {
            let Some(st) = be.servers.iter().find(|x| x.name == s.name) else {
                continue;
            };
            let o = &s.opts;
            let port = o.check_port.unwrap_or(st.addr.port());
            let mut addr = st.addr;
            if let Some(a) = &o.check_addr {
                let server = (&s.span, p.name.as_str(), s.name.as_str());
                match resolve_server_addr(a, port, server, &mut diags) {
                    Some(x) => addr = x,
                    None => continue,
                }
            }
            addr.set_port(port);
            if st.unix.is_none() && port == 0 {
                diags.push(Diag::alert(
                    &s.span,
                    format!(
                        "config : {} '{}': server '{}' has neither service port nor check port. Check has been disabled.",
                        p.kind.keyword(),
                        p.name,
                        s.name
                    ),
                ));
                continue;
            }
            let tls = match tls::for_server(o, &config.global)
                .and_then(|t| Ok((t, tls::for_rules(o, &config.global, &rules.rules)?)))
            {
                Ok(t) => t,
                Err(e) => {
                    diags.push(Diag::alert(
                        &s.span,
                        format!("'server {}/{}' : {e}", p.name, s.name),
                    ));
                    continue;
                }
            };
            let rules = match pgsql::for_backup(&rules.rules).filter(|_| o.backup) {
                Some(r) => Arc::new(RuleSet {
                    rules: r,
                    flavor: rules.flavor,
                }),
                None => Arc::clone(&rules),
            };
            let flavor = rules.flavor;
            plans.push(Plan {
                backend: p.name.clone(),
                server: s.name.clone(),
                backup: o.backup,
                kind: Kind::Health,
                rules,
                target: Target {
                    addr,
                    unix: if o.check_addr.is_some() {
                        None
                    } else {
                        st.unix.clone()
                    },
                    tls: tls.0,
                    rule_tls: tls.1,
                    follow_ip: o.check_addr.is_none(),
                    follow_port: o.check_port.is_none(),
                    h2: h2::Use::of(o, flavor),
                },
                limits: Limits {
                    inter: o.inter,
                    connect: p.timeouts.connect,
                    check: p.timeouts.check,
                },
                fastinter: o.fastinter.unwrap_or(o.inter),
                downinter: o.downinter.unwrap_or(o.inter),
                rise: o.rise,
                fall: o.fall,
                spread: config.global.spread_checks,
                first: Duration::ZERO,
                on_marked_down_shutdown: o.on_marked_down_shutdown,
                on_marked_up_shutdown_backup: o.on_marked_up_shutdown_backup,
            });
        }
    }
    if diags.iter().any(Diag::is_alert) {
        return Err(diags);
    }
    // HAProxy spreads the first checks over one interval: the n-th of N checked
    // servers starts after inter × n / N.
    let n = plans.len().max(1) as u32;
    for (i, pl) in plans.iter_mut().enumerate() {
        pl.first = pl.limits.inter * i as u32 / n;
    }
    Ok(plans)
}

impl Engine {
    /// No checker running.
    pub fn new() -> Self {
        Engine::default()
    }

    /// `-q`: state changes are not written to stderr as warnings.
    pub fn set_quiet(&mut self, quiet: bool) {
        crate::runtime::events::set_quiet(quiet);
    }

    /// Makes the running checkers those of `plans` (the snapshot just installed):
    /// an unchanged checker goes on, a changed one restarts with its health kept, a
    /// new one starts as HAProxy starts a server (up, one failure from down; an agent
    /// as not having reported it down), and the checkers of servers no longer checked
    /// stop (such a server that remains is up again unless its other check says
    /// otherwise). Must run inside the tokio runtime.
    pub fn apply(&mut self, plans: Vec<Plan>, store: &Store, snap: &Snapshot) {
        let mut next = HashMap::new();
        for plan in plans {
            let agent = matches!(plan.kind, Kind::Agent { .. });
            let key = (plan.backend.clone(), plan.server.clone(), agent);
            let fp = plan.fingerprint();
            if let Some((old, h)) = self.running.remove(&key) {
                if old == fp {
                    next.insert(key, (old, h));
                    continue;
                }
                h.abort();
            }
            let Some(be) = store.find_backend(&plan.backend) else {
                continue;
            };
            let Some(sv) = be.find_server(&plan.server) else {
                continue;
            };
            sv.health.update(|h| {
                if agent {
                    if !h.agent.enabled {
                        h.agent.enabled = true;
                        h.agent.health = 1;
                    }
                } else {
                    if !h.enabled {
                        h.enabled = true;
                        h.health = plan.rise;
                    }
                    h.rise = plan.rise;
                }
            });
            let h = tokio::spawn(task::checker(plan, sv, be));
            next.insert(key, (fp, h));
        }
        for (_, (_, h)) in self.running.drain() {
            h.abort();
        }
        self.running = next;
        // Servers no longer checked (by one check or both) take the state the other
        // check gives, or up (their admin state aside).
        for b in &snap.backends {
            let mut changed = false;
            for s in &b.servers {
                let has = |agent| {
                    self.running
                        .contains_key(&(b.name.clone(), s.name.clone(), agent))
                };
                let (health, agent) = (has(false), has(true));
                let up = s.health.update(|h| {
                    let was = (h.enabled, h.agent.enabled);
                    h.enabled &= health;
                    h.agent.enabled &= agent;
                    (was != (h.enabled, h.agent.enabled)).then(|| h.operational())
                });
                if let Some(up) = up {
                    s.up.store(up, std::sync::atomic::Ordering::Relaxed);
                    changed = true;
                }
            }
            if changed {
                b.balancer.refresh();
            }
        }
    }

    /// Stops every checker.
    pub fn stop(&mut self) {
        for (_, (_, h)) in self.running.drain() {
            h.abort();
        }
    }
}
