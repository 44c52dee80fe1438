//! Health checks: one engine, rule sets for every protocol. Owns `check`, `inter`,
//! `fastinter`, `downinter`, `rise`, `fall`, `port`, `addr` (server options),
//! `timeout check`, `option httpchk`, `http-check`, `option tcp-check`, `tcp-check`,
//! `option redis-check`, `option smtpchk`, `option pgsql-check`, `option mysql-check`,
//! `option ldap-check` and `option ssl-hello-chk`.
//!
//! Each checked server has a checker task of its own ([`task`]), never on the request
//! path; its health lives in the server's live state (`runtime::health`), so a reload
//! keeps it: [`Engine::apply`] keeps the checkers of servers that remain unchanged,
//! restarts those whose check changed (their health stays), starts new ones and stops
//! removed ones. Rules are compiled once per (re)load ([`compile`]).

mod http;
mod proto;
pub mod rule;
pub mod run;
pub mod task;

use crate::config::diag::Diag;
use crate::config::model::{CheckKind, Config, Proxy};
use crate::log::Logger;
use crate::runtime::live::Store;
use crate::runtime::snapshot::{Snapshot, resolve_addr};
use run::{Flavor, Limits, RuleSet, Target};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use task::Plan;
use tokio::task::JoinHandle;

/// The checkers running, by backend and server name.
#[derive(Default)]
pub struct Engine {
    running: HashMap<(String, String), (String, JoinHandle<()>)>,
    quiet: bool,
}

/// The rule set of backend `p`.
fn rule_set(p: &Proxy) -> Result<RuleSet, (crate::config::span::Span, String)> {
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
        CheckKind::Pgsql { user } => (proto::pgsql(user), Flavor::Proto),
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
pub fn check_rules(p: &Proxy, diags: &mut Vec<Diag>) {
    if !p.kind.has_backend() {
        return;
    }
    if let Err((span, e)) = rule_set(p) {
        diags.push(Diag::alert(&span, e));
    }
}

fn logger(config: &Config, p: &Proxy) -> Option<Arc<Logger>> {
    crate::runtime::snapshot::proxy_logger(config, p)?
        .ok()
        .map(Arc::new)
}

/// The checker plans of `config` as compiled into `snap`. Problems are returned as
/// alerts.
pub fn compile(config: &Config, snap: &Snapshot) -> Result<Vec<Plan>, Vec<Diag>> {
    let mut plans = Vec::new();
    let mut diags = Vec::new();
    for p in config.proxies.iter().filter(|p| p.kind.has_backend()) {
        if !p.servers.iter().any(|s| s.opts.check) {
            continue;
        }
        let Some(be) = snap.backends.iter().find(|b| b.name == p.name) else {
            continue;
        };
        let rules = match rule_set(p) {
            Ok(r) => Arc::new(r),
            Err((span, e)) => {
                diags.push(Diag::alert(&span, e));
                continue;
            }
        };
        let logger = logger(config, p);
        for s in p.servers.iter().filter(|s| s.opts.check) {
            let Some(st) = be.servers.iter().find(|x| x.name == s.name) else {
                continue;
            };
            let o = &s.opts;
            let port = o.check_port.unwrap_or(st.addr.port());
            let mut addr = st.addr;
            if let Some(a) = &o.check_addr {
                match resolve_addr(a, port) {
                    Some(x) => addr = x,
                    None => {
                        diags.push(Diag::alert(
                            &s.span,
                            format!(
                                "'server {}/{}' : could not resolve address '{a}'.",
                                p.name, s.name
                            ),
                        ));
                        continue;
                    }
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
            plans.push(Plan {
                backend: p.name.clone(),
                server: s.name.clone(),
                listen: p.kind == crate::config::model::ProxyKind::Listen,
                backup: o.backup,
                rules: Arc::clone(&rules),
                target: Target {
                    addr,
                    unix: if o.check_addr.is_some() {
                        None
                    } else {
                        st.unix.clone()
                    },
                    // As HAProxy: an `ssl` server is checked over TLS unless the check
                    // goes to its own `port` or `addr`; `check-ssl` is not supported yet.
                    tls: st
                        .tls
                        .as_ref()
                        .filter(|_| o.check_port.is_none() && o.check_addr.is_none())
                        .map(|t| run::CheckTls {
                            config: t.config.clone(),
                            settings: o.tls.clone(),
                        }),
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
                logger: logger.clone(),
                quiet: false,
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
        self.quiet = quiet;
    }

    /// Makes the running checkers those of `plans` (the snapshot just installed):
    /// an unchanged checker goes on, a changed one restarts with its health kept, a
    /// new one starts as HAProxy starts a server (up, one failure from down), and
    /// the checkers of servers no longer checked stop (such a server that remains is
    /// up again). Must run inside the tokio runtime.
    pub fn apply(&mut self, plans: Vec<Plan>, store: &Store, snap: &Snapshot) {
        let mut next = HashMap::new();
        for mut plan in plans {
            plan.quiet = self.quiet;
            let key = (plan.backend.clone(), plan.server.clone());
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
                if !h.enabled {
                    h.enabled = true;
                    h.health = plan.rise;
                }
            });
            let h = tokio::spawn(task::checker(plan, sv, be));
            next.insert(key, (fp, h));
        }
        for ((b, s), (_, h)) in self.running.drain() {
            h.abort();
            let _ = (b, s);
        }
        self.running = next;
        // Servers no longer checked are up (their admin state aside).
        for b in &snap.backends {
            let mut changed = false;
            for s in &b.servers {
                if !self.running.contains_key(&(b.name.clone(), s.name.clone()))
                    && s.health
                        .update(|h| std::mem::replace(&mut h.enabled, false))
                {
                    s.up.store(true, std::sync::atomic::Ordering::Relaxed);
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
